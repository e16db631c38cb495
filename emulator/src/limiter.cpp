// Acknowledgements and prefetch: rabbit_channel:collect_acks/4 takes the deliveries an ack,
// nack or reject names; settling them frees per-consumer credit and the channel's global
// prefetch (rabbit_limiter), and the queues held back resume.
#include "model.hpp"

#include <algorithm>

namespace warren::emulator {

/// An ack, nack or reject: settled at once, or, on a transactional channel, kept for
/// tx.commit (rabbit_channel's tx Acks), the deliveries already off the unacknowledged list.
void Model::acknowledge(ChannelState& ch, std::vector<Unacked> acked, Settle how) {
    if (!ch.tx) return settle(ch, std::move(acked), how);
    ch.tx->settles.push_back(TxSettle{how, std::move(acked)});
}

/// rabbit_channel:collect_acks/4: `multiple` takes every tag up to and including `tag`,
/// which must itself be outstanding; tag 0 with `multiple` takes everything.
Result<std::vector<Unacked>> Model::collect(ChannelState& ch, std::uint64_t tag, bool multiple,
                                     MethodId m) {
    std::vector<Unacked> out;
    if (multiple && tag == 0) {
        for (Unacked& u : ch.unacked) out.push_back(std::move(u));
        ch.unacked.clear();
        return out;
    }
    auto it = std::lower_bound(ch.unacked.begin(), ch.unacked.end(), tag,
                               [](const Unacked& u, std::uint64_t t) { return u.tag < t; });
    if (it == ch.unacked.end() || it->tag != tag)
        return AmqpError::format(ReplyCode::PreconditionFailed, m, "unknown delivery tag {}", tag);
    if (multiple) {
        auto end = it + 1;
        for (auto i = ch.unacked.begin(); i != end; ++i) out.push_back(std::move(*i));
        ch.unacked.erase(ch.unacked.begin(), end);
    } else {
        out.push_back(std::move(*it));
        ch.unacked.erase(it);
    }
    return out;
}

/// Settles the deliveries `acked` took from the channel: acknowledged, requeued, or
/// rejected (dead-lettered as `rejected` where the queue has a dead-letter exchange);
/// frees consumer and channel prefetch; resumes delivery where it can.
void Model::settle(ChannelState& ch, std::vector<Unacked> acked, Settle how) {
    if (acked.empty()) return;
    std::vector<Queue*> touched;
    std::vector<Queue*> credit_freed;
    std::uint32_t from_consumers = 0;
    for (Unacked& u : acked) {
        if (u.from_consumer) ++from_consumers;
        if (!u.queue) continue;
        Queue& q = *u.queue;
        q.note_unacked(-1);
        release_cancelled_consumer(q, u);
        if (q.rules().log) {
            // A stream's reader gets credit back; nothing returns to the log.
            if (u.consumer) ++u.consumer->credit;
            touched.push_back(&q);
            continue;
        }
        if (u.consumer && u.consumer->prefetch > 0) {
            // rabbit_limiter:ack_from_queue/3: credit returns; a consumer whose credit
            // was exhausted is unblocked.
            if (u.consumer->credit++ == 0) credit_freed.push_back(&q);
        }
        bool settled = true;
        if (how == Settle::Requeue) settled = take_back(q, std::move(u.message), q.settled_return_place());
        else if (how == Settle::Reject) settled = dead_letter(q, *u.message.message, DeadLetterReason::Rejected);
        if (!u.from_consumer) q.settle_get_consumer(&ch, /*lingers=*/!settled);
        touched.push_back(&q);
    }
    dedupe(touched);
    dedupe(credit_freed);
    for (Queue* q : touched) {
        bool unblocked = false;
        if (std::find(credit_freed.begin(), credit_freed.end(), q) != credit_freed.end())
            unblocked = q->consumers().unblock(&ch, [](const Consumer* c) { return c->credit_exhausted(); });
        if (how == Settle::Requeue) drop_over_limit(*q);
        // RabbitMQ runs the queue after a requeue, and after an ack or reject only when it
        // unblocked a consumer (rabbit_amqqueue_process:subtract_acks/4). That matters only
        // where ready messages can wait beside a consumer able to take them: a
        // single-active-consumer queue whose active consumer was cancelled.
        if (how == Settle::Requeue || unblocked || !q->settings().single_active_consumer)
            dispatch(*q);
    }
    notify_limiter(ch, from_consumers);
}

/// A delivery a cancelled consumer held is settled: when it was the consumer's last, the
/// consumer is gone, and the queue is unused from then on if it has no other.
void Model::release_cancelled_consumer(Queue& q, const Unacked& u) {
    if (u.cancelled_consumer == 0 || !q.release_cancelled_consumer(u.cancelled_consumer)) return;
    if (q.consumers().empty() && !q.has_cancelled_consumers()) q.note_used(now());
}

/// rabbit_limiter's ack: volume drops; when it falls below the limit, queues that were
/// held back by it resume, in the order they were held back.
void Model::notify_limiter(ChannelState& ch, std::uint32_t count) {
    if (!ch.limiter_active() || count == 0) return;
    const bool was_reached = ch.limit_reached();
    ch.limiter_volume = ch.limiter_volume > count ? ch.limiter_volume - count : 0;
    if (was_reached && !ch.limit_reached()) resume_limited_queues(ch);
}

/// The connection's sink accepts deliveries again: its consumers that were passed over
/// rejoin their queues' rotations (unless prefetch still holds them back), and the queues
/// dispatch.
void Model::resume_deliveries(ConnectionState& conn) {
    std::vector<Queue*> resumed;
    for (auto& [name, q] : conn.vhost->queues) {
        bool moved = false;
        for (auto& [id, ch] : conn.channels)
            moved |= q->consumers().unblock(ch.get(), [&q = q](const Consumer* c) {
                return c->credit_exhausted() || q->channel_suspended(c->channel);
            });
        // A stream's readers are never blocked: each just stopped where the sink refused.
        if (moved || (q->rules().log && !q->consumers().empty())) resumed.push_back(q.get());
    }
    for (Queue* q : resumed) dispatch(*q);
}

void Model::resume_limited_queues(ChannelState& ch) {
    std::vector<Queue*> queues;
    queues.swap(ch.limiter_blocked_queues);
    for (Queue* q : queues) {
        q->set_channel_suspended(&ch, false);
        q->consumers().unblock(&ch, [](const Consumer* c) { return c->credit_exhausted(); });
        dispatch(*q);
    }
}

// rabbit_channel basic.qos: global=false sets the prefetch of consumers created from now on
// and, like global=true with 0, lifts the channel's limit (rabbit_limiter:unlimit_prefetch).
// rabbit_limiter limit_prefetch: an inactive limiter starts counting from what the channel
// holds unacknowledged (basic.get deliveries included); an active one keeps its count.
void Model::set_prefetch(ChannelState& ch, std::uint16_t count, bool global) {
    if (!global) ch.consumer_prefetch = count;
    if (!global || count == 0) {
        const bool was_active = ch.limiter_active();
        ch.global_prefetch = 0;
        ch.limiter_volume = 0;
        if (was_active) resume_limited_queues(ch);
        return;
    }
    const bool was_reached = ch.limit_reached();
    if (!ch.limiter_active()) ch.limiter_volume = static_cast<std::uint32_t>(ch.unacked.size());
    ch.global_prefetch = count;
    if (was_reached && !ch.limit_reached()) resume_limited_queues(ch);
}

}  // namespace warren::emulator
