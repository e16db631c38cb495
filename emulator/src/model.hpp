// The model's operations on a BrokerState, private to the emulator. A `Model` is a short-lived
// view made under the Broker's lock; it holds no state of its own. Its members are grouped
// after RabbitMQ's modules, one source file each:
//
//   lifecycle.cpp        closing channels and connections; deleting queues, exchanges,
//                        bindings and consumers (rabbit_channel, rabbit_amqqueue, rabbit_binding)
//   queue_process.cpp    a queue's arrivals, expiry, overflow and dispatch to its consumers
//                        (rabbit_amqqueue_process, rabbit_queue_consumers)
//   stream_process.cpp   a stream's appends and its readers (rabbit_stream_queue)
//   limiter.cpp          acknowledgements and prefetch (rabbit_channel:collect_acks,
//                        rabbit_limiter)
//   routing.cpp          where a publish goes (rabbit_exchange:route, rabbit_basic header routes)
//   direct_reply_to.cpp  amq.rabbitmq.reply-to (rabbit_channel's reply_consumer)
//   timers.cpp           what falls due on the clock, and firing it
//
// The AMQP method handlers (exchange_methods.cpp, queue_methods.cpp, basic_methods.cpp,
// tx_methods.cpp, confirm_methods.cpp) are written against a Model and a channel; the
// Broker's method surface (broker_methods.cpp) takes the lock, finds the channel and closes it
// when a handler fails.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "broker_state.hpp"
#include "dead_letter.hpp"
#include "warren/emulator/result.hpp"
#include "warren/emulator/route_trace.hpp"

namespace warren::emulator {

// ---- error texts shared by the handlers -------------------------------------------------

/// rabbit_misc:rs/1: "queue 'q' in vhost '/'".
std::string rs(std::string_view kind, std::string_view name, const VHost& vhost);
/// 404 "no queue 'q' in vhost '/'".
AmqpError not_found(std::string_view kind, std::string_view name, const VHost& vhost, MethodId m);
/// 405 for an exclusive queue used from a connection that does not own it.
AmqpError resource_locked(const Queue& q, const VHost& vhost, MethodId m);
/// 403 for exchange methods naming the default exchange.
AmqpError default_exchange_refused(MethodId m);
/// 504 for a method on a channel that is not open.
AmqpError channel_not_open(MethodId m);
/// Whether `conn` may use `q`: shared, or exclusive to `conn` (rabbit_amqqueue:check_exclusive_access).
bool owned_elsewhere(const Queue& q, ConnectionId conn);
/// rabbit_channel:strip_cr_lf/1: every CR and LF taken out of a name.
std::string strip_cr_lf(std::string_view name);
/// Names starting with "amq." are reserved for the broker.
bool has_reserved_prefix(std::string_view name);

// ---- routing keys from headers (rabbit_basic:header_routes/1) ---------------------------

/// A CC or BCC header must be an array; another type refuses the message (406 "invalid message").
std::optional<AmqpError> check_routing_headers(const FieldTable& headers, MethodId m);
/// The routing keys the CC and BCC headers add (their long strings, CC first); assumes
/// check_routing_headers accepted them.
std::vector<std::string> header_routes(const FieldTable& headers);

// ---- direct reply-to --------------------------------------------------------------------

/// The pseudo-queue a channel consumes replies from, and the prefix of the routing keys that
/// reach such a consumer through the default exchange (rabbit_exchange:virtual_reply_queue/1).
inline constexpr std::string_view reply_to_queue = "amq.rabbitmq.reply-to";
inline constexpr std::string_view reply_to_prefix = "amq.rabbitmq.reply-to.";

/// What a user's permissions in a vhost allow on a resource (rabbit_access_control).
enum class Access { Configure, Write, Read };

class Model {
public:
    explicit Model(BrokerState& s) : s_(s) {}

    BrokerState& state() noexcept { return s_; }
    TimePoint now() const { return s_.clock->now(); }

    // ---- permissions (access.cpp) --------------------------------------------------------
    /// 403 ACCESS_REFUSED "access to <kind> '<name>' in vhost '<v>' refused for user '<u>'"
    /// when the channel's user may not `access` the resource; nullopt when it may. The
    /// default exchange is checked as "amq.default".
    std::optional<AmqpError> check_access(const ChannelState& ch, Access access, std::string_view kind,
                                          std::string_view name, MethodId m);

