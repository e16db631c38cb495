// basic.get, basic.consume, basic.qos, ack/nack/reject, basic.recover, basic.cancel, and what
// closing a channel does to what it held. Each scenario was played on RabbitMQ 3.10.8 and the
// deliveries (consumer, delivery tag, body, redelivered) recorded there are the expectations.
#include <catch2/catch.hpp>

#include <functional>
#include <regex>

#include "broker_harness.hpp"

using namespace warren;
using namespace warren::test;

namespace {

using Seen = std::vector<std::string>;

void publish_numbered(Harness& h, ChannelRef ch, const std::string& queue, int n, int from = 0) {
    for (int i = from; i < from + n; ++i) h.publish(ch, "", queue, std::to_string(i));
}

/// "tag:body" with a trailing "*" for a redelivery.
Seen tagged(const std::vector<SinkEvent>& ds) {
    Seen out;
    for (const auto& d : ds)
        out.push_back(fmt::format("{}:{}{}", d.tag, d.message.body, d.redelivered ? "*" : ""));
    return out;
}

std::uint64_t tag_of(const std::vector<SinkEvent>& ds, const std::string& consumer, int nth = 0) {
    for (const auto& d : ds)
        if (d.consumer_tag == consumer && nth-- == 0) return d.tag;
    FAIL("no such delivery");
    return 0;
}

struct Fixture {
    Harness h;
    Harness::Connection& c = h.connect();
    ChannelRef ch = h.channel(c);
    Fixture() { h.declare_queue(ch, "q"); }
    void qos(std::uint16_t count, bool global = false) {
        REQUIRE(h.methods.basic_qos(ch, {0, count, global}).ok());
    }
    std::vector<SinkEvent> deliveries() { return c.sink.take_deliveries(); }
};

}  // namespace

// ---- basic.get and acknowledgements -------------------------------------------------------

TEST_CASE("basic.get counts what is left and shares the channel's delivery tags") {
    Fixture f;
    auto& h = f.h;
    CHECK_FALSE(h.get(f.ch, "q"));
    publish_numbered(h, f.ch, "q", 6);
    Seen got;
    for (int i = 0; i < 3; ++i) {
        auto g = h.get(f.ch, "q");
        REQUIRE(g);
        got.push_back(fmt::format("{}:{} left {}", g->delivery_tag, g->message->body(), g->message_count));
    }
    CHECK(got == Seen{"1:0 left 5", "2:1 left 4", "3:2 left 3"});
    CHECK(h.ready("q") == 3);
    CHECK(h.unacked("q") == 3);

    // A requeued message goes back to its place, marked redelivered.
    REQUIRE(h.methods.basic_reject(f.ch, 2, true).ok());
    auto g = h.get(f.ch, "q");
    REQUIRE(g);
    CHECK(g->delivery_tag == 4);
    CHECK(g->message->body() == "1");
    CHECK(g->redelivered);
    CHECK(g->message_count == 3);

    // nack multiple takes every outstanding tag up to the one named: 1 and 3 here.
    REQUIRE(h.methods.basic_nack(f.ch, 3, true, true).ok());
    got.clear();
    while (auto m = h.get(f.ch, "q", true))
        got.push_back(fmt::format("{}:{}{} left {}", m->delivery_tag, m->message->body(),
                                  m->redelivered ? "*" : "", m->message_count));
    CHECK(got == Seen{"5:0* left 4", "6:2* left 3", "7:3 left 2", "8:4 left 1", "9:5 left 0"});
    CHECK(h.unacked("q") == 1);  // tag 4
}

