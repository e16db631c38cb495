// warren::connect(uri): the facade's backends over rabbitmq-c, talking to a real broker.
//
// Frames are read with amqp_simple_wait_frame_noblock only, and every frame is handled here:
// a channel assembles its own content (method, header, body frames) and a synchronous call
// waits for its answer while everything else read meanwhile becomes an event. rabbitmq-c's
// amqp_simple_rpc / amqp_read_message are not used: when a basic.deliver's frames are queued
// during an RPC, amqp_read_message after basic.get-ok takes that delivery's header and body
// for the got message.
#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <fmt/format.h>

#include "amqp_conversion.hpp"
#include "client_core.hpp"
#include "warren/amqp/uri.hpp"
#include "warren/connection.hpp"
#include "warren/protocol/methods.hpp"

namespace warren {
namespace amqp {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// How long a synchronous method waits for its answer before the connection is given up as
/// lost: ample for a slow queue.delete, and bounded, so that nothing waits forever.
constexpr std::chrono::milliseconds reply_timeout = 30s;
/// How long close() waits for close-ok before dropping the socket anyway.
constexpr std::chrono::milliseconds close_timeout = 5s;
/// process_events stops reading once this many events wait, so that a broker that sends
/// faster than the callbacks run is handed out in batches instead of buffered whole.
constexpr std::size_t max_batch = 1024;

const AmqpError closed_by_client(ReplyCode::Success, "closed by the client");

MethodId method_id(amqp_method_number_t method) {
    return {static_cast<std::uint16_t>(method >> 16), static_cast<std::uint16_t>(method & 0xFFFF)};
}

/// RabbitMQ's name for the method ("basic.cancel_ok"); rabbitmq-c's own for a pair warren's
/// list does not know.
std::string_view method_name(amqp_method_number_t method) {
    const std::string_view name = protocol::method_name(method_id(method));
    return name.empty() ? std::string_view(amqp_method_name(method)) : name;
}

timeval to_timeval(std::chrono::milliseconds ms) {
    return timeval{static_cast<time_t>(ms.count() / 1000),
                   static_cast<suseconds_t>(ms.count() % 1000 * 1000)};
}

/// The time left until `deadline`, none when it has passed.
timeval until(Clock::time_point deadline) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    return to_timeval(std::max(left, std::chrono::milliseconds(0)));
}

AmqpError error_of(std::uint16_t code, amqp_bytes_t text, std::uint16_t class_id,
                   std::uint16_t method) {
    return AmqpError(static_cast<ReplyCode>(code), to_string(text), MethodId{class_id, method});
}

/// The broker's refusal during the handshake (bad credentials, unknown vhost): its code and
/// text as sent, and a what() that also names the broker, since no call gives it context.
class HandshakeRefused final : public AmqpError {
public:
    HandshakeRefused(const AmqpError& error, std::string_view endpoint)
        : AmqpError(error),
          what_(fmt::format("{} refused the connection: {}", endpoint, error.reply_text())) {}
    const char* what() const noexcept override { return what_.c_str(); }

private:
    std::string what_;
};

/// basic.deliver, basic.return or basic.get-ok whose header and body frames are arriving.
struct Incoming {
    std::variant<Delivery, Returned> what;
    bool answers_get = false;
    std::uint64_t body_size = 0;

    Message& message() {
        return std::visit([](auto& x) -> Message& { return x.message; }, what);
    }
};

/// A synchronous method waiting for its answer.
struct PendingCall {
    std::initializer_list<amqp_method_number_t> replies;
    /// Copies what the caller needs out of the answer, which lives in rabbitmq-c's buffers.
    const std::function<void(const amqp_method_t&)>& read;
    bool answered = false;
    std::optional<Delivery> got = std::nullopt;

    bool expects(amqp_method_number_t method) const {
        return std::find(replies.begin(), replies.end(), method) != replies.end();
    }
};

/// A channel's frames in flight, on top of its client core. Shared by the channel's handle,
/// the connection's table of open channels and the events queued for it, so that a handle
/// never reaches a later channel that reuses its id.
struct ChannelState final : detail::ChannelCore {
    using ChannelCore::ChannelCore;

    std::optional<Incoming> incoming;
    PendingCall* pending = nullptr;
};

class AmqpConnection final : public detail::ConnectionCore {
public:
    using ReplyReader = std::function<void(const amqp_method_t&)>;

