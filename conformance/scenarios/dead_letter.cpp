// Dead-lettering: x-dead-letter-exchange and x-dead-letter-routing-key, the reasons (rejected,
// expired; maxlen is in limits.cpp), the x-death header and x-first-death-*, routing of dead
// letters (routing key override, CC and BCC), cycles, and what is not dead-lettered.
//
// Dead letters reach their queue asynchronously on a real broker: the dead-letter queue's count
// is awaited (await_counts) before it is drained.
#include "scenario.hpp"

namespace warren::conformance {
namespace {

FieldTable dlx(std::string_view exchange) { return {{"x-dead-letter-exchange", std::string(exchange)}}; }

FieldTable dlx(std::string_view exchange, std::string_view key) {
    return {{"x-dead-letter-exchange", std::string(exchange)}, {"x-dead-letter-routing-key", std::string(key)}};
}

FieldTable with(FieldTable args, std::string key, FieldValue value) {
    args.set(std::move(key), std::move(value));
    return args;
}

BasicProperties some_properties() {
    BasicProperties p;
    p.content_type = "text/plain";
    p.headers = {{"zeta", 1}, {"alpha", "a"}, {"mid", FieldTable{{"b", 2}, {"a", 1}}}};
    p.delivery_mode = 2;
    p.priority = 3;
    p.correlation_id = "corr";
    p.message_id = "id-1";
    p.timestamp = Timestamp{1700000000};
    p.type = "kind";
    p.app_id = "app";
    return p;
}

// basic.get, then basic.reject without requeue: dead-lettered with reason "rejected", every
// property kept, headers extended with x-death and x-first-death-*.
void reject_get(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = dlx(d.exchange)});
    s.publish(ch, "", q, "m1", some_properties());
    auto held = s.get(ch, q, false);
    if (held) s.reject(ch, held->delivery_tag, false);
    await_counts(s, d.queue, 1, 0);
    s.count(ch, q);
    s.drain(ch, d.queue);
}

// Dead-lettering re-encodes the properties: an unsigned 64-bit header ('L'), alone or inside a
// table or an array, comes back as a signed long ('l') of the same 64 bits.
void uint64_header(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = dlx(d.exchange)});
    BasicProperties p;
    p.headers = {{"u64-max", std::uint64_t{18446744073709551615u}},
                 {"u64", std::uint64_t{7}},
                 {"table", FieldTable{{"n", std::uint64_t{9223372036854775809u}}}},
                 {"array", FieldArray{std::uint64_t{5}, "x"}}};
    s.publish(ch, "", q, "m1", p);
    auto held = s.get(ch, q, false);
    if (held) s.reject(ch, held->delivery_tag, false);
    await_counts(s, d.queue, 1, 0);
    s.drain(ch, d.queue);
}

// A consumer nacking without requeue; the dead letters arrive at a consumer of the dead-letter
// queue with redelivered=false, the DLX as exchange and the original routing key.
void nack_consumer(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.exchange_declare(ch, x, "direct");
    s.queue_declare(ch, q, {.arguments = dlx(d.exchange)});
    s.queue_bind(ch, q, x, "work");
    Channel dead_consumer = s.channel();
    auto& dead = s.consume(dead_consumer, d.queue, "dead", {.no_ack = true});
    Channel consumer = s.channel();
    auto& c = s.consume(consumer, q, "c", {},
                        [](Channel& c, const Delivery& d) { c.basic_nack(d.delivery_tag, false, false); });
    s.publish(ch, x, "work", "m1");
    s.publish(ch, x, "work", "m2");
    s.await(c, 2);
    s.await(dead, 2);
}

// nack multiple without requeue: every message up to the tag, in order.
void nack_multiple(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = dlx(d.exchange)});
    for (int i = 1; i <= 4; ++i) s.publish(ch, "", q, fmt::format("m{}", i));
    std::optional<Delivery> last;
    for (int i = 1; i <= 3; ++i) last = s.get(ch, q, false);
    if (last) s.nack(ch, last->delivery_tag, true, false);
    await_counts(s, d.queue, 3, 0);
    s.drain(ch, d.queue);
    s.drain(ch, q);
}

