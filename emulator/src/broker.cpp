// The AMQP method surface of the model. Each handler follows the order of checks in
// RabbitMQ 3.10's rabbit_channel.erl, so that when a request is wrong in several ways the
// error is the one RabbitMQ gives.
#include "warren/emulator/broker.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <span>
#include <stdexcept>
#include <utility>

#include "broker_state.hpp"
#include "warren/emulator/dead_letter.hpp"
#include "warren/emulator/exchange_type.hpp"
#include "warren/emulator/queue_arguments.hpp"

namespace warren {

using namespace emulator;

namespace emulator {

BrokerState::BrokerState(BrokerOptions opts) : options(std::move(opts)), random(0x5eed) {
    clock = options.clock;
    if (!clock) {
        auto manual = std::make_shared<ManualClock>();
        manual_clock = manual.get();
        clock = std::move(manual);
    } else {
        manual_clock = dynamic_cast<ManualClock*>(clock.get());
    }
    for (const auto& v : options.vhosts) add_vhost(v);
}

VHost& BrokerState::add_vhost(std::string name) {
    if (VHost* v = find_vhost(name)) return *v;
    auto vhost = std::make_unique<VHost>();
    vhost->name = name;
    // The exchanges every vhost is created with (rabbit_vhost:declare_default_exchanges).
    struct Predeclared {
        const char* name;
        const char* type;
        bool internal;
    };
    static constexpr std::array<Predeclared, 7> predeclared{{
        {"", "direct", false},
        {"amq.direct", "direct", false},
        {"amq.fanout", "fanout", false},
        {"amq.headers", "headers", false},
        {"amq.match", "headers", false},
        {"amq.rabbitmq.trace", "topic", true},
        {"amq.topic", "topic", false},
    }};
    for (const auto& p : predeclared) {
        vhost->exchanges.emplace(
            p.name, std::make_unique<Exchange>(p.name, make_exchange_type(p.type), true, false,
                                               p.internal, FieldTable{}));
    }
    VHost& ref = *vhost;
    vhosts.emplace(std::move(name), std::move(vhost));
    return ref;
}

VHost* BrokerState::find_vhost(std::string_view name) {
    auto it = vhosts.find(name);
    return it == vhosts.end() ? nullptr : it->second.get();
}

ChannelState* BrokerState::find_channel(ChannelRef ref) {
    auto c = connections.find(ref.connection);
    if (c == connections.end()) return nullptr;
    auto ch = c->second->channels.find(ref.channel);
    return ch == c->second->channels.end() ? nullptr : ch->second.get();
}

std::string BrokerState::generate_name(std::string_view prefix) {
    // rabbit_guid:binary/2: the prefix, '-', and 16 random bytes in URL-safe base64 without
    // padding (22 characters).
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::array<unsigned char, 16> bytes{};
    for (std::size_t i = 0; i < bytes.size(); i += 8) {
        const std::uint64_t r = random();
        for (std::size_t j = 0; j < 8; ++j) bytes[i + j] = static_cast<unsigned char>(r >> (8 * j));
    }
    std::string out(prefix);
    out.push_back('-');
    std::uint32_t acc = 0;
    int bits = 0;
    for (unsigned char b : bytes) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(alphabet[(acc >> bits) & 0x3f]);
        }
    }
    if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 0x3f]);
    return out;
}

}  // namespace emulator

namespace {

// ---- error texts (rabbit_misc:rs/1 renders "queue 'q' in vhost '/'") ------------------------

std::string rs(std::string_view kind, std::string_view name, const VHost& vhost) {
    return fmt::format("{} '{}' in vhost '{}'", kind, name, vhost.name);
}

AmqpError not_found(std::string_view kind, std::string_view name, const VHost& vhost, MethodId m) {
    return AmqpError::format(ReplyCode::NotFound, m, "no {}", rs(kind, name, vhost));
}

// ---- direct reply-to ------------------------------------------------------------------------

// The pseudo-queue a channel consumes replies from, and the prefix of the routing keys that
// reach such a consumer through the default exchange (rabbit_exchange:virtual_reply_queue/1).
constexpr std::string_view reply_to_queue = "amq.rabbitmq.reply-to";
constexpr std::string_view reply_to_prefix = "amq.rabbitmq.reply-to.";

AmqpError resource_locked(const Queue& q, const VHost& vhost, MethodId m) {
    return AmqpError::format(
        ReplyCode::ResourceLocked, m,
        "cannot obtain exclusive access to locked {}. It could be originally declared on another "
        "connection or the exclusive property value does not match that of the original "
        "declaration.",
        rs("queue", q.name(), vhost));
}

AmqpError default_exchange_refused(MethodId m) {
    return AmqpError::make(ReplyCode::AccessRefused, m,
                           "operation not permitted on the default exchange");
}

// rabbit_basic:header_routes/1: a CC or BCC header must be an array; a message with another
// type there is refused ("invalid message", from rabbit_channel's publish).
std::optional<AmqpError> check_routing_headers(const FieldTable& headers, MethodId m) {
    for (const char* key : {"CC", "BCC"}) {
        const FieldValue* v = headers.find(key);
        if (v && v->type() != FieldValue::Type::Array)
            return AmqpError::format(ReplyCode::PreconditionFailed, m,
                                     "invalid message: {{unacceptable_type_in_header,\"{}\",{}}}",
                                     key, rabbit_type_name(v->type()));
    }
    return std::nullopt;
}

/// The routing keys the CC and BCC headers add (their long strings, CC first), as
/// rabbit_basic:header_routes/1 reads them; assumes check_routing_headers accepted them.
std::vector<std::string> header_routes(const FieldTable& headers) {
    std::vector<std::string> keys;
    for (const char* key : {"CC", "BCC"})
        if (const FieldValue* v = headers.find(key))
            for (const FieldValue& k : v->as_array())
                if (k.is_string()) keys.push_back(k.as_string());
    return keys;
}

// rabbit_amqqueue:check_consume_arguments/3 for a classic queue: x-priority must be an
// integer, x-cancel-on-ha-failover a boolean, and x-stream-offset (a stream queue's) is refused.
std::optional<AmqpError> check_consume_arguments(const FieldTable& arguments, const std::string& queue,
                                                 MethodId m) {
    using T = FieldValue::Type;
    // rabbit_amqqueue's integer argument types: every integer type but the unsigned 64-bit one.
    if (const FieldValue* v = arguments.find("x-priority"); v && (!v->is_integer() || v->type() == T::UInt64))
        return AmqpError::format(ReplyCode::PreconditionFailed, m,
                                 "invalid arg 'x-priority' for {}: \"expected integer, got {}\"", queue,
                                 rabbit_type_name(v->type()));
    if (const FieldValue* v = arguments.find("x-cancel-on-ha-failover"); v && v->type() != T::Bool)
        return AmqpError::format(ReplyCode::PreconditionFailed, m,
                                 "invalid arg 'x-cancel-on-ha-failover' for {}: {{unacceptable_type,{}}}",
                                 queue, rabbit_type_name(v->type()));
    if (arguments.contains("x-stream-offset"))
        return AmqpError::format(ReplyCode::PreconditionFailed, m,
                                 "invalid arg 'x-stream-offset' for {} of queue type rabbit_classic_queue",
                                 queue);
    return std::nullopt;
}

// rabbit_misc:val/1 renders an argument's value as Erlang's ~s (binaries) or ~p (the rest)
// prints it.
std::string erlang_value(const FieldValue& v) {
    switch (v.type()) {
        case FieldValue::Type::String: return v.as_string();
        case FieldValue::Type::Bytes: return v.as_bytes().bytes;
        case FieldValue::Type::Bool: return v.as_bool() ? "true" : "false";
        case FieldValue::Type::Void: return "undefined";
        case FieldValue::Type::Timestamp: return std::to_string(v.as_timestamp().seconds);
        case FieldValue::Type::Decimal:
            return fmt::format("{{{},{}}}", v.as_decimal().scale, v.as_decimal().value);
        case FieldValue::Type::UInt64: return std::to_string(std::get<std::uint64_t>(v.storage()));
        default:
            if (v.is_integer()) return std::to_string(v.as_int());
            return fmt::format("{}", v);
    }
}

std::string typed_value(const FieldValue* v) {
    if (!v) return "none";
    return fmt::format("the value '{}' of type '{}'", erlang_value(*v), rabbit_type_name(v->type()));
}

AmqpError inequivalent(std::string_view key, std::string_view kind, std::string_view name,
                       const VHost& vhost, std::string_view received, std::string_view current,
                       MethodId m) {
    return AmqpError::format(ReplyCode::PreconditionFailed, m,
                             "inequivalent arg '{}' for {}: received {} but current is {}", key,
                             rs(kind, name, vhost), received, current);
}

std::optional<AmqpError> check_bool_equivalence(bool current, bool received, std::string_view key,
                                                std::string_view kind, std::string_view name,
                                                const VHost& vhost, MethodId m) {
    if (current == received) return std::nullopt;
    return inequivalent(key, kind, name, vhost, received ? "'true'" : "'false'",
                        current ? "'true'" : "'false'", m);
}

// rabbit_misc:type_class/1: every integer type and decimal are one class, float and double
// another; any other type is its own class.
int type_class(const FieldValue& v) {
    if (v.is_integer() || v.type() == FieldValue::Type::Decimal) return -1;
    if (v.type() == FieldValue::Type::Float || v.type() == FieldValue::Type::Double) return -2;
    return static_cast<int>(v.type());
}

// Erlang's =:= on the decoded values, the types dropped: integers (timestamps are integers)
// by value, floats by value, long strings and byte arrays (both binaries) by bytes; the rest
// structurally.
bool erlang_exactly_equal(const FieldValue& a, const FieldValue& b) {
    using T = FieldValue::Type;
    const auto integral = [](const FieldValue& v) { return v.is_integer() || v.type() == T::Timestamp; };
    const auto binary = [](const FieldValue& v) { return v.type() == T::String || v.type() == T::Bytes; };
    const auto floating = [](const FieldValue& v) { return v.type() == T::Float || v.type() == T::Double; };
    if (integral(a) && integral(b)) {
        const auto widen = [](const FieldValue& v) {
            return v.type() == T::Timestamp ? FieldValue(v.as_timestamp().seconds) : v;
        };
        return rabbit_loose_equal(widen(a), widen(b));
    }
    if (binary(a) && binary(b)) return rabbit_loose_equal(a, b);
    if (floating(a) && floating(b)) return a.as_double() == b.as_double();
    return a == b;
}

// rabbit_misc:assert_args_equivalence/4: for each key in order, a value on both sides is
// equivalent when the types are of one class and the values compare equal, or when the values
// are exactly equal whatever their types; a value on one side only never is, except that an
// absent x-queue-type equals 'classic'.
std::optional<AmqpError> check_args_equivalence(const FieldTable& current, const FieldTable& received,
                                                std::span<const std::string_view> keys,
                                                std::string_view kind, std::string_view name,
                                                const VHost& vhost, MethodId m) {
    for (std::string_view key : keys) {
        const FieldValue* cur = current.find(key);
        const FieldValue* rec = received.find(key);
        if (!cur && !rec) continue;
        if (cur && rec) {
            if (type_class(*cur) == type_class(*rec) && rabbit_loose_equal(*cur, *rec)) continue;
            if (erlang_exactly_equal(*cur, *rec)) continue;
            return inequivalent(key, kind, name, vhost, "'" + erlang_value(*rec) + "'",
                                "'" + erlang_value(*cur) + "'", m);
        }
        const FieldValue* present = cur ? cur : rec;
        if (key == "x-queue-type" && present->is_string() && present->as_string() == "classic")
            continue;
        return inequivalent(key, kind, name, vhost, typed_value(rec), typed_value(cur), m);
    }
    return std::nullopt;
}

// The arguments a classic queue compares on redeclaration, in RabbitMQ 3.10's order
// (rabbit_classic_queue:capabilities/0 queue_arguments); any other argument may differ.
constexpr std::array<std::string_view, 13> classic_queue_arguments = {
    "x-expires", "x-message-ttl", "x-dead-letter-exchange", "x-dead-letter-routing-key",
    "x-max-length", "x-max-length-bytes", "x-max-priority", "x-overflow", "x-queue-mode",
    "x-queue-version", "x-single-active-consumer", "x-queue-type", "x-queue-master-locator"};
constexpr std::array<std::string_view, 1> exchange_arguments = {"alternate-exchange"};

bool has_reserved_prefix(std::string_view name) { return name.starts_with("amq."); }

class Model {
public:
    explicit Model(BrokerState& s) : s_(s) {}

