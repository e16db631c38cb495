// ServerConnection against a scripted client. Every reply code and text below was recorded
// from RabbitMQ 3.10.8 with raw-socket probes sending the same bytes.
#include <catch2/catch.hpp>

#include <string>

#include "scripted_peer.hpp"
#include "warren/protocol/server_connection.hpp"

using namespace std::chrono_literals;
using warren::AmqpError;
using warren::BasicProperties;
using warren::FieldTable;
using warren::MethodId;
using warren::ReplyCode;
using warren::test::ScriptedPeer;
namespace p = warren::protocol;
namespace method = warren::method;

namespace {

std::string bytes(std::string_view s) { return std::string(s); }
const std::string amqp_0091("AMQP\0\0\x09\x01", 8);

std::string queue_declare_args(std::string_view queue, std::string_view tail = "") {
    std::string a("\0\0", 2);
    a += static_cast<char>(queue.size());
    a += queue;
    a += '\0';
    a += std::string("\0\0\0\0", 4);
    a += tail;
    return a;
}

}  // namespace

TEST_CASE("handshake: start, tune and open as RabbitMQ sends them") {
    ScriptedPeer peer;
    peer.byte_by_byte = GENERATE(false, true);
    peer.send_raw(amqp_0091);
    const auto start = peer.expect<p::ConnectionStart>();
    CHECK(start.version_major == 0);
    CHECK(start.version_minor == 9);
    CHECK(start.mechanisms == "PLAIN AMQPLAIN");
    CHECK(start.locales == "en_US");
    const FieldTable caps{{"publisher_confirms", true},
                          {"exchange_exchange_bindings", true},
                          {"basic.nack", true},
                          {"consumer_cancel_notify", true},
                          {"connection.blocked", true},
                          {"consumer_priorities", true},
                          {"authentication_failure_close", true},
                          {"per_consumer_qos", true},
                          {"direct_reply_to", true}};
    const auto& props = start.server_properties;
    REQUIRE(props.size() == 7);
    // rabbit_reader sorts the keys; capabilities come first.
    std::vector<std::string> keys;
    for (const auto& [k, v] : props) keys.push_back(k);
    CHECK(keys == std::vector<std::string>{"capabilities", "cluster_name", "copyright",
                                           "information", "platform", "product", "version"});
    CHECK(props.at("capabilities").as_table() == caps);
    CHECK(props.at("product").as_string() == "warren");
    CHECK(props.at("cluster_name").as_string() == "test-cluster");

    peer.send(p::ConnectionStartOk{warren::test::client_properties(), "PLAIN",
                                   warren::test::plain_response("guest", "guest"), "en_US"});
    REQUIRE(peer.handler.logins.size() == 1);
    CHECK(peer.handler.logins[0].mechanism == "PLAIN");
    CHECK(peer.handler.logins[0].username == "guest");
    CHECK(peer.handler.logins[0].password == "guest");
    const auto tune = peer.expect<p::ConnectionTune>();
    CHECK(tune.channel_max == 2047);
    CHECK(tune.frame_max == 131072);
    CHECK(tune.heartbeat == 60);

    peer.send(p::ConnectionTuneOk{100, 65536, 0});
    peer.expect_nothing();
    peer.send(p::ConnectionOpen{"/", "", false});
    const auto open_ok = peer.expect<p::ConnectionOpenOk>();
    CHECK(open_ok.known_hosts.empty());
    REQUIRE(peer.handler.opened);
    CHECK(peer.handler.opened->user == "guest");
    CHECK(peer.handler.opened->vhost == "/");
    CHECK(peer.handler.opened->mechanism == "PLAIN");
    // RabbitMQ adopts the client's tune-ok values.
    CHECK(peer.handler.opened->channel_max == 100);
    CHECK(peer.handler.opened->frame_max == 65536);
    CHECK(peer.conn.client_capability("authentication_failure_close"));
    CHECK_FALSE(peer.conn.client_capability("no_such_capability"));
    CHECK_FALSE(peer.conn.wants_close());
}

TEST_CASE("handshake: AMQPLAIN logs in with a LOGIN/PASSWORD table") {
    ScriptedPeer peer;
    peer.send_raw(amqp_0091);
    peer.expect<p::ConnectionStart>();
    p::Bytes table;
    REQUIRE_FALSE(p::encode_field_table(FieldTable{{"LOGIN", "guest"}, {"PASSWORD", "guest"}}, table));
    const std::string response(p::as_chars(p::ByteView(table).subspan(4)));
    peer.send(p::ConnectionStartOk{{}, "AMQPLAIN", response, "en_US"});
    peer.expect<p::ConnectionTune>();
    REQUIRE(peer.handler.logins.size() == 1);
    CHECK(peer.handler.logins[0].mechanism == "AMQPLAIN");
    CHECK(peer.handler.logins[0].username == "guest");
    CHECK(peer.handler.logins[0].password == "guest");
}

TEST_CASE("protocol header: 0-9-1 in its old form is accepted") {
    ScriptedPeer peer;
    peer.send_raw(bytes(std::string_view("AMQP\x01\x01\x00\x09", 8)));
    peer.expect<p::ConnectionStart>();
}

