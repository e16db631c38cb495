// Quorum queues. The expectations are what RabbitMQ 3.10.8 did with the same calls
// (conformance/scenarios/quorum.cpp plays them there).
#include <catch2/catch.hpp>

#include "broker_harness.hpp"

using namespace warren;
using namespace warren::test;
using namespace std::chrono_literals;

namespace {

FieldTable quorum(FieldTable extra = {}) {
    FieldTable args{{"x-queue-type", "quorum"}};
    for (const auto& [k, v] : extra) args.set(k, v);
    return args;
}

emulator::QueueDeclare durable_quorum(FieldTable extra = {}) {
    return {.durable = true, .arguments = quorum(std::move(extra))};
}

std::optional<std::int64_t> delivery_count(const Message& m) {
    const FieldValue* v = m.properties.headers.find("x-delivery-count");
    if (!v) return std::nullopt;
    return v->as_int();
}

struct Fixture {
    Harness h;
    Harness::Connection& c = h.connect();
    ChannelRef ch = h.channel(c);
    explicit Fixture(FieldTable extra = {}, int messages = 0) {
        h.declare_queue(ch, "q", durable_quorum(std::move(extra)));
        publish(0, messages);
    }
    void publish(int from, int to) {
        for (int i = from; i < to; ++i) h.publish(ch, "", "q", "m" + std::to_string(i));
    }
    std::uint32_t consumers() {
        return h.methods.queue_declare(ch, {.queue = "q", .passive = true})->consumer_count;
    }
};

}  // namespace