    // ---- lookup helpers -----------------------------------------------------------------

    Exchange* find_exchange(VHost& v, std::string_view name) {
        auto it = v.exchanges.find(std::string(name));
        return it == v.exchanges.end() ? nullptr : it->second.get();
    }
    Queue* find_queue(VHost& v, std::string_view name) {
        auto it = v.queues.find(std::string(name));
        return it == v.queues.end() ? nullptr : it->second.get();
    }

    /// AMQP's shortcut: an empty queue name means the channel's most recently declared queue.
    Result<std::string> expand_queue_name(ChannelState& ch, std::string_view name, MethodId m) {
        if (!name.empty()) return std::string(name);
        if (ch.most_recently_declared_queue.empty())
            return AmqpError::make(ReplyCode::NotFound, m, "no previously declared queue");
        return ch.most_recently_declared_queue;
    }

    /// The queue, checked for exclusive access from this connection (404, then 405).
    Result<Queue*> queue_for_use(ChannelState& ch, std::string_view name, MethodId m) {
        VHost& v = *ch.connection->vhost;
        Queue* q = find_queue(v, name);
        if (!q) return not_found("queue", name, v, m);
        if (q->exclusive() && q->owner() != ch.connection->id) return resource_locked(*q, v, m);
        return q;
    }

    // ---- closing ------------------------------------------------------------------------

    /// A channel error: RabbitMQ closes the channel, then reports the error.
    AmqpError fail_channel(ChannelState& ch, AmqpError error) {
        if (error.closes_connection()) {
            close_connection(*ch.connection);
        } else {
            close_channel(ch);
        }
        return error;
    }

    void close_channel(ChannelState& ch) {
        ConnectionState& conn = *ch.connection;
        // Cancel every consumer, then requeue what the channel held (rabbit_amqqueue_process
        // handle_ch_down: the queue requeues the channel's acktags and drops its consumers).
        std::vector<Queue*> touched;
        while (!ch.consumers.empty()) {
            Consumer* c = ch.consumers.begin()->second.get();
            touched.push_back(c->queue);
            remove_consumer(ch, *c, /*run_auto_delete=*/false);
        }
        std::deque<Unacked> held;
        held.swap(ch.unacked);
        // Deliveries acknowledged in a transaction never committed go back with the rest: the
        // queues still hold them for this channel.
        if (ch.tx)
            for (TxSettle& settled : ch.tx->settles)
                for (Unacked& u : settled.acked) held.push_back(std::move(u));
        const TimePoint t = now();
        for (Unacked& u : held) {
            if (!u.queue) continue;
            u.queue->note_unacked(-1);
            u.queue->requeue(std::move(u.message));
            // A channel going down with messages of the queue counts as use for x-expires
            // (rabbit_amqqueue_process:handle_ch_down -> ensure_expiry_timer).
            u.queue->note_used(t);
            touched.push_back(u.queue);
        }
        for (Queue* q : ch.limiter_blocked_queues) q->set_channel_suspended(&ch, false);
        for (auto& [name, q] : conn.vhost->queues) q->set_channel_suspended(&ch, false);
        const ChannelId id = ch.id;
        conn.channels.erase(id);
        dedupe(touched);
        for (Queue* q : touched) {
            if (maybe_auto_delete_queue(*q)) continue;
            // A requeue can put a drop-head queue over its limit (rabbit_amqqueue_process
            // requeue_and_run -> maybe_drop_head).
            drop_over_limit(*q);
            dispatch(*q);
        }
    }

    void close_connection(ConnectionState& conn) {
        while (!conn.channels.empty()) close_channel(*conn.channels.begin()->second);
        // Exclusive queues go with their connection.
        std::vector<Queue*> owned;
        for (auto& [name, q] : conn.vhost->queues)
            if (q->owner() == conn.id) owned.push_back(q.get());
        for (Queue* q : owned) delete_queue(*conn.vhost, *q);
        s_.connections.erase(conn.id);
    }

    /// Every delivery the channel holds: unacknowledged, or acknowledged in an open transaction.
    template <class F>
    static void for_each_held(ChannelState& ch, F&& f) {
        for (Unacked& u : ch.unacked) f(u);
        if (ch.tx)
            for (TxSettle& settled : ch.tx->settles)
                for (Unacked& u : settled.acked) f(u);
    }

    static void dedupe(std::vector<Queue*>& qs) {
        std::vector<Queue*> out;
        for (Queue* q : qs)
            if (std::find(out.begin(), out.end(), q) == out.end()) out.push_back(q);
        qs.swap(out);
    }

    // ---- deletion -----------------------------------------------------------------------

    void remove_binding(VHost& v, Binding* b) {
        Exchange* source = b->source;
        if (b->queue) b->queue->remove_incoming(b);
        if (b->exchange) b->exchange->remove_incoming(b);
        source->remove_binding(b);
        // An auto-delete exchange goes when its last binding as source goes
        // (rabbit_exchange:maybe_auto_delete/2).
        if (source->auto_delete() && source->bindings().empty()) delete_exchange(v, *source);
    }

    void delete_exchange(VHost& v, Exchange& x) {
        while (!x.bindings().empty()) {
            Binding* b = x.bindings().back().get();
            if (b->queue) b->queue->remove_incoming(b);
            if (b->exchange) b->exchange->remove_incoming(b);
            x.remove_binding(b);
        }
        while (!x.incoming().empty()) remove_binding(v, x.incoming().back());
        v.exchanges.erase(x.name());
    }

    /// Deletes a queue: consumers are cancelled (basic.cancel to their channels), bindings
    /// removed, ready messages dropped; channels keep the delivery tags of its unacknowledged
    /// messages, whose acknowledgement then does nothing. Returns the ready count.
    std::uint32_t delete_queue(VHost& v, Queue& q, const ChannelState* requester = nullptr) {
        (void)requester;
        const auto count = static_cast<std::uint32_t>(q.ready_count());
        std::vector<Consumer*> consumers;
        q.consumers().for_each([&](Consumer* c) { consumers.push_back(c); });
        for (Consumer* c : consumers) {
            ChannelState& ch = *c->channel;
            const std::string tag = c->tag;
            remove_consumer(ch, *c, /*run_auto_delete=*/false);
            ch.connection->sink->on_consumer_cancelled(ch.id, tag);
        }
        if (q.unacked_count() > 0) {
            for (auto& [id, conn] : s_.connections)
                for (auto& [cid, ch] : conn->channels)
                    for_each_held(*ch, [&](Unacked& u) {
                        if (u.queue == &q) u.queue = nullptr;
                    });
        }
        for (auto& [id, conn] : s_.connections)
            for (auto& [cid, ch] : conn->channels) {
                auto& bq = ch->limiter_blocked_queues;
                bq.erase(std::remove(bq.begin(), bq.end(), &q), bq.end());
            }
        while (!q.incoming().empty()) remove_binding(v, q.incoming().back());
        v.queues.erase(q.name());
        return count;
    }

    /// An auto-delete queue goes when its last consumer goes, once it has had one.
    bool maybe_auto_delete_queue(Queue& q) {
        if (!q.auto_delete() || !q.has_had_consumers() || !q.consumers().empty()) return false;
        for (auto& [name, vhost] : s_.vhosts) {
            auto it = vhost->queues.find(q.name());
            if (it != vhost->queues.end() && it->second.get() == &q) {
                delete_queue(*vhost, q);
                return true;
            }
        }
        return false;
    }