TEST_CASE("protocol header: anything else gets AMQP 0-9-1 back and the socket closed") {
    const std::string header = GENERATE(std::string("AMQP\0\0\x09\x00", 8),
                                        std::string("AMQP\0\x01\0\0", 8),  // AMQP 1.0
                                        std::string("AMQP\x03\x01\0\0", 8),
                                        std::string("AMQP\0\0\x08\0", 8),
                                        std::string("AMQP\x01\x01\x08\0", 8),  // 0-8
                                        std::string("GET / HTTP/1.1\r\n\r\n"));
    ScriptedPeer peer;
    peer.byte_by_byte = GENERATE(false, true);
    peer.send_raw(header);
    CHECK(std::string(p::as_chars(peer.conn.output())) == amqp_0091);
    CHECK(peer.conn.wants_close());
    peer.conn.consume_output(8);
    peer.send_raw("more bytes are ignored");
    CHECK(peer.conn.output().empty());
}

TEST_CASE("protocol header: fewer than eight bytes wait for more") {
    ScriptedPeer peer;
    peer.send_raw("AMQ");
    CHECK(peer.conn.output().empty());
    CHECK_FALSE(peer.conn.wants_close());
}

TEST_CASE("login refused: 403 for clients with authentication_failure_close") {
    const std::string mechanism = GENERATE("PLAIN", "AMQPLAIN");
    ScriptedPeer peer;
    peer.send_raw(amqp_0091);
    peer.expect<p::ConnectionStart>();
    std::string response = warren::test::plain_response("guest", "wrong");
    if (mechanism == "AMQPLAIN") {
        p::Bytes t;
        REQUIRE_FALSE(p::encode_field_table(FieldTable{{"LOGIN", "guest"}, {"PASSWORD", "wrong"}}, t));
        response = std::string(p::as_chars(p::ByteView(t).subspan(4)));
    }
    peer.send(p::ConnectionStartOk{warren::test::client_properties(), mechanism, response, "en_US"});
    peer.expect_close(403, "ACCESS_REFUSED - Login was refused using authentication mechanism " +
                               mechanism + ". For details see the broker logfile.");
    CHECK_FALSE(peer.conn.wants_close());
    SECTION("close-ok ends it") {
        peer.send(p::ConnectionCloseOk{});
        CHECK(peer.conn.wants_close());
    }
    SECTION("or three seconds do") {
        peer.tick();
        peer.advance(2999ms);
        CHECK_FALSE(peer.conn.wants_close());
        peer.advance(1ms);
        CHECK(peer.conn.wants_close());
    }
    CHECK(peer.handler.ends.empty());  // never opened
}

TEST_CASE("login refused: other clients see the socket close") {
    ScriptedPeer peer;
    peer.send_raw(amqp_0091);
    peer.expect<p::ConnectionStart>();
    peer.send(p::ConnectionStartOk{warren::test::client_properties(false), "PLAIN",
                                   warren::test::plain_response("guest", "wrong"), "en_US"});
    peer.expect_dropped();
}

TEST_CASE("start-ok that does not parse: a silent close after RabbitMQ's pause") {
    const std::string mechanism = GENERATE("PLAIN", "FOO", "plain");
    const std::string response = GENERATE(std::string("\0guestguest", 11),
                                          std::string("guest\0guest\0guest", 17),
                                          std::string("\0guest\0guest\0x", 14), std::string());
    ScriptedPeer peer;
    peer.send_raw(amqp_0091);
    peer.expect<p::ConnectionStart>();
    peer.send(p::ConnectionStartOk{warren::test::client_properties(), mechanism, response, "en_US"});
    CHECK(peer.handler.logins.empty());
    peer.expect_silent_close_after_linger();
}

TEST_CASE("tune-ok out of range: a silent close after RabbitMQ's pause") {
    const auto tune = GENERATE(p::ConnectionTuneOk{2047, 100, 0}, p::ConnectionTuneOk{2047, 0, 0},
                               p::ConnectionTuneOk{2047, 200000, 0},
                               p::ConnectionTuneOk{0, 131072, 0},
                               p::ConnectionTuneOk{3000, 131072, 0});
    ScriptedPeer peer;
    peer.send_raw(amqp_0091);
    peer.expect<p::ConnectionStart>();
    peer.send(p::ConnectionStartOk{warren::test::client_properties(), "PLAIN",
                                   warren::test::plain_response("guest", "guest"), "en_US"});
    peer.expect<p::ConnectionTune>();
    peer.send(tune);
    peer.expect_silent_close_after_linger();
}

TEST_CASE("connection.open of an unknown vhost: 530, then close-ok") {
    ScriptedPeer peer;
    peer.send_raw(amqp_0091);
    peer.expect<p::ConnectionStart>();
    peer.send(p::ConnectionStartOk{warren::test::client_properties(), "PLAIN",
                                   warren::test::plain_response("guest", "guest"), "en_US"});
    peer.expect<p::ConnectionTune>();
    peer.send(p::ConnectionTuneOk{2047, 131072, 0});
    peer.send(p::ConnectionOpen{"nope", "", false});
    peer.expect_close(530, "NOT_ALLOWED - vhost nope not found", method::connection_open);
    CHECK_FALSE(peer.handler.opened);
    // Frames other than close-ok are dropped meanwhile.
    peer.send(1, p::ChannelOpen{});
    peer.expect_nothing();
    peer.send(p::ConnectionCloseOk{});
    CHECK(peer.conn.wants_close());
}

