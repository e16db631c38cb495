// Publisher confirms: sequence numbers, acks for routed and unroutable messages, the order of a
// mandatory return and its ack, nacks, and what a channel error does to them.
//
// Where the order of events is written (write_events), at most one publish is unconfirmed at a
// time; where several are, only each sequence number's outcome is written (write_outcomes).
#include "scenario.hpp"

namespace warren::conformance {
namespace {

// Sequence numbers count from 1 at confirm.select; publishes before it are not counted.
void sequence(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    auto& events = s.watch_events(ch);
    s.publish(ch, "", q, "before-select");
    s.confirm_select(ch);
    for (int i = 1; i <= 3; ++i) publish_confirmed(s, ch, "", q, fmt::format("m{}", i));
    s.write_events(events);
    s.confirm_select(ch);
    publish_confirmed(s, ch, "", q, "m4");
    s.write_events(events);
    s.count(ch, q);
}

// Each channel counts on its own.
void per_channel(Session& s) {
    const auto q = s.queue_name("q");
    Channel a = s.channel();
    Channel b = s.channel();
    s.queue_declare(a, q);
    auto& ea = s.watch_events(a);
    auto& eb = s.watch_events(b);
    s.confirm_select(a);
    s.confirm_select(b);
    publish_confirmed(s, a, "", q, "a1");
    publish_confirmed(s, a, "", q, "a2");
    publish_confirmed(s, b, "", q, "b1");
    publish_confirmed(s, a, "", q, "a3");
    s.note("channel a:");
    s.write_events(ea);
    s.note("channel b:");
    s.write_events(eb);
}

// Unroutable messages (no mandatory) are acked: an exchange with no bindings, the default
// exchange with no such queue, a fanout with no queues.
void unroutable_acked(Session& s) {
    const auto x = s.exchange_name("x"), fan = s.exchange_name("fan");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "direct");
    s.exchange_declare(ch, fan, "fanout");
    auto& events = s.watch_events(ch);
    s.confirm_select(ch);
    publish_confirmed(s, ch, x, "k", "m1");
    publish_confirmed(s, ch, "", s.queue_name("missing"), "m2");
    publish_confirmed(s, ch, fan, "", "m3");
    s.write_events(events);
}

// A mandatory message that routes nowhere: the basic.return comes before its ack.
void mandatory_return_then_ack(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "direct");
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, x, "routed");
    auto& events = s.watch_events(ch);
    s.confirm_select(ch);
    publish_confirmed(s, ch, x, "routed", "m1", {}, {.mandatory = true});
    publish_confirmed(s, ch, x, "unrouted", "m2", {.headers = {{"h", 1}}}, {.mandatory = true});
    publish_confirmed(s, ch, x, "unrouted", "m3");
    publish_confirmed(s, ch, x, "unrouted", "m4", {}, {.mandatory = true});
    s.write_events(events);
}

// Several unconfirmed at once, of every kind: each sequence number's outcome.
void mixed_outcomes(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q = s.queue_name("q"), full = s.queue_name("full");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "direct");
    s.queue_declare(ch, q);
    s.queue_declare(ch, full, {.arguments = {{"x-max-length", 1}, {"x-overflow", "reject-publish"}}});
    s.queue_bind(ch, q, x, "q");
    s.queue_bind(ch, full, x, "full");
    auto& events = s.watch_events(ch);
    s.confirm_select(ch);
    s.publish(ch, x, "q", "routed");
    s.publish(ch, x, "full", "fits");
    s.publish(ch, x, "full", "rejected");
    s.publish(ch, x, "none", "unroutable");
    s.publish(ch, x, "none", "returned", {}, {.mandatory = true});
    s.publish(ch, x, "full", "rejected-mandatory", {}, {.mandatory = true});
    s.publish(ch, x, "q", "routed-again");
    s.wait_for_confirms(ch);
    s.write_outcomes(events);
    s.publish(ch, x, "q", "after");
    s.wait_for_confirms(ch);
    s.write_outcomes(events);
}

// Messages the queue drops at once (TTL 0, drop-head at length 0) are still acked.
void dropped_still_acked(Session& s) {
    const auto ttl = s.queue_name("ttl0"), len = s.queue_name("len0");
    Channel ch = s.channel();
    s.queue_declare(ch, ttl, {.arguments = {{"x-message-ttl", 0}}});
    s.queue_declare(ch, len, {.arguments = {{"x-max-length", 0}}});
    auto& events = s.watch_events(ch);
    s.confirm_select(ch);
    publish_confirmed(s, ch, "", ttl, "m1");
    publish_confirmed(s, ch, "", len, "m2");
    publish_confirmed(s, ch, "", ttl, "m3", {.expiration = "0"});
    s.write_events(events);
    s.count(ch, ttl);
    s.count(ch, len);
}

// A publish to a missing exchange closes the channel: no confirm, wait_for_confirms fails.
void missing_exchange(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    auto& events = s.watch_events(ch);
    s.confirm_select(ch);
    publish_confirmed(s, ch, "", q, "m1");
    s.publish(ch, s.exchange_name("missing"), "k", "m2");
    s.wait_for_confirms(ch);
    s.write_events(events);
    Channel other = s.channel();
    s.count(other, q);
}

// A fanout to several queues of different kinds (plain, with a TTL, with priorities): one ack.
void fanout_many_queues(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q1 = s.queue_name("q1"), q2 = s.queue_name("q2"), q3 = s.queue_name("q3");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "fanout");
    s.queue_declare(ch, q1);
    s.queue_declare(ch, q2, {.arguments = {{"x-message-ttl", 60000}}});
    s.queue_declare(ch, q3, {.arguments = {{"x-max-priority", 3}}});
    for (const auto& q : {q1, q2, q3}) s.queue_bind(ch, q, x);
    auto& events = s.watch_events(ch);
    s.confirm_select(ch);
    publish_confirmed(s, ch, x, "", "m1", {}, {.mandatory = true});
    s.write_events(events);
    for (const auto& q : {q1, q2, q3}) s.count(ch, q);
}

}  // namespace

void add_confirms_scenarios(Scenarios& out) {
    out.push_back({"confirm.sequence", sequence});
    out.push_back({"confirm.per_channel", per_channel});
    out.push_back({"confirm.unroutable_acked", unroutable_acked});
    out.push_back({"confirm.mandatory_return_then_ack", mandatory_return_then_ack});
    out.push_back({"confirm.mixed_outcomes", mixed_outcomes});
    out.push_back({"confirm.dropped_still_acked", dropped_still_acked});
    out.push_back({"confirm.missing_exchange", missing_exchange});
    out.push_back({"confirm.fanout_many_queues", fanout_many_queues});
}

}  // namespace warren::conformance