TEST_CASE("ack multiple settles every tag up to the one named; requeue=false drops") {
    Fixture f;
    auto& h = f.h;
    publish_numbered(h, f.ch, "q", 5);
    for (int i = 0; i < 4; ++i) REQUIRE(h.get(f.ch, "q"));
    REQUIRE(h.methods.basic_ack(f.ch, 2, true).ok());  // tags 1 and 2
    CHECK(h.unacked("q") == 2);
    REQUIRE(h.methods.basic_nack(f.ch, 3, false, false).ok());
    REQUIRE(h.methods.basic_reject(f.ch, 4, false).ok());
    CHECK(h.unacked("q") == 0);
    REQUIRE(h.methods.basic_recover(f.ch, true).ok());
    auto g = h.get(f.ch, "q", true);
    REQUIRE(g);
    CHECK(g->delivery_tag == 5);
    CHECK(g->message->body() == "4");
    CHECK_FALSE(g->redelivered);
    CHECK_FALSE(h.get(f.ch, "q"));
}

TEST_CASE("acknowledging a tag that is not outstanding is a channel error") {
    Fixture f;
    auto& h = f.h;
    struct Case {
        std::string what;
        std::function<Status(ChannelRef)> call;
        std::string text;
        MethodId method;
        std::size_t ready_after;  // of the two messages published
    };
    const std::vector<Case> cases = {
        {"ack twice", [&](ChannelRef ch) { (void)h.methods.basic_ack(ch, 1, false); return h.methods.basic_ack(ch, 1, false); },
         "PRECONDITION_FAILED - unknown delivery tag 1", method::basic_ack, 1},
        {"ack unknown", [&](ChannelRef ch) { return h.methods.basic_ack(ch, 99, false); },
         "PRECONDITION_FAILED - unknown delivery tag 99", method::basic_ack, 2},
        {"ack multiple past the last", [&](ChannelRef ch) { return h.methods.basic_ack(ch, 99, true); },
         "PRECONDITION_FAILED - unknown delivery tag 99", method::basic_ack, 2},
        {"ack 0", [&](ChannelRef ch) { return h.methods.basic_ack(ch, 0, false); },
         "PRECONDITION_FAILED - unknown delivery tag 0", method::basic_ack, 2},
        {"nack unknown", [&](ChannelRef ch) { return h.methods.basic_nack(ch, 77, false, true); },
         "PRECONDITION_FAILED - unknown delivery tag 77", method::basic_nack, 2},
        {"reject unknown", [&](ChannelRef ch) { return h.methods.basic_reject(ch, 77, true); },
         "PRECONDITION_FAILED - unknown delivery tag 77", method::basic_reject, 2},
        {"ack of a no-ack get", [&](ChannelRef ch) { h.get(ch, "q", true); return h.methods.basic_ack(ch, 2, false); },
         "PRECONDITION_FAILED - unknown delivery tag 2", method::basic_ack, 1},
    };
    for (const auto& cs : cases) {
        INFO(cs.what);
        auto ch = h.channel(f.c);
        publish_numbered(h, ch, "q", 2);
        REQUIRE(h.get(ch, "q"));  // tag 1, outstanding
        auto r = cs.call(ch);
        require_error(r, ReplyCode::PreconditionFailed, cs.text);
        CHECK(r.error().method() == cs.method);
        CHECK_FALSE(r.error().closes_connection());
        CHECK_FALSE(h.channel_open(ch));
        // The refused call settled nothing: closing the channel requeued what it held.
        CHECK(h.unacked("q") == 0);
        CHECK(h.methods.queue_purge(f.ch, "q").value() == cs.ready_after);
    }
    // With nothing outstanding, "everything" is nothing: no error.
    CHECK(h.methods.basic_ack(f.ch, 0, true).ok());
}

TEST_CASE("basic.recover requeues everything unacknowledged; requeue=false is not implemented") {
    Fixture f;
    auto& h = f.h;
    publish_numbered(h, f.ch, "q", 4);
    h.consume(f.ch, "q", "A");
    auto first = f.deliveries();
    CHECK(tagged(first) == Seen{"1:0", "2:1", "3:2", "4:3"});
    REQUIRE(h.methods.basic_ack(f.ch, 2, false).ok());
    REQUIRE(h.methods.basic_recover(f.ch, true).ok());
    CHECK(tagged(f.deliveries()) == Seen{"5:0*", "6:2*", "7:3*"});

    auto r = h.methods.basic_recover(f.ch, false);
    require_error(r, ReplyCode::NotImplemented, "NOT_IMPLEMENTED - requeue=false");
    CHECK(r.error().closes_connection());
    CHECK(r.error().method() == method::basic_recover);
}

