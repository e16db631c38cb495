// Stream queues. The expectations are what RabbitMQ 3.10.8 did with the same calls
// (conformance/scenarios/stream.cpp plays them there); retention on the ManualClock.
#include <catch2/catch.hpp>

#include "broker_harness.hpp"

using namespace warren;
using namespace warren::test;
using namespace std::chrono_literals;

namespace {

FieldTable stream(FieldTable extra = {}) {
    FieldTable args{{"x-queue-type", "stream"}};
    for (const auto& [k, v] : extra) args.set(k, v);
    return args;
}

std::int64_t offset_of(const SinkEvent& d) {
    const FieldValue* v = d.message.properties.headers.find("x-stream-offset");
    REQUIRE(v);
    return v->as_int();
}

std::vector<std::int64_t> offsets(const std::vector<SinkEvent>& deliveries) {
    std::vector<std::int64_t> out;
    for (const auto& d : deliveries) out.push_back(offset_of(d));
    return out;
}

struct Fixture {
    Harness h;
    Harness::Connection& c = h.connect();
    ChannelRef ch = h.channel(c);
    explicit Fixture(FieldTable extra = {}, int messages = 0) {
        h.declare_queue(ch, "s", {.durable = true, .arguments = stream(std::move(extra))});
        publish(0, messages);
    }
    void publish(int from, int to, std::string prefix = "m") {
        for (int i = from; i < to; ++i) h.publish(ch, "", "s", prefix + std::to_string(i));
    }
    /// A reader with `prefetch` on a channel of its own; returns the channel.
    ChannelRef reader(FieldTable args, std::uint16_t prefetch = 100) {
        ChannelRef r = h.channel(c);
        REQUIRE(h.methods.basic_qos(r, {0, prefetch, false}).ok());
        h.consume(r, "s", "", false, std::move(args));
        return r;
    }
    std::vector<std::int64_t> read(FieldTable args) {
        c.sink.events.clear();
        reader(std::move(args));
        return offsets(c.sink.take_deliveries());
    }
};

}  // namespace

