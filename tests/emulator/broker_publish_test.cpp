// basic.publish: routing (de-duplicated, exchange-to-exchange, alternate exchanges, CC/BCC),
// mandatory returns, properties, confirms, and the refusals, as RabbitMQ 3.10.8 does them.
#include <catch2/catch.hpp>

#include "broker_harness.hpp"

using namespace warren;
using namespace warren::test;

namespace {

using Bodies = std::vector<std::string>;

std::vector<SinkEvent> of_kind(const RecordingSink& sink, SinkEvent::Kind kind) {
    std::vector<SinkEvent> out;
    for (const auto& e : sink.events)
        if (e.kind == kind) out.push_back(e);
    return out;
}

BasicProperties all_fourteen() {
    return BasicProperties{.content_type = "text/plain",
                           .content_encoding = "gzip",
                           .headers = {{"h", 1}, {"nested", FieldTable{{"k", "v"}}}},
                           .delivery_mode = 2,
                           .priority = 5,
                           .correlation_id = "cid",
                           .reply_to = "rt",
                           .expiration = "60000",
                           .message_id = "mid",
                           .timestamp = Timestamp{1700000000},
                           .type = "ty",
                           .user_id = "guest",
                           .app_id = "app",
                           .cluster_id = "cl"};
}

}  // namespace

TEST_CASE("the default exchange routes by queue name") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q");
    h.publish(ch, "", "q", "hit");
    h.publish(ch, "", "nowhere", "dropped");
    h.publish(ch, "", "nowhere", "returned", {}, /*mandatory=*/true);
    CHECK(drain(h, ch, "q") == Bodies{"hit"});
    auto returns = of_kind(c.sink, SinkEvent::Kind::Return);
    REQUIRE(returns.size() == 1);
    CHECK(returns[0].reply_code == 312);
    CHECK(returns[0].reply_text == "NO_ROUTE");
    CHECK(returns[0].exchange == "");
    CHECK(returns[0].routing_key == "nowhere");
    CHECK(returns[0].message.body == "returned");
}

TEST_CASE("a queue gets one copy however many bindings and keys match") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "qa");
    h.declare_queue(ch, "qb");
    h.declare_exchange(ch, "t", "topic");
    h.bind(ch, "qa", "t", "a.*");
    h.bind(ch, "qa", "t", "#");
    h.bind(ch, "qb", "t", "x.y");
    h.publish(ch, "t", "a.b", "1", {.headers = {{"CC", FieldArray{"x.y", "a.c"}}}});
    CHECK(drain(h, ch, "qa") == Bodies{"1"});
    CHECK(drain(h, ch, "qb") == Bodies{"1"});
}

TEST_CASE("every basic property reaches the consumer unchanged") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q");
    h.publish(ch, "", "q", "body", all_fourteen());
    h.publish(ch, "amq.direct", "nowhere", "returned", all_fourteen(), true);
    auto got = h.get(ch, "q", true);
    REQUIRE(got);
    CHECK(got->message->to_message() == Message{"body", all_fourteen()});
    auto returns = of_kind(c.sink, SinkEvent::Kind::Return);
    REQUIRE(returns.size() == 1);
    CHECK(returns[0].message == Message{"returned", all_fourteen()});
    CHECK(returns[0].exchange == "amq.direct");

    h.consume(ch, "q", "c", true);
    c.sink.events.clear();
    h.publish(ch, "", "q", "delivered", all_fourteen());
    auto delivered = c.sink.take_deliveries();
    REQUIRE(delivered.size() == 1);
    CHECK(delivered[0].message == Message{"delivered", all_fourteen()});
}

