// The server side of one AMQP 0-9-1 connection as RabbitMQ 3.10.8 runs it, without I/O and
// without a broker: bytes in, bytes out, callbacks for what the peer asks.
//
//   ServerConnection conn(handler, config, now);
//   conn.feed(bytes_read);                 // consumes everything; partial frames are kept
//   write(conn.output()); conn.consume_output(n);
//   if (auto d = conn.next_deadline()) arm a timer for *d, then conn.on_tick(now);
//   if (conn.wants_close() && conn.output().empty()) close the socket;
//   conn.transport_closed() when the peer goes away.
//
// What the engine does itself, as RabbitMQ's reader, command assembler and channel do:
// protocol header check, connection.start with RabbitMQ's capabilities table, SASL PLAIN and
// AMQPLAIN (the credentials go to the handler), tune and its validation, connection.open
// (the vhost goes to the handler), heartbeats, channel open/close bookkeeping, channel_max,
// frame_max, assembling basic.publish with its header and body frames, and every protocol
// error with RabbitMQ's reply code and text: 501 FRAME_ERROR, 502 SYNTAX_ERROR, 503
// COMMAND_INVALID, 504 CHANNEL_ERROR, 505 UNEXPECTED_FRAME, 530 NOT_ALLOWED, 540
// NOT_IMPLEMENTED, 541 INTERNAL_ERROR, 403 ACCESS_REFUSED for a refused login. Where RabbitMQ
// answers nothing and drops the socket (errors before connection.open, an unknown class or
// method id, an unparsable field table), so does the engine.
//
// What it leaves to the layer above (the broker): every exchange, queue, basic, tx and confirm
// method, delivered through ServerHandler, and everything sent back.
//
// Threading: one ServerConnection per socket, used from one thread at a time. Handler
// callbacks run synchronously inside feed(), on_tick() and transport_closed(), on the caller's
// thread; from a callback the handler may call send(), send_content(), close_channel(),
// close_connection(), block() and unblock() (their effect is visible to the frames that
// follow in the same feed), but not feed() or on_tick().
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "warren/protocol/basic_properties.hpp"
#include "warren/protocol/field_value.hpp"
#include "warren/protocol/frame.hpp"
#include "warren/protocol/methods.hpp"
#include "warren/protocol/reply_code.hpp"
#include "warren/protocol/wire.hpp"

namespace warren::protocol {

/// What the server announces and enforces. Defaults are RabbitMQ 3.10's.
struct ServerConfig {
    // connection.start server properties; the capabilities table is RabbitMQ's, always.
    std::string product = "warren";
    std::string version = "0.1.0";
    std::string platform = "C++20";
    std::string copyright = "Copyright (c) the warren authors";
    std::string information = "warren, an embedded RabbitMQ emulator";
    std::string cluster_name = "warren";
    /// Offered mechanisms, in the order announced; PLAIN and AMQPLAIN are implemented.
    std::vector<std::string> mechanisms = {"PLAIN", "AMQPLAIN"};
    /// connection.tune; 0 means no limit (channel_max, frame_max) or no heartbeat.
    std::uint16_t channel_max = default_channel_max;
    std::uint32_t frame_max = 131072;
    std::uint16_t heartbeat = 60;
    /// rabbit.max_message_size: larger publishes close the channel with 406.
    std::uint64_t max_message_size = 134217728;
    /// rabbit.handshake_timeout: from the first byte to connection.open-ok.
    std::chrono::milliseconds handshake_timeout{10000};
    /// How long RabbitMQ lingers before dropping a socket after a handshake error or a fatal
    /// frame error (rabbit_reader's 3-second pauses). Tests may set it to zero.
    std::chrono::milliseconds silent_close_delay{3000};
};

/// The login the peer presented in connection.start-ok.
struct Credentials {
    std::string mechanism;  // "PLAIN" or "AMQPLAIN"
    std::string username;
    std::string password;
};

/// The connection as negotiated, reported once connection.open-ok is sent.
struct ConnectionInfo {
    std::string user;
    std::string vhost;
    std::string mechanism;
    FieldTable client_properties;
    std::uint16_t channel_max = 0;  // the peer's tune-ok values, which RabbitMQ adopts
    std::uint32_t frame_max = 0;
    std::uint16_t heartbeat = 0;
};

/// Why a connection ended; `error` is the connection.close sent or received (none for a
/// dropped transport or a missed heartbeat).
struct ConnectionEnd {
    enum class Cause {
        peer_closed,        // the peer sent connection.close
        server_closed,      // close_connection() was called
        protocol_error,     // the engine closed it: `error` says why (code 0 when silent)
        heartbeat_timeout,  // nothing received for two heartbeat intervals
        transport_closed,   // transport_closed() was called
    };
    Cause cause = Cause::transport_closed;
    std::optional<AmqpError> error = std::nullopt;
};

/// Why a channel ended.
struct ChannelEnd {
    /// True when the peer sent channel.close (then `error` holds its code, text and method);
    /// false when the peer acknowledged the close_channel() the layer above asked for.
    bool by_peer = false;
    AmqpError error;
};

/// The layer above. Callbacks run synchronously inside feed() / on_tick().
class ServerHandler {
public:
    virtual ~ServerHandler() = default;

