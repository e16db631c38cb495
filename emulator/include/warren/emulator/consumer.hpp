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
    /// Per-consumer prefetch (basic.qos global=false in force when it was created); 0 is no
    /// limit. No-ack consumers never have one (rabbit_queue_consumers:add/11).
    std::uint32_t prefetch = 0;
    /// Deliveries it may still receive unacknowledged, when prefetch > 0.
    std::uint32_t credit = 0;

    bool credit_exhausted() const noexcept { return prefetch > 0 && credit == 0; }
};

/// Round-robin order among a queue's consumers, after rabbit_queue_consumers: the queue
/// offers the head message to the consumer at the front; one that takes it moves to the back;
/// one that cannot (its prefetch is used up, or its channel's) leaves the rotation and waits,
/// per channel, until an acknowledgement frees it, then rejoins at the back in the order it
/// left.
class ConsumerRotation {
public:
    void add(Consumer* c) { active_.push_back(c); }
    /// Removes `c` wherever it is.
    void remove(const Consumer* c);

    bool has_active() const noexcept { return !active_.empty(); }
    Consumer* pop_front() {
        Consumer* c = active_.front();
        active_.pop_front();
        return c;
    }
    void push_back(Consumer* c) { active_.push_back(c); }
    /// `c` could not take a message: it waits with its channel's other blocked consumers.
    void block(Consumer* c) { blocked_.push_back(c); }
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
    std::deque<Consumer*> active_;
    std::vector<Consumer*> blocked_;
};

template <class Pred>
bool ConsumerRotation::unblock(const ChannelState* channel, Pred still_blocked) {
    bool moved = false;
    std::vector<Consumer*> kept;
    kept.reserve(blocked_.size());
    for (Consumer* c : blocked_) {
        if (c->channel == channel && !still_blocked(c)) {
            active_.push_back(c);
            moved = true;
        } else {
            kept.push_back(c);
        }
    }
    blocked_.swap(kept);
    return moved;
}

}  // namespace warren::emulator
