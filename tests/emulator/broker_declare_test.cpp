// exchange.declare / exchange.delete / queue.declare / queue.delete / queue.purge, and the
// lifecycles they start (exclusive and auto-delete). Every code, text and outcome asserted
// here was observed on RabbitMQ 3.10.8.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <regex>

#include "broker_harness.hpp"

using namespace warren;
using namespace warren::test;
using emulator::ExchangeDeclare;
using emulator::QueueDeclare;

namespace {

const char* const locked_text =
    "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'q' in vhost '/'. It "
    "could be originally declared on another connection or the exclusive property value does "
    "not match that of the original declaration.";

}  // namespace

// ---- exchanges --------------------------------------------------------------------------------

TEST_CASE("a vhost starts with RabbitMQ's predeclared exchanges, all durable") {
    Broker broker;
    std::vector<std::tuple<std::string, std::string, bool>> seen;
    for (const auto& x : broker.exchanges("/")) {
        CHECK(x.durable);
        CHECK_FALSE(x.auto_delete);
        seen.emplace_back(x.name, x.type, x.internal);
    }
    using T = std::tuple<std::string, std::string, bool>;
    CHECK(seen == std::vector<T>{{"", "direct", false},
                                 {"amq.direct", "direct", false},
                                 {"amq.fanout", "fanout", false},
                                 {"amq.headers", "headers", false},
                                 {"amq.match", "headers", false},
                                 {"amq.rabbitmq.trace", "topic", true},
                                 {"amq.topic", "topic", false}});
}

TEST_CASE("exchange.declare of an unknown type is a connection error, checked before anything") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    auto other = h.channel(c);

    SECTION("a name that is no Erlang atom") {
        auto r = h.methods.exchange_declare(ch, {.exchange = "x", .type = "banana"});
        require_error(r, ReplyCode::CommandInvalid, "COMMAND_INVALID - unknown exchange type 'banana'");
        CHECK(r.error().closes_connection());
        CHECK(r.error().method() == method::exchange_declare);
    }
    SECTION("the empty name, which is an atom") {
        auto r = h.methods.exchange_declare(ch, {.exchange = "x", .type = ""});
        require_error(r, ReplyCode::CommandInvalid, "COMMAND_INVALID - invalid exchange type ''");
    }
    SECTION("the type is checked before the default exchange is refused") {
        auto r = h.methods.exchange_declare(ch, {.exchange = "", .type = "banana"});
        require_error(r, ReplyCode::CommandInvalid, "COMMAND_INVALID - unknown exchange type 'banana'");
    }
    CHECK_FALSE(h.has_exchange("x"));
    CHECK_FALSE(h.channel_open(other));  // the whole connection went
}

TEST_CASE("the default exchange cannot be declared, even passively, nor deleted") {
    Harness h;
    auto ch = h.channel(h.connect());
    const auto text = "ACCESS_REFUSED - operation not permitted on the default exchange";
    require_error(h.methods.exchange_declare(ch, {.exchange = "", .type = "direct"}),
                  ReplyCode::AccessRefused, text);
    ch = h.channel(h.connect());
    require_error(h.methods.exchange_declare(ch, {.exchange = "", .type = "direct", .passive = true}),
                  ReplyCode::AccessRefused, text);
    ch = h.channel(h.connect());
    require_error(h.methods.exchange_delete(ch, {.exchange = "", .if_unused = true}),
                  ReplyCode::AccessRefused, text);
    CHECK(h.has_exchange(""));
}