    /// connection.start-ok: true admits the login. A refused login closes the connection with
    /// 403 "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For
    /// details see the broker logfile." when the client announced authentication_failure_close,
    /// and silently otherwise, as RabbitMQ does.
    virtual bool authenticate(const Credentials& credentials) = 0;

    /// connection.open: nothing admits the vhost; an error closes the connection with it
    /// (RabbitMQ: 530 "NOT_ALLOWED - vhost nope not found", 403 "ACCESS_REFUSED - access to
    /// vhost 'v' refused for user 'u'"). A method of none becomes connection.open.
    virtual std::optional<AmqpError> open_vhost(const std::string& user,
                                                const std::string& vhost) = 0;

    /// connection.update-secret: nothing accepts it (update-secret-ok is sent); an error
    /// closes the connection (RabbitMQ: 530 "NOT_ALLOWED - New secret was refused by one of
    /// the backends").
    virtual std::optional<AmqpError> update_secret(const std::string& /*new_secret*/,
                                                   const std::string& /*reason*/) {
        return std::nullopt;
    }

    /// connection.open-ok was sent.
    virtual void on_connection_opened(const ConnectionInfo& /*info*/) {}

    /// channel.open-ok was sent for `channel`.
    virtual void on_channel_opened(std::uint16_t /*channel*/) {}

    /// A method for the broker on an open channel: exchange.*, queue.*, basic.qos / consume /
    /// cancel / get / ack / reject / recover-async / recover / nack / credit, tx.*,
    /// confirm.select. Never connection.*, channel.*, access.* or basic.publish.
    virtual void on_method(std::uint16_t channel, Method&& method) = 0;

    /// basic.publish with its content, assembled from the method, header and body frames.
    /// `encoded_properties` are the header's property flags and list as they came (valid
    /// during the call): RabbitMQ keeps them and sends them back unchanged in deliveries
    /// unless it changes the properties.
    virtual void on_publish(std::uint16_t channel, BasicPublish&& method, Message&& message,
                            ByteView encoded_properties) = 0;

    /// A content header or body frame on `channel` was taken in (after on_publish when it
    /// completed one): where RabbitMQ's reader blocks a publishing connection under an alarm.
    virtual void on_content_frame(std::uint16_t /*channel*/) {}

    /// `channel` is gone (the close-ok, if one was due, is already sent); its number may be
    /// opened again.
    virtual void on_channel_closed(std::uint16_t /*channel*/, const ChannelEnd& /*end*/) {}

    /// The connection ended, with all its channels. Called at most once, and only after
    /// on_connection_opened.
    virtual void on_connection_closed(const ConnectionEnd& /*end*/) {}
};

/// Errors of the calls the layer above makes.
enum class EngineError {
    connection_not_open = 1,  // before connection.open-ok, or once closing
    channel_not_open,         // never opened, closed, or closing
    not_a_content_method,     // send_content() with a method that carries no content
};

const std::error_category& engine_category() noexcept;
std::error_code make_error_code(EngineError e) noexcept;

class ServerConnection {
public:
    using Clock = std::chrono::steady_clock;

