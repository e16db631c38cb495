#include "warren/emulator/queue.hpp"

#include <algorithm>

namespace warren::emulator {

Queue::Queue(std::string name, bool durable, bool exclusive, bool auto_delete,
             FieldTable arguments, ConnectionId owner)
    : name_(std::move(name)),
      durable_(durable),
      auto_delete_(auto_delete),
      arguments_(std::move(arguments)),
      owner_(exclusive ? owner : 0) {}

void Queue::enqueue(MessagePtr message) {
    ready_bytes_ += message->body_size();
    ready_.push_back(QueuedMessage{std::move(message), next_sequence_++, false});
}

void Queue::requeue(QueuedMessage message) {
    message.redelivered = true;
    ready_bytes_ += message.message->body_size();
    // Most requeues go to the head (the oldest unacknowledged message); search from there.
    auto pos = std::lower_bound(ready_.begin(), ready_.end(), message.sequence,
                                [](const QueuedMessage& m, std::uint64_t seq) {
                                    return m.sequence < seq;
                                });
    ready_.insert(pos, std::move(message));
}

QueuedMessage Queue::pop() {
    QueuedMessage m = std::move(ready_.front());
    ready_.pop_front();
    ready_bytes_ -= m.message->body_size();
    return m;
}

std::size_t Queue::purge() {
    const std::size_t n = ready_.size();
    ready_.clear();
    ready_bytes_ = 0;
    return n;
}

void Queue::remove_incoming(const Binding* b) {
    auto it = std::find(incoming_.begin(), incoming_.end(), b);
    if (it != incoming_.end()) incoming_.erase(it);
}

bool Queue::channel_suspended(const ChannelState* ch) const {
    return std::find(suspended_channels_.begin(), suspended_channels_.end(), ch) !=
           suspended_channels_.end();
}

void Queue::set_channel_suspended(const ChannelState* ch, bool suspended) {
    auto it = std::find(suspended_channels_.begin(), suspended_channels_.end(), ch);
    if (suspended && it == suspended_channels_.end()) suspended_channels_.push_back(ch);
    if (!suspended && it != suspended_channels_.end()) suspended_channels_.erase(it);
}

}  // namespace warren::emulator
