// Length limits: x-max-length and x-max-length-bytes under each x-overflow, with confirms,
// dead-lettering and requeues, as observed on RabbitMQ 3.10.8.
#include <catch2/catch.hpp>

#include "broker_harness.hpp"

using namespace warren;
using namespace warren::test;

namespace {

using Bodies = std::vector<std::string>;

/// The given limits plus a dead-letter exchange "" routing to "dl".
FieldTable limited(FieldTable limits) {
    limits.set("x-dead-letter-exchange", "");
    limits.set("x-dead-letter-routing-key", "dl");
    return limits;
}

/// "ack N" / "nack N" for each confirm the connection received, and forgets its events.
std::vector<std::string> confirms(RecordingSink& sink) {
    std::vector<std::string> out;
    for (const auto& e : sink.events) {
        if (e.kind == SinkEvent::Kind::Return) out.push_back("return " + e.message.body);
        if (e.kind == SinkEvent::Kind::Confirm)
            out.push_back(fmt::format("{} {}", e.ack ? "ack" : "nack", e.tag));
    }
    sink.events.clear();
    return out;
}

}  // namespace

TEST_CASE("drop-head: the oldest messages go, dead-lettered as maxlen") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "dl");
    h.declare_queue(ch, "q", {.arguments = limited({{"x-max-length", 2}})});
    for (const char* b : {"a0", "a1", "a2", "a3"}) h.publish(ch, "", "q", b);
    CHECK(drain(h, ch, "q") == Bodies{"a2", "a3"});
    std::vector<std::string> dead;
    while (auto got = h.get(ch, "dl", true)) {
        CHECK(deaths(got->message->to_message()) == Bodies{"q/maxlen/1"});
        dead.push_back(got->message->body());
    }
    CHECK(dead == Bodies{"a0", "a1"});
}

TEST_CASE("x-max-length-bytes counts body bytes only") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "q", {.arguments = {{"x-max-length-bytes", 10}}});
    const BasicProperties big_headers{.headers = {{"big", std::string(100, 'x')}}};
    for (const char* b : {"12345", "123456", "1234"}) h.publish(ch, "", "q", b, big_headers);
    CHECK(h.broker.queue("/", "q")->message_bytes_ready == 10);
    CHECK(drain(h, ch, "q") == Bodies{"123456", "1234"});
}

TEST_CASE("only ready messages count against the limit") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "q", {.arguments = {{"x-max-length", 2}}});
    h.publish(ch, "", "q", "m1");
    REQUIRE(h.get(ch, "q"));  // held unacknowledged
    h.publish(ch, "", "q", "m2");
    h.publish(ch, "", "q", "m3");
    CHECK(h.ready("q") == 2);
    CHECK(h.unacked("q") == 1);
}

