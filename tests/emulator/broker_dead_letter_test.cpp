// Dead-lettering through the broker, as observed on RabbitMQ 3.10.8: the reasons, the message
// a dead-letter queue's consumer sees (x-death as rabbit_dead_letter builds it, its keys and
// their order), routing by the death keys, cycles, and a missing dead-letter exchange.
#include <catch2/catch.hpp>

#include <chrono>

#include "broker_harness.hpp"

using namespace warren;
using namespace warren::test;
using namespace std::chrono_literals;

namespace {

using Bodies = std::vector<std::string>;

std::vector<std::string> keys_of(const FieldTable& t) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : t) keys.push_back(k);
    return keys;
}

FieldTable dead_letter_to(std::string exchange, std::optional<std::string> routing_key = std::nullopt) {
    FieldTable args{{"x-dead-letter-exchange", std::move(exchange)}};
    if (routing_key) args.set("x-dead-letter-routing-key", std::move(*routing_key));
    return args;
}

/// Takes the next message from `queue` with basic.get and rejects it without requeue.
void reject_next(Harness& h, ChannelRef ch, const std::string& queue) {
    auto got = h.get(ch, queue);
    REQUIRE(got);
    REQUIRE(h.methods.basic_reject(ch, got->delivery_tag, false).ok());
}

}  // namespace