TEST_CASE("errors before connection.open") {
    ScriptedPeer peer;
    peer.send_raw(amqp_0091);
    peer.expect<p::ConnectionStart>();
    SECTION("a method other than start-ok is dropped silently") {
        peer.send(p::ConnectionOpen{"/", "", false});
        peer.expect_silent_close_after_linger();
    }
    SECTION("a channel frame is dropped silently") {
        peer.send(1, p::ChannelOpen{});
        peer.expect_silent_close_after_linger();
    }
    SECTION("a frame over 4096 bytes is dropped silently") {
        peer.send_frame(p::frame_type::method, 0, std::string(5000, 'x'));
        peer.expect_silent_close_after_linger();
    }
    SECTION("heartbeats are fine") {
        peer.send_frame(p::frame_type::heartbeat, 0, "");
        peer.expect_nothing();
        CHECK_FALSE(peer.conn.wants_close());
    }
    SECTION("connection.close is unexpected too") {
        peer.send(p::ConnectionClose{200, "bye", 0, 0});
        peer.expect_silent_close_after_linger();
    }
}

TEST_CASE("errors while opening are answered with connection.close") {
    ScriptedPeer peer;
    peer.send_raw(amqp_0091);
    peer.expect<p::ConnectionStart>();
    peer.send(p::ConnectionStartOk{warren::test::client_properties(), "PLAIN",
                                   warren::test::plain_response("guest", "guest"), "en_US"});
    peer.expect<p::ConnectionTune>();
    peer.send(p::ConnectionTuneOk{2047, 131072, 0});
    SECTION("a channel frame") {
        peer.send(1, p::ChannelOpen{});
        peer.expect_close(505, "UNEXPECTED_FRAME - type 1, all octets = <<0,20,0,10,0>>");
    }
    SECTION("a method other than open") {
        peer.send(p::BasicQos{0, 1, false});
        peer.expect_close(504, "CHANNEL_ERROR - unexpected method in connection state opening",
                          method::basic_qos);
    }
    SECTION("connection.close") {
        peer.send(p::ConnectionClose{200, "bye", 0, 0});
        peer.expect_close(504, "CHANNEL_ERROR - unexpected method in connection state opening",
                          method::connection_close);
    }
}

TEST_CASE("channel 0 errors once running") {
    ScriptedPeer peer;
    peer.byte_by_byte = GENERATE(false, true);
    peer.handshake();
    SECTION("a method of another class") {
        peer.send(p::BasicQos{0, 1, false});
        peer.expect_close(504, "CHANNEL_ERROR - unexpected method in connection state running",
                          method::basic_qos);
    }
    SECTION("channel.open") {
        peer.send(0, p::ChannelOpen{});
        peer.expect_close(504, "CHANNEL_ERROR - unexpected method in connection state running",
                          method::channel_open);
    }
    SECTION("a second start-ok") {
        peer.send(p::ConnectionStartOk{});
        peer.expect_close(504, "CHANNEL_ERROR - unexpected method in connection state running",
                          method::connection_start_ok);
    }
    SECTION("close-ok out of turn") {
        peer.send(p::ConnectionCloseOk{});
        peer.expect_close(504, "CHANNEL_ERROR - unexpected method in connection state running",
                          method::connection_close_ok);
    }
    SECTION("a method that does not decode is an internal error") {
        peer.send_method_bytes(0, method::connection_close, std::string("\0", 1));
        peer.expect_close(541, "INTERNAL_ERROR");
    }
    SECTION("a header frame") {
        peer.send_header(0, 0);
        peer.expect_close(505, "UNEXPECTED_FRAME - type 2, all octets = "
                               "<<0,60,0,0,0,0,0,0,0,0,0,0,0,0>>");
    }
    SECTION("a body frame") {
        peer.send_body(0, "x");
        peer.expect_close(505, "UNEXPECTED_FRAME - type 3, all octets = <<\"x\">>");
    }
    SECTION("a heartbeat with a payload") {
        peer.send_frame(p::frame_type::heartbeat, 0, "xy");
        peer.expect_close(501, "FRAME_ERROR - type 8, all octets = <<\"xy\">>: unknown_frame");
    }
    SECTION("an unknown frame type") {
        peer.send_frame(9, 0, "abc");
        peer.expect_close(501, "FRAME_ERROR - type 9, all octets = <<\"abc\">>: unknown_frame");
    }
    SECTION("a method frame under four bytes") {
        peer.send_frame(p::frame_type::method, 0, std::string("\0\x3c\0", 3));
        peer.expect_close(501, "FRAME_ERROR - type 1, all octets = <<0,60,0>>: unknown_frame");
    }
    SECTION("an unknown method crashes RabbitMQ's reader: no reply") {
        peer.send_method_bytes(0, MethodId{10, 99}, "");
        peer.expect_dropped();
    }
    REQUIRE(peer.handler.ends.size() == 1);
    CHECK(peer.handler.ends[0].cause == p::ConnectionEnd::Cause::protocol_error);
}

