// A queue: its declared attributes, its ready messages in order, its consumers. Its type
// (queue_type.hpp) decides where returned messages go and how its limits refuse publishes.
//
// Ready messages are kept in sequence order. A message keeps the sequence number it was
// enqueued with, so a requeue to its original place (classic queues, rabbit_variable_queue)
// puts it back there; a return to the back takes a new number after every message, and a
// return to the front a number from a lower range, behind earlier returns (quorum queues,
// rabbit_fifo). A priority queue (x-max-priority) keeps one such sequence per priority level
// and offers the highest level first (rabbit_priority_queue).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "binding.hpp"
#include "queue_type.hpp"
#include "warren/emulator/clock.hpp"
#include "consumer.hpp"
#include "durable_mark.hpp"
#include "queue_arguments.hpp"
#include "stream.hpp"
#include "warren/emulator/sink.hpp"
#include "warren/emulator/stored_message.hpp"

namespace warren::emulator {

struct VHost;

struct QueuedMessage {
    MessagePtr message;
    std::uint64_t sequence = 0;
    /// When it expires: enqueue time plus the smaller of the queue's x-message-ttl and the
    /// message's expiration; TimePoint::max() for never. A requeue keeps it.
    TimePoint expires_at = TimePoint::max();
    std::uint8_t priority = 0;
    bool redelivered = false;
    /// How often the queue took it back (quorum queues count it: x-delivery-count).
    std::uint32_t delivery_count = 0;
    /// Set when the message is in the data directory's journal (journal.hpp).
    DurableMark mark;
};

class Queue {
public:
    Queue(std::string name, bool durable, bool exclusive, bool auto_delete,
          FieldTable arguments, ConnectionId owner, const QueueType& type = classic_queue_type());

    const std::string& name() const noexcept { return name_; }
    /// Its type's rules (rabbit_queue_type): arguments, equivalence, consume arguments.
    const QueueType& type() const noexcept { return *type_; }
    /// Its type's behaviour where types differ (the type's rules(), kept at hand).
    const QueueRules& rules() const noexcept { return *rules_; }
    bool durable() const noexcept { return durable_; }
    bool exclusive() const noexcept { return owner_ != 0; }
    bool auto_delete() const noexcept { return auto_delete_; }
    const FieldTable& arguments() const noexcept { return arguments_; }
    /// What the arguments mean (TTL, limits, dead-lettering, priorities).
    const QueueArguments& settings() const noexcept { return settings_; }
    /// The connection that owns an exclusive queue; 0 for a shared one.
    ConnectionId owner() const noexcept { return owner_; }
    /// The vhost the queue lives in (its dead-letter exchange is looked up there).
    VHost* vhost() const noexcept { return vhost_; }
    void set_vhost(VHost* v) noexcept { vhost_ = v; }

    /// The journal that records the queue's messages (a durable shared queue in a Broker with a
    /// data directory), and the queue's id there; null and 0 otherwise.
    Journal* journal() const noexcept { return journal_; }
    std::uint64_t journal_id() const noexcept { return journal_id_; }
    void set_journal(Journal* journal, std::uint64_t id) noexcept {
        journal_ = journal;
        journal_id_ = id;
    }
    /// Whether a message enqueued here is recorded: what a restart keeps.
    bool records(const StoredMessage& m) const noexcept {
        return journal_ && (rules_->keeps_transient_messages || m.persistent());
    }

    /// A stream's log (QueueRules::log); null for other types.
    StreamLog* log() const noexcept { return log_.get(); }

    // ---- ready messages ----
    std::size_t ready_count() const noexcept { return ready_count_; }
    std::uint64_t ready_bytes() const noexcept { return ready_bytes_; }
    bool has_ready() const noexcept { return ready_count_ > 0; }
    /// Appends a message published at `now`, with the TTL its `expiration` gave it.
    void enqueue(MessagePtr message, TimePoint now = TimePoint{},
                 std::optional<Duration> message_ttl = std::nullopt);
    /// Takes a message back, marked redelivered, to the place `where` says.
    void requeue(QueuedMessage message, ReturnPlace where = ReturnPlace::Original);
    /// The message the queue would hand out next. Requires has_ready().
    const QueuedMessage& head() const;
    QueuedMessage pop();
    /// Drops every ready message; returns how many.
    std::size_t purge();
    /// Keeps only the persistent ready messages, in order: what a durable queue still holds
    /// after a broker restart.
    void keep_only_persistent();
    /// Puts back a message read from the journal, at its sequence number.
    void restore(QueuedMessage message);
    /// Calls f(const QueuedMessage&) for each ready message, level by level.
    template <class F>
    void for_each_ready(F&& f) const {
        for (const auto& level : levels_)
            for (const QueuedMessage& m : level) f(m);
    }

    /// Whether one more message of `body_size` bytes would pass x-max-length or
    /// x-max-length-bytes (rabbit_amqqueue_process:will_overflow/2).
    bool would_overflow(std::size_t body_size) const noexcept;
    /// Whether reject-publish overflow refuses a message of `body_size` bytes now: when it
    /// would overflow, or, for a type with soft_reject_publish, while the queue is over a limit
    /// and not yet back to 80% of it.
    bool refuses_publish(std::size_t body_size) const noexcept;
    /// Whether the ready messages are over a limit now (over_max_length/1).
    bool over_limit() const noexcept;

    /// Where a message requeued by nack, reject or recover goes.
    ReturnPlace settled_return_place() const noexcept {
        return settings_.delivery_limit ? rules_->settled_requeue_with_limit
                                        : rules_->settled_requeue;
    }