TEST_CASE("reject-publish: the publish over the limit is dropped and nacked, never returned") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "dl");
    REQUIRE(h.methods.confirm_select(ch).ok());

    SECTION("reject-publish dead-letters nothing") {
        h.declare_queue(ch, "q", {.arguments = limited({{"x-max-length", 2}, {"x-overflow", "reject-publish"}})});
        for (const char* b : {"r0", "r1", "r2"}) h.publish(ch, "", "q", b, {}, /*mandatory=*/true);
        CHECK(confirms(c.sink) == Bodies{"ack 1", "ack 2", "nack 3"});
        CHECK(drain(h, ch, "q") == Bodies{"r0", "r1"});
        CHECK(h.ready("dl") == 0);
    }

    SECTION("reject-publish-dlx dead-letters the refused message as maxlen") {
        h.declare_queue(ch, "q", {.arguments = limited({{"x-max-length", 1}, {"x-overflow", "reject-publish-dlx"}})});
        h.publish(ch, "", "q", "rd0");
        h.publish(ch, "", "q", "rd1");
        CHECK(confirms(c.sink) == Bodies{"ack 1", "nack 2"});
        CHECK(drain(h, ch, "q") == Bodies{"rd0"});
        auto dead = h.get(ch, "dl", true);
        REQUIRE(dead);
        CHECK(dead->message->body() == "rd1");
        CHECK(deaths(dead->message->to_message()) == Bodies{"q/maxlen/1"});
    }

    SECTION("by bytes too") {
        h.declare_queue(ch, "q", {.arguments = {{"x-max-length-bytes", 5}, {"x-overflow", "reject-publish"}}});
        h.publish(ch, "", "q", "1234");
        h.publish(ch, "", "q", "56");
        h.publish(ch, "", "q", "5");
        CHECK(confirms(c.sink) == Bodies{"ack 1", "nack 2", "ack 3"});
        CHECK(drain(h, ch, "q") == Bodies{"1234", "5"});
    }

    SECTION("one queue refusing nacks the publish; the other queues keep it") {
        h.declare_exchange(ch, "fan", "fanout");
        h.declare_queue(ch, "full", {.arguments = {{"x-max-length", 0}, {"x-overflow", "reject-publish"}}});
        h.declare_queue(ch, "open");
        h.bind(ch, "full", "fan", "");
        h.bind(ch, "open", "fan", "");
        h.publish(ch, "fan", "", "multi");
        CHECK(confirms(c.sink) == Bodies{"nack 1"});
        CHECK(drain(h, ch, "open") == Bodies{"multi"});
    }

    SECTION("it is checked before any delivery: a waiting consumer does not get it") {
        h.declare_queue(ch, "q", {.arguments = {{"x-max-length", 0}, {"x-overflow", "reject-publish"}}});
        h.consume(ch, "q", "c", true);
        h.publish(ch, "", "q", "z");
        CHECK(c.sink.take_deliveries().empty());
    }
}

TEST_CASE("drop-head with x-max-length 0 still hands a message to a waiting consumer") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q", {.arguments = {{"x-max-length", 0}}});
    h.publish(ch, "", "q", "dropped");
    CHECK(h.ready("q") == 0);
    h.consume(ch, "q", "c", true);
    h.publish(ch, "", "q", "taken");
    CHECK(who_got_what(c.sink.take_deliveries()) == Bodies{"c:taken"});
}

TEST_CASE("a requeue can push a queue over its limit") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "dl");

    SECTION("drop-head then drops from the head, which may be the requeued message") {
        h.declare_queue(ch, "q", {.arguments = limited({{"x-max-length", 2}})});
        h.publish(ch, "", "q", "h1");
        h.publish(ch, "", "q", "h2");
        auto held = h.get(ch, "q");
        REQUIRE(held);
        h.publish(ch, "", "q", "h3");
        REQUIRE(h.methods.basic_nack(ch, held->delivery_tag, false, true).ok());
        CHECK(drain(h, ch, "q") == Bodies{"h2", "h3"});
        auto dead = h.get(ch, "dl", true);
        REQUIRE(dead);
        CHECK(dead->message->body() == "h1");
        CHECK(deaths(dead->message->to_message()) == Bodies{"q/maxlen/1"});
    }

    SECTION("reject-publish keeps all of them and refuses the next publish") {
        h.declare_queue(ch, "q", {.arguments = {{"x-max-length", 2}, {"x-overflow", "reject-publish"}}});
        h.publish(ch, "", "q", "j1");
        h.publish(ch, "", "q", "j2");
        auto held = h.get(ch, "q");
        REQUIRE(held);
        h.publish(ch, "", "q", "j3");
        REQUIRE(h.methods.basic_nack(ch, held->delivery_tag, false, true).ok());
        CHECK(h.ready("q") == 3);
        h.publish(ch, "", "q", "j4");
        CHECK(drain(h, ch, "q") == Bodies{"j1", "j2", "j3"});
    }

    SECTION("closing the channel requeues over the limit as well") {
        auto other = h.channel(h.connect());
        h.declare_queue(ch, "q", {.arguments = limited({{"x-max-length", 1}})});
        h.publish(ch, "", "q", "k1");
        REQUIRE(h.get(other, "q"));
        h.publish(ch, "", "q", "k2");
        h.methods.close_channel(other);
        CHECK(drain(h, ch, "q") == Bodies{"k2"});
        CHECK(drain(h, ch, "dl") == Bodies{"k1"});
    }
}
