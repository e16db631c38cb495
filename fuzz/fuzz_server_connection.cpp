// The whole input path of a server connection: protocol header, handshake, channels, content
// assembly, errors, timers, and a handler that answers, delivers and closes from inside its
// callbacks. Never crashes, always consumes its input, and only ever writes well-formed frames.
//
// Input: one flags byte, then the bytes a client sends. Flags: bit 0 feeds byte by byte, bits
// 1-3 pick a chunk size otherwise, bits 4-7 how far the clock moves between chunks.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "warren/protocol/server_connection.hpp"

namespace p = warren::protocol;
using warren::AmqpError;
using warren::ReplyCode;

namespace {

struct Handler : p::ServerHandler {
    p::ServerConnection* conn = nullptr;

    bool authenticate(const p::Credentials& c) override {
        return c.username == "guest" && c.password == "guest";
    }
    std::optional<AmqpError> open_vhost(const std::string&, const std::string& vhost) override {
        if (vhost == "/") return std::nullopt;
        return AmqpError::format(ReplyCode::NotAllowed, warren::method::none, "vhost {} not found", vhost);
    }
    void on_connection_opened(const p::ConnectionInfo&) override { conn->block("low on memory"); }
    void on_method(std::uint16_t ch, p::Method&& m) override {
        if (auto* q = std::get_if<p::QueueDeclare>(&m)) {
            if (q->passive) {
                (void)conn->close_channel(ch, AmqpError::format(ReplyCode::NotFound, warren::method::queue_declare,
                                                                "no queue '{}' in vhost '/'", q->queue));
            } else {
                (void)conn->send(ch, p::QueueDeclareOk{q->queue, 0, 0});
            }
        } else if (auto* c = std::get_if<p::BasicConsume>(&m)) {
            (void)conn->send(ch, p::BasicConsumeOk{c->consumer_tag});
            warren::BasicProperties props;
            props.headers = warren::FieldTable{{"x-delivery-count", 1}};
            (void)conn->send_content(ch, p::BasicDeliver{c->consumer_tag, 1, false, "", c->queue},
                                     props, std::string(9000, 'd'));
        } else if (std::holds_alternative<p::TxCommit>(m)) {
            conn->close_connection(AmqpError::make(ReplyCode::ConnectionForced, warren::method::none, "shutdown"));
        } else if (std::holds_alternative<p::BasicQos>(m)) {
            (void)conn->send(ch, p::BasicQosOk{});
        }
    }
    void on_publish(std::uint16_t ch, p::BasicPublish&& m, warren::Message&& msg,
                    p::ByteView encoded_properties) override {
        if (m.mandatory) {
            (void)conn->send_content(ch, p::BasicReturn{312, "NO_ROUTE", m.exchange, m.routing_key},
                                     msg.properties, msg.body,
                                     m.routing_key.empty() ? p::ByteView{} : encoded_properties);
        }
        conn->unblock();
    }
};

/// Everything written must be frames that decode.
void check_output(p::ServerConnection& conn, p::FrameDecoder& frames) {
    const p::ByteView out = conn.output();
    std::size_t at = 0;
    while (at < out.size()) {
        at += frames.feed(out.subspan(at));
        if (frames.error()) std::abort();
        if (!frames.ready()) continue;
        if (frames.header().type == p::frame_type::method) {
            auto m = p::decode_method(frames.payload());
            // Reply texts quote the peer's bytes, which need not be UTF-8 (RabbitMQ's neither).
            if (m.error && m.error != p::CodecError::malformed_utf8) std::abort();
        }
        frames.next();
    }
    conn.consume_output(out.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::uint8_t flags = data[0];
    const std::size_t chunk = (flags & 1) ? 1 : std::size_t{1} << (3 + ((flags >> 1) & 7));
    const auto step = std::chrono::milliseconds(250) * (flags >> 4);

    Handler handler;
    p::ServerConfig config;
    config.frame_max = 131072;
    auto now = p::ServerConnection::Clock::time_point{} + std::chrono::hours(1);
    p::ServerConnection conn(handler, config, now);
    handler.conn = &conn;
    p::FrameDecoder written(0);
    // The protocol header comes first, so the fuzzer's bytes reach the frame decoder.
    const p::ByteView in(data + 1, size - 1);
    for (std::size_t at = 0; at < in.size(); at += chunk) {
        const auto piece = in.subspan(at, std::min(chunk, in.size() - at));
        if (conn.feed(piece) != piece.size()) std::abort();
        check_output(conn, written);
        now += step;
        conn.on_tick(now);
        if (conn.next_deadline() == p::ServerConnection::Clock::time_point::min()) conn.on_tick(now);
        check_output(conn, written);
    }
    now += std::chrono::seconds(120);
    conn.on_tick(now);
    conn.on_tick(now);
    check_output(conn, written);
    conn.transport_closed();
    return 0;
}
