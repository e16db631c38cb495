// The in-process backend: warren::Connection and warren::Channel driving a Broker directly.
// It calls the Broker's AMQP methods through detail::BrokerMethods and feeds what the Broker
// sends into the client core.
//
// The Broker calls this connection's sink with the Broker's lock held, possibly from another
// connection's thread (a publish there delivers here); the sink only queues events, under
// the core's mutex. process_events takes them off the queue and runs callbacks with no lock
// held, so a callback may call back into the Broker.
#include <fmt/format.h>

#include <map>
#include <mutex>

#include "client_core.hpp"
#include "warren/connection.hpp"
#include "warren/emulator/detail/broker_methods.hpp"
#include "warren/protocol/frame.hpp"

namespace warren {
namespace {

using detail::ChannelCore;
using detail::closed_by_client;
using emulator::ChannelId;
using emulator::ChannelRef;
using emulator::ConnectionId;

class InprocConnection final : public detail::ConnectionCore, public emulator::ConnectionSink {
public:
    InprocConnection(Broker& broker, ConnectionId id) : methods_(broker), id_(id) {}
    ~InprocConnection() override {
        if (is_open()) methods_.close_connection(id_);
    }

    detail::BrokerMethods& methods() { return methods_; }
    ConnectionId id() const { return id_; }

    void set_id(ConnectionId id) { id_ = id; }

    std::shared_ptr<detail::ChannelBackend> open_channel() override;
    void close() override {
        if (!is_open()) return;
        settle_closed_by_client();
        methods_.close_connection(id_);
    }
    void forget_channel(ChannelId id) {
        std::lock_guard lock(channels_mutex_);
        channels_.erase(id);
    }

    // ---- emulator::ConnectionSink: called with the Broker's lock held ----
    void on_deliver(ChannelId ch, const emulator::DeliverEvent& e) override {
        push_to(ch, Delivery{e.delivery_tag, e.redelivered, e.message.exchange(), e.message.routing_key(),
                             std::string(e.consumer_tag), 0, e.message.to_message()});
    }
    void on_return(ChannelId ch, const emulator::ReturnEvent& e) override {
        push_to(ch, Returned{static_cast<std::uint16_t>(e.reply_code), std::string(e.reply_text),
                             e.message.exchange(), e.message.routing_key(), e.message.to_message()});
    }
    void on_confirm(ChannelId ch, std::uint64_t sequence, bool multiple, bool ack) override {
        push_to(ch, Confirm{sequence, multiple, ack});
    }
    void on_consumer_cancelled(ChannelId ch, std::string_view tag) override {
        push_to(ch, detail::BrokerCancelled{std::string(tag)});
    }
    // A close or a cut is known at once, as a real client finds its socket closed.
    void on_connection_closed(const AmqpError& error) override { note_closed(error); }
    void on_connection_lost() override { note_lost(lost_text); }

private:
    void push_to(ChannelId id, Payload what) {
        std::lock_guard lock(channels_mutex_);
        auto it = channels_.find(id);
        if (it != channels_.end()) push(it->second, std::move(what));
    }

    detail::BrokerMethods methods_;
    ConnectionId id_;
    ChannelId next_channel_ = 1;

    static constexpr const char* lost_text =
        "warren: connection lost (cut by Broker::cut_connection, as a network failure cuts it)";

    /// The open channels' cores, which the sink reaches from the Broker's calls.
    std::mutex channels_mutex_;
    std::map<ChannelId, std::shared_ptr<ChannelCore>> channels_;  // guarded by channels_mutex_
};

class InprocChannel final : public detail::ChannelHandleCore {
public:
    InprocChannel(std::shared_ptr<InprocConnection> conn, std::shared_ptr<ChannelCore> core)
        : ChannelHandleCore(conn, core), conn_(std::move(conn)), core_(std::move(core)) {}
    ~InprocChannel() override {
        if (is_open()) {
            conn_->methods().close_channel(ref());
            core_->mark_closed(closed_by_client());
        }
        conn_->forget_channel(core_->id());
    }

    void close() override {
        if (!is_open()) return;
        core_->mark_closed(closed_by_client());
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
        core_->note_publish();
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
        conn_->add_consumer(*core_, tag, std::move(callback), o.no_ack);
        return tag;
    }
    void basic_cancel(std::string_view consumer_tag) override {
        check(conn_->methods().basic_cancel(ref(), consumer_tag));
        conn_->cancel_consumer(core_, consumer_tag);
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
        core_->select_confirms();
    }
    void tx_select() override { check(conn_->methods().tx_select(ref())); }
    void tx_commit() override { check(conn_->methods().tx_commit(ref())); }
    void tx_rollback() override { check(conn_->methods().tx_rollback(ref())); }
private:
    ChannelRef ref() const { return {conn_->id(), core_->id()}; }

    void ensure_open() const { conn_->ensure_usable(*core_); }
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
        // An error that names no method (a crash of RabbitMQ's channel process) reaches a real
        // client as the connection or channel closing, not as this method's refusal.
        if (error.method() == method::none) {
            if (error.closes_connection()) throw ConnectionClosed(error);
            throw ChannelClosed(error);
        }
        throw error;
    }
    void note_closed(const AmqpError& error) {
        core_->mark_closed(error);
        if (error.closes_connection()) conn_->note_closed(error);
    }

    const std::shared_ptr<InprocConnection> conn_;
    const std::shared_ptr<ChannelCore> core_;
};

std::shared_ptr<detail::ChannelBackend> InprocConnection::open_channel() {
    ensure_open();
    // RabbitMQ's default channel_max; ids are not reused while this connection lives.
    if (next_channel_ == 0 || next_channel_ > protocol::default_channel_max)
        throw ClientError(fmt::format("warren: no channel ids left on this connection (channel_max {})",
                                      protocol::default_channel_max));
    const ChannelId id = next_channel_++;
    Status s = methods_.open_channel({id_, id});
    if (!s) throw s.error();
    auto core = std::make_shared<ChannelCore>(id);
    {
        std::lock_guard lock(channels_mutex_);
        channels_[id] = core;
    }
    return std::make_shared<InprocChannel>(
        std::static_pointer_cast<InprocConnection>(shared_from_this()), std::move(core));
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
