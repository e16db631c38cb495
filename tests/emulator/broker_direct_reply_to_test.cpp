// Direct reply-to (amq.rabbitmq.reply-to). Every expectation was observed on RabbitMQ 3.10.8.
#include <catch2/catch.hpp>

#include "broker_harness.hpp"

using namespace warren;
using namespace warren::test;

namespace {

constexpr const char* reply_to = "amq.rabbitmq.reply-to";

BasicProperties request_properties() {
    BasicProperties p;
    p.reply_to = reply_to;
    return p;
}

struct Fixture {
    Harness h;
    Harness::Connection& c = h.connect();
    ChannelRef requester = h.channel(c);
    ChannelRef server = h.channel(c);

    /// Publishes a request through queue "requests" and returns its rewritten reply_to.
    std::string request() {
        if (!h.has_queue("requests")) h.declare_queue(server, "requests");
        h.publish(requester, "", "requests", "request", request_properties());
        auto got = h.get(server, "requests", true);
        REQUIRE(got);
        REQUIRE(got->message->properties().reply_to);
        return *got->message->properties().reply_to;
    }
};

}  // namespace

TEST_CASE("direct reply-to: a reply reaches the requester's consumer, not a queue",
          "[broker][reply_to]") {
    Fixture f;
    const auto tag = f.h.consume(f.requester, reply_to, "", true);
    CHECK(tag.starts_with("amq.ctag-"));
    const auto key = f.request();
    CHECK(key.starts_with("amq.rabbitmq.reply-to."));
    CHECK(key.size() > std::string_view("amq.rabbitmq.reply-to.").size());
    REQUIRE(f.h.methods.confirm_select(f.server).ok());
    f.c.sink.events.clear();
    f.h.publish(f.server, "", key, "reply-1", {}, /*mandatory=*/true);
    f.h.publish(f.server, "", key, "reply-2");
    // The mandatory reply reaches no queue: returned and confirmed, and delivered all the same,
    // each delivery under the channel's next tag, which stays unused.
    const auto& ev = f.c.sink.events;
    REQUIRE(ev.size() == 5);
    CHECK(ev[0].kind == SinkEvent::Kind::Return);
    CHECK(ev[0].reply_code == 312);
    CHECK(ev[1].kind == SinkEvent::Kind::Confirm);
    for (int i : {2, 4}) {
        CHECK(ev[i].kind == SinkEvent::Kind::Deliver);
        CHECK(ev[i].channel == f.requester.channel);
        CHECK(ev[i].consumer_tag == tag);
        CHECK(ev[i].tag == 1);
        CHECK_FALSE(ev[i].redelivered);
        CHECK(ev[i].exchange.empty());
        CHECK(ev[i].routing_key == key);
    }
    CHECK(ev[2].message.body == "reply-1");
    CHECK(ev[4].message.body == "reply-2");
    f.h.publish(f.requester, "", "requests", "other");
    auto got = f.h.get(f.requester, "requests");
    REQUIRE(got);
    CHECK(got->delivery_tag == 1);
}

TEST_CASE("direct reply-to: consume errors", "[broker][reply_to]") {
    Fixture f;
    require_error(f.h.methods.basic_consume(f.requester, {reply_to, "", false, false, false, {}}),
                  ReplyCode::PreconditionFailed, "PRECONDITION_FAILED - reply consumer cannot acknowledge");
    auto ch = f.h.channel(f.c);
    f.h.consume(ch, reply_to, "rpc", true);
    require_error(f.h.methods.basic_consume(ch, {reply_to, "", false, true, false, {}}),
                  ReplyCode::PreconditionFailed, "PRECONDITION_FAILED - reply consumer already set");
}

TEST_CASE("direct reply-to: asking for a reply without a reply consumer closes the channel",
          "[broker][reply_to]") {
    Fixture f;
    f.h.declare_queue(f.server, "requests");
    require_error(f.h.methods.basic_publish(f.requester, {"", "requests", false, false},
                                           Message{"request", request_properties()}),
                  ReplyCode::PreconditionFailed, "PRECONDITION_FAILED - fast reply consumer does not exist");
    CHECK(f.h.ready("requests") == 0);
}

TEST_CASE("direct reply-to: queue.declare of the pseudo-queue and of a suffix", "[broker][reply_to]") {
    Fixture f;
    for (bool passive : {true, false}) {
        auto r = f.h.methods.queue_declare(f.server, {reply_to, passive});
        REQUIRE(r.ok());
        CHECK(r.value().queue == reply_to);
        CHECK(r.value().message_count == 0);
        CHECK(r.value().consumer_count == 1);
    }
    auto ch = f.h.channel(f.c);
    require_error(f.h.methods.queue_declare(ch, {"amq.rabbitmq.reply-tox"}), ReplyCode::NotFound,
                  "NOT_FOUND - no queue 'amq.rabbitmq.reply-tox' in vhost '/'");
    ch = f.h.channel(f.c);
    const auto tag = f.h.consume(f.requester, reply_to, "", true);
    const auto key = f.request();
    auto r = f.h.methods.queue_declare(ch, {key, true});
    REQUIRE(r.ok());
    CHECK(r.value().consumer_count == 1);
    REQUIRE(f.h.methods.basic_cancel(f.requester, tag).ok());
    require_error(f.h.methods.queue_declare(ch, {key, true}), ReplyCode::NotFound,
                  fmt::format("NOT_FOUND - no queue '{}' in vhost '/'", key));
}

TEST_CASE("direct reply-to: a reply to a cancelled, replaced or closed consumer is dropped",
          "[broker][reply_to]") {
    Fixture f;
    const auto first = f.h.consume(f.requester, reply_to, "", true);
    const auto old_key = f.request();
    REQUIRE(f.h.methods.basic_cancel(f.requester, first).ok());
    f.c.sink.events.clear();
    f.h.publish(f.server, "", old_key, "after-cancel");
    f.h.consume(f.requester, reply_to, "second", true);
    const auto new_key = f.request();
    CHECK(new_key != old_key);
    f.h.publish(f.server, "", old_key, "to-old");
    f.h.publish(f.server, "", new_key, "to-new");
    CHECK(who_got_what(f.c.sink.take_deliveries()) == std::vector<std::string>{"second:to-new"});
    f.h.methods.close_channel(f.requester);
    f.h.publish(f.server, "", new_key, "after-close", {}, true);
    REQUIRE(f.c.sink.events.size() == 1);
    CHECK(f.c.sink.events[0].kind == SinkEvent::Kind::Return);
}

TEST_CASE("direct reply-to: a CC'd reply key delivers with the publish's routing key; "
          "a reply in a transaction is delivered at once", "[broker][reply_to]") {
    Fixture f;
    f.h.consume(f.requester, reply_to, "rpc", true);
    const auto key = f.request();
    f.h.declare_queue(f.server, "copies");
    BasicProperties p;
    p.headers = {{"CC", FieldArray{key}}};
    f.c.sink.events.clear();
    f.h.publish(f.server, "", "copies", "reply", p);
    auto ds = f.c.sink.take_deliveries();
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].routing_key == "copies");
    CHECK(f.h.ready("copies") == 1);
    REQUIRE(f.h.methods.tx_select(f.server).ok());
    f.h.publish(f.server, "", key, "in-tx");
    CHECK(who_got_what(f.c.sink.take_deliveries()) == std::vector<std::string>{"rpc:in-tx"});
    REQUIRE(f.h.methods.tx_rollback(f.server).ok());
    CHECK(f.c.sink.take_deliveries().empty());
}