TEST_CASE("basic.recover puts basic.get deliveries back too") {
    Fixture f;
    auto& h = f.h;
    publish_numbered(h, f.ch, "q", 3);
    REQUIRE(h.get(f.ch, "q"));
    REQUIRE(h.get(f.ch, "q"));
    REQUIRE(h.methods.basic_recover(f.ch, true).ok());
    Seen got;
    while (auto g = h.get(f.ch, "q", true))
        got.push_back(fmt::format("{}:{}{}", g->delivery_tag, g->message->body(), g->redelivered ? "*" : ""));
    CHECK(got == Seen{"3:0*", "4:1*", "5:2"});
}

// ---- consumers --------------------------------------------------------------------------

TEST_CASE("consumers take turns; a consumer added to a full queue takes what it can") {
    Fixture f;
    auto& h = f.h;
    SECTION("round-robin among consumers present when messages arrive") {
        for (const char* t : {"A", "B", "C"}) h.consume(f.ch, "q", t, true);
        publish_numbered(h, f.ch, "q", 7);
        CHECK(who_got_what(f.deliveries()) == Seen{"A:0", "B:1", "C:2", "A:3", "B:4", "C:5", "A:6"});
    }
    SECTION("the first consumer of a queue with messages and no prefetch takes them all") {
        publish_numbered(h, f.ch, "q", 5);
        h.consume(f.ch, "q", "A");
        h.consume(f.ch, "q", "B");
        CHECK(who_got_what(f.deliveries()) == Seen{"A:0", "A:1", "A:2", "A:3", "A:4"});
    }
}

TEST_CASE("generated consumer tags look like RabbitMQ's, and a tag may not be reused on a channel") {
    Fixture f;
    auto& h = f.h;
    auto tag = h.consume(f.ch, "q");
    CHECK(std::regex_match(tag, std::regex("amq\\.ctag-[A-Za-z0-9_-]{22}")));
    h.consume(f.ch, "q", "t1");
    CHECK(h.consume(h.channel(f.c), "q", "t1") == "t1");  // another channel may use it

    SECTION("on the same queue") {
        auto r = h.methods.basic_consume(f.ch, {.queue = "q", .consumer_tag = "t1"});
        require_error(r, ReplyCode::NotAllowed, "NOT_ALLOWED - attempt to reuse consumer tag 't1'");
        CHECK(r.error().closes_connection());
    }
    SECTION("checked before the queue is looked for") {
        auto r = h.methods.basic_consume(f.ch, {.queue = "missing", .consumer_tag = "t1"});
        require_error(r, ReplyCode::NotAllowed, "NOT_ALLOWED - attempt to reuse consumer tag 't1'");
    }
    CHECK_FALSE(h.channel_open(f.ch));
    CHECK(h.broker.queue("/", "q")->consumers == 0);  // the connection went, and its consumers
}

