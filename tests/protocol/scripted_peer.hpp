// A scripted AMQP client for ServerConnection tests: it sends frames the way a client would,
// and checks what the engine answers, step by step:
//
//   peer.expect<ConnectionStart>().reply_with(ConnectionStartOk{...});
//   peer.expect_close(504, "CHANNEL_ERROR - expected 'channel.open'", {60, 10});
//
// Time is a manual clock (`advance`). Bytes go to the engine whole, or one at a time when
// `byte_by_byte` is set, which every scenario can be replayed with.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "warren/protocol/content_header.hpp"
#include "warren/protocol/frame.hpp"
#include "warren/protocol/methods.hpp"
#include "warren/protocol/server_connection.hpp"

namespace warren::test {

namespace p = warren::protocol;

/// Records every callback; admits guest/guest and the vhost "/".
struct RecordingHandler : p::ServerHandler {
    std::string user = "guest";
    std::string password = "guest";
    std::set<std::string> vhosts = {"/"};

    std::vector<p::Credentials> logins;
    std::optional<p::ConnectionInfo> opened;
    std::vector<std::uint16_t> channels_opened;
    std::vector<std::pair<std::uint16_t, p::Method>> methods;
    std::vector<std::tuple<std::uint16_t, p::BasicPublish, Message>> publishes;
    std::vector<p::Bytes> published_properties;  // each publish's flags and list, as sent
    std::vector<std::pair<std::uint16_t, p::ChannelEnd>> channels_closed;
    std::vector<p::ConnectionEnd> ends;
    std::vector<std::pair<std::string, std::string>> secrets;

    bool authenticate(const p::Credentials& c) override {
        logins.push_back(c);
        return c.username == user && c.password == password;
    }
    std::optional<AmqpError> open_vhost(const std::string&, const std::string& vhost) override {
        if (vhosts.count(vhost)) return std::nullopt;
        return AmqpError::format(ReplyCode::NotAllowed, method::none, "vhost {} not found", vhost);
    }
    std::optional<AmqpError> update_secret(const std::string& secret,
                                           const std::string& reason) override {
        secrets.emplace_back(secret, reason);
        return std::nullopt;
    }
    void on_connection_opened(const p::ConnectionInfo& info) override { opened = info; }
    void on_channel_opened(std::uint16_t ch) override { channels_opened.push_back(ch); }
    void on_method(std::uint16_t ch, p::Method&& m) override { methods.emplace_back(ch, std::move(m)); }
    void on_publish(std::uint16_t ch, p::BasicPublish&& m, Message&& msg, p::ByteView encoded) override {
        publishes.emplace_back(ch, std::move(m), std::move(msg));
        published_properties.emplace_back(encoded.begin(), encoded.end());
    }
    void on_channel_closed(std::uint16_t ch, const p::ChannelEnd& end) override {
        channels_closed.emplace_back(ch, end);
    }
    void on_connection_closed(const p::ConnectionEnd& end) override { ends.push_back(end); }
};

/// A frame the engine sent.
struct SentFrame {
    std::uint8_t type = 0;
    std::uint16_t channel = 0;
    p::Bytes payload;
};

inline p::ServerConfig test_config() {
    p::ServerConfig c;
    c.cluster_name = "test-cluster";
    return c;
}

inline FieldTable client_properties(bool authentication_failure_close = true,
                                    bool connection_blocked = true) {
    FieldTable caps{{"authentication_failure_close", authentication_failure_close},
                    {"connection.blocked", connection_blocked},
                    {"publisher_confirms", true}};
    return FieldTable{{"product", "scripted-peer"}, {"capabilities", std::move(caps)}};
}

inline std::string plain_response(std::string_view user, std::string_view password) {
    std::string r;
    r += '\0';
    r += user;
    r += '\0';
    r += password;
    return r;
}

class ScriptedPeer {
public:
    using Clock = p::ServerConnection::Clock;

    explicit ScriptedPeer(p::ServerConfig config = test_config())
        : now(Clock::time_point{} + std::chrono::hours(1)), conn(handler, std::move(config), now) {}