    /// Opens the TCP connection and performs the AMQP handshake. Throws ClientError naming
    /// the broker when it cannot be reached or the handshake fails, and an AmqpError with the
    /// broker's code and text when the broker refuses (403 for bad credentials, 530 for an
    /// unknown vhost).
    static std::shared_ptr<AmqpConnection> open(const Uri& uri);

    AmqpConnection(amqp_connection_state_t state, std::string endpoint)
        : state_(state),
          endpoint_(std::move(endpoint)),
          channel_max_(static_cast<std::uint16_t>(amqp_get_channel_max(state))) {}
    ~AmqpConnection() override;
    AmqpConnection(const AmqpConnection&) = delete;
    AmqpConnection& operator=(const AmqpConnection&) = delete;

    std::shared_ptr<detail::ChannelBackend> open_channel() override;
    void close() override;

    /// Sends `method` and waits for one of `replies`, handling all else that arrives. Returns
    /// basic.get-ok's message, nullopt for any other answer. Throws AmqpError when the broker
    /// refuses this method, ChannelClosed / ConnectionClosed when an earlier method's error
    /// closes the channel / connection first, ClientError when the connection is lost.
    std::optional<Delivery> call(ChannelState& channel, amqp_method_number_t method,
                                 void* request,
                                 std::initializer_list<amqp_method_number_t> replies,
                                 const ReplyReader& read = nullptr);
    /// Sends a method that has no answer (basic.ack and kin).
    void send_async(const ChannelState& channel, amqp_method_number_t method, void* request);
    void publish(ChannelState& channel, std::string_view exchange, std::string_view routing_key,
                 const Message& message, bool mandatory);
    void close_channel(ChannelState& channel);

private:
    /// Reads frames until one arrives or `deadline` passes.
    bool await_broker(Clock::time_point deadline) override { return read_frame(deadline); }
    /// Reads the frames already arrived, until max_batch events wait.
    void take_in_sent() override;

    [[noreturn]] void throw_failure(const ChannelState& channel, amqp_method_number_t method) const;
    /// Gives the connection up after a transport failure; throws ClientError with `what`.
    [[noreturn]] void lose(std::string what);
    void drop_socket() noexcept;
    void send(std::uint16_t channel, amqp_method_number_t method, void* request);
    std::uint16_t allocate_channel_id() const;

    /// Reads and handles one frame; false when none arrived by `deadline`.
    bool read_frame(Clock::time_point deadline);
    void handle_frame(const amqp_frame_t& frame);
    void handle_method(const std::shared_ptr<ChannelState>& channel, const amqp_method_t& method);
    void handle_connection_method(const amqp_method_t& method);
    void complete_content(const std::shared_ptr<ChannelState>& channel);
    void mark_closed(ChannelState& channel, const AmqpError& why);

    amqp_connection_state_t state_;
    const std::string endpoint_;
    const std::uint16_t channel_max_;
    std::uint32_t next_channel_id_ = 1;
    std::map<std::uint16_t, std::shared_ptr<ChannelState>> channels_;
    bool closing_ = false;
    bool close_ok_received_ = false;
};

class AmqpChannel final : public detail::ChannelHandleCore {
public:
    AmqpChannel(std::shared_ptr<AmqpConnection> connection, std::shared_ptr<ChannelState> state)
        : ChannelHandleCore(connection, state),
          connection_(std::move(connection)),
          state_(std::move(state)) {}

    void close() override { connection_->close_channel(*state_); }

    void exchange_declare(std::string_view exchange, std::string_view type,
                          const ExchangeOptions& options) override {
        Arena arena;
        amqp_exchange_declare_t request{};
        request.exchange = to_bytes(exchange);
        request.type = to_bytes(type);
        request.passive = options.passive;
        request.durable = options.durable;
        request.auto_delete = options.auto_delete;
        request.internal = options.internal;
        request.arguments = to_amqp(options.arguments, arena);
        connection_->call(*state_, AMQP_EXCHANGE_DECLARE_METHOD, &request,
                          {AMQP_EXCHANGE_DECLARE_OK_METHOD});
    }

    void exchange_delete(std::string_view exchange, const ExchangeDeleteOptions& options) override {
        amqp_exchange_delete_t request{};
        request.exchange = to_bytes(exchange);
        request.if_unused = options.if_unused;
        connection_->call(*state_, AMQP_EXCHANGE_DELETE_METHOD, &request,
                          {AMQP_EXCHANGE_DELETE_OK_METHOD});
    }