TEST_CASE("amq. names are reserved when an exchange would be created or deleted") {
    Harness h;
    auto& c = h.connect();

    auto ch = h.channel(c);
    auto r = h.methods.exchange_declare(ch, {.exchange = "amq.custom", .type = "direct"});
    require_error(r, ReplyCode::AccessRefused,
                  "ACCESS_REFUSED - exchange name 'amq.custom' contains reserved prefix 'amq.*'");
    CHECK_FALSE(r.error().closes_connection());
    CHECK_FALSE(h.has_exchange("amq.custom"));

    ch = h.channel(c);
    require_error(h.methods.exchange_declare(ch, {.exchange = "amq.custom", .type = "direct", .passive = true}),
                  ReplyCode::NotFound, "NOT_FOUND - no exchange 'amq.custom' in vhost '/'");

    // Redeclaring a predeclared exchange with its own attributes is fine.
    ch = h.channel(c);
    CHECK(h.methods.exchange_declare(ch, {.exchange = "amq.direct", .type = "direct", .durable = true}).ok());
    CHECK(h.methods.exchange_declare(ch, {.exchange = "amq.topic", .type = "fanout", .passive = true}).ok());
    require_error(h.methods.exchange_declare(ch, {.exchange = "amq.direct", .type = "direct"}),
                  ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange 'amq.direct' in "
                  "vhost '/': received 'false' but current is 'true'");

    ch = h.channel(c);
    require_error(h.methods.exchange_delete(ch, {.exchange = "amq.direct"}), ReplyCode::AccessRefused,
                  "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed");
    ch = h.channel(c);
    require_error(h.methods.exchange_delete(ch, {.exchange = "amq.missing"}), ReplyCode::AccessRefused,
                  "ACCESS_REFUSED - deletion of system exchange 'amq.missing' in vhost '/' not allowed");
    CHECK(h.has_exchange("amq.direct"));
}

TEST_CASE("exchange redeclaration compares type, durable, auto_delete, internal, alternate-exchange") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_exchange(ch, "x", "direct");
    h.declare_exchange(ch, "xa", "direct", {.arguments = {{"alternate-exchange", "ae1"}}});
    const std::string x = "for exchange 'x' in vhost '/': ";
    const std::string xa = "for exchange 'xa' in vhost '/': ";

    struct Case {
        ExchangeDeclare m;
        std::string text;
    };
    const std::vector<Case> cases = {
        // The type is compared first, even when durable differs too.
        {{.exchange = "x", .type = "fanout", .durable = true},
         "inequivalent arg 'type' " + x + "received 'fanout' but current is 'direct'"},
        {{.exchange = "x", .type = "direct", .durable = true},
         "inequivalent arg 'durable' " + x + "received 'true' but current is 'false'"},
        {{.exchange = "x", .type = "direct", .auto_delete = true, .internal = true},
         "inequivalent arg 'auto_delete' " + x + "received 'true' but current is 'false'"},
        {{.exchange = "x", .type = "direct", .internal = true},
         "inequivalent arg 'internal' " + x + "received 'true' but current is 'false'"},
        {{.exchange = "x", .type = "direct", .arguments = {{"alternate-exchange", "ae"}}},
         "inequivalent arg 'alternate-exchange' " + x +
             "received the value 'ae' of type 'longstr' but current is none"},
        {{.exchange = "xa", .type = "direct", .arguments = {{"alternate-exchange", "ae2"}}},
         "inequivalent arg 'alternate-exchange' " + xa + "received 'ae2' but current is 'ae1'"},
        {{.exchange = "xa", .type = "direct"},
         "inequivalent arg 'alternate-exchange' " + xa +
             "received none but current is the value 'ae1' of type 'longstr'"},
        {{.exchange = "xa", .type = "direct", .arguments = {{"alternate-exchange", 5}}},
         "inequivalent arg 'alternate-exchange' " + xa + "received '5' but current is 'ae1'"},
    };
    for (const auto& cs : cases) {
        INFO(cs.text);
        ch = h.channel(c);
        require_error(h.methods.exchange_declare(ch, cs.m), ReplyCode::PreconditionFailed,
                      "PRECONDITION_FAILED - " + cs.text);
        CHECK_FALSE(h.channel_open(ch));
    }

    ch = h.channel(c);
    // Arguments other than alternate-exchange may differ; a byte array equals a long string.
    CHECK(h.methods.exchange_declare(ch, {.exchange = "x", .type = "direct", .arguments = {{"other", "v"}}}).ok());
    CHECK(h.methods.exchange_declare(ch, {.exchange = "xa", .type = "direct",
                                         .arguments = {{"alternate-exchange", ByteArray{"ae1"}}}})
              .ok());
    // The refused redeclarations changed nothing.
    auto info = h.broker.exchange("/", "x");
    REQUIRE(info);
    CHECK(info->type == "direct");
    CHECK_FALSE(info->durable);
    CHECK_FALSE(info->auto_delete);
    CHECK_FALSE(info->internal);
    CHECK(info->arguments.empty());
}

