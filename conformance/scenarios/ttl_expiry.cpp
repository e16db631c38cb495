// Time: message TTL (x-message-ttl and the expiration property) and queue expiry (x-expires).
//
// Every wait is comfortably longer than the TTL it outlasts (at least 100 ms of slack on a real
// broker), and whatever RabbitMQ does asynchronously (dead-lettering, deleting an expired queue)
// is awaited with a bounded poll (await_counts, await_queue_gone).
#include "scenario.hpp"

namespace warren::conformance {
namespace {

FieldTable with_dlx(const std::string& dlx, FieldTable args = {}) {
    args.set("x-dead-letter-exchange", dlx);
    return args;
}

// ---- ttl ----

// Expiration values RabbitMQ refuses: the publish closes the channel with 406.
void expiration_invalid(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    for (const char* expiration : {"abc", "-1", "1.5", "", "10x", "315360000001", " 100", "1e3", "99999999999999999999"}) {
        Channel c = s.channel();
        s.publish(c, "", q, "m", {.expiration = expiration});
        s.count(c, q);
    }
    s.count(ch, q);
}

// Expiration values RabbitMQ takes, kept verbatim on the message.
void expiration_valid_forms(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    for (const char* expiration : {"60000", "060000", "+60000", "315360000000"})
        s.publish(ch, "", q, fmt::format("exp {}", expiration), {.expiration = expiration});
    s.drain(ch, q);
}

// The queue's TTL and the message's expiration: the smaller one applies, and neither rewrites
// the expiration property.
void smaller_wins(Session& s) {
    const auto long_q = s.queue_name("long"), short_q = s.queue_name("short");
    Channel ch = s.channel();
    s.queue_declare(ch, long_q, {.arguments = {{"x-message-ttl", 60000}}});
    s.queue_declare(ch, short_q, {.arguments = {{"x-message-ttl", 100}}});
    s.publish(ch, "", long_q, "message-100", {.expiration = "100"});
    s.publish(ch, "", long_q, "message-120000", {.expiration = "120000"});
    s.publish(ch, "", long_q, "no-expiration");
    s.publish(ch, "", short_q, "message-60000", {.expiration = "60000"});
    s.publish(ch, "", short_q, "no-expiration");
    s.wait(400ms);
    s.drain(ch, long_q);
    s.drain(ch, short_q);
}

// TTL 0 without a consumer: gone at once. A message behind a live one is dropped as soon as it
// reaches the head (the get-ok already counts it out).
void zero_without_consumer(Session& s) {
    const auto q_ttl = s.queue_name("queue_ttl"), q = s.queue_name("plain");
    Channel ch = s.channel();
    s.queue_declare(ch, q_ttl, {.arguments = {{"x-message-ttl", 0}}});
    s.queue_declare(ch, q);
    s.publish(ch, "", q_ttl, "queue-ttl-0");
    s.get(ch, q_ttl);
    s.publish(ch, "", q, "expiration-0", {.expiration = "0"});
    s.get(ch, q);
    s.publish(ch, "", q, "stays");
    s.publish(ch, "", q, "behind", {.expiration = "0"});
    s.get(ch, q);
    s.get(ch, q);
}

// TTL 0 with a consumer ready to take the message: delivered.
void zero_with_consumer(Session& s) {
    const auto q_ttl = s.queue_name("queue_ttl"), q = s.queue_name("plain");
    Channel ch = s.channel();
    s.queue_declare(ch, q_ttl, {.arguments = {{"x-message-ttl", 0}}});
    s.queue_declare(ch, q);
    Channel consumer1 = s.channel(), consumer2 = s.channel();
    auto& c1 = s.consume(consumer1, q_ttl, "c1", {.no_ack = true});
    auto& c2 = s.consume(consumer2, q, "c2", {.no_ack = true});
    s.publish(ch, "", q_ttl, "queue-ttl-0");
    s.publish(ch, "", q_ttl, "queue-ttl-0 again");
    s.publish(ch, "", q, "expiration-0", {.expiration = "0"});
    s.await(c1, 2);
    s.await(c2, 1);
    s.count(ch, q_ttl);
    s.count(ch, q);
}

// TTL 0 with a consumer that has no room (prefetch 1, one unacknowledged): the message expires
// (here into a dead-letter queue) and never reaches the consumer.
void zero_consumer_busy(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = with_dlx(d.exchange, {{"x-message-ttl", 0}})});
    Channel consumer = s.channel();
    s.basic_qos(consumer, 1);
    auto& c = s.consume(consumer, q, "c");
    s.publish(ch, "", q, "m1");
    s.await(c, 1);
    s.publish(ch, "", q, "m2");
    await_counts(s, d.queue, 1, 0);
    if (!c.deliveries.empty()) s.ack(consumer, c.deliveries[0].delivery_tag);
    s.settle(c);
    s.drain(ch, d.queue);
}

