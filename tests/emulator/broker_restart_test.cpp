// Faults a test can cause: Broker::restart (as RabbitMQ 3.10.8 behaves across a stop and a
// start) and Broker::cut_connection (as when a client's TCP connection dies).
#include <catch2/catch.hpp>

#include "broker_harness.hpp"

using namespace warren;
using namespace warren::test;

namespace {

using Bodies = std::vector<std::string>;

BasicProperties persistent(std::optional<std::uint8_t> priority = std::nullopt) {
    return {.delivery_mode = 2, .priority = priority};
}

std::vector<SinkEvent> closes(const RecordingSink& sink) {
    std::vector<SinkEvent> out;
    for (const auto& e : sink.events)
        if (e.kind == SinkEvent::Kind::ConnectionClosed) out.push_back(e);
    return out;
}

}  // namespace

TEST_CASE("restart: every connection is closed as a shutdown closes it") {
    Harness h;
    auto& publisher = h.connect();
    auto& consumer = h.connect();
    auto ch = h.channel(publisher);
    auto cch = h.channel(consumer);
    h.declare_queue(ch, "q", {.durable = true});
    h.consume(cch, "q", "c");
    h.broker.restart();
    for (auto* c : {&publisher, &consumer}) {
        auto closed = closes(c->sink);
        REQUIRE(closed.size() == 1);
        CHECK(closed[0].reply_code == 320);
        CHECK(closed[0].reply_text == "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'");
    }
    CHECK(h.broker.connections().empty());
    CHECK(h.broker.queue("/", "q")->consumers == 0);
    CHECK_FALSE(h.channel_open(ch));
}

TEST_CASE("restart: durable things and persistent messages survive, the rest vanishes") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_exchange(ch, "dx", "direct", {.durable = true});
    h.declare_exchange(ch, "tx", "direct");
    h.declare_queue(ch, "dq", {.durable = true});
    h.declare_queue(ch, "tq");
    h.declare_queue(ch, "dq2", {.durable = true});
    h.declare_queue(ch, "dqx", {.durable = true, .arguments = {{"x-max-priority", 5}}});
    h.declare_queue(ch, "ad", {.durable = true, .auto_delete = true});
    h.bind(ch, "dq", "dx", "k");
    h.bind(ch, "dq2", "tx", "k");
    h.bind(ch, "dq2", "dx", "k2");
    h.publish(ch, "", "dq", "p1", persistent());
    h.publish(ch, "", "dq", "t1", {.delivery_mode = 1});
    h.publish(ch, "", "dq", "p2", persistent());
    h.publish(ch, "", "dq", "t2");
    h.publish(ch, "", "dq", "p3", persistent());
    h.publish(ch, "", "tq", "tq-p", persistent());
    h.publish(ch, "", "dqx", "x1", persistent(1));
    h.publish(ch, "", "dqx", "x5", persistent(5));
    h.publish(ch, "", "dqx", "x3", persistent(3));
    // A consumer holds p1 unacknowledged when the broker stops; a durable auto-delete queue has
    // a consumer, which the shutdown cancels.
    auto& other = h.connect();
    auto cch = h.channel(other);
    REQUIRE(h.methods.basic_qos(cch, {0, 1, false}).ok());
    h.consume(cch, "dq", "c");
    h.consume(cch, "ad", "c-ad");
    REQUIRE(who_got_what(other.sink.take_deliveries()) == Bodies{"c:p1"});

    h.broker.restart();

    CHECK(h.has_exchange("dx"));
    CHECK_FALSE(h.has_exchange("tx"));
    CHECK_FALSE(h.has_queue("tq"));
    CHECK_FALSE(h.has_queue("ad"));
    auto& after = h.connect();
    auto ach = h.channel(after);
    std::vector<std::string> dq;
    while (auto got = h.get(ach, "dq", true))
        dq.push_back(got->message->body() + (got->redelivered ? "*" : ""));
    CHECK(dq == Bodies{"p1*", "p2", "p3"});
    CHECK(drain(h, ach, "dqx") == Bodies{"x5", "x3", "x1"});
    // The binding between durable ends survives; the one from the transient exchange went with it.
    h.publish(ach, "dx", "k2", "via-dx-k2");
    h.publish(ach, "dx", "k", "via-dx-k");
    CHECK(drain(h, ach, "dq2") == Bodies{"via-dx-k2"});
    CHECK(drain(h, ach, "dq") == Bodies{"via-dx-k"});
}

TEST_CASE("cut_connection: unacknowledged messages return redelivered, exclusive queues go") {
    Harness h;
    auto& keeper = h.connect();
    auto ch = h.channel(keeper);
    h.declare_queue(ch, "q");
    for (const char* b : {"c0", "c1", "c2"}) h.publish(ch, "", "q", b);

    RecordingSink victim_sink;
    auto victim = h.methods.open_connection("/", "guest", victim_sink, "victim");
    REQUIRE(victim.ok());
    const ChannelRef vch{victim.value(), 1};
    REQUIRE(h.methods.open_channel(vch).ok());
    REQUIRE(h.methods.queue_declare(vch, {.queue = "excl", .exclusive = true}).ok());
    h.consume(vch, "q", "v");
    CHECK(h.unacked("q") == 3);
    REQUIRE(h.broker.connections().size() == 2);
    CHECK(h.broker.connections()[1].name == "victim");

    CHECK(h.broker.cut_connection("nobody") == 0);
    CHECK(h.broker.cut_connection("victim") == 1);

    REQUIRE(closes(victim_sink).size() == 1);
    CHECK(closes(victim_sink)[0].reply_text == "lost");  // no close exchanged
    CHECK_FALSE(h.has_queue("excl"));
    CHECK(h.broker.connections().size() == 1);
    std::vector<std::string> back;
    while (auto got = h.get(ch, "q", true))
        back.push_back(got->message->body() + (got->redelivered ? "*" : ""));
    CHECK(back == Bodies{"c0*", "c1*", "c2*"});
    CHECK(closes(keeper.sink).empty());
}
