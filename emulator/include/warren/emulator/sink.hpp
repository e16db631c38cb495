// How the model speaks to a connection: everything a broker sends without being asked
// (deliveries, returns, confirms, cancellations, closes). The in-process client queues these
// for Connection::process_events; warren-server encodes them as frames.
//
// The model calls a sink synchronously, from inside whatever model call caused the event,
// with the model's lock held: a sink must only record what it is told, never call back into
// the Broker.
#pragma once

#include <cstdint>
#include <string_view>

#include "warren/emulator/stored_message.hpp"
#include "warren/protocol/reply_code.hpp"

namespace warren::emulator {

using ConnectionId = std::uint64_t;
using ChannelId = std::uint16_t;

/// basic.deliver: the message's exchange and routing key are on `message`.
struct DeliverEvent {
    std::string_view consumer_tag;
    std::uint64_t delivery_tag = 0;
    bool redelivered = false;
    const StoredMessage& message;
};

/// basic.return for a mandatory message that reached no queue.
struct ReturnEvent {
    ReplyCode reply_code = ReplyCode::NoRoute;
    std::string_view reply_text;
    const StoredMessage& message;
};

/// 320 CONNECTION_FORCED, as a broker shutting down closes every connection
/// (rabbit_networking:close_all_connections): what Broker::restart sends, and warren-server
/// on SIGTERM.
AmqpError shutdown_error();

class ConnectionSink {
public:
    virtual ~ConnectionSink() = default;
    virtual void on_deliver(ChannelId channel, const DeliverEvent& event) = 0;
    virtual void on_return(ChannelId channel, const ReturnEvent& event) = 0;
    /// Publisher confirm: basic.ack (ack = true) or basic.nack for `sequence` (and all before
    /// it when `multiple`).
    virtual void on_confirm(ChannelId channel, std::uint64_t sequence, bool multiple, bool ack) = 0;
    /// The broker cancelled a consumer (its queue was deleted): basic.cancel from the server.
    virtual void on_consumer_cancelled(ChannelId channel, std::string_view consumer_tag) = 0;
    /// The broker closed the whole connection (restart, forced close).
    virtual void on_connection_closed(const AmqpError& error) = 0;
    /// The connection was cut as a network failure cuts it (Broker::cut_connection): no close
    /// was exchanged; the client finds its socket gone.
    virtual void on_connection_lost() = 0;
    /// Whether deliveries to `channel` may go out now. A connection whose socket is behind
    /// (warren-server's per-connection output limit) refuses them: the model passes its
    /// consumers over, as RabbitMQ's credit flow passes over a channel with too many unsent
    /// messages, until detail::BrokerMethods::resume_deliveries. Called with the model's lock held.
    virtual bool accepting_deliveries(ChannelId /*channel*/) { return true; }
    /// Inside the tx.commit handler, where RabbitMQ's tx.commit-ok falls among the events the
    /// commit causes, for a sink that writes frames: after the transaction's returns; before
    /// the deliveries when no publish of the transaction reached a queue, after them otherwise
    /// (RabbitMQ then waits for the queues to take the publishes). Called with the model's lock
    /// held.
    virtual void on_tx_commit_ok(ChannelId /*channel*/) {}
};

}  // namespace warren::emulator