TEST_CASE("a rejected message reaches the dead-letter exchange with its x-death history") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_exchange(ch, "dlx", "topic");
    h.declare_queue(ch, "dl");
    h.bind(ch, "dl", "dlx", "#");
    h.declare_exchange(ch, "src_x", "direct");
    h.declare_queue(ch, "src", {.arguments = dead_letter_to("dlx")});
    h.bind(ch, "src", "src_x", "k1");
    h.publish(ch, "src_x", "k1", "m",
              {.headers = {{"CC", FieldArray{"k2"}}, {"BCC", FieldArray{"k3"}}, {"h", 1}},
               .priority = 2,
               .expiration = "60000",
               .message_id = "mid"});
    h.broker.advance(1500ms);
    reject_next(h, ch, "src");

    h.consume(ch, "dl", "c");
    auto d = c.sink.take_deliveries();
    REQUIRE(d.size() == 1);
    CHECK(d[0].exchange == "dlx");
    CHECK(d[0].routing_key == "k1");
    CHECK_FALSE(d[0].redelivered);
    const BasicProperties& p = d[0].message.properties;
    CHECK_FALSE(p.expiration);
    CHECK(p.priority == 2);
    CHECK(p.message_id == "mid");
    CHECK(keys_of(p.headers) == Bodies{"CC", "h", "x-death", "x-first-death-exchange",
                                       "x-first-death-queue", "x-first-death-reason"});
    CHECK(p.headers.at("CC") == FieldValue(FieldArray{"k2"}));
    CHECK(p.headers.at("x-first-death-exchange").as_string() == "src_x");
    CHECK(p.headers.at("x-first-death-queue").as_string() == "src");
    CHECK(p.headers.at("x-first-death-reason").as_string() == "rejected");
    const FieldArray& x_death = p.headers.at("x-death").as_array();
    REQUIRE(x_death.size() == 1);
    const FieldTable& entry = x_death[0].as_table();
    CHECK(keys_of(entry) == Bodies{"count", "reason", "queue", "time", "exchange", "routing-keys",
                                   "original-expiration"});
    CHECK(entry.at("count") == FieldValue(std::int64_t{1}));
    CHECK(entry.at("reason").as_string() == "rejected");
    CHECK(entry.at("queue").as_string() == "src");
    CHECK(entry.at("time") == FieldValue(Timestamp{1'704'067'201}));
    CHECK(entry.at("exchange").as_string() == "src_x");
    CHECK(entry.at("routing-keys") == FieldValue(FieldArray{"k1", "k2"}));  // BCC never appears
    CHECK(entry.at("original-expiration").as_string() == "60000");

    SECTION("dying again in the same queue for the same reason counts up, keeping the first time") {
        REQUIRE(h.methods.basic_ack(ch, d[0].tag, false).ok());
        REQUIRE(h.methods.basic_cancel(ch, "c").ok());
        h.broker.advance(60'000ms);
        h.publish(ch, "src_x", "k1", "m2", {.headers = p.headers});
        reject_next(h, ch, "src");
        auto again = h.get(ch, "dl", true);
        REQUIRE(again);
        const FieldTable& headers = again->message->properties().headers;
        CHECK(keys_of(headers) == keys_of(p.headers));
        const FieldArray& deaths_now = headers.at("x-death").as_array();
        REQUIRE(deaths_now.size() == 1);
        const FieldTable& counted = deaths_now[0].as_table();
        // The counted-up entry comes out sorted by key.
        CHECK(keys_of(counted) == Bodies{"count", "exchange", "original-expiration", "queue", "reason",
                                         "routing-keys", "time"});
        CHECK(counted.at("count") == FieldValue(std::int64_t{2}));
        CHECK(counted.at("time") == FieldValue(Timestamp{1'704'067'201}));
        CHECK(counted.at("original-expiration").as_string() == "60000");
    }
}

TEST_CASE("nack without requeue dead-letters as rejected; a dead-letter routing key replaces the keys and drops CC") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_exchange(ch, "dlx", "topic");
    h.declare_queue(ch, "dl");
    h.bind(ch, "dl", "dlx", "#");
    h.declare_queue(ch, "src2", {.arguments = dead_letter_to("dlx", "rk.new")});
    h.publish(ch, "", "src2", "m3", {.headers = {{"CC", FieldArray{"cc1"}}, {"BCC", FieldArray{"bcc1"}}}});
    auto got = h.get(ch, "src2");
    REQUIRE(got);
    REQUIRE(h.methods.basic_nack(ch, got->delivery_tag, false, false).ok());
    auto dead = h.get(ch, "dl", true);
    REQUIRE(dead);
    CHECK(dead->message->exchange() == "dlx");
    CHECK(dead->message->routing_key() == "rk.new");
    const FieldTable& headers = dead->message->properties().headers;
    CHECK(keys_of(headers) == Bodies{"x-death", "x-first-death-exchange", "x-first-death-queue",
                                     "x-first-death-reason"});
    const FieldTable& entry = headers.at("x-death").as_array()[0].as_table();
    CHECK(keys_of(entry) == Bodies{"count", "reason", "queue", "time", "exchange", "routing-keys"});
    CHECK(entry.at("exchange").as_string() == "");
    CHECK(entry.at("routing-keys") == FieldValue(FieldArray{"src2", "cc1"}));
}

TEST_CASE("without a dead-letter routing key the message routes by all its keys, CC and BCC") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_exchange(ch, "dlx2", "direct");
    h.declare_queue(ch, "via-cc");
    h.declare_queue(ch, "via-bcc");
    h.bind(ch, "via-cc", "dlx2", "c1");
    h.bind(ch, "via-bcc", "dlx2", "b1");
    h.declare_queue(ch, "src3", {.arguments = dead_letter_to("dlx2")});
    h.publish(ch, "", "src3", "m4", {.headers = {{"CC", FieldArray{"c1"}}, {"BCC", FieldArray{"b1"}}}});
    reject_next(h, ch, "src3");
    for (const char* queue : {"via-cc", "via-bcc"}) {
        INFO(queue);
        auto got = h.get(ch, queue, true);
        REQUIRE(got);
        CHECK(got->message->routing_key() == "src3");
        CHECK(got->message->properties().headers.at("CC") == FieldValue(FieldArray{"c1"}));
        CHECK_FALSE(got->message->properties().headers.contains("BCC"));
    }
}

TEST_CASE("each new death regroups a history of two entries or more, which reverses it, as 3.10 does") {
    // rabbit_dead_letter:group_by_queue_and_reason/1 folds the entries onto a list's head.
    Harness h;
    auto ch = h.channel(h.connect());
    const auto to = [](std::string next, std::optional<std::int64_t> ttl = std::nullopt) {
        FieldTable args = dead_letter_to("", std::move(next));
        if (ttl) args.set("x-message-ttl", *ttl);
        return args;
    };
    h.declare_queue(ch, "o1", {.arguments = to("o2")});
    h.declare_queue(ch, "o2", {.arguments = to("o3", 100)});
    h.declare_queue(ch, "o3", {.arguments = to("o4")});
    h.declare_queue(ch, "o4", {.arguments = to("o5")});
    h.declare_queue(ch, "o5", {.arguments = to("o6")});
    h.declare_queue(ch, "o6");
    h.publish(ch, "", "o1", "m");
    reject_next(h, ch, "o1");
    h.broker.advance(100ms);
    std::vector<Bodies> seen;
    for (const char* q : {"o3", "o4", "o5"}) {
        auto got = h.get(ch, q);
        REQUIRE(got);
        seen.push_back(deaths(got->message->to_message()));
        REQUIRE(h.methods.basic_reject(ch, got->delivery_tag, false).ok());
    }
    auto last = h.get(ch, "o6", true);
    REQUIRE(last);
    seen.push_back(deaths(last->message->to_message()));
    CHECK(seen == std::vector<Bodies>{
                      {"o2/expired/1", "o1/rejected/1"},
                      {"o3/rejected/1", "o1/rejected/1", "o2/expired/1"},
                      {"o4/rejected/1", "o2/expired/1", "o1/rejected/1", "o3/rejected/1"},
                      {"o5/rejected/1", "o3/rejected/1", "o1/rejected/1", "o2/expired/1", "o4/rejected/1"},
                  });
}

TEST_CASE("a publisher's x-death is used: repeated (queue, reason) entries keep the first, a missing count is filled") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "out");
    h.declare_queue(ch, "dup", {.arguments = dead_letter_to("", "out")});
    const auto entry = [](const char* queue, const char* reason, std::optional<std::int64_t> count) {
        FieldTable t;
        if (count) t.set("count", *count);
        t.set("reason", reason);
        t.set("queue", queue);
        t.set("exchange", "");
        t.set("routing-keys", FieldArray{"k"});
        return FieldValue(t);
    };
    h.publish(ch, "", "dup", "d",
              {.headers = {{"x-death", FieldArray{entry("a", "expired", 3), entry("b", "rejected", 1),
                                                  entry("a", "expired", 7), entry("c", "expired", std::nullopt)}}}});
    reject_next(h, ch, "dup");
    auto got = h.get(ch, "out", true);
    REQUIRE(got);
    const Message m = got->message->to_message();
    CHECK(deaths(m) == Bodies{"dup/rejected/1", "c/expired/1", "b/rejected/1", "a/expired/3"});
    const FieldArray& x_death = m.properties.headers.at("x-death").as_array();
    CHECK(keys_of(x_death[1].as_table()) == Bodies{"count", "reason", "queue", "exchange", "routing-keys"});
    CHECK_FALSE(m.properties.headers.contains("x-first-death-queue"));  // x-death was there already
}

TEST_CASE("an x-death that is no array is reset, with no x-first-death headers") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "out");
    h.declare_queue(ch, "q", {.arguments = dead_letter_to("", "out")});
    h.publish(ch, "", "q", "bogus", {.headers = {{"x-death", "not an array"}}});
    reject_next(h, ch, "q");
    auto got = h.get(ch, "out", true);
    REQUIRE(got);
    const FieldTable& headers = got->message->properties().headers;
    CHECK(keys_of(headers) == Bodies{"x-death"});
    const FieldArray& x_death = headers.at("x-death").as_array();
    REQUIRE(x_death.size() == 1);
    CHECK(keys_of(x_death[0].as_table()) == Bodies{"count", "reason", "queue", "time", "exchange", "routing-keys"});
}

