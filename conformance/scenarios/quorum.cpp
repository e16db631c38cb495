// Quorum queues (x-queue-type quorum) on a single RabbitMQ 3.10.8 node: the declare rules, where
// requeued messages go, x-delivery-count and x-delivery-limit, global qos, TTL, length limits
// and dead-lettering as rabbit_fifo applies them.
//
// A quorum queue takes a publish asynchronously, so every publish here is confirmed before the
// queue is read; dead letters and requeues are awaited with a bounded poll.
//
// Not a scenario: x-max-age given as a string with no number ("h") on a stream crashes RabbitMQ
// 3.10.8's channel (541 INTERNAL_ERROR, closing the connection); warren does the same
// (tests/emulator/broker_stream_test.cpp).
#include "scenario.hpp"

namespace warren::conformance {
namespace {

FieldTable quorum(FieldTable args = {}) {
    FieldTable out{{"x-queue-type", "quorum"}};
    for (const auto& [k, v] : args) out.set(k, v);
    return out;
}

QueueOptions durable_quorum(FieldTable args = {}) {
    return {.durable = true, .arguments = quorum(std::move(args))};
}

// Declares the quorum queue and publishes m0..m<n-1> on a confirming channel of its own.
std::string declare_and_publish(Session& s, std::string_view suffix, int n, FieldTable args = {}) {
    const auto q = s.queue_name(suffix);
    Channel pub = s.channel();
    s.queue_declare(pub, q, durable_quorum(std::move(args)));
    s.confirm_select(pub);
    for (int i = 0; i < n; ++i) s.publish(pub, "", q, fmt::format("m{}", i));
    if (n > 0) s.wait_for_confirms(pub);
    return q;
}

// ---- declare ----

// A quorum queue must be durable, not exclusive, not auto-delete, and named by the client;
// the property checks run auto-delete first, then exclusive, then durable.
void declare_properties(Session& s) {
    const auto q = s.queue_name("q");
    for (QueueOptions o : {QueueOptions{.durable = false}, QueueOptions{.durable = true, .exclusive = true},
                           QueueOptions{.durable = true, .auto_delete = true},
                           QueueOptions{.durable = true, .exclusive = true, .auto_delete = true},
                           QueueOptions{.durable = false, .exclusive = true}}) {
        Channel ch = s.channel();
        o.arguments = quorum();
        s.queue_declare(ch, q, o);
    }
    Channel ch = s.channel();
    s.queue_declare(ch, "", durable_quorum());
    ch = s.channel();
    s.queue_declare(ch, q, durable_quorum());
    s.queue_declare(ch, q, durable_quorum());
    s.count(ch, q);
    s.queue_declare(ch, q, {.passive = true});
}

// A property that differs from the existing quorum queue's is an equivalence error.
void redeclare_properties(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, durable_quorum());
    for (QueueOptions o : {QueueOptions{.durable = false}, QueueOptions{.durable = true, .exclusive = true},
                           QueueOptions{.durable = true, .auto_delete = true}}) {
        ch = s.channel();
        o.arguments = quorum();
        s.queue_declare(ch, q, o);
    }
}

// The arguments a quorum queue accepts, those it refuses as another type's, and the value
// checks that run first.
void declare_arguments(Session& s) {
    const auto q = s.queue_name("q");
    const std::vector<FieldTable> cases = {
        {{"x-max-priority", 5}},
        {{"x-queue-mode", "lazy"}},
        {{"x-queue-version", 2}},
        {{"x-queue-master-locator", "client-local"}},
        {{"x-max-age", "1h"}},
        {{"x-stream-max-segment-size-bytes", 1000}},
        {{"x-initial-cluster-size", 1}},
        {{"x-max-priority", -1}},
        {{"x-queue-mode", "lazy"}, {"x-max-priority", 3}},
        {{"x-max-priority", 3}, {"x-message-ttl", -1}},
        {{"x-dead-letter-strategy", "foo"}, {"x-max-priority", 1}},
        {{"x-dead-letter-strategy", "foo"}},
        {{"x-dead-letter-strategy", 1}},
        {{"x-queue-leader-locator", "foo"}},
        {{"x-max-length", "a"}},
        {{"x-overflow", "foo"}},
        {{"x-single-active-consumer", 1}},
        {{"x-max-in-memory-length", -2}},
        {{"x-quorum-initial-group-size", -1}},
        {{"x-dead-letter-routing-key", "k"}},
        // Accepted:
        {{"x-overflow", "reject-publish-dlx"}},
        {{"x-delivery-limit", 2}},
        {{"x-delivery-limit", "a"}},
        {{"x-dead-letter-strategy", "at-least-once"}},
        {{"x-dead-letter-strategy", "at-most-once"}},
        {{"x-quorum-initial-group-size", 1}},
        {{"x-quorum-target-group-size", 3}},
        {{"x-max-in-memory-length", 5}},
        {{"x-max-in-memory-bytes", 5}},
        {{"x-queue-leader-locator", "balanced"}},
        {{"x-stream-offset", 1}},
        {{"x-foo", 1}},
    };
    for (const FieldTable& args : cases) {
        Channel ch = s.channel();
        if (s.queue_declare(ch, q, durable_quorum(args))) s.queue_delete(ch, q);
    }
}

// Arguments of quorum and stream queues refused by a classic queue, before their values are
// looked at.
void classic_refuses_quorum_arguments(Session& s) {
    const auto q = s.queue_name("q");
    for (const FieldTable& args : std::vector<FieldTable>{{{"x-dead-letter-strategy", "at-least-once"}},
                                                          {{"x-dead-letter-strategy", 1}},
                                                          {{"x-max-in-memory-length", -1}},
                                                          {{"x-max-age", 1}},
                                                          {{"x-delivery-limit", 3}},
                                                          {{"x-queue-type", "foo"}, {"x-message-ttl", -1}},
                                                          {{"x-queue-type", 1}}}) {
        Channel ch = s.channel();
        s.queue_declare(ch, q, {.durable = true, .arguments = args});
    }
}

// The arguments a redeclaration must match, and a queue type that differs.
void equivalence(Session& s) {
    const auto q = s.queue_name("q");
    const std::vector<std::pair<FieldTable, FieldTable>> cases = {
        {quorum(), {}},
        {{}, quorum()},
        {quorum(), {{"x-queue-type", "classic"}}},
        {{{"x-queue-type", "classic"}}, quorum()},
        {quorum(), {{"x-queue-type", "stream"}}},
        {quorum({{"x-delivery-limit", 3}}), quorum()},
        {quorum({{"x-delivery-limit", 3}}), quorum({{"x-delivery-limit", 4}})},
        {quorum({{"x-message-ttl", 3}}), quorum({{"x-message-ttl", 4}})},
        {quorum({{"x-dead-letter-strategy", "at-most-once"}}), quorum({{"x-dead-letter-strategy", "at-least-once"}})},
        {quorum({{"x-max-in-memory-length", 3}}), quorum({{"x-max-in-memory-length", 4}})},
        {quorum({{"x-quorum-initial-group-size", 3}}), quorum({{"x-quorum-initial-group-size", 4}})},
        {quorum({{"x-overflow", "drop-head"}}), quorum({{"x-overflow", "reject-publish"}})},
        {quorum({{"x-single-active-consumer", true}}), quorum()},
        {quorum({{"x-foo", 3}}), quorum({{"x-foo", 4}})},
    };
    for (const auto& [first, second] : cases) {
        Channel ch = s.channel();
        s.queue_declare(ch, q, {.durable = true, .arguments = first});
        s.queue_declare(ch, q, {.durable = true, .arguments = second});
        ch = s.channel();
        s.queue_delete(ch, q);
    }
}

// ---- requeue and x-delivery-count ----

// basic.get adds x-delivery-count (0 the first time); a nack puts the message at the back of
// the queue, counted once more and marked redelivered, in the order of the nacks.
void nack_goes_to_back(Session& s) {
    const auto q = declare_and_publish(s, "q", 4);
    Channel ch = s.channel();
    auto a = s.get(ch, q, false);
    auto b = s.get(ch, q, false);
    s.nack(ch, b->delivery_tag);
    s.nack(ch, a->delivery_tag);
    s.drain(ch, q);
}

// basic.reject and basic.recover requeue to the back as well.
void reject_and_recover_go_to_back(Session& s) {
    const auto q = declare_and_publish(s, "q", 3);
    Channel ch = s.channel();
    auto a = s.get(ch, q, false);
    s.get(ch, q, false);
    s.reject(ch, a->delivery_tag);
    s.get(ch, q, false);
    s.recover(ch);
    s.drain(ch, q);
}

// What a closing channel held goes back to the front, in delivery order, counted.
void close_returns_to_front(Session& s) {
    const auto q = declare_and_publish(s, "q", 4);
    Channel ch = s.channel();
    s.get(ch, q, false);
    s.get(ch, q, false);
    s.close(ch);
    Channel reader = s.channel();
    await_counts(s, q, 4, 0);
    s.drain(reader, q);
}

// A consumer's first delivery has no x-delivery-count; a redelivery has it.
void consumer_delivery_count(Session& s) {
    const auto q = s.queue_name("q");
    Channel pub = s.channel();
    s.queue_declare(pub, q, durable_quorum());
    s.confirm_select(pub);
    s.publish(pub, "", q, "m0", {.headers = {{"a", 1}}});
    s.publish(pub, "", q, "m1");
    s.wait_for_confirms(pub);
    Channel ch = s.channel();
    s.basic_qos(ch, 2);
    auto& c = s.consume(ch, q, "c");
    s.await(c, 2);
    s.nack(ch, 0, true);
    s.await(c, 4);
    s.ack(ch, 0, true);
    s.settle(c);
}

// x-delivery-limit: a message returned more often than the limit is dropped.
void delivery_limit_drops(Session& s) {
    const auto q = declare_and_publish(s, "q", 2, {{"x-delivery-limit", 1}});
    Channel ch = s.channel();
    for (int round = 0; round < 4; ++round) {
        auto d = s.get(ch, q, false);
        if (d) s.nack(ch, d->delivery_tag);
    }
    s.count(ch, q);
    const auto zero = declare_and_publish(s, "zero", 1, {{"x-delivery-limit", 0}});
    auto d = s.get(ch, zero, false);
    s.nack(ch, d->delivery_tag);
    s.count(ch, zero);
}

// ... and dead-lettered with reason delivery_limit, when the queue has a dead-letter exchange.
void delivery_limit_dead_letters(Session& s) {
    Channel setup = s.channel();
    const auto dl = dead_letters(s, setup);
    const auto q = declare_and_publish(s, "q", 1, {{"x-delivery-limit", 1}, {"x-dead-letter-exchange", dl.exchange}});
    Channel ch = s.channel();
    for (int round = 0; round < 2; ++round) {
        auto d = s.get(ch, q, false);
        s.nack(ch, d->delivery_tag);
    }
    await_counts(s, dl.queue, 1, 0);
    s.get(ch, q);
    s.drain(ch, dl.queue);
}

// A channel close counts as a delivery too: the limit applies to what it returns.
void delivery_limit_on_close(Session& s) {
    const auto q = declare_and_publish(s, "q", 1, {{"x-delivery-limit", 0}});
    Channel ch = s.channel();
    s.get(ch, q, false);
    s.close(ch);
    Channel reader = s.channel();
    await_counts(s, q, 0, 0);
}

// ---- consumers ----

// A quorum queue refuses a consumer on a channel with a global prefetch: a connection error.
void global_qos_refused(Session& s) {
    const auto q = declare_and_publish(s, "q", 0);
    for (bool no_ack : {false, true}) {
        Connection& conn = s.connect();
        Channel ch = conn.channel();
        s.basic_qos(ch, 5, true);
        s.consume(ch, q, no_ack ? "no-ack" : "ack", {.no_ack = no_ack});
    }
    Connection& conn = s.connect();
    Channel ch = conn.channel();
    s.basic_qos(ch, 0, true);
    auto& c = s.consume(ch, q, "prefetch 0");
    s.cancel(ch, c);
}

// Consumer arguments a quorum queue checks.
void consume_arguments(Session& s) {
    const auto q = declare_and_publish(s, "q", 0);
    for (const FieldTable& args : std::vector<FieldTable>{{{"x-stream-offset", 1}},
                                                          {{"x-priority", "high"}},
                                                          {{"x-cancel-on-ha-failover", 1}},
                                                          {{"x-priority", 5}},
                                                          {{"x-foo", 1}}}) {
        Channel ch = s.channel();
        auto& c = s.consume(ch, q, "c", {.arguments = args});
        if (!c.consumer_tag.empty()) s.cancel(ch, c);
    }
}

// Prefetch and consumer priorities: the higher-priority consumer is served while it can take
// messages.
void prefetch_and_priority(Session& s) {
    const auto q = declare_and_publish(s, "q", 0);
    Channel low_ch = s.channel();
    Channel high_ch = s.channel();
    s.basic_qos(high_ch, 2);
    auto& low = s.consume(low_ch, q, "low", {.no_ack = true});
    auto& high = s.consume(high_ch, q, "high", {.arguments = {{"x-priority", 10}}});
    Channel pub = s.channel();
    s.confirm_select(pub);
    for (int i = 0; i < 5; ++i) s.publish(pub, "", q, fmt::format("m{}", i));
    s.wait_for_confirms(pub);
    s.await(high, 2);
    s.await(low, 3);
    s.settle(high);
}

// ---- TTL, limits, dead-lettering ----

void ttl_dead_letters(Session& s) {
    Channel setup = s.channel();
    const auto dl = dead_letters(s, setup);
    const auto q = declare_and_publish(s, "q", 2, {{"x-message-ttl", 100}, {"x-dead-letter-exchange", dl.exchange}});
    const auto e = s.queue_name("expiration");
    Channel pub = s.channel();
    s.queue_declare(pub, e, durable_quorum({{"x-dead-letter-exchange", dl.exchange}}));
    s.confirm_select(pub);
    s.publish(pub, "", e, "e0", {.expiration = "100"});
    s.publish(pub, "", e, "e1");
    s.wait_for_confirms(pub);
    s.wait(400ms);
    await_counts(s, dl.queue, 3, 0);
    s.count(setup, q);
    s.count(setup, e);
    s.drain(setup, dl.queue);
    s.drain(setup, e);
}

void max_length_drop_head(Session& s) {
    Channel setup = s.channel();
    const auto dl = dead_letters(s, setup);
    const auto q = declare_and_publish(s, "q", 4, {{"x-max-length", 2}, {"x-dead-letter-exchange", dl.exchange}});
    await_counts(s, dl.queue, 2, 0);
    s.count(setup, q);
    s.drain(setup, dl.queue);
    s.drain(setup, q);
    const auto b = declare_and_publish(s, "bytes", 4, {{"x-max-length-bytes", 4}});
    s.drain(setup, b);
}

// reject-publish refuses a publish once the queue has gone over its limit (so one message more
// than the limit gets in), and takes publishes again once the queue is down to 80% of it.
void reject_publish(Session& s) {
    const auto q = s.queue_name("q");
    Channel pub = s.channel();
    s.queue_declare(pub, q, durable_quorum({{"x-max-length", 5}, {"x-overflow", "reject-publish"}}));
    s.confirm_select(pub);
    auto& events = s.watch_events(pub);
    for (int i = 0; i < 8; ++i) publish_confirmed(s, pub, "", q, fmt::format("m{}", i));
    s.write_events(events);
    s.count(pub, q);
    Channel reader = s.channel();
    for (int i = 0; i < 3; ++i) {
        s.get(reader, q);
        publish_confirmed(s, pub, "", q, fmt::format("x{}", i));
        s.write_events(events);
        s.count(pub, q);
    }
    const auto bytes = s.queue_name("bytes");
    s.queue_declare(pub, bytes, durable_quorum({{"x-max-length-bytes", 4}, {"x-overflow", "reject-publish"}}));
    for (int i = 0; i < 4; ++i) publish_confirmed(s, pub, "", bytes, fmt::format("b{}", i));
    s.write_events(events);
    s.count(pub, bytes);
}

// reject-publish-dlx is taken as drop-head by a quorum queue.
void reject_publish_dlx_drops_head(Session& s) {
    Channel setup = s.channel();
    const auto dl = dead_letters(s, setup);
    const auto q = declare_and_publish(s, "q", 4, {{"x-max-length", 2}, {"x-overflow", "reject-publish-dlx"},
                                                  {"x-dead-letter-exchange", dl.exchange}});
    await_counts(s, dl.queue, 2, 0);
    s.drain(setup, dl.queue);
    s.drain(setup, q);
}

// Rejected messages are dead-lettered in the order they are rejected; x-delivery-count is not
// part of the dead letter.
void rejected_dead_letters(Session& s) {
    Channel setup = s.channel();
    const auto dl = dead_letters(s, setup);
    const auto q = declare_and_publish(s, "q", 2, {{"x-dead-letter-exchange", dl.exchange},
                                                  {"x-dead-letter-routing-key", "dead"}});
    Channel ch = s.channel();
    auto a = s.get(ch, q, false);
    auto b = s.get(ch, q, false);
    s.nack(ch, b->delivery_tag);
    b = s.get(ch, q, false);
    s.reject(ch, b->delivery_tag, false);
    s.reject(ch, a->delivery_tag, false);
    await_counts(s, dl.queue, 2, 0);
    s.drain(setup, dl.queue);
}

// at-least-once dead-lettering (with reject-publish): a dead letter that reaches a queue leaves
// the quorum queue; one whose exchange does not exist is kept, but not counted as ready.
void at_least_once(Session& s) {
    Channel setup = s.channel();
    const auto dl = dead_letters(s, setup);
    const auto q = declare_and_publish(s, "q", 2, {{"x-dead-letter-strategy", "at-least-once"},
                                                  {"x-overflow", "reject-publish"},
                                                  {"x-dead-letter-exchange", dl.exchange}});
    Channel ch = s.channel();
    auto a = s.get(ch, q, false);
    s.reject(ch, a->delivery_tag, false);
    await_counts(s, dl.queue, 1, 0);
    s.count(ch, q);
    s.drain(setup, dl.queue);
    const auto nowhere = declare_and_publish(s, "nowhere", 2, {{"x-dead-letter-strategy", "at-least-once"},
                                                              {"x-overflow", "reject-publish"},
                                                              {"x-dead-letter-exchange", s.exchange_name("missing")}});
    a = s.get(ch, nowhere, false);
    s.reject(ch, a->delivery_tag, false);
    s.count(ch, nowhere);
    s.drain(ch, nowhere);
}

// ---- single active consumer and x-expires ----

// x-single-active-consumer on a quorum queue: the first consumer gets everything; the next
// takes over when it is cancelled, and gets what it held back when its channel closes; an
// exclusive consumer is refused.
void single_active_consumer(Session& s) {
    const auto q = declare_and_publish(s, "q", 5, {{"x-single-active-consumer", true}});
    Channel ch1 = s.channel();
    Channel ch2 = s.channel();
    s.basic_qos(ch1, 1);
    s.basic_qos(ch2, 1);
    auto& c1 = s.consume(ch1, q, "c1");
    auto& c2 = s.consume(ch2, q, "c2");
    s.await(c1, 1);
    s.settle(c2);
    s.ack(ch1, c1.deliveries.at(0).delivery_tag);
    s.await(c1, 2);
    s.settle(c2);
    Channel ch3 = s.channel();
    s.consume(ch3, q, "exclusive", {.exclusive = true});
    s.cancel(ch1, c1);
    s.await(c2, 1);
    s.settle(c1);
    s.close(ch1);
    // m1 comes back when the queue sees ch1 go, which on RabbitMQ is after close-ok: an ack
    // sent before that lets m3 go first. Ready are m3 and m4 until then, m1 too after.
    s.eventually([&] { return s.peek_counts(q).value_or(QueueDeclareOk{}).message_count == 3; }, 10s);
    s.ack(ch2, c2.deliveries.at(0).delivery_tag);
    s.await(c2, 2);
    s.ack(ch2, c2.deliveries.at(1).delivery_tag);
    s.await(c2, 3);
    s.settle(c2);
}

// x-expires on a quorum queue is looked at on the queue's ticks, every 5 s from its
// declaration: a queue unused for x-expires goes at the next tick. basic.get and consumers are
// uses, a passive declare is not; a consumer cancelled while it holds a delivery still counts
// until that is settled. The waits fall between ticks, as far from them as they can.
void expires(Session& s) {
    const auto idle = declare_and_publish(s, "idle", 1, {{"x-expires", 1000}});
    const auto used = declare_and_publish(s, "used", 1, {{"x-expires", 1000}});
    const auto got = declare_and_publish(s, "got", 0, {{"x-expires", 4000}});
    const auto passive = declare_and_publish(s, "passive", 0, {{"x-expires", 4000}});
    Channel ch = s.channel();
    s.basic_qos(ch, 10);
    auto& c = s.consume(ch, used, "c");
    s.await(c, 1);
    s.wait(2500ms);
    Channel probe = s.channel();
    s.count(probe, used);
    s.count(probe, idle);
    s.get(probe, got);
    s.count(probe, passive);
    s.cancel(ch, c);
    s.count(probe, used);
    s.ack(ch, c.deliveries.at(0).delivery_tag);
    // The ack reaches the queue asynchronously.
    s.wait(300ms);
    s.count(probe, used);
    s.wait(4700ms);
    for (const auto& q : {idle, used, got, passive}) {
        probe = s.channel();
        s.count(probe, q);
    }
}

}  // namespace