TEST_CASE("quorum: must be durable, shared and not auto-delete, and named by the client") {
    Harness h;
    auto& c = h.connect();
    auto declare = [&](emulator::QueueDeclare m) {
        m.queue = "q";
        m.arguments = quorum();
        return h.methods.queue_declare(h.channel(c), m);
    };
    require_error(declare({.durable = false}), ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - invalid property 'non-durable' for queue 'q' in vhost '/'");
    require_error(declare({.durable = true, .exclusive = true}), ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - invalid property 'exclusive-owner' for queue 'q' in vhost '/'");
    require_error(declare({.durable = true, .exclusive = true, .auto_delete = true}), ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - invalid property 'auto-delete' for queue 'q' in vhost '/'");
    require_error(h.methods.queue_declare(h.channel(c), {.queue = "", .durable = true, .arguments = quorum()}),
                  ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - Cannot declare a server-named queue for type rabbit_quorum_queue");
    CHECK_FALSE(h.has_queue("q"));
    REQUIRE(declare({.durable = true}).ok());
    CHECK(h.broker.queue("/", "q")->type == "quorum");
}

TEST_CASE("quorum: another type's arguments are refused, after the value checks of its own") {
    Harness h;
    auto& c = h.connect();
    auto refusal = [&](FieldTable extra) {
        auto r = h.methods.queue_declare(h.channel(c), {.queue = "q", .durable = true, .arguments = quorum(extra)});
        // The explanation, after "PRECONDITION_FAILED - ".
        return r.ok() ? std::string("accepted") : r.error().reply_text().substr(22);
    };
    const std::string of_type = " for queue 'q' in vhost '/' of queue type rabbit_quorum_queue";
    CHECK(refusal({{"x-max-priority", -1}}) == "invalid arg 'x-max-priority'" + of_type);
    CHECK(refusal({{"x-queue-mode", "lazy"}, {"x-max-priority", 3}}) == "invalid arg 'x-queue-mode'" + of_type);
    CHECK(refusal({{"x-max-priority", 3}, {"x-message-ttl", -1}}) ==
          "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-1}");
    CHECK(refusal({{"x-dead-letter-strategy", "foo"}}) ==
          "invalid arg 'x-dead-letter-strategy' for queue 'q' in vhost '/': invalid_dlx_strategy");
    CHECK(refusal({{"x-delivery-limit", "a"}}) == "accepted");
}

TEST_CASE("quorum: a classic queue refuses quorum arguments before looking at their values") {
    Harness h;
    auto& c = h.connect();
    auto r = h.methods.queue_declare(h.channel(c), {.queue = "q", .arguments = {{"x-max-in-memory-length", -1}}});
    require_error(r, ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - invalid arg 'x-max-in-memory-length' for queue 'q' in vhost '/' of queue type rabbit_classic_queue");
}

TEST_CASE("quorum: basic.get adds x-delivery-count; a nack requeues to the back, counted") {
    Fixture f({}, 4);
    auto a = f.h.get(f.ch, "q");
    auto b = f.h.get(f.ch, "q");
    CHECK(delivery_count(a->message->to_message()) == 0);
    REQUIRE(f.h.methods.basic_nack(f.ch, b->delivery_tag, false, true).ok());
    REQUIRE(f.h.methods.basic_nack(f.ch, a->delivery_tag, false, true).ok());
    auto c = f.h.get(f.ch, "q", true);
    CHECK(c->message->body() == "m2");
    CHECK_FALSE(c->redelivered);
    f.h.get(f.ch, "q", true);
    auto again = f.h.get(f.ch, "q", true);
    CHECK(again->message->body() == "m1");
    CHECK(again->redelivered);
    CHECK(delivery_count(again->message->to_message()) == 1);
    CHECK(drain(f.h, f.ch, "q") == std::vector<std::string>{"m0"});
}

TEST_CASE("quorum: with x-delivery-limit a nack requeues to the front, in nack order") {
    Fixture f({{"x-delivery-limit", 5}}, 3);
    auto a = f.h.get(f.ch, "q");
    auto b = f.h.get(f.ch, "q");
    REQUIRE(f.h.methods.basic_nack(f.ch, b->delivery_tag, false, true).ok());
    REQUIRE(f.h.methods.basic_nack(f.ch, a->delivery_tag, false, true).ok());
    CHECK(drain(f.h, f.ch, "q") == std::vector<std::string>{"m1", "m0", "m2"});
}

TEST_CASE("quorum: what a closing channel held goes back to the front") {
    Fixture f({}, 4);
    auto other = f.h.channel(f.c);
    f.h.get(other, "q");
    f.h.get(other, "q");
    f.h.methods.close_channel(other);
    CHECK(drain(f.h, f.ch, "q") == std::vector<std::string>{"m0", "m1", "m2", "m3"});
}

TEST_CASE("quorum: a consumer's first delivery has no x-delivery-count, a redelivery has it") {
    Fixture f({}, 1);
    auto consumer = f.h.channel(f.c);
    f.h.consume(consumer, "q", "c");
    auto first = f.c.sink.take_deliveries();
    REQUIRE(first.size() == 1);
    CHECK_FALSE(delivery_count(first[0].message));
    REQUIRE(f.h.methods.basic_nack(consumer, first[0].tag, false, true).ok());
    auto second = f.c.sink.take_deliveries();
    REQUIRE(second.size() == 1);
    CHECK(second[0].redelivered);
    CHECK(delivery_count(second[0].message) == 1);
}

TEST_CASE("quorum: a message returned more often than x-delivery-limit is dead-lettered") {
    Fixture f;
    f.h.declare_queue(f.ch, "dead");
    f.h.declare_queue(f.ch, "limited", durable_quorum({{"x-delivery-limit", 1},
                                                      {"x-dead-letter-exchange", ""},
                                                      {"x-dead-letter-routing-key", "dead"}}));
    f.h.publish(f.ch, "", "limited", "poison");
    for (int i = 0; i < 2; ++i) {
        auto g = f.h.get(f.ch, "limited");
        REQUIRE(g);
        REQUIRE(f.h.methods.basic_nack(f.ch, g->delivery_tag, false, true).ok());
    }
    CHECK(f.h.ready("limited") == 0);
    auto dead = f.h.get(f.ch, "dead", true);
    REQUIRE(dead);
    CHECK(deaths(dead->message->to_message()) == std::vector<std::string>{"limited/delivery_limit/1"});
    CHECK_FALSE(delivery_count(dead->message->to_message()));
}

TEST_CASE("quorum: a get awaiting its ack counts as a consumer; one the limit dropped stays counted") {
    Fixture f({{"x-delivery-limit", 0}}, 3);
    auto a = f.h.get(f.ch, "q");
    CHECK(f.consumers() == 1);
    REQUIRE(f.h.methods.basic_ack(f.ch, a->delivery_tag, false).ok());
    CHECK(f.consumers() == 0);
    for (int i = 0; i < 2; ++i) {
        auto g = f.h.get(f.ch, "q");
        REQUIRE(f.h.methods.basic_nack(f.ch, g->delivery_tag, false, true).ok());
    }
    CHECK(f.h.ready("q") == 0);
    CHECK(f.consumers() == 1);
}

TEST_CASE("quorum: a consumer on a channel with a global prefetch is a connection error") {
    Fixture f;
    REQUIRE(f.h.methods.basic_qos(f.ch, {0, 5, true}).ok());
    auto r = f.h.methods.basic_consume(f.ch, {"q", "c", false, true, false, {}});
    require_error(r, ReplyCode::NotImplemented, "NOT_IMPLEMENTED - queue 'q' in vhost '/' does not support global qos");
}

TEST_CASE("quorum: reject-publish refuses once over the limit, until down to 80% of it") {
    Fixture f({{"x-max-length", 5}, {"x-overflow", "reject-publish"}});
    REQUIRE(f.h.methods.confirm_select(f.ch).ok());
    f.publish(0, 8);
    std::vector<bool> acked;
    for (const auto& e : f.c.sink.events)
        if (e.kind == SinkEvent::Kind::Confirm) acked.push_back(e.ack);
    CHECK(acked == std::vector<bool>{true, true, true, true, true, true, false, false});
    CHECK(f.h.ready("q") == 6);
    f.h.get(f.ch, "q", true);
    f.h.get(f.ch, "q", true);
    CHECK(f.h.ready("q") == 4);
    f.c.sink.events.clear();
    f.publish(8, 9);
    CHECK(f.h.ready("q") == 5);
}

TEST_CASE("quorum: reject-publish-dlx is taken as drop-head") {
    Fixture f({{"x-max-length", 2}, {"x-overflow", "reject-publish-dlx"}}, 4);
    CHECK(drain(f.h, f.ch, "q") == std::vector<std::string>{"m2", "m3"});
}

TEST_CASE("quorum: at-least-once keeps a dead letter no queue takes, out of the ready count") {
    Fixture f({{"x-dead-letter-strategy", "at-least-once"},
               {"x-overflow", "reject-publish"},
               {"x-dead-letter-exchange", "missing"}},
              2);
    auto g = f.h.get(f.ch, "q");
    REQUIRE(f.h.methods.basic_reject(f.ch, g->delivery_tag, false).ok());
    CHECK(f.h.ready("q") == 1);
    CHECK(f.consumers() == 1);
}

TEST_CASE("quorum: a restart keeps transient messages") {
    Fixture f({}, 2);
    f.h.broker.restart();
    Harness::Connection& c = f.h.connect();
    auto ch = f.h.channel(c);
    CHECK(drain(f.h, ch, "q") == std::vector<std::string>{"m0", "m1"});
}

TEST_CASE("quorum: message TTL dead-letters as expired on the clock") {
    Fixture f;
    f.h.declare_queue(f.ch, "dead");
    f.h.declare_queue(f.ch, "ttl", durable_quorum({{"x-message-ttl", 100},
                                                  {"x-dead-letter-exchange", ""},
                                                  {"x-dead-letter-routing-key", "dead"}}));
    f.h.publish(f.ch, "", "ttl", "m");
    f.h.broker.advance(100ms);
    CHECK(f.h.ready("ttl") == 0);
    auto dead = f.h.get(f.ch, "dead", true);
    REQUIRE(dead);
    CHECK(deaths(dead->message->to_message()) == std::vector<std::string>{"ttl/expired/1"});
}

TEST_CASE("quorum: basic.consume's exclusive flag is ignored") {
    Fixture f;
    auto& other = f.h.connect();
    ChannelRef a = f.h.channel(f.c);
    ChannelRef b = f.h.channel(other);
    REQUIRE(f.h.methods.basic_consume(a, {"q", "", false, false, true, {}}).ok());
    REQUIRE(f.h.methods.basic_consume(b, {"q", "", false, false, true, {}}).ok());
    REQUIRE(f.h.methods.basic_consume(b, {"q", "", false, false, false, {}}).ok());
    CHECK(f.consumers() == 3);
}

TEST_CASE("quorum: a cancelled consumer counts until what it holds is settled") {
    Fixture f({}, 2);
    ChannelRef ch = f.h.channel(f.c);
    const auto tag = f.h.consume(ch, "q", "c");
    auto got = f.c.sink.take_deliveries();
    REQUIRE(got.size() == 2);
    REQUIRE(f.h.methods.basic_cancel(ch, tag).ok());
    CHECK(f.consumers() == 1);
    REQUIRE(f.h.methods.basic_ack(ch, got[0].tag, false).ok());
    CHECK(f.consumers() == 1);
    REQUIRE(f.h.methods.basic_ack(ch, got[1].tag, false).ok());
    CHECK(f.consumers() == 0);
}

TEST_CASE("quorum: a single active consumer's successor takes over at once on cancel") {
    Fixture f({{"x-single-active-consumer", true}}, 3);
    ChannelRef a = f.h.channel(f.c);
    ChannelRef b = f.h.channel(f.c);
    REQUIRE(f.h.methods.basic_qos(a, {0, 1, false}).ok());
    REQUIRE(f.h.methods.basic_qos(b, {0, 1, false}).ok());
    const auto first = f.h.consume(a, "q", "a");
    f.h.consume(b, "q", "b");
    CHECK(who_got_what(f.c.sink.take_deliveries()) == std::vector<std::string>{"a:m0"});
    REQUIRE(f.h.methods.basic_cancel(a, first).ok());
    CHECK(who_got_what(f.c.sink.take_deliveries()) == std::vector<std::string>{"b:m1"});
    f.h.methods.close_channel(a);  // m0 returns to the front, for b once it has room
    CHECK(f.c.sink.take_deliveries().empty());
}

TEST_CASE("quorum: x-expires is looked at on the queue's 5-second ticks; only gets and consumers are uses") {
    Harness h;
    auto& c = h.connect();
    ChannelRef ch = h.channel(c);
    h.declare_queue(ch, "idle", durable_quorum({{"x-expires", 1000}}));
    h.declare_queue(ch, "got", durable_quorum({{"x-expires", 4000}}));
    h.declare_queue(ch, "passive", durable_quorum({{"x-expires", 4000}}));
    h.broker.advance(2500ms);
    CHECK(h.has_queue("idle"));  // expired at 1 s, but the first tick is at 5 s
    h.get(ch, "got");
    REQUIRE(h.methods.queue_declare(ch, {.queue = "passive", .passive = true}).ok());
    h.broker.advance(2499ms);
    CHECK(h.has_queue("idle"));
    h.broker.advance(1ms);
    CHECK_FALSE(h.has_queue("idle"));
    CHECK_FALSE(h.has_queue("passive"));  // a passive declare is no use
    CHECK(h.has_queue("got"));            // used at 2.5 s: due at 6.5 s, so at the 10 s tick
    h.broker.advance(4999ms);
    CHECK(h.has_queue("got"));
    h.broker.advance(1ms);
    CHECK_FALSE(h.has_queue("got"));
}

TEST_CASE("quorum: queue.delete with if-unused or if-empty is refused with 540, which closes the connection") {
    // Recorded on 3.10.8 with pika: if-unused is named when both flags are set.
    Fixture f;
    require_error(f.h.methods.queue_delete(f.ch, {.queue = "q", .if_unused = true, .if_empty = true}),
                  ReplyCode::NotImplemented,
                  "NOT_IMPLEMENTED - cannot delete queue 'q' in vhost '/'. queue.delete operations with if-unused "
                  "flag set are not supported by quorum queues");
    auto& c2 = f.h.connect();
    const ChannelRef ch2 = f.h.channel(c2);
    require_error(f.h.methods.queue_delete(ch2, {.queue = "q", .if_empty = true}), ReplyCode::NotImplemented,
                  "NOT_IMPLEMENTED - cannot delete queue 'q' in vhost '/'. queue.delete operations with if-empty "
                  "flag set are not supported by quorum queues");
    auto& c3 = f.h.connect();
    const ChannelRef ch3 = f.h.channel(c3);
    REQUIRE(f.h.methods.queue_delete(ch3, {.queue = "q"}));
    REQUIRE(f.h.broker.queues().empty());
}
