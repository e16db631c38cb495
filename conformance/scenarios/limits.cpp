// Queue length limits (x-max-length, x-max-length-bytes, x-overflow) and priority queues
// (x-max-priority).
//
// Publisher confirms are waited for one publish at a time wherever their outcome is written
// (write_events), so that what RabbitMQ coalesces does not show; counts follow confirms.
#include "scenario.hpp"

namespace warren::conformance {
namespace {

// ---- maxlen ----

void drop_head(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-length", 2}}});
    s.confirm_select(ch);
    for (int i = 1; i <= 4; ++i) s.publish(ch, "", q, fmt::format("m{}", i));
    s.wait_for_confirms(ch);
    s.count(ch, q);
    s.drain(ch, q);
}

// Messages dropped from the head are dead-lettered with reason maxlen, oldest first.
void drop_head_dead_letter(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = {{"x-max-length", 2}, {"x-dead-letter-exchange", d.exchange}}});
    s.confirm_select(ch);
    for (int i = 1; i <= 4; ++i)
        s.publish(ch, "", q, fmt::format("m{}", i), {.headers = {{"n", i}}, .expiration = "60000"});
    s.wait_for_confirms(ch);
    await_counts(s, d.queue, 2, 0);
    s.drain(ch, d.queue);
    s.drain(ch, q);
}

// reject-publish: a publish beyond the limit is nacked and dropped; only ready messages count,
// so one fetched and not yet acked makes room.
void reject_publish(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-length", 2}, {"x-overflow", "reject-publish"}}});
    auto& events = s.watch_events(ch);
    s.confirm_select(ch);
    for (int i = 1; i <= 4; ++i) publish_confirmed(s, ch, "", q, fmt::format("m{}", i));
    s.write_events(events);
    auto held = s.get(ch, q, false);
    publish_confirmed(s, ch, "", q, "m5");
    publish_confirmed(s, ch, "", q, "m6");
    s.write_events(events);
    if (held) s.ack(ch, held->delivery_tag);
    s.drain(ch, q);
}

// Without confirms the rejected publishes just disappear.
void reject_publish_without_confirms(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-length", 2}, {"x-overflow", "reject-publish"}}});
    for (int i = 1; i <= 4; ++i) s.publish(ch, "", q, fmt::format("m{}", i));
    s.drain(ch, q);
}

// reject-publish does not dead-letter what it rejects, even with a dead-letter exchange.
void reject_publish_ignores_dlx(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = {{"x-max-length", 1}, {"x-overflow", "reject-publish"},
                                           {"x-dead-letter-exchange", d.exchange}}});
    auto& events = s.watch_events(ch);
    s.confirm_select(ch);
    for (int i = 1; i <= 3; ++i) publish_confirmed(s, ch, "", q, fmt::format("m{}", i));
    s.write_events(events);
    s.count(ch, d.queue);
    s.drain(ch, q);
}

// reject-publish-dlx: nacked and dead-lettered with reason maxlen.
void reject_publish_dlx(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = {{"x-max-length", 1}, {"x-overflow", "reject-publish-dlx"},
                                           {"x-dead-letter-exchange", d.exchange}}});
    auto& events = s.watch_events(ch);
    s.confirm_select(ch);
    for (int i = 1; i <= 3; ++i)
        publish_confirmed(s, ch, "", q, fmt::format("m{}", i), {.headers = {{"CC", FieldArray{"cc"}}}});
    s.write_events(events);
    await_counts(s, d.queue, 2, 0);
    s.drain(ch, d.queue);
    s.drain(ch, q);
}

// A mandatory publish rejected by a full queue is nacked, not returned: the queue took it.
void reject_publish_mandatory(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-length", 1}, {"x-overflow", "reject-publish"}}});
    auto& events = s.watch_events(ch);
    s.confirm_select(ch);
    publish_confirmed(s, ch, "", q, "m1", {}, {.mandatory = true});
    s.write_events(events);
    publish_confirmed(s, ch, "", q, "m2", {}, {.mandatory = true});
    s.write_events(events);
    publish_confirmed(s, ch, "", s.queue_name("missing"), "m3", {}, {.mandatory = true});
    s.write_events(events);
    s.drain(ch, q);
}