    void exchange_bind(std::string_view destination, std::string_view source,
                       std::string_view routing_key, const FieldTable& arguments) override {
        Arena arena;
        amqp_exchange_bind_t request{};
        request.destination = to_bytes(destination);
        request.source = to_bytes(source);
        request.routing_key = to_bytes(routing_key);
        request.arguments = to_amqp(arguments, arena);
        connection_->call(*state_, AMQP_EXCHANGE_BIND_METHOD, &request,
                          {AMQP_EXCHANGE_BIND_OK_METHOD});
    }

    void exchange_unbind(std::string_view destination, std::string_view source,
                         std::string_view routing_key, const FieldTable& arguments) override {
        Arena arena;
        amqp_exchange_unbind_t request{};
        request.destination = to_bytes(destination);
        request.source = to_bytes(source);
        request.routing_key = to_bytes(routing_key);
        request.arguments = to_amqp(arguments, arena);
        connection_->call(*state_, AMQP_EXCHANGE_UNBIND_METHOD, &request,
                          {AMQP_EXCHANGE_UNBIND_OK_METHOD});
    }

    QueueDeclareOk queue_declare(std::string_view queue, const QueueOptions& options) override {
        Arena arena;
        amqp_queue_declare_t request{};
        request.queue = to_bytes(queue);
        request.passive = options.passive;
        request.durable = options.durable;
        request.exclusive = options.exclusive;
        request.auto_delete = options.auto_delete;
        request.arguments = to_amqp(options.arguments, arena);
        QueueDeclareOk ok;
        connection_->call(*state_, AMQP_QUEUE_DECLARE_METHOD, &request,
                          {AMQP_QUEUE_DECLARE_OK_METHOD}, [&ok](const amqp_method_t& m) {
                              const auto* answer =
                                  static_cast<const amqp_queue_declare_ok_t*>(m.decoded);
                              ok.queue = to_string(answer->queue);
                              ok.message_count = answer->message_count;
                              ok.consumer_count = answer->consumer_count;
                          });
        return ok;
    }

    void queue_bind(std::string_view queue, std::string_view exchange,
                    std::string_view routing_key, const FieldTable& arguments) override {
        Arena arena;
        amqp_queue_bind_t request{};
        request.queue = to_bytes(queue);
        request.exchange = to_bytes(exchange);
        request.routing_key = to_bytes(routing_key);
        request.arguments = to_amqp(arguments, arena);
        connection_->call(*state_, AMQP_QUEUE_BIND_METHOD, &request, {AMQP_QUEUE_BIND_OK_METHOD});
    }

    void queue_unbind(std::string_view queue, std::string_view exchange,
                      std::string_view routing_key, const FieldTable& arguments) override {
        Arena arena;
        amqp_queue_unbind_t request{};
        request.queue = to_bytes(queue);
        request.exchange = to_bytes(exchange);
        request.routing_key = to_bytes(routing_key);
        request.arguments = to_amqp(arguments, arena);
        connection_->call(*state_, AMQP_QUEUE_UNBIND_METHOD, &request,
                          {AMQP_QUEUE_UNBIND_OK_METHOD});
    }

    std::uint32_t queue_purge(std::string_view queue) override {
        amqp_queue_purge_t request{};
        request.queue = to_bytes(queue);
        std::uint32_t count = 0;
        connection_->call(*state_, AMQP_QUEUE_PURGE_METHOD, &request, {AMQP_QUEUE_PURGE_OK_METHOD},
                          [&count](const amqp_method_t& m) {
                              count = static_cast<const amqp_queue_purge_ok_t*>(m.decoded)
                                          ->message_count;
                          });
        return count;
    }

    std::uint32_t queue_delete(std::string_view queue, const QueueDeleteOptions& options) override {
        amqp_queue_delete_t request{};
        request.queue = to_bytes(queue);
        request.if_unused = options.if_unused;
        request.if_empty = options.if_empty;
        std::uint32_t count = 0;
        connection_->call(*state_, AMQP_QUEUE_DELETE_METHOD, &request,
                          {AMQP_QUEUE_DELETE_OK_METHOD}, [&count](const amqp_method_t& m) {
                              count = static_cast<const amqp_queue_delete_ok_t*>(m.decoded)
                                          ->message_count;
                          });
        return count;
    }