TEST_CASE("CC and BCC headers add routing keys; consumers see CC but never BCC") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    for (const char* q : {"q", "q2", "q3"}) h.declare_queue(ch, q);

    h.publish(ch, "", "q", "cc", {.headers = {{"CC", FieldArray{"q2"}}, {"BCC", FieldArray{"q3", "zz"}}, {"other", 1}}});
    for (const char* q : {"q", "q2", "q3"}) {
        INFO(q);
        auto got = h.get(ch, q, true);
        REQUIRE(got);
        CHECK(got->message->routing_key() == "q");
        CHECK(got->message->properties().headers == FieldTable{{"CC", FieldArray{"q2"}}, {"other", 1}});
    }

    // Keys that are not long strings are skipped; the header is kept as it was.
    h.publish(ch, "", "nothing", "mixed", {.headers = {{"CC", FieldArray{5, "q2"}}}});
    auto got = h.get(ch, "q2", true);
    REQUIRE(got);
    CHECK(got->message->body() == "mixed");
    CHECK(got->message->properties().headers == FieldTable{{"CC", FieldArray{5, "q2"}}});

    // A BCC header goes even when it names no key.
    h.publish(ch, "", "q", "empty bcc", {.headers = {{"BCC", FieldArray{}}, {"k", 1}}});
    h.publish(ch, "", "q", "no key", {.headers = {{"BCC", FieldArray{5}}}});
    got = h.get(ch, "q", true);
    REQUIRE(got);
    CHECK(got->message->properties().headers == FieldTable{{"k", 1}});
    got = h.get(ch, "q", true);
    REQUIRE(got);
    CHECK(got->message->properties().headers.empty());

    // A BCC-only message routes by it, and returns without it.
    h.publish(ch, "", "nowhere", "bcc", {.headers = {{"BCC", FieldArray{"q3"}}}});
    got = h.get(ch, "q3", true);
    REQUIRE(got);
    CHECK(got->message->properties().headers.empty());
    h.publish(ch, "", "nowhere", "back", {.headers = {{"BCC", FieldArray{"none"}}, {"h", 1}}}, true);
    auto returns = of_kind(c.sink, SinkEvent::Kind::Return);
    REQUIRE(returns.size() == 1);
    CHECK(returns[0].message.properties.headers == FieldTable{{"h", 1}});
}

// The properties as published over AMQP stay with the message, unless taking out BCC changes
// them: then RabbitMQ re-encodes, and an unsigned long comes back signed (conformance
// scenarios publish.uint64_header and publish.uint64_header_bcc, recorded from 3.10.8).
TEST_CASE("encoded properties stay with a message until BCC is taken out") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    for (const char* q : {"q", "q2"}) h.declare_queue(ch, q);
    const std::string encoded("\x20\x00 as published", 16);
    const FieldTable u64{{"u64", std::uint64_t{18446744073709551615u}}};

    REQUIRE(h.methods.basic_publish(ch, {"", "q", false, false}, Message{"kept", {.headers = u64}}, encoded).ok());
    auto got = h.get(ch, "q", true);
    REQUIRE(got);
    CHECK(got->message->encoded_properties() == encoded);
    CHECK(got->message->properties().headers == u64);

    FieldTable with_bcc = u64;
    with_bcc.set("BCC", FieldArray{"q2"});
    REQUIRE(h.methods.basic_publish(ch, {"", "q", false, false}, Message{"bcc", {.headers = with_bcc}}, encoded).ok());
    for (const char* q : {"q", "q2"}) {
        INFO(q);
        got = h.get(ch, q, true);
        REQUIRE(got);
        CHECK(got->message->encoded_properties().empty());
        CHECK(got->message->properties().headers == FieldTable{{"u64", std::int64_t{-1}}});
    }

    // In-process, without encoded properties: the same re-encoding on BCC, none without it.
    h.publish(ch, "", "q", "plain", {.headers = u64});
    got = h.get(ch, "q", true);
    REQUIRE(got);
    CHECK(got->message->properties().headers == u64);
    h.publish(ch, "", "q", "plain bcc", {.headers = with_bcc});
    got = h.get(ch, "q", true);
    REQUIRE(got);
    CHECK(got->message->properties().headers == FieldTable{{"u64", std::int64_t{-1}}});
}

TEST_CASE("a CC or BCC header that is not an array is refused") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q");
    auto r = h.methods.basic_publish(ch, {"", "q"}, Message{"b", {.headers = {{"CC", "q"}}}});
    require_error(r, ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,\"CC\",longstr}");
    CHECK(r.error().method() == method::basic_publish);
    ch = h.channel(c);
    require_error(h.methods.basic_publish(ch, {"", "q"}, Message{"b", {.headers = {{"BCC", 5}}}}),
                  ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - invalid message: {unacceptable_type_in_header,\"BCC\",signedint}");
    CHECK(h.ready("q") == 0);
}

