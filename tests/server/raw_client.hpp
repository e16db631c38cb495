// Test support for warren-server: a server running in-process on an ephemeral port (its
// io_context on a thread), and a scripted AMQP client over a real socket that sends exactly
// the bytes a test gives and checks what arrives:
//
//   RunningServer server;
//   RawClient c(server.port());
//   c.handshake();
//   c.open_channel(1);
//   c.send(1, p::QueueDeclare{.queue = "q"});
//   CHECK(c.expect<p::QueueDeclareOk>(1).queue == "q");
//   c.expect_close(504, "CHANNEL_ERROR - expected 'channel.open'", {60, 10});
#pragma once

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "warren/protocol/content_header.hpp"
#include "warren/protocol/frame.hpp"
#include "warren/protocol/methods.hpp"
#include "warren/server/server.hpp"

namespace warren::test {

namespace p = warren::protocol;
namespace ws = warren::server;
using namespace std::chrono_literals;

/// Options for a test server: quiet, and without RabbitMQ's 3-second pauses before dropping a
/// socket after an error (they change when the socket closes, not what is sent).
inline ws::ServerOptions test_server_options() {
    ws::ServerOptions o;
    o.port = 0;
    o.amqp.silent_close_delay = 0ms;
    o.shutdown_grace = 1000ms;
    return o;
}

/// A Server on its own io_context thread. `call` runs a function on that thread and waits.
class RunningServer {
public:
    explicit RunningServer(ws::ServerOptions options = test_server_options()) {
        options.log_sink = [this](std::string_view line) {
            std::lock_guard lock(log_mutex_);
            log_.emplace_back(line);
        };
        server_ = std::make_unique<ws::Server>(io_, std::move(options));
        server_->start();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~RunningServer() {
        guard_.reset();
        io_.stop();
        thread_.join();
        server_.reset();
    }
    RunningServer(const RunningServer&) = delete;
    RunningServer& operator=(const RunningServer&) = delete;

    std::uint16_t port() const { return server_->port(); }
    ws::Server& server() { return *server_; }

    template <class F>
    auto call(F f) -> decltype(f()) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto result = task.get_future();
        boost::asio::post(io_, [&task] { task(); });
        return result.get();
    }

    std::vector<std::string> log_lines() {
        std::lock_guard lock(log_mutex_);
        return log_;
    }
    bool logged(std::string_view fragment) {
        for (const auto& l : log_lines())
            if (l.find(fragment) != std::string::npos) return true;
        return false;
    }

    /// Polls `condition` (on the calling thread: it uses call() to look at the server, a round
    /// trip through the server's executor that paces the loop) until it holds or `timeout`
    /// passes.
    template <class F>
    bool eventually(F condition, std::chrono::milliseconds timeout = 5000ms) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (condition()) return true;
            std::this_thread::yield();
        }
        return condition();
    }

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{io_.get_executor()};
    std::unique_ptr<ws::Server> server_;
    std::thread thread_;
    std::mutex log_mutex_;
    std::vector<std::string> log_;
};

struct Frame {
    std::uint8_t type = 0;
    std::uint16_t channel = 0;
    p::Bytes payload;
};

/// A method with its content, when it carries one.
template <class M>
struct WithContent {
    M method;
    BasicProperties properties;
    std::string body;
    p::Bytes encoded_properties = {};  // the header's property flags and list, as they came
};

struct HandshakeOptions {
    std::string user = "guest";
    std::string password = "guest";
    std::string vhost = "/";
    std::uint16_t heartbeat = 0;
    std::uint32_t frame_max = 131072;
    FieldTable capabilities = FieldTable{{"authentication_failure_close", true},
                                         {"consumer_cancel_notify", true},
                                         {"connection.blocked", true}};
};

