// The client half both backends share: consumers, publisher confirms, the queue of what the
// broker sent, and how process_events and wait_for_confirms hand it to callbacks. A backend
// only moves frames (rabbitmq-c) or calls the model (in-process) and feeds what the broker
// sends into ConnectionCore; every callback a caller observes is decided here, once.
//
// Private to warren::client and warren::client_amqp: not installed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "warren/detail/backend.hpp"
#include "warren/errors.hpp"

namespace warren::detail {

using Clock = std::chrono::steady_clock;

/// What a channel or connection closed by the client carries: 200 "closed by the client".
AmqpError closed_by_client();

/// basic.cancel from the broker (the consumer's queue went away).
struct BrokerCancelled {
    std::string consumer_tag;
};
/// The broker closed the channel on its own account, learnt in order with the other events.
struct ChannelClosedByBroker {
    AmqpError error;
};

/// One channel's consumers, callbacks, confirm tracking and closure, shared by its handle and
/// the events queued for it, so that an event never reaches a later channel reusing its id.
/// Used on the connection's thread only.
class ChannelCore {
public:
    explicit ChannelCore(std::uint16_t id) : id_(id) {}
    virtual ~ChannelCore() = default;
    ChannelCore(const ChannelCore&) = delete;
    ChannelCore& operator=(const ChannelCore&) = delete;

    std::uint16_t id() const { return id_; }
    bool is_closed() const { return closed_by_.has_value(); }
    const std::optional<AmqpError>& closed_by() const { return closed_by_; }
    /// Records why the channel closed; a later reason does not replace the first.
    void mark_closed(const AmqpError& why);
    /// Throws ChannelClosed carrying the reason once the channel is closed.
    void ensure_open() const;

    void select_confirms() { confirm_mode_ = true; }
    /// A publish went out: under confirm_select it awaits the broker's ack or nack.
    void note_publish();
    std::size_t unconfirmed() const { return unconfirmed_.size(); }

    void on_return(ReturnCallback callback);
    void on_confirm(ConfirmCallback callback);

private:
    friend class ConnectionCore;

    struct Consumer {
        ConsumerCallback callback;
        bool no_ack = false;
    };

    const std::uint16_t id_;
    std::optional<AmqpError> closed_by_;

    std::map<std::string, std::shared_ptr<Consumer>, std::less<>> consumers_;
    /// Consumers that left `consumers_` while events for them were still queued, oldest first
    /// per tag: a client's cancel, or a broker's cancel whose tag the client took again. Each
    /// leaves at its cancel event, so the deliveries queued before it still reach it even when
    /// a new consumer holds the tag.
    std::map<std::string, std::deque<std::shared_ptr<Consumer>>, std::less<>> retiring_;

    std::shared_ptr<ReturnCallback> on_return_;
    std::shared_ptr<ConfirmCallback> on_confirm_;