TEST_CASE("a new exchange's alternate-exchange must be a long string") {
    Harness h;
    auto& c = h.connect();
    const std::vector<std::pair<FieldValue, std::string>> cases = {
        {5, "signedint"}, {true, "bool"}, {FieldTable{{"a", 1}}, "table"}};
    for (const auto& [value, type] : cases) {
        auto ch = h.channel(c);
        require_error(h.methods.exchange_declare(ch, {.exchange = "x", .type = "direct",
                                                     .arguments = {{"alternate-exchange", value}}}),
                      ReplyCode::PreconditionFailed,
                      "PRECONDITION_FAILED - invalid type '" + type +
                          "' for arg 'alternate-exchange' in exchange 'x' in vhost '/'");
    }
    CHECK_FALSE(h.has_exchange("x"));
}

TEST_CASE("exchange.delete: missing is fine, if-unused counts bindings from the exchange") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    CHECK(h.methods.exchange_delete(ch, {.exchange = "missing"}).ok());
    CHECK(h.methods.exchange_delete(ch, {.exchange = "missing", .if_unused = true}).ok());

    h.declare_exchange(ch, "src", "direct");
    h.declare_exchange(ch, "dst", "fanout");
    REQUIRE(h.methods.exchange_bind(ch, {.destination = "dst", .source = "src", .routing_key = "k"}).ok());
    require_error(h.methods.exchange_delete(ch, {.exchange = "src", .if_unused = true}),
                  ReplyCode::PreconditionFailed, "PRECONDITION_FAILED - exchange 'src' in vhost '/' in use");
    CHECK(h.has_exchange("src"));
    CHECK(h.broker.bindings("/").size() == 1);

    // An exchange that is only the destination of a binding is unused.
    ch = h.channel(c);
    CHECK(h.methods.exchange_delete(ch, {.exchange = "dst", .if_unused = true}).ok());
    CHECK_FALSE(h.has_exchange("dst"));
    CHECK(h.broker.bindings("/").empty());
}

// ---- queues -------------------------------------------------------------------------------

TEST_CASE("queue.declare with an empty name makes a server-named queue") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    auto ok = h.methods.queue_declare(ch, {.exclusive = true});
    REQUIRE(ok.ok());
    CHECK(std::regex_match(ok->queue, std::regex("amq\\.gen-[A-Za-z0-9_-]{22}")));
    CHECK(ok->message_count == 0);
    CHECK(ok->consumer_count == 0);
    CHECK(h.has_queue(ok->queue));

    auto again = h.methods.queue_declare(ch, {});
    REQUIRE(again.ok());
    CHECK(again->queue != ok->queue);

    // Its name is reserved: only a passive declare may name it.
    CHECK(h.methods.queue_declare(ch, {.queue = ok->queue, .passive = true}).ok());
    require_error(h.methods.queue_declare(ch, {.queue = ok->queue, .exclusive = true}),
                  ReplyCode::AccessRefused,
                  "ACCESS_REFUSED - queue name '" + ok->queue + "' contains reserved prefix 'amq.*'");
}

TEST_CASE("queue names starting amq. are refused unless the declare is passive") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    require_error(h.methods.queue_declare(ch, {.queue = "amq.foo"}), ReplyCode::AccessRefused,
                  "ACCESS_REFUSED - queue name 'amq.foo' contains reserved prefix 'amq.*'");
    ch = h.channel(c);
    require_error(h.methods.queue_declare(ch, {.queue = "amq.foo", .passive = true}), ReplyCode::NotFound,
                  "NOT_FOUND - no queue 'amq.foo' in vhost '/'");
    CHECK_FALSE(h.has_queue("amq.foo"));
}

TEST_CASE("a passive queue.declare takes an empty name literally") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "q");
    // Unlike queue.bind, purge, delete, get and consume, it does not mean "the last declared".
    require_error(h.methods.queue_declare(ch, {.queue = "", .passive = true}), ReplyCode::NotFound,
                  "NOT_FOUND - no queue '' in vhost '/'");
}

