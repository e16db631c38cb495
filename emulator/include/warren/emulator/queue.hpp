// A classic queue: its declared attributes, its ready messages in order, its consumers.
//
// Ready messages keep the sequence number they were enqueued with, so a requeued message
// returns to its original place, as classic queues do (rabbit_variable_queue requeue).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "warren/emulator/binding.hpp"
#include "warren/emulator/consumer.hpp"
#include "warren/emulator/sink.hpp"
#include "warren/emulator/stored_message.hpp"

namespace warren::emulator {

struct QueuedMessage {
    MessagePtr message;
    std::uint64_t sequence = 0;
    bool redelivered = false;
};

class Queue {
public:
    Queue(std::string name, bool durable, bool exclusive, bool auto_delete,
          FieldTable arguments, ConnectionId owner);

    const std::string& name() const noexcept { return name_; }
    bool durable() const noexcept { return durable_; }
    bool exclusive() const noexcept { return owner_ != 0; }
    bool auto_delete() const noexcept { return auto_delete_; }
    const FieldTable& arguments() const noexcept { return arguments_; }
    /// The connection that owns an exclusive queue; 0 for a shared one.
    ConnectionId owner() const noexcept { return owner_; }

    // ---- ready messages ----
    std::size_t ready_count() const noexcept { return ready_.size(); }
    std::uint64_t ready_bytes() const noexcept { return ready_bytes_; }
    bool has_ready() const noexcept { return !ready_.empty(); }
    void enqueue(MessagePtr message);
    /// Puts a message back at its original place, marked redelivered.
    void requeue(QueuedMessage message);
    QueuedMessage pop();
    /// Drops every ready message; returns how many.
    std::size_t purge();

    // ---- unacknowledged messages held by channels ----
    std::size_t unacked_count() const noexcept { return unacked_; }
    void note_unacked(std::ptrdiff_t delta) noexcept { unacked_ += delta; }

    // ---- consumers ----
    ConsumerRotation& consumers() noexcept { return consumers_; }
    const ConsumerRotation& consumers() const noexcept { return consumers_; }
    Consumer* exclusive_consumer() const noexcept { return exclusive_consumer_; }
    void set_exclusive_consumer(Consumer* c) noexcept { exclusive_consumer_ = c; }
    bool has_had_consumers() const noexcept { return has_had_consumers_; }
    void note_consumer_added() noexcept { has_had_consumers_ = true; }

    // ---- bindings that lead here (the default exchange's implicit one excluded) ----
    const std::vector<Binding*>& incoming() const noexcept { return incoming_; }
    void add_incoming(Binding* b) { incoming_.push_back(b); }
    void remove_incoming(const Binding* b);

    /// Channels whose global prefetch stopped a delivery from this queue; they resume it.
    bool channel_suspended(const ChannelState* ch) const;
    void set_channel_suspended(const ChannelState* ch, bool suspended);

private:
    std::string name_;
    bool durable_;
    bool auto_delete_;
    FieldTable arguments_;
    ConnectionId owner_;

    std::deque<QueuedMessage> ready_;
    std::uint64_t ready_bytes_ = 0;
    std::uint64_t next_sequence_ = 1;
    std::size_t unacked_ = 0;

    ConsumerRotation consumers_;
    Consumer* exclusive_consumer_ = nullptr;
    bool has_had_consumers_ = false;
    std::vector<Binding*> incoming_;
    std::vector<const ChannelState*> suspended_channels_;
};

}  // namespace warren::emulator
