#include "client_core.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace warren::detail {
namespace {

template <class... F>
struct Overloaded : F... {
    using F::operator()...;
};

}  // namespace

AmqpError closed_by_client() { return AmqpError(ReplyCode::Success, "closed by the client"); }

// ---- ChannelCore ------------------------------------------------------------------------------

void ChannelCore::mark_closed(const AmqpError& why) {
    if (!closed_by_) closed_by_ = why;
}

void ChannelCore::ensure_open() const {
    if (closed_by_) throw ChannelClosed(*closed_by_);
}

void ChannelCore::note_publish() {
    if (confirm_mode_) unconfirmed_.insert(next_publish_seq_++);
}

void ChannelCore::on_return(ReturnCallback callback) {
    on_return_ = std::make_shared<ReturnCallback>(std::move(callback));
}

void ChannelCore::on_confirm(ConfirmCallback callback) {
    on_confirm_ = std::make_shared<ConfirmCallback>(std::move(callback));
}

// ---- ConnectionCore: closure ------------------------------------------------------------------

bool ConnectionCore::is_open() const {
    std::lock_guard lock(mutex_);
    return !closed_by_ && !lost_;
}

void ConnectionCore::ensure_open() const {
    std::lock_guard lock(mutex_);
    if (lost_) throw ClientError(*lost_);
    if (closed_by_) throw ConnectionClosed(*closed_by_);
}

void ConnectionCore::ensure_usable(const ChannelCore& channel) const {
    ensure_open();
    channel.ensure_open();
}

void ConnectionCore::note_closed(const AmqpError& error) {
    {
        std::lock_guard lock(mutex_);
        if (!closed_by_) closed_by_ = error;
    }
    event_queued_.notify_all();
}

void ConnectionCore::note_lost(std::string what) {
    {
        std::lock_guard lock(mutex_);
        if (!lost_) lost_ = std::move(what);
    }
    event_queued_.notify_all();
}

void ConnectionCore::settle_closed_by_client() {
    {
        std::lock_guard lock(mutex_);
        lost_.reset();
        if (!closed_by_) closed_by_ = closed_by_client();
    }
    event_queued_.notify_all();
}

std::optional<AmqpError> ConnectionCore::connection_closed_by() const {
    std::lock_guard lock(mutex_);
    return closed_by_;
}

// ---- ConnectionCore: events -------------------------------------------------------------------

void ConnectionCore::push(std::shared_ptr<ChannelCore> channel, Payload what) {
    {
        std::lock_guard lock(mutex_);
        std::visit([&](auto& payload) { events_.push_back(Event{channel, std::move(payload)}); },
                   what);
    }
    event_queued_.notify_all();
}

std::size_t ConnectionCore::queued_events() const {
    std::lock_guard lock(mutex_);
    return events_.size();
}

bool ConnectionCore::queued_for(const ChannelCore& channel, std::string_view tag,
                                bool count_deliveries) const {
    std::lock_guard lock(mutex_);
    return std::any_of(events_.begin(), events_.end(), [&](const Event& e) {
        if (e.channel.get() != &channel) return false;
        if (const auto* cancel = std::get_if<BrokerCancelled>(&e.what))
            return cancel->consumer_tag == tag;
        const auto* delivery = std::get_if<Delivery>(&e.what);
        return count_deliveries && delivery != nullptr && delivery->consumer_tag == tag;
    });
}

void ConnectionCore::add_consumer(ChannelCore& channel, std::string tag, ConsumerCallback callback,
                                  bool no_ack) {
    auto consumer = std::make_shared<ChannelCore::Consumer>(
        ChannelCore::Consumer{std::move(callback), no_ack});
    auto [it, added] = channel.consumers_.try_emplace(std::move(tag), consumer);
    if (added) return;
    // The broker accepted the tag again, so it had cancelled its holder: that consumer keeps
    // its queued deliveries until the broker's cancel is dispatched.
    if (queued_for(channel, it->first, /*count_deliveries=*/false))
        channel.retiring_[it->first].push_back(std::move(it->second));
    it->second = std::move(consumer);
}

void ConnectionCore::cancel_consumer(const std::shared_ptr<ChannelCore>& channel,
                                     std::string_view tag) {
    auto it = channel->consumers_.find(tag);
    if (it == channel->consumers_.end()) return;
    if (queued_for(*channel, tag, /*count_deliveries=*/true)) {
        channel->retiring_[it->first].push_back(it->second);
        std::lock_guard lock(mutex_);
        events_.push_back(Event{channel, ClientCancelled{it->first}});
    }
    channel->consumers_.erase(it);
}

// ---- ConnectionCore: dispatching --------------------------------------------------------------

bool ConnectionCore::await_broker(Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    event_queued_.wait_until(lock, deadline,
                             [&] { return !events_.empty() || closed_by_ || lost_; });
    return !events_.empty();
}