TEST_CASE("the first death overwrites x-first-death headers a publisher set; headers come out sorted") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "dl");
    h.declare_queue(ch, "s", {.arguments = dead_letter_to("", "dl")});
    h.publish(ch, "", "s", "m",
              {.headers = {{"x-first-death-reason", "client"}, {"x-first-death-queue", "cq"}, {"zz", 1}, {"a", 2}}});
    reject_next(h, ch, "s");
    auto dead = h.get(ch, "dl", true);
    REQUIRE(dead);
    const FieldTable& headers = dead->message->properties().headers;
    CHECK(keys_of(headers) == Bodies{"a", "x-death", "x-first-death-exchange", "x-first-death-queue",
                                     "x-first-death-reason", "zz"});
    CHECK(headers.at("x-first-death-reason").as_string() == "rejected");
    CHECK(headers.at("x-first-death-queue").as_string() == "s");
    CHECK(headers.at("x-first-death-exchange").as_string() == "");
}

TEST_CASE("a missing dead-letter exchange drops the message silently") {
    Harness h;
    auto ch = h.channel(h.connect());
    h.declare_queue(ch, "src4", {.arguments = dead_letter_to("nope")});
    h.publish(ch, "", "src4", "m5");
    reject_next(h, ch, "src4");
    CHECK(h.ready("src4") == 0);
    CHECK(h.channel_open(ch));
}

