// The in-process backend: warren::Connection and warren::Channel driving a Broker directly.
//
// The Broker calls this connection's sink with the Broker's lock held, possibly from another
// connection's thread (a publish there delivers here); the sink only queues events, under
// its own mutex. process_events takes them off the queue and runs callbacks with no lock
// held, so a callback may call back into the Broker.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <variant>

#include "warren/connection.hpp"
#include "warren/emulator/detail/broker_methods.hpp"

namespace warren {
namespace {

using emulator::ChannelId;
using emulator::ChannelRef;
using emulator::ConnectionId;

struct DeliverEv {
    ChannelId channel;
    Delivery delivery;
};
struct ReturnEv {
    ChannelId channel;
    Returned returned;
};
struct ConfirmEv {
    ChannelId channel;
    Confirm confirm;
};
/// A consumer that is no longer: cancelled by the broker (its queue was deleted) or by the
/// client. Queued behind the deliveries that preceded it, so those still reach the callback.
struct CancelEv {
    ChannelId channel;
    std::string consumer_tag;
    /// A client's cancel (its consumer retired until this event), not the broker's.
    bool by_client = false;
};
struct ChannelCloseEv {
    ChannelId channel;
    AmqpError error;
};
struct ConnectionCloseEv {
    AmqpError error;
};
using Event = std::variant<DeliverEv, ReturnEv, ConfirmEv, CancelEv, ChannelCloseEv, ConnectionCloseEv>;

AmqpError closed_by_client() { return AmqpError(ReplyCode::Success, "closed by the client"); }

class InprocChannel;

class InprocConnection final : public detail::ConnectionBackend,
                               public emulator::ConnectionSink,
                               public std::enable_shared_from_this<InprocConnection> {
public:
    InprocConnection(Broker& broker, ConnectionId id) : methods_(broker), id_(id) {}
    ~InprocConnection() override {
        if (open_) methods_.close_connection(id_);
    }

    detail::BrokerMethods& methods() { return methods_; }
    ConnectionId id() const { return id_; }

    void set_id(ConnectionId id) { id_ = id; }

    std::shared_ptr<detail::ChannelBackend> open_channel() override;
    std::size_t process_events(std::chrono::milliseconds timeout) override;
    void close() override {
        if (!open_) return;
        open_ = false;
        close_error_ = closed_by_client();
        methods_.close_connection(id_);
    }
    bool is_open() const override {
        if (!open_) return false;
        std::lock_guard lock(events_mutex_);
        return !lost_ && !remote_close_;
    }

    /// Throws ConnectionClosed when the connection is closed, ClientError when it was cut.
    void check_open() const {
        if (!open_) throw ConnectionClosed(close_error_.value_or(closed_by_client()));
        std::lock_guard lock(events_mutex_);
        if (lost_) throw ClientError(lost_text);
        if (remote_close_) throw ConnectionClosed(*remote_close_);
    }
    /// The broker closed the connection with `error` (a hard error from a call).
    void closed_by_broker(const AmqpError& error) {
        open_ = false;
        close_error_ = error;
    }
    void forget_channel(ChannelId id) { channels_.erase(id); }
    /// Whether a delivery to `consumer_tag` on `channel` waits in the queue of events.
    bool delivery_pending(ChannelId channel, std::string_view consumer_tag) {
        std::lock_guard lock(events_mutex_);
        return std::any_of(events_.begin(), events_.end(), [&](const Event& e) {
            const auto* d = std::get_if<DeliverEv>(&e);
            return d && d->channel == channel && d->delivery.consumer_tag == consumer_tag;
        });
    }
    /// Queues the end of a consumer the client cancelled, behind its pending deliveries.
    void push_cancelled(ChannelId channel, std::string consumer_tag) {
        push(CancelEv{channel, std::move(consumer_tag), true});
    }

    // ---- emulator::ConnectionSink: called with the Broker's lock held ----
    void on_deliver(ChannelId ch, const emulator::DeliverEvent& e) override {
        push(DeliverEv{ch, Delivery{e.delivery_tag, e.redelivered, e.message.exchange(),
                                    e.message.routing_key(), std::string(e.consumer_tag), 0,
                                    e.message.to_message()}});
    }
    void on_return(ChannelId ch, const emulator::ReturnEvent& e) override {
        push(ReturnEv{ch, Returned{static_cast<std::uint16_t>(e.reply_code), std::string(e.reply_text),
                                   e.message.exchange(), e.message.routing_key(), e.message.to_message()}});
    }
    void on_confirm(ChannelId ch, std::uint64_t sequence, bool multiple, bool ack) override {
        push(ConfirmEv{ch, Confirm{sequence, multiple, ack}});
    }
    void on_consumer_cancelled(ChannelId ch, std::string_view tag) override {
        push(CancelEv{ch, std::string(tag)});
    }
    void on_channel_closed(ChannelId ch, const AmqpError& error) override {
        push(ChannelCloseEv{ch, error});
    }
    // A close or a cut is known at once (a real client finds its socket closed); the event
    // still reaches process_events in order.
    void on_connection_closed(const AmqpError& error) override {
        {
            std::lock_guard lock(events_mutex_);
            remote_close_ = error;
        }
        push(ConnectionCloseEv{error});
    }
    void on_connection_lost() override {
        {
            std::lock_guard lock(events_mutex_);
            lost_ = true;
        }
        events_ready_.notify_one();
    }

private:
    void push(Event e) {
        {
            std::lock_guard lock(events_mutex_);
            events_.push_back(std::move(e));
        }
        events_ready_.notify_one();
    }
    void dispatch(Event& e);

    detail::BrokerMethods methods_;
    ConnectionId id_;
    bool open_ = true;
    std::optional<AmqpError> close_error_;
    ChannelId next_channel_ = 1;
    std::map<ChannelId, std::weak_ptr<InprocChannel>> channels_;

    static constexpr const char* lost_text =
        "warren: connection lost (cut by Broker::cut_connection, as a network failure cuts it)";

    mutable std::mutex events_mutex_;
    std::condition_variable events_ready_;
    bool lost_ = false;                   // guarded by events_mutex_
    std::optional<AmqpError> remote_close_;  // guarded by events_mutex_
    std::deque<Event> events_;
};

class InprocChannel final : public detail::ChannelBackend {
public:
    InprocChannel(std::shared_ptr<InprocConnection> conn, ChannelId id)
        : conn_(std::move(conn)), id_(id) {}
    ~InprocChannel() override {
        if (open_ && conn_->is_open()) conn_->methods().close_channel(ref());
        conn_->forget_channel(id_);
    }