std::size_t ConnectionCore::process_events(std::chrono::milliseconds timeout) {
    // A callback may drop the last handle to this connection.
    const std::shared_ptr<ConnectionCore> keep_alive = shared_from_this();
    ensure_open();
    const auto deadline = Clock::now() + timeout;
    while (queued_events() == 0 && is_open() && await_broker(deadline)) {
    }
    take_in_sent();
    ensure_open();
    return dispatch();
}

// A connection the broker closed (or that was lost) dispatches nothing more and process_events
// throws: a real client learns of connection.close or a dead socket as it reads, ahead of the
// callbacks for what it read before, and the broker requeues whatever awaited an ack.
std::size_t ConnectionCore::dispatch() {
    std::size_t dispatched = 0;
    for (;;) {
        Event event;
        {
            std::lock_guard lock(mutex_);
            if (events_.empty() || closed_by_ || lost_) return dispatched;
            event = std::move(events_.front());
            events_.pop_front();
        }
        dispatched += dispatch_one(event);
    }
}

// process_events counts the events the broker sent that reached the application: a delivery
// handed to its consumer, a return, a confirm (one per basic.ack / basic.nack frame) and a
// broker's basic.cancel, each once, whether or not a callback is set for it. Not counted: a
// delivery no consumer takes (see below), the client's own cancel, and a channel's close,
// which surfaces as ChannelClosed at the channel's next call.
std::size_t ConnectionCore::dispatch_one(Event& event) {
    ChannelCore& channel = *event.channel;
    return std::visit(
        Overloaded{
            [&](const Delivery& delivery) -> std::size_t {
                std::shared_ptr<ChannelCore::Consumer> consumer;
                if (auto r = channel.retiring_.find(delivery.consumer_tag); r != channel.retiring_.end())
                    consumer = r->second.front();
                else if (auto c = channel.consumers_.find(delivery.consumer_tag); c != channel.consumers_.end())
                    consumer = c->second;
                if (!consumer) return 0;
                // Once the channel is closed the broker has requeued what awaited an ack:
                // handing it out would invite an ack that cannot be sent, and the message is
                // redelivered elsewhere. A no-ack delivery is the consumer's to keep.
                if (channel.is_closed() && !consumer->no_ack) return 0;
                consumer->callback(delivery);
                return 1;
            },
            [&](const Returned& returned) -> std::size_t {
                const std::shared_ptr<ReturnCallback> callback = channel.on_return_;
                if (callback && *callback) (*callback)(returned);
                return 1;
            },
            [&](const Confirm& confirm) -> std::size_t {
                auto& unconfirmed = channel.unconfirmed_;
                if (confirm.multiple)
                    unconfirmed.erase(unconfirmed.begin(), unconfirmed.upper_bound(confirm.delivery_tag));
                else
                    unconfirmed.erase(confirm.delivery_tag);
                if (!confirm.ack) channel.nacked_ = true;
                const std::shared_ptr<ConfirmCallback> callback = channel.on_confirm_;
                if (callback && *callback) (*callback)(confirm);
                return 1;
            },
            [&](const BrokerCancelled& cancel) -> std::size_t {
                // The oldest retired holder of the tag is the one cancelled; with none, the
                // live consumer is.
                if (auto r = channel.retiring_.find(cancel.consumer_tag); r != channel.retiring_.end()) {
                    r->second.pop_front();
                    if (r->second.empty()) channel.retiring_.erase(r);
                } else {
                    channel.consumers_.erase(cancel.consumer_tag);
                }
                return 1;
            },
            [&](const ClientCancelled& cancel) -> std::size_t {
                if (auto r = channel.retiring_.find(cancel.consumer_tag); r != channel.retiring_.end()) {
                    r->second.pop_front();
                    if (r->second.empty()) channel.retiring_.erase(r);
                }
                return 0;
            },
            [&](const ChannelClosedByBroker& closed) -> std::size_t {
                channel.mark_closed(closed.error);
                return 0;
            },
        },
        event.what);
}

bool ConnectionCore::wait_for_confirms(ChannelCore& channel, std::chrono::milliseconds timeout) {
    const std::shared_ptr<ConnectionCore> keep_alive = shared_from_this();
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        dispatch();
        ensure_usable(channel);
        if (channel.unconfirmed_.empty()) {
            const bool all_acked = !channel.nacked_;
            channel.nacked_ = false;
            return all_acked;
        }
        if (!await_broker(deadline)) {
            ensure_usable(channel);
            throw ClientError(fmt::format(
                "wait_for_confirms: {} publishes on channel {} still unconfirmed after {} ms",
                channel.unconfirmed_.size(), channel.id(), timeout.count()));
        }
    }
}

}  // namespace warren::detail
