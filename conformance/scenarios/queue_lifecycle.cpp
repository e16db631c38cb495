// Queue lifecycles: exclusive and auto-delete queues, auto-delete exchanges, server-named
// queues, purge and delete with their counts and conditions.
#include "scenario.hpp"

namespace warren::conformance {
namespace {

// What another connection may do with an exclusive queue: nothing (405 RESOURCE_LOCKED).
void exclusive_other_connection(Session& s) {
    const auto q = s.queue_name("q");
    const auto x = s.exchange_name("x");
    Channel owner = s.channel();
    s.queue_declare(owner, q, {.exclusive = true});
    s.exchange_declare(owner, x, "direct");
    s.confirm_select(owner);
    s.publish(owner, "", q, "m1");
    s.wait_for_confirms(owner);
    Connection& other = s.connect();
    const std::vector<std::pair<std::string, std::function<void(Channel&)>>> calls = {
        {"declare", [&](Channel& ch) { ch.queue_declare(q, {.exclusive = true}); }},
        {"declare non-exclusive", [&](Channel& ch) { ch.queue_declare(q); }},
        {"declare passive", [&](Channel& ch) { ch.queue_declare(q, {.passive = true}); }},
        {"basic.get", [&](Channel& ch) { ch.basic_get(q, true); }},
        {"basic.consume", [&](Channel& ch) { ch.basic_consume(q, [](const Delivery&) {}); }},
        {"queue.bind", [&](Channel& ch) { ch.queue_bind(q, x, "k"); }},
        {"queue.unbind", [&](Channel& ch) { ch.queue_unbind(q, x, "k"); }},
        {"queue.purge", [&](Channel& ch) { ch.queue_purge(q); }},
        {"queue.delete", [&](Channel& ch) { ch.queue_delete(q); }},
    };
    for (const auto& [label, call] : calls) {
        Channel ch = other.channel();
        s.attempt(fmt::format("other connection {}", label), [&] { call(ch); });
    }
    // The owner's other channels may.
    Channel second = s.channel();
    s.queue_declare(second, q, {.exclusive = true});
    s.get(second, q);
}

void exclusive_gone_with_connection(Session& s) {
    const auto q = s.queue_name("q");
    Connection& owner = s.connect();
    Channel ch = owner.channel();
    s.queue_declare(ch, q, {.exclusive = true});
    s.attempt("owner connection close", [&] { owner.close(); });
    await_queue_gone(s, q);
    Channel other = s.connect().channel();
    s.queue_declare(other, q, {.exclusive = true});
}

void exclusive_redeclare_non_exclusive(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.exclusive = true});
    s.queue_declare(ch, q);
    ch = s.channel();
    s.queue_declare(ch, q, {.exclusive = true, .auto_delete = true});
    const auto q2 = s.queue_name("q2");
    ch = s.channel();
    s.queue_declare(ch, q2);
    s.queue_declare(ch, q2, {.exclusive = true});
}

// An auto-delete queue goes when its last consumer is cancelled, not before.
void auto_delete_after_last_cancel(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.auto_delete = true});
    s.confirm_select(ch);
    s.publish(ch, "", q, "m1");
    s.wait_for_confirms(ch);
    s.count(ch, q);
    auto& c1 = s.consume(ch, q, "c1");
    auto& c2 = s.consume(ch, q, "c2");
    s.await(c1, 1);
    s.ack(ch, c1.deliveries.empty() ? 1 : c1.deliveries[0].delivery_tag);
    s.cancel(ch, c1);
    s.count(ch, q);
    s.cancel(ch, c2);
    await_queue_gone(s, q);
}

void auto_delete_never_consumed(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.auto_delete = true});
    s.publish(ch, "", q, "m1");
    s.get(ch, q);
    s.count(ch, q);
}

void auto_delete_on_channel_close(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.auto_delete = true});
    Channel consumer = s.channel();
    s.consume(consumer, q, "c1");
    s.count(ch, q);
    s.close(consumer);
    await_queue_gone(s, q);
}

// An auto-delete exchange goes when its last binding (as source) goes.
void auto_delete_exchange_after_unbind(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q1 = s.queue_name("q1"), q2 = s.queue_name("q2");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "direct", {.auto_delete = true});
    s.queue_declare(ch, q1);
    s.queue_declare(ch, q2);
    s.exchange_declare(ch, x, "direct", {.passive = true});
    s.queue_bind(ch, q1, x, "a");
    s.queue_bind(ch, q2, x, "b");
    s.queue_unbind(ch, q1, x, "a");
    s.exchange_declare(ch, x, "direct", {.passive = true});
    s.queue_unbind(ch, q2, x, "b");
    await_exchange_gone(s, x);
}