    std::uint16_t id() const override { return id_; }
    bool is_open() const override { return open_ && conn_->is_open(); }
    void close() override {
        if (!is_open()) return;
        open_ = false;
        closed_by_ = closed_by_client();
        conn_->methods().close_channel(ref());
    }

    void exchange_declare(std::string_view exchange, std::string_view type,
                          const ExchangeOptions& o) override {
        check(conn_->methods().exchange_declare(
            ref(), {std::string(exchange), std::string(type), o.passive, o.durable, o.auto_delete,
                    o.internal, o.arguments}));
    }
    void exchange_delete(std::string_view exchange, const ExchangeDeleteOptions& o) override {
        check(conn_->methods().exchange_delete(ref(), {std::string(exchange), o.if_unused}));
    }
    void exchange_bind(std::string_view destination, std::string_view source,
                       std::string_view routing_key, const FieldTable& arguments) override {
        check(conn_->methods().exchange_bind(ref(), {std::string(destination), std::string(source),
                                                    std::string(routing_key), arguments}));
    }
    void exchange_unbind(std::string_view destination, std::string_view source,
                         std::string_view routing_key, const FieldTable& arguments) override {
        check(conn_->methods().exchange_unbind(ref(), {std::string(destination), std::string(source),
                                                      std::string(routing_key), arguments}));
    }
    QueueDeclareOk queue_declare(std::string_view queue, const QueueOptions& o) override {
        return check(conn_->methods().queue_declare(
            ref(), {std::string(queue), o.passive, o.durable, o.exclusive, o.auto_delete, o.arguments}));
    }
    void queue_bind(std::string_view queue, std::string_view exchange, std::string_view routing_key,
                    const FieldTable& arguments) override {
        check(conn_->methods().queue_bind(ref(), {std::string(queue), std::string(exchange),
                                                 std::string(routing_key), arguments}));
    }
    void queue_unbind(std::string_view queue, std::string_view exchange,
                      std::string_view routing_key, const FieldTable& arguments) override {
        check(conn_->methods().queue_unbind(ref(), {std::string(queue), std::string(exchange),
                                                   std::string(routing_key), arguments}));
    }
    std::uint32_t queue_purge(std::string_view queue) override {
        return check(conn_->methods().queue_purge(ref(), queue));
    }
    std::uint32_t queue_delete(std::string_view queue, const QueueDeleteOptions& o) override {
        return check(conn_->methods().queue_delete(ref(), {std::string(queue), o.if_unused, o.if_empty}));
    }