TEST_CASE("channel errors") {
    ScriptedPeer peer;
    peer.byte_by_byte = GENERATE(false, true);
    peer.handshake();
    peer.open_channel(1);
    CHECK(peer.handler.channels_opened == std::vector<std::uint16_t>{1});

    SECTION("a method on a channel never opened") {
        peer.send(5, p::BasicQos{0, 1, false});
        peer.expect_close(504, "CHANNEL_ERROR - expected 'channel.open'", method::basic_qos);
    }
    SECTION("channel.close on a channel never opened") {
        peer.send(5, p::ChannelClose{200, "", 0, 0});
        peer.expect_close(504, "CHANNEL_ERROR - expected 'channel.open'", method::channel_close);
    }
    SECTION("a second channel.open") {
        peer.send(1, p::ChannelOpen{});
        peer.expect_close(504, "CHANNEL_ERROR - second 'channel.open' seen", method::channel_open);
    }
    SECTION("an unknown method") {
        peer.send_method_bytes(1, MethodId{60, 99}, "");
        peer.expect_dropped();
    }
    SECTION("an unknown class on an unopened channel") {
        peer.send_method_bytes(5, MethodId{99, 1}, "");
        peer.expect_dropped();
    }
    SECTION("a body frame where a method is due") {
        peer.send_body(1, "hello");
        peer.expect_close(505, "UNEXPECTED_FRAME - expected method frame, got non method frame "
                               "instead");
    }
    SECTION("a header frame where a method is due") {
        peer.send_header(1, 5);
        peer.expect_close(505, "UNEXPECTED_FRAME - expected method frame, got non method frame "
                               "instead");
    }
    SECTION("a header of another class") {
        peer.send(1, p::BasicPublish{0, "", "q", false, false});
        peer.send_header(1, 5, {}, 50);
        peer.expect_close(505, "UNEXPECTED_FRAME - expected content header for class 60, got "
                               "one for class 50 instead",
                          method::basic_publish);
    }
    SECTION("a header with a weight") {
        peer.send(1, p::BasicPublish{0, "", "q", false, false});
        peer.send_header(1, 5, {}, 60, 1);
        peer.expect_close(505, "UNEXPECTED_FRAME - expected content header for class 60, got "
                               "non content header frame instead",
                          method::basic_publish);
    }
    SECTION("a method where a header is due") {
        peer.send(1, p::BasicPublish{0, "", "q", false, false});
        peer.send(1, p::BasicQos{0, 1, false});
        peer.expect_close(505, "UNEXPECTED_FRAME - expected content header for class 60, got "
                               "non content header frame instead",
                          method::basic_publish);
    }
    SECTION("channel.close where a header is due") {
        peer.send(1, p::BasicPublish{0, "", "q", false, false});
        peer.send(1, p::ChannelClose{200, "", 0, 0});
        peer.expect_close(505, "UNEXPECTED_FRAME - expected content header for class 60, got "
                               "non content header frame instead",
                          method::basic_publish);
    }
    SECTION("a method where a body is due") {
        peer.send(1, p::BasicPublish{0, "", "q", false, false});
        peer.send_header(1, 5);
        peer.send(1, p::BasicQos{0, 1, false});
        peer.expect_close(505, "UNEXPECTED_FRAME - expected content body, got non content body "
                               "frame instead",
                          method::basic_publish);
    }
    SECTION("a header where a body is due") {
        peer.send(1, p::BasicPublish{0, "", "q", false, false});
        peer.send_header(1, 5);
        peer.send_header(1, 5);
        peer.expect_close(505, "UNEXPECTED_FRAME - expected content body, got non content body "
                               "frame instead",
                          method::basic_publish);
    }
    SECTION("a body longer than announced never completes") {
        peer.send(1, p::BasicPublish{0, "", "q", false, false});
        peer.send_header(1, 5);
        peer.send_body(1, "0123456789");
        peer.send_body(1, "more");
        peer.expect_nothing();
        CHECK(peer.handler.publishes.empty());
        peer.send(1, p::BasicQos{0, 1, false});
        peer.expect_close(505, "UNEXPECTED_FRAME - expected content body, got non content body "
                               "frame instead",
                          method::basic_publish);
    }
    SECTION("a heartbeat on a channel") {
        peer.send_frame(p::frame_type::heartbeat, 1, "");
        peer.expect_close(505, "UNEXPECTED_FRAME - type 8, all octets = <<>>");
    }
    SECTION("a heartbeat on an unopened channel") {
        peer.send_frame(p::frame_type::heartbeat, 7, "");
        peer.expect_close(505, "UNEXPECTED_FRAME - type 8, all octets = <<>>");
    }
    SECTION("an unknown frame type") {
        peer.send_frame(0, 1, "");
        peer.expect_close(501, "FRAME_ERROR - type 0, all octets = <<>>: unknown_frame");
    }
    SECTION("a header frame under twelve bytes") {
        peer.send(1, p::BasicPublish{0, "", "q", false, false});
        peer.send_frame(p::frame_type::header, 1, std::string("\0\x3c\0\0\0", 5));
        peer.expect_close(501, "FRAME_ERROR - type 2, all octets = <<0,60,0,0,0>>: unknown_frame");
    }
    SECTION("arguments cut short") {
        peer.send_method_bytes(1, method::queue_declare, queue_declare_args("q").substr(0, 7));
        peer.expect_close(501, "FRAME_ERROR - cannot decode <<0,0,1,113,0,0,0>>",
                          method::queue_declare);
    }
    SECTION("a byte after the arguments") {
        peer.send_method_bytes(1, method::queue_declare, queue_declare_args("q", std::string(1, '\0')));
        peer.expect_close(501, "FRAME_ERROR - cannot decode <<0,0,1,113,0,0,0,0,0,0>>",
                          method::queue_declare);
    }
    SECTION("long arguments are cut at 255 bytes") {
        peer.send_method_bytes(1, method::queue_declare, queue_declare_args("q", std::string(300, 'x')));
        std::string full = "FRAME_ERROR - cannot decode <<0,0,1,113,0,0,0,0,0";
        for (int i = 0; i < 300; ++i) full += ",120";
        const std::string text = full.substr(0, 252) + "...";
        CHECK(text.substr(text.size() - 9) == "120,12...");  // as RabbitMQ sent it
        peer.expect_close(501, text, method::queue_declare);
    }
    SECTION("a queue name that is not UTF-8") {
        peer.send_method_bytes(1, method::queue_declare, queue_declare_args("\xff\xfe"));
        peer.expect_close(501, "FRAME_ERROR - Malformed UTF-8 in shortstr");
    }
    SECTION("an argument table RabbitMQ cannot parse") {
        std::string args("\0\0\x01q\0", 5);
        args += std::string("\0\0\0\x04\x01" "aZ\0", 8);
        peer.send_method_bytes(1, method::queue_declare, args);
        peer.expect_dropped();
    }
    SECTION("channel.flow active=false") {
        peer.send(1, p::ChannelFlow{false});
        peer.expect_close(540, "NOT_IMPLEMENTED - active=false", method::channel_flow);
    }
    SECTION("basic.publish immediate=true, once its content is in") {
        peer.send(1, p::BasicPublish{0, "", "q", false, true});
        peer.expect_nothing();
        peer.send_header(1, 0);
        peer.expect_close(540, "NOT_IMPLEMENTED - immediate=true", method::basic_publish);
    }
    SECTION("a method only servers send") {
        peer.send(1, p::QueueDeclareOk{"q", 0, 0});
        peer.expect_close(503, "COMMAND_INVALID - unimplemented method", method::queue_declare_ok);
    }
    SECTION("basic.deliver from the client, once its content is in") {
        peer.send(1, p::BasicDeliver{"t", 1, false, "", "q"});
        peer.expect_nothing();
        peer.send_header(1, 0);
        peer.expect_close(503, "COMMAND_INVALID - unimplemented method", method::basic_deliver);
    }
    SECTION("channel.close-ok out of turn") {
        peer.send(1, p::ChannelCloseOk{});
        peer.expect_close(503, "COMMAND_INVALID - unimplemented method", method::channel_close_ok);
    }
    SECTION("channel.flow-ok") {
        peer.send(1, p::ChannelFlowOk{true});
        peer.expect_close(503, "COMMAND_INVALID - unimplemented method", method::channel_flow_ok);
    }
    SECTION("a connection method on a channel") {
        peer.send(1, p::ConnectionTuneOk{});
        peer.expect_close(503, "COMMAND_INVALID - unimplemented method", method::connection_tune_ok);
    }
    SECTION("a content header on a properties list that does not decode: 541") {
        peer.send(1, p::BasicPublish{0, "", "q", false, false});
        std::string header("\0\x3c\0\0\0\0\0\0\0\0\0\0", 12);  // no property flags at all
        peer.send_frame(p::frame_type::header, 1, header);
        peer.expect_close(541, "INTERNAL_ERROR");
    }
    CHECK(peer.handler.publishes.empty());
    CHECK(peer.handler.methods.empty());
}