class RawClient {
public:
    /// Connects to host:port; `receive_buffer` > 0 sets SO_RCVBUF first (a slow reader's
    /// small window).
    explicit RawClient(std::uint16_t port, const std::string& host = "127.0.0.1", int receive_buffer = 0) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fd_ >= 0);
        if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
        int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        REQUIRE(::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) == 1);
        REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    }
    ~RawClient() {
        if (fd_ >= 0) ::close(fd_);
    }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    // ---- sending ----
    void send_bytes(p::ByteView bytes) {
        std::size_t sent = 0;
        while (sent < bytes.size()) {
            const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            REQUIRE(n > 0);
            sent += static_cast<std::size_t>(n);
        }
    }
    void send_bytes(std::string_view bytes) { send_bytes(p::as_bytes(bytes)); }
    void send(std::uint16_t channel, const p::Method& m) {
        p::Bytes out;
        REQUIRE_FALSE(p::encode_method_frame(channel, m, out));
        send_bytes(out);
    }
    void publish(std::uint16_t channel, std::string exchange, std::string routing_key, std::string_view body,
                 const BasicProperties& properties = {}, bool mandatory = false) {
        p::Bytes out;
        p::BasicPublish m;
        m.exchange = std::move(exchange);
        m.routing_key = std::move(routing_key);
        m.mandatory = mandatory;
        REQUIRE_FALSE(p::encode_method_frame(channel, m, out));
        REQUIRE_FALSE(p::encode_content_frames(channel, properties, body, frame_max_, out));
        send_bytes(out);
    }
    /// basic.publish whose content header carries `encoded_properties` (flags and list) as given.
    void publish_encoded(std::uint16_t channel, std::string exchange, std::string routing_key,
                         std::string_view body, p::ByteView encoded_properties, bool mandatory = false) {
        p::Bytes out;
        p::BasicPublish m;
        m.exchange = std::move(exchange);
        m.routing_key = std::move(routing_key);
        m.mandatory = mandatory;
        REQUIRE_FALSE(p::encode_method_frame(channel, m, out));
        REQUIRE_FALSE(p::encode_content_frames(channel, {}, encoded_properties, body, frame_max_, out));
        send_bytes(out);
    }
    void send_heartbeat() {
        p::Bytes out;
        p::encode_heartbeat_frame(out);
        send_bytes(out);
    }

    // ---- receiving ----
    /// The next frame, or nullopt when the peer closed the socket or nothing came in time.
    std::optional<Frame> read_frame(std::chrono::milliseconds timeout = 5000ms) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (decoder_.ready()) {
                Frame f{decoder_.header().type, decoder_.header().channel,
                        p::Bytes(decoder_.payload().begin(), decoder_.payload().end())};
                decoder_.next();
                if (f.type == p::frame_type::heartbeat) ++heartbeats_;
                return f;
            }
            if (pending_begin_ < pending_.size()) {
                pending_begin_ += decoder_.feed(p::ByteView(pending_).subspan(pending_begin_));
                REQUIRE_FALSE(decoder_.error());
                continue;
            }
            pending_.clear();
            pending_begin_ = 0;
            if (!read_some(deadline)) return std::nullopt;
        }
    }
    /// Raw bytes (before any frame, e.g. the protocol header a server answers a wrong one with).
    std::string read_bytes(std::size_t n, std::chrono::milliseconds timeout = 5000ms) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (pending_.size() - pending_begin_ < n)
            if (!read_some(deadline)) break;
        const std::size_t take = std::min(n, pending_.size() - pending_begin_);
        std::string out(reinterpret_cast<const char*>(pending_.data() + pending_begin_), take);
        pending_begin_ += take;
        return out;
    }
    /// The next method, heartbeats skipped; fails the test on anything else.
    std::pair<std::uint16_t, p::Method> read_method(std::chrono::milliseconds timeout = 5000ms) {
        for (;;) {
            auto f = read_frame(timeout);
            REQUIRE(f.has_value());
            if (f->type == p::frame_type::heartbeat) continue;
            REQUIRE(int(f->type) == int(p::frame_type::method));
            auto decoded = p::decode_method(f->payload);
            REQUIRE_FALSE(decoded.error);
            return {f->channel, std::move(decoded.value)};
        }
    }
    template <class M>
    M expect(std::uint16_t channel, std::chrono::milliseconds timeout = 5000ms) {
        auto [ch, m] = read_method(timeout);
        INFO("received " << p::method_name(p::method_id(m)) << " on channel " << ch << ", expected "
                         << p::method_name(M::id) << " on channel " << channel);
        REQUIRE(std::holds_alternative<M>(m));
        REQUIRE(ch == channel);
        return std::get<M>(std::move(m));
    }
    /// A content-carrying method with its header and body frames.
    template <class M>
    WithContent<M> expect_content(std::uint16_t channel, std::chrono::milliseconds timeout = 5000ms) {
        WithContent<M> out{expect<M>(channel, timeout), {}, {}, {}};
        auto header = read_frame(timeout);
        REQUIRE(header.has_value());
        REQUIRE(int(header->type) == int(p::frame_type::header));
        auto h = p::decode_content_header(header->payload);
        REQUIRE_FALSE(h.error);
        out.properties = h.value.properties;
        const p::ByteView encoded = p::split_content_header(header->payload).value.properties;
        out.encoded_properties.assign(encoded.begin(), encoded.end());
        while (out.body.size() < h.value.body_size) {
            auto body = read_frame(timeout);
            REQUIRE(body.has_value());
            REQUIRE(int(body->type) == int(p::frame_type::body));
            out.body.append(p::as_chars(body->payload));
        }
        return out;
    }
    /// connection.close with this code, text and method; answers close-ok, expects the socket
    /// to close and hangs up.
    void expect_close(std::uint16_t code, std::string_view text, MethodId method = method::none) {
        auto close = expect<p::ConnectionClose>(0);
        CHECK(close.reply_code == code);
        CHECK(close.reply_text == text);
        CHECK(close.class_id == method.class_id);
        CHECK(close.method_id == method.method_id);
        send(0, p::ConnectionCloseOk{});
        CHECK(closed_by_peer());
        hang_up();
    }
    /// channel.close with this code, text and method; answers close-ok.
    void expect_channel_close(std::uint16_t channel, std::uint16_t code, std::string_view text, MethodId method) {
        auto close = expect<p::ChannelClose>(channel);
        CHECK(close.reply_code == code);
        CHECK(close.reply_text == text);
        CHECK(close.class_id == method.class_id);
        CHECK(close.method_id == method.method_id);
        send(channel, p::ChannelCloseOk{});
    }
    /// True when the peer closes the socket (frames sent before are skipped) within `timeout`.
    bool closed_by_peer(std::chrono::milliseconds timeout = 5000ms) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!eof_ && std::chrono::steady_clock::now() < deadline) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (!read_frame(std::max(left, 1ms)) && !eof_) break;
        }
        return eof_;
    }
    /// Sends this end's FIN, as a client does once the connection is closed: the server, which
    /// after its close waits for the client's FIN (at most a second) before it drops the socket
    /// and the session, then drops them at once.
    void hang_up() { ::shutdown(fd_, SHUT_WR); }
    /// True when nothing (but heartbeats) arrives before the answer to a request sent now:
    /// basic.qos with prefetch 0 on `channel` (open, and without a prefetch limit of its own,
    /// so that the request changes nothing), and qos-ok must be the next frame. warren-server
    /// handles a connection's input in order and writes its output in order, so whatever it
    /// sent because of anything before (an earlier frame on this connection, or a server event
    /// the test has already observed through RunningServer::call) arrives before qos-ok: an
    /// absence checked without a quiet window.
    bool nothing_before_round_trip(std::uint16_t channel) {
        send(channel, p::BasicQos{});
        for (;;) {
            auto f = read_frame();
            if (!f) return false;
            if (f->type == p::frame_type::heartbeat) continue;
            if (f->type != p::frame_type::method) {
                UNSCOPED_INFO("received a frame of type " << int(f->type) << " on channel " << f->channel);
                return false;
            }
            auto decoded = p::decode_method(f->payload);
            REQUIRE_FALSE(decoded.error);
            if (f->channel == channel && std::holds_alternative<p::BasicQosOk>(decoded.value)) return true;
            UNSCOPED_INFO("received " << p::method_name(p::method_id(decoded.value)) << " on channel "
                                      << f->channel << " before basic.qos-ok");
            return false;
        }
    }
    /// Nothing (but heartbeats) arrives within `quiet`, and the socket stays open. Only for
    /// absences about time itself (a timer that must not fire yet); an absence that follows
    /// from an earlier frame is nothing_before_round_trip.
    bool nothing_arrives(std::chrono::milliseconds quiet) {
        const auto deadline = std::chrono::steady_clock::now() + quiet;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return !eof_;
            auto f = read_frame(left);
            if (!f) return !eof_;
            if (f->type != p::frame_type::heartbeat) return false;
        }
    }

    // ---- conversations ----
    /// Protocol header through connection.open-ok. Returns the tune the server proposed.
    p::ConnectionTune handshake(const HandshakeOptions& o = {}) {
        start(o);
        auto tune = expect<p::ConnectionTune>(0);
        finish_handshake(o);
        expect<p::ConnectionOpenOk>(0);
        return tune;
    }
    /// Protocol header and start-ok: the answer (tune, or a refusal) is left to the test.
    void start(const HandshakeOptions& o = {}) {
        send_bytes(std::string_view("AMQP\x00\x00\x09\x01", 8));
        expect<p::ConnectionStart>(0);
        p::ConnectionStartOk ok;
        ok.client_properties = FieldTable{{"product", "warren-tests"}, {"capabilities", o.capabilities}};
        ok.mechanism = "PLAIN";
        ok.response = std::string(1, '\0') + o.user + std::string(1, '\0') + o.password;
        send(0, ok);
    }
    void finish_handshake(const HandshakeOptions& o = {}) {
        frame_max_ = o.frame_max;
        send(0, p::ConnectionTuneOk{2047, o.frame_max, o.heartbeat});
        send(0, p::ConnectionOpen{o.vhost, "", false});
    }
    void open_channel(std::uint16_t channel) {
        send(channel, p::ChannelOpen{});
        expect<p::ChannelOpenOk>(channel);
    }
    /// connection.close from the client, close-ok, the server's FIN, and this end's.
    void close() {
        send(0, p::ConnectionClose{200, "bye", 0, 0});
        expect<p::ConnectionCloseOk>(0);
        CHECK(closed_by_peer());
        hang_up();
    }
    /// Stops reading (and writing): a peer that hangs.
    int fd() const { return fd_; }
    int heartbeats_received() const { return heartbeats_; }

private:
    bool read_some(std::chrono::steady_clock::time_point deadline) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd pfd{fd_, POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
        std::uint8_t buf[65536];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) {
            eof_ = true;
            return false;
        }
        pending_.insert(pending_.end(), buf, buf + n);
        return true;
    }

    int fd_ = -1;
    p::FrameDecoder decoder_{0};
    p::Bytes pending_;
    std::size_t pending_begin_ = 0;
    bool eof_ = false;
    int heartbeats_ = 0;
    std::uint32_t frame_max_ = 131072;
};

/// Opens a fresh connection and checks the server still serves: declare, publish, get.
inline void check_still_serving(std::uint16_t port, const std::string& queue = "still-serving") {
    RawClient c(port);
    c.handshake();
    c.open_channel(1);
    p::QueueDeclare declare;
    declare.queue = queue;
    c.send(1, declare);
    CHECK(c.expect<p::QueueDeclareOk>(1).queue == queue);
    c.publish(1, "", queue, "ping");
    p::BasicGet get;
    get.queue = queue;
    get.no_ack = true;
    c.send(1, get);
    auto got = c.expect_content<p::BasicGetOk>(1);
    CHECK(got.body == "ping");
    c.close();
}

}  // namespace warren::test