    /// `now` starts the handshake timeout. The handler must outlive the connection.
    explicit ServerConnection(ServerHandler& handler, ServerConfig config = {},
                              Clock::time_point now = Clock::now());

    ServerConnection(const ServerConnection&) = delete;
    ServerConnection& operator=(const ServerConnection&) = delete;

    // ---- input ----------------------------------------------------------------------------

    /// Takes bytes read from the peer; returns how many were consumed, which is always all of
    /// them (a partial frame waits inside, bounded by frame_max; bytes after the connection
    /// has ended are discarded).
    std::size_t feed(ByteView bytes);
    std::size_t feed(std::string_view bytes) { return feed(as_bytes(bytes)); }

    /// Timers: the handshake timeout, heartbeats (RabbitMQ's sampling: a heartbeat goes out
    /// when nothing was sent for half the interval; the peer is dead when nothing arrived in
    /// two consecutive intervals), and the delayed close after errors.
    void on_tick(Clock::time_point now);
    /// When on_tick() wants calling; Clock::time_point::min() means now (a timer has just
    /// been started and is anchored at the next tick). Empty when no timer runs.
    std::optional<Clock::time_point> next_deadline() const noexcept;

    /// The transport is gone (end of stream or error).
    void transport_closed();

    // ---- output ---------------------------------------------------------------------------

    /// Bytes to write to the peer, in order.
    ByteView output() const noexcept { return {out_.data() + out_begin_, out_.size() - out_begin_}; }
    /// Drops the first `n` bytes of output() once written.
    void consume_output(std::size_t n) noexcept;
    /// True when the transport should be closed once output() is written. When the engine
    /// drops a connection the way RabbitMQ's crashing reader does, output() is emptied first.
    bool wants_close() const noexcept { return wants_close_; }

    // ---- calls from the layer above ---------------------------------------------------------

    /// Sends a method without content on an open channel (1..65535).
    std::error_code send(std::uint16_t channel, const Method& method);
    /// Sends basic.deliver, basic.get-ok or basic.return with its header and body frames,
    /// the body split by the negotiated frame_max.
    /// Non-empty `encoded_properties` (flags and list) go out verbatim in place of
    /// `properties` re-encoded.
    std::error_code send_content(std::uint16_t channel, const Method& method,
                                 const BasicProperties& properties, std::string_view body,
                                 ByteView encoded_properties = {});
    /// Closes a channel with a soft error (channel.close). Until the peer's close-ok the
    /// channel ignores what the peer sends, as RabbitMQ's closing channel does; then
    /// on_channel_closed() tells the number is free.
    std::error_code close_channel(std::uint16_t channel, const AmqpError& error);
    /// Closes the connection (connection.close; 320 CONNECTION_FORCED for a shutdown).
    void close_connection(const AmqpError& error);
    /// connection.blocked / unblocked, sent only to clients announcing the connection.blocked
    /// capability (rabbit_reader:send_blocked).
    void block(std::string_view reason);
    void unblock();

    // ---- state ----------------------------------------------------------------------------

    /// True from connection.open-ok until the connection starts closing.
    bool is_open() const noexcept { return phase_ == Phase::running; }
    /// True when `channel` is open (not closing).
    bool is_channel_open(std::uint16_t channel) const noexcept;
    const ConnectionInfo& info() const noexcept { return info_; }
    /// The peer's capabilities table says `name` is true.
    bool client_capability(std::string_view name) const noexcept;
    /// The connection.start properties this server sends.
    FieldTable server_properties() const;

private:
    enum class Phase { awaiting_header, starting, tuning, opening, running, closing, closed };
    enum class ChannelPhase { awaiting_open, open, closing };
    enum class Expect { method, header, body };