// Requeueing is no dead-lettering; a message redelivered and then rejected arrives in the
// dead-letter queue with redelivered=false.
void requeue_not_dead_lettered(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = dlx(d.exchange)});
    s.publish(ch, "", q, "m1");
    auto first = s.get(ch, q, false);
    if (first) s.reject(ch, first->delivery_tag, true);
    auto second = s.get(ch, q, false);
    if (second) s.nack(ch, second->delivery_tag, false, true);
    auto third = s.get(ch, q, false);
    s.count(ch, d.queue);
    if (third) s.reject(ch, third->delivery_tag, false);
    await_counts(s, d.queue, 1, 0);
    s.drain(ch, d.queue);
}

// Expired under the queue's TTL: reason "expired", no original-expiration.
void expired_queue_ttl(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = with(dlx(d.exchange), "x-message-ttl", 100)});
    s.publish(ch, "", q, "m1", {.headers = {{"h", 1}}});
    s.publish(ch, "", q, "m2");
    s.wait(350ms);
    await_counts(s, d.queue, 2, 0);
    s.drain(ch, d.queue);
}

// Expired under its own expiration: the property is removed and kept as original-expiration.
void expired_per_message(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = dlx(d.exchange)});
    s.publish(ch, "", q, "m1", {.content_type = "text/plain", .expiration = "100"});
    s.wait(350ms);
    await_counts(s, d.queue, 1, 0);
    s.drain(ch, d.queue);
}

// Expired under the queue's (smaller) TTL, a message with an expiration of its own still has that
// expiration moved into original-expiration.
void queue_ttl_keeps_original_expiration(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = with(dlx(d.exchange), "x-message-ttl", 100)});
    s.publish(ch, "", q, "m1", {.expiration = "60000"});
    s.wait(350ms);
    await_counts(s, d.queue, 1, 0);
    s.drain(ch, d.queue);
}

// Dead letters into a full reject-publish queue are dropped there, without a trace.
void into_full_queue(Session& s) {
    const auto q = s.queue_name("q"), full = s.queue_name("full");
    Channel ch = s.channel();
    s.queue_declare(ch, full, {.arguments = {{"x-max-length", 1}, {"x-overflow", "reject-publish"}}});
    s.queue_declare(ch, q, {.arguments = dlx("", full)});
    for (int i = 1; i <= 3; ++i) s.publish(ch, "", q, fmt::format("m{}", i));
    std::optional<Delivery> last;
    for (int i = 1; i <= 3; ++i) last = s.get(ch, q, false);
    if (last) s.nack(ch, last->delivery_tag, true, false);
    await_counts(s, full, 1, 0);
    s.count(ch, q);
    s.drain(ch, full);
}

// A rejected message loses its expiration just the same.
void reject_removes_expiration(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = dlx(d.exchange)});
    s.publish(ch, "", q, "m1", {.expiration = "60000"});
    auto held = s.get(ch, q, false);
    if (held) s.reject(ch, held->delivery_tag, false);
    await_counts(s, d.queue, 1, 0);
    s.drain(ch, d.queue);
}

// With x-dead-letter-routing-key the dead letter is routed by that key alone and loses its CC
// header; x-death still lists the keys it was published with.
void routing_key_override(Session& s) {
    const auto src = s.exchange_name("src"), dx = s.exchange_name("dx");
    const auto q = s.queue_name("q"), dead = s.queue_name("dead"), by_original = s.queue_name("by_original");
    Channel ch = s.channel();
    s.exchange_declare(ch, src, "direct");
    s.exchange_declare(ch, dx, "direct");
    s.queue_declare(ch, q, {.arguments = dlx(dx, "dead-key")});
    s.queue_declare(ch, dead);
    s.queue_declare(ch, by_original);
    s.queue_bind(ch, q, src, "k");
    s.queue_bind(ch, dead, dx, "dead-key");
    s.queue_bind(ch, by_original, dx, "k");
    s.queue_bind(ch, by_original, dx, "c1");
    s.publish(ch, src, "k", "m1", {.headers = {{"CC", FieldArray{"c1", "c2"}}, {"BCC", FieldArray{"b1"}}, {"h", 1}}});
    auto held = s.get(ch, q, false);
    if (held) s.reject(ch, held->delivery_tag, false);
    await_counts(s, dead, 1, 0);
    s.drain(ch, dead);
    s.count(ch, by_original);
}