TEST_CASE("consuming needs the queue, and valid consumer arguments") {
    Fixture f;
    auto& h = f.h;
    require_error(h.methods.basic_consume(f.ch, {.queue = "missing"}), ReplyCode::NotFound,
                  "NOT_FOUND - no queue 'missing' in vhost '/'");
    auto ch = h.channel(f.c);
    require_error(h.methods.basic_consume(ch, {.queue = ""}), ReplyCode::NotFound,
                  "NOT_FOUND - no previously declared queue");
    const std::vector<std::pair<FieldTable, std::string>> cases = {
        {{{"x-priority", "high"}}, "invalid arg 'x-priority' for queue 'q' in vhost '/': \"expected integer, got longstr\""},
        {{{"x-priority", true}}, "invalid arg 'x-priority' for queue 'q' in vhost '/': \"expected integer, got bool\""},
        {{{"x-priority", FieldTable{{"a", 1}}}}, "invalid arg 'x-priority' for queue 'q' in vhost '/': \"expected integer, got table\""},
        {{{"x-cancel-on-ha-failover", "yes"}}, "invalid arg 'x-cancel-on-ha-failover' for queue 'q' in vhost '/': {unacceptable_type,longstr}"},
        {{{"x-stream-offset", "first"}}, "invalid arg 'x-stream-offset' for queue 'q' in vhost '/' of queue type rabbit_classic_queue"},
    };
    for (const auto& [args, text] : cases) {
        INFO(text);
        ch = h.channel(f.c);
        h.declare_queue(ch, "q");
        require_error(h.methods.basic_consume(ch, {.queue = "q", .arguments = args}),
                      ReplyCode::PreconditionFailed, "PRECONDITION_FAILED - " + text);
    }
    // Arguments are checked before exclusive use.
    ch = h.channel(f.c);
    REQUIRE(h.methods.basic_consume(ch, {.queue = "q", .exclusive = true}).ok());
    require_error(h.methods.basic_consume(ch, {.queue = "q", .arguments = {{"x-priority", "x"}}}),
                  ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - invalid arg 'x-priority' for queue 'q' in vhost '/': \"expected integer, got longstr\"");
    ch = h.channel(f.c);
    CHECK(h.methods.basic_consume(ch, {.queue = "q", .arguments = {{"x-priority", std::int64_t{1} << 40}, {"x-other", "v"}}}).ok());
    CHECK(h.broker.queue("/", "q")->consumers == 1);
}

TEST_CASE("an exclusive consumer has the queue to itself, either way round") {
    Fixture f;
    auto& h = f.h;
    const std::string in_use = "ACCESS_REFUSED - queue 'q' in vhost '/' in exclusive use";
    SECTION("exclusive after another consumer") {
        h.consume(f.ch, "q", "a1");
        auto ch = h.channel(f.c);
        require_error(h.methods.basic_consume(ch, {.queue = "q", .exclusive = true}), ReplyCode::AccessRefused, in_use);
    }
    SECTION("another consumer after an exclusive one, from any connection") {
        REQUIRE(h.methods.basic_consume(f.ch, {.queue = "q", .consumer_tag = "ex", .exclusive = true}).ok());
        auto& other = h.connect();
        auto och = h.channel(other);
        require_error(h.methods.basic_consume(och, {.queue = "q"}), ReplyCode::AccessRefused, in_use);
        och = h.channel(other);
        require_error(h.methods.basic_consume(och, {.queue = "q", .exclusive = true}), ReplyCode::AccessRefused, in_use);
        // Other uses of the queue go on.
        och = h.channel(other);
        CHECK(h.methods.basic_get(och, "q", false).ok());
        CHECK(h.methods.queue_declare(och, {.queue = "q", .passive = true})->consumer_count == 1);
        require_error(h.methods.queue_delete(och, {.queue = "q", .if_unused = true}), ReplyCode::PreconditionFailed,
                      "PRECONDITION_FAILED - queue 'q' in vhost '/' in use");
        // Once it is cancelled, others may consume.
        REQUIRE(h.methods.basic_cancel(f.ch, "ex").ok());
        CHECK(h.methods.basic_consume(h.channel(other), {.queue = "q"}).ok());
    }
}

TEST_CASE("consumers of higher x-priority are served first; round-robin within a priority") {
    Fixture f;
    auto& h = f.h;
    f.qos(2);
    h.consume(f.ch, "q", "lo");
    h.consume(f.ch, "q", "hi", false, {{"x-priority", 5}});
    h.consume(f.ch, "q", "hi2", false, {{"x-priority", 5}});
    publish_numbered(h, f.ch, "q", 8);
    CHECK(who_got_what(f.deliveries()) == Seen{"hi:0", "hi2:1", "hi:2", "hi2:3", "lo:4", "lo:5"});
}

