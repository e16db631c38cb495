// Transactions: tx.select / tx.commit / tx.rollback and what they do to basic.publish,
// basic.ack, basic.nack and basic.reject, as RabbitMQ 3.10.8's rabbit_channel does them. Every
// expectation here was checked against RabbitMQ 3.10.8 with raw-socket probes.
#include <catch2/catch.hpp>

#include "broker_harness.hpp"

using namespace warren;
using namespace warren::test;

namespace {

using Bodies = std::vector<std::string>;
using Kind = SinkEvent::Kind;

std::vector<std::string> kinds(const RecordingSink& sink) {
    std::vector<std::string> out;
    for (const auto& e : sink.events) {
        switch (e.kind) {
            case Kind::Deliver: out.push_back("deliver " + e.message.body); break;
            case Kind::Return: out.push_back("return " + e.message.body); break;
            case Kind::TxCommitOk: out.push_back("commit-ok"); break;
            default: out.push_back("other"); break;
        }
    }
    return out;
}

}  // namespace

TEST_CASE("tx: commit and rollback need tx.select; tx and confirms exclude each other") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    require_error(h.methods.tx_commit(ch), ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - channel is not transactional");
    CHECK_FALSE(h.channel_open(ch));
    ch = h.channel(c);
    require_error(h.methods.tx_rollback(ch), ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - channel is not transactional");
    ch = h.channel(c);
    REQUIRE(h.methods.tx_select(ch).ok());
    REQUIRE(h.methods.tx_select(ch).ok());  // a second select is fine
    auto refused = h.methods.confirm_select(ch);
    require_error(refused, ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - cannot switch from tx to confirm mode");
    CHECK(refused.error().method() == method::confirm_select);
    ch = h.channel(c);
    REQUIRE(h.methods.confirm_select(ch).ok());
    refused = h.methods.tx_select(ch);
    require_error(refused, ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - cannot switch from confirm to tx mode");
    CHECK(refused.error().method() == method::tx_select);
}

TEST_CASE("tx: publishes reach their queues at commit; rollback drops them") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    auto other = h.channel(c);
    h.declare_queue(ch, "q");
    REQUIRE(h.methods.tx_select(ch).ok());
    h.publish(ch, "", "q", "m1");
    h.publish(ch, "", "q", "m2");
    CHECK(h.ready("q") == 0);
    CHECK_FALSE(h.get(other, "q", true));
    REQUIRE(h.methods.tx_commit(ch).ok());
    CHECK(h.ready("q") == 2);
    h.publish(ch, "", "q", "m3");
    REQUIRE(h.methods.tx_rollback(ch).ok());
    REQUIRE(h.methods.tx_commit(ch).ok());  // empty; the channel stays transactional
    CHECK(h.ready("q") == 2);
    h.publish(ch, "", "q", "m4");
    CHECK(h.ready("q") == 2);
    REQUIRE(h.methods.tx_commit(ch).ok());
    CHECK(drain(h, other, "q") == Bodies{"m1", "m2", "m4"});
}

TEST_CASE("tx: a publish is routed when it arrives, delivered at commit") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    auto other = h.channel(c);
    h.declare_exchange(ch, "x", "direct");
    h.declare_queue(ch, "q1");
    h.declare_queue(ch, "q2");
    h.bind(ch, "q1", "x", "k");
    REQUIRE(h.methods.tx_select(ch).ok());
    h.publish(ch, "x", "k", "m1", {}, /*mandatory=*/true);
    REQUIRE(h.methods.queue_unbind(other, {"q1", "x", "k", {}}).ok());
    h.bind(other, "q2", "x", "k");
    REQUIRE(h.methods.tx_commit(ch).ok());
    CHECK(h.ready("q1") == 1);
    CHECK(h.ready("q2") == 0);
    CHECK(kinds(c.sink) == std::vector<std::string>{"commit-ok"});
}

TEST_CASE("tx: the queues a publish was routed to are looked up by name at commit") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    auto other = h.channel(c);
    h.declare_queue(ch, "gone");
    h.declare_queue(ch, "again");
    REQUIRE(h.methods.tx_select(ch).ok());
    h.publish(ch, "", "gone", "m1", {}, /*mandatory=*/true);
    h.publish(ch, "", "gone", "m2");
    h.publish(ch, "", "again", "m3", {}, /*mandatory=*/true);
    CHECK(c.sink.events.empty());  // no return when the publish arrives
    REQUIRE(h.methods.queue_delete(other, {"gone"}).ok());
    REQUIRE(h.methods.queue_delete(other, {"again"}).ok());
    h.declare_queue(other, "again");
    REQUIRE(h.methods.tx_commit(ch).ok());
    CHECK(kinds(c.sink) == std::vector<std::string>{"return m1", "commit-ok"});
    CHECK(c.sink.events[0].reply_code == 312);
    CHECK(c.sink.events[0].reply_text == "NO_ROUTE");
    CHECK(h.ready("again") == 1);
}

