// Priority queues (x-max-priority), as observed on RabbitMQ 3.10.8: order, requeue, drop-head,
// and TTL, which rabbit_priority_queue applies to the head of the whole queue.
#include <catch2/catch.hpp>

#include <chrono>

#include "broker_harness.hpp"

using namespace warren;
using namespace warren::test;
using namespace std::chrono_literals;

namespace {

using Bodies = std::vector<std::string>;

BasicProperties priority(std::uint8_t p) { return {.priority = p}; }

}  // namespace

TEST_CASE("higher priority first; above the maximum counts as the maximum, none as 0; FIFO within one") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "q", {.arguments = {{"x-max-priority", 5}}});
    h.publish(ch, "", "q", "n1");
    h.publish(ch, "", "q", "p3a", priority(3));
    h.publish(ch, "", "q", "p9", priority(9));
    h.publish(ch, "", "q", "p0", priority(0));
    h.publish(ch, "", "q", "p3b", priority(3));
    h.publish(ch, "", "q", "p5", priority(5));
    h.publish(ch, "", "q", "n2");
    CHECK(drain(h, ch, "q") == Bodies{"p9", "p5", "p3a", "p3b", "n1", "p0", "n2"});
}

TEST_CASE("consumers are served by priority too") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q", {.arguments = {{"x-max-priority", 10}}});
    for (std::uint8_t p : {1, 7, 4}) h.publish(ch, "", "q", std::to_string(p), priority(p));
    h.consume(ch, "q", "c", true);
    CHECK(who_got_what(c.sink.take_deliveries()) == Bodies{"c:7", "c:4", "c:1"});
}

TEST_CASE("x-max-priority 0 makes a queue that ignores priorities") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "q", {.arguments = {{"x-max-priority", 0}}});
    h.publish(ch, "", "q", "b");
    h.publish(ch, "", "q", "a", priority(3));
    CHECK(drain(h, ch, "q") == Bodies{"b", "a"});
}

TEST_CASE("a requeued message returns to its place within its priority") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "q", {.arguments = {{"x-max-priority", 5}}});
    h.publish(ch, "", "q", "x5", priority(5));
    h.publish(ch, "", "q", "y1", priority(1));
    h.publish(ch, "", "q", "z5", priority(5));
    auto held = h.get(ch, "q");
    REQUIRE(held);
    CHECK(held->message->body() == "x5");
    h.publish(ch, "", "q", "w5", priority(5));
    REQUIRE(h.methods.basic_nack(ch, held->delivery_tag, false, true).ok());
    std::vector<std::string> order;
    while (auto got = h.get(ch, "q", true))
        order.push_back(got->message->body() + (got->redelivered ? "*" : ""));
    CHECK(order == Bodies{"x5*", "z5", "w5", "y1"});
}

TEST_CASE("drop-head drops the head of the highest priority") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "dl");
    h.declare_queue(ch, "q", {.arguments = {{"x-max-priority", 5}, {"x-max-length", 3},
                                            {"x-dead-letter-exchange", ""},
                                            {"x-dead-letter-routing-key", "dl"}}});
    h.publish(ch, "", "q", "l1", priority(1));
    h.publish(ch, "", "q", "h5", priority(5));
    h.publish(ch, "", "q", "l2", priority(1));
    h.publish(ch, "", "q", "m3", priority(3));
    CHECK(drain(h, ch, "q") == Bodies{"m3", "l1", "l2"});
    CHECK(drain(h, ch, "dl") == Bodies{"h5"});
}

TEST_CASE("TTL in a priority queue: a lower-priority message that expired waits behind a live head") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "dl");
    const FieldTable dlx{{"x-dead-letter-exchange", ""}, {"x-dead-letter-routing-key", "dl"}};

    SECTION("x-message-ttl: the earlier low-priority message outlives its TTL until the head goes") {
        FieldTable args = dlx;
        args.set("x-max-priority", 5);
        args.set("x-message-ttl", 600);
        h.declare_queue(ch, "q", {.arguments = args});
        h.publish(ch, "", "q", "low", priority(0));
        h.broker.advance(300ms);
        h.publish(ch, "", "q", "high", priority(5));
        h.broker.advance(450ms);  // low is 750 ms old, high 450 ms
        CHECK(h.ready("q") == 2);
        CHECK(h.ready("dl") == 0);
        auto got = h.get(ch, "q", true);
        REQUIRE(got);
        CHECK(got->message->body() == "high");
        CHECK(got->message_count == 0);
        CHECK(drain(h, ch, "dl") == Bodies{"low"});
    }

    SECTION("per-message expiration alike") {
        FieldTable args = dlx;
        args.set("x-max-priority", 5);
        h.declare_queue(ch, "q", {.arguments = args});
        h.publish(ch, "", "q", "hi", {.priority = 5, .expiration = "5000"});
        h.publish(ch, "", "q", "lo", {.priority = 1, .expiration = "100"});
        h.broker.advance(300ms);
        CHECK(h.ready("q") == 2);
        CHECK(h.ready("dl") == 0);
        h.broker.advance(4700ms);  // hi expires; lo, already due, follows it
        CHECK(h.ready("q") == 0);
        CHECK(drain(h, ch, "dl") == Bodies{"hi", "lo"});
    }
}