TEST_CASE("basic.cancel stops deliveries but leaves what the consumer holds unacknowledged") {
    Fixture f;
    auto& h = f.h;
    CHECK(h.methods.basic_cancel(f.ch, "unknown").ok());
    publish_numbered(h, f.ch, "q", 3);
    f.qos(2);
    h.consume(f.ch, "q", "A");
    auto held = f.deliveries();
    CHECK(tagged(held) == Seen{"1:0", "2:1"});
    REQUIRE(h.methods.basic_cancel(f.ch, "A").ok());
    auto ok = h.methods.queue_declare(f.ch, {.queue = "q", .passive = true});
    CHECK(ok.value() == QueueDeclareOk{"q", 1, 0});
    REQUIRE(h.methods.basic_ack(f.ch, 1, false).ok());
    CHECK(h.ready("q") == 1);
    REQUIRE(h.methods.basic_nack(f.ch, 2, false, true).ok());
    CHECK(h.ready("q") == 2);
    auto g = h.get(f.ch, "q");
    REQUIRE(g);
    CHECK(g->delivery_tag == 3);
    CHECK(g->redelivered);
    CHECK(g->message_count == 1);
    CHECK(f.deliveries().empty());
}

// ---- prefetch ---------------------------------------------------------------------------

TEST_CASE("basic.qos global=false limits each consumer created after it") {
    Fixture f;
    auto& h = f.h;
    SECTION("per-consumer credit, freed by acknowledgements") {
        f.qos(2);
        h.consume(f.ch, "q", "A");
        h.consume(f.ch, "q", "B");
        f.qos(1);
        h.consume(f.ch, "q", "C");
        publish_numbered(h, f.ch, "q", 10);
        auto d = f.deliveries();
        CHECK(who_got_what(d) == Seen{"A:0", "B:1", "C:2", "A:3", "B:4"});
        REQUIRE(h.methods.basic_ack(f.ch, tag_of(d, "C"), false).ok());
        CHECK(who_got_what(f.deliveries()) == Seen{"C:5"});
        REQUIRE(h.methods.basic_ack(f.ch, tag_of(d, "A"), false).ok());
        CHECK(who_got_what(f.deliveries()) == Seen{"A:6"});
        CHECK(h.methods.queue_declare(f.ch, {.queue = "q", .passive = true}).value() == QueueDeclareOk{"q", 3, 3});
    }
    SECTION("a consumer keeps the prefetch it was created with") {
        f.qos(1);
        h.consume(f.ch, "q", "A");
        f.qos(3);
        publish_numbered(h, f.ch, "q", 5);
        CHECK(who_got_what(f.deliveries()) == Seen{"A:0"});
        h.consume(f.ch, "q", "B");
        CHECK(who_got_what(f.deliveries()) == Seen{"B:1", "B:2", "B:3"});
    }
    SECTION("no-ack consumers have no prefetch") {
        f.qos(1);
        h.consume(f.ch, "q", "N", true);
        publish_numbered(h, f.ch, "q", 4);
        CHECK(who_got_what(f.deliveries()) == Seen{"N:0", "N:1", "N:2", "N:3"});
    }
}