TEST_CASE("tx: a publish to a missing exchange fails when it arrives") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q");
    REQUIRE(h.methods.tx_select(ch).ok());
    h.publish(ch, "", "q", "m1");
    require_error(h.methods.basic_publish(ch, {"missing", "k", false, false}, Message{"m2", {}}),
                  ReplyCode::NotFound, "NOT_FOUND - no exchange 'missing' in vhost '/'");
    CHECK_FALSE(h.channel_open(ch));
    CHECK(h.ready("q") == 0);  // the transaction went with the channel
}

// RabbitMQ's channel sends the returns while handling tx.commit; it answers at once unless a
// publish reached a queue, and then waits for the queues to take it.
TEST_CASE("tx: where commit-ok falls among the returns and deliveries of the commit") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q");
    h.declare_queue(ch, "held");
    h.consume(ch, "q", "c");
    REQUIRE(h.methods.basic_qos(ch, {0, 1, false}).ok());
    h.consume(ch, "held", "h");
    h.publish(ch, "", "held", "h1");
    h.publish(ch, "", "held", "h2");
    REQUIRE(h.methods.tx_select(ch).ok());
    c.sink.events.clear();
    h.publish(ch, "", "q", "p1");
    h.publish(ch, "", "nowhere", "r1", {}, /*mandatory=*/true);
    REQUIRE(h.methods.basic_ack(ch, 1, false).ok());  // h1: frees "h" for h2 at commit
    CHECK(c.sink.events.empty());
    REQUIRE(h.methods.tx_commit(ch).ok());
    CHECK(kinds(c.sink) == std::vector<std::string>{"return r1", "deliver p1", "deliver h2", "commit-ok"});
    // Without a publish that reaches a queue, commit-ok comes before what the acks cause.
    c.sink.events.clear();
    h.publish(ch, "", "held", "h3");
    REQUIRE(h.methods.tx_commit(ch).ok());
    CHECK(kinds(c.sink) == std::vector<std::string>{"commit-ok"});
    c.sink.events.clear();
    h.publish(ch, "", "nowhere", "r2", {}, /*mandatory=*/true);
    REQUIRE(h.methods.basic_ack(ch, 3, false).ok());  // h2: frees "h" for h3 at commit
    REQUIRE(h.methods.tx_commit(ch).ok());
    CHECK(kinds(c.sink) == std::vector<std::string>{"return r2", "commit-ok", "deliver h3"});
}

TEST_CASE("tx: an unknown delivery tag is refused when the ack arrives") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q");
    REQUIRE(h.methods.tx_select(ch).ok());
    h.publish(ch, "", "q", "m1");
    auto r = h.methods.basic_ack(ch, 7, false);
    require_error(r, ReplyCode::PreconditionFailed, "PRECONDITION_FAILED - unknown delivery tag 7");
    CHECK(r.error().method() == method::basic_ack);
    CHECK_FALSE(h.channel_open(ch));
    CHECK(h.ready("q") == 0);
}

TEST_CASE("tx: an acknowledged delivery leaves the unacknowledged list until rollback") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q");
    for (const char* b : {"m1", "m2"}) h.publish(ch, "", "q", b);
    REQUIRE(h.methods.tx_select(ch).ok());
    REQUIRE(h.get(ch, "q"));
    REQUIRE(h.get(ch, "q"));
    REQUIRE(h.methods.basic_ack(ch, 1, false).ok());
    CHECK(h.unacked("q") == 2);  // the queue still holds it
    REQUIRE(h.methods.tx_rollback(ch).ok());
    REQUIRE(h.methods.basic_ack(ch, 1, false).ok());  // back on the list
    require_error(h.methods.basic_ack(ch, 1, false), ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - unknown delivery tag 1");
    // The close requeues both: the one acknowledged in the transaction too.
    CHECK(h.ready("q") == 2);
    CHECK(h.unacked("q") == 0);
    auto other = h.channel(c);
    auto got = h.get(other, "q", true);
    REQUIRE(got);
    CHECK(got->redelivered);
    CHECK(got->message->body() == "m1");
}

