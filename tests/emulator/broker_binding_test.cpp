// queue.bind / queue.unbind / exchange.bind / exchange.unbind, as RabbitMQ 3.10.8 answers them.
#include <catch2/catch.hpp>

#include <functional>

#include "broker_harness.hpp"

using namespace warren;
using namespace warren::test;
using emulator::ExchangeBind;
using emulator::QueueBind;

namespace {

const char* const default_refused = "ACCESS_REFUSED - operation not permitted on the default exchange";

std::size_t explicit_bindings(const Broker& broker) {
    std::size_t n = 0;
    for (const auto& b : broker.bindings("/"))
        if (!b.source.empty()) ++n;
    return n;
}

}  // namespace

TEST_CASE("the default exchange is bound to every queue implicitly and refuses bind and unbind") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q");
    h.declare_exchange(ch, "x", "direct");

    auto listed = h.broker.bindings("/");
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].source == "");
    CHECK(listed[0].destination == "q");
    CHECK(listed[0].destination_type == "queue");
    CHECK(listed[0].routing_key == "q");

    const std::vector<std::function<Status(ChannelRef)>> calls = {
        [&](ChannelRef r) { return h.methods.queue_bind(r, {"q", "", "q"}); },
        [&](ChannelRef r) { return h.methods.queue_bind(r, {"missing", "", "k"}); },
        [&](ChannelRef r) { return h.methods.queue_unbind(r, {"q", "", "q"}); },
        [&](ChannelRef r) { return h.methods.exchange_bind(r, {.destination = "", .source = "x"}); },
        [&](ChannelRef r) { return h.methods.exchange_bind(r, {.destination = "x", .source = ""}); },
        [&](ChannelRef r) { return h.methods.exchange_unbind(r, {.destination = "x", .source = ""}); },
    };
    for (const auto& call : calls) {
        auto r = call(h.channel(c));
        require_error(r, ReplyCode::AccessRefused, default_refused);
        CHECK_FALSE(r.error().closes_connection());
    }
    CHECK(h.broker.bindings("/").size() == 1);
}

TEST_CASE("binding needs both ends: the source exchange is looked for first") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q");
    h.declare_exchange(ch, "x", "direct");
    struct Case {
        std::function<Status(ChannelRef)> call;
        std::string text;
    };
    const std::vector<Case> cases = {
        {[&](ChannelRef r) { return h.methods.queue_bind(r, {"nq", "nx", "k"}); },
         "NOT_FOUND - no exchange 'nx' in vhost '/'"},
        {[&](ChannelRef r) { return h.methods.queue_bind(r, {"nq", "x", "k"}); },
         "NOT_FOUND - no queue 'nq' in vhost '/'"},
        {[&](ChannelRef r) { return h.methods.queue_bind(r, {"q", "nx", "k"}); },
         "NOT_FOUND - no exchange 'nx' in vhost '/'"},
        {[&](ChannelRef r) { return h.methods.exchange_bind(r, {.destination = "nd", .source = "ns"}); },
         "NOT_FOUND - no exchange 'ns' in vhost '/'"},
        {[&](ChannelRef r) { return h.methods.exchange_bind(r, {.destination = "nd", .source = "x"}); },
         "NOT_FOUND - no exchange 'nd' in vhost '/'"},
        {[&](ChannelRef r) { return h.methods.exchange_bind(r, {.destination = "x", .source = "ns"}); },
         "NOT_FOUND - no exchange 'ns' in vhost '/'"},
    };
    for (const auto& cs : cases) {
        INFO(cs.text);
        require_error(cs.call(h.channel(c)), ReplyCode::NotFound, cs.text);
    }
    CHECK(explicit_bindings(h.broker) == 0);
}