TEST_CASE("queue.declare-ok counts ready messages and every consumer") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "q");
    for (const char* body : {"a", "b", "c", "d"}) h.publish(ch, "", "q", body);
    REQUIRE(h.methods.basic_qos(ch, {0, 1, false}).ok());
    h.consume(ch, "q", "c1");
    h.consume(ch, "q", "c2");
    h.consume(ch, "q", "c3");  // has no message to take: every consumer counts anyway
    REQUIRE(h.get(ch, "q"));
    auto ok = h.methods.queue_declare(ch, {.queue = "q", .passive = true});
    REQUIRE(ok.ok());
    CHECK(ok.value() == QueueDeclareOk{"q", 0, 3});
    auto info = h.broker.queue("/", "q");
    CHECK(info->messages_ready == 0);
    CHECK(info->messages_unacknowledged == 4);
    CHECK(info->messages == 4);
    CHECK(info->consumers == 3);
}

TEST_CASE("queue redeclaration compares durable, auto_delete and classic queue arguments") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    const FieldTable args{{"x-message-ttl", 1000}, {"x-max-length", 10}};
    h.declare_queue(ch, "q", {.arguments = args});
    h.publish(ch, "", "q", "kept");
    const std::string q = "for queue 'q' in vhost '/': ";
    auto with = [&](FieldTable extra) {
        FieldTable t = args;
        for (auto& [k, v] : extra) t.set(k, v);
        return t;
    };

    struct Case {
        QueueDeclare m;
        ReplyCode code;
        std::string text;
    };
    const std::vector<Case> refused = {
        {{.queue = "q", .durable = true, .auto_delete = true, .arguments = args},
         ReplyCode::PreconditionFailed,
         "PRECONDITION_FAILED - inequivalent arg 'durable' " + q + "received 'true' but current is 'false'"},
        {{.queue = "q", .auto_delete = true, .arguments = args}, ReplyCode::PreconditionFailed,
         "PRECONDITION_FAILED - inequivalent arg 'auto_delete' " + q + "received 'true' but current is 'false'"},
        {{.queue = "q", .exclusive = true, .arguments = args}, ReplyCode::ResourceLocked, locked_text},
        {{.queue = "q", .arguments = with({{"x-message-ttl", 2000}})}, ReplyCode::PreconditionFailed,
         "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' " + q + "received '2000' but current is '1000'"},
        {{.queue = "q", .arguments = {{"x-max-length", 10}}}, ReplyCode::PreconditionFailed,
         "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' " + q +
             "received none but current is the value '1000' of type 'signedint'"},
        {{.queue = "q", .arguments = with({{"x-message-ttl", "1000"}})}, ReplyCode::PreconditionFailed,
         "PRECONDITION_FAILED - inequivalent arg 'x-message-ttl' " + q + "received '1000' but current is '1000'"},
        {{.queue = "q", .arguments = with({{"x-expires", 100000}})}, ReplyCode::PreconditionFailed,
         "PRECONDITION_FAILED - inequivalent arg 'x-expires' " + q +
             "received the value '100000' of type 'signedint' but current is none"},
        {{.queue = "q", .arguments = with({{"x-queue-version", 2}})}, ReplyCode::PreconditionFailed,
         "PRECONDITION_FAILED - inequivalent arg 'x-queue-version' " + q +
             "received the value '2' of type 'signedint' but current is none"},
        {{.queue = "q", .arguments = with({{"x-queue-type", "quorum"}})}, ReplyCode::PreconditionFailed,
         "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' " + q +
             "received the value 'quorum' of type 'longstr' but current is none"},
    };
    for (const auto& cs : refused) {
        INFO(cs.text);
        ch = h.channel(c);
        require_error(h.methods.queue_declare(ch, cs.m), cs.code, cs.text);
    }

    // Equivalent: integers of other widths, an explicit classic type, and arguments classic
    // queues do not compare (unknown ones, in-memory limits, other queue types' settings).
    const std::vector<FieldTable> accepted = {
        with({{"x-message-ttl", std::int64_t{1000}}}),
        with({{"x-queue-type", "classic"}}),
        with({{"x-max-in-memory-length", 5}, {"x-delivery-limit", 5}, {"whatever", "x"}}),
    };
    for (const auto& a : accepted) {
        INFO(a);
        ch = h.channel(c);
        auto ok = h.methods.queue_declare(ch, {.queue = "q", .arguments = a});
        REQUIRE(ok.ok());
        CHECK(ok->message_count == 1);
    }
    // No refusal changed the queue.
    auto info = h.broker.queue("/", "q");
    CHECK(info->arguments == args);
    CHECK_FALSE(info->durable);
    CHECK_FALSE(info->auto_delete);
    CHECK_FALSE(info->exclusive);
    CHECK(info->messages_ready == 1);
}

