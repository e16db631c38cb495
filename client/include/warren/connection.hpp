// The facade: warren::Connection and warren::Channel, one type whatever the backend.
//
// Errors: a broker refusal throws warren::AmqpError with RabbitMQ's code and text. A channel
// error closes that channel: later calls on it throw warren::ChannelClosed carrying the
// error. A connection error closes the connection: later calls throw ConnectionClosed.
// A publish is asynchronous, as on the wire: an error it causes (say, 404 for a missing
// exchange) closes the channel, and the next call on that channel throws ChannelClosed with it.
//
// Callbacks (consumers, on_return, on_confirm) run only inside Connection::process_events
// (and Channel::wait_for_confirms), on the calling thread, in the order the broker sent them.
// A callback may publish, ack or declare; what that causes is dispatched within the same
// process_events call, without recursion.
//
// Thread safety: on the in-process backend, separate Connections may be used from separate
// threads (the Broker has one lock). One Connection and its Channels belong to one thread at
// a time, on both backends.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "warren/delivery.hpp"
#include "warren/detail/backend.hpp"
#include "warren/emulator/broker.hpp"
#include "warren/errors.hpp"
#include "warren/options.hpp"

namespace warren {

class Channel {
public:
    explicit Channel(std::shared_ptr<detail::ChannelBackend> backend) : b_(std::move(backend)) {}

    std::uint16_t id() const { return b_->id(); }
    bool is_open() const { return b_->is_open(); }
    /// channel.close; unacknowledged messages return to their queues. Deliveries already
    /// received but not yet dispatched are dropped then (so are they when an error closes the
    /// channel), except no-ack ones, which still reach their consumer.
    void close() { b_->close(); }

    void exchange_declare(std::string_view exchange, std::string_view type = "direct",
                          const ExchangeOptions& options = {}) {
        b_->exchange_declare(exchange, type, options);
    }
    void exchange_delete(std::string_view exchange, const ExchangeDeleteOptions& options = {}) {
        b_->exchange_delete(exchange, options);
    }
    void exchange_bind(std::string_view destination, std::string_view source,
                       std::string_view routing_key = "", const FieldTable& arguments = {}) {
        b_->exchange_bind(destination, source, routing_key, arguments);
    }
    void exchange_unbind(std::string_view destination, std::string_view source,
                         std::string_view routing_key = "", const FieldTable& arguments = {}) {
        b_->exchange_unbind(destination, source, routing_key, arguments);
    }
    /// An empty name asks the broker to name the queue; the answer carries the name.
    QueueDeclareOk queue_declare(std::string_view queue = "", const QueueOptions& options = {}) {
        return b_->queue_declare(queue, options);
    }
    void queue_bind(std::string_view queue, std::string_view exchange,
                    std::string_view routing_key = "", const FieldTable& arguments = {}) {
        b_->queue_bind(queue, exchange, routing_key, arguments);
    }
    void queue_unbind(std::string_view queue, std::string_view exchange,
                      std::string_view routing_key = "", const FieldTable& arguments = {}) {
        b_->queue_unbind(queue, exchange, routing_key, arguments);
    }
    /// Returns how many messages were purged.
    std::uint32_t queue_purge(std::string_view queue) { return b_->queue_purge(queue); }
    /// Returns how many messages the queue held.
    std::uint32_t queue_delete(std::string_view queue, const QueueDeleteOptions& options = {}) {
        return b_->queue_delete(queue, options);
    }

    void basic_qos(std::uint16_t prefetch_count, bool global = false,
                   std::uint32_t prefetch_size = 0) {
        b_->basic_qos(prefetch_count, global, prefetch_size);
    }
    void basic_publish(std::string_view exchange, std::string_view routing_key,
                       const Message& message, const PublishOptions& options = {}) {
        b_->basic_publish(exchange, routing_key, message, options);
    }
    /// basic.get: nullopt when the queue has no ready message.
    std::optional<Delivery> basic_get(std::string_view queue, bool no_ack = false) {
        return b_->basic_get(queue, no_ack);
    }
    /// Returns the consumer tag. `callback` runs inside Connection::process_events.
    std::string basic_consume(std::string_view queue, ConsumerCallback callback,
                              const ConsumeOptions& options = {}) {
        return b_->basic_consume(queue, std::move(callback), options);
    }
    void basic_cancel(std::string_view consumer_tag) { b_->basic_cancel(consumer_tag); }
    void basic_ack(std::uint64_t delivery_tag, bool multiple = false) {
        b_->basic_ack(delivery_tag, multiple);
    }
    void basic_nack(std::uint64_t delivery_tag, bool multiple = false, bool requeue = true) {
        b_->basic_nack(delivery_tag, multiple, requeue);
    }
    void basic_reject(std::uint64_t delivery_tag, bool requeue = true) {
        b_->basic_reject(delivery_tag, requeue);
    }
    void basic_recover(bool requeue = true) { b_->basic_recover(requeue); }

    void confirm_select() { b_->confirm_select(); }
    /// Processes events until every message published since confirm_select is confirmed.
    /// True when all were acked, false when any was nacked; throws ClientError on timeout.
    bool wait_for_confirms(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        return b_->wait_for_confirms(timeout);
    }
    void on_return(ReturnCallback callback) { b_->on_return(std::move(callback)); }
    void on_confirm(ConfirmCallback callback) { b_->on_confirm(std::move(callback)); }

    /// tx.select: the channel's publishes, acks, nacks and rejects wait for tx_commit (or are
    /// undone by tx_rollback). An unknown delivery tag is still refused when the ack arrives.
    void tx_select() { b_->tx_select(); }
    /// tx.commit: the publishes reach the queues they were routed to when published (mandatory
    /// returns are sent now), then the acknowledgements take effect.
    void tx_commit() { b_->tx_commit(); }
    /// tx.rollback: the publishes are dropped; acknowledged deliveries are unacknowledged again.
    void tx_rollback() { b_->tx_rollback(); }

private:
    std::shared_ptr<detail::ChannelBackend> b_;
};

class Connection {
public:
    explicit Connection(std::shared_ptr<detail::ConnectionBackend> backend)
        : b_(std::move(backend)) {}

    /// Opens a new channel.
    Channel channel() { return Channel(b_->open_channel()); }
    /// Runs the callbacks for everything the broker has sent; with a timeout, waits up to it
    /// for the first event. Returns how many events it dispatched: deliveries handed to a
    /// consumer, and returns, confirms and the broker's consumer cancellations (whether or not
    /// a callback is set for them). Throws ConnectionClosed once the connection is closed, ClientError once
    /// it is lost; what was still queued then is not dispatched.
    std::size_t process_events(std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
        return b_->process_events(timeout);
    }
    void close() { b_->close(); }
    bool is_open() const { return b_->is_open(); }

private:
    std::shared_ptr<detail::ConnectionBackend> b_;
};

/// An in-process connection to `broker`. Throws AmqpError (530) for an unknown vhost and
/// 403 ACCESS_REFUSED for a bad user or password.
Connection connect(Broker& broker, const ConnectOptions& options = {});

/// A connection to a real broker through rabbitmq-c: "amqp://user:pass@host:port/vhost" with
/// RabbitMQ's URI rules (%2f for "/"; defaults guest:guest@localhost:5672, vhost "/").
/// Defined in warren::client_amqp: link that target to use it.
Connection connect(std::string_view uri);

}  // namespace warren