// One of several queues rejecting: nacked, yet the other queues keep their copies.
void reject_publish_several_queues(Session& s) {
    const auto x = s.exchange_name("x");
    const auto full = s.queue_name("full"), open = s.queue_name("open");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "fanout");
    s.queue_declare(ch, full, {.arguments = {{"x-max-length", 1}, {"x-overflow", "reject-publish"}}});
    s.queue_declare(ch, open);
    s.queue_bind(ch, full, x);
    s.queue_bind(ch, open, x);
    auto& events = s.watch_events(ch);
    s.confirm_select(ch);
    for (int i = 1; i <= 3; ++i) publish_confirmed(s, ch, x, "", fmt::format("m{}", i));
    s.write_events(events);
    s.drain(ch, full);
    s.drain(ch, open);
}

// A requeue takes a reject-publish queue over its limit (nothing is dropped); publishes are
// rejected until it is back under.
void requeue_over_limit_reject_publish(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-length", 2}, {"x-overflow", "reject-publish"}}});
    auto& events = s.watch_events(ch);
    s.confirm_select(ch);
    publish_confirmed(s, ch, "", q, "m1");
    publish_confirmed(s, ch, "", q, "m2");
    auto held = s.get(ch, q, false);
    publish_confirmed(s, ch, "", q, "m3");
    if (held) s.reject(ch, held->delivery_tag, true);
    publish_confirmed(s, ch, "", q, "m4");
    s.write_events(events);
    s.count(ch, q);
    s.drain(ch, q);
}

// Only ready messages count: one out to a consumer leaves room for a full queue behind it.
void unacked_not_counted(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-length", 1}}});
    Channel consumer = s.channel();
    s.basic_qos(consumer, 1);
    auto& c = s.consume(consumer, q, "c");
    s.confirm_select(ch);
    s.publish(ch, "", q, "m1");
    s.wait_for_confirms(ch);
    s.await(c, 1);
    s.publish(ch, "", q, "m2");
    s.publish(ch, "", q, "m3");
    s.wait_for_confirms(ch);
    s.count(ch, q);
    if (!c.deliveries.empty()) s.ack(consumer, c.deliveries[0].delivery_tag);
    s.await(c, 2);
    if (c.deliveries.size() >= 2) s.ack(consumer, c.deliveries[1].delivery_tag);
    s.settle(c);
}

// Under drop-head the same requeue drops the head, which is the requeued message.
void requeue_drop_head(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = {{"x-max-length", 2}, {"x-dead-letter-exchange", d.exchange}}});
    s.confirm_select(ch);
    s.publish(ch, "", q, "m1");
    s.publish(ch, "", q, "m2");
    s.wait_for_confirms(ch);
    auto held = s.get(ch, q, false);
    s.publish(ch, "", q, "m3");
    s.wait_for_confirms(ch);
    if (held) s.reject(ch, held->delivery_tag, true);
    await_counts(s, d.queue, 1, 0);
    s.drain(ch, d.queue);
    s.drain(ch, q);
}

// x-max-length-bytes counts body bytes only: headers and properties are free.
void bytes_body_only(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-length-bytes", 6}}});
    s.confirm_select(ch);
    const BasicProperties heavy{.content_type = "application/octet-stream",
                                .headers = {{"padding", std::string(200, 'p')}},
                                .message_id = std::string(100, 'i')};
    s.publish(ch, "", q, "abc", heavy);
    s.publish(ch, "", q, "def", heavy);
    s.wait_for_confirms(ch);
    s.count(ch, q);
    s.publish(ch, "", q, "g");
    s.wait_for_confirms(ch);
    s.count(ch, q);
    s.drain(ch, q);
}

// reject-publish on bytes: a publish that would take the total past the limit is nacked; up to
// the limit exactly is fine.
void bytes_reject_publish(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-length-bytes", 5}, {"x-overflow", "reject-publish"}}});
    auto& events = s.watch_events(ch);
    s.confirm_select(ch);
    for (const char* body : {"abc", "de", "f", ""}) publish_confirmed(s, ch, "", q, body);
    s.write_events(events);
    s.get(ch, q);
    publish_confirmed(s, ch, "", q, "xyzw");
    publish_confirmed(s, ch, "", q, "fgh");
    s.write_events(events);
    s.drain(ch, q);
}

// A message larger than the byte limit on its own is dropped (dead-lettered) at once under
// drop-head; an empty body always fits.
void bytes_oversized(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = {{"x-max-length-bytes", 3}, {"x-dead-letter-exchange", d.exchange}}});
    s.confirm_select(ch);
    s.publish(ch, "", q, "abcd");
    s.publish(ch, "", q, "");
    s.publish(ch, "", q, "xyz");
    s.wait_for_confirms(ch);
    await_counts(s, d.queue, 1, 0);
    s.drain(ch, d.queue);
    s.drain(ch, q);
}