// Without a dead-letter routing key the dead letter is routed by all the keys it was published
// with, CC and BCC included; the CC header stays, BCC never shows.
void original_keys(Session& s) {
    const auto src = s.exchange_name("src"), dx = s.exchange_name("dx");
    const auto q = s.queue_name("q"), dk = s.queue_name("dead_k"), dc = s.queue_name("dead_c"),
               db = s.queue_name("dead_b");
    Channel ch = s.channel();
    s.exchange_declare(ch, src, "direct");
    s.exchange_declare(ch, dx, "direct");
    s.queue_declare(ch, q, {.arguments = dlx(dx)});
    s.queue_bind(ch, q, src, "k");
    for (const auto& [dq, key] : std::vector<std::pair<std::string, std::string>>{{dk, "k"}, {dc, "c1"}, {db, "b1"}}) {
        s.queue_declare(ch, dq);
        s.queue_bind(ch, dq, dx, key);
    }
    s.publish(ch, src, "k", "m1", {.headers = {{"CC", FieldArray{"c1"}}, {"BCC", FieldArray{"b1"}}}});
    auto held = s.get(ch, q, false);
    if (held) s.reject(ch, held->delivery_tag, false);
    await_counts(s, db, 1, 0);
    s.drain(ch, dk);
    s.drain(ch, dc);
    s.drain(ch, db);
}

// A dead-letter exchange that does not exist: the message is dropped, silently.
void missing_exchange(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = dlx(s.exchange_name("missing"))});
    s.publish(ch, "", q, "m1");
    auto held = s.get(ch, q, false);
    if (held) s.reject(ch, held->delivery_tag, false);
    s.count(ch, q);
    s.note("channel open: {}", ch.is_open());
}

// A dead-letter exchange that routes nowhere: dropped; binding a queue later brings nothing.
void routes_nowhere(Session& s) {
    const auto x = s.exchange_name("dlx");
    const auto q = s.queue_name("q"), late = s.queue_name("late");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "direct");
    s.queue_declare(ch, q, {.arguments = dlx(x)});
    s.publish(ch, "", q, "m1");
    auto held = s.get(ch, q, false);
    if (held) s.reject(ch, held->delivery_tag, false);
    s.count(ch, q);
    s.queue_declare(ch, late);
    s.queue_bind(ch, late, x, q);
    s.publish(ch, "", q, "m2");
    held = s.get(ch, q, false);
    if (held) s.reject(ch, held->delivery_tag, false);
    await_counts(s, late, 1, 0);
    s.drain(ch, late);
}

// A queue whose expired messages are dead-lettered back into itself: a cycle, dropped at once.
// The witness bound to the same fanout gets its copy.
void cycle_ttl_self(Session& s) {
    const auto x = s.exchange_name("dlx");
    const auto q = s.queue_name("q"), witness = s.queue_name("witness"), via_default = s.queue_name("via_default");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "fanout");
    s.queue_declare(ch, q, {.arguments = with(dlx(x), "x-message-ttl", 100)});
    s.queue_declare(ch, witness);
    s.queue_bind(ch, q, x);
    s.queue_bind(ch, witness, x);
    s.queue_declare(ch, via_default, {.arguments = with(dlx(""), "x-message-ttl", 100)});
    s.publish(ch, "", q, "m1");
    s.publish(ch, "", via_default, "m2");
    s.wait(400ms);
    await_counts(s, witness, 1, 0);
    s.wait(300ms);
    s.count(ch, q);
    s.count(ch, via_default);
    s.drain(ch, witness);
}