void add_quorum_scenarios(Scenarios& out) {
    out.push_back({"quorum.declare_properties", declare_properties});
    out.push_back({"quorum.redeclare_properties", redeclare_properties});
    out.push_back({"quorum.declare_arguments", declare_arguments});
    out.push_back({"quorum.classic_refuses_quorum_arguments", classic_refuses_quorum_arguments});
    out.push_back({"quorum.equivalence", equivalence});
    out.push_back({"quorum.nack_goes_to_back", nack_goes_to_back});
    out.push_back({"quorum.reject_and_recover_go_to_back", reject_and_recover_go_to_back});
    out.push_back({"quorum.close_returns_to_front", close_returns_to_front});
    out.push_back({"quorum.consumer_delivery_count", consumer_delivery_count});
    out.push_back({"quorum.delivery_limit_drops", delivery_limit_drops});
    out.push_back({"quorum.delivery_limit_dead_letters", delivery_limit_dead_letters});
    out.push_back({"quorum.delivery_limit_on_close", delivery_limit_on_close});
    out.push_back({"quorum.global_qos_refused", global_qos_refused});
    out.push_back({"quorum.consume_arguments", consume_arguments});
    out.push_back({"quorum.prefetch_and_priority", prefetch_and_priority});
    out.push_back({"quorum.ttl_dead_letters", ttl_dead_letters});
    out.push_back({"quorum.max_length_drop_head", max_length_drop_head});
    out.push_back({"quorum.reject_publish", reject_publish});
    out.push_back({"quorum.reject_publish_dlx_drops_head", reject_publish_dlx_drops_head});
    out.push_back({"quorum.rejected_dead_letters", rejected_dead_letters});
    out.push_back({"quorum.at_least_once", at_least_once});
    out.push_back({"quorum.single_active_consumer", single_active_consumer});
    out.push_back({"quorum.expires", expires});
}

}  // namespace warren::conformance
