// Time in the model: x-message-ttl and per-message expiration, TTL 0, and x-expires, driven by
// the ManualClock. Every expected outcome was first observed on RabbitMQ 3.10.8 with short
// real TTLs (the broker's clock is microseconds; here it is exact milliseconds).
#include <catch2/catch.hpp>

#include <chrono>

#include "broker_harness.hpp"

using namespace warren;
using namespace warren::test;
using namespace std::chrono_literals;

namespace {

using Bodies = std::vector<std::string>;

FieldTable ttl(std::int64_t ms) { return {{"x-message-ttl", ms}}; }

/// x-message-ttl with a dead-letter exchange "" routing to `to`.
FieldTable ttl_to(std::int64_t ms, const std::string& to) {
    return {{"x-message-ttl", ms}, {"x-dead-letter-exchange", ""}, {"x-dead-letter-routing-key", to}};
}

BasicProperties expiring(std::string ms) { return {.expiration = std::move(ms)}; }

}  // namespace

TEST_CASE("a message expires when its age reaches the TTL, not a millisecond later") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "q", {.arguments = ttl(1000)});
    h.publish(ch, "", "q", "m");
    CHECK(h.broker.next_deadline() == h.broker.now() + 1000ms);
    h.broker.advance(999ms);
    CHECK(h.ready("q") == 1);
    h.broker.advance(1ms);
    CHECK(h.ready("q") == 0);
    CHECK_FALSE(h.broker.next_deadline());
}

TEST_CASE("the smaller of x-message-ttl and expiration wins") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "queue-ttl-smaller", {.arguments = ttl(200)});
    h.declare_queue(ch, "expiration-smaller", {.arguments = ttl(1000)});
    h.publish(ch, "", "queue-ttl-smaller", "a", expiring("1000"));
    h.publish(ch, "", "expiration-smaller", "b", expiring("200"));
    h.broker.advance(199ms);
    CHECK(h.ready("queue-ttl-smaller") == 1);
    CHECK(h.ready("expiration-smaller") == 1);
    h.broker.advance(1ms);
    CHECK(h.ready("queue-ttl-smaller") == 0);
    CHECK(h.ready("expiration-smaller") == 0);
}

