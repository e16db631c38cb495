// Closing channels and connections, and deleting what goes with them: rabbit_channel's
// terminate, rabbit_amqqueue's delete, rabbit_binding's removals.
#include "model.hpp"

#include <algorithm>

namespace warren::emulator {

AmqpError shutdown_error() {
    return AmqpError::make(ReplyCode::ConnectionForced, method::none,
                           "broker forced connection closure with reason 'shutdown'");
}

/// A channel error: RabbitMQ closes the channel, then reports the error.
AmqpError Model::fail_channel(ChannelState& ch, AmqpError error) {
    if (error.closes_connection()) {
        close_connection(*ch.connection);
    } else {
        close_channel(ch);
    }
    return error;
}

void Model::close_channel(ChannelState& ch) {
    ConnectionState& conn = *ch.connection;
    // Cancel every consumer, then requeue what the channel held (rabbit_amqqueue_process
    // handle_ch_down: the queue requeues the channel's acktags and drops its consumers).
    std::vector<Queue*> touched;
    while (!ch.consumers.empty()) {
        Consumer* c = ch.consumers.begin()->second.get();
        touched.push_back(c->queue);
        remove_consumer(ch, *c, /*run_auto_delete=*/false);
    }
    std::deque<Unacked> held;
    held.swap(ch.unacked);
    // Deliveries acknowledged in a transaction never committed go back with the rest: the
    // queues still hold them for this channel.
    if (ch.tx)
        for (TxSettle& settled : ch.tx->settles)
            for (Unacked& u : settled.acked) held.push_back(std::move(u));
    const TimePoint t = now();
    for (Unacked& u : held) {
        if (!u.queue) continue;
        u.queue->note_unacked(-1);
        release_cancelled_consumer(*u.queue, u);
        if (u.queue->rules().log) continue;
        take_back(*u.queue, std::move(u.message), u.queue->rules().channel_down_requeue);
        // A channel going down with messages of the queue counts as use for x-expires
        // (rabbit_amqqueue_process:handle_ch_down -> ensure_expiry_timer).
        u.queue->note_used(t);
        touched.push_back(u.queue);
    }
    for (Queue* q : ch.limiter_blocked_queues) q->set_channel_suspended(&ch, false);
    for (auto& [name, q] : conn.vhost->queues) {
        q->set_channel_suspended(&ch, false);
        q->forget_get_consumers(&ch);
    }
    const ChannelId id = ch.id;
    conn.channels.erase(id);
    dedupe(touched);
    for (Queue* q : touched) {
        if (maybe_auto_delete_queue(*q)) continue;
        // A requeue can put a drop-head queue over its limit (rabbit_amqqueue_process
        // requeue_and_run -> maybe_drop_head).
        drop_over_limit(*q);
        dispatch(*q);
    }
}

void Model::close_connection(ConnectionState& conn) {
    while (!conn.channels.empty()) close_channel(*conn.channels.begin()->second);
    // Exclusive queues go with their connection.
    std::vector<Queue*> owned;
    for (auto& [name, q] : conn.vhost->queues)
        if (q->owner() == conn.id) owned.push_back(q.get());
    for (Queue* q : owned) delete_queue(*conn.vhost, *q);
    s_.connections.erase(conn.id);
}

void Model::remove_binding(VHost& v, Binding* b) {
    if (s_.journal && durable_binding(*b)) s_.journal->binding_delete(v, *b);
    Exchange* source = b->source;
    if (b->queue) b->queue->remove_incoming(b);
    if (b->exchange) b->exchange->remove_incoming(b);
    source->remove_binding(b);
    // An auto-delete exchange goes when its last binding as source goes
    // (rabbit_exchange:maybe_auto_delete/2).
    if (source->auto_delete() && source->bindings().empty()) delete_exchange(v, *source);
}

void Model::delete_exchange(VHost& v, Exchange& x) {
    while (!x.bindings().empty()) {
        Binding* b = x.bindings().back().get();
        if (b->queue) b->queue->remove_incoming(b);
        if (b->exchange) b->exchange->remove_incoming(b);
        x.remove_binding(b);
    }
    while (!x.incoming().empty()) remove_binding(v, x.incoming().back());
    if (s_.journal && x.durable()) s_.journal->exchange_delete(v, x);
    v.exchanges.erase(x.name());
}

/// Deletes a queue: consumers are cancelled (basic.cancel to their channels), bindings
/// removed, ready messages dropped; channels keep the delivery tags of its unacknowledged
/// messages, whose acknowledgement then does nothing. Returns the ready count.
std::uint32_t Model::delete_queue(VHost& v, Queue& q) {
    const auto count = static_cast<std::uint32_t>(q.ready_count());
    std::vector<Consumer*> consumers;
    q.consumers().for_each([&](Consumer* c) { consumers.push_back(c); });
    for (Consumer* c : consumers) {
        ChannelState& ch = *c->channel;
        const std::string tag = c->tag;
        remove_consumer(ch, *c, /*run_auto_delete=*/false);
        ch.connection->sink->on_consumer_cancelled(ch.id, tag);
    }
    if (q.unacked_count() > 0) {
        for (auto& [id, conn] : s_.connections)
            for (auto& [cid, ch] : conn->channels)
                for_each_held(*ch, [&](Unacked& u) {
                    if (u.queue == &q) u.queue = nullptr;
                });
    }
    for (auto& [id, conn] : s_.connections)
        for (auto& [cid, ch] : conn->channels) {
            auto& bq = ch->limiter_blocked_queues;
            bq.erase(std::remove(bq.begin(), bq.end(), &q), bq.end());
        }
    while (!q.incoming().empty()) remove_binding(v, q.incoming().back());
    if (q.journal_id() != 0) s_.journal->queue_delete(q.journal_id());
    v.queues.erase(q.name());
    return count;
}

/// An auto-delete queue goes when its last consumer goes, once it has had one.
bool Model::maybe_auto_delete_queue(Queue& q) {
    if (!q.auto_delete() || !q.has_had_consumers() || !q.consumers().empty()) return false;
    for (auto& [name, vhost] : s_.vhosts) {
        auto it = vhost->queues.find(q.name());
        if (it != vhost->queues.end() && it->second.get() == &q) {
            delete_queue(*vhost, q);
            return true;
        }
    }
    return false;
}

void Model::remove_consumer(ChannelState& ch, Consumer& c, bool run_auto_delete) {
    Queue* q = c.queue;
    q->consumers().remove(&c);
    if (q->exclusive_consumer() == &c) q->set_exclusive_consumer(nullptr);
    // The single active consumer's successor is the consumer then at the front of the
    // rotation (new_single_active_consumer_after_basic_cancel / _after_channel_down). The
    // queue does not deliver to it here: after a basic.cancel, ready messages wait for the
    // next consume, requeue or channel closing on the queue.
    if (q->single_active_consumer() == &c) q->set_single_active_consumer(q->consumers().front());
    std::uint32_t held = 0;
    for_each_held(ch, [&](Unacked& u) {
        if (u.consumer == &c) ++held;
    });
    const bool lingers = held > 0 && q->rules().cancelled_consumers_linger;
    const std::uint64_t id = lingers ? q->add_cancelled_consumer(held) : 0;
    for_each_held(ch, [&](Unacked& u) {
        if (u.consumer != &c) return;
        u.consumer = nullptr;
        u.cancelled_consumer = id;
    });
    auto it = ch.consumers.find(c.tag);
    ch.consumers.erase(it);
    // x-expires counts from when the queue was last used; losing its last consumer is a use.
    if (q->consumers().empty() && !q->has_cancelled_consumers()) q->note_used(now());
    if (run_auto_delete) maybe_auto_delete_queue(*q);
}


}  // namespace warren::emulator