    void remove_consumer(ChannelState& ch, Consumer& c, bool run_auto_delete) {
        Queue* q = c.queue;
        q->consumers().remove(&c);
        if (q->exclusive_consumer() == &c) q->set_exclusive_consumer(nullptr);
        // The single active consumer's successor is the consumer then at the front of the
        // rotation (new_single_active_consumer_after_basic_cancel / _after_channel_down). The
        // queue does not deliver to it here: after a basic.cancel, ready messages wait for the
        // next consume, requeue or channel closing on the queue.
        if (q->single_active_consumer() == &c) q->set_single_active_consumer(q->consumers().front());
        for_each_held(ch, [&](Unacked& u) {
            if (u.consumer == &c) u.consumer = nullptr;
        });
        auto it = ch.consumers.find(c.tag);
        ch.consumers.erase(it);
        // x-expires counts from when the queue was last used; losing its last consumer is a use.
        if (q->consumers().empty()) q->note_used(now());
        if (run_auto_delete) maybe_auto_delete_queue(*q);
    }

    // ---- delivery -----------------------------------------------------------------------

    /// Offers ready messages to consumers until one side runs out
    /// (rabbit_queue_consumers:deliver/3 with the checks of rabbit_limiter:can_send/3).
    /// Expired messages at the head are dropped first (drop_expired_msgs), except a message
    /// just published into an empty queue: RabbitMQ offers that one to a consumer before it
    /// enqueues it, so even a TTL of 0 reaches a consumer that can take it at once.
    void dispatch(Queue& q, bool fresh_message = false) {
        if (q.settings().single_active_consumer) return dispatch_single_active(q, fresh_message);
        auto& rotation = q.consumers();
        for (;;) {
            if (!fresh_message) expire_due(q);
            if (!q.has_ready() || !rotation.has_active()) return;
            Consumer* c = rotation.pop_front();
            if (!may_deliver(q, *c)) {
                rotation.block(c);
                continue;
            }
            deliver(q, *c, q.pop());
            rotation.push_back(c);
            fresh_message = false;
        }
    }

    /// x-single-active-consumer (rabbit_queue_consumers:deliver/6 with an active consumer):
    /// only the single active consumer is offered messages, and it keeps its place; when it
    /// cannot take one it is blocked like any consumer, and the queue waits for it.
    void dispatch_single_active(Queue& q, bool fresh_message) {
        auto& rotation = q.consumers();
        for (;;) {
            if (!fresh_message) expire_due(q);
            Consumer* c = q.single_active_consumer();
            if (!q.has_ready() || !c || rotation.is_blocked(c)) return;
            if (!may_deliver(q, *c)) {
                rotation.block_in_place(c);
                return;
            }
            deliver(q, *c, q.pop());
            fresh_message = false;
        }
    }

    /// rabbit_queue_consumers:deliver_to_consumer/3's checks: whether `c` may take a message
    /// now (its channel's sink accepts deliveries, its own prefetch and its channel's global
    /// one leave room). A channel whose global prefetch is reached has this queue resume when
    /// an acknowledgement frees it. A consumer that may take one is counted in that volume.
    bool may_deliver(Queue& q, Consumer& c) {
        ChannelState& ch = *c.channel;
        if (q.channel_suspended(&ch) || c.credit_exhausted() ||
            !ch.connection->sink->accepting_deliveries(ch.id))
            return false;
        if (ch.limiter_active()) {
            if (ch.limit_reached()) {
                q.set_channel_suspended(&ch, true);
                auto& bq = ch.limiter_blocked_queues;
                if (std::find(bq.begin(), bq.end(), &q) == bq.end()) bq.push_back(&q);
                return false;
            }
            if (!c.no_ack) ++ch.limiter_volume;
        }
        return true;
    }

    TimePoint now() const { return s_.clock->now(); }

    /// Drops (dead-lettering as `expired`) the messages at the head whose time has come.
    /// Only the head is looked at: a message behind it waits even when it expired earlier, as
    /// in RabbitMQ (rabbit_amqqueue_process:drop_expired_msgs/2).
    void expire_due(Queue& q) {
        if (!q.has_ready()) return;
        const TimePoint t = now();
        while (q.has_ready() && q.head().expires_at <= t) {
            QueuedMessage m = q.pop();
            dead_letter(q, *m.message, DeadLetterReason::Expired);
        }
    }

    /// drop-head overflow: while the queue is over x-max-length or x-max-length-bytes, its head
    /// goes (dead-lettered as `maxlen`) (rabbit_amqqueue_process:maybe_drop_head/2).
    void drop_over_limit(Queue& q) {
        if (q.settings().overflow != Overflow::DropHead) return;
        while (q.over_limit()) {
            QueuedMessage m = q.pop();
            dead_letter(q, *m.message, DeadLetterReason::Maxlen);
        }
    }

    /// Hands a message a queue lets go of to the queue's dead-letter exchange; without one,
    /// or when it does not exist, the message is dropped (rabbit_dead_letter:publish/5).
    void dead_letter(Queue& from, const StoredMessage& message, DeadLetterReason reason) {
        const QueueArguments& settings = from.settings();
        if (!settings.dead_letter_exchange || !from.vhost()) return;
        VHost& v = *from.vhost();
        Exchange* dlx = find_exchange(v, *settings.dead_letter_exchange);
        if (!dlx) return;
        MessagePtr dead = make_dead_letter(message, reason, from.name(), now(), dlx->name(),
                                           settings.dead_letter_routing_key);
        std::vector<Queue*> queues;
        route(v, *dlx,
              RoutingInput{dead->routing_key(), dead->properties().headers, dead->extra_routing_keys()},
              queues, nullptr);
        for (Queue* q : queues) {
            if (is_dead_letter_cycle(*dead, reason, q->name())) continue;
            deliver_to_queue(*q, dead, std::nullopt);
        }
    }

    /// A routed message arriving at a queue (rabbit_amqqueue_process:maybe_deliver_or_enqueue
    /// and deliver_or_enqueue). Returns false when the queue refuses it for reject-publish
    /// overflow (checked before any delivery attempt; reject-publish-dlx also dead-letters it).
    bool deliver_to_queue(Queue& q, const MessagePtr& message, std::optional<Duration> message_ttl) {
        const QueueArguments& settings = q.settings();
        if (settings.overflow != Overflow::DropHead && q.would_overflow(message->body_size())) {
            if (settings.overflow == Overflow::RejectPublishDlx)
                dead_letter(q, *message, DeadLetterReason::Maxlen);
            return false;
        }
        const bool was_empty = !q.has_ready();
        q.enqueue(message, now(), message_ttl);
        if (was_empty) dispatch(q, /*fresh_message=*/true);
        drop_over_limit(q);
        expire_due(q);
        return true;
    }

    void deliver(Queue& q, Consumer& c, QueuedMessage m) {
        ChannelState& ch = *c.channel;
        const std::uint64_t tag = ch.next_delivery_tag++;
        const StoredMessage& msg = *m.message;
        const bool redelivered = m.redelivered;
        if (!c.no_ack) {
            if (c.prefetch > 0) --c.credit;
            q.note_unacked(1);
            ch.unacked.push_back(Unacked{tag, &q, std::move(m), &c, true});
            ch.connection->sink->on_deliver(ch.id, DeliverEvent{c.tag, tag, redelivered, msg});
        } else {
            // The message dies with this call; keep it alive across the sink call.
            MessagePtr keep = std::move(m.message);
            ch.connection->sink->on_deliver(ch.id, DeliverEvent{c.tag, tag, redelivered, *keep});
        }
    }

    /// Settles the deliveries `acked` took from the channel: acknowledged, requeued, or
    /// rejected (dead-lettered as `rejected` where the queue has a dead-letter exchange);
    /// frees consumer and channel prefetch; resumes delivery where it can.
    void settle(ChannelState& ch, std::vector<Unacked> acked, Settle how) {
        if (acked.empty()) return;
        std::vector<Queue*> touched;
        std::vector<Queue*> credit_freed;
        std::uint32_t from_consumers = 0;
        for (Unacked& u : acked) {
            if (u.from_consumer) ++from_consumers;
            if (!u.queue) continue;
            Queue& q = *u.queue;
            q.note_unacked(-1);
            if (u.consumer && u.consumer->prefetch > 0) {
                // rabbit_limiter:ack_from_queue/3: credit returns; a consumer whose credit
                // was exhausted is unblocked.
                if (u.consumer->credit++ == 0) credit_freed.push_back(&q);
            }
            if (how == Settle::Requeue) q.requeue(std::move(u.message));
            else if (how == Settle::Reject) dead_letter(q, *u.message.message, DeadLetterReason::Rejected);
            touched.push_back(&q);
        }
        dedupe(touched);
        dedupe(credit_freed);
        for (Queue* q : touched) {
            bool unblocked = false;
            if (std::find(credit_freed.begin(), credit_freed.end(), q) != credit_freed.end())
                unblocked = q->consumers().unblock(&ch, [](const Consumer* c) { return c->credit_exhausted(); });
            if (how == Settle::Requeue) drop_over_limit(*q);
            // RabbitMQ runs the queue after a requeue, and after an ack or reject only when it
            // unblocked a consumer (rabbit_amqqueue_process:subtract_acks/4). That matters only
            // where ready messages can wait beside a consumer able to take them: a
            // single-active-consumer queue whose active consumer was cancelled.
            if (how == Settle::Requeue || unblocked || !q->settings().single_active_consumer)
                dispatch(*q);
        }
        notify_limiter(ch, from_consumers);
    }

    /// rabbit_limiter's ack: volume drops; when it falls below the limit, queues that were
    /// held back by it resume, in the order they were held back.
    void notify_limiter(ChannelState& ch, std::uint32_t count) {
        if (!ch.limiter_active() || count == 0) return;
        const bool was_reached = ch.limit_reached();
        ch.limiter_volume = ch.limiter_volume > count ? ch.limiter_volume - count : 0;
        if (was_reached && !ch.limit_reached()) resume_limited_queues(ch);
    }