TEST_CASE("a queue declared with x-queue-type classic equals one declared without") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "qc", {.arguments = {{"x-queue-type", "classic"}}});
    CHECK(h.methods.queue_declare(ch, {.queue = "qc"}).ok());
    CHECK(h.methods.queue_declare(ch, {.queue = "qc", .arguments = {{"x-queue-type", ByteArray{"classic"}}}}).ok());
    require_error(h.methods.queue_declare(ch, {.queue = "qc", .arguments = {{"x-queue-type", "quorum"}}}),
                  ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'qc' in vhost '/': "
                  "received 'quorum' but current is 'classic'");
}

TEST_CASE("a new queue's arguments are validated; an existing queue's are only compared") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    require_error(h.methods.queue_declare(ch, {.queue = "q", .arguments = {{"x-message-ttl", -1}}}),
                  ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'q' in vhost '/': "
                  "{value_negative,-1}");
    CHECK_FALSE(h.has_queue("q"));
    ch = h.channel(c);
    h.declare_queue(ch, "q");
    // Not compared on a classic queue, so not validated either.
    CHECK(h.methods.queue_declare(ch, {.queue = "q", .arguments = {{"x-delivery-limit", "many"}}}).ok());
}

TEST_CASE("an exclusive queue belongs to its connection") {
    Harness h;
    auto& owner = h.connect();
    auto& other = h.connect();
    auto och = h.channel(owner);
    h.declare_queue(och, "q", {.durable = true, .exclusive = true});
    auto info = h.broker.queue("/", "q");
    CHECK(info->exclusive);
    CHECK_FALSE(info->durable);  // exclusive queues are never durable

    SECTION("other connections are locked out of everything but publishing to it") {
        using Call = std::function<Status(ChannelRef)>;
        auto st = [](auto r) { return r.ok() ? Status{} : Status{r.error()}; };
        const std::vector<std::pair<std::string, Call>> calls = {
            {"declare exclusive", [&](ChannelRef ch) { return st(h.methods.queue_declare(ch, {.queue = "q", .exclusive = true})); }},
            {"declare shared", [&](ChannelRef ch) { return st(h.methods.queue_declare(ch, {.queue = "q"})); }},
            {"declare durable", [&](ChannelRef ch) { return st(h.methods.queue_declare(ch, {.queue = "q", .durable = true})); }},
            {"declare passive", [&](ChannelRef ch) { return st(h.methods.queue_declare(ch, {.queue = "q", .passive = true})); }},
            {"get", [&](ChannelRef ch) { return st(h.methods.basic_get(ch, "q", false)); }},
            {"consume", [&](ChannelRef ch) { return st(h.methods.basic_consume(ch, {.queue = "q"})); }},
            {"purge", [&](ChannelRef ch) { return st(h.methods.queue_purge(ch, "q")); }},
            {"delete", [&](ChannelRef ch) { return st(h.methods.queue_delete(ch, {.queue = "q", .if_empty = true})); }},
            {"bind", [&](ChannelRef ch) { return h.methods.queue_bind(ch, {"q", "amq.direct", "k"}); }},
        };
        for (const auto& [what, call] : calls) {
            INFO(what);
            require_error(call(h.channel(other)), ReplyCode::ResourceLocked, locked_text);
        }
        // A missing exchange, and an invalid binding, are found before the lock.
        require_error(h.methods.queue_bind(h.channel(other), {"q", "nx", "k"}), ReplyCode::NotFound,
                      "NOT_FOUND - no exchange 'nx' in vhost '/'");
        require_error(h.methods.queue_bind(h.channel(other), {"q", "amq.headers", "", {{"x-match", "foo"}}}),
                      ReplyCode::PreconditionFailed,
                      "PRECONDITION_FAILED - Invalid x-match field value <<\"foo\">>; expected all, "
                      "any, all-with-x, or any-with-x");
        // Unbinding what is not bound is no use of the queue.
        auto ch = h.channel(other);
        CHECK(h.methods.queue_unbind(ch, {"q", "amq.direct", "k"}).ok());
        h.bind(och, "q", "amq.direct", "k");
        require_error(h.methods.queue_unbind(ch, {"q", "amq.direct", "k"}), ReplyCode::ResourceLocked, locked_text);

        ch = h.channel(other);
        h.publish(ch, "", "q", "from elsewhere");
        CHECK(h.ready("q") == 1);
        CHECK(h.broker.bindings("/").size() == 2);  // the default one and amq.direct's
    }
    SECTION("its owner must keep declaring it exclusive") {
        require_error(h.methods.queue_declare(h.channel(owner), {.queue = "q"}), ReplyCode::ResourceLocked,
                      locked_text);
        auto ch = h.channel(owner);
        CHECK(h.methods.queue_declare(ch, {.queue = "q", .durable = true, .exclusive = true}).ok());
        require_error(h.methods.queue_declare(ch, {.queue = "q", .exclusive = true, .auto_delete = true}),
                      ReplyCode::PreconditionFailed,
                      "PRECONDITION_FAILED - inequivalent arg 'auto_delete' for queue 'q' in vhost "
                      "'/': received 'true' but current is 'false'");
    }
    SECTION("it outlives its channel and goes with its connection") {
        h.methods.close_channel(och);
        CHECK(h.has_queue("q"));
        h.methods.close_connection(owner.id);
        CHECK_FALSE(h.has_queue("q"));
    }
}

