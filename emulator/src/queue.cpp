#include "queue.hpp"

#include "journal.hpp"

#include <algorithm>
#include <stdexcept>

namespace warren::emulator {

Queue::Queue(std::string name, bool durable, bool exclusive, bool auto_delete,
             FieldTable arguments, ConnectionId owner, const QueueType& type)
    : name_(std::move(name)),
      type_(&type),
      rules_(&type.rules()),
      durable_(durable),
      auto_delete_(auto_delete),
      arguments_(std::move(arguments)),
      settings_(parse_queue_arguments(arguments_)),
      owner_(exclusive ? owner : 0),
      levels_(settings_.priority_queue ? settings_.max_priority + 1u : 1u) {
    if (type.rules().reject_publish_dlx_is_drop_head && settings_.overflow == Overflow::RejectPublishDlx)
        settings_.overflow = Overflow::DropHead;
    if (type.rules().log)
        log_ = std::make_unique<StreamLog>(settings_.max_segment_size.value_or(StreamLog::default_max_segment_size),
                                           settings_.max_length_bytes, settings_.max_age);
}

void Queue::enqueue(MessagePtr message, TimePoint now, std::optional<Duration> message_ttl) {
    QueuedMessage m;
    std::optional<Duration> ttl = settings_.message_ttl;
    if (message_ttl && (!ttl || *message_ttl < *ttl)) ttl = message_ttl;
    if (ttl) m.expires_at = now + *ttl;
    if (settings_.priority_queue) {
        // No priority counts as 0; above the maximum counts as the maximum.
        const std::uint8_t p = message->properties().priority.value_or(0);
        m.priority = std::min(p, settings_.max_priority);
    }
    m.sequence = next_sequence_++;
    ready_bytes_ += message->body_size();
    ++ready_count_;
    m.message = std::move(message);
    if (records(*m.message)) m.mark = journal_->message_put(journal_id_, m);
    level_of(m.priority).push_back(std::move(m));
    update_overflow_state();
}

void Queue::requeue(QueuedMessage message, ReturnPlace where) {
    message.redelivered = true;
    if (where == ReturnPlace::Back) message.sequence = next_sequence_++;
    if (where == ReturnPlace::Front) message.sequence = next_front_sequence_++;
    if (message.mark) message.mark.journal()->message_requeued(message.mark.id(), message);
    ready_bytes_ += message.message->body_size();
    ++ready_count_;
    auto& level = level_of(message.priority);
    auto pos = std::lower_bound(level.begin(), level.end(), message.sequence,
                                [](const QueuedMessage& m, std::uint64_t seq) {
                                    return m.sequence < seq;
                                });
    level.insert(pos, std::move(message));
}

const QueuedMessage& Queue::head() const {
    for (auto level = levels_.rbegin(); level != levels_.rend(); ++level)
        if (!level->empty()) return level->front();
    throw std::logic_error("Queue::head on an empty queue");
}

QueuedMessage Queue::pop() {
    for (auto level = levels_.rbegin(); level != levels_.rend(); ++level) {
        if (level->empty()) continue;
        QueuedMessage m = std::move(level->front());
        level->pop_front();
        ready_bytes_ -= m.message->body_size();
        --ready_count_;
        update_overflow_state();
        return m;
    }
    throw std::logic_error("Queue::pop on an empty queue");
}

std::size_t Queue::purge() {
    const std::size_t n = ready_count_;
    for (auto& level : levels_) level.clear();
    ready_count_ = 0;
    ready_bytes_ = 0;
    update_overflow_state();
    return n;
}

void Queue::keep_only_persistent() {
    for (auto& level : levels_) {
        std::deque<QueuedMessage> kept;
        for (QueuedMessage& m : level) {
            if (m.message->persistent()) {
                kept.push_back(std::move(m));
            } else {
                ready_bytes_ -= m.message->body_size();
                --ready_count_;
            }
        }
        level.swap(kept);
    }
}

void Queue::restore(QueuedMessage message) {
    if (message.sequence >= first_enqueue_sequence) next_sequence_ = std::max(next_sequence_, message.sequence + 1);
    else next_front_sequence_ = std::max(next_front_sequence_, message.sequence + 1);
    if (message.priority >= levels_.size()) message.priority = static_cast<std::uint8_t>(levels_.size() - 1);
    ready_bytes_ += message.message->body_size();
    ++ready_count_;
    auto& level = level_of(message.priority);
    auto pos = std::upper_bound(level.begin(), level.end(), message.sequence,
                                [](std::uint64_t seq, const QueuedMessage& m) { return seq < m.sequence; });
    level.insert(pos, std::move(message));
    update_overflow_state();
}

bool Queue::would_overflow(std::size_t body_size) const noexcept {
    return (settings_.max_length && ready_count_ + 1 > *settings_.max_length) ||
           (settings_.max_length_bytes && ready_bytes_ + body_size > *settings_.max_length_bytes);
}

bool Queue::refuses_publish(std::size_t body_size) const noexcept {
    return rules_->soft_reject_publish ? refusing_publishes_ : would_overflow(body_size);
}

void Queue::update_overflow_state() noexcept {
    if (!rules_->soft_reject_publish) return;
    // rabbit_fifo: over a limit, publishes are refused; they are taken again once the ready
    // messages are at most 80% of every limit (truncated).
    const auto below = [](std::optional<std::uint64_t> limit, std::uint64_t n) {
        return !limit || *limit * 4 / 5 >= n;
    };
    if (over_limit()) refusing_publishes_ = true;
    else if (below(settings_.max_length, ready_count_) && below(settings_.max_length_bytes, ready_bytes_))
        refusing_publishes_ = false;
}

bool Queue::over_limit() const noexcept {
    return (settings_.max_length && ready_count_ > *settings_.max_length) ||
           (settings_.max_length_bytes && ready_bytes_ > *settings_.max_length_bytes);
}

void Queue::remove_incoming(const Binding* b) {
    auto it = std::find(incoming_.begin(), incoming_.end(), b);
    if (it != incoming_.end()) incoming_.erase(it);
}

void Queue::settle_get_consumer(const ChannelState* ch, bool lingers) {
    auto it = std::find(get_consumers_.begin(), get_consumers_.end(), ch);
    if (it == get_consumers_.end()) return;
    get_consumers_.erase(it);
    if (lingers && std::find(lingering_get_channels_.begin(), lingering_get_channels_.end(), ch) ==
                       lingering_get_channels_.end())
        lingering_get_channels_.push_back(ch);
}

std::uint64_t Queue::add_cancelled_consumer(std::uint32_t held) {
    cancelled_consumers_.push_back(CancelledConsumer{next_cancelled_id_, held});
    return next_cancelled_id_++;
}

bool Queue::release_cancelled_consumer(std::uint64_t id) {
    auto it = std::find_if(cancelled_consumers_.begin(), cancelled_consumers_.end(),
                           [&](const CancelledConsumer& c) { return c.id == id; });
    if (it == cancelled_consumers_.end() || --it->held > 0) return false;
    cancelled_consumers_.erase(it);
    return true;
}

TimePoint Queue::expiry_due() const noexcept {
    const TimePoint at = last_used_ + *settings_.expires;
    const Duration tick = rules_->expiry_tick;
    if (tick == Duration{0}) return at;
    // The first of the queue's ticks at or after `at`.
    const auto ticks = std::max<std::int64_t>(1, ((at - started_) + tick - Duration{1}) / tick);
    return started_ + ticks * tick;
}

void Queue::forget_get_consumers(const ChannelState* ch) {
    std::erase(get_consumers_, ch);
    std::erase(lingering_get_channels_, ch);
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