TEST_CASE("fatal frame errors: connection.close, then the socket closes after the pause") {
    ScriptedPeer peer;
    peer.byte_by_byte = GENERATE(false, true);
    peer.handshake(0, 4096);
    peer.open_channel(1);
    SECTION("a frame larger than frame_max") {
        // The size is refused as soon as the frame header is in.
        std::string header("\x03\x00\x01\x00\x00\x10\x01", 7);
        peer.send_raw(header);
        peer.expect_close(501, "FRAME_ERROR - type 3, all octets = <<>>: {frame_too_large,4097,4088}");
    }
    SECTION("a frame of exactly frame_max bytes passes the size check") {
        peer.send_frame(p::frame_type::body, 1, std::string(4096, 'x'));
        peer.expect_close(505, "UNEXPECTED_FRAME - expected method frame, got non method frame "
                               "instead");
        return;
    }
    SECTION("a bad frame-end octet") {
        peer.send_frame(p::frame_type::method, 1, std::string("\0\x3c\0\x0a\0\0\0\0\0\x01\0", 11), 0);
        peer.expect_close(501, "FRAME_ERROR - type 1, all octets = <<0,60,0,10,0,0,0,0,0,1,0>>: "
                               "{invalid_frame_end_marker,0}");
    }
    SECTION("a bad frame-end after a long payload") {
        peer.send_frame(p::frame_type::body, 1, "abcdefghijklmnopqrstuvwxyz", 1);
        peer.expect_close(501, "FRAME_ERROR - type 3, first 16 octets = <<\"abcdefghijklmnop\">>: "
                               "{invalid_frame_end_marker,1}");
    }
    SECTION("io_lib's line breaks are part of the text") {
        peer.send_frame(p::frame_type::body, 1, std::string(16, '\0'), 0);
        peer.expect_close(501, "FRAME_ERROR - type 3, all octets = <<0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
                               "0,0>>: {invalid_frame_end_marker,\n" +
                                   std::string(59, ' ') + "0}");
    }
    // close-ok does not shorten RabbitMQ's pause, and nothing else is read.
    peer.send(p::ConnectionCloseOk{});
    peer.expect_silent_close_after_linger();
}

TEST_CASE("channel_max counts channels, not channel numbers") {
    ScriptedPeer peer;
    peer.handshake(0, 131072, 2);
    peer.open_channel(2000);
    peer.open_channel(65535);
    peer.send(3, p::ChannelOpen{});
    peer.expect_close(530, "NOT_ALLOWED - number of channels opened (2) has reached the "
                           "negotiated channel_max (2)");
}