TEST_CASE("queue.delete: if-empty is checked before if-unused; unacknowledged messages do not count") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    CHECK(h.methods.queue_delete(ch, {.queue = "missing"}).value() == 0);

    h.declare_queue(ch, "q");
    for (const char* body : {"x", "y"}) h.publish(ch, "", "q", body);
    REQUIRE(h.methods.basic_qos(ch, {0, 1, false}).ok());
    h.consume(ch, "q", "c");  // holds "x"; "y" stays ready

    auto other = h.channel(c);
    require_error(h.methods.queue_delete(other, {.queue = "q", .if_unused = true, .if_empty = true}),
                  ReplyCode::PreconditionFailed, "PRECONDITION_FAILED - queue 'q' in vhost '/' not empty");
    other = h.channel(c);
    require_error(h.methods.queue_delete(other, {.queue = "q", .if_unused = true}),
                  ReplyCode::PreconditionFailed, "PRECONDITION_FAILED - queue 'q' in vhost '/' in use");
    CHECK(h.ready("q") == 1);

    h.declare_queue(ch, "held");
    h.publish(ch, "", "held", "m");
    auto got = h.get(ch, "held");
    REQUIRE(got);
    auto deleted = h.methods.queue_delete(ch, {.queue = "held", .if_empty = true});
    REQUIRE(deleted.ok());
    CHECK(deleted.value() == 0);
    CHECK_FALSE(h.has_queue("held"));
    // Its delivery stays on the channel, and acknowledging it is fine.
    CHECK(h.methods.basic_ack(ch, got->delivery_tag, false).ok());
}

TEST_CASE("queue.delete returns the ready count and cancels every consumer, on any channel") {
    Harness h;
    auto& c = h.connect();
    auto ch1 = h.channel(c);
    auto ch2 = h.channel(c);
    h.declare_queue(ch1, "q");
    for (const char* body : {"0", "1", "2"}) h.publish(ch1, "", "q", body);
    REQUIRE(h.methods.basic_qos(ch1, {0, 1, false}).ok());
    h.consume(ch1, "q", "c1");
    h.consume(ch2, "q", "c2");
    c.sink.events.clear();
    auto other = h.channel(h.connect());
    h.publish(other, "", "q", "3");
    c.sink.events.clear();
    h.declare_queue(other, "idle");

    auto deleted = h.methods.queue_delete(ch2, {.queue = "q"});
    REQUIRE(deleted.ok());
    CHECK(deleted.value() == 0);
    std::vector<std::pair<ChannelId, std::string>> cancels;
    for (const auto& e : c.sink.events)
        if (e.kind == SinkEvent::Kind::Cancel) cancels.emplace_back(e.channel, e.consumer_tag);
    CHECK(cancels.size() == 2);
    CHECK(std::count(cancels.begin(), cancels.end(), std::pair<ChannelId, std::string>{ch1.channel, "c1"}) == 1);
    CHECK(std::count(cancels.begin(), cancels.end(), std::pair<ChannelId, std::string>{ch2.channel, "c2"}) == 1);
    CHECK_FALSE(h.has_queue("q"));

    h.publish(other, "", "idle", "a");
    h.publish(other, "", "idle", "b");
    CHECK(h.methods.queue_delete(other, {.queue = "idle"}).value() == 2);
}