    void basic_qos(std::uint16_t prefetch_count, bool global,
                   std::uint32_t prefetch_size) override {
        amqp_basic_qos_t request{};
        request.prefetch_size = prefetch_size;
        request.prefetch_count = prefetch_count;
        request.global = global;
        connection_->call(*state_, AMQP_BASIC_QOS_METHOD, &request, {AMQP_BASIC_QOS_OK_METHOD});
    }

    void basic_publish(std::string_view exchange, std::string_view routing_key,
                       const Message& message, const PublishOptions& options) override {
        connection_->publish(*state_, exchange, routing_key, message, options.mandatory);
    }

    std::optional<Delivery> basic_get(std::string_view queue, bool no_ack) override {
        amqp_basic_get_t request{};
        request.queue = to_bytes(queue);
        request.no_ack = no_ack;
        return connection_->call(*state_, AMQP_BASIC_GET_METHOD, &request,
                                 {AMQP_BASIC_GET_OK_METHOD, AMQP_BASIC_GET_EMPTY_METHOD});
    }

    std::string basic_consume(std::string_view queue, ConsumerCallback callback,
                              const ConsumeOptions& options) override {
        Arena arena;
        amqp_basic_consume_t request{};
        request.queue = to_bytes(queue);
        request.consumer_tag = to_bytes(options.consumer_tag);
        request.no_ack = options.no_ack;
        request.exclusive = options.exclusive;
        request.arguments = to_amqp(options.arguments, arena);
        std::string tag;
        connection_->call(*state_, AMQP_BASIC_CONSUME_METHOD, &request,
                          {AMQP_BASIC_CONSUME_OK_METHOD}, [&tag](const amqp_method_t& m) {
                              tag = to_string(
                                  static_cast<const amqp_basic_consume_ok_t*>(m.decoded)
                                      ->consumer_tag);
                          });
        connection_->add_consumer(*state_, tag, std::move(callback), options.no_ack);
        return tag;
    }

    void basic_cancel(std::string_view consumer_tag) override {
        amqp_basic_cancel_t request{};
        request.consumer_tag = to_bytes(consumer_tag);
        connection_->call(*state_, AMQP_BASIC_CANCEL_METHOD, &request,
                          {AMQP_BASIC_CANCEL_OK_METHOD});
        connection_->cancel_consumer(state_, consumer_tag);
    }

    void basic_ack(std::uint64_t delivery_tag, bool multiple) override {
        amqp_basic_ack_t request{};
        request.delivery_tag = delivery_tag;
        request.multiple = multiple;
        connection_->send_async(*state_, AMQP_BASIC_ACK_METHOD, &request);
    }

    void basic_nack(std::uint64_t delivery_tag, bool multiple, bool requeue) override {
        amqp_basic_nack_t request{};
        request.delivery_tag = delivery_tag;
        request.multiple = multiple;
        request.requeue = requeue;
        connection_->send_async(*state_, AMQP_BASIC_NACK_METHOD, &request);
    }

    void basic_reject(std::uint64_t delivery_tag, bool requeue) override {
        amqp_basic_reject_t request{};
        request.delivery_tag = delivery_tag;
        request.requeue = requeue;
        connection_->send_async(*state_, AMQP_BASIC_REJECT_METHOD, &request);
    }

    void basic_recover(bool requeue) override {
        amqp_basic_recover_t request{};
        request.requeue = requeue;
        connection_->call(*state_, AMQP_BASIC_RECOVER_METHOD, &request,
                          {AMQP_BASIC_RECOVER_OK_METHOD});
    }

    void confirm_select() override {
        amqp_confirm_select_t request{};
        connection_->call(*state_, AMQP_CONFIRM_SELECT_METHOD, &request,
                          {AMQP_CONFIRM_SELECT_OK_METHOD});
        state_->select_confirms();
    }

    void tx_select() override {
        amqp_tx_select_t request{};
        connection_->call(*state_, AMQP_TX_SELECT_METHOD, &request, {AMQP_TX_SELECT_OK_METHOD});
    }

    void tx_commit() override {
        amqp_tx_commit_t request{};
        connection_->call(*state_, AMQP_TX_COMMIT_METHOD, &request, {AMQP_TX_COMMIT_OK_METHOD});
    }