TEST_CASE("basic.qos global=true limits the channel's consumers together") {
    Fixture f;
    auto& h = f.h;
    SECTION("shared by the channel's consumers") {
        f.qos(3, true);
        h.consume(f.ch, "q", "A");
        h.consume(f.ch, "q", "B");
        publish_numbered(h, f.ch, "q", 10);
        auto d = f.deliveries();
        CHECK(who_got_what(d) == Seen{"A:0", "B:1", "A:2"});
        REQUIRE(h.methods.basic_ack(f.ch, tag_of(d, "B"), false).ok());
        CHECK(who_got_what(f.deliveries()) == Seen{"B:3"});
    }
    SECTION("together with per-consumer limits") {
        f.qos(1);
        f.qos(2, true);
        for (const char* t : {"A", "B", "C"}) h.consume(f.ch, "q", t);
        publish_numbered(h, f.ch, "q", 10);
        auto d = f.deliveries();
        CHECK(who_got_what(d) == Seen{"A:0", "B:1"});
        REQUIRE(h.methods.basic_ack(f.ch, tag_of(d, "A"), false).ok());
        CHECK(who_got_what(f.deliveries()) == Seen{"C:2"});
    }
    SECTION("no-ack deliveries are not counted, but wait while the limit is reached") {
        f.qos(2, true);
        h.consume(f.ch, "q", "A");
        h.consume(f.ch, "q", "N", true);
        publish_numbered(h, f.ch, "q", 6);
        CHECK(who_got_what(f.deliveries()) == Seen{"A:0", "N:1", "A:2"});
    }
    SECTION("a no-ack consumer alone is not limited") {
        f.qos(2, true);
        h.consume(f.ch, "q", "N", true);
        publish_numbered(h, f.ch, "q", 5);
        CHECK(f.deliveries().size() == 5);
    }
}

TEST_CASE("basic.qos global=false, or global with 0, lifts the channel's limit") {
    Fixture f;
    auto& h = f.h;
    SECTION("before consuming") {
        f.qos(2, true);
        f.qos(0, false);
        h.consume(f.ch, "q", "A");
        publish_numbered(h, f.ch, "q", 5);
        CHECK(f.deliveries().size() == 5);
    }
    SECTION("while a consumer waits on it") {
        f.qos(2, true);
        h.consume(f.ch, "q", "A");
        publish_numbered(h, f.ch, "q", 5);
        CHECK(who_got_what(f.deliveries()) == Seen{"A:0", "A:1"});
        f.qos(3, false);  // A was created without a prefetch of its own
        CHECK(who_got_what(f.deliveries()) == Seen{"A:2", "A:3", "A:4"});
    }
    SECTION("with global 0") {
        f.qos(1, true);
        h.consume(f.ch, "q", "A");
        publish_numbered(h, f.ch, "q", 3);
        CHECK(f.deliveries().size() == 1);
        f.qos(0, true);
        CHECK(f.deliveries().size() == 2);
    }
}

TEST_CASE("the channel limit counts from what the channel holds when it is first set") {
    Fixture f;
    auto& h = f.h;
    SECTION("basic.get deliveries are neither limited nor counted afterwards") {
        publish_numbered(h, f.ch, "q", 5);
        f.qos(1, true);
        CHECK(h.get(f.ch, "q")->delivery_tag == 1);
        CHECK(h.get(f.ch, "q")->delivery_tag == 2);
        h.consume(f.ch, "q", "A");
        CHECK(tagged(f.deliveries()) == Seen{"3:2"});
    }
    SECTION("but held when the limit is set, they count, and their acks do not free it") {
        publish_numbered(h, f.ch, "q", 3);
        auto g = h.get(f.ch, "q");
        f.qos(2, true);
        h.consume(f.ch, "q", "A");
        CHECK(tagged(f.deliveries()) == Seen{"2:1"});
        REQUIRE(h.methods.basic_ack(f.ch, g->delivery_tag, false).ok());
        CHECK(f.deliveries().empty());
    }
    SECTION("setting it again keeps the count") {
        publish_numbered(h, f.ch, "q", 6);
        f.qos(2, true);
        REQUIRE(h.get(f.ch, "q"));
        f.qos(2, true);
        h.consume(f.ch, "q", "A");
        CHECK(tagged(f.deliveries()) == Seen{"2:1", "3:2"});
    }
}