    struct Channel {
        ChannelPhase phase = ChannelPhase::awaiting_open;
        Expect expect = Expect::method;
        Method pending;                 // the content method being assembled
        MethodId pending_id;
        Bytes properties;               // undecoded, as RabbitMQ keeps them
        std::uint64_t body_size = 0;
        std::uint64_t body_received = 0;
        bool discard_body = false;      // over max_message_size, or more than announced
        std::string body;
        AmqpError close_sent;           // what close_channel() sent, for on_channel_closed
    };

    using Duration = std::chrono::milliseconds;

    struct Timer {
        std::optional<Duration> pending;  // anchored at the next tick
        std::optional<Clock::time_point> at;
        void start(Duration d) { pending = d, at.reset(); }
        void stop() { pending.reset(), at.reset(); }
        bool running() const { return pending || at; }
    };

    void take_protocol_header(ByteView bytes, std::size_t& used);
    void handle_frame(std::uint8_t type, std::uint16_t channel, ByteView payload);
    void handle_frame_while_closing(std::uint8_t type, std::uint16_t channel, ByteView payload);
    void handle_channel0_frame(std::uint8_t type, ByteView payload);
    void handle_channel_frame(std::uint8_t type, std::uint16_t number, ByteView payload);
    void handle_decoder_error();

    void handle_connection_method(Method&& method);
    void handle_start_ok(ConnectionStartOk&& m);
    void handle_tune_ok(const ConnectionTuneOk& m);
    void handle_open(const ConnectionOpen& m);

    void content_method(Channel& ch, Method&& method, MethodId id);
    void content_header(std::uint16_t number, Channel& ch, ByteView payload);
    void content_body(std::uint16_t number, Channel& ch, ByteView payload);
    void content_frame_taken(std::uint16_t number);
    void content_complete(std::uint16_t number, Channel& ch);
    void channel_method(std::uint16_t number, Channel& ch, Method&& method);
    void publish(std::uint16_t number, Channel& ch, BasicPublish&& method, Message&& message);

    /// rabbit_reader:handle_exception: connection.close after the handshake, else a silent
    /// drop after the linger delay. `fatal` adds RabbitMQ's pause after a fatal frame error.
    void fail(const AmqpError& error, bool fatal = false);
    /// The connection process crashes in RabbitMQ: the socket closes at once, and output not
    /// yet taken is discarded.
    void drop();
    void send_connection_close(const AmqpError& error, ConnectionEnd::Cause cause);
    void end_connection(ConnectionEnd::Cause cause, std::optional<AmqpError> error);
    void linger_then_close();
    Duration close_ok_wait() const;

    void write_method(std::uint16_t channel, const Method& m);
    void write_heartbeat();
    void stop_heartbeats();

    ServerHandler& handler_;
    ServerConfig config_;
    Phase phase_ = Phase::awaiting_header;
    bool opened_ = false;    // on_connection_opened was called
    bool ended_ = false;     // on_connection_closed was called
    bool wants_close_ = false;

    std::uint8_t header_bytes_[8] = {};
    std::size_t header_have_ = 0;
    FrameDecoder decoder_{frame_min_size};
    std::unordered_map<std::uint16_t, Channel> channels_;
    Bytes published_properties_;  // the encoded properties on_publish is given, swapped in

    ConnectionInfo info_;

    Bytes out_;
    std::size_t out_begin_ = 0;

    // RabbitMQ's heartbeat sampling (rabbit_heartbeat) over byte counters.
    std::uint64_t bytes_received_ = 0;
    std::uint64_t bytes_sent_ = 0;
    std::uint64_t sent_sample_ = 0;
    bool sent_sampled_ = false;
    std::uint64_t received_sample_ = 0;
    int received_same_ = 0;
    Timer handshake_timer_;
    Timer send_timer_;
    Timer receive_timer_;
    Timer close_timer_;
    std::chrono::seconds timeout_ = std::chrono::seconds(3);  // rabbit_reader's timeout_sec
};

}  // namespace warren::protocol

template <>
struct std::is_error_code_enum<warren::protocol::EngineError> : std::true_type {};