TEST_CASE("exchange-to-exchange bindings are followed once each, cycles included") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "qa");
    h.declare_queue(ch, "qb");
    h.declare_exchange(ch, "x1", "direct");
    h.declare_exchange(ch, "x2", "fanout");
    h.declare_exchange(ch, "x3", "topic");
    REQUIRE(h.methods.exchange_bind(ch, {.destination = "x2", .source = "x1", .routing_key = "k"}).ok());
    REQUIRE(h.methods.exchange_bind(ch, {.destination = "x3", .source = "x2"}).ok());
    REQUIRE(h.methods.exchange_bind(ch, {.destination = "x1", .source = "x3", .routing_key = "k"}).ok());
    h.bind(ch, "qa", "x3", "#");
    h.bind(ch, "qa", "x2", "");
    h.bind(ch, "qb", "x1", "k");
    h.publish(ch, "x1", "k", "e2e");
    CHECK(drain(h, ch, "qa") == Bodies{"e2e"});
    CHECK(drain(h, ch, "qb") == Bodies{"e2e"});
}

TEST_CASE("an alternate exchange takes what an exchange's own bindings do not") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    for (const char* q : {"qa", "qb", "qc"}) h.declare_queue(ch, q);
    h.declare_exchange(ch, "ae2", "fanout");
    h.bind(ch, "qc", "ae2", "");
    h.declare_exchange(ch, "ae1", "direct", {.arguments = {{"alternate-exchange", "ae2"}}});
    h.bind(ch, "qb", "ae1", "only");
    h.declare_exchange(ch, "x", "direct", {.arguments = {{"alternate-exchange", "ae1"}}});
    h.bind(ch, "qa", "x", "a");
    auto where = [&] {
        return std::vector<Bodies>{drain(h, ch, "qa"), drain(h, ch, "qb"), drain(h, ch, "qc")};
    };

    h.publish(ch, "x", "a", "own");
    CHECK(where() == std::vector<Bodies>{{"own"}, {}, {}});
    h.publish(ch, "x", "only", "ae");
    CHECK(where() == std::vector<Bodies>{{}, {"ae"}, {}});
    h.publish(ch, "x", "zzz", "chain", {}, true);
    CHECK(where() == std::vector<Bodies>{{}, {}, {"chain"}});
    CHECK(of_kind(c.sink, SinkEvent::Kind::Return).empty());

    SECTION("a missing alternate exchange routes nowhere") {
        h.declare_exchange(ch, "xm", "direct", {.arguments = {{"alternate-exchange", "missing"}}});
        h.publish(ch, "xm", "zzz", "lost", {}, true);
        REQUIRE(of_kind(c.sink, SinkEvent::Kind::Return).size() == 1);
    }
    SECTION("alternate exchanges in a cycle are each tried once") {
        h.declare_exchange(ch, "c1", "direct", {.arguments = {{"alternate-exchange", "c2"}}});
        h.declare_exchange(ch, "c2", "direct", {.arguments = {{"alternate-exchange", "c1"}}});
        h.publish(ch, "c1", "zzz", "cycle", {}, true);
        REQUIRE(of_kind(c.sink, SinkEvent::Kind::Return).size() == 1);
        h.bind(ch, "qa", "c2", "hit");
        h.publish(ch, "c1", "hit", "cycle-hit", {}, true);
        CHECK(drain(h, ch, "qa") == Bodies{"cycle-hit"});
        CHECK(of_kind(c.sink, SinkEvent::Kind::Return).size() == 1);
    }
    SECTION("routing to an exchange counts as routing: its source's alternate is not used") {
        h.declare_exchange(ch, "empty", "direct");
        h.declare_exchange(ch, "xe", "fanout", {.arguments = {{"alternate-exchange", "ae2"}}});
        REQUIRE(h.methods.exchange_bind(ch, {.destination = "empty", .source = "xe"}).ok());
        h.publish(ch, "xe", "k", "lost", {}, true);
        CHECK(drain(h, ch, "qc").empty());
        REQUIRE(of_kind(c.sink, SinkEvent::Kind::Return).size() == 1);
    }
    SECTION("but the destination exchange's alternate is") {
        h.declare_exchange(ch, "ye", "direct", {.arguments = {{"alternate-exchange", "ae2"}}});
        h.declare_exchange(ch, "xe", "fanout");
        REQUIRE(h.methods.exchange_bind(ch, {.destination = "ye", .source = "xe"}).ok());
        h.publish(ch, "xe", "k", "via y");
        CHECK(drain(h, ch, "qc") == Bodies{"via y"});
    }
    SECTION("an internal exchange may be an alternate") {
        h.declare_exchange(ch, "ix", "fanout", {.internal = true});
        h.bind(ch, "qc", "ix", "");
        h.declare_exchange(ch, "xi", "direct", {.arguments = {{"alternate-exchange", "ix"}}});
        h.publish(ch, "xi", "nope", "to internal");
        CHECK(drain(h, ch, "qc") == Bodies{"to internal"});
    }
}