    void tx_rollback() override {
        amqp_tx_rollback_t request{};
        connection_->call(*state_, AMQP_TX_ROLLBACK_METHOD, &request,
                          {AMQP_TX_ROLLBACK_OK_METHOD});
    }

private:
    std::shared_ptr<AmqpConnection> connection_;
    std::shared_ptr<ChannelState> state_;
};

// ---- AmqpConnection: opening and closing -------------------------------------------------------

std::string describe_status(int status, int saved_errno) {
    std::string text = amqp_error_string2(status);
    if ((status == AMQP_STATUS_SOCKET_ERROR || status == AMQP_STATUS_TCP_ERROR) && saved_errno != 0)
        text += fmt::format(" ({})", std::strerror(saved_errno));
    return text;
}

std::shared_ptr<AmqpConnection> AmqpConnection::open(const Uri& uri) {
    const std::string endpoint = uri.endpoint();
    for (const std::string* part : {&uri.user, &uri.password, &uri.vhost})
        if (part->find('\0') != std::string::npos)
            throw ClientError("rabbitmq-c cannot send a user name, password or vhost holding "
                              "a NUL byte");

    amqp_connection_state_t state = amqp_new_connection();
    if (state == nullptr) throw std::bad_alloc();
    std::unique_ptr<amqp_connection_state_t_, int (*)(amqp_connection_state_t)> owner(
        state, amqp_destroy_connection);
    amqp_socket_t* socket = amqp_tcp_socket_new(state);
    if (socket == nullptr) throw std::bad_alloc();

    const timeval timeout = to_timeval(uri.connection_timeout);
    const int status = amqp_socket_open_noblock(socket, uri.host.c_str(), uri.port, &timeout);
    // rabbitmq-c keeps no errno from a failed connect (the one left is its EINPROGRESS).
    if (status == AMQP_STATUS_SOCKET_ERROR)
        throw ClientError(fmt::format(
            "cannot connect to {}: the TCP connection was refused or the host is unreachable",
            endpoint));
    if (status == AMQP_STATUS_TIMEOUT)
        throw ClientError(fmt::format("cannot connect to {}: no TCP connection within {} ms",
                                      endpoint, uri.connection_timeout.count()));
    if (status != AMQP_STATUS_OK)
        throw ClientError(
            fmt::format("cannot connect to {}: {}", endpoint, amqp_error_string2(status)));

    // consumer_cancel_notify makes RabbitMQ send basic.cancel when a consumer's queue goes;
    // rabbitmq-c adds authentication_failure_close, so bad credentials get a 403 close.
    const FieldTable client_properties{
        {"product", "warren"},
        {"capabilities", FieldTable{{"consumer_cancel_notify", true},
                                    {"publisher_confirms", true},
                                    {"basic.nack", true}}},
    };
    Arena arena;
    const amqp_table_t properties = to_amqp(client_properties, arena);
    amqp_set_handshake_timeout(state, &timeout);
    const amqp_rpc_reply_t reply = amqp_login_with_properties(
        state, uri.vhost.c_str(), uri.channel_max, static_cast<int>(uri.frame_max),
        uri.heartbeat, &properties, AMQP_SASL_METHOD_PLAIN, uri.user.c_str(),
        uri.password.c_str());

    switch (reply.reply_type) {
        case AMQP_RESPONSE_NORMAL:
            return std::make_shared<AmqpConnection>(owner.release(), endpoint);
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
                const auto* close =
                    static_cast<const amqp_connection_close_t*>(reply.reply.decoded);
                const AmqpError error = error_of(close->reply_code, close->reply_text,
                                                 close->class_id, close->method_id);
                amqp_connection_close_ok_t close_ok{};
                amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &close_ok);
                throw HandshakeRefused(error, endpoint);
            }
            throw ClientError(fmt::format("{} answered the AMQP handshake with {}", endpoint,
                                          method_name(reply.reply.id)));
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            if (reply.library_error == AMQP_STATUS_CONNECTION_CLOSED)
                throw ClientError(fmt::format(
                    "{} closed the connection during the AMQP handshake (refused login or vhost?)",
                    endpoint));
            if (reply.library_error == AMQP_STATUS_TIMEOUT)
                throw ClientError(fmt::format(
                    "no AMQP handshake with {} within {} ms: is it a RabbitMQ AMQP port?",
                    endpoint, uri.connection_timeout.count()));
            throw ClientError(fmt::format("AMQP handshake with {} failed: {}", endpoint,
                                          amqp_error_string2(reply.library_error)));
        case AMQP_RESPONSE_NONE:
            break;
    }
    throw ClientError(fmt::format("AMQP handshake with {} failed", endpoint));
}

AmqpConnection::~AmqpConnection() {
    try {
        close();
    } catch (...) {
        // Closing is best effort here: the socket is dropped below either way.
    }
    drop_socket();
}

