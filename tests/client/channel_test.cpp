// warren::Channel on the in-process backend: how errors surface (the call that caused them,
// or the next call for methods without a reply), callbacks that call back into the channel,
// consumer cancellation, returns and confirms.
#include <catch2/catch.hpp>

#include <functional>

#include <warren/warren.hpp>

using namespace warren;
using namespace std::chrono_literals;

namespace {

struct Thrown {
    AmqpError error;
    bool channel_closed = false;  // thrown as ChannelClosed
};

template <class Fn>
Thrown thrown_by(Fn&& fn) {
    try {
        fn();
    } catch (const ChannelClosed& e) {
        return {e, true};
    } catch (const AmqpError& e) {
        return {e, false};
    }
    FAIL("nothing thrown");
    return {};
}

}  // namespace

TEST_CASE("a channel error is thrown by its call; later calls throw ChannelClosed carrying it") {
    Broker broker;
    Connection conn = connect(broker);
    Channel ch = conn.channel();
    Channel other = conn.channel();
    other.queue_declare("q");
    other.basic_publish("", "q", Message{.body = "held"});
    REQUIRE(ch.basic_get("q"));

    auto [e, channel_closed] = thrown_by([&] { ch.queue_declare("missing", {.passive = true}); });
    CHECK_FALSE(channel_closed);
    CHECK(e.reply_code() == 404);
    CHECK(e.reply_text() == "NOT_FOUND - no queue 'missing' in vhost '/'");
    CHECK(e.class_id() == 50);
    CHECK(e.method_id() == 10);
    CHECK_FALSE(e.closes_connection());
    CHECK_FALSE(ch.is_open());

    try {
        ch.basic_get("q");
        FAIL("the channel answered");
    } catch (const ChannelClosed& closed) {
        CHECK(closed.reply_code() == 404);
        CHECK(closed.reply_text() == "NOT_FOUND - no queue 'missing' in vhost '/'");
    }
    CHECK_THROWS_AS(ch.basic_ack(1), ChannelClosed);
    CHECK_THROWS_AS(ch.basic_publish("", "q", Message{}), ChannelClosed);
    CHECK_NOTHROW(ch.close());  // closing a closed channel does nothing

    // The connection and its other channels carry on; the closed channel's delivery is back.
    CHECK(conn.is_open());
    CHECK(other.is_open());
    auto d = other.basic_get("q");
    REQUIRE(d);
    CHECK(d->redelivered);
}

TEST_CASE("a publish's error closes the channel and surfaces at the next call") {
    Broker broker;
    Connection conn = connect(broker);
    Channel ch = conn.channel();
    CHECK_NOTHROW(ch.basic_publish("missing", "k", Message{.body = "b"}));
    CHECK_FALSE(ch.is_open());
    try {
        ch.queue_declare("q");
        FAIL("declared");
    } catch (const ChannelClosed& e) {
        CHECK(e.reply_code() == 404);
        CHECK(e.reply_text() == "NOT_FOUND - no exchange 'missing' in vhost '/'");
        CHECK(e.class_id() == 60);
        CHECK(e.method_id() == 40);
    }
    CHECK_FALSE(broker.queue("/", "q"));
}

TEST_CASE("ack, nack and reject have no reply: an unknown tag surfaces at the next call") {
    Broker broker;
    Connection conn = connect(broker);
    const std::vector<std::pair<std::function<void(Channel&)>, MethodId>> calls = {
        {[](Channel& ch) { ch.basic_ack(7); }, method::basic_ack},
        {[](Channel& ch) { ch.basic_nack(7); }, method::basic_nack},
        {[](Channel& ch) { ch.basic_reject(7); }, method::basic_reject},
    };
    for (const auto& [call, method] : calls) {
        Channel ch = conn.channel();
        CHECK_NOTHROW(call(ch));
        CHECK_FALSE(ch.is_open());
        auto [e, channel_closed] = thrown_by([&] { ch.queue_declare("q"); });
        CHECK(channel_closed);
        CHECK(e.reply_text() == "PRECONDITION_FAILED - unknown delivery tag 7");
        CHECK(e.class_id() == method.class_id);
        CHECK(e.method_id() == method.method_id);
    }
    CHECK(conn.is_open());
}