TEST_CASE("publishing is refused for a missing or internal exchange, a foreign user_id, a bad expiration") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q");
    h.declare_exchange(ch, "ix", "direct", {.internal = true});
    h.bind(ch, "q", "ix", "k");
    struct Case {
        std::string exchange;
        BasicProperties properties;
        ReplyCode code;
        std::string text;
    };
    const std::vector<Case> cases = {
        {"nx", {}, ReplyCode::NotFound, "NOT_FOUND - no exchange 'nx' in vhost '/'"},
        {"amq.default", {}, ReplyCode::NotFound, "NOT_FOUND - no exchange 'amq.default' in vhost '/'"},
        {"ix", {}, ReplyCode::AccessRefused, "ACCESS_REFUSED - cannot publish to internal exchange 'ix' in vhost '/'"},
        {"amq.rabbitmq.trace", {}, ReplyCode::AccessRefused,
         "ACCESS_REFUSED - cannot publish to internal exchange 'amq.rabbitmq.trace' in vhost '/'"},
        // The exchange is looked up before the user id is checked.
        {"nx", {.user_id = "bob"}, ReplyCode::NotFound, "NOT_FOUND - no exchange 'nx' in vhost '/'"},
        {"", {.user_id = "bob"}, ReplyCode::PreconditionFailed,
         "PRECONDITION_FAILED - user_id property set to 'bob' but authenticated user was 'guest'"},
        {"", {.expiration = "abc"}, ReplyCode::PreconditionFailed,
         "PRECONDITION_FAILED - invalid expiration 'abc': no_integer"},
        // In rabbit_channel's order: user id, expiration, then the CC/BCC headers.
        {"", {.expiration = "-5", .user_id = "bob"}, ReplyCode::PreconditionFailed,
         "PRECONDITION_FAILED - user_id property set to 'bob' but authenticated user was 'guest'"},
        {"", {.headers = {{"CC", "x"}}, .expiration = "-5"}, ReplyCode::PreconditionFailed,
         "PRECONDITION_FAILED - invalid expiration '-5': {value_negative,-5}"},
        {"amq.rabbitmq.trace", {.headers = {{"CC", "x"}}}, ReplyCode::AccessRefused,
         "ACCESS_REFUSED - cannot publish to internal exchange 'amq.rabbitmq.trace' in vhost '/'"},
    };
    for (const auto& cs : cases) {
        INFO(cs.text);
        auto r = h.methods.basic_publish(ch, {cs.exchange, "k"}, Message{"b", cs.properties});
        require_error(r, cs.code, cs.text);
        CHECK_FALSE(r.error().closes_connection());
        CHECK_FALSE(h.channel_open(ch));
        ch = h.channel(c);
    }
    CHECK(h.ready("q") == 0);

    auto immediate = h.methods.basic_publish(ch, {"", "q", false, true}, Message{"b"});
    require_error(immediate, ReplyCode::NotImplemented, "NOT_IMPLEMENTED - immediate=true");
    CHECK(immediate.error().closes_connection());
}

TEST_CASE("confirms count publishes from confirm.select; a return precedes its confirm") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "q");
    h.publish(ch, "", "nowhere", "before select", {}, true);
    REQUIRE(h.methods.confirm_select(ch).ok());
    h.publish(ch, "", "q", "m1");
    h.publish(ch, "", "nowhere", "m2", {}, true);
    h.publish(ch, "", "nowhere", "m3");
    h.publish(ch, "", "q", "m4", {}, true);

    std::vector<std::string> seen;
    for (const auto& e : c.sink.events) {
        if (e.kind == SinkEvent::Kind::Return) seen.push_back("return " + e.message.body);
        if (e.kind == SinkEvent::Kind::Confirm)
            seen.push_back(fmt::format("{} {}{}", e.ack ? "ack" : "nack", e.tag, e.multiple ? " multiple" : ""));
    }
    CHECK(seen == std::vector<std::string>{"return before select", "ack 1", "return m2", "ack 2", "ack 3", "ack 4"});
    // Selecting again is harmless.
    CHECK(h.methods.confirm_select(ch).ok());
}