TEST_CASE("tx: acks, nacks and rejects take effect at commit, in the order they came") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q");
    for (const char* b : {"m1", "m2", "m3", "m4"}) h.publish(ch, "", "q", b);
    REQUIRE(h.methods.tx_select(ch).ok());
    for (int i = 0; i < 4; ++i) REQUIRE(h.get(ch, "q"));
    REQUIRE(h.methods.basic_ack(ch, 1, false).ok());
    REQUIRE(h.methods.basic_nack(ch, 3, true, true).ok());  // 2 and 3
    REQUIRE(h.methods.basic_reject(ch, 4, true).ok());
    CHECK(h.ready("q") == 0);
    CHECK(h.unacked("q") == 4);
    REQUIRE(h.methods.tx_commit(ch).ok());
    CHECK(h.ready("q") == 3);
    CHECK(h.unacked("q") == 0);
    auto got = h.get(ch, "q");
    REQUIRE(got);
    CHECK(got->delivery_tag == 5);
    CHECK(got->redelivered);
    CHECK(got->message->body() == "m2");
}

TEST_CASE("tx: at commit the publishes go before the acknowledgements") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "dead");
    h.declare_queue(ch, "q",
                    {.arguments = {{"x-dead-letter-exchange", ""}, {"x-dead-letter-routing-key", "dead"}}});
    h.publish(ch, "", "q", "rejected");
    REQUIRE(h.methods.tx_select(ch).ok());
    REQUIRE(h.get(ch, "q"));
    REQUIRE(h.methods.basic_reject(ch, 1, false).ok());
    h.publish(ch, "", "dead", "published");
    CHECK(h.ready("dead") == 0);
    REQUIRE(h.methods.tx_commit(ch).ok());
    CHECK(drain(h, ch, "dead") == Bodies{"published", "rejected"});
}

TEST_CASE("tx: a consumer's prefetch is freed at commit, not by the ack") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q");
    h.publish(ch, "", "q", "m1");
    h.publish(ch, "", "q", "m2");
    REQUIRE(h.methods.basic_qos(ch, {0, 1, false}).ok());
    REQUIRE(h.methods.tx_select(ch).ok());
    h.consume(ch, "q", "c");
    CHECK(who_got_what(c.sink.take_deliveries()) == Bodies{"c:m1"});
    REQUIRE(h.methods.basic_ack(ch, 1, false).ok());
    CHECK(c.sink.take_deliveries().empty());
    CHECK(h.ready("q") == 1);
    REQUIRE(h.methods.tx_commit(ch).ok());
    CHECK(who_got_what(c.sink.take_deliveries()) == Bodies{"c:m2"});
}

TEST_CASE("tx: closing a channel drops its publishes and requeues its acknowledged deliveries") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q");
    h.publish(ch, "", "q", "m1");
    REQUIRE(h.methods.tx_select(ch).ok());
    REQUIRE(h.get(ch, "q"));
    REQUIRE(h.methods.basic_ack(ch, 1, false).ok());
    h.publish(ch, "", "q", "m2");
    h.methods.close_channel(ch);
    auto other = h.channel(c);
    auto got = h.get(other, "q", true);
    REQUIRE(got);
    CHECK(got->redelivered);
    CHECK(got->message->body() == "m1");
    CHECK_FALSE(h.get(other, "q", true));
}

TEST_CASE("tx: basic.recover requeues only what the transaction has not acknowledged") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q");
    h.publish(ch, "", "q", "a");
    h.publish(ch, "", "q", "b");
    REQUIRE(h.methods.tx_select(ch).ok());
    REQUIRE(h.get(ch, "q"));
    REQUIRE(h.get(ch, "q"));
    REQUIRE(h.methods.basic_ack(ch, 1, false).ok());
    REQUIRE(h.methods.basic_recover(ch, true).ok());
    CHECK(h.ready("q") == 1);
    REQUIRE(h.methods.tx_rollback(ch).ok());
    REQUIRE(h.methods.basic_ack(ch, 1, false).ok());
    REQUIRE(h.methods.tx_commit(ch).ok());
    CHECK(h.ready("q") == 1);
    CHECK(h.unacked("q") == 0);
}

TEST_CASE("tx: acknowledgements of a deleted queue's messages commit as nothing") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    auto other = h.channel(c);
    h.declare_queue(ch, "q");
    h.publish(ch, "", "q", "m1");
    h.publish(ch, "", "q", "m2");
    REQUIRE(h.methods.basic_qos(ch, {0, 1, false}).ok());
    REQUIRE(h.methods.tx_select(ch).ok());
    h.consume(ch, "q", "c");
    REQUIRE(h.methods.basic_ack(ch, 1, false).ok());
    REQUIRE(h.methods.queue_delete(other, {"q"}).ok());
    REQUIRE(h.methods.tx_commit(ch).ok());
    REQUIRE(h.methods.tx_rollback(ch).ok());
    CHECK(h.channel_open(ch));
}