TEST_CASE("callbacks may publish, ack and cancel; what they cause runs in the same process_events") {
    Broker broker;
    Connection conn = connect(broker);
    Channel ch = conn.channel();
    ch.queue_declare("ping");
    ch.queue_declare("pong");
    ch.basic_qos(1);
    std::vector<std::string> log;
    std::string ping_tag;
    ping_tag = ch.basic_consume("ping", [&](const Delivery& d) {
        log.push_back("ping " + d.message.body);
        if (d.message.body == "2") ch.basic_cancel(ping_tag);
        ch.basic_ack(d.delivery_tag);
        ch.basic_publish("", "pong", Message{.body = d.message.body});
    });
    ch.basic_consume("pong", [&](const Delivery& d) {
        log.push_back("pong " + d.message.body);
        ch.basic_ack(d.delivery_tag);
    });
    for (const char* b : {"1", "2", "3"}) ch.basic_publish("", "ping", Message{.body = b});
    CHECK(conn.process_events() == 4);
    CHECK(log == std::vector<std::string>{"ping 1", "ping 2", "pong 1", "pong 2"});
    auto ping = broker.queue("/", "ping");
    CHECK(ping->messages_ready == 1);  // "3" arrived after the cancel
    CHECK(ping->consumers == 0);
    CHECK(broker.queue("/", "pong")->messages == 0);
}

TEST_CASE("a cancelled consumer still sees the deliveries made before its cancel") {
    Broker broker;
    Connection conn = connect(broker);
    Channel ch = conn.channel();
    ch.queue_declare("q");
    std::vector<std::string> first, second;
    ch.basic_consume("q", [&](const Delivery& d) { first.push_back(d.message.body); }, {.consumer_tag = "t"});
    ch.basic_publish("", "q", Message{.body = "before"});
    ch.basic_cancel("t");
    ch.basic_publish("", "q", Message{.body = "after"});
    // The tag is free again; the new consumer gets only what comes after it.
    ch.basic_consume("q", [&](const Delivery& d) { second.push_back(d.message.body); }, {.consumer_tag = "t"});
    conn.process_events();
    CHECK(first == std::vector<std::string>{"before"});
    CHECK(second == std::vector<std::string>{"after"});
    ch.basic_publish("", "q", Message{.body = "later"});
    conn.process_events();
    CHECK(second == std::vector<std::string>{"after", "later"});
}

TEST_CASE("a consumer whose queue is deleted is cancelled by the broker") {
    Broker broker;
    Connection conn = connect(broker);
    Channel ch = conn.channel();
    ch.queue_declare("q");
    int calls = 0;
    ch.basic_consume("q", [&](const Delivery&) { ++calls; }, {.consumer_tag = "t", .no_ack = true});
    ch.basic_publish("", "q", Message{.body = "1"});
    ch.queue_delete("q");
    conn.process_events();
    CHECK(calls == 1);
    // The tag may be used again on a new queue.
    ch.queue_declare("q2");
    ch.basic_consume("q2", [&](const Delivery&) { calls += 10; }, {.consumer_tag = "t", .no_ack = true});
    ch.basic_publish("", "q2", Message{.body = "2"});
    conn.process_events();
    CHECK(calls == 11);
}

TEST_CASE("on_return receives a mandatory message no queue took") {
    Broker broker;
    Connection conn = connect(broker);
    Channel ch = conn.channel();
    std::vector<Returned> returned;
    ch.on_return([&](const Returned& r) { returned.push_back(r); });
    ch.basic_publish("amq.direct", "nowhere", Message{.body = "b", .properties = {.message_id = "m"}},
                     {.mandatory = true});
    ch.basic_publish("amq.direct", "nowhere", Message{.body = "dropped"});
    CHECK(returned.empty());
    conn.process_events();
    REQUIRE(returned.size() == 1);
    CHECK(returned[0].reply_code == 312);
    CHECK(returned[0].reply_text == "NO_ROUTE");
    CHECK(returned[0].exchange == "amq.direct");
    CHECK(returned[0].routing_key == "nowhere");
    CHECK(returned[0].message == Message{.body = "b", .properties = {.message_id = "m"}});
}

TEST_CASE("wait_for_confirms: every publish since confirm_select is confirmed, routed or not") {
    Broker broker;
    Connection conn = connect(broker);
    Channel ch = conn.channel();
    ch.queue_declare("q");
    std::vector<std::uint64_t> confirmed;
    ch.on_confirm([&](const Confirm& c) {
        CHECK(c.ack);
        confirmed.push_back(c.delivery_tag);
    });
    ch.basic_publish("", "q", Message{.body = "before select"});
    ch.confirm_select();
    CHECK(ch.wait_for_confirms());  // nothing outstanding
    ch.basic_publish("", "q", Message{.body = "1"});
    ch.basic_publish("", "nowhere", Message{.body = "2"}, {.mandatory = true});
    ch.basic_publish("", "q", Message{.body = "3"});
    CHECK(ch.wait_for_confirms(1s));
    CHECK(confirmed == std::vector<std::uint64_t>{1, 2, 3});

    ch.basic_publish("missing", "k", Message{});
    CHECK_THROWS_AS(ch.wait_for_confirms(1s), ChannelClosed);
}