// Two queues expiring into each other: the message goes round once and is dropped when it would
// reach the first queue again. A witness gets a copy of each dead-lettering.
void cycle_two_queues(Session& s) {
    const auto x1 = s.exchange_name("x1"), x2 = s.exchange_name("x2");
    const auto q1 = s.queue_name("q1"), q2 = s.queue_name("q2"), witness = s.queue_name("witness");
    Channel ch = s.channel();
    s.exchange_declare(ch, x1, "fanout");
    s.exchange_declare(ch, x2, "fanout");
    s.queue_declare(ch, q1, {.arguments = with(dlx(x1), "x-message-ttl", 100)});
    s.queue_declare(ch, q2, {.arguments = with(dlx(x2), "x-message-ttl", 100)});
    s.queue_declare(ch, witness);
    s.queue_bind(ch, q2, x1);
    s.queue_bind(ch, witness, x1);
    s.queue_bind(ch, q1, x2);
    s.queue_bind(ch, witness, x2);
    s.publish(ch, "", q1, "m1");
    s.wait(500ms);
    await_counts(s, witness, 2, 0);
    s.wait(200ms);
    s.count(ch, q1);
    s.count(ch, q2);
    s.drain(ch, witness);
}

// A cycle with a rejection in it is not dropped: q1 rejects into q2, q2 expires back into q1,
// twice round; x-death counts both.
void cycle_with_reject(Session& s) {
    const auto q1 = s.queue_name("q1"), q2 = s.queue_name("q2");
    Channel ch = s.channel();
    s.queue_declare(ch, q1, {.arguments = dlx("", q2)});
    s.queue_declare(ch, q2, {.arguments = with(dlx("", q1), "x-message-ttl", 100)});
    s.publish(ch, "", q1, "m1", {.headers = {{"CC", FieldArray{"nowhere"}}}});
    for (int round = 1; round <= 2; ++round) {
        auto held = s.get(ch, q1, false);
        if (held) s.reject(ch, held->delivery_tag, false);
        s.wait(350ms);
        await_counts(s, q1, 1, 0);
    }
    s.drain(ch, q1);
    s.count(ch, q2);
}

// The retry pattern: a work queue rejects into a delay queue, which expires back into the work
// exchange. The consumer sees each round with x-death counts going up.
void retry_loop(Session& s) {
    const auto work_x = s.exchange_name("work");
    const auto work = s.queue_name("work"), delay = s.queue_name("delay");
    Channel ch = s.channel();
    s.exchange_declare(ch, work_x, "direct");
    s.queue_declare(ch, work, {.arguments = dlx("", delay)});
    s.queue_declare(ch, delay, {.arguments = with(dlx(work_x, "job"), "x-message-ttl", 50)});
    s.queue_bind(ch, work, work_x, "job");
    Channel consumer = s.channel();
    auto& c = s.consume(consumer, work, "c", {}, [](Channel& c, const Delivery& d) {
        const FieldValue* deaths = d.message.properties.headers.find("x-death");
        std::int64_t rejected = 0;
        if (deaths != nullptr && deaths->type() == FieldValue::Type::Array)
            for (const auto& entry : deaths->as_array())
                if (entry.type() == FieldValue::Type::Table && entry.as_table().find("reason") != nullptr &&
                    entry.as_table().at("reason").as_string() == "rejected")
                    rejected = entry.as_table().at("count").as_int();
        if (rejected >= 3) c.basic_ack(d.delivery_tag);
        else c.basic_reject(d.delivery_tag, false);
    });
    s.publish(ch, work_x, "job", "task", {.message_id = "task-1"});
    s.await(c, 1);
    for (std::size_t round = 2; round <= 4; ++round) {
        s.wait(200ms);
        s.await(c, round);
    }
    s.settle(c);
    s.count(ch, work);
    s.count(ch, delay);
}

