// x-single-active-consumer on classic queues. The expectations are what RabbitMQ 3.10.8 did
// with the same calls (conformance/scenarios/single_active_consumer.cpp plays them there).
#include <catch2/catch.hpp>

#include "broker_harness.hpp"

using namespace warren;
using namespace warren::test;

namespace {

using Seen = std::vector<std::string>;

struct Fixture {
    Harness h;
    Harness::Connection& c = h.connect();
    ChannelRef pub = h.channel(c);
    Fixture() { h.declare_queue(pub, "q", {.arguments = {{"x-single-active-consumer", true}}}); }
    void publish(int from, int to) {
        for (int i = from; i <= to; ++i) h.publish(pub, "", "q", "m" + std::to_string(i));
    }
    void qos(ChannelRef ch, std::uint16_t count) { REQUIRE(h.methods.basic_qos(ch, {0, count, false}).ok()); }
    Seen seen() { return who_got_what(c.sink.take_deliveries()); }
    std::uint32_t consumers() {
        return h.methods.queue_declare(pub, {.queue = "q", .passive = true})->consumer_count;
    }
};

}  // namespace

TEST_CASE("single active consumer: the first consumer gets everything; declare-ok counts all") {
    Fixture f;
    auto& h = f.h;
    auto ch1 = h.channel(f.c);
    auto ch2 = h.channel(f.c);
    h.consume(ch1, "q", "c1", true);
    h.consume(ch2, "q", "c2", true);
    f.publish(1, 4);
    CHECK(f.seen() == Seen{"c1:m1", "c1:m2", "c1:m3", "c1:m4"});
    CHECK(f.consumers() == 2);
}

TEST_CASE("single active consumer: its prefetch holds the queue back; basic.get still takes") {
    Fixture f;
    auto& h = f.h;
    f.publish(1, 4);
    auto ch1 = h.channel(f.c);
    auto ch2 = h.channel(f.c);
    f.qos(ch1, 1);
    h.consume(ch1, "q", "c1");
    h.consume(ch2, "q", "c2", true);
    CHECK(f.seen() == Seen{"c1:m1"});
    auto g = h.get(ch1, "q", true);
    REQUIRE(g);
    CHECK(g->message->body() == "m2");
    CHECK(g->message_count == 2);
    REQUIRE(h.methods.basic_ack(ch1, 1, false).ok());
    CHECK(f.seen() == Seen{"c1:m3"});
    CHECK(h.ready("q") == 1);
}

TEST_CASE("single active consumer: no_ack ignores prefetch; requeues return to the active one") {
    Fixture f;
    auto& h = f.h;
    f.publish(1, 3);
    auto ch1 = h.channel(f.c);
    auto ch2 = h.channel(f.c);
    SECTION("no_ack") {
        f.qos(ch1, 1);
        h.consume(ch1, "q", "c1", true);
        h.consume(ch2, "q", "c2", true);
        CHECK(f.seen() == Seen{"c1:m1", "c1:m2", "c1:m3"});
    }
    SECTION("nack requeue") {
        f.qos(ch1, 2);
        h.consume(ch1, "q", "c1");
        h.consume(ch2, "q", "c2", true);
        CHECK(f.seen() == Seen{"c1:m1", "c1:m2"});
        REQUIRE(h.methods.basic_nack(ch1, 1, false, true).ok());
        auto d = f.c.sink.take_deliveries();
        REQUIRE(d.size() == 1);
        CHECK(d[0].consumer_tag == "c1");
        CHECK(d[0].message.body == "m1");
        CHECK(d[0].redelivered);
    }
}

TEST_CASE("single active consumer: closing its channel hands the queue and its messages on") {
    Fixture f;
    auto& h = f.h;
    f.publish(1, 3);
    auto ch1 = h.channel(f.c);
    auto ch2 = h.channel(f.c);
    f.qos(ch1, 1);
    h.consume(ch1, "q", "c1");
    h.consume(ch2, "q", "c2", true);
    CHECK(f.seen() == Seen{"c1:m1"});
    h.methods.close_channel(ch1);
    auto d = f.c.sink.take_deliveries();
    CHECK(who_got_what(d) == Seen{"c2:m1", "c2:m2", "c2:m3"});
    REQUIRE(d.size() == 3);
    CHECK(d[0].redelivered);
    CHECK(f.consumers() == 1);
}

TEST_CASE("single active consumer: after basic.cancel the next one is active but not yet served") {
    Fixture f;
    auto& h = f.h;
    f.publish(1, 3);
    auto ch1 = h.channel(f.c);
    auto ch2 = h.channel(f.c);
    auto ch3 = h.channel(f.c);
    f.qos(ch1, 1);
    h.consume(ch1, "q", "c1");
    h.consume(ch2, "q", "c2", true);
    CHECK(f.seen() == Seen{"c1:m1"});
    REQUIRE(h.methods.basic_cancel(ch1, "c1").ok());
    CHECK(f.seen().empty());
    CHECK(h.ready("q") == 2);
    // An acknowledgement that unblocks no consumer does not run the queue.
    REQUIRE(h.methods.basic_ack(ch1, 1, false).ok());
    CHECK(f.seen().empty());
    auto g = h.get(ch1, "q", true);
    REQUIRE(g);
    CHECK(g->message->body() == "m2");
    // A new consumer runs it: the active consumer, not the new one, takes what waited.
    h.consume(ch3, "q", "c3", true);
    CHECK(f.seen() == Seen{"c2:m3"});
    CHECK(f.consumers() == 2);
}

TEST_CASE("single active consumer: the successor is the highest x-priority, then the earliest") {
    Fixture f;
    auto& h = f.h;
    std::vector<ChannelRef> chs;
    for (int i = 0; i < 5; ++i) chs.push_back(h.channel(f.c));
    h.consume(chs[0], "q", "c1", true, {{"x-priority", 0}});
    h.consume(chs[1], "q", "c2", true);
    h.consume(chs[2], "q", "c3", true, {{"x-priority", 10}});
    h.consume(chs[3], "q", "c4", true, {{"x-priority", -5}});
    h.consume(chs[4], "q", "c5", true);
    f.publish(1, 1);
    CHECK(f.seen() == Seen{"c1:m1"});
    REQUIRE(h.methods.basic_cancel(chs[0], "c1").ok());
    f.publish(2, 2);
    CHECK(f.seen() == Seen{"c3:m2"});
    REQUIRE(h.methods.basic_cancel(chs[2], "c3").ok());
    f.publish(3, 3);
    CHECK(f.seen() == Seen{"c2:m3"});
    h.methods.close_channel(chs[1]);
    f.publish(4, 4);
    CHECK(f.seen() == Seen{"c5:m4"});
    REQUIRE(h.methods.basic_cancel(chs[4], "c5").ok());
    f.publish(5, 5);
    CHECK(f.seen() == Seen{"c4:m5"});
}

TEST_CASE("single active consumer: an exclusive consume is refused, even on an idle queue") {
    Fixture f;
    auto& h = f.h;
    auto ch = h.channel(f.c);
    require_error(h.methods.basic_consume(ch, {.queue = "q", .exclusive = true}), ReplyCode::AccessRefused,
                  "ACCESS_REFUSED - queue 'q' in vhost '/' in exclusive use");
    CHECK(h.methods.basic_consume(h.channel(f.c), {.queue = "q"}).ok());
    CHECK(f.consumers() == 1);
}
