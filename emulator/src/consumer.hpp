// A consumer on a queue, and the order in which a queue offers messages to its consumers.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "warren/protocol/field_value.hpp"

namespace warren::emulator {

class Queue;
struct ChannelState;

struct Consumer {
    std::string tag;
    ChannelState* channel = nullptr;
    Queue* queue = nullptr;
    bool no_ack = false;
    bool exclusive = false;
    FieldTable arguments;
    /// The `x-priority` argument (0 without one): higher-priority consumers are offered
    /// messages first; round-robin runs among consumers of the same priority.
    std::int64_t priority = 0;
    /// Per-consumer prefetch (basic.qos global=false in force when it was created); 0 is no
    /// limit. No-ack consumers never have one (rabbit_queue_consumers:add/11).
    std::uint32_t prefetch = 0;
    /// Deliveries it may still receive unacknowledged, when prefetch > 0.
    std::uint32_t credit = 0;
    /// A stream reader's next offset (queue types with QueueRules::log).
    std::uint64_t log_offset = 0;

    bool credit_exhausted() const noexcept { return prefetch > 0 && credit == 0; }
};

/// The order in which a queue offers messages to its consumers, after rabbit_queue_consumers:
/// consumers wait in a priority queue (highest `x-priority` first, arrival order within a
/// priority); the queue offers the head message to the consumer at the front; one that takes it
/// goes to the back of its priority; one that cannot (its prefetch is used up, or its
/// channel's) leaves the rotation and waits until an acknowledgement frees it, then rejoins at
/// the back of its priority, in the order it left.
class ConsumerRotation {
public:
    void add(Consumer* c) { push_back(c); }
    /// Removes `c` wherever it is.
    void remove(const Consumer* c);

    bool has_active() const noexcept { return !active_.empty(); }
    /// The consumer at the front of the rotation, blocked ones aside; nullptr when none
    /// (rabbit_queue_consumers:get_consumer/1).
    Consumer* front() const noexcept { return active_.empty() ? nullptr : active_.front(); }
    /// Whether `c` waits with the blocked consumers (rabbit_queue_consumers:is_blocked/1).
    bool is_blocked(const Consumer* c) const noexcept;
    /// Moves `c` from wherever it stands in the rotation to the blocked consumers: a single
    /// active consumer that could not take a message (it is never popped to be offered one).
    void block_in_place(Consumer* c);
    Consumer* pop_front() {
        Consumer* c = active_.front();
        active_.pop_front();
        return c;
    }
    /// To the back of `c`'s priority (priority_queue:in/3).
    void push_back(Consumer* c) { insert_by_priority(active_, c); }
    /// `c` could not take a message: it waits with the other blocked consumers.
    void block(Consumer* c) { insert_by_priority(blocked_, c); }
    /// Moves back into the rotation, in the order they were blocked, every consumer of
    /// `channel` that `still_blocked` no longer holds back. Returns whether any moved.
    template <class Pred>
    bool unblock(const ChannelState* channel, Pred still_blocked);

    std::size_t size() const noexcept { return active_.size() + blocked_.size(); }
    bool empty() const noexcept { return size() == 0; }
    template <class Fn>
    void for_each(Fn&& fn) const {
        for (Consumer* c : active_) fn(c);
        for (Consumer* c : blocked_) fn(c);
    }

private:
    template <class Seq>
    static void insert_by_priority(Seq& seq, Consumer* c) {
        // The common case, every consumer at one priority, appends.
        if (seq.empty() || seq.back()->priority >= c->priority) {
            seq.push_back(c);
            return;
        }
        auto it = seq.end();
        while (it != seq.begin() && (*(it - 1))->priority < c->priority) --it;
        seq.insert(it, c);
    }

    std::deque<Consumer*> active_;
    std::deque<Consumer*> blocked_;
};

template <class Pred>
bool ConsumerRotation::unblock(const ChannelState* channel, Pred still_blocked) {
    bool moved = false;
    std::deque<Consumer*> kept;
    for (Consumer* c : blocked_) {
        if (c->channel == channel && !still_blocked(c)) {
            push_back(c);
            moved = true;
        } else {
            kept.push_back(c);
        }
    }
    blocked_.swap(kept);
    return moved;
}

}  // namespace warren::emulator