// New (queue, reason) pairs add an entry at the front (and RabbitMQ regroups the entries already
// there, which shows from the third death on); x-first-death-* stay as first set.
void new_entries(Session& s) {
    const auto q1 = s.queue_name("q1"), q2 = s.queue_name("q2"), q3 = s.queue_name("q3"), q4 = s.queue_name("q4"),
               q5 = s.queue_name("q5");
    Channel ch = s.channel();
    s.queue_declare(ch, q1, {.arguments = dlx("", q2)});
    s.queue_declare(ch, q2, {.arguments = with(dlx("", q3), "x-message-ttl", 100)});
    s.queue_declare(ch, q3, {.arguments = dlx("", q4)});
    s.queue_declare(ch, q4, {.arguments = dlx("", q5)});
    s.queue_declare(ch, q5);
    s.publish(ch, "", q1, "m1");
    auto held = s.get(ch, q1, false);
    if (held) s.reject(ch, held->delivery_tag, false);
    s.wait(350ms);
    await_counts(s, q3, 1, 0);
    for (const auto& q : {q3, q4}) {
        held = s.get(ch, q, false);
        if (held) s.reject(ch, held->delivery_tag, false);
        await_counts(s, q == q3 ? q4 : q5, 1, 0);
    }
    s.drain(ch, q5);
}

// One queue, two reasons: rejected and then expired are two entries. The expired copy would go
// back into the queue it expired from (a cycle) and is dropped there; the witness sees both.
void same_queue_two_reasons(Session& s) {
    const auto x = s.exchange_name("dlx");
    const auto q = s.queue_name("q"), witness = s.queue_name("witness");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "fanout");
    s.queue_declare(ch, q, {.arguments = with(dlx(x), "x-message-ttl", 200)});
    s.queue_declare(ch, witness);
    s.queue_bind(ch, q, x);
    s.queue_bind(ch, witness, x);
    s.publish(ch, "", q, "m1");
    auto held = s.get(ch, q, false);
    if (held) s.reject(ch, held->delivery_tag, false);
    await_counts(s, witness, 1, 0);
    s.wait(500ms);
    await_counts(s, witness, 2, 0);
    s.count(ch, q);
    s.drain(ch, witness);
}

// The default exchange as dead-letter exchange with no routing key: a rejected message goes back
// to its own queue (no cycle: a rejection is in it), counting up.
void self_reject(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = dlx("")});
    s.publish(ch, "", q, "m1");
    for (int round = 1; round <= 3; ++round) {
        await_counts(s, q, 1, 0);
        auto held = s.get(ch, q, false);
        if (!held) break;
        if (round < 3) s.reject(ch, held->delivery_tag, false);
        else s.ack(ch, held->delivery_tag);
    }
    s.count(ch, q);
}

// Dead letters go through the dead-letter exchange's alternate exchange like any publish.
void alternate_exchange(Session& s) {
    const auto ae = s.exchange_name("ae"), x = s.exchange_name("dlx");
    const auto q = s.queue_name("q"), caught = s.queue_name("caught");
    Channel ch = s.channel();
    s.exchange_declare(ch, ae, "fanout");
    s.exchange_declare(ch, x, "direct", {.arguments = {{"alternate-exchange", ae}}});
    s.queue_declare(ch, caught);
    s.queue_bind(ch, caught, ae);
    s.queue_declare(ch, q, {.arguments = dlx(x)});
    s.publish(ch, "", q, "m1");
    auto held = s.get(ch, q, false);
    if (held) s.reject(ch, held->delivery_tag, false);
    await_counts(s, caught, 1, 0);
    s.drain(ch, caught);
}

// Purge, delete and a closed channel's requeue dead-letter nothing.
void not_dead_lettered(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = dlx(d.exchange)});
    s.publish(ch, "", q, "m1");
    s.publish(ch, "", q, "m2");
    s.queue_purge(ch, q);
    s.publish(ch, "", q, "m3");
    Channel holder = s.channel();
    s.get(holder, q, false);
    s.close(holder);
    await_counts(s, q, 1, 0);
    s.publish(ch, "", q, "m4");
    s.queue_delete(ch, q);
    s.count(ch, d.queue);
}