    // ---- lookup (model.cpp) ------------------------------------------------------------
    Exchange* find_exchange(VHost& v, std::string_view name);
    Queue* find_queue(VHost& v, std::string_view name);
    /// AMQP's shortcut: an empty queue name means the channel's most recently declared queue.
    Result<std::string> expand_queue_name(ChannelState& ch, std::string_view name, MethodId m);
    /// The queue, checked for exclusive access from this connection (404, then 405).
    Result<Queue*> queue_for_use(ChannelState& ch, std::string_view name, MethodId m);
    /// The two ends of a binding: the source exchange and a queue or an exchange.
    struct BindTarget {
        Exchange* source = nullptr;
        Queue* queue = nullptr;
        Exchange* exchange = nullptr;
    };
    /// The ends a bind or unbind names: 403 for the default exchange; 404 for a missing end
    /// when `adding`, nullopt (nothing to do) when unbinding.
    Result<std::optional<BindTarget>> resolve_binding(VHost& v, std::string_view source,
                                                      std::string_view destination,
                                                      bool destination_is_queue, bool adding, MethodId m);
    /// queue.bind / exchange.bind once the ends are found: the source type's check of the key
    /// and arguments (406), then a queue's exclusive owner (405); binding again what is
    /// already bound does nothing.
    Status add_binding(VHost& v, const BindTarget& t, std::string_view key, const FieldTable& arguments,
                       ConnectionId conn, MethodId m);
    /// queue.unbind / exchange.unbind: removes the binding if there is one; a queue exclusive
    /// to another connection refuses (405) only when there is.
    Status unbind(VHost& v, const BindTarget& t, std::string_view key, const FieldTable& arguments,
                  ConnectionId conn, MethodId m);

    // ---- the data directory (durable_state.cpp) ----------------------------------------
    /// A queue or exchange just created: recorded in the journal when durable (a queue also
    /// when shared: an exclusive one goes with its connection).
    void record_new_queue(VHost& v, Queue& q);
    void record_new_exchange(VHost& v, Exchange& x);
    /// Whether a binding outlives a restart: both ends durable (rabbit_binding's durable).
    static bool durable_binding(const Binding& b) noexcept;

    // ---- lifecycle (lifecycle.cpp) -----------------------------------------------------
    /// A channel error: RabbitMQ closes the channel (or, for a hard error, the connection),
    /// then reports the error.
    AmqpError fail_channel(ChannelState& ch, AmqpError error);
    /// Cancels the channel's consumers and requeues what it holds, then forgets it.
    void close_channel(ChannelState& ch);
    /// Closes every channel, deletes the connection's exclusive queues, forgets it.
    void close_connection(ConnectionState& conn);
    void remove_binding(VHost& v, Binding* b);
    void delete_exchange(VHost& v, Exchange& x);
    /// Deletes a queue: consumers are cancelled (basic.cancel to their channels), bindings
    /// removed, ready messages dropped; channels keep the delivery tags of its unacknowledged
    /// messages, whose acknowledgement then does nothing. Returns the ready count.
    std::uint32_t delete_queue(VHost& v, Queue& q);
    /// An auto-delete queue goes when its last consumer goes, once it has had one.
    bool maybe_auto_delete_queue(Queue& q);
    void remove_consumer(ChannelState& ch, Consumer& c, bool run_auto_delete);
    /// `u` left its channel: a cancelled consumer that held it may be gone now (limiter.cpp).
    void release_cancelled_consumer(Queue& q, const Unacked& u);

    // ---- the queue process (queue_process.cpp) -----------------------------------------
    /// Offers ready messages to consumers until one side runs out. `fresh_message`: the head
    /// was just published into an empty queue and is offered before its expiry is looked at.
    void dispatch(Queue& q, bool fresh_message = false);
    /// Drops (dead-lettering as `expired`) the messages at the head whose time has come.
    void expire_due(Queue& q);
    /// drop-head overflow: while the queue is over a limit its head goes (as `maxlen`).
    void drop_over_limit(Queue& q);
    /// Hands a message a queue lets go of to the queue's dead-letter exchange, if any. Returns
    /// false when at-least-once dead-lettering keeps it, no queue having taken it.
    bool dead_letter(Queue& from, const StoredMessage& message, DeadLetterReason reason);
    /// A message a channel gives back (requeued, or held when the channel closed) returns to
    /// `where`; a type that counts deliveries drops or dead-letters it (`delivery_limit`) once
    /// it came back more often than x-delivery-limit.
    /// Returns false when the limit let it go.
    bool take_back(Queue& q, QueuedMessage m, ReturnPlace where);
    /// For a type that counts deliveries, the copy of `m`'s message a delivery carries, with
    /// x-delivery-count (on basic.get always, to a consumer once the message came back at
    /// least once); null when the stored message goes as it is.
    MessagePtr delivered_form(const Queue& q, const QueuedMessage& m, bool to_consumer);
    /// A routed message arriving at a queue. False when reject-publish overflow refuses it.
    bool deliver_to_queue(Queue& q, const MessagePtr& message, std::optional<Duration> message_ttl);
    /// A routed publish reaching its queues: mandatory return, then the publisher confirm.
    void deliver_published(ChannelState& ch, const MessagePtr& message, std::span<Queue* const> queues,
                           bool mandatory, std::optional<Duration> message_ttl, std::uint64_t sequence);