    void basic_qos(std::uint16_t prefetch_count, bool global, std::uint32_t prefetch_size) override {
        check(conn_->methods().basic_qos(ref(), {prefetch_size, prefetch_count, global}));
    }
    void basic_publish(std::string_view exchange, std::string_view routing_key, const Message& message,
                       const PublishOptions& o) override {
        ensure_open();
        if (confirm_mode_) pending_confirms_.emplace(++published_, true);
        // A publish has no reply: its error closes the channel and surfaces at the next call,
        // as it does on the wire.
        send_async(conn_->methods().basic_publish(
            ref(), {std::string(exchange), std::string(routing_key), o.mandatory, false}, message));
    }
    std::optional<Delivery> basic_get(std::string_view queue, bool no_ack) override {
        auto got = check(conn_->methods().basic_get(ref(), queue, no_ack));
        if (!got) return std::nullopt;
        const auto& m = *got->message;
        return Delivery{got->delivery_tag, got->redelivered, m.exchange(), m.routing_key(), "",
                        got->message_count, m.to_message()};
    }
    std::string basic_consume(std::string_view queue, ConsumerCallback callback,
                              const ConsumeOptions& o) override {
        std::string tag = check(conn_->methods().basic_consume(
            ref(), {std::string(queue), o.consumer_tag, false, o.no_ack, o.exclusive, o.arguments}));
        consumers_[tag] = std::make_shared<ConsumerCallback>(std::move(callback));
        return tag;
    }
    void basic_cancel(std::string_view consumer_tag) override {
        check(conn_->methods().basic_cancel(ref(), consumer_tag));
        // Deliveries made before the cancel still reach the callback, as they do on the wire
        // (they precede cancel-ok).
        auto it = consumers_.find(consumer_tag);
        if (it == consumers_.end()) return;
        if (conn_->delivery_pending(id_, consumer_tag)) {
            // Retired: its pending deliveries reach it even if a new consumer takes the tag.
            retiring_[it->first].push_back(std::move(it->second));
            conn_->push_cancelled(id_, it->first);
        }
        consumers_.erase(it);
    }
    // basic.ack, basic.nack and basic.reject have no reply: like a publish, an error they cause
    // closes the channel and surfaces at the next call.
    void basic_ack(std::uint64_t tag, bool multiple) override {
        ensure_open();
        send_async(conn_->methods().basic_ack(ref(), tag, multiple));
    }
    void basic_nack(std::uint64_t tag, bool multiple, bool requeue) override {
        ensure_open();
        send_async(conn_->methods().basic_nack(ref(), tag, multiple, requeue));
    }
    void basic_reject(std::uint64_t tag, bool requeue) override {
        ensure_open();
        send_async(conn_->methods().basic_reject(ref(), tag, requeue));
    }
    void basic_recover(bool requeue) override { check(conn_->methods().basic_recover(ref(), requeue)); }

    void confirm_select() override {
        check(conn_->methods().confirm_select(ref()));
        confirm_mode_ = true;
    }
    void tx_select() override { check(conn_->methods().tx_select(ref())); }
    void tx_commit() override { check(conn_->methods().tx_commit(ref())); }
    void tx_rollback() override { check(conn_->methods().tx_rollback(ref())); }
    bool wait_for_confirms(std::chrono::milliseconds timeout) override {
        ensure_open();
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!pending_confirms_.empty()) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0 || conn_->process_events(left) == 0) {
                if (pending_confirms_.empty()) break;
                if (std::chrono::steady_clock::now() >= deadline)
                    throw ClientError(fmt::format("wait_for_confirms: {} publishes unconfirmed after {} ms",
                                                  pending_confirms_.size(), timeout.count()));
            }
            ensure_open();
        }
        const bool all_acked = !nacked_;
        nacked_ = false;
        return all_acked;
    }
    void on_return(ReturnCallback callback) override { on_return_ = std::move(callback); }
    void on_confirm(ConfirmCallback callback) override { on_confirm_ = std::move(callback); }

    // ---- events, from InprocConnection::dispatch ----
    void deliver(const Delivery& d) {
        if (auto r = retiring_.find(d.consumer_tag); r != retiring_.end()) {
            std::shared_ptr<ConsumerCallback> cb = r->second.front();
            (*cb)(d);
            return;
        }
        auto it = consumers_.find(d.consumer_tag);
        if (it == consumers_.end()) return;
        std::shared_ptr<ConsumerCallback> cb = it->second;  // the callback may cancel itself
        (*cb)(d);
    }
    void returned(const Returned& r) {
        if (on_return_) on_return_(r);
    }
    void confirmed(const Confirm& c) {
        auto end = c.multiple ? pending_confirms_.upper_bound(c.delivery_tag)
                              : pending_confirms_.find(c.delivery_tag);
        if (!c.multiple && end != pending_confirms_.end()) ++end;
        auto begin = c.multiple ? pending_confirms_.begin() : pending_confirms_.find(c.delivery_tag);
        if (begin != pending_confirms_.end()) pending_confirms_.erase(begin, end);
        if (!c.ack) nacked_ = true;
        if (on_confirm_) on_confirm_(c);
    }
    void cancelled(const std::string& tag, bool by_client) {
        if (!by_client) {
            consumers_.erase(tag);
            return;
        }
        auto r = retiring_.find(tag);
        if (r == retiring_.end()) return;
        r->second.pop_front();
        if (r->second.empty()) retiring_.erase(r);
    }
    void note_closed(const AmqpError& error) {
        open_ = false;
        closed_by_ = error;
        if (error.closes_connection()) conn_->closed_by_broker(error);
    }