// A client's own x-death: a non-array value is replaced by a fresh one (without x-first-death-*),
// an array is taken as history and counted on.
void client_x_death(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    const auto d = dead_letters(s, ch);
    s.queue_declare(ch, q, {.arguments = dlx(d.exchange)});
    s.publish(ch, "", q, "bogus", {.headers = {{"x-death", "not an array"}}});
    FieldTable earlier{{"count", std::int64_t{5}}, {"reason", "rejected"}, {"queue", q},
                       {"time", Timestamp{1700000000}}, {"exchange", ""}, {"routing-keys", FieldArray{q}}};
    FieldTable other{{"count", std::int64_t{2}}, {"reason", "expired"}, {"queue", "elsewhere"},
                     {"time", Timestamp{1700000000}}, {"exchange", "x"}, {"routing-keys", FieldArray{"k"}}};
    s.publish(ch, "", q, "history",
              {.headers = {{"x-death", FieldArray{FieldValue(other), FieldValue(earlier)}},
                           {"x-first-death-queue", "elsewhere"}}});
    for (int i = 0; i < 2; ++i) {
        auto held = s.get(ch, q, false);
        if (held) s.reject(ch, held->delivery_tag, false);
    }
    await_counts(s, d.queue, 2, 0);
    s.drain(ch, d.queue);
}

// Dead-letter arguments: a routing key needs an exchange; the exchange must be a string;
// equivalence on redeclare.
void arguments(Session& s) {
    const auto q = s.queue_name("q");
    const std::vector<FieldTable> attempts = {
        {{"x-dead-letter-routing-key", "k"}},
        {{"x-dead-letter-exchange", 1}},
        {{"x-dead-letter-exchange", "x"}, {"x-dead-letter-routing-key", 1}},
        {{"x-dead-letter-exchange", ""}, {"x-dead-letter-routing-key", ""}},
        {{"x-dead-letter-exchange", s.exchange_name("not-declared")}},
    };
    for (const auto& args : attempts) {
        Channel ch = s.channel();
        s.queue_declare(ch, q, {.arguments = args});
        if (ch.is_open()) s.queue_delete(ch, q);
    }
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = dlx("a")});
    s.queue_declare(ch, q, {.arguments = dlx("b")});
    ch = s.channel();
    s.queue_declare(ch, q, {.arguments = dlx("a", "k")});
    ch = s.channel();
    s.queue_declare(ch, q);
}

}  // namespace

void add_dead_letter_scenarios(Scenarios& out) {
    out.push_back({"dlx.reject_get", reject_get});
    out.push_back({"dlx.uint64_header", uint64_header});
    out.push_back({"dlx.nack_consumer", nack_consumer});
    out.push_back({"dlx.nack_multiple", nack_multiple});
    out.push_back({"dlx.requeue_not_dead_lettered", requeue_not_dead_lettered});
    out.push_back({"dlx.expired_queue_ttl", expired_queue_ttl});
    out.push_back({"dlx.expired_per_message", expired_per_message});
    out.push_back({"dlx.reject_removes_expiration", reject_removes_expiration});
    out.push_back({"dlx.queue_ttl_keeps_original_expiration", queue_ttl_keeps_original_expiration});
    out.push_back({"dlx.into_full_queue", into_full_queue});
    out.push_back({"dlx.routing_key_override", routing_key_override});
    out.push_back({"dlx.original_keys", original_keys});
    out.push_back({"dlx.missing_exchange", missing_exchange});
    out.push_back({"dlx.routes_nowhere", routes_nowhere});
    out.push_back({"dlx.cycle_ttl_self", cycle_ttl_self});
    out.push_back({"dlx.cycle_two_queues", cycle_two_queues});
    out.push_back({"dlx.cycle_with_reject", cycle_with_reject});
    out.push_back({"dlx.retry_loop", retry_loop});
    out.push_back({"dlx.new_entries", new_entries});
    out.push_back({"dlx.same_queue_two_reasons", same_queue_two_reasons});
    out.push_back({"dlx.self_reject", self_reject});
    out.push_back({"dlx.alternate_exchange", alternate_exchange});
    out.push_back({"dlx.not_dead_lettered", not_dead_lettered});
    out.push_back({"dlx.client_x_death", client_x_death});
    out.push_back({"dlx.arguments", arguments});
}

}  // namespace warren::conformance