void AmqpConnection::close() {
    if (!is_open()) return;
    closing_ = true;
    try {
        amqp_connection_close_t request{};
        request.reply_code = AMQP_REPLY_SUCCESS;
        request.reply_text = to_bytes(closed_by_client.reply_text());
        send(0, AMQP_CONNECTION_CLOSE_METHOD, &request);
        const auto deadline = Clock::now() + close_timeout;
        while (is_open() && !close_ok_received_ && read_frame(deadline)) {
        }
    } catch (const ClientError&) {
        // The socket failed while closing; it is closed all the same.
    }
    settle_closed_by_client();
    drop_socket();
}

void AmqpConnection::drop_socket() noexcept {
    if (state_ == nullptr) return;
    amqp_destroy_connection(state_);
    state_ = nullptr;
}

void AmqpConnection::lose(std::string what) {
    note_lost(what);
    drop_socket();
    throw ClientError(std::move(what));
}

void AmqpConnection::throw_failure(const ChannelState& channel,
                                   amqp_method_number_t method) const {
    const std::optional<AmqpError> connection_error = connection_closed_by();
    if (!connection_error) ensure_open();  // lost
    const AmqpError& error = connection_error ? *connection_error : *channel.closed_by();
    if (error.method() == method_id(method)) throw error;
    if (connection_error) throw ConnectionClosed(error);
    throw ChannelClosed(error);
}

// ---- AmqpConnection: channels and methods ----------------------------------------------------

std::uint16_t AmqpConnection::allocate_channel_id() const {
    // Ids increase, so that a just-closed channel's id is not reused while stray frames for it
    // may still arrive; past channel_max the lowest free id is taken.
    if (next_channel_id_ <= channel_max_ && !channels_.contains(next_channel_id_))
        return static_cast<std::uint16_t>(next_channel_id_);
    for (std::uint32_t id = 1; id <= channel_max_; ++id)
        if (!channels_.contains(static_cast<std::uint16_t>(id)))
            return static_cast<std::uint16_t>(id);
    throw ClientError(fmt::format("all {} channels of the connection to {} are open",
                                  channel_max_, endpoint_));
}

std::shared_ptr<detail::ChannelBackend> AmqpConnection::open_channel() {
    ensure_open();
    const std::uint16_t id = allocate_channel_id();
    next_channel_id_ = std::uint32_t{id} + 1;
    auto channel = std::make_shared<ChannelState>(id);
    channels_.emplace(id, channel);
    amqp_channel_open_t request{};
    call(*channel, AMQP_CHANNEL_OPEN_METHOD, &request, {AMQP_CHANNEL_OPEN_OK_METHOD});
    return std::make_shared<AmqpChannel>(
        std::static_pointer_cast<AmqpConnection>(shared_from_this()), std::move(channel));
}

void AmqpConnection::send(std::uint16_t channel, amqp_method_number_t method, void* request) {
    const int status = amqp_send_method(state_, channel, method, request);
    if (status == AMQP_STATUS_OK) return;
    // rabbitmq-c encodes the whole frame before writing it: these leave nothing sent.
    if (status == AMQP_STATUS_TABLE_TOO_BIG || status == AMQP_STATUS_BAD_AMQP_DATA)
        throw ClientError(fmt::format("cannot send {} on channel {}: {}", method_name(method),
                                      channel, amqp_error_string2(status)));
    lose(fmt::format("connection to {} lost while sending {}: {}", endpoint_, method_name(method),
                     describe_status(status, errno)));
}

std::optional<Delivery> AmqpConnection::call(ChannelState& channel, amqp_method_number_t method,
                                             void* request,
                                             std::initializer_list<amqp_method_number_t> replies,
                                             const ReplyReader& read) {
    ensure_usable(channel);
    send(channel.id(), method, request);
    PendingCall pending{replies, read};
    channel.pending = &pending;
    struct Unregister {
        ChannelState& channel;
        ~Unregister() { channel.pending = nullptr; }
    } unregister{channel};

    const auto deadline = Clock::now() + reply_timeout;
    while (!pending.answered) {
        if (!is_open() || channel.is_closed()) throw_failure(channel, method);
        if (!read_frame(deadline))
            lose(fmt::format("no answer to {} on channel {} from {} within {} ms; connection "
                             "given up",
                             method_name(method), channel.id(), endpoint_, reply_timeout.count()));
    }
    return std::move(pending.got);
}