// Both limits at once: whichever is exceeded drops the head.
void both_limits(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-length", 3}, {"x-max-length-bytes", 5}}});
    for (const char* body : {"aa", "bb", "cc", "d", "e"}) s.publish(ch, "", q, body);
    s.drain(ch, q);
}

// x-max-length 0: drop-head delivers to a waiting consumer and drops otherwise; reject-publish
// rejects even with a consumer waiting.
void zero_length(Session& s) {
    const auto dh = s.queue_name("drop_head"), rp = s.queue_name("reject_publish");
    Channel ch = s.channel();
    s.queue_declare(ch, dh, {.arguments = {{"x-max-length", 0}}});
    s.queue_declare(ch, rp, {.arguments = {{"x-max-length", 0}, {"x-overflow", "reject-publish"}}});
    Channel consumer = s.channel();
    auto& c1 = s.consume(consumer, dh, "c1", {.no_ack = true});
    auto& c2 = s.consume(consumer, rp, "c2", {.no_ack = true});
    auto& events = s.watch_events(ch);
    s.confirm_select(ch);
    publish_confirmed(s, ch, "", dh, "to-drop-head");
    publish_confirmed(s, ch, "", rp, "to-reject-publish");
    s.write_events(events);
    s.await(c1, 1);
    s.settle(c2);
    s.cancel(consumer, c1);
    publish_confirmed(s, ch, "", dh, "no-consumer");
    s.write_events(events);
    s.count(ch, dh);
    s.count(ch, rp);
}

void length_arguments(Session& s) {
    const auto q = s.queue_name("q");
    const std::vector<FieldTable> attempts = {
        {{"x-max-length", "10"}},
        {{"x-max-length", 1.5}},
        {{"x-max-length-bytes", -1}},
        {{"x-max-length-bytes", "10"}},
        {{"x-overflow", 1}},
        {{"x-overflow", ""}},
        {{"x-overflow", "Drop-Head"}},
        {{"x-max-length", 0}, {"x-max-length-bytes", 0}},
        {{"x-overflow", "reject-publish-dlx"}},
    };
    for (const auto& args : attempts) {
        Channel ch = s.channel();
        s.queue_declare(ch, q, {.arguments = args});
        if (ch.is_open()) s.queue_delete(ch, q);
    }
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-length", 5}, {"x-overflow", "drop-head"}}});
    s.queue_declare(ch, q, {.arguments = {{"x-max-length", std::int64_t{5}}, {"x-overflow", "drop-head"}}});
    s.queue_declare(ch, q, {.arguments = {{"x-max-length", 5}}});
    ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-length", 5}, {"x-overflow", "reject-publish"}}});
    ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-length", 6}, {"x-overflow", "drop-head"}}});
}

// ---- priority ----

BasicProperties prio(std::uint8_t p) { return {.priority = p}; }

// Higher priority first, FIFO within a level, no priority as 0.
void priority_order(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-priority", 10}}});
    s.publish(ch, "", q, "none-1");
    s.publish(ch, "", q, "p5-a", prio(5));
    s.publish(ch, "", q, "p10", prio(10));
    s.publish(ch, "", q, "p1", prio(1));
    s.publish(ch, "", q, "p5-b", prio(5));
    s.publish(ch, "", q, "none-2");
    s.publish(ch, "", q, "p0", prio(0));
    s.drain(ch, q);
}

// A priority above the maximum counts as the maximum (the property is left as sent).
void priority_above_max(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-priority", 3}}});
    s.publish(ch, "", q, "p9", prio(9));
    s.publish(ch, "", q, "p3", prio(3));
    s.publish(ch, "", q, "p2", prio(2));
    s.publish(ch, "", q, "p255", prio(255));
    s.publish(ch, "", q, "p4", prio(4));
    s.drain(ch, q);
}

// A requeued message goes back to the front of its own level.
void priority_requeue(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-priority", 5}}});
    s.publish(ch, "", q, "a-p1", prio(1));
    s.publish(ch, "", q, "b-p5", prio(5));
    s.publish(ch, "", q, "c-p5", prio(5));
    auto held = s.get(ch, q, false);
    s.publish(ch, "", q, "d-p3", prio(3));
    s.publish(ch, "", q, "e-p5", prio(5));
    if (held) s.reject(ch, held->delivery_tag, true);
    s.drain(ch, q);
}

// drop-head on a priority queue drops what a get would take: the highest priority.
void priority_drop_head(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-priority", 5}, {"x-max-length", 2}}});
    s.publish(ch, "", q, "low", prio(1));
    s.publish(ch, "", q, "high", prio(5));
    s.publish(ch, "", q, "mid", prio(3));
    s.publish(ch, "", q, "none");
    s.drain(ch, q);
}