TEST_CASE("stream: durable, shared, not auto-delete, named by the client; declare-ok counts nothing") {
    Harness h;
    auto& c = h.connect();
    auto declare = [&](emulator::QueueDeclare m) {
        m.queue = "s";
        m.arguments = stream();
        return h.methods.queue_declare(h.channel(c), m);
    };
    require_error(declare({.durable = false}), ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - invalid property 'non-durable' for queue 's' in vhost '/'");
    require_error(declare({.durable = true, .exclusive = true}), ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - invalid property 'exclusive-owner' for queue 's' in vhost '/'");
    require_error(h.methods.queue_declare(h.channel(c), {.queue = "", .durable = true, .arguments = stream()}),
                  ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - Cannot declare a server-named queue for type rabbit_stream_queue");
    REQUIRE(declare({.durable = true}).ok());
    ChannelRef ch = h.channel(c);
    h.publish(ch, "", "s", "a");
    REQUIRE(h.methods.basic_qos(ch, {0, 10, false}).ok());
    h.consume(ch, "s", "", false, {{"x-stream-offset", "first"}});
    auto ok = h.methods.queue_declare(ch, {.queue = "s", .passive = true});
    REQUIRE(ok.ok());
    CHECK(ok->message_count == 0);
    CHECK(ok->consumer_count == 0);
    CHECK(h.broker.queue("/", "s")->type == "stream");
    CHECK(h.broker.queue("/", "s")->messages_ready == 1);
}

TEST_CASE("stream: declare-ok counts the messages held at the last 5-second statistics tick") {
    Fixture f({}, 3);  // published at the clock's start, itself a tick
    auto count = [&] { return f.h.methods.queue_declare(f.ch, {.queue = "s", .passive = true})->message_count; };
    CHECK(count() == 0);
    f.h.broker.advance(4s);
    f.publish(3, 5);
    CHECK(count() == 0);
    f.h.broker.advance(1s);
    CHECK(count() == 5);
    f.h.broker.advance(1s);
    f.publish(5, 6);
    CHECK(count() == 5);
    f.h.broker.advance(4s);
    CHECK(count() == 6);
}

TEST_CASE("stream: other types' arguments are refused, its own checked") {
    Harness h;
    auto& c = h.connect();
    auto declare = [&](FieldTable extra) {
        return h.methods.queue_declare(h.channel(c), {.queue = "s", .durable = true, .arguments = stream(std::move(extra))});
    };
    require_error(declare({{"x-message-ttl", 1000}}), ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 's' in vhost '/' of queue type rabbit_stream_queue");
    require_error(declare({{"x-max-age", "0s"}}), ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - invalid arg 'x-max-age' for queue 's' in vhost '/': invalid_max_age");
    // No leading digit crashes RabbitMQ's check: 541, the connection closes.
    require_error(declare({{"x-max-age", "h"}}), ReplyCode::InternalError, "INTERNAL_ERROR");
    CHECK_FALSE(h.has_queue("s"));
    auto& d = h.connect();
    REQUIRE(h.methods.queue_declare(h.channel(d), {.queue = "s", .durable = true,
                                                   .arguments = stream({{"x-max-age", "7D"}, {"x-foo", 1}})})
                .ok());
}

TEST_CASE("stream: basic.get and queue.purge are refused with a connection error") {
    Fixture f({}, 2);
    require_error(f.h.methods.basic_get(f.ch, "s", false), ReplyCode::NotImplemented,
                  "NOT_IMPLEMENTED - basic.get not supported by stream queues queue 's' in vhost '/'");
    auto& d = f.h.connect();
    require_error(f.h.methods.queue_purge(f.h.channel(d), "s"), ReplyCode::NotImplemented,
                  "NOT_IMPLEMENTED - queue.purge not supported by stream queues queue 's' in vhost '/'");
}

TEST_CASE("stream: a consumer needs its own prefetch, manual acks and no global prefetch") {
    Fixture f({}, 1);
    auto consume = [&](std::uint16_t prefetch, bool global, bool no_ack) {
        auto& conn = f.h.connect();
        ChannelRef ch = f.h.channel(conn);
        REQUIRE(f.h.methods.basic_qos(ch, {0, prefetch, global}).ok());
        return f.h.methods.basic_consume(ch, {"s", "", false, no_ack, false, {}});
    };
    require_error(consume(0, false, true), ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - consumer prefetch count is not set for 'queue 's' in vhost '/''");
    require_error(consume(10, false, true), ReplyCode::NotImplemented,
                  "NOT_IMPLEMENTED - automatic acknowledgement not supported by stream queues queue 's' in vhost '/'");
    auto& conn = f.h.connect();
    ChannelRef ch = f.h.channel(conn);
    REQUIRE(f.h.methods.basic_qos(ch, {0, 10, false}).ok());
    REQUIRE(f.h.methods.basic_qos(ch, {0, 10, true}).ok());
    require_error(f.h.methods.basic_consume(ch, {"s", "", false, false, false, {}}), ReplyCode::NotImplemented,
                  "NOT_IMPLEMENTED - queue 's' in vhost '/' does not support global qos");
    auto& other = f.h.connect();
    ChannelRef o = f.h.channel(other);
    REQUIRE(f.h.methods.basic_qos(o, {0, 10, false}).ok());
    require_error(f.h.methods.basic_consume(o, {"s", "", false, false, false, {{"x-priority", 1}}}),
                  ReplyCode::PreconditionFailed,
                  "PRECONDITION_FAILED - invalid arg 'x-priority' for queue 's' in vhost '/' of queue type rabbit_stream_queue");
}

TEST_CASE("stream: x-stream-offset picks where a reader starts") {
    Fixture f({}, 5);
    CHECK(f.read({}).empty());
    CHECK(f.read({{"x-stream-offset", "next"}}).empty());
    CHECK(f.read({{"x-stream-offset", "first"}}) == std::vector<std::int64_t>{0, 1, 2, 3, 4});
    CHECK(f.read({{"x-stream-offset", "last"}}) == std::vector<std::int64_t>{4});
    CHECK(f.read({{"x-stream-offset", 3}}) == std::vector<std::int64_t>{3, 4});
    CHECK(f.read({{"x-stream-offset", -1}}) == std::vector<std::int64_t>{0, 1, 2, 3, 4});
    CHECK(f.read({{"x-stream-offset", Timestamp{1}}}) == std::vector<std::int64_t>{0, 1, 2, 3, 4});
    CHECK(f.read({{"x-stream-offset", "1h"}}) == std::vector<std::int64_t>{0, 1, 2, 3, 4});
    // Past the end, a reader waits for the offset it asked for.
    CHECK(f.read({{"x-stream-offset", 7}}).empty());
    f.c.sink.events.clear();
    f.publish(5, 9);
    auto all = f.c.sink.take_deliveries();
    std::vector<std::int64_t> from7;
    for (const auto& d : all)
        if (d.consumer_tag == all.back().consumer_tag) from7.push_back(offset_of(d));
    CHECK(from7 == std::vector<std::int64_t>{7, 8});
}

TEST_CASE("stream: a timestamp or an interval starts at the first message published at or after it") {
    Fixture f({}, 2);
    f.h.broker.advance(10s);
    f.publish(2, 4);
    CHECK(f.read({{"x-stream-offset", "5s"}}) == std::vector<std::int64_t>{2, 3});
    CHECK(f.read({{"x-stream-offset", "20s"}}) == std::vector<std::int64_t>{0, 1, 2, 3});
    const auto now_s = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(ManualClock::default_start.time_since_epoch()).count() + 10);
    CHECK(f.read(FieldTable{{"x-stream-offset", Timestamp{now_s}}}) == std::vector<std::int64_t>{2, 3});
    CHECK(f.read(FieldTable{{"x-stream-offset", Timestamp{now_s + 1}}}).empty());
}

TEST_CASE("stream: messages stay after an ack; each ack gives its reader one more") {
    Fixture f({}, 5);
    ChannelRef r = f.reader({{"x-stream-offset", "first"}}, 2);
    auto got = f.c.sink.take_deliveries();
    REQUIRE(offsets(got) == std::vector<std::int64_t>{0, 1});
    CHECK_FALSE(got[0].redelivered);
    REQUIRE(f.h.methods.basic_ack(r, got[0].tag, false).ok());
    CHECK(offsets(f.c.sink.take_deliveries()) == std::vector<std::int64_t>{2});
    f.h.methods.close_channel(r);
    CHECK(f.read({{"x-stream-offset", "first"}}) == std::vector<std::int64_t>{0, 1, 2, 3, 4});
}

TEST_CASE("stream: nack and reject close the connection; recover crashes it") {
    Fixture f({}, 2);
    ChannelRef r = f.reader({{"x-stream-offset", "first"}});
    auto got = f.c.sink.take_deliveries();
    require_error(f.h.methods.basic_nack(r, got[0].tag, false, true), ReplyCode::NotImplemented,
                  "NOT_IMPLEMENTED - basic.nack and basic.reject not supported by stream queues queue 's' in vhost '/'");
    Fixture g({}, 2);
    ChannelRef s = g.reader({{"x-stream-offset", "first"}});
    require_error(g.h.methods.basic_recover(s, true), ReplyCode::InternalError, "INTERNAL_ERROR");
}

TEST_CASE("stream: what a message keeps of itself, headers sorted with x-stream-offset") {
    Fixture f;
    BasicProperties p{.content_type = "text/plain", .cluster_id = "c"};
    p.headers = {{"zz", 1}, {"a", FieldArray{1}}, {"B", FieldTable{}}, {"x-stream-offset", "mine"}, {"b", true}};
    f.h.publish(f.ch, "", "s", "body", p);
    f.reader({{"x-stream-offset", "first"}});
    auto got = f.c.sink.take_deliveries();
    REQUIRE(got.size() == 1);
    const BasicProperties& d = got[0].message.properties;
    CHECK(d.content_type == "text/plain");
    CHECK_FALSE(d.cluster_id);
    std::vector<std::string> keys;
    for (const auto& [k, v] : d.headers) keys.push_back(k);
    CHECK(keys == std::vector<std::string>{"b", "x-stream-offset", "zz"});
    CHECK(d.headers.at("x-stream-offset").type() == FieldValue::Type::Int64);
    // A decimal header cannot be stored: the publishing connection closes.
    auto r = f.h.methods.basic_publish(f.ch, {"", "s", false, false},
                                       Message{"d", BasicProperties{.headers = {{"d", Decimal{2, 1}}}}});
    require_error(r, ReplyCode::InternalError, "INTERNAL_ERROR");
}

TEST_CASE("stream: dead letters never reach a stream") {
    Fixture f;
    f.h.declare_exchange(f.ch, "dlx", "fanout");
    f.h.bind(f.ch, "s", "dlx", "");
    f.h.declare_queue(f.ch, "src", {.arguments = {{"x-dead-letter-exchange", "dlx"}}});
    f.h.publish(f.ch, "dlx", "", "routed");
    f.h.publish(f.ch, "", "src", "expired", {.expiration = "0"});
    CHECK(f.h.broker.queue("/", "s")->messages_ready == 1);
}

TEST_CASE("stream: x-max-length-bytes drops whole segments when a segment rolls") {
    // Each chunk here is 48 + 4 + (42 + 1 + 0 + 2) + 44 = 141 bytes (queue "s", bodies "m0".."m9").
    Fixture f({{"x-stream-max-segment-size-bytes", 400}, {"x-max-length-bytes", 1000}});
    f.publish(0, 3);  // segment 0: 8 + 3 * 141 = 431, full
    // The reader's attach rolls: segment 1 starts with a tracking snapshot (offset 3, 104
    // bytes), and retention keeps segment 0 (431 <= 1000 - 112).
    CHECK(f.read({{"x-stream-offset", "first"}}) == std::vector<std::int64_t>{0, 1, 2});
    f.publish(3, 6);  // offsets 4..6: segment 1 is 8 + 104 + 3 * 141 = 535, full
    // The next publish rolls: snapshot 7 and the message (offset 8, no trailer after the
    // snapshot) make segment 2 209 bytes; segment 1 fits in 1000 - 209, segment 0 does not.
    f.publish(6, 7);
    CHECK(f.read({{"x-stream-offset", "first"}}) == std::vector<std::int64_t>{4, 5, 6, 8});
    CHECK(f.read({{"x-stream-offset", 0}}) == std::vector<std::int64_t>{4, 5, 6, 8});
}

TEST_CASE("stream: x-max-age drops segments whose last chunk is older, at the next roll") {
    Fixture f({{"x-stream-max-segment-size-bytes", 300}, {"x-max-age", "2s"}}, 3);  // segment 0 full
    f.h.broker.advance(3s);
    // No roll yet: nothing goes.
    CHECK(f.h.broker.queue("/", "s")->messages_ready == 3);
    f.publish(3, 4);
    // The roll (snapshot 3, message 4) dropped segment 0; the newest always stays.
    CHECK(f.h.broker.queue("/", "s")->messages_ready == 1);
    CHECK(f.read({{"x-stream-offset", "first"}}) == std::vector<std::int64_t>{4});
    CHECK(f.read({{"x-stream-offset", 0}}) == std::vector<std::int64_t>{4});
}

TEST_CASE("stream: a broker restart keeps every message, transient ones too, and the offsets") {
    Harness h;
    auto& c = h.connect();
    ChannelRef ch = h.channel(c);
    h.declare_queue(ch, "s", {.durable = true, .arguments = stream()});
    h.publish(ch, "", "s", "transient");
    h.publish(ch, "", "s", "persistent", {.delivery_mode = 2});
    h.broker.restart();
    auto& d = h.connect();
    ChannelRef r = h.channel(d);
    REQUIRE(h.methods.basic_qos(r, {0, 10, false}).ok());
    h.consume(r, "s", "", false, {{"x-stream-offset", "first"}});
    h.publish(r, "", "s", "after");
    auto got = d.sink.take_deliveries();
    REQUIRE(got.size() == 3);
    CHECK(got[0].message.body == "transient");
    CHECK(offsets(got) == std::vector<std::int64_t>{0, 1, 2});
}

namespace {

// A connection whose sink refuses deliveries while `accepting` is false (warren-server's
// back-pressure), counting what it receives.
class ThrottledSink final : public emulator::ConnectionSink {
public:
    bool accepting = true;
    std::size_t delivered = 0;
    void on_deliver(ChannelId, const emulator::DeliverEvent&) override { ++delivered; }
    void on_return(ChannelId, const emulator::ReturnEvent&) override {}
    void on_confirm(ChannelId, std::uint64_t, bool, bool) override {}
    void on_consumer_cancelled(ChannelId, std::string_view) override {}
    void on_connection_closed(const AmqpError&) override {}
    void on_connection_lost() override {}
    void on_tx_commit_ok(ChannelId) override {}
    bool accepting_deliveries(ChannelId) override { return accepting; }
};

}  // namespace

TEST_CASE("stream: a reader held back by its connection reads on when the connection resumes") {
    Fixture f({}, 3);
    ThrottledSink sink;
    auto id = f.h.methods.open_connection("/", "guest", sink);
    REQUIRE(id.ok());
    ChannelRef r{id.value(), 1};
    REQUIRE(f.h.methods.open_channel(r).ok());
    REQUIRE(f.h.methods.basic_qos(r, {0, 10, false}).ok());
    sink.accepting = false;
    REQUIRE(f.h.methods.basic_consume(r, {"s", "", false, false, false, {{"x-stream-offset", "first"}}}).ok());
    CHECK(sink.delivered == 0);
    sink.accepting = true;
    f.h.methods.resume_deliveries(id.value());
    CHECK(sink.delivered == 3);
}
