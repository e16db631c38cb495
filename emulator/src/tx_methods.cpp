// The tx class: tx.select, commit and rollback, as rabbit_channel keeps a transaction.
#include "handlers.hpp"

#include <algorithm>
#include <utility>

namespace warren::emulator {

// tx.commit / tx.rollback without tx.select.
AmqpError not_transactional(MethodId m) {
    return AmqpError::make(ReplyCode::PreconditionFailed, m, "channel is not transactional");
}

Status tx_select(ChannelState& ch) {
    if (ch.confirm_mode)
        return AmqpError::make(ReplyCode::PreconditionFailed, method::tx_select,
                               "cannot switch from confirm to tx mode");
    // A second tx.select keeps the open transaction.
    if (!ch.tx) ch.tx = std::make_unique<Transaction>();
    return {};
}

// rabbit_channel tx.commit: the publishes reach the queues they were routed to (those still
// there, looked up by name), in the order they came; then the acknowledgements are settled in
// the order they came. The channel stays transactional.
//
// Where tx.commit-ok falls among what the commit causes: the channel sends the returns itself
// while it handles tx.commit, before anything the queues send back. It answers at once when no
// publish reached a queue (so before the deliveries its acknowledgements cause); otherwise it
// waits for the queues to take the publishes, and the deliveries come first.
Status tx_commit(Model& model, ChannelState& ch) {
    VHost& v = *ch.connection->vhost;
    if (!ch.tx) return not_transactional(method::tx_commit);
    Transaction work = std::exchange(*ch.tx, Transaction{});
    ConnectionSink& sink = *ch.connection->sink;
    std::vector<std::vector<Queue*>> targets(work.publishes.size());
    bool reached = false;
    for (std::size_t i = 0; i < work.publishes.size(); ++i) {
        const TxPublish& p = work.publishes[i];
        for (const std::string& name : p.queues)
            if (Queue* q = model.find_queue(v, name)) targets[i].push_back(q);
        if (targets[i].empty() && p.mandatory)
            sink.on_return(ch.id, ReturnEvent{ReplyCode::NoRoute, "NO_ROUTE", *p.message});
        reached = reached || !targets[i].empty();
    }
    if (!reached) sink.on_tx_commit_ok(ch.id);
    model.set_publisher(&ch);
    for (std::size_t i = 0; i < work.publishes.size(); ++i) {
        const TxPublish& p = work.publishes[i];
        for (Queue* q : targets[i]) model.deliver_to_queue(*q, p.message, p.message_ttl);
    }
    model.set_publisher(nullptr);
    for (TxSettle& s : work.settles) model.settle(ch, std::move(s.acked), s.how);
    if (reached) sink.on_tx_commit_ok(ch.id);
    return {};
}

// rabbit_channel tx.rollback: the publishes are dropped; the acknowledged deliveries return to
// the unacknowledged list, in delivery-tag order.
Status tx_rollback(ChannelState& ch) {
    if (!ch.tx) return not_transactional(method::tx_rollback);
    Transaction work = std::exchange(*ch.tx, Transaction{});
    if (work.settles.empty()) return {};
    std::vector<Unacked> back;
    for (TxSettle& s : work.settles)
        for (Unacked& u : s.acked) back.push_back(std::move(u));
    for (Unacked& u : ch.unacked) back.push_back(std::move(u));
    std::sort(back.begin(), back.end(), [](const Unacked& a, const Unacked& b) { return a.tag < b.tag; });
    ch.unacked.assign(std::make_move_iterator(back.begin()), std::make_move_iterator(back.end()));
    return {};
}

}  // namespace warren::emulator