    /// The connection's sink accepts deliveries again: its consumers that were passed over
    /// rejoin their queues' rotations (unless prefetch still holds them back), and the queues
    /// dispatch.
    void resume_deliveries(ConnectionState& conn) {
        std::vector<Queue*> resumed;
        for (auto& [name, q] : conn.vhost->queues) {
            bool moved = false;
            for (auto& [id, ch] : conn.channels)
                moved |= q->consumers().unblock(ch.get(), [&](const Consumer* c) {
                    return c->credit_exhausted() || q->channel_suspended(c->channel);
                });
            if (moved) resumed.push_back(q.get());
        }
        for (Queue* q : resumed) dispatch(*q);
    }

    void resume_limited_queues(ChannelState& ch) {
        std::vector<Queue*> queues;
        queues.swap(ch.limiter_blocked_queues);
        for (Queue* q : queues) {
            q->set_channel_suspended(&ch, false);
            q->consumers().unblock(&ch, [](const Consumer* c) { return c->credit_exhausted(); });
            dispatch(*q);
        }
    }

    /// A routed publish reaching its queues (rabbit_channel:deliver_to_queues/2): with no
    /// queue, a mandatory message is returned; the return goes before the confirm, and a queue
    /// that refuses the message causes no return. Under confirms, a message any queue refused
    /// (reject-publish overflow) is nacked.
    void deliver_published(ChannelState& ch, const MessagePtr& message, std::span<Queue* const> queues,
                           bool mandatory, std::optional<Duration> message_ttl, std::uint64_t sequence) {
        ConnectionSink& sink = *ch.connection->sink;
        if (queues.empty() && mandatory)
            sink.on_return(ch.id, ReturnEvent{ReplyCode::NoRoute, "NO_ROUTE", *message});
        bool refused = false;
        for (Queue* q : queues)
            if (!deliver_to_queue(*q, message, message_ttl)) refused = true;
        if (sequence != 0) sink.on_confirm(ch.id, sequence, false, !refused);
    }

    // ---- direct reply-to ----------------------------------------------------------------

    /// The suffix naming `ch`'s reply consumer: "<connection>.<channel>.<random key>" (hex ids).
    /// Clients treat it as opaque; the key tells a later reply consumer on the same channel
    /// from an earlier one, as rabbit_direct_reply_to's key does.
    std::string reply_suffix(const ChannelState& ch) {
        return fmt::format("{:x}.{:x}.{}", ch.connection->id, ch.id,
                           s_.generate_name("k").substr(2));
    }

    /// The channel whose current reply consumer `name` (amq.rabbitmq.reply-to.<suffix>) names,
    /// or null: a suffix that does not decode, a channel gone, cancelled or consuming anew.
    ChannelState* reply_channel(std::string_view name) {
        const std::string_view suffix = name.substr(reply_to_prefix.size());
        const char* p = suffix.data();
        const char* end = p + suffix.size();
        ConnectionId connection = 0;
        ChannelId channel = 0;
        auto r = std::from_chars(p, end, connection, 16);
        if (r.ec != std::errc{} || r.ptr == end || *r.ptr != '.') return nullptr;
        r = std::from_chars(r.ptr + 1, end, channel, 16);
        if (r.ec != std::errc{} || r.ptr == end || *r.ptr != '.') return nullptr;
        ChannelState* ch = s_.find_channel(ChannelRef{connection, channel});
        if (!ch || !ch->reply_consumer || ch->reply_consumer->suffix != suffix) return nullptr;
        return ch;
    }

    /// rabbit_exchange:route/2 on the default exchange: each distinct routing key (CC and BCC
    /// included) naming a reply consumer delivers the message to it directly, with the publish's
    /// routing key, never redelivered, under the channel's next delivery tag, which the delivery
    /// does not use up (rabbit_channel handle_cast deliver_reply). Such keys reach no queue.
    void deliver_replies(const MessagePtr& message) {
        std::vector<std::string_view> keys;
        auto note = [&](std::string_view key) {
            if (key.starts_with(reply_to_prefix) && std::find(keys.begin(), keys.end(), key) == keys.end())
                keys.push_back(key);
        };
        note(message->routing_key());
        for (const std::string& k : message->extra_routing_keys()) note(k);
        for (std::string_view key : keys) {
            ChannelState* ch = reply_channel(key);
            if (!ch) continue;  // dropped silently, as RabbitMQ does
            ch->connection->sink->on_deliver(
                ch->id, DeliverEvent{ch->reply_consumer->tag, ch->next_delivery_tag, false, *message});
        }
    }

    /// An ack, nack or reject: settled at once, or, on a transactional channel, kept for
    /// tx.commit (rabbit_channel's tx Acks), the deliveries already off the unacknowledged list.
    void acknowledge(ChannelState& ch, std::vector<Unacked> acked, Settle how) {
        if (!ch.tx) return settle(ch, std::move(acked), how);
        ch.tx->settles.push_back(TxSettle{how, std::move(acked)});
    }

    /// rabbit_channel:collect_acks/4: `multiple` takes every tag up to and including `tag`,
    /// which must itself be outstanding; tag 0 with `multiple` takes everything.
    Result<std::vector<Unacked>> collect(ChannelState& ch, std::uint64_t tag, bool multiple,
                                         MethodId m) {
        std::vector<Unacked> out;
        if (multiple && tag == 0) {
            for (Unacked& u : ch.unacked) out.push_back(std::move(u));
            ch.unacked.clear();
            return out;
        }
        auto it = std::lower_bound(ch.unacked.begin(), ch.unacked.end(), tag,
                                   [](const Unacked& u, std::uint64_t t) { return u.tag < t; });
        if (it == ch.unacked.end() || it->tag != tag)
            return AmqpError::format(ReplyCode::PreconditionFailed, m, "unknown delivery tag {}", tag);
        if (multiple) {
            auto end = it + 1;
            for (auto i = ch.unacked.begin(); i != end; ++i) out.push_back(std::move(*i));
            ch.unacked.erase(ch.unacked.begin(), end);
        } else {
            out.push_back(std::move(*it));
            ch.unacked.erase(it);
        }
        return out;
    }

    // ---- routing ------------------------------------------------------------------------

    /// rabbit_exchange:route/2: the queues a message reaches, each once. Exchange-to-exchange
    /// bindings are followed, each exchange visited once; an exchange whose own bindings
    /// match nothing hands the message to its alternate exchange.
    void route(VHost& v, Exchange& x, const RoutingInput& in, std::vector<Queue*>& queues,
               RouteTrace* trace) {
        if (x.name().empty()) {
            // The default exchange: bound implicitly to every queue by the queue's name.
            in.for_each_key([&](std::string_view key) {
                Queue* q = find_queue(v, key);
                if (trace) {
                    BindingVerdict verdict{"", std::string(key), true, std::string(key)};
                    verdict.matched = q != nullptr;
                    if (!q) verdict.reason = fmt::format("no queue named '{}'", key);
                    trace->bindings.push_back(std::move(verdict));
                }
                if (q && std::find(queues.begin(), queues.end(), q) == queues.end())
                    queues.push_back(q);
            });
            return;
        }
        std::vector<Exchange*> worklist{&x};
        std::vector<Exchange*> seen{&x};
        std::vector<const Binding*> matched;
        while (!worklist.empty()) {
            Exchange* e = worklist.back();
            worklist.pop_back();
            matched.clear();
            e->route(in, matched);
            if (trace) {
                for (const auto& b : e->bindings()) {
                    auto why = e->type().explain(*b, in);
                    trace->bindings.push_back(BindingVerdict{e->name(), b->destination_name(),
                                                             b->to_queue(), b->key, b->arguments,
                                                             !why.has_value(), why.value_or("")});
                }
            }
            if (matched.empty()) {
                if (const std::string* ae = e->alternate_exchange()) {
                    if (Exchange* alt = find_exchange(v, *ae)) {
                        if (std::find(seen.begin(), seen.end(), alt) == seen.end()) {
                            seen.push_back(alt);
                            worklist.push_back(alt);
                            if (trace) trace->alternate_exchanges.push_back(alt->name());
                        }
                    }
                }
                continue;
            }
            for (const Binding* b : matched) {
                if (b->queue) {
                    if (std::find(queues.begin(), queues.end(), b->queue) == queues.end())
                        queues.push_back(b->queue);
                } else if (std::find(seen.begin(), seen.end(), b->exchange) == seen.end()) {
                    seen.push_back(b->exchange);
                    worklist.push_back(b->exchange);
                }
            }
        }
    }

    // ---- timers -------------------------------------------------------------------------

    struct Due {
        TimePoint at;
        Queue* queue = nullptr;
        bool queue_expiry = false;
    };

    /// The earliest thing due: a message expiring at a queue's head, or an unused queue
    /// reaching x-expires (deleted without dead-lettering its messages).
    std::optional<Due> next_due() const {
        std::optional<Due> best;
        auto consider = [&](TimePoint at, Queue* q, bool queue_expiry) {
            if (!best || at < best->at) best = Due{at, q, queue_expiry};
        };
        for (auto& [vname, v] : s_.vhosts) {
            for (auto& [qname, q] : v->queues) {
                if (q->has_ready() && q->head().expires_at != TimePoint::max())
                    consider(q->head().expires_at, q.get(), false);
                if (q->settings().expires && q->consumers().empty())
                    consider(q->last_used() + *q->settings().expires, q.get(), true);
            }
        }
        return best;
    }

    /// Fires everything due up to `until`, in due order, moving a ManualClock to each moment.
    void run_due(TimePoint until) {
        while (auto due = next_due()) {
            if (due->at > until) return;
            if (s_.manual_clock) s_.manual_clock->set(due->at);
            Queue& q = *due->queue;
            if (due->queue_expiry) delete_queue(*q.vhost(), q);
            else expire_due(q);
        }
    }

    /// The exchange a publish names, or the error publishing to it gives.
    Result<Exchange*> publish_target(VHost& v, std::string_view name) {
        Exchange* x = find_exchange(v, name);
        if (!x) return not_found("exchange", name, v, method::basic_publish);
        if (x->internal())
            return AmqpError::format(ReplyCode::AccessRefused, method::basic_publish,
                                     "cannot publish to internal {}", rs("exchange", name, v));
        return x;
    }