TEST_CASE("queue.purge drops ready messages only and returns how many") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    require_error(h.methods.queue_purge(ch, ""), ReplyCode::NotFound, "NOT_FOUND - no previously declared queue");
    ch = h.channel(c);
    require_error(h.methods.queue_purge(ch, "missing"), ReplyCode::NotFound,
                  "NOT_FOUND - no queue 'missing' in vhost '/'");
    ch = h.channel(c);
    h.declare_queue(ch, "q");
    for (const char* body : {"0", "1", "2"}) h.publish(ch, "", "q", body);
    auto held = h.get(ch, "q");
    REQUIRE(held);
    auto purged = h.methods.queue_purge(ch, "");  // the channel's last declared queue
    REQUIRE(purged.ok());
    CHECK(purged.value() == 2);
    CHECK(h.ready("q") == 0);
    CHECK(h.unacked("q") == 1);
    REQUIRE(h.methods.basic_reject(ch, held->delivery_tag, true).ok());
    auto back = h.get(ch, "q", true);
    REQUIRE(back);
    CHECK(back->message->body() == "0");
    CHECK(back->redelivered);
}

TEST_CASE("an auto-delete queue goes when its last consumer goes, once it has had one") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q", {.auto_delete = true});

    SECTION("never consumed, it stays") {
        h.publish(ch, "", "q", "m");
        CHECK(h.has_queue("q"));
    }
    SECTION("cancelling one of two consumers keeps it; the last one deletes it") {
        h.consume(ch, "q", "a");
        h.consume(ch, "q", "b");
        REQUIRE(h.methods.basic_cancel(ch, "a").ok());
        CHECK(h.has_queue("q"));
        REQUIRE(h.methods.basic_cancel(ch, "b").ok());
        CHECK_FALSE(h.has_queue("q"));
    }
    SECTION("even when the channel still holds its messages unacknowledged") {
        for (const char* body : {"0", "1", "2"}) h.publish(ch, "", "q", body);
        h.consume(ch, "q", "a");
        REQUIRE(h.methods.basic_cancel(ch, "a").ok());
        CHECK_FALSE(h.has_queue("q"));
        CHECK(h.methods.basic_ack(ch, 0, true).ok());
    }
    SECTION("closing the consumer's channel deletes it") {
        h.consume(ch, "q", "a");
        h.methods.close_channel(ch);
        CHECK_FALSE(h.has_queue("q"));
    }
}

TEST_CASE("an auto-delete exchange goes when its last binding as source goes") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "q");
    h.declare_exchange(ch, "ad", "direct", {.auto_delete = true});
    CHECK(h.has_exchange("ad"));  // never bound: it stays

    SECTION("by unbinding") {
        h.bind(ch, "q", "ad", "a");
        h.bind(ch, "q", "ad", "b");
        REQUIRE(h.methods.queue_unbind(ch, {"q", "ad", "a"}).ok());
        CHECK(h.has_exchange("ad"));
        REQUIRE(h.methods.queue_unbind(ch, {"q", "ad", "b"}).ok());
        CHECK_FALSE(h.has_exchange("ad"));
    }
    SECTION("by deleting the bound queue") {
        h.bind(ch, "q", "ad", "a");
        REQUIRE(h.methods.queue_delete(ch, {.queue = "q"}).ok());
        CHECK_FALSE(h.has_exchange("ad"));
    }
    SECTION("a binding to it does not count") {
        h.declare_exchange(ch, "up", "fanout");
        REQUIRE(h.methods.exchange_bind(ch, {.destination = "ad", .source = "up"}).ok());
        REQUIRE(h.methods.exchange_unbind(ch, {.destination = "ad", .source = "up"}).ok());
        CHECK(h.has_exchange("ad"));
    }
    SECTION("deletions cascade through auto-delete sources") {
        h.declare_exchange(ch, "ad2", "fanout", {.auto_delete = true});
        REQUIRE(h.methods.exchange_bind(ch, {.destination = "ad2", .source = "ad", .routing_key = "k"}).ok());
        h.bind(ch, "q", "ad2", "");
        REQUIRE(h.methods.queue_delete(ch, {.queue = "q"}).ok());
        CHECK_FALSE(h.has_exchange("ad2"));
        CHECK_FALSE(h.has_exchange("ad"));
    }
    SECTION("deleting the destination exchange removes the binding") {
        h.declare_exchange(ch, "dst", "fanout");
        REQUIRE(h.methods.exchange_bind(ch, {.destination = "dst", .source = "ad"}).ok());
        REQUIRE(h.methods.exchange_delete(ch, {.exchange = "dst"}).ok());
        CHECK_FALSE(h.has_exchange("ad"));
    }
    SECTION("a binding to itself keeps it") {
        REQUIRE(h.methods.exchange_bind(ch, {.destination = "ad", .source = "ad"}).ok());
        h.bind(ch, "q", "ad", "k");
        REQUIRE(h.methods.queue_unbind(ch, {"q", "ad", "k"}).ok());
        CHECK(h.has_exchange("ad"));
        REQUIRE(h.methods.exchange_unbind(ch, {.destination = "ad", .source = "ad"}).ok());
        CHECK_FALSE(h.has_exchange("ad"));
    }
}