void AmqpConnection::send_async(const ChannelState& channel, amqp_method_number_t method,
                                void* request) {
    ensure_usable(channel);
    send(channel.id(), method, request);
}

void AmqpConnection::publish(ChannelState& channel, std::string_view exchange,
                             std::string_view routing_key, const Message& message,
                             bool mandatory) {
    ensure_usable(channel);
    Arena arena;
    const amqp_basic_properties_t properties = to_amqp(message.properties, arena);
    const int status =
        amqp_basic_publish(state_, channel.id(), to_bytes(exchange), to_bytes(routing_key),
                           mandatory, /*immediate=*/0, &properties, to_bytes(message.body));
    // The method frame may be out before a later frame fails: the connection cannot go on.
    if (status != AMQP_STATUS_OK)
        lose(fmt::format("connection to {} lost while sending basic.publish: {}", endpoint_,
                         describe_status(status, errno)));
    channel.note_publish();
}

void AmqpConnection::close_channel(ChannelState& channel) {
    if (!is_open() || channel.is_closed()) return;
    amqp_channel_close_t request{};
    request.reply_code = AMQP_REPLY_SUCCESS;
    request.reply_text = to_bytes(closed_by_client.reply_text());
    try {
        call(channel, AMQP_CHANNEL_CLOSE_METHOD, &request, {AMQP_CHANNEL_CLOSE_OK_METHOD});
    } catch (const ChannelClosed&) {
        // The broker closed the channel at the same time; it is closed either way.
        return;
    }
    mark_closed(channel, closed_by_client);
}

void AmqpConnection::mark_closed(ChannelState& channel, const AmqpError& why) {
    channel.mark_closed(why);
    channel.incoming.reset();
    if (auto it = channels_.find(channel.id()); it != channels_.end() && it->second.get() == &channel)
        channels_.erase(it);
}

// ---- AmqpConnection: reading and dispatching -----------------------------------------------

bool AmqpConnection::read_frame(Clock::time_point deadline) {
    ensure_open();
    amqp_frame_t frame;
    const timeval wait = until(deadline);
    const int status = amqp_simple_wait_frame_noblock(state_, &frame, &wait);
    if (status == AMQP_STATUS_TIMEOUT) return false;
    if (status != AMQP_STATUS_OK)
        lose(fmt::format("connection to {} lost: {}", endpoint_, describe_status(status, errno)));
    handle_frame(frame);
    // Everything the frame held has been copied out; a connection.close has dropped the state.
    if (state_ != nullptr) amqp_maybe_release_buffers(state_);
    return true;
}

void AmqpConnection::handle_frame(const amqp_frame_t& frame) {
    if (frame.channel == 0) {
        if (frame.frame_type == AMQP_FRAME_METHOD) handle_connection_method(frame.payload.method);
        return;
    }
    // After connection.close only its close-ok matters (AMQP 0-9-1, 2.2.4).
    if (closing_) return;
    auto it = channels_.find(frame.channel);
    if (it == channels_.end()) return;  // a channel already closed: nothing on it matters
    const std::shared_ptr<ChannelState> channel = it->second;

    switch (frame.frame_type) {
        case AMQP_FRAME_METHOD:
            handle_method(channel, frame.payload.method);
            break;
        case AMQP_FRAME_HEADER:
            if (!channel->incoming) break;
            channel->incoming->message().properties = from_amqp(
                *static_cast<const amqp_basic_properties_t*>(frame.payload.properties.decoded));
            channel->incoming->body_size = frame.payload.properties.body_size;
            if (channel->incoming->body_size == 0) complete_content(channel);
            break;
        case AMQP_FRAME_BODY: {
            if (!channel->incoming) break;
            std::string& body = channel->incoming->message().body;
            const amqp_bytes_t& fragment = frame.payload.body_fragment;
            body.append(static_cast<const char*>(fragment.bytes), fragment.len);
            if (body.size() >= channel->incoming->body_size) complete_content(channel);
            break;
        }
        default:
            break;
    }
}

