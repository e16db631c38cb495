// Which refusals close the channel and which the connection, with the method they name, and
// that a refused call changes nothing. Codes and texts as RabbitMQ 3.10.8 gives them.
#include <catch2/catch.hpp>

#include <functional>

#include "broker_harness.hpp"

using namespace warren;
using namespace warren::test;

namespace {

struct Refusal {
    std::string what;
    std::function<Status(Harness&, ChannelRef)> call;
    ReplyCode code;
    MethodId method;
    bool closes_connection;
};

template <class R>
Status status(const R& r) {
    return r.ok() ? Status{} : Status{r.error()};
}

}  // namespace

TEST_CASE("soft errors close the channel, hard errors the connection") {
    const std::vector<Refusal> refusals = {
        {"reserved exchange name", [](Harness& h, ChannelRef ch) { return h.methods.exchange_declare(ch, {.exchange = "amq.x", .type = "direct"}); },
         ReplyCode::AccessRefused, method::exchange_declare, false},
        {"missing queue", [](Harness& h, ChannelRef ch) { return status(h.methods.queue_purge(ch, "missing")); },
         ReplyCode::NotFound, method::queue_purge, false},
        {"missing exchange on bind", [](Harness& h, ChannelRef ch) { return h.methods.queue_bind(ch, {"q", "missing", "k"}); },
         ReplyCode::NotFound, method::queue_bind, false},
        {"locked queue", [](Harness& h, ChannelRef ch) { return status(h.methods.queue_declare(ch, {.queue = "q", .exclusive = true})); },
         ReplyCode::ResourceLocked, method::queue_declare, false},
        {"inequivalent queue", [](Harness& h, ChannelRef ch) { return status(h.methods.queue_declare(ch, {.queue = "q", .durable = true})); },
         ReplyCode::PreconditionFailed, method::queue_declare, false},
        {"in-use exchange", [](Harness& h, ChannelRef ch) { return h.methods.exchange_delete(ch, {.exchange = "x", .if_unused = true}); },
         ReplyCode::PreconditionFailed, method::exchange_delete, false},
        {"unknown delivery tag", [](Harness& h, ChannelRef ch) { return h.methods.basic_reject(ch, 5, false); },
         ReplyCode::PreconditionFailed, method::basic_reject, false},
        {"exclusive consumer", [](Harness& h, ChannelRef ch) { return status(h.methods.basic_consume(ch, {.queue = "q", .exclusive = true})); },
         ReplyCode::AccessRefused, method::basic_consume, false},
        {"unknown exchange type", [](Harness& h, ChannelRef ch) { return h.methods.exchange_declare(ch, {.exchange = "y", .type = "nope"}); },
         ReplyCode::CommandInvalid, method::exchange_declare, true},
        {"consumer tag reuse", [](Harness& h, ChannelRef ch) {
             (void)h.methods.basic_consume(ch, {.queue = "q", .consumer_tag = "mine"});
             return status(h.methods.basic_consume(ch, {.queue = "q", .consumer_tag = "mine"}));
         },
         ReplyCode::NotAllowed, method::basic_consume, true},
        {"prefetch size", [](Harness& h, ChannelRef ch) { return h.methods.basic_qos(ch, {1, 0, false}); },
         ReplyCode::NotImplemented, method::basic_qos, true},
        {"recover without requeue", [](Harness& h, ChannelRef ch) { return h.methods.basic_recover(ch, false); },
         ReplyCode::NotImplemented, method::basic_recover, true},
        {"immediate", [](Harness& h, ChannelRef ch) { return h.methods.basic_publish(ch, {"", "q", false, true}, Message{}); },
         ReplyCode::NotImplemented, method::basic_publish, true},
    };
    for (const auto& r : refusals) {
        INFO(r.what);
        Harness h;
        auto& owner = h.connect();
        auto setup = h.channel(owner);
        h.declare_queue(setup, "q");
        h.declare_exchange(setup, "x", "direct");
        h.bind(setup, "q", "x", "k");
        h.consume(setup, "q", "c");
        auto& c = h.connect();
        auto ch = h.channel(c);
        auto sibling = h.channel(c);
        h.declare_queue(sibling, "theirs", {.exclusive = true});
        auto bystander = h.channel(h.connect());

        auto result = r.call(h, ch);
        REQUIRE_FALSE(result.ok());
        CHECK(result.error().code() == r.code);
        CHECK(result.error().method() == r.method);
        CHECK(result.error().closes_connection() == r.closes_connection);
        CHECK_FALSE(h.channel_open(ch));
        CHECK(h.channel_open(sibling) == !r.closes_connection);
        CHECK(h.has_queue("theirs") == !r.closes_connection);
        CHECK(h.channel_open(bystander));
        CHECK(h.channel_open(setup));
    }
}

TEST_CASE("a refused call changes no state") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q", {.arguments = {{"x-max-length", 10}}});
    h.declare_exchange(ch, "x", "topic");
    h.bind(ch, "q", "x", "a.#");
    for (const char* body : {"0", "1"}) h.publish(ch, "", "q", body);
    const auto queues_before = h.broker.queues();
    const auto exchanges_before = h.broker.exchanges();
    const auto bindings_before = h.broker.bindings();
    auto unchanged = [&] {
        CHECK(h.broker.queues().size() == queues_before.size());
        CHECK(h.broker.exchanges().size() == exchanges_before.size());
        CHECK(h.broker.bindings().size() == bindings_before.size());
        auto q = h.broker.queue("/", "q");
        REQUIRE(q);
        CHECK(q->arguments == queues_before[0].arguments);
        CHECK(q->messages_ready == 2);
        CHECK(h.broker.exchange("/", "x")->type == "topic");
    };
    const std::vector<std::function<bool(ChannelRef)>> refused = {
        [&](ChannelRef r) { return h.methods.queue_declare(r, {.queue = "q", .arguments = {{"x-max-length", 5}}}).ok(); },
        [&](ChannelRef r) { return h.methods.queue_declare(r, {.queue = "new", .arguments = {{"x-max-length", -1}}}).ok(); },
        [&](ChannelRef r) { return h.methods.exchange_declare(r, {.exchange = "x", .type = "direct"}).ok(); },
        [&](ChannelRef r) { return h.methods.exchange_declare(r, {.exchange = "new", .type = "direct", .arguments = {{"alternate-exchange", 1}}}).ok(); },
        [&](ChannelRef r) { return h.methods.queue_bind(r, {"q", "amq.headers", "", {{"x-match", "some"}}}).ok(); },
        [&](ChannelRef r) { return h.methods.queue_bind(r, {"missing", "x", "k"}).ok(); },
        [&](ChannelRef r) { return h.methods.exchange_delete(r, {.exchange = "x", .if_unused = true}).ok(); },
        [&](ChannelRef r) { return h.methods.queue_delete(r, {.queue = "q", .if_empty = true}).ok(); },
        [&](ChannelRef r) { return h.methods.basic_publish(r, {"x", "a.b"}, Message{"no", {.user_id = "mallory"}}).ok(); },
        [&](ChannelRef r) { return h.methods.basic_publish(r, {"x", "a.b"}, Message{"no", {.headers = {{"BCC", "q"}}}}).ok(); },
        [&](ChannelRef r) { return h.methods.basic_consume(r, {.queue = "q", .arguments = {{"x-priority", "top"}}}).ok(); },
    };
    for (std::size_t i = 0; i < refused.size(); ++i) {
        INFO("refusal " << i);
        auto r = h.channel(c);
        CHECK_FALSE(refused[i](r));
        unchanged();
    }
}
