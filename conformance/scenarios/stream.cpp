// Stream queues (x-queue-type stream) on a single RabbitMQ 3.10.8 node: the declare rules, the
// ways a consumer must (and must not) read one, x-stream-offset, messages kept after they are
// read, what a stream does to a message's properties, and retention.
//
// A stream takes a publish asynchronously, so every publish here is confirmed before the stream
// is read, each publish on its own (a confirmed publish is a chunk of its own on RabbitMQ; a
// burst of unconfirmed ones may share a chunk, which "last" would show).
//
#include "scenario.hpp"

namespace warren::conformance {
namespace {

FieldTable stream(FieldTable args = {}) {
    FieldTable out{{"x-queue-type", "stream"}};
    for (const auto& [k, v] : args) out.set(k, v);
    return out;
}

QueueOptions durable_stream(FieldTable args = {}) {
    return {.durable = true, .arguments = stream(std::move(args))};
}

// Publishes each body on its own, awaiting its confirm.
void publish_confirmed(Session& s, Channel& pub, const std::string& q, int from, int to) {
    for (int i = from; i < to; ++i) {
        s.publish(pub, "", q, fmt::format("m{}", i));
        s.wait_for_confirms(pub);
    }
}

// Declares the stream and publishes m0..m<n-1>, each confirmed on its own.
std::string declare_and_publish(Session& s, std::string_view suffix, int n, FieldTable args = {}) {
    const auto q = s.queue_name(suffix);
    Channel pub = s.channel();
    s.queue_declare(pub, q, durable_stream(std::move(args)));
    s.confirm_select(pub);
    publish_confirmed(s, pub, q, 0, n);
    return q;
}

// A consumer with a prefetch on a channel of its own.
Inbox& reader(Session& s, const std::string& q, std::string_view label, FieldTable args = {},
              std::uint16_t prefetch = 100, OnDelivery on_delivery = {}) {
    Channel ch = s.channel();
    s.basic_qos(ch, prefetch);
    return s.consume(ch, q, label, {.arguments = std::move(args)}, std::move(on_delivery));
}

// ---- declare ----

// A stream must be durable, not exclusive, not auto-delete, and named by the client; its
// declare-ok, like a passive declare, counts no consumers. (It counts the messages the stream
// held at the node's last statistics tick, every 5 s: not shown here, where that tick may fall
// anywhere on a real broker.)
void declare_properties(Session& s) {
    const auto q = s.queue_name("q");
    for (QueueOptions o : {QueueOptions{.durable = false}, QueueOptions{.durable = true, .exclusive = true},
                           QueueOptions{.durable = true, .auto_delete = true},
                           QueueOptions{.durable = true, .exclusive = true, .auto_delete = true}}) {
        Channel ch = s.channel();
        o.arguments = stream();
        s.queue_declare(ch, q, o);
    }
    Channel ch = s.channel();
    s.queue_declare(ch, "", durable_stream());
    ch = s.channel();
    s.queue_declare(ch, q, durable_stream());
    auto& c = reader(s, q, "c", {{"x-stream-offset", "first"}});
    s.queue_declare(ch, q, durable_stream());
    s.count(ch, q);
    s.confirm_select(ch);
    publish_confirmed(s, ch, q, 0, 3);
    s.await(c, 3);
    for (QueueOptions o : {QueueOptions{.durable = false}, QueueOptions{.durable = true, .auto_delete = true}}) {
        Channel again = s.channel();
        o.arguments = stream();
        s.queue_declare(again, q, o);
    }
}

// The arguments a stream accepts, those it refuses as another type's, and the value checks.
void declare_arguments(Session& s) {
    const auto q = s.queue_name("q");
    const std::vector<FieldTable> cases = {
        {{"x-message-ttl", 1000}},
        {{"x-expires", 1000}},
        {{"x-max-length", 10}},
        {{"x-dead-letter-exchange", "dlx"}},
        {{"x-dead-letter-routing-key", "k"}},
        {{"x-max-priority", 5}},
        {{"x-overflow", "reject-publish"}},
        {{"x-single-active-consumer", true}},
        {{"x-delivery-limit", 2}},
        {{"x-queue-mode", "lazy"}},
        {{"x-queue-version", 2}},
        {{"x-dead-letter-strategy", "at-least-once"}},
        {{"x-max-in-memory-length", 5}},
        {{"x-quorum-initial-group-size", 1}},
        {{"x-queue-master-locator", "client-local"}},
        {{"x-max-age", "0s"}},
        {{"x-max-age", "1x"}},
        {{"x-max-age", 5}},
        {{"x-max-length-bytes", -1}},
        {{"x-stream-max-segment-size-bytes", -1}},
        {{"x-max-length-bytes", "a"}},
        {{"x-max-age", "1x"}, {"x-message-ttl", 1000}},
        {{"x-message-ttl", 1000}, {"x-max-length", 1}},
        // Accepted:
        {{"x-max-length-bytes", 1000000}},
        {{"x-max-age", "7D"}},
        {{"x-max-age", "1Y"}},
        {{"x-max-age", "30m"}},
        {{"x-stream-max-segment-size-bytes", 1000000}},
        {{"x-initial-cluster-size", 1}},
        {{"x-queue-leader-locator", "balanced"}},
        {{"x-quorum-target-group-size", 3}},
        {{"x-foo", 1}},
    };
    for (const FieldTable& args : cases) {
        Channel ch = s.channel();
        if (s.queue_declare(ch, q, durable_stream(args))) s.queue_delete(ch, q);
    }
}

// Redeclaring with other stream arguments, or as another type, is an equivalence error.
void equivalence(Session& s) {
    const auto q = declare_and_publish(s, "q", 0, {{"x-max-age", "1h"}});
    Channel ch = s.channel();
    s.queue_declare(ch, q, durable_stream({{"x-max-age", "1h"}}));
    s.queue_declare(ch, q, durable_stream({{"x-max-age", "2h"}}));
    ch = s.channel();
    s.queue_declare(ch, q, durable_stream({{"x-max-age", "1h"}, {"x-max-length-bytes", 100000}}));
    ch = s.channel();
    s.queue_declare(ch, q, durable_stream({{"x-max-age", "1h"}, {"x-foo", 1}}));
    s.queue_declare(ch, q, {.durable = true, .arguments = {{"x-max-age", "1h"}}});
    ch = s.channel();
    s.queue_declare(ch, q, {.durable = true, .arguments = {{"x-queue-type", "quorum"}, {"x-max-age", "1h"}}});
    ch = s.channel();
    const auto classic = s.queue_name("classic");
    s.queue_declare(ch, classic, {.durable = true});
    s.queue_declare(ch, classic, durable_stream());
}

// ---- what a stream refuses ----

// basic.get and queue.purge are not for streams: each closes the connection.
void get_and_purge_refused(Session& s) {
    const auto q = declare_and_publish(s, "q", 2);
    for (bool no_ack : {true, false}) {
        Channel ch = s.connect().channel();
        s.get(ch, q, no_ack);
    }
    Channel ch = s.connect().channel();
    s.queue_purge(ch, q);
    auto& c = reader(s, q, "after", {{"x-stream-offset", "first"}});
    s.await(c, 2);
}

// A stream consumer needs a per-consumer prefetch, manual acknowledgement and no global
// prefetch; the prefetch is checked first.
void consume_refusals(Session& s) {
    const auto q = declare_and_publish(s, "q", 1);
    struct Case {
        std::uint16_t prefetch;
        bool global;
        bool no_ack;
    };
    for (const Case& k : {Case{0, false, false}, Case{0, false, true}, Case{10, false, true},
                          Case{10, true, false}, Case{10, true, true}}) {
        Channel ch = s.connect().channel();
        s.basic_qos(ch, k.prefetch, k.global);
        s.consume(ch, q, k.no_ack ? "no-ack" : "ack", {.no_ack = k.no_ack});
    }
    // A global prefetch beside a per-consumer one is refused too.
    Channel ch = s.connect().channel();
    s.basic_qos(ch, 10);
    s.basic_qos(ch, 10, true);
    s.consume(ch, q, "both");
}

// Consumer arguments: x-priority and x-cancel-on-ha-failover are other types'; an exclusive
// consumer is accepted (and does not keep others out).
void consume_arguments(Session& s) {
    const auto q = declare_and_publish(s, "q", 1);
    for (const FieldTable& args : std::vector<FieldTable>{{{"x-priority", 5}},
                                                          {{"x-cancel-on-ha-failover", true}},
                                                          {{"x-stream-offset", "first"}, {"x-priority", 1}},
                                                          {{"x-foo", 1}}}) {
        Channel ch = s.channel();
        s.basic_qos(ch, 10);
        auto& c = s.consume(ch, q, "c", {.arguments = args});
        if (!c.consumer_tag.empty()) s.cancel(ch, c);
    }
    Channel ch = s.channel();
    s.basic_qos(ch, 10);
    auto& exclusive = s.consume(ch, q, "exclusive", {.exclusive = true, .arguments = {{"x-stream-offset", "first"}}});
    s.await(exclusive, 1);
    auto& other = reader(s, q, "other", {{"x-stream-offset", "first"}});
    s.await(other, 1);
}

// ---- reading ----

// Where a consumer starts: next (the default), first, last, a numeric offset (clamped to the
// stream), a timestamp, an interval; each then reads what is published after.
void offsets(Session& s) {
    const auto q = declare_and_publish(s, "q", 5);
    const std::vector<std::pair<std::string, FieldTable>> starts = {
        {"default", {}},
        {"next", {{"x-stream-offset", "next"}}},
        {"first", {{"x-stream-offset", "first"}}},
        {"last", {{"x-stream-offset", "last"}}},
        {"offset 2", {{"x-stream-offset", 2}}},
        {"offset -1", {{"x-stream-offset", -1}}},
        {"offset 4 short", {{"x-stream-offset", std::int16_t{4}}}},
        {"offset 5", {{"x-stream-offset", 5}}},
        {"offset 100", {{"x-stream-offset", 100}}},
        {"timestamp 1", {{"x-stream-offset", Timestamp{1}}}},
        {"timestamp 2^40", {{"x-stream-offset", Timestamp{std::uint64_t{1} << 40}}}},
        {"interval 1h", {{"x-stream-offset", "1h"}}},
        {"interval 7D", {{"x-stream-offset", "7D"}}},
    };
    std::vector<std::pair<Inbox*, std::size_t>> inboxes;
    for (const auto& [label, args] : starts) inboxes.emplace_back(&reader(s, q, label, args), 0);
    const std::vector<std::size_t> before = {0, 0, 5, 1, 3, 5, 1, 0, 0, 5, 0, 5, 5};
    for (std::size_t i = 0; i < inboxes.size(); ++i) s.await(*inboxes[i].first, before[i]);
    Channel pub = s.channel();
    s.confirm_select(pub);
    publish_confirmed(s, pub, q, 5, 7);
    for (std::size_t i = 0; i < inboxes.size(); ++i) s.await(*inboxes[i].first, before[i] + 2);
}

// Messages stay in the stream after they are read and acknowledged; every reader reads on its
// own; a reader's channel closing requeues nothing; a new reader from first reads them all.
void independent_readers(Session& s) {
    const auto q = declare_and_publish(s, "q", 3);
    Channel a_ch = s.channel();
    s.basic_qos(a_ch, 10);
    auto& a = s.consume(a_ch, q, "a", {.arguments = {{"x-stream-offset", "first"}}},
                        [](Channel& ch, const Delivery& d) { ch.basic_ack(d.delivery_tag); });
    auto& b = reader(s, q, "b", {{"x-stream-offset", "first"}});
    s.await(a, 3);
    s.await(b, 3);
    s.cancel(a_ch, a);
    auto& c = reader(s, q, "c", {{"x-stream-offset", 1}});
    s.await(c, 2);
    Channel d_ch = s.channel();
    s.basic_qos(d_ch, 10);
    auto& d = s.consume(d_ch, q, "d", {.arguments = {{"x-stream-offset", "first"}}});
    s.await(d, 3);
    s.close(d_ch);
    auto& e = reader(s, q, "e", {{"x-stream-offset", "first"}});
    s.await(e, 3);
    s.settle(b);
}

// The prefetch is the consumer's credit: an ack (or a multiple ack) returns what it settles.
// basic.nack and basic.reject are refused, with or without requeue, closing the connection.
void credit(Session& s) {
    const auto q = declare_and_publish(s, "q", 8);
    Channel ch = s.channel();
    s.basic_qos(ch, 2);
    auto& c = s.consume(ch, q, "c", {.arguments = {{"x-stream-offset", "first"}}});
    s.await(c, 2);
    s.settle(c);
    s.ack(ch, c.deliveries[0].delivery_tag);
    s.await(c, 3);
    s.ack(ch, c.deliveries[2].delivery_tag, true);
    s.await(c, 5);
    ch = s.channel();
    s.basic_qos(ch, 3);
    auto& m = s.consume(ch, q, "multiple", {.arguments = {{"x-stream-offset", "first"}}});
    s.await(m, 3);
    s.ack(ch, 0, true);
    s.await(m, 6);
    s.settle(m);
}

// basic.nack and basic.reject of a stream delivery, with or without requeue, close the
// connection; the refusal names the method.
void nack_and_reject_refused(Session& s) {
    const auto q = declare_and_publish(s, "q", 2);
    for (int how = 0; how < 4; ++how) {
        Connection& conn = s.connect();
        Channel ch = conn.channel();
        s.basic_qos(ch, 10);
        auto& c = s.consume(ch, q, "c", {.arguments = {{"x-stream-offset", "first"}}});
        s.await(c, 2);
        const std::uint64_t tag = c.deliveries[0].delivery_tag;
        if (how == 0) s.nack(ch, tag, false, true);
        if (how == 1) s.nack(ch, tag, true, false);
        if (how == 2) s.reject(ch, tag, true);
        if (how == 3) s.reject(ch, tag, false);
        // The refusal comes back asynchronously: a synchronous method shows it.
        s.count(ch, q);
    }
}

// basic.recover of stream deliveries, and an x-stream-offset RabbitMQ cannot read, crash its
// channel: the connection closes with 541 INTERNAL_ERROR. A string that starts with digits
// but is no interval is refused (406) instead.
void crashes(Session& s) {
    const auto q = declare_and_publish(s, "q", 2);
    Connection& conn = s.connect();
    Channel ch = conn.channel();
    s.basic_qos(ch, 10);
    auto& c = s.consume(ch, q, "c", {.arguments = {{"x-stream-offset", "first"}}});
    s.await(c, 2);
    s.recover(ch);
    s.count(ch, q);
    for (const FieldValue& offset : {FieldValue("bogus"), FieldValue(true), FieldValue("h"), FieldValue("1x"),
                                     FieldValue("0s"), FieldValue("-1h")}) {
        Channel other = s.connect().channel();
        s.basic_qos(other, 10);
        s.consume(other, q, "bad", {.arguments = {{"x-stream-offset", offset}}});
        s.count(other, q);
    }
}

// What a stream delivers of a message: every property, and headers of every type as they come
// back from the stream's store.
void message_properties(Session& s) {
    const auto q = s.queue_name("q");
    Channel pub = s.channel();
    s.queue_declare(pub, q, durable_stream());
    s.confirm_select(pub);
    BasicProperties p = all_properties();
    // A decimal header crashes the publisher's channel: shown last, on its own.
    p.headers = every_field_type();
    p.headers.erase("decimal");
    s.publish(pub, "", q, "all", p);
    s.wait_for_confirms(pub);
    s.publish(pub, "", q, "none");
    s.wait_for_confirms(pub);
    s.publish(pub, "", q, "empty headers", {.headers = FieldTable{}});
    s.wait_for_confirms(pub);
    s.publish(pub, "", q, "order",
              {.headers = FieldTable{{"zz", 1}, {"B", 2}, {"a", 3}, {"x-stream-offset", "mine"}, {"CC", FieldArray{"k"}}}});
    s.wait_for_confirms(pub);
    auto& c = reader(s, q, "c", {{"x-stream-offset", "first"}});
    s.await(c, 4);
    // A decimal header cannot be stored: the publishing channel crashes (541, connection).
    s.publish(pub, "", q, "decimal", {.headers = FieldTable{{"d", Decimal{2, 12345}}}});
    s.wait_for_confirms(pub);
    s.settle(c);
}

// A stream behind an exchange takes what is routed to it (and keeps exchange and routing
// key), but no dead letter ever reaches it: RabbitMQ 3.10.8 dead-letters without a stream
// writer and drops what is meant for a stream; a classic queue bound beside it gets them.
void routed_and_dead_lettered(Session& s) {
    const auto q = s.queue_name("q");
    const auto x = s.exchange_name("x");
    const auto source = s.queue_name("source");
    const auto classic = s.queue_name("classic");
    Channel ch = s.channel();
    s.queue_declare(ch, q, durable_stream());
    s.queue_declare(ch, classic);
    s.exchange_declare(ch, x, "fanout");
    s.queue_bind(ch, q, x);
    s.queue_bind(ch, classic, x);
    s.queue_declare(ch, source, {.arguments = {{"x-dead-letter-exchange", x}}});
    s.confirm_select(ch);
    s.publish(ch, x, "k", "routed", {.headers = FieldTable{{"CC", FieldArray{"cc"}}}});
    s.wait_for_confirms(ch);
    s.publish(ch, "", source, "expired", {.expiration = "0"});
    s.wait_for_confirms(ch);
    s.publish(ch, "", source, "rejected");
    s.wait_for_confirms(ch);
    auto r = s.get(ch, source, false);
    if (r) s.reject(ch, r->delivery_tag, false);
    s.eventually([&] { return false; }, 300ms);
    s.drain(ch, classic);
    auto& c = reader(s, q, "c", {{"x-stream-offset", "first"}});
    s.await(c, 1);
    s.settle(c);
}

// A transaction's publishes reach the stream at tx.commit; a mandatory publish to it is
// routed, so nothing returns.
void transactions_and_mandatory(Session& s) {
    const auto q = declare_and_publish(s, "q", 0);
    auto& c = reader(s, q, "c", {{"x-stream-offset", "first"}});
    Channel tx = s.channel();
    auto& returns = s.watch_returns(tx);
    s.attempt("tx.select", [&] { tx.tx_select(); });
    s.publish(tx, "", q, "t0", {}, {.mandatory = true});
    s.publish(tx, "", q, "t1");
    s.settle(c);
    s.attempt("tx.commit", [&] { tx.tx_commit(); });
    s.await(c, 2);
    s.write_returns(returns);
}

// A consumer's deliveries are acknowledged after it is cancelled; a prefetch set after
// basic.consume does not change its credit.
void cancel_then_ack(Session& s) {
    const auto q = declare_and_publish(s, "q", 6);
    Channel ch = s.channel();
    s.basic_qos(ch, 2);
    auto& c = s.consume(ch, q, "c", {.arguments = {{"x-stream-offset", "first"}}});
    s.await(c, 2);
    s.basic_qos(ch, 5);
    s.ack(ch, c.deliveries[0].delivery_tag);
    s.await(c, 3);
    s.settle(c);
    s.cancel(ch, c);
    s.ack(ch, c.deliveries[1].delivery_tag);
    s.ack(ch, c.deliveries[2].delivery_tag);
    auto& again = s.consume(ch, q, "again", {.arguments = {{"x-stream-offset", 4}}});
    s.await(again, 2);
}

// ---- retention ----

// RabbitMQ applies retention asynchronously after the publish that rolls a segment: a reader
// attaching at once may still find the segments about to go (seen on a loaded machine, even a
// second later). On a real broker this waits, at most ten seconds, until a reader attaching at
// "first" starts at `first`, the offset RabbitMQ 3.10.8 keeps (the goldens), probing on a
// connection that writes nothing down. The scenario's own reader then shows what is there, so a
// broker, or warren, that keeps anything else still differs. warren retains at once.
void let_retention_run(Session& s, const std::string& q, std::int64_t first) {
    s.eventually([&] { return s.first_stream_offset(q) == first; }, 10s);
}

// x-max-length-bytes at segment granularity (osiris 1.3.1): a chunk goes to a new segment once
// the current one has reached x-stream-max-segment-size-bytes, and opening a segment writes a
// tracking snapshot first (an offset no reader is given) and removes the oldest segments that
// do not fit in the maximum beside the newer ones. Every byte counts: the message as AMQP 1.0,
// the chunk and record headers, the publishing channel's trailer.
void retention_max_length_bytes(Session& s) {
    const auto q = declare_and_publish(s, "q", 14,
                                       {{"x-stream-max-segment-size-bytes", 1000}, {"x-max-length-bytes", 2300}});
    let_retention_run(s, q, 7);
    auto& c = reader(s, q, "c", {{"x-stream-offset", "first"}});
    s.await(c, 7);
    s.settle(c);
    auto& from = reader(s, q, "offset 0", {{"x-stream-offset", 0}});
    s.await(from, 7);
}

// Bigger messages, a property set and a header: each changes the stored size.
void retention_sizes(Session& s) {
    const auto q = s.queue_name("q");
    Channel pub = s.channel();
    s.queue_declare(pub, q, durable_stream({{"x-stream-max-segment-size-bytes", 1200}, {"x-max-length-bytes", 3000}}));
    s.confirm_select(pub);
    for (int i = 0; i < 12; ++i) {
        BasicProperties p;
        if (i % 3 == 1) p = {.content_type = "application/json", .headers = FieldTable{{"n", i}, {"s", "text"}}};
        if (i % 3 == 2) p = {.delivery_mode = 2, .priority = 1, .message_id = fmt::format("id-{}", i), .type = "kind"};
        s.publish(pub, "", q, std::string(static_cast<std::size_t>(100 + 60 * i), 'x'), p);
        s.wait_for_confirms(pub);
    }
    let_retention_run(s, q, 14);
    auto& c = reader(s, q, "c", {{"x-stream-offset", "first"}});
    s.await(c, 6);
    s.settle(c);
}

// A tracking snapshot holds an entry for every writer the stream tracks, the one whose publish
// opens the segment included (osiris_writer tracks a batch's writer before it looks at the
// segment). Each message here comes from a channel of its own, so each snapshot is bigger than
// the one before: where the snapshots fall (offsets no reader is given) and what retention
// keeps show their sizes.
void retention_writers(Session& s) {
    const auto q = s.queue_name("q");
    Channel declarer = s.channel();
    s.queue_declare(declarer, q,
                    durable_stream({{"x-stream-max-segment-size-bytes", 600}, {"x-max-length-bytes", 2600}}));
    for (int i = 0; i < 10; ++i) {
        Channel writer = s.channel();
        s.confirm_select(writer);
        publish_confirmed(s, writer, q, i, i + 1);
    }
    let_retention_run(s, q, 11);
    auto& c = reader(s, q, "c", {{"x-stream-offset", "first"}});
    s.await(c, 2);
    s.settle(c);
}

// x-max-age: a segment goes, at the next segment roll, once its last chunk is older than the
// maximum age; the newest segment always stays. Without a roll nothing goes.
void retention_max_age(Session& s) {
    const auto q = declare_and_publish(s, "q", 5,
                                       {{"x-stream-max-segment-size-bytes", 600}, {"x-max-age", "2s"}});
    s.wait(3000ms);
    Channel pub = s.channel();
    s.confirm_select(pub);
    publish_confirmed(s, pub, q, 5, 6);
    auto& c = reader(s, q, "c", {{"x-stream-offset", "first"}});
    s.await(c, 4);
    s.settle(c);
    s.wait(3000ms);
    publish_confirmed(s, pub, q, 6, 9);
    let_retention_run(s, q, 5);
    auto& d = reader(s, q, "d", {{"x-stream-offset", "first"}});
    s.await(d, 2);
    s.settle(d);
}

// Deleting a stream cancels its consumers and reports no messages.
void delete_stream(Session& s) {
    const auto q = declare_and_publish(s, "q", 3);
    auto& c = reader(s, q, "c", {{"x-stream-offset", "first"}});
    s.await(c, 3);
    Channel ch = s.channel();
    s.queue_delete(ch, q, {.if_unused = true});
    ch = s.channel();
    s.queue_declare(ch, q, durable_stream());
    s.queue_delete(ch, q, {.if_empty = true});
    s.settle(c);
}

}  // namespace

void add_stream_scenarios(Scenarios& out) {
    out.push_back({"stream.declare_properties", declare_properties});
    out.push_back({"stream.declare_arguments", declare_arguments});
    out.push_back({"stream.equivalence", equivalence});
    out.push_back({"stream.get_and_purge_refused", get_and_purge_refused});
    out.push_back({"stream.consume_refusals", consume_refusals});
    out.push_back({"stream.consume_arguments", consume_arguments});
    out.push_back({"stream.offsets", offsets});
    out.push_back({"stream.independent_readers", independent_readers});
    out.push_back({"stream.credit", credit});
    out.push_back({"stream.nack_and_reject_refused", nack_and_reject_refused});
    out.push_back({"stream.crashes", crashes});
    out.push_back({"stream.message_properties", message_properties});
    out.push_back({"stream.routed_and_dead_lettered", routed_and_dead_lettered});
    out.push_back({"stream.delete", delete_stream});
    out.push_back({"stream.transactions_and_mandatory", transactions_and_mandatory});
    out.push_back({"stream.cancel_then_ack", cancel_then_ack});
    out.push_back({"stream.retention_max_length_bytes", retention_max_length_bytes});
    out.push_back({"stream.retention_sizes", retention_sizes});
    out.push_back({"stream.retention_max_age", retention_max_age});
    out.push_back({"stream.retention_writers", retention_writers});
}

}  // namespace warren::conformance