    BrokerState& s_;
};

}  // namespace

// ---- Broker -----------------------------------------------------------------------------

Broker::Broker(BrokerOptions options)
    : state_(std::make_unique<BrokerState>(std::move(options))) {}

Broker::~Broker() = default;

TimePoint Broker::now() const {
    std::lock_guard lock(mutex_);
    return state_->clock->now();
}

void Broker::advance(Duration d) {
    std::lock_guard lock(mutex_);
    if (!state_->manual_clock)
        throw std::logic_error("Broker::advance needs a ManualClock; this Broker runs on another clock");
    const TimePoint target = state_->manual_clock->now() + d;
    Model(*state_).run_due(target);
    state_->manual_clock->set(target);
}

std::optional<TimePoint> Broker::next_deadline() const {
    std::lock_guard lock(mutex_);
    auto due = Model(*state_).next_due();
    if (!due) return std::nullopt;
    return due->at;
}

void Broker::run_due() {
    std::lock_guard lock(mutex_);
    Model(*state_).run_due(state_->clock->now());
}

void Broker::restart() {
    std::lock_guard lock(mutex_);
    Model model(*state_);
    // rabbit_networking:close_all_connections on shutdown.
    const AmqpError shutdown = AmqpError::make(ReplyCode::ConnectionForced, method::none,
                                               "broker forced connection closure with reason 'shutdown'");
    while (!state_->connections.empty()) {
        ConnectionState& conn = *state_->connections.begin()->second;
        conn.sink->on_connection_closed(shutdown);
        model.close_connection(conn);
    }
    const TimePoint now = state_->clock->now();
    for (auto& [vname, v] : state_->vhosts) {
        std::vector<Queue*> transient_queues;
        for (auto& [qname, q] : v->queues)
            if (!q->durable()) transient_queues.push_back(q.get());
        for (Queue* q : transient_queues) model.delete_queue(*v, *q);
        std::vector<Exchange*> transient_exchanges;
        for (auto& [xname, x] : v->exchanges)
            if (!x->durable()) transient_exchanges.push_back(x.get());
        for (Exchange* x : transient_exchanges)
            if (v->exchanges.contains(x->name())) model.delete_exchange(*v, *x);
        for (auto& [qname, q] : v->queues) {
            q->keep_only_persistent();
            q->forget_consumers();
            q->note_used(now);
        }
    }
}

std::size_t Broker::cut_connection(std::string_view name) {
    std::lock_guard lock(mutex_);
    std::vector<ConnectionState*> cut;
    for (auto& [id, conn] : state_->connections)
        if (conn->name == name) cut.push_back(conn.get());
    Model model(*state_);
    for (ConnectionState* conn : cut) {
        conn->sink->on_connection_lost();
        model.close_connection(*conn);
    }
    return cut.size();
}

std::vector<ConnectionInfo> Broker::connections() const {
    std::lock_guard lock(mutex_);
    std::vector<ConnectionInfo> out;
    for (const auto& [id, conn] : state_->connections)
        out.push_back(ConnectionInfo{id, conn->name, conn->vhost->name, conn->user, conn->channels.size()});
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return out;
}

void Broker::add_vhost(std::string name) {
    std::lock_guard lock(mutex_);
    state_->add_vhost(std::move(name));
}

std::vector<std::string> Broker::vhosts() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& [name, v] : state_->vhosts) out.push_back(name);
    return out;
}

bool Broker::authenticate(std::string_view user, std::string_view password) const {
    std::lock_guard lock(mutex_);
    for (const auto& u : state_->options.users)
        if (u.name == user && u.password == password) return true;
    return false;
}

// ---- inspection ----

namespace {

QueueInfo queue_info(const VHost& v, const Queue& q) {
    QueueInfo info;
    info.vhost = v.name;
    info.name = q.name();
    info.durable = q.durable();
    info.exclusive = q.exclusive();
    info.auto_delete = q.auto_delete();
    info.arguments = q.arguments();
    info.messages_ready = q.ready_count();
    info.messages_unacknowledged = q.unacked_count();
    info.messages = q.ready_count() + q.unacked_count();
    info.message_bytes_ready = q.ready_bytes();
    info.consumers = q.consumers().size();
    return info;
}

ExchangeInfo exchange_info(const VHost& v, const Exchange& x) {
    return ExchangeInfo{v.name, x.name(), std::string(x.type_name()), x.durable(),
                        x.auto_delete(), x.internal(), x.arguments()};
}

template <class Map>
std::vector<const typename Map::mapped_type::element_type*> sorted_values(const Map& m) {
    std::vector<const typename Map::mapped_type::element_type*> out;
    for (const auto& [k, v] : m) out.push_back(v.get());
    std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name() < b->name(); });
    return out;
}

}  // namespace

std::vector<QueueInfo> Broker::queues(std::string_view vhost) const {
    std::lock_guard lock(mutex_);
    std::vector<QueueInfo> out;
    for (const auto& [name, v] : state_->vhosts) {
        if (!vhost.empty() && name != vhost) continue;
        for (const Queue* q : sorted_values(v->queues)) out.push_back(queue_info(*v, *q));
    }
    return out;
}

std::vector<ExchangeInfo> Broker::exchanges(std::string_view vhost) const {
    std::lock_guard lock(mutex_);
    std::vector<ExchangeInfo> out;
    for (const auto& [name, v] : state_->vhosts) {
        if (!vhost.empty() && name != vhost) continue;
        for (const Exchange* x : sorted_values(v->exchanges)) out.push_back(exchange_info(*v, *x));
    }
    return out;
}

std::vector<BindingInfo> Broker::bindings(std::string_view vhost) const {
    std::lock_guard lock(mutex_);
    std::vector<BindingInfo> out;
    for (const auto& [name, v] : state_->vhosts) {
        if (!vhost.empty() && name != vhost) continue;
        // The default exchange's implicit bindings come first, as the management API lists them.
        for (const Queue* q : sorted_values(v->queues))
            out.push_back(BindingInfo{v->name, "", q->name(), "queue", q->name(), {}});
        for (const Exchange* x : sorted_values(v->exchanges))
            for (const auto& b : x->bindings())
                out.push_back(BindingInfo{v->name, x->name(), b->destination_name(),
                                          b->to_queue() ? "queue" : "exchange", b->key,
                                          b->arguments});
    }
    return out;
}

std::optional<QueueInfo> Broker::queue(std::string_view vhost, std::string_view name) const {
    std::lock_guard lock(mutex_);
    VHost* v = state_->find_vhost(vhost);
    if (!v) return std::nullopt;
    auto it = v->queues.find(std::string(name));
    if (it == v->queues.end()) return std::nullopt;
    return queue_info(*v, *it->second);
}

std::optional<ExchangeInfo> Broker::exchange(std::string_view vhost, std::string_view name) const {
    std::lock_guard lock(mutex_);
    VHost* v = state_->find_vhost(vhost);
    if (!v) return std::nullopt;
    auto it = v->exchanges.find(std::string(name));
    if (it == v->exchanges.end()) return std::nullopt;
    return exchange_info(*v, *it->second);
}

RouteTrace Broker::trace_route(std::string_view vhost, std::string_view exchange,
                               std::string_view routing_key, const FieldTable& headers) const {
    std::lock_guard lock(mutex_);
    RouteTrace trace;
    trace.exchange = std::string(exchange);
    trace.routing_key = std::string(routing_key);
    VHost* v = state_->find_vhost(vhost);
    if (!v) {
        trace.error = AmqpError::format(ReplyCode::NotAllowed, method::connection_open,
                                        "vhost {} not found", vhost);
        return trace;
    }
    Model model(*state_);
    auto target = model.publish_target(*v, exchange);
    if (!target) {
        trace.error = target.error();
        return trace;
    }
    if (auto refused = check_routing_headers(headers, method::basic_publish)) {
        trace.error = std::move(refused);
        return trace;
    }
    std::vector<Queue*> queues;
    model.route(*v, *target.value(), RoutingInput{routing_key, headers}, queues, &trace);
    for (Queue* q : queues) trace.queues.push_back(q->name());
    return trace;
}

// ---- connections and channels ----

Result<ConnectionId> Broker::open_connection(std::string_view vhost, std::string_view user,
                                             ConnectionSink& sink, std::string_view name) {
    std::lock_guard lock(mutex_);
    VHost* v = state_->find_vhost(vhost);
    if (!v)
        return AmqpError::format(ReplyCode::NotAllowed, method::connection_open,
                                 "vhost {} not found", vhost);
    auto conn = std::make_unique<ConnectionState>();
    conn->id = state_->next_connection_id++;
    conn->vhost = v;
    conn->user = std::string(user);
    conn->name = std::string(name);
    conn->sink = &sink;
    const ConnectionId id = conn->id;
    state_->connections.emplace(id, std::move(conn));
    return id;
}

void Broker::close_connection(ConnectionId connection) {
    std::lock_guard lock(mutex_);
    auto it = state_->connections.find(connection);
    if (it == state_->connections.end()) return;
    Model(*state_).close_connection(*it->second);
}

Status Broker::open_channel(ChannelRef ref) {
    std::lock_guard lock(mutex_);
    auto it = state_->connections.find(ref.connection);
    if (it == state_->connections.end())
        return AmqpError::make(ReplyCode::ChannelError, method::channel_open, "connection is closed");
    ConnectionState& conn = *it->second;
    if (conn.channels.contains(ref.channel))
        return AmqpError::make(ReplyCode::ChannelError, method::channel_open,
                               "second 'channel.open' seen");
    auto ch = std::make_unique<ChannelState>();
    ch->connection = &conn;
    ch->id = ref.channel;
    conn.channels.emplace(ref.channel, std::move(ch));
    return {};
}

void Broker::close_channel(ChannelRef ref) {
    std::lock_guard lock(mutex_);
    if (ChannelState* ch = state_->find_channel(ref)) Model(*state_).close_channel(*ch);
}

void Broker::resume_deliveries(ConnectionId connection) {
    std::lock_guard lock(mutex_);
    auto it = state_->connections.find(connection);
    if (it != state_->connections.end()) Model(*state_).resume_deliveries(*it->second);
}