TEST_CASE("channels open and close from both sides") {
    ScriptedPeer peer;
    peer.byte_by_byte = GENERATE(false, true);
    peer.handshake();
    peer.open_channel(1);

    SECTION("the peer closes: close-ok, and the number is free again") {
        peer.send(1, p::ChannelClose{200, "bye", 0, 0});
        peer.expect<p::ChannelCloseOk>(1);
        REQUIRE(peer.handler.channels_closed.size() == 1);
        CHECK(peer.handler.channels_closed[0].first == 1);
        CHECK(peer.handler.channels_closed[0].second.by_peer);
        CHECK(peer.handler.channels_closed[0].second.error.reply_code() == 200);
        CHECK(peer.handler.channels_closed[0].second.error.reply_text() == "bye");
        CHECK_FALSE(peer.conn.is_channel_open(1));
        peer.open_channel(1);
    }
    SECTION("the server closes: the channel ignores the peer until close-ok") {
        REQUIRE_FALSE(peer.conn.close_channel(1, AmqpError::make(ReplyCode::NotFound, method::queue_declare,
                                                                 "no queue 'x' in vhost '/'")));
        peer.expect_channel_close(1, 404, "NOT_FOUND - no queue 'x' in vhost '/'", method::queue_declare);
        CHECK_FALSE(peer.conn.is_channel_open(1));
        CHECK(peer.conn.send(1, p::BasicQosOk{}) == p::EngineError::channel_not_open);
        peer.send(1, p::BasicQos{0, 1, false});
        peer.publish(1, p::BasicPublish{0, "", "q", false, false}, {}, "dropped");
        peer.expect_nothing();
        CHECK(peer.handler.methods.empty());
        CHECK(peer.handler.publishes.empty());
        SECTION("its channel.close gets close-ok") {
            peer.send(1, p::ChannelClose{200, "", 0, 0});
            peer.expect<p::ChannelCloseOk>(1);
            CHECK(peer.handler.channels_closed.empty());
        }
        SECTION("channel.open is still a second open") {
            peer.send(1, p::ChannelOpen{});
            peer.expect_close(504, "CHANNEL_ERROR - second 'channel.open' seen", method::channel_open);
            return;
        }
        SECTION("frames still have to make sense") {
            peer.send_body(1, "x");
            peer.expect_close(505, "UNEXPECTED_FRAME - expected method frame, got non method frame "
                                   "instead");
            return;
        }
        peer.send(1, p::ChannelCloseOk{});
        REQUIRE(peer.handler.channels_closed.size() == 1);
        CHECK_FALSE(peer.handler.channels_closed[0].second.by_peer);
        CHECK(peer.handler.channels_closed[0].second.error.reply_code() == 404);
        peer.send(1, p::BasicQos{0, 1, false});
        peer.expect_close(504, "CHANNEL_ERROR - expected 'channel.open'", method::basic_qos);
    }
}

TEST_CASE("methods for the broker reach the handler; the engine answers the rest") {
    ScriptedPeer peer;
    peer.handshake();
    peer.open_channel(1);
    peer.send(1, p::QueueDeclare{0, "q", false, true, false, false, false, FieldTable{{"x-max-length", 10}}});
    peer.send(1, p::BasicQos{0, 10, false});
    peer.send(1, p::ConfirmSelect{false});
    peer.send(1, p::TxSelect{});
    REQUIRE(peer.handler.methods.size() == 4);
    CHECK(peer.handler.methods[0].first == 1);
    const auto& qd = std::get<p::QueueDeclare>(peer.handler.methods[0].second);
    CHECK(qd.queue == "q");
    CHECK(qd.durable);
    CHECK(qd.arguments.at("x-max-length").as_int() == 10);
    CHECK(std::holds_alternative<p::BasicQos>(peer.handler.methods[1].second));
    peer.expect_nothing();

    peer.send(1, p::AccessRequest{"/data", false, false, true, true, true});
    CHECK(peer.expect<p::AccessRequestOk>(1).ticket == 1);
    peer.send(1, p::ChannelFlow{true});
    CHECK(peer.expect<p::ChannelFlowOk>(1).active);
    CHECK(peer.handler.methods.size() == 4);

    REQUIRE_FALSE(peer.conn.send(1, p::QueueDeclareOk{"q", 0, 0}));
    CHECK(peer.expect<p::QueueDeclareOk>(1).queue == "q");
    CHECK(peer.conn.send(2, p::BasicQosOk{}) == p::EngineError::channel_not_open);
}

TEST_CASE("basic.publish is assembled from its frames") {
    ScriptedPeer peer;
    peer.byte_by_byte = GENERATE(false, true);
    peer.handshake(0, 4096);
    peer.open_channel(3);
    BasicProperties props;
    props.content_type = "text/plain";
    props.delivery_mode = 2;
    props.headers = FieldTable{{"a", 1}, {"b", "two"}};
    const std::string body(10000, 'z');
    peer.publish(3, p::BasicPublish{0, "amq.direct", "rk", true, false}, props, body, 4088);
    peer.publish(3, p::BasicPublish{0, "", "empty", false, false}, {}, "");
    peer.expect_nothing();
    REQUIRE(peer.handler.publishes.size() == 2);
    const auto& [ch, m, msg] = peer.handler.publishes[0];
    CHECK(ch == 3);
    CHECK(m.exchange == "amq.direct");
    CHECK(m.routing_key == "rk");
    CHECK(m.mandatory);
    CHECK(msg.body == body);
    CHECK(msg.properties == props);
    CHECK(std::get<2>(peer.handler.publishes[1]).body.empty());
    // The handler also gets the property flags and list exactly as they came.
    REQUIRE(peer.handler.published_properties.size() == 2);
    p::Bytes encoded;
    REQUIRE_FALSE(p::encode_basic_properties(props, encoded));
    CHECK(peer.handler.published_properties[0] == encoded);
    CHECK(peer.handler.published_properties[1] == p::Bytes{0, 0});
}