    // ---- streams (stream_process.cpp) --------------------------------------------------
    /// A message reaching a stream: appended to its log, then read by its readers.
    void append_to_stream(Queue& q, const MessagePtr& message);
    /// What the stream's writer does when a reader attaches (StreamLog::attach), recorded.
    void attach_to_stream(Queue& q);
    /// The channel whose publishes deliver_to_queue is given until reset (a stream's writer).
    void set_publisher(ChannelState* ch) noexcept { publisher_ = ch; }
    /// Each reader of the stream reads on while it has credit and its connection takes
    /// deliveries.
    void dispatch_log(Queue& q);

    // ---- acknowledgements and prefetch (limiter.cpp) -----------------------------------
    /// rabbit_channel:collect_acks/4: `multiple` takes every tag up to and including `tag`,
    /// which must itself be outstanding; tag 0 with `multiple` takes everything.
    Result<std::vector<Unacked>> collect(ChannelState& ch, std::uint64_t tag, bool multiple, MethodId m);
    /// Settled at once, or kept for tx.commit on a transactional channel.
    void acknowledge(ChannelState& ch, std::vector<Unacked> acked, Settle how);
    /// Acknowledged, requeued or rejected; frees prefetch; resumes delivery where it can.
    void settle(ChannelState& ch, std::vector<Unacked> acked, Settle how);
    /// basic.qos: per-consumer prefetch for later consumers, or the channel's global limit.
    void set_prefetch(ChannelState& ch, std::uint16_t count, bool global);
    /// The connection's sink accepts deliveries again: its passed-over consumers rejoin.
    void resume_deliveries(ConnectionState& conn);

    // ---- routing (routing.cpp) ---------------------------------------------------------
    /// rabbit_exchange:route/2: the queues a message reaches, each once.
    void route(VHost& v, Exchange& x, const RoutingInput& in, std::vector<Queue*>& queues,
               RouteTrace* trace);
    /// The exchange a publish names, or the error publishing to it gives.
    Result<Exchange*> publish_target(VHost& v, std::string_view name);

    // ---- direct reply-to (direct_reply_to.cpp) -----------------------------------------
    /// The suffix naming `ch`'s reply consumer: "<connection>.<channel>.<random key>" (hex ids).
    std::string reply_suffix(const ChannelState& ch);
    /// The channel whose current reply consumer `name` (amq.rabbitmq.reply-to.<suffix>)
    /// names, or null.
    ChannelState* reply_channel(std::string_view name);
    /// Delivers `message` to each reply consumer its routing keys name.
    void deliver_replies(const MessagePtr& message);

    // ---- timers (timers.cpp) -----------------------------------------------------------
    struct Due {
        TimePoint at;
        Queue* queue = nullptr;
        bool queue_expiry = false;
    };
    /// The earliest thing due: a message expiring at a queue's head, or an unused queue
    /// reaching x-expires.
    std::optional<Due> next_due() const;
    /// Fires everything due up to `until`, in due order, moving a ManualClock to each moment.
    void run_due(TimePoint until);

    // ---- helpers -----------------------------------------------------------------------
    /// Every delivery the channel holds: unacknowledged, or acknowledged in an open transaction.
    template <class F>
    static void for_each_held(ChannelState& ch, F&& f) {
        for (Unacked& u : ch.unacked) f(u);
        if (ch.tx)
            for (TxSettle& settled : ch.tx->settles)
                for (Unacked& u : settled.acked) f(u);
    }
    /// Removes repeated entries, keeping the first of each.
    static void dedupe(std::vector<Queue*>& qs);

private:
    void dispatch_single_active(Queue& q, bool fresh_message);
    bool may_deliver(Queue& q, Consumer& c);
    void deliver(Queue& q, Consumer& c, QueuedMessage m);
    void notify_limiter(ChannelState& ch, std::uint32_t count);
    void resume_limited_queues(ChannelState& ch);

    /// A dead letter made while a publish reaches its queues, routed once all of them have
    /// the publish (see deliver_published).
    struct PendingDeadLetter {
        VHost* vhost;
        std::string dlx;
        MessagePtr message;
        DeadLetterReason reason;
    };
    /// Routes a dead letter through `dlx` to its queues; whether any took it.
    bool route_dead_letter(VHost& v, Exchange& dlx, const MessagePtr& dead, DeadLetterReason reason);

    BrokerState& s_;
    /// The channel whose publish is being delivered (a stream's writer), or null.
    ChannelState* publisher_ = nullptr;
    /// Non-null while deliver_published runs: dead letters wait here.
    std::vector<PendingDeadLetter>* pending_dead_letters_ = nullptr;
};

}  // namespace warren::emulator