void auto_delete_exchange_queue_deleted(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "fanout", {.auto_delete = true});
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, x);
    s.queue_delete(ch, q);
    await_exchange_gone(s, x);
}

void auto_delete_exchange_e2e(Session& s) {
    const auto src = s.exchange_name("src"), dst = s.exchange_name("dst");
    Channel ch = s.channel();
    s.exchange_declare(ch, src, "fanout", {.auto_delete = true});
    s.exchange_declare(ch, dst, "fanout", {.auto_delete = true});
    s.exchange_bind(ch, dst, src);
    s.exchange_unbind(ch, dst, src);
    await_exchange_gone(s, src);
    // The destination had no binding of its own as source: it stays.
    s.exchange_declare(ch, dst, "fanout", {.passive = true});
}

void auto_delete_exchange_never_bound(Session& s) {
    const auto x = s.exchange_name("x");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "topic", {.auto_delete = true});
    s.exchange_declare(ch, x, "topic", {.passive = true});
}

void server_named(Session& s) {
    Channel ch = s.channel();
    auto a = s.queue_declare(ch, "");
    auto b = s.queue_declare(ch, "", {.exclusive = true});
    if (!a || !b) return;
    s.note("names differ: {}", a->queue != b->queue);
    s.publish(ch, "", a->queue, "m1");
    s.get(ch, a->queue);
    s.queue_declare(ch, a->queue, {.passive = true});
    s.queue_delete(ch, a->queue);
    s.queue_delete(ch, b->queue);
}

void purge_counts(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    for (int i = 1; i <= 4; ++i) s.publish(ch, "", q, fmt::format("m{}", i));
    auto held = s.get(ch, q, false);
    s.queue_purge(ch, q);
    s.queue_purge(ch, q);
    s.count(ch, q);
    // The unacknowledged message was not purged: it comes back.
    if (held) s.reject(ch, held->delivery_tag, true);
    s.drain(ch, q);
    ch = s.channel();
    s.queue_purge(ch, s.queue_name("missing"));
}

void delete_counts(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    for (int i = 1; i <= 3; ++i) s.publish(ch, "", q, fmt::format("m{}", i));
    s.get(ch, q, false);
    s.queue_delete(ch, q);
    s.queue_delete(ch, q);
    s.queue_delete(ch, s.queue_name("missing"));
    s.count(ch, q);
}

void delete_if_empty(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    s.publish(ch, "", q, "m1");
    s.queue_delete(ch, q, {.if_empty = true});
    ch = s.channel();
    s.get(ch, q);
    s.queue_delete(ch, q, {.if_empty = true});
}

void delete_if_unused(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    Channel consumer = s.channel();
    auto& c = s.consume(consumer, q, "c1");
    s.queue_delete(ch, q, {.if_unused = true});
    ch = s.channel();
    s.cancel(consumer, c);
    s.publish(ch, "", q, "m1");
    s.queue_delete(ch, q, {.if_unused = true});
}

// Deleting a queue drops its bindings: redeclared, it gets nothing from the exchange.
void delete_drops_bindings(Session& s) {
    const auto q = s.queue_name("q");
    const auto x = s.exchange_name("x");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "fanout");
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, x);
    s.queue_delete(ch, q);
    s.queue_declare(ch, q);
    s.publish(ch, x, "", "m1");
    s.count(ch, q);
}

}  // namespace

void add_queue_lifecycle_scenarios(Scenarios& out) {
    out.push_back({"exclusive.other_connection", exclusive_other_connection});
    out.push_back({"exclusive.gone_with_connection", exclusive_gone_with_connection});
    out.push_back({"exclusive.redeclare_non_exclusive", exclusive_redeclare_non_exclusive});
    out.push_back({"auto_delete.after_last_cancel", auto_delete_after_last_cancel});
    out.push_back({"auto_delete.never_consumed", auto_delete_never_consumed});
    out.push_back({"auto_delete.on_channel_close", auto_delete_on_channel_close});
    out.push_back({"auto_delete.exchange_after_unbind", auto_delete_exchange_after_unbind});
    out.push_back({"auto_delete.exchange_queue_deleted", auto_delete_exchange_queue_deleted});
    out.push_back({"auto_delete.exchange_e2e", auto_delete_exchange_e2e});
    out.push_back({"auto_delete.exchange_never_bound", auto_delete_exchange_never_bound});
    out.push_back({"queue.server_named", server_named});
    out.push_back({"queue.purge_counts", purge_counts});
    out.push_back({"queue.delete_counts", delete_counts});
    out.push_back({"queue.delete_if_empty", delete_if_empty});
    out.push_back({"queue.delete_if_unused", delete_if_unused});
    out.push_back({"queue.delete_drops_bindings", delete_drops_bindings});
}

}  // namespace warren::conformance