namespace {

AmqpError channel_not_open(MethodId m) {
    return AmqpError::make(ReplyCode::ChannelError, m, "expected 'channel.open'");
}

}  // namespace

// A channel operation: looks the channel up, runs `body`, and when body fails with an
// error, closes the channel (or the connection) as RabbitMQ does before answering.
#define WARREN_CHANNEL_OP(ref, m)                                          \
    std::lock_guard lock(mutex_);                                          \
    ChannelState* chp = state_->find_channel(ref);                         \
    if (!chp) return channel_not_open(m);                                  \
    ChannelState& ch = *chp;                                               \
    VHost& v = *ch.connection->vhost;                                      \
    Model model(*state_);                                                  \
    (void)v;                                                               \
    [[maybe_unused]] auto fail = [&](AmqpError e) { return model.fail_channel(ch, std::move(e)); }

// rabbit_channel:strip_cr_lf/1: every CR and LF taken out of a name. RabbitMQ applies it to the
// names in queue.declare, queue.delete, queue.bind / unbind, exchange.declare, exchange.delete
// and exchange.bind / unbind (after the empty-queue-name shortcut is expanded); basic.publish,
// basic.get, basic.consume and queue.purge take names as given.
static std::string strip_cr_lf(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    for (char c : name)
        if (c != '\r' && c != '\n') out.push_back(c);
    return out;
}

// ---- exchanges ----

Status Broker::exchange_declare(ChannelRef ref, const ExchangeDeclare& m) {
    WARREN_CHANNEL_OP(ref, method::exchange_declare);
    const MethodId mid = method::exchange_declare;
    const std::string name = strip_cr_lf(m.exchange);
    if (m.passive) {
        if (name.empty()) return fail(default_exchange_refused(mid));
        if (!model.find_exchange(v, name)) return fail(not_found("exchange", name, v, mid));
        return {};
    }
    auto type = make_exchange_type(m.type);
    if (!type) {
        // rabbit_exchange:check_type/1 says "invalid" for a name that is an existing Erlang atom
        // and "unknown" for any other. '' always is an atom; which other names are depends on
        // the code loaded in the broker's VM, so they get "unknown".
        const std::string_view verdict = m.type.empty() ? "invalid" : "unknown";
        return fail(AmqpError::format(ReplyCode::CommandInvalid, mid, "{} exchange type '{}'",
                                      verdict, m.type));
    }
    if (name.empty()) return fail(default_exchange_refused(mid));
    Exchange* x = model.find_exchange(v, name);
    if (!x) {
        if (has_reserved_prefix(name))
            return fail(AmqpError::format(ReplyCode::AccessRefused, mid,
                                          "exchange name '{}' contains reserved prefix 'amq.*'",
                                          name));
        if (const FieldValue* ae = m.arguments.find("alternate-exchange"); ae && !ae->is_string())
            return fail(AmqpError::format(ReplyCode::PreconditionFailed, mid,
                                          "invalid type '{}' for arg 'alternate-exchange' in {}",
                                          rabbit_type_name(ae->type()), rs("exchange", name, v)));
        auto created = std::make_unique<Exchange>(name, std::move(type), m.durable,
                                                  m.auto_delete, m.internal, m.arguments);
        v.exchanges.emplace(name, std::move(created));
        return {};
    }
    // rabbit_exchange:assert_equivalence/6.
    if (x->type_name() != m.type)
        return fail(inequivalent("type", "exchange", name, v, fmt::format("'{}'", m.type),
                                 fmt::format("'{}'", x->type_name()), mid));
    if (auto e = check_bool_equivalence(x->durable(), m.durable, "durable", "exchange", name, v, mid))
        return fail(*e);
    if (auto e = check_bool_equivalence(x->auto_delete(), m.auto_delete, "auto_delete", "exchange", name, v, mid))
        return fail(*e);
    if (auto e = check_bool_equivalence(x->internal(), m.internal, "internal", "exchange", name, v, mid))
        return fail(*e);
    if (auto e = check_args_equivalence(x->arguments(), m.arguments, exchange_arguments,
                                        "exchange", name, v, mid))
        return fail(*e);
    return {};
}

Status Broker::exchange_delete(ChannelRef ref, const ExchangeDelete& m) {
    WARREN_CHANNEL_OP(ref, method::exchange_delete);
    const MethodId mid = method::exchange_delete;
    const std::string name = strip_cr_lf(m.exchange);
    if (name.empty()) return fail(default_exchange_refused(mid));
    if (has_reserved_prefix(name))
        return fail(AmqpError::format(ReplyCode::AccessRefused, mid, "deletion of system {} not allowed",
                                      rs("exchange", name, v)));
    Exchange* x = model.find_exchange(v, name);
    if (!x) return {};
    if (m.if_unused && !x->bindings().empty())
        return fail(AmqpError::format(ReplyCode::PreconditionFailed, mid, "{} in use",
                                      rs("exchange", name, v)));
    model.delete_exchange(v, *x);
    return {};
}

namespace {

struct BindTarget {
    Exchange* source = nullptr;
    Queue* queue = nullptr;
    Exchange* exchange = nullptr;
};

}  // namespace

// rabbit_channel:expand_routing_key_shortcut/3, for queue.bind and queue.unbind: an empty key
// with an empty queue name means the name of the channel's last declared queue.
static std::string bind_key(const QueueBind& m, const std::string& expanded_queue) {
    return m.routing_key.empty() && m.queue.empty() ? expanded_queue : m.routing_key;
}

// rabbit_channel:binding_action/10 and rabbit_binding:add/3 / remove/3.
static Result<std::optional<BindTarget>> resolve_binding(Model& model, ChannelState& ch, VHost& v,
                                                         std::string_view source,
                                                         std::string_view destination,
                                                         bool destination_is_queue, bool adding,
                                                         MethodId mid) {
    // check_not_default_exchange/1 looks at exchanges only: a queue named '' (a name of CR
    // and LF only) is looked up like any other.
    if ((!destination_is_queue && destination.empty()) || source.empty()) return default_exchange_refused(mid);
    BindTarget t;
    t.source = model.find_exchange(v, source);
    if (destination_is_queue) t.queue = model.find_queue(v, destination);
    else t.exchange = model.find_exchange(v, destination);
    const bool destination_found = t.queue || t.exchange;
    if (!t.source || !destination_found) {
        if (!adding) return std::optional<BindTarget>{};  // unbinding what is missing is fine
        if (!t.source) return not_found("exchange", source, v, mid);
        return not_found(destination_is_queue ? "queue" : "exchange", destination, v, mid);
    }
    (void)ch;
    return std::optional<BindTarget>{t};
}

Status Broker::queue_bind(ChannelRef ref, const QueueBind& m) {
    WARREN_CHANNEL_OP(ref, method::queue_bind);
    const MethodId mid = method::queue_bind;
    auto expanded = model.expand_queue_name(ch, m.queue, mid);
    if (!expanded) return fail(expanded.error());
    const std::string queue_name = strip_cr_lf(expanded.value());
    const std::string key = bind_key(m, queue_name);
    auto target = resolve_binding(model, ch, v, strip_cr_lf(m.exchange), queue_name, true, true, mid);
    if (!target) return fail(target.error());
    BindTarget t = *target.value();
    if (auto why = t.source->type().validate_binding(key, m.arguments))
        return fail(AmqpError::make(ReplyCode::PreconditionFailed, mid, *why));
    if (t.queue->exclusive() && t.queue->owner() != ch.connection->id)
        return fail(resource_locked(*t.queue, v, mid));
    if (t.source->find_binding(t.queue, nullptr, key, m.arguments)) return {};
    auto b = std::make_unique<Binding>(Binding{t.source, t.queue, nullptr, key, m.arguments});
    Binding& added = t.source->add_binding(std::move(b));
    t.queue->add_incoming(&added);
    return {};
}

Status Broker::queue_unbind(ChannelRef ref, const QueueBind& m) {
    WARREN_CHANNEL_OP(ref, method::queue_unbind);
    const MethodId mid = method::queue_unbind;
    auto expanded = model.expand_queue_name(ch, m.queue, mid);
    if (!expanded) return fail(expanded.error());
    const std::string queue_name = strip_cr_lf(expanded.value());
    auto target = resolve_binding(model, ch, v, strip_cr_lf(m.exchange), queue_name, true, false, mid);
    if (!target) return fail(target.error());
    if (!target.value()) return {};
    BindTarget t = *target.value();
    Binding* b = t.source->find_binding(t.queue, nullptr, bind_key(m, queue_name), m.arguments);
    if (!b) return {};
    if (t.queue->exclusive() && t.queue->owner() != ch.connection->id)
        return fail(resource_locked(*t.queue, v, mid));
    model.remove_binding(v, b);
    return {};
}

Status Broker::exchange_bind(ChannelRef ref, const ExchangeBind& m) {
    WARREN_CHANNEL_OP(ref, method::exchange_bind);
    const MethodId mid = method::exchange_bind;
    auto target = resolve_binding(model, ch, v, strip_cr_lf(m.source), strip_cr_lf(m.destination), false,
                                  true, mid);
    if (!target) return fail(target.error());
    BindTarget t = *target.value();
    if (auto why = t.source->type().validate_binding(m.routing_key, m.arguments))
        return fail(AmqpError::make(ReplyCode::PreconditionFailed, mid, *why));
    if (t.source->find_binding(nullptr, t.exchange, m.routing_key, m.arguments)) return {};
    auto b = std::make_unique<Binding>(Binding{t.source, nullptr, t.exchange, m.routing_key, m.arguments});
    Binding& added = t.source->add_binding(std::move(b));
    t.exchange->add_incoming(&added);
    return {};
}

Status Broker::exchange_unbind(ChannelRef ref, const ExchangeBind& m) {
    WARREN_CHANNEL_OP(ref, method::exchange_unbind);
    const MethodId mid = method::exchange_unbind;
    auto target = resolve_binding(model, ch, v, strip_cr_lf(m.source), strip_cr_lf(m.destination), false,
                                  false, mid);
    if (!target) return fail(target.error());
    if (!target.value()) return {};
    BindTarget t = *target.value();
    if (Binding* b = t.source->find_binding(nullptr, t.exchange, m.routing_key, m.arguments))
        model.remove_binding(v, b);
    return {};
}