// ---- CR and LF in names ---------------------------------------------------------------------

TEST_CASE("declare, delete and bind take CR and LF out of names; get, purge and consume do not") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    auto ok = h.methods.queue_declare(ch, {.queue = "\rq\r\n1\n"});
    REQUIRE(ok.ok());
    CHECK(ok.value().queue == "q1");
    CHECK(h.methods.queue_declare(ch, {.queue = "q\n1", .passive = true}).ok());
    REQUIRE(h.methods.exchange_declare(ch, {.exchange = "x\r\n", .type = "fanout"}).ok());
    CHECK(h.has_exchange("x"));
    CHECK(h.methods.exchange_declare(ch, {.exchange = "\nx", .type = "fanout", .passive = true}).ok());
    h.declare_exchange(ch, "x2", "fanout");
    REQUIRE(h.methods.queue_bind(ch, {.queue = "q1\n", .exchange = "\rx"}).ok());
    REQUIRE(h.methods.exchange_bind(ch, {.destination = "x\n", .source = "x2\r"}).ok());
    h.publish(ch, "x2", "", "m1");
    CHECK(h.ready("q1") == 1);

    require_error(h.methods.basic_get(ch, "q1\n", true), ReplyCode::NotFound,
                  "NOT_FOUND - no queue 'q1\n' in vhost '/'");
    ch = h.channel(c);
    require_error(h.methods.queue_purge(ch, "q1\n"), ReplyCode::NotFound, "NOT_FOUND - no queue 'q1\n' in vhost '/'");
    ch = h.channel(c);
    require_error(h.methods.basic_consume(ch, {.queue = "q1\n"}), ReplyCode::NotFound,
                  "NOT_FOUND - no queue 'q1\n' in vhost '/'");
    ch = h.channel(c);

    // A name of CR and LF only: the default exchange, a server-named queue, a queue named ''.
    require_error(h.methods.exchange_declare(ch, {.exchange = "\r\n", .type = "fanout"}), ReplyCode::AccessRefused,
                  "ACCESS_REFUSED - operation not permitted on the default exchange");
    ch = h.channel(c);
    auto named = h.methods.queue_declare(ch, {.queue = "\n", .exclusive = true});
    REQUIRE(named.ok());
    CHECK(named.value().queue.starts_with("amq.gen-"));
    require_error(h.methods.queue_bind(ch, {.queue = "\n", .exchange = "x"}), ReplyCode::NotFound,
                  "NOT_FOUND - no queue '' in vhost '/'");
    ch = h.channel(c);

    REQUIRE(h.methods.exchange_unbind(ch, {.destination = "\nx", .source = "\rx2"}).ok());
    REQUIRE(h.methods.queue_unbind(ch, {.queue = "\nq1", .exchange = "x\r"}).ok());
    REQUIRE(h.methods.exchange_delete(ch, {.exchange = "x2\r\n"}).ok());
    CHECK_FALSE(h.has_exchange("x2"));
    auto deleted = h.methods.queue_delete(ch, {.queue = "q\r1"});
    REQUIRE(deleted.ok());
    CHECK(deleted.value() == 1);
    CHECK_FALSE(h.has_queue("q1"));
}