TEST_CASE("expiration is a decimal string; x-message-ttl and x-expires have RabbitMQ's limits") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q");
    const std::vector<std::pair<std::string, std::string>> refused = {
        {"1.5", "PRECONDITION_FAILED - invalid expiration '1.5': {leftover_string,\".5\"}"},
        {"315360000001", "PRECONDITION_FAILED - invalid expiration '315360000001': {value_too_large,315360000001}"},
        {" 5", "PRECONDITION_FAILED - invalid expiration ' 5': no_integer"},
        {"", "PRECONDITION_FAILED - invalid expiration '': no_integer"},
        {"-05", "PRECONDITION_FAILED - invalid expiration '-05': {value_negative,-5}"},
        {"00012x", "PRECONDITION_FAILED - invalid expiration '00012x': {leftover_string,\"x\"}"},
        // Erlang's ~p escapes a printable leftover and lists the bytes of any other.
        {"1\"a", "PRECONDITION_FAILED - invalid expiration '1\"a': {leftover_string,\"\\\"a\"}"},
        {"1\\b", "PRECONDITION_FAILED - invalid expiration '1\\b': {leftover_string,\"\\\\b\"}"},
        {"1\x1bz", "PRECONDITION_FAILED - invalid expiration '1\x1bz': {leftover_string,\"\\ez\"}"},
        {"1\x01z", "PRECONDITION_FAILED - invalid expiration '1\x01z': {leftover_string,[1,122]}"},
        // ~p breaks a term that would reach column 79 (line length 80) after its first element.
        {"999999999999999999", "PRECONDITION_FAILED - invalid expiration '999999999999999999': "
                               "{value_too_large,999999999999999999}"},
        {"9999999999999999999", "PRECONDITION_FAILED - invalid expiration '9999999999999999999': "
                                "{value_too_large,\n" + std::string(43, ' ') + "9999999999999999999}"},
        {"0099999999999999999999", "PRECONDITION_FAILED - invalid expiration '0099999999999999999999': "
                                   "{value_too_large,\n" + std::string(46, ' ') + "99999999999999999999}"},
        {"-999999999999999999", "PRECONDITION_FAILED - invalid expiration '-999999999999999999': "
                                "{value_negative,-999999999999999999}"},
        {"-9999999999999999999", "PRECONDITION_FAILED - invalid expiration '-9999999999999999999': "
                                 "{value_negative,\n" + std::string(44, ' ') + "-9999999999999999999}"},
        {"1" + std::string(40, 'x'), "PRECONDITION_FAILED - invalid expiration '1" + std::string(40, 'x') +
                                         "': {leftover_string,\n" + std::string(65, ' ') + "\"" +
                                         std::string(40, 'x') + "\"}"},
    };
    for (const auto& [expiration, text] : refused) {
        INFO(expiration);
        require_error(h.methods.basic_publish(ch, {"", "q"}, Message{"m", expiring(expiration)}),
                      ReplyCode::PreconditionFailed, text);
        ch = h.channel(c);
    }
    h.publish(ch, "", "q", "signed", expiring("+5"));
    h.publish(ch, "", "q", "negative zero", expiring("-0"));
    h.publish(ch, "", "q", "leading zeros", expiring("0000000000000000000000000000005"));
    CHECK(h.ready("q") == 3);

    const std::string for_q = "for queue 'bad' in vhost '/': ";
    require_error(h.methods.queue_declare(ch, {.queue = "bad", .arguments = ttl(-1)}),
                  ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - invalid arg 'x-message-ttl' " + for_q + "{value_negative,-1}");
    ch = h.channel(c);
    require_error(h.methods.queue_declare(ch, {.queue = "bad", .arguments = {{"x-message-ttl", "1000"}}}),
                  ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - invalid arg 'x-message-ttl' " + for_q + "\"expected integer, got longstr\"");
    ch = h.channel(c);
    require_error(h.methods.queue_declare(ch, {.queue = "bad", .arguments = {{"x-expires", 0}}}),
                  ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - invalid arg 'x-expires' " + for_q + "{value_zero,0}");
}

TEST_CASE("advance fires everything due in due order, across queues and dead-letter hops") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "sink");

    SECTION("queues' expiries interleave by time, not by queue") {
        h.declare_queue(ch, "slow", {.arguments = ttl_to(300, "sink")});
        h.declare_queue(ch, "fast", {.arguments = ttl_to(100, "sink")});
        h.publish(ch, "", "slow", "slow-1");
        h.publish(ch, "", "fast", "fast-1");
        h.broker.advance(50ms);
        h.publish(ch, "", "fast", "fast-2");  // due at 150
        h.publish(ch, "", "slow", "slow-2");  // due at 350
        h.broker.advance(1000ms);
        CHECK(drain(h, ch, "sink") == Bodies{"fast-1", "fast-2", "slow-1", "slow-2"});
    }

    SECTION("a message expiring into a queue whose TTL also falls due expires there in the same advance") {
        // 600 + 600 ms: the two deaths fall in different seconds, which x-death's times show.
        h.declare_queue(ch, "second", {.arguments = ttl_to(600, "sink")});
        h.declare_queue(ch, "first", {.arguments = ttl_to(600, "second")});
        h.publish(ch, "", "first", "m");
        const TimePoint t0 = h.broker.now();
        h.broker.advance(1200ms);
        CHECK(h.ready("first") == 0);
        CHECK(h.ready("second") == 0);
        auto got = h.get(ch, "sink", true);
        REQUIRE(got);
        CHECK(got->message->exchange() == "");
        CHECK(got->message->routing_key() == "sink");
        const Message m = got->message->to_message();
        CHECK(deaths(m) == Bodies{"second/expired/1", "first/expired/1"});
        const FieldArray& x_death = m.properties.headers.at("x-death").as_array();
        const auto seconds = [](TimePoint t) {
            return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
        };
        CHECK(x_death[1].as_table().at("time") == FieldValue(Timestamp{seconds(t0 + 600ms)}));
        CHECK(x_death[0].as_table().at("time") == FieldValue(Timestamp{seconds(t0 + 1200ms)}));
        CHECK(m.properties.headers.at("x-first-death-queue").as_string() == "first");
        CHECK(m.properties.headers.at("x-first-death-reason").as_string() == "expired");
    }

    SECTION("advance stops at its end: what is due later waits") {
        h.declare_queue(ch, "second", {.arguments = ttl_to(600, "sink")});
        h.declare_queue(ch, "first", {.arguments = ttl_to(600, "second")});
        h.publish(ch, "", "first", "m");
        h.broker.advance(1199ms);
        CHECK(h.ready("second") == 1);
        CHECK(h.broker.next_deadline() == h.broker.now() + 1ms);
        h.broker.advance(1ms);
        CHECK(h.ready("sink") == 1);
    }
}