private:
    ChannelRef ref() const { return {conn_->id(), id_}; }

    void ensure_open() const {
        conn_->check_open();
        if (!open_) throw ChannelClosed(closed_by_.value_or(closed_by_client()));
    }
    void check(const Status& s) {
        ensure_open();
        if (!s) fail(s.error());
    }
    template <class T>
    T check(Result<T> r) {
        ensure_open();
        if (!r) fail(r.error());
        return std::move(r).value();
    }
    /// The outcome of a method the broker does not answer.
    void send_async(const Status& s) {
        if (!s) note_closed(s.error());
    }
    [[noreturn]] void fail(const AmqpError& error) {
        note_closed(error);
        throw error;
    }

    std::shared_ptr<InprocConnection> conn_;
    ChannelId id_;
    bool open_ = true;
    std::optional<AmqpError> closed_by_;
    std::map<std::string, std::shared_ptr<ConsumerCallback>, std::less<>> consumers_;
    /// Consumers the client cancelled while deliveries to them were queued, oldest first.
    std::map<std::string, std::deque<std::shared_ptr<ConsumerCallback>>, std::less<>> retiring_;
    ReturnCallback on_return_;
    ConfirmCallback on_confirm_;
    bool confirm_mode_ = false;
    std::uint64_t published_ = 0;
    std::map<std::uint64_t, bool> pending_confirms_;
    bool nacked_ = false;
};

std::shared_ptr<detail::ChannelBackend> InprocConnection::open_channel() {
    check_open();
    // RabbitMQ's default channel_max is 2047; ids are not reused while this connection lives.
    if (next_channel_ == 0 || next_channel_ > 2047)
        throw ClientError("warren: no channel ids left on this connection (channel_max 2047)");
    const ChannelId id = next_channel_++;
    Status s = methods_.open_channel({id_, id});
    if (!s) throw s.error();
    auto ch = std::make_shared<InprocChannel>(shared_from_this(), id);
    channels_[id] = ch;
    return ch;
}

void InprocConnection::dispatch(Event& e) {
    auto channel = [&](ChannelId id) -> std::shared_ptr<InprocChannel> {
        auto it = channels_.find(id);
        return it == channels_.end() ? nullptr : it->second.lock();
    };
    std::visit(
        [&](auto& ev) {
            using T = std::decay_t<decltype(ev)>;
            if constexpr (std::is_same_v<T, ConnectionCloseEv>) {
                closed_by_broker(ev.error);
            } else if (auto ch = channel(ev.channel)) {
                if constexpr (std::is_same_v<T, DeliverEv>) ch->deliver(ev.delivery);
                else if constexpr (std::is_same_v<T, ReturnEv>) ch->returned(ev.returned);
                else if constexpr (std::is_same_v<T, ConfirmEv>) ch->confirmed(ev.confirm);
                else if constexpr (std::is_same_v<T, CancelEv>) ch->cancelled(ev.consumer_tag, ev.by_client);
                else if constexpr (std::is_same_v<T, ChannelCloseEv>) ch->note_closed(ev.error);
            }
        },
        e);
}

std::size_t InprocConnection::process_events(std::chrono::milliseconds timeout) {
    std::size_t count = 0;
    for (;;) {
        Event e;
        {
            std::unique_lock lock(events_mutex_);
            if (events_.empty() && count == 0 && timeout.count() > 0 && !lost_)
                events_ready_.wait_for(lock, timeout, [&] { return !events_.empty() || lost_; });
            if (events_.empty()) {
                if (lost_) throw ClientError(lost_text);
                return count;
            }
            e = std::move(events_.front());
            events_.pop_front();
        }
        dispatch(e);
        ++count;
    }
}

}  // namespace

Connection connect(Broker& broker, const ConnectOptions& options) {
    if (!broker.authenticate(options.user, options.password))
        throw AmqpError::make(ReplyCode::AccessRefused, method::connection_open,
                              "Login was refused using authentication mechanism PLAIN. For details "
                              "see the broker logfile.");
    auto conn = std::make_shared<InprocConnection>(broker, 0);
    auto id = conn->methods().open_connection(options.vhost, options.user, *conn, options.name);
    if (!id) throw id.error();
    conn->set_id(id.value());
    return Connection(std::move(conn));
}

}  // namespace warren