// ---- queues ----

Result<QueueDeclareOk> Broker::queue_declare(ChannelRef ref, const QueueDeclare& m) {
    WARREN_CHANNEL_OP(ref, method::queue_declare);
    const MethodId mid = method::queue_declare;
    const ConnectionId me = ch.connection->id;
    auto answer = [&](Queue& q) {
        // A declaration, passive or not, counts as use for x-expires.
        q.note_used(model.now());
        ch.most_recently_declared_queue = q.name();
        return QueueDeclareOk{q.name(), static_cast<std::uint32_t>(q.ready_count()),
                              static_cast<std::uint32_t>(q.consumers().size())};
    };
    std::string name = strip_cr_lf(m.queue);
    if (m.queue.starts_with(reply_to_queue)) {
        // rabbit_channel queue.declare of amq.rabbitmq.reply-to*, passive or not: the pseudo-
        // queue itself, or a suffix naming a live reply consumer, is declared with 0 messages
        // and 1 consumer; any other such name is not found.
        if (name != reply_to_queue && !(name.starts_with(reply_to_prefix) && model.reply_channel(name)))
            return fail(not_found("queue", name, v, mid));
        ch.most_recently_declared_queue = name;
        return QueueDeclareOk{name, 0, 1};
    }
    if (m.passive) {
        // A passive declare takes the name as given: "" is not the last declared queue.
        auto q = model.queue_for_use(ch, name, mid);
        if (!q) return fail(q.error());
        return answer(*q.value());
    }
    if (name.empty()) {
        name = state_->generate_name("amq.gen");
    } else if (has_reserved_prefix(name)) {
        return fail(AmqpError::format(ReplyCode::AccessRefused, mid,
                                      "queue name '{}' contains reserved prefix 'amq.*'", name));
    }
    // Exclusive queues are never durable (rabbit_channel: Durable andalso not Exclusive).
    const bool durable = m.durable && !m.exclusive;
    const ConnectionId owner = m.exclusive ? me : 0;
    if (Queue* q = model.find_queue(v, name)) {
        // rabbit_amqqueue:assert_equivalence/5: exclusive owner, durable, auto_delete, args.
        if (q->owner() != owner) return fail(resource_locked(*q, v, mid));
        if (auto e = check_bool_equivalence(q->durable(), durable, "durable", "queue", name, v, mid))
            return fail(*e);
        if (auto e = check_bool_equivalence(q->auto_delete(), m.auto_delete, "auto_delete", "queue", name, v, mid))
            return fail(*e);
        if (auto e = check_args_equivalence(q->arguments(), m.arguments, classic_queue_arguments,
                                            "queue", name, v, mid))
            return fail(*e);
        return answer(*q);
    }
    // A new queue's arguments are validated (rabbit_channel, then rabbit_amqqueue:declare/6);
    // an existing queue's are only compared, above.
    if (auto why = validate_queue_arguments(m.arguments, rs("queue", name, v)))
        return fail(AmqpError::make(ReplyCode::PreconditionFailed, mid, *why));
    auto created = std::make_unique<Queue>(name, durable, m.exclusive, m.auto_delete, m.arguments, me);
    created->set_vhost(&v);
    Queue& q = *created;
    v.queues.emplace(name, std::move(created));
    return answer(q);
}

Result<std::uint32_t> Broker::queue_purge(ChannelRef ref, std::string_view queue) {
    WARREN_CHANNEL_OP(ref, method::queue_purge);
    const MethodId mid = method::queue_purge;
    auto name = model.expand_queue_name(ch, queue, mid);
    if (!name) return fail(name.error());
    auto q = model.queue_for_use(ch, name.value(), mid);
    if (!q) return fail(q.error());
    return static_cast<std::uint32_t>(q.value()->purge());
}

Result<std::uint32_t> Broker::queue_delete(ChannelRef ref, const QueueDelete& m) {
    WARREN_CHANNEL_OP(ref, method::queue_delete);
    const MethodId mid = method::queue_delete;
    auto name = model.expand_queue_name(ch, m.queue, mid);
    if (!name) return fail(name.error());
    Queue* q = model.find_queue(v, strip_cr_lf(name.value()));
    if (!q) return std::uint32_t{0};
    if (q->exclusive() && q->owner() != ch.connection->id) return fail(resource_locked(*q, v, mid));
    // rabbit_amqqueue_process handle_call delete: emptiness is checked before use.
    if (m.if_empty && q->has_ready())
        return fail(AmqpError::format(ReplyCode::PreconditionFailed, mid, "{} not empty",
                                      rs("queue", q->name(), v)));
    if (m.if_unused && !q->consumers().empty())
        return fail(AmqpError::format(ReplyCode::PreconditionFailed, mid, "{} in use",
                                      rs("queue", q->name(), v)));
    return model.delete_queue(v, *q, &ch);
}

// ---- basic ----

Status Broker::basic_qos(ChannelRef ref, const BasicQos& m) {
    WARREN_CHANNEL_OP(ref, method::basic_qos);
    const MethodId mid = method::basic_qos;
    if (m.prefetch_size != 0)
        return fail(AmqpError::format(ReplyCode::NotImplemented, mid, "prefetch_size!=0 ({})",
                                      m.prefetch_size));
    // rabbit_channel basic.qos: global=false sets the prefetch of consumers created from now
    // on and, like global=true with 0, lifts the channel's limit (rabbit_limiter:unlimit_prefetch).
    if (!m.global) ch.consumer_prefetch = m.prefetch_count;
    if (!m.global || m.prefetch_count == 0) {
        const bool was_active = ch.limiter_active();
        ch.global_prefetch = 0;
        ch.limiter_volume = 0;
        if (was_active) model.resume_limited_queues(ch);
        return {};
    }
    // rabbit_limiter limit_prefetch: an inactive limiter starts counting from what the channel
    // holds unacknowledged (basic.get deliveries included); an active one keeps its count.
    const bool was_reached = ch.limit_reached();
    if (!ch.limiter_active()) ch.limiter_volume = static_cast<std::uint32_t>(ch.unacked.size());
    ch.global_prefetch = m.prefetch_count;
    if (was_reached && !ch.limit_reached()) model.resume_limited_queues(ch);
    return {};
}

Status Broker::basic_publish(ChannelRef ref, const BasicPublish& m, Message message,
                             std::string encoded_properties) {
    WARREN_CHANNEL_OP(ref, method::basic_publish);
    const MethodId mid = method::basic_publish;
    if (m.immediate) return fail(AmqpError::make(ReplyCode::NotImplemented, mid, "immediate=true"));
    auto target = model.publish_target(v, m.exchange);
    if (!target) return fail(target.error());
    BasicProperties& props = message.properties;
    if (props.reply_to && *props.reply_to == reply_to_queue) {
        // rabbit_channel:maybe_set_fast_reply_to/2: the reply_to names this channel's reply
        // consumer from here on, and the properties are encoded anew.
        if (!ch.reply_consumer)
            return fail(AmqpError::make(ReplyCode::PreconditionFailed, mid,
                                        "fast reply consumer does not exist"));
        props.reply_to = fmt::format("{}{}", reply_to_prefix, ch.reply_consumer->suffix);
        reencode_headers(props.headers);
        encoded_properties.clear();
    }
    if (props.user_id && *props.user_id != ch.connection->user)
        return fail(AmqpError::format(ReplyCode::PreconditionFailed, mid,
                                      "user_id property set to '{}' but authenticated user was '{}'",
                                      *props.user_id, ch.connection->user));
    std::optional<Duration> message_ttl;
    if (props.expiration) {
        // rabbit_channel:check_expiration_header/1.
        auto parsed = parse_expiration(*props.expiration);
        if (parsed.error) return fail(AmqpError::make(ReplyCode::PreconditionFailed, mid, *parsed.error));
        message_ttl = parsed.ttl;
    }
    std::vector<std::string> header_keys;
    if (!props.headers.empty()) {
        if (auto refused = check_routing_headers(props.headers, mid)) return fail(*refused);
        header_keys = header_routes(props.headers);
        // rabbit_basic:make_message/4: the message keeps its CC header but not its BCC header,
        // before any exchange (the headers exchange included) sees it. Taking it out
        // re-encodes the properties (rabbit_basic:strip_header).
        if (props.headers.erase("BCC")) {
            reencode_headers(props.headers);
            encoded_properties.clear();
        }
    }
    const std::uint64_t sequence = ch.confirm_mode ? ch.next_publish_sequence++ : 0;
    auto stored = std::make_shared<const StoredMessage>(m.exchange, m.routing_key, std::move(message),
                                                        std::move(header_keys), std::move(encoded_properties));
    std::vector<Queue*> queues;
    model.route(v, *target.value(),
                RoutingInput{stored->routing_key(), stored->properties().headers,
                             stored->extra_routing_keys()},
                queues, nullptr);
    // Direct reply-to: keys naming a reply consumer, only ever on the default exchange.
    const bool replies = target.value()->name().empty() &&
                         (stored->routing_key().starts_with(reply_to_prefix) ||
                          !stored->extra_routing_keys().empty());
    if (ch.tx) {
        // In a transaction the message is routed now and reaches its queues at tx.commit;
        // a reply is delivered now, as RabbitMQ's routing delivers it.
        if (replies) model.deliver_replies(stored);
        TxPublish held{std::move(stored), {}, message_ttl, m.mandatory};
        held.queues.reserve(queues.size());
        for (Queue* q : queues) held.queues.push_back(q->name());
        ch.tx->publishes.push_back(std::move(held));
        return {};
    }
    model.deliver_published(ch, stored, queues, m.mandatory, message_ttl, sequence);
    if (replies) model.deliver_replies(stored);
    return {};
}

