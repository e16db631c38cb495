// Broker::trace_route: what a publish would do, binding by binding, and why.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include "broker_harness.hpp"

using namespace warren;
using namespace warren::test;

namespace {

std::vector<std::string> verdicts(const RouteTrace& t) {
    std::vector<std::string> out;
    for (const auto& b : t.bindings)
        out.push_back(fmt::format("{}->{} '{}' {}", b.source, b.destination, b.binding_key,
                                  b.matched ? "match" : "no: " + b.reason));
    return out;
}

}  // namespace

TEST_CASE("trace_route explains each binding of each exchange visited") {
    Harness h;
    auto ch = h.channel(h.connect());
    for (const char* q : {"qa", "qb", "qc"}) h.declare_queue(ch, q);
    h.declare_exchange(ch, "ae", "fanout");
    h.bind(ch, "qc", "ae", "");
    h.declare_exchange(ch, "x", "direct", {.arguments = {{"alternate-exchange", "ae"}}});
    h.bind(ch, "qa", "x", "a");
    h.bind(ch, "qb", "x", "b");
    h.declare_exchange(ch, "inner", "fanout");
    REQUIRE(h.methods.exchange_bind(ch, {.destination = "inner", .source = "x", .routing_key = "b"}).ok());
    h.bind(ch, "qb", "inner", "");

    SECTION("matched bindings, followed through an exchange, each queue once") {
        auto t = h.broker.trace_route("/", "x", "b");
        CHECK(t.exchange == "x");
        CHECK(t.routing_key == "b");
        CHECK_FALSE(t.error);
        CHECK(verdicts(t) == std::vector<std::string>{"x->qa 'a' no: binding key 'a' != routing key 'b'",
                                                      "x->qb 'b' match", "x->inner 'b' match",
                                                      "inner->qb '' match"});
        CHECK(t.bindings[2].destination_is_queue == false);
        CHECK(t.alternate_exchanges.empty());
        CHECK(t.queues == std::vector<std::string>{"qb"});
    }
    SECTION("nothing matched: on to the alternate exchange") {
        auto t = h.broker.trace_route("/", "x", "zzz");
        CHECK(t.alternate_exchanges == std::vector<std::string>{"ae"});
        CHECK(t.queues == std::vector<std::string>{"qc"});
        std::ostringstream printed;
        printed << t;
        CHECK_THAT(printed.str(), Catch::Contains("on to alternate exchange 'ae'") &&
                                      Catch::Contains("reaches: 'qc'"));
    }
    SECTION("CC keys take part; the trace agrees with a publish and changes nothing") {
        FieldTable headers{{"CC", FieldArray{"a"}}};
        auto t = h.broker.trace_route("/", "x", "b", headers);
        std::sort(t.queues.begin(), t.queues.end());
        CHECK(t.queues == std::vector<std::string>{"qa", "qb"});
        for (const char* q : {"qa", "qb", "qc"}) CHECK(h.ready(q) == 0);
        h.publish(ch, "x", "b", "m", {.headers = headers});
        CHECK(h.ready("qa") == 1);
        CHECK(h.ready("qb") == 1);
        CHECK(h.ready("qc") == 0);
    }
}

TEST_CASE("trace_route through the default exchange names the queue it looks for") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "q");
    auto hit = h.broker.trace_route("/", "", "q");
    CHECK(verdicts(hit) == std::vector<std::string>{"->q 'q' match"});
    CHECK(hit.queues == std::vector<std::string>{"q"});
    auto miss = h.broker.trace_route("/", "", "nowhere");
    CHECK(verdicts(miss) == std::vector<std::string>{"->nowhere 'nowhere' no: no queue named 'nowhere'"});
    CHECK(miss.queues.empty());
}

TEST_CASE("trace_route reports the error a publish would get") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_exchange(ch, "ix", "fanout", {.internal = true});
    struct Case {
        std::string exchange;
        FieldTable headers;
        ReplyCode code;
        std::string text;
    };
    const std::vector<Case> cases = {
        {"missing", {}, ReplyCode::NotFound, "NOT_FOUND - no exchange 'missing' in vhost '/'"},
        {"ix", {}, ReplyCode::AccessRefused, "ACCESS_REFUSED - cannot publish to internal exchange 'ix' in vhost '/'"},
        {"amq.direct", {{"CC", "k"}}, ReplyCode::PreconditionFailed,
         "PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,\"CC\",longstr}"},
    };
    for (const auto& cs : cases) {
        INFO(cs.text);
        auto t = h.broker.trace_route("/", cs.exchange, "k", cs.headers);
        REQUIRE(t.error);
        CHECK(t.error->code() == cs.code);
        CHECK(t.error->reply_text() == cs.text);
        CHECK(t.bindings.empty());
        CHECK(t.queues.empty());
    }
    auto t = h.broker.trace_route("nope", "amq.direct", "k");
    REQUIRE(t.error);
    CHECK(t.error->code() == ReplyCode::NotAllowed);
}