    bool confirm_mode_ = false;
    /// Publish sequence numbers count from 1 after confirm.select, as the broker counts them.
    std::uint64_t next_publish_seq_ = 1;
    std::set<std::uint64_t> unconfirmed_;
    /// Whether a nack arrived since the last wait_for_confirms.
    bool nacked_ = false;
};

/// A connection's queue of events and its closure; process_events is defined here. A backend
/// derives from it, pushes what the broker sends and implements the transport hooks.
///
/// Thread safety: push, note_closed, note_lost, is_open and ensure_open may be called from any
/// thread (the in-process broker calls its sink from the publisher's thread); all else runs on
/// the connection's thread. Callbacks run with no lock held.
class ConnectionCore : public ConnectionBackend,
                       public std::enable_shared_from_this<ConnectionCore> {
public:
    using Payload = std::variant<Delivery, Returned, Confirm, BrokerCancelled, ChannelClosedByBroker>;

    /// Waits up to `timeout` for the first event, takes in what else has arrived, then
    /// dispatches. Throws ConnectionClosed once the connection is closed and ClientError once
    /// it is lost: a closed connection hands out nothing more (see dispatch()).
    std::size_t process_events(std::chrono::milliseconds timeout) final;
    bool is_open() const final;

    /// Throws ClientError when the connection was lost, ConnectionClosed when it is closed.
    void ensure_open() const;
    /// ensure_open, then the channel's ChannelClosed.
    void ensure_usable(const ChannelCore& channel) const;
    /// The broker closed the connection (connection.close, a hard error, a restart); the first
    /// closure stands.
    void note_closed(const AmqpError& error);
    /// The transport failed without a close; `what` is the ClientError text from now on.
    void note_lost(std::string what);
    /// The client closed the connection: closed by the client unless the broker closed it
    /// first, and no longer lost (a close that failed on the wire closes all the same).
    void settle_closed_by_client();
    /// Why the broker or client closed the connection, if it did.
    std::optional<AmqpError> connection_closed_by() const;

    /// Queues what the broker sent on `channel`, behind everything queued before.
    void push(std::shared_ptr<ChannelCore> channel, Payload what);

    /// After basic.consume-ok: deliveries to `tag` on `channel` reach `callback`.
    void add_consumer(ChannelCore& channel, std::string tag, ConsumerCallback callback, bool no_ack);
    /// After the client's basic.cancel-ok: deliveries queued before it still reach the old
    /// callback, as on the wire they precede cancel-ok; the tag is free at once.
    void cancel_consumer(const std::shared_ptr<ChannelCore>& channel, std::string_view tag);

    /// Dispatches events until every publish on `channel` since confirm_select is confirmed.
    /// True when all were acked, false when any was nacked since the last wait; throws
    /// ClientError when `timeout` passes first, and the channel's or connection's error when
    /// it closes first.
    bool wait_for_confirms(ChannelCore& channel, std::chrono::milliseconds timeout);

protected:
    /// Waits until `deadline` for the broker to send something and takes it in; false when
    /// nothing came. The default suits a backend whose events are pushed by another party: it
    /// waits until an event is queued or the connection closes.
    virtual bool await_broker(Clock::time_point deadline);
    /// Takes in, without waiting, what the broker has already sent.
    virtual void take_in_sent() {}
    std::size_t queued_events() const;

private:
    /// The end of a consumer the client cancelled while events for it were queued; internal,
    /// so never counted.
    struct ClientCancelled {
        std::string consumer_tag;
    };
    struct Event {
        std::shared_ptr<ChannelCore> channel;
        std::variant<Delivery, Returned, Confirm, BrokerCancelled, ChannelClosedByBroker,
                     ClientCancelled>
            what;
    };

    /// Runs the queued events' callbacks in arrival order, including events the callbacks
    /// cause, until none is left or the connection is closed. Returns how many it dispatched.
    std::size_t dispatch();
    std::size_t dispatch_one(Event& event);
    /// Whether the broker's cancel of `tag` on `channel` is queued, or (`count_deliveries`)
    /// a delivery to it.
    bool queued_for(const ChannelCore& channel, std::string_view tag, bool count_deliveries) const;

    mutable std::mutex mutex_;
    std::condition_variable event_queued_;
    std::deque<Event> events_;                // guarded by mutex_
    std::optional<AmqpError> closed_by_;      // guarded by mutex_
    std::optional<std::string> lost_;         // guarded by mutex_
};

/// The part of a channel handle that both backends share.
class ChannelHandleCore : public ChannelBackend {
public:
    ChannelHandleCore(std::shared_ptr<ConnectionCore> connection, std::shared_ptr<ChannelCore> channel)
        : core_connection_(std::move(connection)), core_channel_(std::move(channel)) {}

    std::uint16_t id() const final { return core_channel_->id(); }
    bool is_open() const final { return core_connection_->is_open() && !core_channel_->is_closed(); }
    bool wait_for_confirms(std::chrono::milliseconds timeout) final {
        return core_connection_->wait_for_confirms(*core_channel_, timeout);
    }
    void on_return(ReturnCallback callback) final { core_channel_->on_return(std::move(callback)); }
    void on_confirm(ConfirmCallback callback) final { core_channel_->on_confirm(std::move(callback)); }

protected:
    const std::shared_ptr<ConnectionCore> core_connection_;
    const std::shared_ptr<ChannelCore> core_channel_;
};

}  // namespace warren::detail
