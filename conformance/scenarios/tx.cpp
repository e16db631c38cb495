// Transactions (tx.select / tx.commit / tx.rollback) as rabbit_channel runs them: a publish is
// checked and routed when it arrives and reaches its queues at commit; an ack, nack or reject
// has its delivery tag checked when it arrives and takes effect at commit; rollback drops the
// publishes and makes the acknowledged deliveries unacknowledged again.
//
// A call on the transactional channel itself (a passive declare, basic.qos) is used to know
// that the publishes sent before it have been taken in. tx.commit-ok follows the returns of the
// transaction's publishes, but not what its acknowledgements cause: requeues are waited for.
#include "scenario.hpp"

namespace warren::conformance {
namespace {

bool tx_select(Session& s, Channel& ch) { return s.attempt("tx.select", [&] { ch.tx_select(); }); }
bool tx_commit(Session& s, Channel& ch) { return s.attempt("tx.commit", [&] { ch.tx_commit(); }); }
bool tx_rollback(Session& s, Channel& ch) { return s.attempt("tx.rollback", [&] { ch.tx_rollback(); }); }

/// Lets the returns the last call brought in reach the log, then writes them.
void write_returns_now(Session& s, ReturnLog& log, std::size_t expected) {
    s.eventually([&] { return log.returns.size() >= expected; });
    s.write_returns(log);
}

// Publishes wait for tx.commit: invisible to counts and basic.get before it, dropped by
// tx.rollback. A second tx.select is fine; an empty commit too; the channel stays
// transactional after a commit.
void publish_commit_rollback(Session& s) {
    const auto q = s.queue_name("q");
    Channel a = s.channel();
    Channel b = s.channel();
    s.queue_declare(a, q);
    tx_select(s, a);
    tx_select(s, a);
    s.publish(a, "", q, "m1");
    s.publish(a, "", q, "m2");
    s.count(a, q);
    s.count(b, q);
    s.get(b, q);
    tx_commit(s, a);
    s.count(b, q);
    s.publish(a, "", q, "m3");
    tx_rollback(s, a);
    s.count(a, q);
    tx_commit(s, a);
    s.count(a, q);
    s.publish(a, "", q, "m4");
    tx_commit(s, a);
    s.drain(b, q);
}

// A publish is routed when it arrives: bindings changed before the commit do not move it.
void routed_at_publish(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q1 = s.queue_name("q1"), q2 = s.queue_name("q2");
    Channel a = s.channel();
    Channel b = s.channel();
    s.exchange_declare(a, x, "direct");
    s.queue_declare(a, q1);
    s.queue_declare(a, q2);
    s.queue_bind(a, q1, x, "k");
    auto& returns = s.watch_returns(a);
    tx_select(s, a);
    s.publish(a, x, "k", "m1", {}, {.mandatory = true});
    s.count(a, q1);
    s.queue_unbind(b, q1, x, "k");
    s.queue_bind(b, q2, x, "k");
    tx_commit(s, a);
    write_returns_now(s, returns, 0);
    s.count(b, q1);
    s.count(b, q2);
}

// The queues a publish was routed to are looked up by name at commit: one deleted meanwhile
// is skipped (a mandatory message that reaches no queue is returned then, not at publish),
// and one deleted and declared again gets the message.
void queues_looked_up_at_commit(Session& s) {
    const auto gone = s.queue_name("gone"), again = s.queue_name("again");
    Channel a = s.channel();
    Channel b = s.channel();
    s.queue_declare(a, gone);
    s.queue_declare(a, again);
    auto& returns = s.watch_returns(a);
    tx_select(s, a);
    s.publish(a, "", gone, "m1", {}, {.mandatory = true});
    s.publish(a, "", gone, "m2");
    s.publish(a, "", again, "m3", {}, {.mandatory = true});
    s.count(a, gone);
    write_returns_now(s, returns, 0);
    s.queue_delete(b, gone);
    s.queue_delete(b, again);
    s.queue_declare(b, again);
    tx_commit(s, a);
    write_returns_now(s, returns, 1);
    s.count(b, again);
}

// An unroutable mandatory publish is returned at commit, not when it arrives.
void return_at_commit(Session& s) {
    const auto x = s.exchange_name("x");
    Channel a = s.channel();
    s.exchange_declare(a, x, "direct");
    auto& returns = s.watch_returns(a);
    tx_select(s, a);
    s.publish(a, x, "nowhere", "m1", {.headers = {{"h", 1}}}, {.mandatory = true});
    s.publish(a, x, "nowhere", "m2");
    s.basic_qos(a, 0);
    write_returns_now(s, returns, 0);
    tx_commit(s, a);
    write_returns_now(s, returns, 1);
    s.publish(a, x, "nowhere", "m3", {}, {.mandatory = true});
    tx_rollback(s, a);
    tx_commit(s, a);
    write_returns_now(s, returns, 1);
}

// A publish to a missing exchange fails when it arrives, not at commit.
void missing_exchange(Session& s) {
    const auto q = s.queue_name("q");
    Channel a = s.channel();
    s.queue_declare(a, q);
    tx_select(s, a);
    s.publish(a, "", q, "m1");
    s.publish(a, s.exchange_name("missing"), "k", "m2");
    s.count(a, q);
    Channel b = s.channel();
    s.count(b, q);
}

// Acks, nacks and rejects take effect at commit; rollback gives their delivery tags back.
void acks_commit_rollback(Session& s) {
    const auto q = s.queue_name("q");
    Channel a = s.channel();
    Channel b = s.channel();
    s.queue_declare(a, q);
    for (const char* body : {"m1", "m2", "m3", "m4"}) s.publish(a, "", q, body);
    tx_select(s, a);
    for (int i = 0; i < 4; ++i) s.get(a, q, false);
    s.ack(a, 1);
    s.nack(a, 2, false, true);
    s.count(a, q);
    tx_rollback(s, a);
    s.count(b, q);
    s.ack(a, 1);
    s.nack(a, 3, true, true);
    s.reject(a, 4, true);
    s.count(a, q);
    tx_commit(s, a);
    await_counts(s, q, 3, 0);
    s.get(a, q, false);
    s.get(a, q, false);
    s.get(a, q, false);
    tx_commit(s, a);
}

// An unknown delivery tag is refused when the ack arrives: the channel closes at once, and
// the publishes of its transaction go with it.
void unknown_tag(Session& s) {
    const auto q = s.queue_name("q");
    Channel a = s.channel();
    s.queue_declare(a, q);
    tx_select(s, a);
    s.publish(a, "", q, "m1");
    s.ack(a, 7);
    s.count(a, q);
    Channel b = s.channel();
    s.count(b, q);
}

// A delivery acknowledged in the transaction has left the unacknowledged list: acknowledging
// it again is an unknown tag. The channel's close requeues it with the rest.
void double_ack(Session& s) {
    const auto q = s.queue_name("q");
    Channel a = s.channel();
    s.queue_declare(a, q);
    s.publish(a, "", q, "m1");
    s.publish(a, "", q, "m2");
    tx_select(s, a);
    s.get(a, q, false);
    s.get(a, q, false);
    s.ack(a, 1);
    s.ack(a, 1);
    s.count(a, q);
    await_counts(s, q, 2, 0);
    Channel b = s.channel();
    s.drain(b, q);
}

// Closing a channel with a transaction open: its publishes are dropped, its acknowledged
// deliveries requeued.
void close_open_transaction(Session& s) {
    const auto q = s.queue_name("q");
    Channel a = s.channel();
    s.queue_declare(a, q);
    s.publish(a, "", q, "m1");
    tx_select(s, a);
    s.get(a, q, false);
    s.ack(a, 1);
    s.publish(a, "", q, "m2");
    s.close(a);
    await_counts(s, q, 1, 0);
    Channel b = s.channel();
    s.drain(b, q);
}

// tx.commit and tx.rollback need tx.select; tx and confirms exclude each other.
void mode_errors(Session& s) {
    Channel a = s.channel();
    tx_commit(s, a);
    a = s.channel();
    tx_rollback(s, a);
    a = s.channel();
    tx_select(s, a);
    s.confirm_select(a);
    a = s.channel();
    s.confirm_select(a);
    tx_select(s, a);
}

// A consumer's prefetch is freed at commit, not by the ack in the transaction.
void prefetch_freed_at_commit(Session& s) {
    const auto q = s.queue_name("q");
    Channel a = s.channel();
    s.queue_declare(a, q);
    s.publish(a, "", q, "m1");
    s.publish(a, "", q, "m2");
    s.basic_qos(a, 1);
    tx_select(s, a);
    auto& inbox = s.consume(a, q, "c");
    s.await(inbox, 1);
    s.ack(a, 1);
    s.count(a, q);
    s.settle(inbox);
    tx_commit(s, a);
    s.await(inbox, 2);
}

// At commit the publishes go first, then the acknowledgements: a message published to the
// dead-letter queue in the transaction is ahead of one rejected into it before that publish.
void publishes_before_acks(Session& s) {
    Channel a = s.channel();
    const DeadLetters dl = dead_letters(s, a);
    const auto q = s.queue_name("q");
    s.queue_declare(a, q, {.arguments = {{"x-dead-letter-exchange", dl.exchange}}});
    s.publish(a, "", q, "rejected");
    tx_select(s, a);
    s.get(a, q, false);
    s.reject(a, 1, false);
    s.publish(a, "", dl.queue, "published");
    tx_commit(s, a);
    await_counts(s, dl.queue, 2, 0);
    Channel b = s.channel();
    s.drain(b, dl.queue);
}

}  // namespace

void add_tx_scenarios(Scenarios& out) {
    out.push_back({"tx.publish_commit_rollback", publish_commit_rollback});
    out.push_back({"tx.routed_at_publish", routed_at_publish});
    out.push_back({"tx.queues_looked_up_at_commit", queues_looked_up_at_commit});
    out.push_back({"tx.return_at_commit", return_at_commit});
    out.push_back({"tx.missing_exchange", missing_exchange});
    out.push_back({"tx.acks_commit_rollback", acks_commit_rollback});
    out.push_back({"tx.unknown_tag", unknown_tag});
    out.push_back({"tx.double_ack", double_ack});
    out.push_back({"tx.close_open_transaction", close_open_transaction});
    out.push_back({"tx.mode_errors", mode_errors});
    out.push_back({"tx.prefetch_freed_at_commit", prefetch_freed_at_commit});
    out.push_back({"tx.publishes_before_acks", publishes_before_acks});
}

}  // namespace warren::conformance