void AmqpConnection::handle_method(const std::shared_ptr<ChannelState>& channel,
                                   const amqp_method_t& method) {
    switch (method.id) {
        case AMQP_BASIC_DELIVER_METHOD: {
            const auto* m = static_cast<const amqp_basic_deliver_t*>(method.decoded);
            channel->incoming = Incoming{Delivery{.delivery_tag = m->delivery_tag,
                                                  .redelivered = m->redelivered != 0,
                                                  .exchange = to_string(m->exchange),
                                                  .routing_key = to_string(m->routing_key),
                                                  .consumer_tag = to_string(m->consumer_tag)}};
            return;
        }
        case AMQP_BASIC_RETURN_METHOD: {
            const auto* m = static_cast<const amqp_basic_return_t*>(method.decoded);
            channel->incoming = Incoming{Returned{.reply_code = m->reply_code,
                                                  .reply_text = to_string(m->reply_text),
                                                  .exchange = to_string(m->exchange),
                                                  .routing_key = to_string(m->routing_key)}};
            return;
        }
        case AMQP_BASIC_ACK_METHOD: {
            const auto* m = static_cast<const amqp_basic_ack_t*>(method.decoded);
            push(channel, Confirm{m->delivery_tag, m->multiple != 0, true});
            return;
        }
        case AMQP_BASIC_NACK_METHOD: {
            const auto* m = static_cast<const amqp_basic_nack_t*>(method.decoded);
            push(channel, Confirm{m->delivery_tag, m->multiple != 0, false});
            return;
        }
        case AMQP_BASIC_CANCEL_METHOD: {
            // The broker cancelled a consumer, e.g. because its queue was deleted.
            const auto* m = static_cast<const amqp_basic_cancel_t*>(method.decoded);
            std::string tag = to_string(m->consumer_tag);
            const bool nowait = m->nowait != 0;
            push(channel, detail::BrokerCancelled{tag});
            if (!nowait) {
                amqp_basic_cancel_ok_t ok{};
                ok.consumer_tag = to_bytes(tag);
                send(channel->id(), AMQP_BASIC_CANCEL_OK_METHOD, &ok);
            }
            return;
        }
        case AMQP_CHANNEL_CLOSE_METHOD: {
            const auto* m = static_cast<const amqp_channel_close_t*>(method.decoded);
            mark_closed(*channel,
                        error_of(m->reply_code, m->reply_text, m->class_id, m->method_id));
            amqp_channel_close_ok_t ok{};
            send(channel->id(), AMQP_CHANNEL_CLOSE_OK_METHOD, &ok);
            return;
        }
        default:
            break;
    }

    PendingCall* pending = channel->pending;
    // An answer nobody waits for (or channel.flow, which RabbitMQ never sends) is ignored.
    if (pending == nullptr || !pending->expects(method.id)) return;
    if (method.id == AMQP_BASIC_GET_OK_METHOD) {
        const auto* m = static_cast<const amqp_basic_get_ok_t*>(method.decoded);
        channel->incoming = Incoming{Delivery{.delivery_tag = m->delivery_tag,
                                              .redelivered = m->redelivered != 0,
                                              .exchange = to_string(m->exchange),
                                              .routing_key = to_string(m->routing_key),
                                              .message_count = m->message_count},
                                     true};
        return;
    }
    if (pending->read) pending->read(method);
    pending->answered = true;
}

void AmqpConnection::handle_connection_method(const amqp_method_t& method) {
    switch (method.id) {
        case AMQP_CONNECTION_CLOSE_METHOD: {
            const auto* m = static_cast<const amqp_connection_close_t*>(method.decoded);
            note_closed(error_of(m->reply_code, m->reply_text, m->class_id, m->method_id));
            amqp_connection_close_ok_t ok{};
            // The broker closes the socket after close-ok; a failure to send it changes nothing.
            amqp_send_method(state_, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
            drop_socket();
            return;
        }
        case AMQP_CONNECTION_CLOSE_OK_METHOD:
            close_ok_received_ = true;
            return;
        default:
            // connection.blocked / unblocked: not asked for in the client capabilities.
            return;
    }
}

void AmqpConnection::complete_content(const std::shared_ptr<ChannelState>& channel) {
    Incoming incoming = std::move(*channel->incoming);
    channel->incoming.reset();
    if (incoming.answers_get) {
        if (channel->pending != nullptr) {
            channel->pending->got = std::move(std::get<Delivery>(incoming.what));
            channel->pending->answered = true;
        }
        return;
    }
    std::visit([&](auto& what) { push(channel, std::move(what)); }, incoming.what);
}

void AmqpConnection::take_in_sent() {
    while (queued_events() < max_batch && is_open() && read_frame(Clock::now())) {
    }
}

}  // namespace
}  // namespace amqp

Connection connect(std::string_view uri) {
    return Connection(amqp::AmqpConnection::open(amqp::parse_uri(uri)));
}

}  // namespace warren