TEST_CASE("a prefetch size is not implemented") {
    Fixture f;
    for (bool global : {false, true}) {
        auto ch = f.h.channel(f.h.connect());
        auto r = f.h.methods.basic_qos(ch, {10, 3, global});
        require_error(r, ReplyCode::NotImplemented, "NOT_IMPLEMENTED - prefetch_size!=0 (10)");
        CHECK(r.error().closes_connection());
        CHECK(r.error().method() == method::basic_qos);
    }
}

// ---- closing ----------------------------------------------------------------------------

TEST_CASE("closing a channel requeues what it held to its place, redelivered") {
    Fixture f;
    auto& h = f.h;
    f.qos(1);
    h.consume(f.ch, "q", "A");
    f.qos(3);
    publish_numbered(h, f.ch, "q", 5);
    h.consume(f.ch, "q", "B");
    CHECK(who_got_what(f.deliveries()) == Seen{"A:0", "B:1", "B:2", "B:3"});
    h.methods.close_channel(f.ch);
    CHECK(h.methods.queue_declare(h.channel(f.c), {.queue = "q", .passive = true}).value() == QueueDeclareOk{"q", 5, 0});
    auto next = h.channel(f.c);
    h.consume(next, "q", "C");
    CHECK(tagged(f.deliveries()) == Seen{"1:0*", "2:1*", "3:2*", "4:3*", "5:4"});
}

TEST_CASE("a channel error requeues what that channel held; the connection's other channels go on") {
    Fixture f;
    auto& h = f.h;
    auto ch3 = h.channel(f.c);
    publish_numbered(h, ch3, "q", 2);
    REQUIRE(h.get(ch3, "q"));
    require_error(h.methods.queue_declare(ch3, {.queue = "nope", .passive = true}), ReplyCode::NotFound,
                  "NOT_FOUND - no queue 'nope' in vhost '/'");
    CHECK_FALSE(h.channel_open(ch3));
    CHECK(h.channel_open(f.ch));
    CHECK(h.methods.queue_declare(f.ch, {.queue = "q", .passive = true})->message_count == 2);
    auto g = h.get(f.ch, "q", true);
    REQUIRE(g);
    CHECK(g->message->body() == "0");
    CHECK(g->redelivered);
}

TEST_CASE("a connection error closes every channel of the connection") {
    Fixture f;
    auto& h = f.h;
    auto ch2 = h.channel(f.c);
    h.declare_queue(ch2, "mine", {.exclusive = true});
    publish_numbered(h, f.ch, "q", 2);
    h.consume(ch2, "q", "A");
    CHECK(h.unacked("q") == 2);
    auto r = h.methods.exchange_declare(f.ch, {.exchange = "x", .type = "banana"});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().closes_connection());
    CHECK_FALSE(h.channel_open(ch2));
    CHECK(h.unacked("q") == 0);
    CHECK(h.ready("q") == 2);
    CHECK(h.broker.queue("/", "q")->consumers == 0);
    CHECK_FALSE(h.has_queue("mine"));
    CHECK_FALSE(h.methods.open_channel({f.c.id, 9}).ok());
}

TEST_CASE("inspection reports a queue's figures as the management API shows them") {
    Fixture f;
    auto& h = f.h;
    h.publish(f.ch, "", "q", "12345");
    h.publish(f.ch, "", "q", "123");
    h.publish(f.ch, "", "q", "1");
    REQUIRE(h.get(f.ch, "q"));
    auto info = h.broker.queue("/", "q");
    REQUIRE(info);
    CHECK(info->vhost == "/");
    CHECK(info->messages_ready == 2);
    CHECK(info->messages_unacknowledged == 1);
    CHECK(info->messages == 3);
    CHECK(info->message_bytes_ready == 4);
    CHECK(info->consumers == 0);
    CHECK_FALSE(h.broker.queue("/", "missing"));
    CHECK_FALSE(h.broker.queue("/elsewhere", "q"));
    CHECK(h.broker.queues("/").size() == 1);
}