    // ---- basic.get deliveries counted as consumers (counts_deliveries) ----
    void add_get_consumer(const ChannelState* ch) { get_consumers_.push_back(ch); }
    /// One of `ch`'s counted gets is settled; when `lingers` (its message dropped by the
    /// delivery limit, or held for at-least-once dead-lettering) the channel keeps one counted
    /// consumer, however many such gets it had.
    void settle_get_consumer(const ChannelState* ch, bool lingers);
    /// `ch` closed: none of its gets count any more.
    void forget_get_consumers(const ChannelState* ch);
    // ---- cancelled consumers still holding deliveries (cancelled_consumers_linger) ----
    /// A consumer cancelled holding `held` deliveries; returns the id its deliveries carry.
    std::uint64_t add_cancelled_consumer(std::uint32_t held);
    /// One of its deliveries is settled (or taken back); returns true when it held its last.
    bool release_cancelled_consumer(std::uint64_t id);
    bool has_cancelled_consumers() const noexcept { return !cancelled_consumers_.empty(); }

    /// Consumers as queue.declare-ok counts them.
    std::size_t consumer_count() const noexcept {
        return consumers_.size() + cancelled_consumers_.size() + get_consumers_.size() +
               lingering_get_channels_.size();
    }

    // ---- unacknowledged messages held by channels ----
    std::size_t unacked_count() const noexcept { return unacked_; }
    void note_unacked(std::ptrdiff_t delta) noexcept { unacked_ += delta; }

    // ---- consumers ----
    ConsumerRotation& consumers() noexcept { return consumers_; }
    const ConsumerRotation& consumers() const noexcept { return consumers_; }
    Consumer* exclusive_consumer() const noexcept { return exclusive_consumer_; }
    void set_exclusive_consumer(Consumer* c) noexcept { exclusive_consumer_ = c; }
    /// With x-single-active-consumer, the one consumer the queue delivers to: the first to
    /// register; when it goes, the consumer then at the front of the rotation
    /// (rabbit_amqqueue_process's active_consumer). nullptr without consumers.
    Consumer* single_active_consumer() const noexcept { return single_active_; }
    void set_single_active_consumer(Consumer* c) noexcept { single_active_ = c; }
    bool has_had_consumers() const noexcept { return has_had_consumers_; }
    void note_consumer_added() noexcept { has_had_consumers_ = true; }
    /// After a restart a queue starts afresh: auto-delete waits for a new first consumer.
    void forget_consumers() noexcept { has_had_consumers_ = false; }

    // ---- x-expires: when an unused queue goes ----
    /// The last time the queue was used (declared, read with basic.get, left by its last
    /// consumer, or by a channel closing with its messages unacknowledged); it expires
    /// x-expires after that while it has no consumers. Purges, bindings and publishes are not
    /// uses (rabbit_amqqueue_process: ensure_expiry_timer's callers).
    TimePoint last_used() const noexcept { return last_used_; }
    void note_used(TimePoint now) noexcept { last_used_ = now; }
    /// The queue's (re)start, from which a type with an expiry tick counts its ticks.
    void note_started(TimePoint now) noexcept {
        started_ = now;
        last_used_ = now;
    }
    /// When x-expires deletes the queue if nothing uses it before.
    TimePoint expiry_due() const noexcept;

    // ---- bindings that lead here (the default exchange's implicit one excluded) ----
    const std::vector<Binding*>& incoming() const noexcept { return incoming_; }
    void add_incoming(Binding* b) { incoming_.push_back(b); }
    void remove_incoming(const Binding* b);

    /// Channels whose global prefetch stopped a delivery from this queue; they resume it.
    bool channel_suspended(const ChannelState* ch) const;
    void set_channel_suspended(const ChannelState* ch, bool suspended);

private:
    std::deque<QueuedMessage>& level_of(std::uint8_t priority) { return levels_[priority]; }
    /// soft_reject_publish: over a limit now, or below 80% of every limit again.
    void update_overflow_state() noexcept;

    std::string name_;
    const QueueType* type_;
    const QueueRules* rules_;
    bool durable_;
    bool auto_delete_;
    FieldTable arguments_;
    QueueArguments settings_;
    ConnectionId owner_;
    VHost* vhost_ = nullptr;
    Journal* journal_ = nullptr;
    std::uint64_t journal_id_ = 0;

    // One deque per priority level (a single one for a queue without x-max-priority), each
    // in sequence order.
    std::vector<std::deque<QueuedMessage>> levels_;
    std::unique_ptr<StreamLog> log_;
    std::size_t ready_count_ = 0;
    std::uint64_t ready_bytes_ = 0;
    // Returns to the front number from 1, below every enqueued message.
    static constexpr std::uint64_t first_enqueue_sequence = std::uint64_t{1} << 48;
    std::uint64_t next_sequence_ = first_enqueue_sequence;
    std::uint64_t next_front_sequence_ = 1;
    bool refusing_publishes_ = false;
    std::vector<const ChannelState*> get_consumers_;
    std::vector<const ChannelState*> lingering_get_channels_;
    struct CancelledConsumer {
        std::uint64_t id;
        std::uint32_t held;
    };
    std::vector<CancelledConsumer> cancelled_consumers_;
    std::uint64_t next_cancelled_id_ = 1;
    std::size_t unacked_ = 0;
    TimePoint last_used_{};
    TimePoint started_{};

    ConsumerRotation consumers_;
    Consumer* exclusive_consumer_ = nullptr;
    Consumer* single_active_ = nullptr;
    bool has_had_consumers_ = false;
    std::vector<Binding*> incoming_;
    std::vector<const ChannelState*> suspended_channels_;
};

}  // namespace warren::emulator