// Per-message TTL is applied at the head only: an expired message behind a live one stays
// (and is counted) until it reaches the head.
void head_blocks(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    s.confirm_select(ch);
    s.publish(ch, "", q, "long", {.expiration = "60000"});
    s.publish(ch, "", q, "short", {.expiration = "50"});
    s.wait_for_confirms(ch);
    s.wait(300ms);
    s.count(ch, q);
    s.get(ch, q);
    s.get(ch, q);
}

// The same, with a dead-letter exchange: the short one is dead-lettered only once the long one
// has left the head.
void head_blocks_dead_letter(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = with_dlx(d.exchange)});
    s.confirm_select(ch);
    s.publish(ch, "", q, "long", {.expiration = "60000"});
    s.publish(ch, "", q, "short", {.expiration = "50"});
    s.wait_for_confirms(ch);
    s.wait(300ms);
    s.count(ch, q);
    s.count(ch, d.queue);
    s.get(ch, q);
    await_counts(s, d.queue, 1, 0);
    s.drain(ch, d.queue);
}

// Messages that expired under the queue's TTL are never delivered to a later consumer.
void queue_ttl_never_delivered(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-message-ttl", 100}}});
    s.confirm_select(ch);
    for (int i = 1; i <= 3; ++i) s.publish(ch, "", q, fmt::format("m{}", i));
    s.wait_for_confirms(ch);
    s.wait(350ms);
    Channel consumer = s.channel();
    auto& c = s.consume(consumer, q, "c");
    s.settle(c);
    s.count(ch, q);
}

// Messages waiting behind a busy consumer expire; acking the first one later brings nothing.
void expire_while_consumer_busy(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-message-ttl", 150}}});
    Channel consumer = s.channel();
    s.basic_qos(consumer, 1);
    auto& c = s.consume(consumer, q, "c");
    for (int i = 1; i <= 3; ++i) s.publish(ch, "", q, fmt::format("m{}", i));
    s.await(c, 1);
    s.wait(400ms);
    if (!c.deliveries.empty()) s.ack(consumer, c.deliveries[0].delivery_tag);
    s.settle(c);
    s.count(ch, q);
}

// A requeued message keeps the expiry it got when first enqueued: m1 (enqueued at 0, TTL 400,
// requeued at 200) is gone at 500, while m2 (enqueued at 200) is still there.
void requeue_keeps_expiry(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-message-ttl", 400}}});
    s.publish(ch, "", q, "m1");
    auto held = s.get(ch, q, false);
    s.wait(200ms);
    if (held) s.reject(ch, held->delivery_tag, true);
    s.publish(ch, "", q, "m2");
    s.wait(300ms);
    s.get(ch, q);
    s.get(ch, q);
}

// A message unacknowledged past its TTL is not expired while out; requeued, it is dead-lettered
// as expired at once.
void requeue_expired_dead_letter(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = with_dlx(d.exchange, {{"x-message-ttl", 100}})});
    s.publish(ch, "", q, "m1", {.message_id = "id-1"});
    auto held = s.get(ch, q, false);
    s.wait(300ms);
    s.count(ch, d.queue);
    if (held) s.reject(ch, held->delivery_tag, true);
    await_counts(s, d.queue, 1, 0);
    s.get(ch, q);
    s.drain(ch, d.queue);
}

// x-message-ttl values RabbitMQ refuses, and equivalence on redeclare.
void queue_ttl_arguments(Session& s) {
    const auto q = s.queue_name("q");
    const std::vector<FieldTable> attempts = {
        {{"x-message-ttl", std::int64_t{315360000001}}},
        {{"x-message-ttl", 100.0}},
        {{"x-message-ttl", true}},
        {{"x-message-ttl", std::int64_t{315360000000}}},
        {{"x-message-ttl", 0}},
    };
    for (const auto& args : attempts) {
        Channel ch = s.channel();
        s.queue_declare(ch, q, {.arguments = args});
        if (ch.is_open()) s.queue_delete(ch, q);
    }
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-message-ttl", 1000}}});
    s.queue_declare(ch, q, {.arguments = {{"x-message-ttl", 2000}}});
    ch = s.channel();
    s.queue_declare(ch, q);
}

// ---- expires ----

// An unused queue goes after its x-expires, with its messages; they are not dead-lettered.
void expires_unused_deleted(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = with_dlx(d.exchange, {{"x-expires", 150}})});
    s.publish(ch, "", q, "m1");
    s.wait(450ms);
    await_queue_gone(s, q);
    s.count(ch, d.queue);
}

// Publishing is not use: a queue published to all along still expires on time.
void expires_publish_does_not_count(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-expires", 300}}});
    s.publish(ch, "", q, "m1");
    s.wait(120ms);
    s.publish(ch, "", q, "m2");
    s.wait(120ms);
    s.publish(ch, "", q, "m3");
    s.wait(300ms);
    await_queue_gone(s, q);
}