TEST_CASE("expired messages are never delivered") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);

    SECTION("not to a consumer that arrives after they expired, nor by basic.get") {
        h.declare_queue(ch, "q", {.arguments = ttl(200)});
        for (const char* b : {"d0", "d1", "d2"}) h.publish(ch, "", "q", b);
        h.broker.advance(200ms);
        CHECK_FALSE(h.get(ch, "q"));
        h.consume(ch, "q", "c", true);
        CHECK(c.sink.take_deliveries().empty());
    }

    SECTION("not to a consumer whose prefetch frees up after they expired") {
        h.declare_queue(ch, "q", {.arguments = ttl(300)});
        REQUIRE(h.methods.basic_qos(ch, {0, 1, false}).ok());
        h.consume(ch, "q", "c");
        h.publish(ch, "", "q", "t1");
        h.publish(ch, "", "q", "t2");
        auto d = c.sink.take_deliveries();
        REQUIRE(who_got_what(d) == Bodies{"c:t1"});
        h.broker.advance(400ms);
        REQUIRE(h.methods.basic_ack(ch, d[0].tag, false).ok());
        CHECK(c.sink.take_deliveries().empty());
    }

    SECTION("a requeued message keeps its expiry; past it, it is dead-lettered, not redelivered") {
        h.declare_queue(ch, "dl");
        h.declare_queue(ch, "q", {.arguments = ttl_to(1000, "dl")});
        h.publish(ch, "", "q", "m");
        auto held = h.get(ch, "q");
        REQUIRE(held);
        h.broker.advance(500ms);
        REQUIRE(h.methods.basic_nack(ch, held->delivery_tag, false, true).ok());
        CHECK(h.ready("q") == 1);  // requeued before its time
        h.broker.advance(499ms);
        CHECK(h.ready("q") == 1);
        h.broker.advance(1ms);  // 1000 ms after the publish, not after the requeue
        CHECK(h.ready("q") == 0);
        auto dead = h.get(ch, "dl");
        REQUIRE(dead);
        CHECK_FALSE(dead->redelivered);
        CHECK(deaths(dead->message->to_message()) == Bodies{"q/expired/1"});
    }

    SECTION("a message held past its expiry and requeued goes at once") {
        h.declare_queue(ch, "dl");
        h.declare_queue(ch, "q", {.arguments = ttl_to(500, "dl")});
        h.publish(ch, "", "q", "m");
        h.consume(ch, "q", "c");
        auto d = c.sink.take_deliveries();
        REQUIRE(d.size() == 1);
        h.broker.advance(700ms);
        REQUIRE(h.methods.basic_nack(ch, d[0].tag, false, true).ok());
        CHECK(c.sink.take_deliveries().empty());  // not redelivered to the consumer
        CHECK(h.ready("q") == 0);
        auto dead = h.get(ch, "dl");
        REQUIRE(dead);
        CHECK_FALSE(dead->redelivered);
        CHECK(deaths(dead->message->to_message()) == Bodies{"q/expired/1"});
    }
}

TEST_CASE("per-message expiration is checked at the head of the queue only") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "q");
    h.publish(ch, "", "q", "m1", expiring("5000"));
    h.publish(ch, "", "q", "m2", expiring("100"));
    h.broker.advance(400ms);
    // m2 has expired behind a live head: it still counts.
    CHECK(h.ready("q") == 2);
    auto got = h.get(ch, "q", true);
    REQUIRE(got);
    CHECK(got->message->body() == "m1");
    // Once m1 leaves, m2 is at the head and goes: get-ok already counts it out.
    CHECK(got->message_count == 0);
    CHECK(h.ready("q") == 0);
}

TEST_CASE("expiration 0 published behind other messages waits to reach the head") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "q");
    h.publish(ch, "", "q", "g1");
    h.publish(ch, "", "q", "g2", expiring("0"));
    h.broker.advance(200ms);
    CHECK(h.ready("q") == 2);
    auto got = h.get(ch, "q", true);
    REQUIRE(got);
    CHECK(got->message->body() == "g1");
    CHECK(got->message_count == 0);
    CHECK(h.ready("q") == 0);
}

TEST_CASE("TTL 0: delivered only to a consumer that can take it at once") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q", {.arguments = ttl(0)});

    SECTION("with no consumer it is discarded, acked under confirms, and never returned") {
        REQUIRE(h.methods.confirm_select(ch).ok());
        h.publish(ch, "", "q", "m", {}, /*mandatory=*/true);
        REQUIRE(c.sink.events.size() == 1);
        CHECK(c.sink.events[0].kind == SinkEvent::Kind::Confirm);
        CHECK(c.sink.events[0].ack);
        CHECK(h.ready("q") == 0);
    }

    SECTION("a consumer with room takes it; one at its prefetch limit lets it go") {
        auto consumer_ch = h.channel(c);
        REQUIRE(h.methods.basic_qos(consumer_ch, {0, 1, false}).ok());
        h.consume(consumer_ch, "q", "c");
        h.publish(ch, "", "q", "f1");
        h.publish(ch, "", "q", "f2");
        CHECK(who_got_what(c.sink.take_deliveries()) == Bodies{"c:f1"});
        CHECK(h.ready("q") == 0);
    }

    SECTION("with a dead-letter exchange it is dead-lettered as expired") {
        h.declare_queue(ch, "dl");
        h.declare_queue(ch, "q0", {.arguments = ttl_to(0, "dl")});
        h.publish(ch, "", "q0", "m");
        auto dead = h.get(ch, "dl");
        REQUIRE(dead);
        CHECK(deaths(dead->message->to_message()) == Bodies{"q0/expired/1"});
    }

    SECTION("expiration 0 into an empty queue behaves alike") {
        h.declare_queue(ch, "plain");
        h.publish(ch, "", "plain", "gone", expiring("0"));
        CHECK(h.ready("plain") == 0);
        h.consume(ch, "plain", "c");
        h.publish(ch, "", "plain", "taken", expiring("0"));
        CHECK(who_got_what(c.sink.take_deliveries()) == Bodies{"c:taken"});
    }
}