Result<std::optional<GetOk>> Broker::basic_get(ChannelRef ref, std::string_view queue, bool no_ack) {
    WARREN_CHANNEL_OP(ref, method::basic_get);
    const MethodId mid = method::basic_get;
    auto name = model.expand_queue_name(ch, queue, mid);
    if (!name) return fail(name.error());
    auto found = model.queue_for_use(ch, name.value(), mid);
    if (!found) return fail(found.error());
    Queue& q = *found.value();
    q.note_used(model.now());
    model.expire_due(q);
    if (!q.has_ready()) return std::optional<GetOk>{};
    QueuedMessage m = q.pop();
    // rabbit_amqqueue_process:fetch/2 drops what has expired at the new head before
    // get-ok counts what is left.
    model.expire_due(q);
    GetOk ok{ch.next_delivery_tag++, m.redelivered, static_cast<std::uint32_t>(q.ready_count()),
             m.message};
    if (!no_ack) {
        q.note_unacked(1);
        ch.unacked.push_back(Unacked{ok.delivery_tag, &q, std::move(m), nullptr, false});
    }
    return std::optional<GetOk>{std::move(ok)};
}

Result<std::string> Broker::basic_consume(ChannelRef ref, const BasicConsume& m) {
    WARREN_CHANNEL_OP(ref, method::basic_consume);
    const MethodId mid = method::basic_consume;
    if (!m.consumer_tag.empty() && ch.consumers.contains(m.consumer_tag))
        return fail(AmqpError::format(ReplyCode::NotAllowed, mid, "attempt to reuse consumer tag '{}'",
                                      m.consumer_tag));
    if (m.queue == reply_to_queue) {
        // rabbit_channel basic.consume of amq.rabbitmq.reply-to: one no-ack reply consumer per
        // channel, outside the channel's ordinary consumers; no queue, no arguments checked.
        if (!m.no_ack)
            return fail(AmqpError::make(ReplyCode::PreconditionFailed, mid,
                                        "reply consumer cannot acknowledge"));
        if (ch.reply_consumer)
            return fail(AmqpError::make(ReplyCode::PreconditionFailed, mid, "reply consumer already set"));
        std::string tag = m.consumer_tag.empty() ? state_->generate_name("amq.ctag") : m.consumer_tag;
        ch.reply_consumer = ReplyConsumer{tag, model.reply_suffix(ch)};
        return tag;
    }
    auto name = model.expand_queue_name(ch, m.queue, mid);
    if (!name) return fail(name.error());
    auto found = model.queue_for_use(ch, name.value(), mid);
    if (!found) return fail(found.error());
    Queue& q = *found.value();
    if (auto refused = check_consume_arguments(m.arguments, rs("queue", q.name(), v), mid))
        return fail(*refused);
    // rabbit_amqqueue_process check_exclusive_access/3 for consumers; a single-active-consumer
    // queue refuses every exclusive consume, and nothing else.
    const bool single_active = q.settings().single_active_consumer;
    if (single_active ? m.exclusive
                      : q.exclusive_consumer() || (m.exclusive && !q.consumers().empty()))
        return fail(AmqpError::format(ReplyCode::AccessRefused, mid, "{} in exclusive use",
                                      rs("queue", q.name(), v)));
    std::string tag = m.consumer_tag.empty() ? state_->generate_name("amq.ctag") : m.consumer_tag;
    auto consumer = std::make_unique<Consumer>();
    consumer->tag = tag;
    consumer->channel = &ch;
    consumer->queue = &q;
    consumer->no_ack = m.no_ack;
    consumer->exclusive = m.exclusive;
    consumer->arguments = m.arguments;
    if (const FieldValue* priority = m.arguments.find("x-priority")) consumer->priority = priority->as_int();
    consumer->prefetch = m.no_ack ? 0 : ch.consumer_prefetch;
    consumer->credit = consumer->prefetch;
    Consumer* c = consumer.get();
    ch.consumers.emplace(tag, std::move(consumer));
    q.consumers().add(c);
    q.note_consumer_added();
    if (m.exclusive) q.set_exclusive_consumer(c);
    if (single_active && !q.single_active_consumer()) q.set_single_active_consumer(c);
    model.dispatch(q);
    return tag;
}

Status Broker::basic_cancel(ChannelRef ref, std::string_view consumer_tag) {
    WARREN_CHANNEL_OP(ref, method::basic_cancel);
    if (ch.reply_consumer && ch.reply_consumer->tag == consumer_tag) {
        ch.reply_consumer.reset();
        return {};
    }
    auto it = ch.consumers.find(consumer_tag);
    if (it == ch.consumers.end()) return {};
    model.remove_consumer(ch, *it->second, /*run_auto_delete=*/true);
    return {};
}

Status Broker::basic_ack(ChannelRef ref, std::uint64_t delivery_tag, bool multiple) {
    WARREN_CHANNEL_OP(ref, method::basic_ack);
    auto acked = model.collect(ch, delivery_tag, multiple, method::basic_ack);
    if (!acked) return fail(acked.error());
    model.acknowledge(ch, std::move(acked.value()), Settle::Ack);
    return {};
}

Status Broker::basic_nack(ChannelRef ref, std::uint64_t delivery_tag, bool multiple, bool requeue) {
    WARREN_CHANNEL_OP(ref, method::basic_nack);
    auto acked = model.collect(ch, delivery_tag, multiple, method::basic_nack);
    if (!acked) return fail(acked.error());
    model.acknowledge(ch, std::move(acked.value()), requeue ? Settle::Requeue : Settle::Reject);
    return {};
}

Status Broker::basic_reject(ChannelRef ref, std::uint64_t delivery_tag, bool requeue) {
    WARREN_CHANNEL_OP(ref, method::basic_reject);
    auto acked = model.collect(ch, delivery_tag, false, method::basic_reject);
    if (!acked) return fail(acked.error());
    model.acknowledge(ch, std::move(acked.value()), requeue ? Settle::Requeue : Settle::Reject);
    return {};
}

Status Broker::basic_recover(ChannelRef ref, bool requeue) {
    WARREN_CHANNEL_OP(ref, method::basic_recover);
    if (!requeue)
        return fail(AmqpError::make(ReplyCode::NotImplemented, method::basic_recover, "requeue=false"));
    auto all = model.collect(ch, 0, true, method::basic_recover);
    model.settle(ch, std::move(all.value()), Settle::Requeue);
    return {};
}

Status Broker::confirm_select(ChannelRef ref) {
    WARREN_CHANNEL_OP(ref, method::confirm_select);
    if (ch.tx)
        return fail(AmqpError::make(ReplyCode::PreconditionFailed, method::confirm_select,
                                    "cannot switch from tx to confirm mode"));
    ch.confirm_mode = true;
    return {};
}

// ---- tx ----

// tx.commit / tx.rollback without tx.select.
static AmqpError not_transactional(MethodId m) {
    return AmqpError::make(ReplyCode::PreconditionFailed, m, "channel is not transactional");
}

Status Broker::tx_select(ChannelRef ref) {
    WARREN_CHANNEL_OP(ref, method::tx_select);
    if (ch.confirm_mode)
        return fail(AmqpError::make(ReplyCode::PreconditionFailed, method::tx_select,
                                    "cannot switch from confirm to tx mode"));
    // A second tx.select keeps the open transaction.
    if (!ch.tx) ch.tx = std::make_unique<Transaction>();
    return {};
}

// rabbit_channel tx.commit: the publishes reach the queues they were routed to (those still
// there, looked up by name), in the order they came; then the acknowledgements are settled in
// the order they came. The channel stays transactional.
//
// Where tx.commit-ok falls among what the commit causes: the channel sends the returns itself
// while it handles tx.commit, before anything the queues send back. It answers at once when no
// publish reached a queue (so before the deliveries its acknowledgements cause); otherwise it
// waits for the queues to take the publishes, and the deliveries come first.
Status Broker::tx_commit(ChannelRef ref) {
    WARREN_CHANNEL_OP(ref, method::tx_commit);
    if (!ch.tx) return fail(not_transactional(method::tx_commit));
    Transaction work = std::exchange(*ch.tx, Transaction{});
    ConnectionSink& sink = *ch.connection->sink;
    std::vector<std::vector<Queue*>> targets(work.publishes.size());
    bool reached = false;
    for (std::size_t i = 0; i < work.publishes.size(); ++i) {
        const TxPublish& p = work.publishes[i];
        for (const std::string& name : p.queues)
            if (Queue* q = model.find_queue(v, name)) targets[i].push_back(q);
        if (targets[i].empty() && p.mandatory)
            sink.on_return(ch.id, ReturnEvent{ReplyCode::NoRoute, "NO_ROUTE", *p.message});
        reached = reached || !targets[i].empty();
    }
    if (!reached) sink.on_tx_commit_ok(ch.id);
    for (std::size_t i = 0; i < work.publishes.size(); ++i) {
        const TxPublish& p = work.publishes[i];
        for (Queue* q : targets[i]) model.deliver_to_queue(*q, p.message, p.message_ttl);
    }
    for (TxSettle& s : work.settles) model.settle(ch, std::move(s.acked), s.how);
    if (reached) sink.on_tx_commit_ok(ch.id);
    return {};
}

// rabbit_channel tx.rollback: the publishes are dropped; the acknowledged deliveries return to
// the unacknowledged list, in delivery-tag order.
Status Broker::tx_rollback(ChannelRef ref) {
    WARREN_CHANNEL_OP(ref, method::tx_rollback);
    if (!ch.tx) return fail(not_transactional(method::tx_rollback));
    Transaction work = std::exchange(*ch.tx, Transaction{});
    if (work.settles.empty()) return {};
    std::vector<Unacked> back;
    for (TxSettle& s : work.settles)
        for (Unacked& u : s.acked) back.push_back(std::move(u));
    for (Unacked& u : ch.unacked) back.push_back(std::move(u));
    std::sort(back.begin(), back.end(), [](const Unacked& a, const Unacked& b) { return a.tag < b.tag; });
    ch.unacked.assign(std::make_move_iterator(back.begin()), std::make_move_iterator(back.end()));
    return {};
}

#undef WARREN_CHANNEL_OP

}  // namespace warren