TEST_CASE("a publish over max_message_size closes the channel with 406") {
    auto config = warren::test::test_config();
    config.max_message_size = 100;
    ScriptedPeer peer(config);
    peer.handshake();
    peer.open_channel(1);
    peer.publish(1, p::BasicPublish{0, "", "q", false, false}, {}, std::string(101, 'x'), 50);
    peer.expect_channel_close(1, 406, "PRECONDITION_FAILED - message size 101 is larger than "
                                      "configured max size 100",
                              method::basic_publish);
    CHECK(peer.handler.publishes.empty());
}

TEST_CASE("deliveries are split into body frames by frame_max") {
    ScriptedPeer peer;
    peer.handshake(0, 4096);
    peer.open_channel(1);
    BasicProperties props;
    props.message_id = "m1";
    const std::string body(4088 * 2 + 1, 'b');
    REQUIRE_FALSE(peer.conn.send_content(1, p::BasicDeliver{"ctag", 7, true, "ex", "rk"}, props, body));
    const auto deliver = peer.expect<p::BasicDeliver>(1);
    CHECK(deliver.delivery_tag == 7);
    CHECK(deliver.redelivered);
    const auto header = peer.next_frame();
    REQUIRE(header.type == p::frame_type::header);
    const auto h = p::decode_content_header(header.payload);
    REQUIRE_FALSE(h.error);
    CHECK(h.value.body_size == body.size());
    CHECK(h.value.properties == props);
    std::string received;
    for (std::size_t want : {4088u, 4088u, 1u}) {
        const auto f = peer.next_frame();
        REQUIRE(f.type == p::frame_type::body);
        CHECK(f.payload.size() == want);
        received += p::as_chars(f.payload);
    }
    CHECK(received == body);
    CHECK(peer.conn.send_content(1, p::BasicQosOk{}, props, body) == p::EngineError::not_a_content_method);
}

TEST_CASE("closing the connection") {
    ScriptedPeer peer;
    peer.handshake();
    peer.open_channel(1);
    SECTION("by the peer: close-ok, and the handler hears it") {
        peer.send(p::ConnectionClose{200, "Goodbye", 0, 0});
        peer.expect<p::ConnectionCloseOk>();
        CHECK(peer.conn.wants_close());
        REQUIRE(peer.handler.ends.size() == 1);
        CHECK(peer.handler.ends[0].cause == p::ConnectionEnd::Cause::peer_closed);
        CHECK(peer.handler.ends[0].error->reply_text() == "Goodbye");
        peer.send(1, p::BasicQos{0, 1, false});
        peer.expect_nothing();
    }
    SECTION("by the server: connection.close, then the peer's close-ok") {
        peer.conn.close_connection(AmqpError::make(ReplyCode::ConnectionForced, method::none,
                                                   "broker forced connection closure with reason 'shutdown'"));
        peer.expect_close(320, "CONNECTION_FORCED - broker forced connection closure with reason "
                               "'shutdown'");
        CHECK_FALSE(peer.conn.is_open());
        REQUIRE(peer.handler.ends.size() == 1);
        CHECK(peer.handler.ends[0].cause == p::ConnectionEnd::Cause::server_closed);
        peer.send(1, p::BasicQos{0, 1, false});
        peer.send(p::ConnectionClose{200, "", 0, 0});  // crossing closes
        peer.expect<p::ConnectionCloseOk>();
        CHECK_FALSE(peer.conn.wants_close());
        peer.send(p::ConnectionCloseOk{});
        CHECK(peer.conn.wants_close());
    }
    SECTION("by the server, when the peer never answers: 30 seconds without heartbeats") {
        peer.conn.close_connection(AmqpError::make(ReplyCode::ConnectionForced, method::none, "x"));
        peer.tick();
        peer.advance(29s);
        CHECK_FALSE(peer.conn.wants_close());
        peer.advance(1s);
        CHECK(peer.conn.wants_close());
    }
    SECTION("by the transport") {
        peer.conn.transport_closed();
        REQUIRE(peer.handler.ends.size() == 1);
        CHECK(peer.handler.ends[0].cause == p::ConnectionEnd::Cause::transport_closed);
        CHECK(peer.conn.wants_close());
    }
}