// A use (`use`) 200 ms in restarts the 300 ms period: at 400 ms the queue is there (and that
// passive declare restarts it once more); long after, it is gone.
void expires_renewed_by(Session& s, const std::function<void(Session&, Channel&, const std::string&)>& use) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-expires", 300}}});
    s.wait(200ms);
    use(s, ch, q);
    s.wait(200ms);
    s.count(ch, q);
    s.wait(500ms);
    await_queue_gone(s, q);
}

void expires_get_renews(Session& s) {
    expires_renewed_by(s, [](Session& s, Channel& ch, const std::string& q) { s.get(ch, q); });
}

void expires_redeclare_renews(Session& s) {
    expires_renewed_by(s, [](Session& s, Channel& ch, const std::string& q) {
        s.queue_declare(ch, q, {.arguments = {{"x-expires", 300}}});
    });
}

void expires_passive_declare_renews(Session& s) {
    expires_renewed_by(s, [](Session& s, Channel& ch, const std::string& q) { s.count(ch, q); });
}

// A consumer keeps the queue; its cancel starts a full period.
void expires_consumer_prevents(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-expires", 150}}});
    Channel consumer = s.channel();
    auto& c = s.consume(consumer, q, "c");
    s.wait(400ms);
    s.count(ch, q);
    s.cancel(consumer, c);
    s.count(ch, q);
    s.wait(450ms);
    await_queue_gone(s, q);
}

// An unacknowledged message fetched with basic.get does not keep the queue; acking it after the
// queue is gone is no error.
void expires_unacked_does_not_keep(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-expires", 150}}});
    s.publish(ch, "", q, "m1");
    auto held = s.get(ch, q, false);
    s.wait(450ms);
    await_queue_gone(s, q);
    if (held) s.ack(ch, held->delivery_tag);
    s.queue_declare(ch, s.queue_name("after"));
}

// x-expires values RabbitMQ refuses, and equivalence on redeclare.
void expires_arguments(Session& s) {
    const auto q = s.queue_name("q");
    const std::vector<FieldTable> attempts = {
        {{"x-expires", -1}},
        {{"x-expires", "100"}},
        {{"x-expires", 1.5}},
        {{"x-expires", std::int64_t{315360000001}}},
        {{"x-expires", std::int64_t{315360000000}}},
        {{"x-expires", 1}},
    };
    for (const auto& args : attempts) {
        Channel ch = s.channel();
        s.queue_declare(ch, q, {.arguments = args});
        if (ch.is_open()) s.queue_delete(ch, q);
    }
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-expires", 60000}}});
    s.queue_declare(ch, q, {.arguments = {{"x-expires", std::int64_t{60000}}}});
    s.queue_declare(ch, q, {.arguments = {{"x-expires", 30000}}});
    ch = s.channel();
    s.queue_declare(ch, q);
}

}  // namespace

void add_ttl_expiry_scenarios(Scenarios& out) {
    out.push_back({"ttl.expiration_invalid", expiration_invalid});
    out.push_back({"ttl.expiration_valid_forms", expiration_valid_forms});
    out.push_back({"ttl.smaller_wins", smaller_wins});
    out.push_back({"ttl.zero_without_consumer", zero_without_consumer});
    out.push_back({"ttl.zero_with_consumer", zero_with_consumer});
    out.push_back({"ttl.zero_consumer_busy", zero_consumer_busy});
    out.push_back({"ttl.head_blocks", head_blocks});
    out.push_back({"ttl.head_blocks_dead_letter", head_blocks_dead_letter});
    out.push_back({"ttl.queue_ttl_never_delivered", queue_ttl_never_delivered});
    out.push_back({"ttl.expire_while_consumer_busy", expire_while_consumer_busy});
    out.push_back({"ttl.requeue_keeps_expiry", requeue_keeps_expiry});
    out.push_back({"ttl.requeue_expired_dead_letter", requeue_expired_dead_letter});
    out.push_back({"ttl.queue_ttl_arguments", queue_ttl_arguments});
    out.push_back({"expires.unused_deleted", expires_unused_deleted});
    out.push_back({"expires.publish_does_not_count", expires_publish_does_not_count});
    out.push_back({"expires.get_renews", expires_get_renews});
    out.push_back({"expires.redeclare_renews", expires_redeclare_renews});
    out.push_back({"expires.passive_declare_renews", expires_passive_declare_renews});
    out.push_back({"expires.consumer_prevents", expires_consumer_prevents});
    out.push_back({"expires.unacked_does_not_keep", expires_unacked_does_not_keep});
    out.push_back({"expires.arguments", expires_arguments});
}

}  // namespace warren::conformance
