#include "warren/server/broker_connection.hpp"

#include <algorithm>

// Behaviour cited below is RabbitMQ 3.10.8's rabbit_reader and rabbit_channel, checked against
// that broker with raw-socket probes where the source leaves doubt.

namespace warren::server {

namespace {

using emulator::ChannelRef;
using emulator::shutdown_error;

std::string_view method_label(MethodId id) {
    const std::string_view name = protocol::method_name(id);
    return name.empty() ? std::string_view("none") : name;
}

/// What a deferred frame adds to the connection's unwritten bytes before it is encoded: a
/// content's body plus its frame and header overhead, or a method frame alone.
constexpr std::size_t content_overhead_estimate = 64;
constexpr std::size_t deferred_method_estimate = 32;

std::size_t estimated_size(const Message& m) { return m.body.size() + content_overhead_estimate; }

}  // namespace

BrokerConnection::BrokerConnection(Broker& broker, const ServerOptions& options, const Logger& log,
                                   Peer peer, ConnectionOwner& owner, Clock::time_point now)
    : methods_(broker),
      options_(options),
      log_(log),
      peer_(std::move(peer)),
      owner_(owner),
      engine_(*this, options.amqp, now) {}

BrokerConnection::~BrokerConnection() {
    // The Broker must not keep a sink that is going away.
    if (id_) methods_.close_connection(*id_);
}

std::string BrokerConnection::context(std::uint16_t channel) const {
    if (channel == 0) return fmt::format("<conn {} {} -> {}>", peer_.id, peer_.remote, peer_.local);
    return fmt::format("<conn {} {} -> {} ch {}>", peer_.id, peer_.remote, peer_.local, channel);
}

void BrokerConnection::shutdown() {
    // Before connection.open-ok the engine just drops the socket; once closing, it waits on.
    if (engine_.is_open()) log_.log(LogLevel::info, context(), "closing: broker shutdown (320 CONNECTION_FORCED)");
    engine_.close_connection(shutdown_error());
    owner_.output_added();
}

// ---- login and vhost --------------------------------------------------------------------------

bool BrokerConnection::authenticate(const protocol::Credentials& c) {
    if (!methods_.broker().authenticate(c.username, c.password)) {
        // rabbit_reader:auth_fail logs the reason; the peer only hears "Login was refused".
        log_.log(LogLevel::error, context(), "{} login refused: user '{}' - invalid credentials",
                 c.mechanism, c.username);
        return false;
    }
    // rabbit_access_control:check_user_loopback: loopback_users may connect only from loopback.
    const auto& lu = options_.loopback_users;
    if (!peer_.loopback && std::find(lu.begin(), lu.end(), c.username) != lu.end()) {
        log_.log(LogLevel::error, context(),
                 "{} login refused: user '{}' can only connect via localhost", c.mechanism, c.username);
        return false;
    }
    return true;
}

std::optional<AmqpError> BrokerConnection::open_vhost(const std::string& user, const std::string& vhost) {
    std::string name;
    if (const FieldValue* v = engine_.info().client_properties.find("connection_name"); v && v->is_string())
        name = v->as_string();
    auto id = methods_.open_connection(vhost, user, *this, name);
    if (!id) {
        log_.log(LogLevel::error, context(), "connection.open refused: {}", id.error().reply_text());
        return id.error();
    }
    id_ = id.value();
    user_ = user;
    vhost_ = vhost;
    if (memory_alarm_) throttle_ = Throttle::blocking;
    return std::nullopt;
}

void BrokerConnection::on_connection_opened(const protocol::ConnectionInfo& info) {
    log_.log(LogLevel::info, context(), "user '{}' authenticated and granted access to vhost '{}'",
             info.user, info.vhost);
}

// ---- channels ---------------------------------------------------------------------------------

BrokerConnection::ChannelState* BrokerConnection::channel_state(std::uint16_t channel) {
    auto it = channels_.find(channel);
    return it == channels_.end() ? nullptr : &it->second;
}

void BrokerConnection::on_channel_opened(std::uint16_t channel) {
    if (!id_) return;
    channels_[channel] = ChannelState{};
    Status s = methods_.open_channel({*id_, channel});
    if (!s) failed({*id_, channel}, s.error());
}

void BrokerConnection::on_channel_closed(std::uint16_t channel, const protocol::ChannelEnd& end) {
    channels_.erase(channel);
    if (end.by_peer && end.error.reply_code() != 200 && end.error.reply_code() != 0)
        log_.log(LogLevel::info, context(channel), "closed by the client: {} {}", end.error.reply_code(),
                 end.error.reply_text());
    if (id_) methods_.close_channel({*id_, channel});
}

void BrokerConnection::on_connection_closed(const protocol::ConnectionEnd& end) {
    using Cause = protocol::ConnectionEnd::Cause;
    switch (end.cause) {
        case Cause::peer_closed:
            log_.log(LogLevel::info, context(), "closing AMQP connection (vhost: '{}', user: '{}')",
                     vhost_, user_);
            break;
        case Cause::server_closed:
            break;  // logged where the close was decided
        case Cause::protocol_error:
            if (end.error && end.error->reply_code() != 0)
                log_.log(LogLevel::error, context(), "closing: {} {} (method {})", end.error->reply_code(),
                         end.error->reply_text(), method_label(end.error->method()));
            else
                log_.log(LogLevel::error, context(), "closing: protocol error, socket dropped");
            break;
        case Cause::heartbeat_timeout:
            log_.log(LogLevel::error, context(), "missed heartbeats from client, timeout: {}s",
                     engine_.info().heartbeat);
            break;
        case Cause::transport_closed:
            log_.log(LogLevel::warning, context(), "client unexpectedly closed TCP connection");
            break;
    }
    channels_.clear();
    if (id_) {
        const emulator::ConnectionId id = *id_;
        id_.reset();
        methods_.close_connection(id);
    }
}

// ---- methods ----------------------------------------------------------------------------------

void BrokerConnection::on_method(std::uint16_t channel, protocol::Method&& method) {
    if (!id_ || !channel_state(channel)) return;
    const ChannelRef ch{*id_, channel};
    deferring_ = true;
    std::visit([&](auto& m) { handle(ch, m); }, method);
    deferring_ = false;
    flush_deferred();
}

bool BrokerConnection::answer(ChannelRef ch, const Status& status, bool no_wait, const protocol::Method& reply) {
    if (!status) {
        failed(ch, status.error());
        return false;
    }
    if (!no_wait) (void)engine_.send(ch.channel, reply);
    return true;
}

void BrokerConnection::failed(ChannelRef ch, const AmqpError& error) {
    if (error.closes_connection()) {
        // The Broker has closed the connection: nothing more to tell it.
        id_.reset();
        channels_.clear();
        log_.log(LogLevel::error, context(ch.channel), "connection error, {}: {} {}",
                 method_label(error.method()), error.reply_code(), error.reply_text());
        engine_.close_connection(error);
        return;
    }
    channels_.erase(ch.channel);
    log_.log(LogLevel::error, context(ch.channel), "channel error, {}: {} {}", method_label(error.method()),
             error.reply_code(), error.reply_text());
    (void)engine_.close_channel(ch.channel, error);
}

void BrokerConnection::refuse(ChannelRef ch, const AmqpError& error) {
    if (id_) {
        if (error.closes_connection()) methods_.close_connection(*id_);
        else methods_.close_channel(ch);
    }
    failed(ch, error);
}

void BrokerConnection::handle(ChannelRef ch, protocol::ExchangeDeclare& m) {
    answer(ch,
           methods_.exchange_declare(ch, {m.exchange, m.type, m.passive, m.durable, m.auto_delete,
                                         m.internal, std::move(m.arguments)}),
           m.no_wait, protocol::ExchangeDeclareOk{});
}

void BrokerConnection::handle(ChannelRef ch, protocol::ExchangeDelete& m) {
    answer(ch, methods_.exchange_delete(ch, {m.exchange, m.if_unused}), m.no_wait, protocol::ExchangeDeleteOk{});
}

void BrokerConnection::handle(ChannelRef ch, protocol::ExchangeBind& m) {
    answer(ch, methods_.exchange_bind(ch, {m.destination, m.source, m.routing_key, std::move(m.arguments)}),
           m.no_wait, protocol::ExchangeBindOk{});
}

void BrokerConnection::handle(ChannelRef ch, protocol::ExchangeUnbind& m) {
    answer(ch, methods_.exchange_unbind(ch, {m.destination, m.source, m.routing_key, std::move(m.arguments)}),
           m.no_wait, protocol::ExchangeUnbindOk{});
}

void BrokerConnection::handle(ChannelRef ch, protocol::QueueDeclare& m) {
    auto r = methods_.queue_declare(
        ch, {m.queue, m.passive, m.durable, m.exclusive, m.auto_delete, std::move(m.arguments)});
    if (!r) return failed(ch, r.error());
    if (!m.no_wait)
        (void)engine_.send(ch.channel, protocol::QueueDeclareOk{r->queue, r->message_count, r->consumer_count});
}

void BrokerConnection::handle(ChannelRef ch, protocol::QueueBind& m) {
    answer(ch, methods_.queue_bind(ch, {m.queue, m.exchange, m.routing_key, std::move(m.arguments)}),
           m.no_wait, protocol::QueueBindOk{});
}

void BrokerConnection::handle(ChannelRef ch, protocol::QueueUnbind& m) {
    answer(ch, methods_.queue_unbind(ch, {m.queue, m.exchange, m.routing_key, std::move(m.arguments)}),
           false, protocol::QueueUnbindOk{});
}

void BrokerConnection::handle(ChannelRef ch, protocol::QueuePurge& m) {
    auto r = methods_.queue_purge(ch, m.queue);
    if (!r) return failed(ch, r.error());
    if (!m.no_wait) (void)engine_.send(ch.channel, protocol::QueuePurgeOk{r.value()});
}

void BrokerConnection::handle(ChannelRef ch, protocol::QueueDelete& m) {
    auto r = methods_.queue_delete(ch, {m.queue, m.if_unused, m.if_empty});
    if (!r) return failed(ch, r.error());
    if (!m.no_wait) (void)engine_.send(ch.channel, protocol::QueueDeleteOk{r.value()});
}

void BrokerConnection::handle(ChannelRef ch, protocol::BasicQos& m) {
    answer(ch, methods_.basic_qos(ch, {m.prefetch_size, m.prefetch_count, m.global}), false,
           protocol::BasicQosOk{});
}

void BrokerConnection::handle(ChannelRef ch, protocol::BasicConsume& m) {
    auto r = methods_.basic_consume(
        ch, {m.queue, m.consumer_tag, m.no_local, m.no_ack, m.exclusive, std::move(m.arguments)});
    if (!r) return failed(ch, r.error());
    if (ChannelState* c = channel_state(ch.channel)) c->consumers.insert(r.value());
    if (!m.no_wait) (void)engine_.send(ch.channel, protocol::BasicConsumeOk{r.value()});
}

void BrokerConnection::handle(ChannelRef ch, protocol::BasicCancel& m) {
    if (!answer(ch, methods_.basic_cancel(ch, m.consumer_tag), m.no_wait, protocol::BasicCancelOk{m.consumer_tag}))
        return;
    if (ChannelState* c = channel_state(ch.channel)) c->consumers.erase(m.consumer_tag);
}

void BrokerConnection::handle(ChannelRef ch, protocol::BasicGet& m) {
    auto r = methods_.basic_get(ch, m.queue, m.no_ack);
    if (!r) return failed(ch, r.error());
    if (!r.value()) {
        (void)engine_.send(ch.channel, protocol::BasicGetEmpty{});
        return;
    }
    const emulator::GetOk& ok = *r.value();
    const emulator::StoredMessage& msg = *ok.message;
    (void)engine_.send_content(ch.channel,
                               protocol::BasicGetOk{ok.delivery_tag, ok.redelivered, msg.exchange(),
                                                    msg.routing_key(), ok.message_count},
                               msg.properties(), msg.body(), protocol::as_bytes(msg.encoded_properties()));
}

// basic.ack, nack and reject have no reply. On a transactional channel the Broker keeps them
// for tx.commit, refusing an unknown delivery tag at once as RabbitMQ does.
void BrokerConnection::handle(ChannelRef ch, protocol::BasicAck& m) {
    if (Status r = methods_.basic_ack(ch, m.delivery_tag, m.multiple); !r) failed(ch, r.error());
}

void BrokerConnection::handle(ChannelRef ch, protocol::BasicNack& m) {
    if (Status r = methods_.basic_nack(ch, m.delivery_tag, m.multiple, m.requeue); !r) failed(ch, r.error());
}

void BrokerConnection::handle(ChannelRef ch, protocol::BasicReject& m) {
    if (Status r = methods_.basic_reject(ch, m.delivery_tag, m.requeue); !r) failed(ch, r.error());
}

void BrokerConnection::handle(ChannelRef ch, protocol::BasicRecover& m) {
    answer(ch, methods_.basic_recover(ch, m.requeue), false, protocol::BasicRecoverOk{});
}

// rabbit_channel: basic.recover is basic.recover-async followed by recover-ok; requeue=false
// is 540 NOT_IMPLEMENTED, naming the method the client sent.
void BrokerConnection::handle(ChannelRef ch, protocol::BasicRecoverAsync& m) {
    Status r = methods_.basic_recover(ch, m.requeue);
    if (r) return;
    const AmqpError& e = r.error();
    failed(ch, e.method() == method::basic_recover ? AmqpError(e.code(), e.reply_text(), method::basic_recover_async)
                                                   : e);
}

// basic.credit is RabbitMQ's AMQP 1.0 plugin's; on a 0-9-1 consumer of a classic queue it is
// answered with credit-ok (nothing available), and refused for an unknown consumer tag.
void BrokerConnection::handle(ChannelRef ch, protocol::BasicCredit& m) {
    ChannelState* c = channel_state(ch.channel);
    if (!c || !c->consumers.contains(m.consumer_tag))
        return refuse(ch, AmqpError::format(ReplyCode::PreconditionFailed, protocol::BasicCredit::id,
                                            "unknown consumer tag '{}'", m.consumer_tag));
    (void)engine_.send(ch.channel, protocol::BasicCreditOk{0});
}

void BrokerConnection::handle(ChannelRef ch, protocol::ConfirmSelect& m) {
    answer(ch, methods_.confirm_select(ch), m.no_wait, protocol::ConfirmSelectOk{});
}

void BrokerConnection::handle(ChannelRef ch, protocol::TxSelect&) {
    answer(ch, methods_.tx_select(ch), false, protocol::TxSelectOk{});
}

// tx.commit-ok goes out from on_tx_commit_ok, inside the commit, where RabbitMQ sends it among
// the returns and deliveries the commit causes.
void BrokerConnection::handle(ChannelRef ch, protocol::TxCommit&) {
    if (Status r = methods_.tx_commit(ch); !r) failed(ch, r.error());
}

void BrokerConnection::handle(ChannelRef ch, protocol::TxRollback&) {
    answer(ch, methods_.tx_rollback(ch), false, protocol::TxRollbackOk{});
}

template <class M>
void BrokerConnection::handle(ChannelRef ch, M&) {
    // The engine hands over only the methods above; anything else is a client method RabbitMQ's
    // channel does not implement.
    refuse(ch, AmqpError::make(ReplyCode::CommandInvalid, M::id, "unimplemented method"));
}

// ---- publishing -------------------------------------------------------------------------------

bool BrokerConnection::publish(ChannelRef ch, const protocol::BasicPublish& m, Message message,
                               std::string encoded_properties) {
    Status s = methods_.basic_publish(ch, {m.exchange, m.routing_key, m.mandatory, m.immediate}, std::move(message),
                                     std::move(encoded_properties));
    if (!s) {
        failed(ch, s.error());
        return false;
    }
    return true;
}

void BrokerConnection::on_publish(std::uint16_t channel, protocol::BasicPublish&& method, Message&& message,
                                  protocol::ByteView encoded_properties) {
    if (!id_) return;
    ChannelState* c = channel_state(channel);
    if (!c) return;
    owner_.published(message.body.size());
    publish({*id_, channel}, method, std::move(message), std::string(protocol::as_chars(encoded_properties)));
}

// rabbit_reader:publish_received: under a resource alarm, a connection is blocked by the first
// content header or body frame it sends, so a publish whose header came in waits, unrouted, for
// the alarm to clear.
void BrokerConnection::on_content_frame(std::uint16_t) {
    if (throttle_ == Throttle::blocking) {
        throttle_ = Throttle::blocked;
        log_.log(LogLevel::warning, context(), "blocked: low on memory; publishes wait until the alarm clears");
        engine_.block("low on memory");
    }
}

// ---- what the Broker sends unasked ------------------------------------------------------------

void BrokerConnection::emit(Outgoing&& out) {
    if (deferring_) {
        deferred_bytes_ += out.content ? estimated_size(*out.content) + out.encoded_properties.size()
                                       : deferred_method_estimate;
        deferred_.push_back(std::move(out));
        return;
    }
    send_now(out);
    owner_.output_added();
}

void BrokerConnection::send_now(const Outgoing& out) {
    if (out.content)
        (void)engine_.send_content(out.channel, out.method, out.content->properties, out.content->body,
                                   protocol::as_bytes(out.encoded_properties));
    else (void)engine_.send(out.channel, out.method);
}

void BrokerConnection::flush_deferred() {
    std::vector<Outgoing> held;
    held.swap(deferred_);
    deferred_bytes_ = 0;
    for (Outgoing& out : held) emit(std::move(out));
}

void BrokerConnection::on_deliver(emulator::ChannelId channel, const emulator::DeliverEvent& e) {
    const emulator::StoredMessage& msg = e.message;
    protocol::BasicDeliver deliver{std::string(e.consumer_tag), e.delivery_tag, e.redelivered, msg.exchange(),
                                   msg.routing_key()};
    if (!deferring_) {
        // The common path encodes straight from the stored message, without a copy.
        (void)engine_.send_content(channel, deliver, msg.properties(), msg.body(),
                                   protocol::as_bytes(msg.encoded_properties()));
        owner_.output_added();
        return;
    }
    emit(Outgoing{channel, std::move(deliver), Message{msg.body(), msg.properties()},
                  std::string(msg.encoded_properties())});
}

void BrokerConnection::on_return(emulator::ChannelId channel, const emulator::ReturnEvent& e) {
    const emulator::StoredMessage& msg = e.message;
    emit(Outgoing{channel,
                  protocol::BasicReturn{static_cast<std::uint16_t>(e.reply_code), std::string(e.reply_text),
                                        msg.exchange(), msg.routing_key()},
                  Message{msg.body(), msg.properties()}, std::string(msg.encoded_properties())});
}

void BrokerConnection::on_confirm(emulator::ChannelId channel, std::uint64_t sequence, bool multiple, bool ack) {
    if (ack) emit(Outgoing{channel, protocol::BasicAck{sequence, multiple}, std::nullopt});
    else emit(Outgoing{channel, protocol::BasicNack{sequence, multiple, false}, std::nullopt});
}

void BrokerConnection::on_consumer_cancelled(emulator::ChannelId channel, std::string_view consumer_tag) {
    if (ChannelState* c = channel_state(channel)) {
        if (auto it = c->consumers.find(consumer_tag); it != c->consumers.end()) c->consumers.erase(it);
    }
    // rabbit_channel:cancel_consumer: basic.cancel (nowait) only to clients that asked for it.
    if (!engine_.client_capability("consumer_cancel_notify")) return;
    emit(Outgoing{channel, protocol::BasicCancel{std::string(consumer_tag), true}, std::nullopt});
}

void BrokerConnection::on_connection_closed(const AmqpError& error) {
    // The Broker closes the connection right after this call (Broker::restart).
    id_.reset();
    channels_.clear();
    log_.log(LogLevel::info, context(), "closing: {} {}", error.reply_code(), error.reply_text());
    engine_.close_connection(error);
    owner_.output_added();
}

void BrokerConnection::on_connection_lost() {
    id_.reset();
    channels_.clear();
    log_.log(LogLevel::warning, context(), "connection cut by the broker");
    owner_.cut();
}

bool BrokerConnection::accepting_deliveries(emulator::ChannelId) {
    if (unwritten() < options_.output_high_water) return true;
    if (!deliveries_refused_)
        log_.log(LogLevel::debug, context(), "output at {} bytes: deliveries paused until the client reads",
                 unwritten());
    deliveries_refused_ = true;
    return false;
}

void BrokerConnection::on_tx_commit_ok(emulator::ChannelId channel) {
    // Called from the tx.commit handler inside handle(TxCommit): what the commit caused so far goes
    // out first, then commit-ok; the rest is held for after it.
    deferring_ = false;
    flush_deferred();
    (void)engine_.send(channel, protocol::TxCommitOk{});
    owner_.output_added();
    deferring_ = true;
}

void BrokerConnection::output_drained() {
    if (!deliveries_refused_ || unwritten() > options_.output_low_water) return;
    deliveries_refused_ = false;
    if (!id_) return;
    log_.log(LogLevel::debug, context(), "output at {} bytes: deliveries resume", unwritten());
    methods_.resume_deliveries(*id_);
}

// ---- memory alarm -----------------------------------------------------------------------------

void BrokerConnection::set_memory_alarm(bool on) {
    memory_alarm_ = on;
    if (on) {
        if (throttle_ == Throttle::running && id_) throttle_ = Throttle::blocking;
        return;
    }
    if (throttle_ == Throttle::blocked) {
        log_.log(LogLevel::info, context(), "unblocked: memory alarm cleared");
        engine_.unblock();
        owner_.output_added();
    }
    throttle_ = Throttle::running;
}

}  // namespace warren::server