TEST_CASE("x-expires: an unused queue goes after the period, its messages not dead-lettered") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "dl");
    h.declare_queue(ch, "q", {.arguments = {{"x-expires", 600}, {"x-dead-letter-exchange", ""},
                                            {"x-dead-letter-routing-key", "dl"}}});
    h.publish(ch, "", "q", "m");
    h.broker.advance(599ms);
    CHECK(h.has_queue("q"));
    h.broker.advance(1ms);
    CHECK_FALSE(h.has_queue("q"));
    CHECK(h.ready("dl") == 0);
}

TEST_CASE("x-expires: what counts as use is what RabbitMQ's queue process counts") {
    // rabbit_amqqueue_process restarts the expiry timer in basic_get, stat (queue.declare,
    // passive or not), basic_cancel and a channel's going down; a consumer keeps the queue.
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    const FieldTable expires{{"x-expires", 3000}};
    auto declare = [&](const std::string& name) { h.declare_queue(ch, name, {.arguments = expires}); };
    for (const char* name : {"purge", "bind", "unbind", "publish", "get-empty", "get", "redeclare",
                             "passive", "consumer", "cancelled", "channel-closed", "held-unacked"})
        declare(name);
    h.publish(ch, "", "get", "m");
    h.publish(ch, "", "held-unacked", "m");
    h.bind(ch, "unbind", "amq.direct", "k");
    h.consume(ch, "consumer", "stays", true);
    h.consume(ch, "cancelled", "cancelled", true);
    auto other = h.channel(c);
    h.consume(other, "channel-closed", "closed", true);
    auto holder = h.channel(c);
    REQUIRE(h.get(holder, "held-unacked"));

    h.broker.advance(1000ms);
    REQUIRE(h.methods.queue_purge(ch, "purge").ok());
    h.bind(ch, "bind", "amq.direct", "k");
    REQUIRE(h.methods.queue_unbind(ch, {"unbind", "amq.direct", "k", {}}).ok());
    h.publish(ch, "", "publish", "m");
    CHECK_FALSE(h.get(ch, "get-empty"));
    CHECK(h.get(ch, "get", true));
    declare("redeclare");
    REQUIRE(h.methods.queue_declare(ch, {.queue = "passive", .passive = true}).ok());
    REQUIRE(h.methods.basic_cancel(ch, "cancelled").ok());
    h.methods.close_channel(other);
    h.methods.close_channel(holder);  // requeues the message it held

    h.broker.advance(2000ms);  // 3000 ms after the declarations
    for (const char* gone : {"purge", "bind", "unbind", "publish"}) {
        INFO(gone);
        CHECK_FALSE(h.has_queue(gone));
    }
    for (const char* kept : {"get-empty", "get", "redeclare", "passive", "consumer", "cancelled",
                             "channel-closed", "held-unacked"}) {
        INFO(kept);
        CHECK(h.has_queue(kept));
    }
    h.broker.advance(1000ms);  // 3000 ms after the uses
    for (const char* gone : {"get-empty", "get", "redeclare", "passive", "cancelled", "channel-closed",
                             "held-unacked"}) {
        INFO(gone);
        CHECK_FALSE(h.has_queue(gone));
    }
    CHECK(h.has_queue("consumer"));
}

TEST_CASE("x-expires: a queue with a consumer past its period counts from the consumer's leaving") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "q", {.arguments = {{"x-expires", 2000}}});
    h.consume(ch, "q", "c", true);
    CHECK_FALSE(h.broker.next_deadline());
    h.broker.advance(2500ms);
    CHECK(h.has_queue("q"));
    REQUIRE(h.methods.basic_cancel(ch, "c").ok());
    CHECK(h.broker.next_deadline() == h.broker.now() + 2000ms);
    h.broker.advance(1999ms);
    CHECK(h.has_queue("q"));
    h.broker.advance(1ms);
    CHECK_FALSE(h.has_queue("q"));
}