    RecordingHandler handler;
    Clock::time_point now;
    p::ServerConnection conn;
    bool byte_by_byte = false;

    // ---- client to server ---------------------------------------------------------------

    ScriptedPeer& send_raw(std::string_view bytes) {
        if (byte_by_byte) {
            for (const char c : bytes) REQUIRE(conn.feed(std::string_view(&c, 1)) == 1);
        } else {
            REQUIRE(conn.feed(bytes) == bytes.size());
        }
        return *this;
    }
    ScriptedPeer& send_raw(const p::Bytes& bytes) { return send_raw(p::as_chars(bytes)); }

    ScriptedPeer& send_frame(std::uint8_t type, std::uint16_t channel, std::string_view payload,
                             std::uint8_t end = p::frame_end) {
        p::Bytes b;
        REQUIRE_FALSE(p::encode_frame(type, channel, p::as_bytes(payload), b));
        b.back() = end;
        return send_raw(b);
    }
    ScriptedPeer& send(std::uint16_t channel, const p::Method& m) {
        p::Bytes b;
        REQUIRE_FALSE(p::encode_method_frame(channel, m, b));
        return send_raw(b);
    }
    ScriptedPeer& send(const p::Method& m) { return send(0, m); }
    /// A method frame whose arguments are given raw.
    ScriptedPeer& send_method_bytes(std::uint16_t channel, MethodId id, std::string_view args) {
        std::string payload;
        payload += static_cast<char>(id.class_id >> 8);
        payload += static_cast<char>(id.class_id & 0xff);
        payload += static_cast<char>(id.method_id >> 8);
        payload += static_cast<char>(id.method_id & 0xff);
        payload += args;
        return send_frame(p::frame_type::method, channel, payload);
    }
    ScriptedPeer& send_header(std::uint16_t channel, std::uint64_t body_size,
                              const BasicProperties& props = {}, std::uint16_t class_id = 60,
                              std::uint16_t weight = 0) {
        p::Bytes payload;
        REQUIRE_FALSE(p::encode(p::ContentHeader{class_id, weight, body_size, props}, payload));
        return send_frame(p::frame_type::header, channel, p::as_chars(payload));
    }
    ScriptedPeer& send_body(std::uint16_t channel, std::string_view body) {
        return send_frame(p::frame_type::body, channel, body);
    }
    ScriptedPeer& publish(std::uint16_t channel, p::BasicPublish m, const BasicProperties& props,
                          std::string_view body, std::size_t chunk = 131064) {
        send(channel, m);
        send_header(channel, body.size(), props);
        for (std::size_t at = 0; at < body.size(); at += chunk) send_body(channel, body.substr(at, chunk));
        return *this;
    }

    // ---- server to client ---------------------------------------------------------------

    /// Every complete frame the engine has written since the last call.
    std::deque<SentFrame> drain() {
        const auto out = conn.output();
        std::size_t used = 0;
        while (used < out.size()) {
            used += decoder_.feed(out.subspan(used));
            REQUIRE_FALSE(decoder_.error());
            if (decoder_.ready()) {
                const auto& h = decoder_.header();
                const auto payload = decoder_.payload();
                pending_.push_back({h.type, h.channel, p::Bytes(payload.begin(), payload.end())});
                decoder_.next();
            }
        }
        conn.consume_output(out.size());
        return std::exchange(pending_, {});
    }

    /// The next frame the engine sent.
    SentFrame next_frame() {
        if (queue_.empty()) queue_ = drain();
        REQUIRE_FALSE(queue_.empty());
        SentFrame f = std::move(queue_.front());
        queue_.pop_front();
        return f;
    }

    /// The next frame must be a method on `channel`.
    p::Method next_method(std::uint16_t channel = 0) {
        SentFrame f = next_frame();
        INFO("frame type " << int(f.type) << " on channel " << f.channel);
        REQUIRE(f.type == p::frame_type::method);
        REQUIRE(f.channel == channel);
        auto d = p::decode_method(f.payload);
        REQUIRE_FALSE(d.error);
        return std::move(d.value);
    }