TEST_CASE("heartbeats as rabbit_heartbeat samples them") {
    ScriptedPeer peer;
    peer.handshake(2);
    CHECK(peer.conn.next_deadline() == ScriptedPeer::Clock::time_point::min());
    peer.tick();  // anchors the timers
    peer.expect_nothing();

    // The sender looks every second; its first look always sends.
    peer.advance(1s);
    CHECK(peer.next_frame().type == p::frame_type::heartbeat);
    // Then a heartbeat only when nothing else went out in the last second.
    peer.open_channel(1);
    peer.advance(1s);
    peer.expect_nothing();
    peer.advance(1s);
    CHECK(peer.next_frame().type == p::frame_type::heartbeat);

    // The receiver looks every two seconds and gives up on the second look with nothing new.
    peer.send_frame(p::frame_type::heartbeat, 0, "");
    peer.advance(1s);  // t=4: receiver saw traffic
    (void)peer.drain();
    peer.advance(2s);  // t=6: nothing new, first strike
    CHECK_FALSE(peer.conn.wants_close());
    peer.advance(2s);  // t=8: second strike
    CHECK(peer.conn.wants_close());
    REQUIRE(peer.handler.ends.size() == 1);
    CHECK(peer.handler.ends[0].cause == p::ConnectionEnd::Cause::heartbeat_timeout);
    CHECK_FALSE(peer.handler.ends[0].error);
}

TEST_CASE("a connection that never finishes its handshake is dropped after ten seconds") {
    ScriptedPeer peer;
    peer.send_raw(amqp_0091);
    peer.expect<p::ConnectionStart>();
    peer.advance(9999ms);
    CHECK_FALSE(peer.conn.wants_close());
    peer.advance(1ms);
    CHECK(peer.conn.wants_close());
    peer.expect_nothing();
}

TEST_CASE("connection.blocked goes only to clients that announce it") {
    const bool announces = GENERATE(true, false);
    ScriptedPeer peer;
    peer.handshake(0, 131072, 2047, warren::test::client_properties(true, announces));
    peer.conn.block("low on memory");
    peer.conn.unblock();
    if (announces) {
        CHECK(peer.expect<p::ConnectionBlocked>().reason == "low on memory");
        peer.expect<p::ConnectionUnblocked>();
    }
    peer.expect_nothing();
}

TEST_CASE("connection.update-secret is passed up and acknowledged") {
    ScriptedPeer peer;
    peer.handshake();
    peer.send(p::ConnectionUpdateSecret{"token", "refresh"});
    peer.expect<p::ConnectionUpdateSecretOk>();
    REQUIRE(peer.handler.secrets.size() == 1);
    CHECK(peer.handler.secrets[0].first == "token");
}

TEST_CASE("a handler may close the connection from inside a callback") {
    struct Closing : warren::test::RecordingHandler {
        p::ServerConnection* conn = nullptr;
        void on_method(std::uint16_t ch, p::Method&& m) override {
            RecordingHandler::on_method(ch, std::move(m));
            conn->close_connection(AmqpError::make(ReplyCode::ConnectionForced, method::none, "bye"));
        }
    };
    Closing handler;
    p::ServerConnection conn(handler);
    handler.conn = &conn;
    p::Bytes in(amqp_0091.begin(), amqp_0091.end());
    auto add = [&](std::uint16_t ch, const p::Method& m) { REQUIRE_FALSE(p::encode_method_frame(ch, m, in)); };
    add(0, p::ConnectionStartOk{warren::test::client_properties(), "PLAIN",
                                warren::test::plain_response("guest", "guest"), "en_US"});
    add(0, p::ConnectionTuneOk{2047, 131072, 0});
    add(0, p::ConnectionOpen{"/", "", false});
    add(1, p::ChannelOpen{});
    add(1, p::BasicQos{0, 1, false});
    add(1, p::BasicQos{0, 2, false});  // after the close: dropped
    REQUIRE(conn.feed(in) == in.size());
    CHECK(handler.methods.size() == 1);
    REQUIRE(handler.ends.size() == 1);
    CHECK(handler.ends[0].cause == p::ConnectionEnd::Cause::server_closed);
}

TEST_CASE("a publish on a channel never opened fails once its content is in") {
    const bool immediate = GENERATE(false, true);
    ScriptedPeer peer;
    peer.handshake();
    peer.send(5, p::BasicPublish{0, "", "q", false, immediate});
    peer.send_header(5, 3);
    peer.expect_nothing();
    peer.send_body(5, "abc");
    peer.expect_close(504, "CHANNEL_ERROR - expected 'channel.open'", method::basic_publish);
}

TEST_CASE("empty body frames and the continuation flag bit are accepted") {
    ScriptedPeer peer;
    peer.handshake();
    peer.open_channel(1);
    peer.send(1, p::BasicPublish{0, "", "q", false, false});
    peer.send_header(1, 3);
    peer.send_body(1, "");
    peer.send_body(1, "abc");
    peer.send(1, p::BasicPublish{0, "", "q", false, false});
    peer.send_frame(p::frame_type::header, 1, std::string("\0\x3c\0\0\0\0\0\0\0\0\0\0\0\x01", 14));
    REQUIRE(peer.handler.publishes.size() == 2);
    CHECK(std::get<2>(peer.handler.publishes[0]).body == "abc");
    CHECK(std::get<2>(peer.handler.publishes[1]).properties.empty());
    peer.expect_nothing();
}

TEST_CASE("a crash loses the replies not yet written, as RabbitMQ's dying reader does") {
    ScriptedPeer peer;
    peer.handshake();
    // One read: channel.open, then a method RabbitMQ does not know.
    p::Bytes in;
    REQUIRE_FALSE(p::encode_method_frame(1, p::ChannelOpen{}, in));
    REQUIRE_FALSE(p::encode_frame(p::frame_type::method, 1, p::as_bytes(std::string("\0\x14\0\xd3\x01", 5)), in));
    peer.send_raw(in);
    peer.expect_dropped();
    CHECK(peer.handler.channels_opened == std::vector<std::uint16_t>{1});
}