// A consumer (prefetch 1, acking each) is fed in priority order.
void priority_consumer(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-priority", 10}}});
    s.confirm_select(ch);
    const std::pair<const char*, std::uint8_t> messages[] = {{"p2", 2}, {"p7", 7}, {"p0", 0}, {"p9", 9}, {"p7b", 7}};
    for (const auto& [body, p] : messages) s.publish(ch, "", q, body, prio(p));
    s.wait_for_confirms(ch);
    Channel consumer = s.channel();
    s.basic_qos(consumer, 1);
    auto& c = s.consume(consumer, q, "c", {},
                        [](Channel& c, const Delivery& d) { c.basic_ack(d.delivery_tag); });
    s.await(c, 5);
}

// Without x-max-priority the priority property is ignored: FIFO.
void priority_plain_queue(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    s.publish(ch, "", q, "p1", prio(1));
    s.publish(ch, "", q, "p9", prio(9));
    s.publish(ch, "", q, "none");
    s.drain(ch, q);
}

// Dead letters keep their priority and are ordered by it in a priority queue.
void priority_dead_letter(Session& s) {
    const auto q = s.queue_name("q"), dq = s.queue_name("dead");
    Channel ch = s.channel();
    s.queue_declare(ch, dq, {.arguments = {{"x-max-priority", 5}}});
    s.queue_declare(ch, q, {.arguments = {{"x-dead-letter-exchange", ""}, {"x-dead-letter-routing-key", dq}}});
    s.publish(ch, "", q, "low", prio(1));
    s.publish(ch, "", q, "high", prio(5));
    s.get(ch, q, false);
    auto b = s.get(ch, q, false);
    if (b) s.nack(ch, b->delivery_tag, true, false);
    await_counts(s, dq, 2, 0);
    s.drain(ch, dq);
}

void priority_arguments(Session& s) {
    const auto q = s.queue_name("q");
    const std::vector<FieldTable> attempts = {
        {{"x-max-priority", 256}},
        {{"x-max-priority", -1}},
        {{"x-max-priority", "5"}},
        {{"x-max-priority", 255}},
        {{"x-max-priority", 0}},
    };
    for (const auto& args : attempts) {
        Channel ch = s.channel();
        s.queue_declare(ch, q, {.arguments = args});
        if (ch.is_open()) s.queue_delete(ch, q);
    }
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-priority", 5}}});
    s.queue_declare(ch, q, {.arguments = {{"x-max-priority", std::uint8_t{5}}}});
    s.queue_declare(ch, q, {.arguments = {{"x-max-priority", 10}}});
    ch = s.channel();
    s.queue_declare(ch, q);
}

}  // namespace

void add_limits_scenarios(Scenarios& out) {
    out.push_back({"maxlen.drop_head", drop_head});
    out.push_back({"maxlen.drop_head_dead_letter", drop_head_dead_letter});
    out.push_back({"maxlen.reject_publish", reject_publish});
    out.push_back({"maxlen.reject_publish_without_confirms", reject_publish_without_confirms});
    out.push_back({"maxlen.reject_publish_ignores_dlx", reject_publish_ignores_dlx});
    out.push_back({"maxlen.reject_publish_dlx", reject_publish_dlx});
    out.push_back({"maxlen.reject_publish_mandatory", reject_publish_mandatory});
    out.push_back({"maxlen.reject_publish_several_queues", reject_publish_several_queues});
    out.push_back({"maxlen.requeue_over_limit_reject_publish", requeue_over_limit_reject_publish});
    out.push_back({"maxlen.requeue_drop_head", requeue_drop_head});
    out.push_back({"maxlen.unacked_not_counted", unacked_not_counted});
    out.push_back({"maxlen.bytes_body_only", bytes_body_only});
    out.push_back({"maxlen.bytes_reject_publish", bytes_reject_publish});
    out.push_back({"maxlen.bytes_oversized", bytes_oversized});
    out.push_back({"maxlen.both_limits", both_limits});
    out.push_back({"maxlen.zero_length", zero_length});
    out.push_back({"maxlen.arguments", length_arguments});
    out.push_back({"priority.order", priority_order});
    out.push_back({"priority.above_max", priority_above_max});
    out.push_back({"priority.requeue", priority_requeue});
    out.push_back({"priority.drop_head", priority_drop_head});
    out.push_back({"priority.consumer", priority_consumer});
    out.push_back({"priority.plain_queue", priority_plain_queue});
    out.push_back({"priority.dead_letter", priority_dead_letter});
    out.push_back({"priority.arguments", priority_arguments});
}

}  // namespace warren::conformance