TEST_CASE("unbinding what is not there is no error") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "q");
    h.declare_exchange(ch, "x", "direct");
    h.declare_exchange(ch, "y", "fanout");
    CHECK(h.methods.queue_unbind(ch, {"nq", "nx", "k"}).ok());
    CHECK(h.methods.queue_unbind(ch, {"nq", "x", "k"}).ok());
    CHECK(h.methods.queue_unbind(ch, {"q", "nx", "k"}).ok());
    CHECK(h.methods.queue_unbind(ch, {"q", "x", "k"}).ok());
    CHECK(h.methods.exchange_unbind(ch, {.destination = "nd", .source = "ns"}).ok());
    CHECK(h.methods.exchange_unbind(ch, {.destination = "nd", .source = "x"}).ok());
    CHECK(h.methods.exchange_unbind(ch, {.destination = "y", .source = "ns"}).ok());
    CHECK(h.methods.exchange_unbind(ch, {.destination = "y", .source = "x", .routing_key = "k"}).ok());
    CHECK(h.channel_open(ch));
}

TEST_CASE("a binding is its source, destination, key and arguments in any order") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "q");
    h.bind(ch, "q", "amq.headers", "", {{"x-match", "any"}, {"a", 1}, {"b", 2}});
    h.bind(ch, "q", "amq.headers", "", {{"b", 2}, {"x-match", "any"}, {"a", 1}});  // the same one
    h.bind(ch, "q", "amq.direct", "k");
    h.bind(ch, "q", "amq.direct", "k");
    CHECK(explicit_bindings(h.broker) == 2);

    // One unbind each removes them, arguments given in yet another order.
    REQUIRE(h.methods.queue_unbind(ch, {"q", "amq.headers", "", {{"b", 2}, {"x-match", "any"}, {"a", 1}}}).ok());
    REQUIRE(h.methods.queue_unbind(ch, {"q", "amq.direct", "k"}).ok());
    h.publish(ch, "amq.headers", "", "h", {.headers = {{"a", 1}}});
    h.publish(ch, "amq.direct", "k", "d");
    CHECK(h.ready("q") == 0);
    CHECK(explicit_bindings(h.broker) == 0);
}

TEST_CASE("queue.bind with an empty queue name binds the last declared queue by its name") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_exchange(ch, "x", "direct");
    require_error(h.methods.queue_bind(ch, {"", "x", "k"}), ReplyCode::NotFound,
                  "NOT_FOUND - no previously declared queue");
    ch = h.channel(c);
    auto ok = h.methods.queue_declare(ch, {.exclusive = true});
    REQUIRE(ok.ok());
    REQUIRE(h.methods.queue_bind(ch, {"", "x", ""}).ok());
    h.publish(ch, "x", ok->queue, "by name");
    CHECK(h.ready(ok->queue) == 1);
    REQUIRE(h.methods.queue_unbind(ch, {"", "x", ""}).ok());
    CHECK(explicit_bindings(h.broker) == 0);
}

TEST_CASE("a refused binding adds nothing") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q");
    require_error(h.methods.queue_bind(ch, {"q", "amq.headers", "", {{"x-match", "foo"}}}),
                  ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - Invalid x-match field value <<\"foo\">>; expected all, any, "
                  "all-with-x, or any-with-x");
    CHECK(explicit_bindings(h.broker) == 0);
    CHECK_FALSE(h.channel_open(ch));
}

TEST_CASE("bindings() lists exchange-to-exchange bindings with their destination type") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_exchange(ch, "src", "topic");
    h.declare_exchange(ch, "dst", "fanout");
    REQUIRE(h.methods.exchange_bind(ch, {.destination = "dst", .source = "src", .routing_key = "a.#"}).ok());
    REQUIRE(h.methods.exchange_bind(ch, {.destination = "src", .source = "amq.rabbitmq.trace", .routing_key = "#"}).ok());
    auto listed = h.broker.bindings("/");
    REQUIRE(listed.size() == 2);
    for (const auto& b : listed) CHECK(b.destination_type == "exchange");
    CHECK(listed[0].source == "amq.rabbitmq.trace");  // sorted by source
    CHECK(listed[1].source == "src");
    CHECK(listed[1].destination == "dst");
    CHECK(listed[1].routing_key == "a.#");
}
