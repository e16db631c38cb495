// A queue's own work: arrivals, head expiry, overflow, dead-lettering and dispatch to its
// consumers (rabbit_amqqueue_process, rabbit_queue_consumers).
#include "model.hpp"

#include <algorithm>

namespace warren::emulator {

/// Offers ready messages to consumers until one side runs out
/// (rabbit_queue_consumers:deliver/3 with the checks of rabbit_limiter:can_send/3).
/// Expired messages at the head are dropped first (drop_expired_msgs), except a message
/// just published into an empty queue: RabbitMQ offers that one to a consumer before it
/// enqueues it, so even a TTL of 0 reaches a consumer that can take it at once.
void Model::dispatch(Queue& q, bool fresh_message) {
    if (q.rules().log) return dispatch_log(q);
    if (q.settings().single_active_consumer) return dispatch_single_active(q, fresh_message);
    auto& rotation = q.consumers();
    for (;;) {
        if (!fresh_message) expire_due(q);
        if (!q.has_ready() || !rotation.has_active()) return;
        Consumer* c = rotation.pop_front();
        if (!may_deliver(q, *c)) {
            rotation.block(c);
            continue;
        }
        deliver(q, *c, q.pop());
        rotation.push_back(c);
        fresh_message = false;
    }
}

/// x-single-active-consumer (rabbit_queue_consumers:deliver/6 with an active consumer):
/// only the single active consumer is offered messages, and it keeps its place; when it
/// cannot take one it is blocked like any consumer, and the queue waits for it.
void Model::dispatch_single_active(Queue& q, bool fresh_message) {
    auto& rotation = q.consumers();
    for (;;) {
        if (!fresh_message) expire_due(q);
        Consumer* c = q.single_active_consumer();
        if (!q.has_ready() || !c || rotation.is_blocked(c)) return;
        if (!may_deliver(q, *c)) {
            rotation.block_in_place(c);
            return;
        }
        deliver(q, *c, q.pop());
        fresh_message = false;
    }
}

/// rabbit_queue_consumers:deliver_to_consumer/3's checks: whether `c` may take a message
/// now (its channel's sink accepts deliveries, its own prefetch and its channel's global
/// one leave room). A channel whose global prefetch is reached has this queue resume when
/// an acknowledgement frees it. A consumer that may take one is counted in that volume.
bool Model::may_deliver(Queue& q, Consumer& c) {
    ChannelState& ch = *c.channel;
    if (q.channel_suspended(&ch) || c.credit_exhausted() ||
        !ch.connection->sink->accepting_deliveries(ch.id))
        return false;
    if (ch.limiter_active()) {
        if (ch.limit_reached()) {
            q.set_channel_suspended(&ch, true);
            auto& bq = ch.limiter_blocked_queues;
            if (std::find(bq.begin(), bq.end(), &q) == bq.end()) bq.push_back(&q);
            return false;
        }
        if (!c.no_ack) ++ch.limiter_volume;
    }
    return true;
}

/// Drops (dead-lettering as `expired`) the messages at the head whose time has come.
/// Only the head is looked at: a message behind it waits even when it expired earlier, as
/// in RabbitMQ (rabbit_amqqueue_process:drop_expired_msgs/2).
void Model::expire_due(Queue& q) {
    if (!q.has_ready()) return;
    const TimePoint t = now();
    while (q.has_ready() && q.head().expires_at <= t) {
        QueuedMessage m = q.pop();
        dead_letter(q, *m.message, DeadLetterReason::Expired);
    }
}

/// drop-head overflow: while the queue is over x-max-length or x-max-length-bytes, its head
/// goes (dead-lettered as `maxlen`) (rabbit_amqqueue_process:maybe_drop_head/2).
void Model::drop_over_limit(Queue& q) {
    if (q.settings().overflow != Overflow::DropHead) return;
    while (q.over_limit()) {
        QueuedMessage m = q.pop();
        dead_letter(q, *m.message, DeadLetterReason::Maxlen);
    }
}

/// Hands a message a queue lets go of to the queue's dead-letter exchange; without one,
/// or when it does not exist, the message is dropped (rabbit_dead_letter:publish/5). With
/// at-least-once dead-lettering (quorum queues), a dead letter no queue takes is kept instead
/// (rabbit_fifo_dlx); warren does not retry it later.
bool Model::dead_letter(Queue& from, const StoredMessage& message, DeadLetterReason reason) {
    const QueueArguments& settings = from.settings();
    if (!settings.dead_letter_exchange || !from.vhost()) return true;
    VHost& v = *from.vhost();
    Exchange* dlx = find_exchange(v, *settings.dead_letter_exchange);
    // Kept means held for a retry that warren never makes: the message is not stored again.
    const auto keep = [&] { return !settings.at_least_once; };
    if (!dlx) return keep();
    MessagePtr dead = make_dead_letter(message, reason, from.name(), now(), dlx->name(),
                                       settings.dead_letter_routing_key);
    if (pending_dead_letters_) {
        // Inside a publish: the queues that the publish reaches get it first (RabbitMQ's
        // channel hands it to every queue process before any of them dead-letters).
        pending_dead_letters_->push_back(PendingDeadLetter{&v, dlx->name(), std::move(dead), reason});
        return true;
    }
    return route_dead_letter(v, *dlx, dead, reason) || keep();
}

bool Model::route_dead_letter(VHost& v, Exchange& dlx, const MessagePtr& dead, DeadLetterReason reason) {
    std::vector<Queue*> queues;
    route(v, dlx,
          RoutingInput{dead->routing_key(), dead->properties().headers, dead->extra_routing_keys()},
          queues, nullptr);
    bool taken = false;
    for (Queue* q : queues) {
        if (is_dead_letter_cycle(*dead, reason, q->name())) continue;
        // RabbitMQ 3.10.8 dead-letters without a stream writer (rabbit_queue_type:deliver's
        // stateless form), and a stream drops such a delivery.
        if (q->rules().log) continue;
        taken |= deliver_to_queue(*q, dead, std::nullopt);
    }
    return taken;
}

bool Model::take_back(Queue& q, QueuedMessage m, ReturnPlace where) {
    if (q.rules().counts_deliveries) {
        ++m.delivery_count;
        // rabbit_fifo: a message returned more often than the limit is let go of.
        if (const auto& limit = q.settings().delivery_limit; limit && m.delivery_count > *limit) {
            dead_letter(q, *m.message, DeadLetterReason::DeliveryLimit);
            return false;
        }
    }
    q.requeue(std::move(m), where);
    return true;
}

MessagePtr Model::delivered_form(const Queue& q, const QueuedMessage& m, bool to_consumer) {
    if (!q.rules().counts_deliveries || (to_consumer && m.delivery_count == 0)) return nullptr;
    Message copy = m.message->to_message();
    copy.properties.headers.set("x-delivery-count", std::int64_t{m.delivery_count});
    reencode_headers(copy.properties.headers);
    return std::make_shared<const StoredMessage>(m.message->exchange(), m.message->routing_key(), std::move(copy));
}

/// A routed message arriving at a queue (rabbit_amqqueue_process:maybe_deliver_or_enqueue
/// and deliver_or_enqueue). Returns false when the queue refuses it for reject-publish
/// overflow (checked before any delivery attempt; reject-publish-dlx also dead-letters it).
bool Model::deliver_to_queue(Queue& q, const MessagePtr& message, std::optional<Duration> message_ttl) {
    if (q.rules().log) {
        append_to_stream(q, message);
        return true;
    }
    const QueueArguments& settings = q.settings();
    if (settings.overflow != Overflow::DropHead && q.refuses_publish(message->body_size())) {
        if (settings.overflow == Overflow::RejectPublishDlx)
            dead_letter(q, *message, DeadLetterReason::Maxlen);
        return false;
    }
    const bool was_empty = !q.has_ready();
    q.enqueue(message, now(), message_ttl);
    if (was_empty) dispatch(q, /*fresh_message=*/true);
    drop_over_limit(q);
    expire_due(q);
    return true;
}

void Model::deliver(Queue& q, Consumer& c, QueuedMessage m) {
    ChannelState& ch = *c.channel;
    const std::uint64_t tag = ch.next_delivery_tag++;
    const MessagePtr copy = delivered_form(q, m, /*to_consumer=*/true);
    const bool redelivered = m.redelivered;
    // The stored message stays in `m`, or in the unacknowledged delivery `m` becomes (a deque
    // element, which later push_backs do not move).
    const StoredMessage* sent = copy ? copy.get() : m.message.get();
    if (!c.no_ack) {
        if (c.prefetch > 0) --c.credit;
        q.note_unacked(1);
        if (m.mark) m.mark.journal()->message_delivered(m.mark.id());
        ch.unacked.push_back(Unacked{tag, &q, std::move(m), &c, true});
    }
    ch.connection->sink->on_deliver(ch.id, DeliverEvent{c.tag, tag, redelivered, *sent});
}

/// A routed publish reaching its queues (rabbit_channel:deliver_to_queues/2): with no
/// queue, a mandatory message is returned; the return goes before the confirm, and a queue
/// that refuses the message causes no return. Under confirms, a message any queue refused
/// (reject-publish overflow) is nacked.
void Model::deliver_published(ChannelState& ch, const MessagePtr& message, std::span<Queue* const> queues,
                       bool mandatory, std::optional<Duration> message_ttl, std::uint64_t sequence) {
    ConnectionSink& sink = *ch.connection->sink;
    if (queues.empty() && mandatory)
        sink.on_return(ch.id, ReturnEvent{ReplyCode::NoRoute, "NO_ROUTE", *message});
    bool refused = false;
    std::vector<PendingDeadLetter> pending;
    pending_dead_letters_ = &pending;
    set_publisher(&ch);
    for (Queue* q : queues)
        if (!deliver_to_queue(*q, message, message_ttl)) refused = true;
    set_publisher(nullptr);
    // The dead letters the publish caused (a drop-head, a reject-publish-dlx), in the order
    // they were made, and those they cause in turn.
    for (std::size_t i = 0; i < pending.size(); ++i) {
        PendingDeadLetter d = pending[i];
        if (Exchange* dlx = find_exchange(*d.vhost, d.dlx)) route_dead_letter(*d.vhost, *dlx, d.message, d.reason);
    }
    pending_dead_letters_ = nullptr;
    if (sequence != 0) sink.on_confirm(ch.id, sequence, false, !refused);
}

}  // namespace warren::emulator