TEST_CASE("cycles: a message coming back to a queue it died in is dropped unless a rejection intervened") {
    Harness h;
    auto ch = h.channel(h.connect());

    SECTION("two queues expiring into each other") {
        h.declare_queue(ch, "c1", {.arguments = {{"x-message-ttl", 100}, {"x-dead-letter-exchange", ""},
                                                 {"x-dead-letter-routing-key", "c2"}}});
        h.declare_queue(ch, "c2", {.arguments = {{"x-message-ttl", 100}, {"x-dead-letter-exchange", ""},
                                                 {"x-dead-letter-routing-key", "c1"}}});
        h.publish(ch, "", "c1", "cyc");
        h.broker.advance(100ms);
        CHECK(h.ready("c2") == 1);
        h.broker.advance(100ms);
        CHECK(h.ready("c1") == 0);
        CHECK(h.ready("c2") == 0);
        CHECK_FALSE(h.broker.next_deadline());
    }

    SECTION("a queue expiring into itself") {
        h.declare_queue(ch, "self", {.arguments = {{"x-message-ttl", 100}, {"x-dead-letter-exchange", ""}}});
        h.publish(ch, "", "self", "m");
        h.broker.advance(100ms);
        CHECK(h.ready("self") == 0);
    }

    SECTION("a drop-head queue dead-lettering into itself") {
        h.declare_queue(ch, "ml", {.arguments = {{"x-max-length", 1}, {"x-dead-letter-exchange", ""}}});
        h.publish(ch, "", "ml", "ml1");
        h.publish(ch, "", "ml", "ml2");
        CHECK(drain(h, ch, "ml") == Bodies{"ml2"});
    }

    SECTION("expired, rejected, expired back to the first queue: the regrouped history makes it a cycle") {
        h.declare_queue(ch, "a", {.arguments = {{"x-message-ttl", 100}, {"x-dead-letter-exchange", ""},
                                                {"x-dead-letter-routing-key", "b"}}});
        h.declare_queue(ch, "b", {.arguments = dead_letter_to("", "c")});
        h.declare_queue(ch, "c", {.arguments = {{"x-message-ttl", 100}, {"x-dead-letter-exchange", ""},
                                                {"x-dead-letter-routing-key", "a"}}});
        h.publish(ch, "", "a", "m");
        h.broker.advance(100ms);
        reject_next(h, ch, "b");
        h.broker.advance(100ms);
        CHECK(h.ready("a") == 0);
        CHECK(h.ready("b") == 0);
        CHECK(h.ready("c") == 0);
    }

    SECTION("rejected, then expired back: no cycle, and each round counts up") {
        h.declare_queue(ch, "r1", {.arguments = dead_letter_to("", "r2")});
        h.declare_queue(ch, "r2", {.arguments = {{"x-message-ttl", 100}, {"x-dead-letter-exchange", ""},
                                                 {"x-dead-letter-routing-key", "r1"}}});
        h.publish(ch, "", "r1", "rc");
        reject_next(h, ch, "r1");
        h.broker.advance(100ms);
        auto back = h.get(ch, "r1", true);
        REQUIRE(back);
        const Message first_round = back->message->to_message();
        CHECK(deaths(first_round) == Bodies{"r2/expired/1", "r1/rejected/1"});
        h.publish(ch, "", "r1", "rc2", first_round.properties);
        reject_next(h, ch, "r1");
        h.broker.advance(100ms);
        auto again = h.get(ch, "r1", true);
        REQUIRE(again);
        CHECK(deaths(again->message->to_message()) == Bodies{"r2/expired/2", "r1/rejected/2"});
    }
}

TEST_CASE("a channel closing requeues; it dead-letters nothing") {
    Harness h;
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_queue(ch, "dl");
    h.declare_queue(ch, "q", {.arguments = dead_letter_to("", "dl")});
    h.publish(ch, "", "q", "m");
    auto other = h.channel(c);
    REQUIRE(h.get(other, "q"));
    h.methods.close_channel(other);
    CHECK(h.ready("q") == 1);
    CHECK(h.ready("dl") == 0);
}

TEST_CASE("dead-lettering: a publish reaches all its queues before the dead letters it causes are routed") {
    // Recorded on 3.10.8 (interop/rabbitmqadmin.sh's sequence, and amqp-publish; the same in
    // three runs): the channel hands the message to every queue process first, so a drop-head
    // in one queue dead-letters into the others after they have the publish.
    Harness h;
    auto& c = h.connect();
    const ChannelRef ch = h.channel(c);
    h.declare_exchange(ch, "fan", "fanout");
    h.declare_exchange(ch, "dlx", "fanout");
    FieldTable capped{{"x-max-length", std::int64_t{1}}, {"x-dead-letter-exchange", "dlx"}};
    h.declare_queue(ch, "capped", {.arguments = capped});
    h.declare_queue(ch, "sink");
    h.bind(ch, "capped", "fan", "");
    h.bind(ch, "sink", "fan", "");
    h.bind(ch, "sink", "dlx", "");
    for (const char* body : {"m1", "m2", "m3"}) h.publish(ch, "fan", "", body);
    std::vector<std::string> seen;
    while (auto got = h.get(ch, "sink", true)) seen.push_back(got->message->exchange() + " " + got->message->body());
    CHECK(seen == std::vector<std::string>{"fan m1", "fan m2", "dlx m1", "fan m3", "dlx m2"});
}