    struct Expected;

    /// The next frame must be method T on `channel`.
    template <class T>
    T expect(std::uint16_t channel = 0);

    template <class T>
    Expected expect_then(std::uint16_t channel = 0);

    /// The next frame must be connection.close with exactly this code, text and method.
    void expect_close(std::uint16_t code, const std::string& text, MethodId failed = method::none) {
        const auto close = expect<p::ConnectionClose>(0);
        CHECK(close.reply_code == code);
        CHECK(close.reply_text == text);
        CHECK(close.class_id == failed.class_id);
        CHECK(close.method_id == failed.method_id);
    }
    void expect_channel_close(std::uint16_t channel, std::uint16_t code, const std::string& text,
                              MethodId failed = method::none) {
        const auto close = expect<p::ChannelClose>(channel);
        CHECK(close.reply_code == code);
        CHECK(close.reply_text == text);
        CHECK(close.class_id == failed.class_id);
        CHECK(close.method_id == failed.method_id);
    }

    /// Nothing more was written.
    void expect_nothing() {
        if (queue_.empty()) queue_ = drain();
        CHECK(queue_.empty());
        CHECK(conn.output().empty());
    }

    /// The engine dropped the connection without a word: nothing written, socket to close.
    void expect_dropped() {
        expect_nothing();
        CHECK(conn.wants_close());
    }

    /// A silent close after RabbitMQ's linger: nothing written, the socket closes only once
    /// the delay has passed.
    void expect_silent_close_after_linger() {
        expect_nothing();
        CHECK_FALSE(conn.wants_close());
        tick();
        CHECK_FALSE(conn.wants_close());
        advance(std::chrono::milliseconds(2999));
        CHECK_FALSE(conn.wants_close());
        advance(std::chrono::milliseconds(1));
        CHECK(conn.wants_close());
        expect_nothing();
    }

    // ---- time -----------------------------------------------------------------------------

    void tick() { conn.on_tick(now); }
    void advance(std::chrono::milliseconds d) {
        now += d;
        conn.on_tick(now);
    }

    // ---- whole steps ----------------------------------------------------------------------

    /// Protocol header through connection.open-ok.
    void handshake(std::uint16_t heartbeat = 0, std::uint32_t frame_max = 131072,
                   std::uint16_t channel_max = 2047, FieldTable props = client_properties()) {
        send_raw(std::string_view("AMQP\0\0\x09\x01", 8));
        expect<p::ConnectionStart>();
        send(p::ConnectionStartOk{std::move(props), "PLAIN", plain_response("guest", "guest"), "en_US"});
        const auto tune = expect<p::ConnectionTune>();
        CHECK(tune.channel_max == 2047);
        CHECK(tune.frame_max == 131072);
        CHECK(tune.heartbeat == 60);
        send(p::ConnectionTuneOk{channel_max, frame_max, heartbeat});
        send(p::ConnectionOpen{"/", "", false});
        expect<p::ConnectionOpenOk>();
        REQUIRE(conn.is_open());
    }

    void open_channel(std::uint16_t channel) {
        send(channel, p::ChannelOpen{});
        expect<p::ChannelOpenOk>(channel);
        REQUIRE(conn.is_channel_open(channel));
    }

private:
    p::FrameDecoder decoder_{0};
    std::deque<SentFrame> pending_;
    std::deque<SentFrame> queue_;
};

struct ScriptedPeer::Expected {
    ScriptedPeer& peer;
    void reply_with(std::uint16_t channel, const p::Method& m) { peer.send(channel, m); }
    void reply_with(const p::Method& m) { peer.send(0, m); }
};

template <class T>
T ScriptedPeer::expect(std::uint16_t channel) {
    p::Method m = next_method(channel);
    INFO("got " << p::method_name(p::method_id(m)));
    REQUIRE(std::holds_alternative<T>(m));
    return std::get<T>(std::move(m));
}

template <class T>
ScriptedPeer::Expected ScriptedPeer::expect_then(std::uint16_t channel) {
    expect<T>(channel);
    return Expected{*this};
}

}  // namespace warren::test
