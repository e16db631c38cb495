// One AMQP connection served from the Broker, without I/O: the protocol engine
// (protocol::ServerConnection) below, the Broker above. It answers the engine's callbacks with
// Broker calls and their replies, and turns what the Broker sends unasked (deliveries,
// returns, confirms, cancellations, forced closes) into frames. The session that owns it moves
// bytes between the socket and engine().
//
// Order of frames: a synchronous method's reply goes out before anything the same call caused
// on this connection (the deliveries a basic.consume or basic.recover starts, the basic.cancel
// a queue.delete causes), as RabbitMQ's channel replies before its queues act.
//
// Threading: single-threaded, on the server's executor. The Broker calls the sink half with its
// lock held; the sink only encodes frames and tells the owner, never calls the Broker.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "warren/emulator/broker.hpp"
#include "warren/emulator/detail/broker_methods.hpp"
#include "warren/protocol/server_connection.hpp"
#include "warren/server/log.hpp"
#include "warren/server/options.hpp"

namespace warren::server {

/// The peer, for the loopback check and the logs.
struct Peer {
    std::uint64_t id = 0;    // the server's number for the connection, in order of acceptance
    std::string remote;      // "127.0.0.1:40000"
    std::string local;       // "127.0.0.1:5672"
    bool loopback = true;    // the peer's address is a loopback address
};

/// What the owning session does for the connection.
class ConnectionOwner {
public:
    virtual ~ConnectionOwner() = default;
    /// Output was added outside the owner's own call into the connection (a delivery caused by
    /// another connection's publish, a broker timer): write it once the current event is done.
    virtual void output_added() = 0;
    /// Broker::cut_connection: drop the socket as a network failure would (never from inside
    /// this call: the Broker is still working on the connection).
    virtual void cut() = 0;
    /// A message of `bytes` was published (for the memory watermark's checks).
    virtual void published(std::size_t /*bytes*/) {}
};

class BrokerConnection final : private protocol::ServerHandler, private emulator::ConnectionSink {
public:
    using Clock = protocol::ServerConnection::Clock;

    BrokerConnection(Broker& broker, const ServerOptions& options, const Logger& log, Peer peer,
                     ConnectionOwner& owner, Clock::time_point now = Clock::now());
    ~BrokerConnection() override;
    BrokerConnection(const BrokerConnection&) = delete;
    BrokerConnection& operator=(const BrokerConnection&) = delete;

    // ---- the session's side ----
    void feed(protocol::ByteView bytes) { engine_.feed(bytes); }
    void tick(Clock::time_point now) { engine_.on_tick(now); }
    /// The socket is gone: the Broker closes the connection (unacknowledged messages requeued,
    /// exclusive queues deleted).
    void transport_closed() { engine_.transport_closed(); }
    /// Broker shutdown: connection.close 320 CONNECTION_FORCED, or a plain close before the
    /// handshake is done.
    void shutdown();

    protocol::ServerConnection& engine() noexcept { return engine_; }
    const protocol::ServerConnection& engine() const noexcept { return engine_; }
    const Peer& peer() const noexcept { return peer_; }
    /// The Broker's id for the connection, once connection.open succeeded and until it closed.
    std::optional<emulator::ConnectionId> broker_id() const noexcept { return id_; }
    /// "<conn 3 127.0.0.1:40000 -> 127.0.0.1:5672>", with " ch N" inside for a channel.
    std::string context(std::uint16_t channel = 0) const;

    // ---- backpressure ----
    /// Output not yet taken by the session: the engine's, and replies' followers held back.
    std::size_t unwritten() const noexcept { return engine_.output().size() + deferred_bytes_; }
    /// The session wrote some output: when deliveries were refused and the output is down to
    /// the low water mark, the Broker resumes them.
    void output_drained();
    /// Whether the Broker found this connection refusing deliveries since the last resume.
    bool deliveries_paused() const noexcept { return deliveries_refused_; }

    // ---- memory alarm ----
    /// The server's memory alarm changed. While it is on, a connection that publishes is
    /// blocked (rabbit_reader's blocking -> blocked): connection.blocked goes to clients with
    /// the capability, and the session stops reading until the alarm clears.
    void set_memory_alarm(bool on);
    bool blocked() const noexcept { return throttle_ == Throttle::blocked; }

private:
    enum class Throttle { running, blocking, blocked };

    struct ChannelState {
        std::set<std::string, std::less<>> consumers;
    };

    /// A frame held back until the current method's reply is out.
    struct Outgoing {
        std::uint16_t channel = 0;
        protocol::Method method;
        std::optional<Message> content;
        std::string encoded_properties = {};  // the stored message's, sent in place of content's
    };

    // protocol::ServerHandler
    bool authenticate(const protocol::Credentials& credentials) override;
    std::optional<AmqpError> open_vhost(const std::string& user, const std::string& vhost) override;
    void on_connection_opened(const protocol::ConnectionInfo& info) override;
    void on_channel_opened(std::uint16_t channel) override;
    void on_method(std::uint16_t channel, protocol::Method&& method) override;
    void on_publish(std::uint16_t channel, protocol::BasicPublish&& method, Message&& message,
                    protocol::ByteView encoded_properties) override;
    void on_content_frame(std::uint16_t channel) override;
    void on_channel_closed(std::uint16_t channel, const protocol::ChannelEnd& end) override;
    void on_connection_closed(const protocol::ConnectionEnd& end) override;

    // emulator::ConnectionSink
    void on_deliver(emulator::ChannelId channel, const emulator::DeliverEvent& event) override;
    void on_return(emulator::ChannelId channel, const emulator::ReturnEvent& event) override;
    void on_confirm(emulator::ChannelId channel, std::uint64_t sequence, bool multiple, bool ack) override;
    void on_consumer_cancelled(emulator::ChannelId channel, std::string_view consumer_tag) override;
    void on_connection_closed(const AmqpError& error) override;
    void on_connection_lost() override;
    bool accepting_deliveries(emulator::ChannelId channel) override;
    void on_tx_commit_ok(emulator::ChannelId channel) override;

    // One handler per method the engine hands over.
    void handle(emulator::ChannelRef ch, protocol::ExchangeDeclare& m);
    void handle(emulator::ChannelRef ch, protocol::ExchangeDelete& m);
    void handle(emulator::ChannelRef ch, protocol::ExchangeBind& m);
    void handle(emulator::ChannelRef ch, protocol::ExchangeUnbind& m);
    void handle(emulator::ChannelRef ch, protocol::QueueDeclare& m);
    void handle(emulator::ChannelRef ch, protocol::QueueBind& m);
    void handle(emulator::ChannelRef ch, protocol::QueueUnbind& m);
    void handle(emulator::ChannelRef ch, protocol::QueuePurge& m);
    void handle(emulator::ChannelRef ch, protocol::QueueDelete& m);
    void handle(emulator::ChannelRef ch, protocol::BasicQos& m);
    void handle(emulator::ChannelRef ch, protocol::BasicConsume& m);
    void handle(emulator::ChannelRef ch, protocol::BasicCancel& m);
    void handle(emulator::ChannelRef ch, protocol::BasicGet& m);
    void handle(emulator::ChannelRef ch, protocol::BasicAck& m);
    void handle(emulator::ChannelRef ch, protocol::BasicNack& m);
    void handle(emulator::ChannelRef ch, protocol::BasicReject& m);
    void handle(emulator::ChannelRef ch, protocol::BasicRecover& m);
    void handle(emulator::ChannelRef ch, protocol::BasicRecoverAsync& m);
    void handle(emulator::ChannelRef ch, protocol::BasicCredit& m);
    void handle(emulator::ChannelRef ch, protocol::ConfirmSelect& m);
    void handle(emulator::ChannelRef ch, protocol::TxSelect& m);
    void handle(emulator::ChannelRef ch, protocol::TxCommit& m);
    void handle(emulator::ChannelRef ch, protocol::TxRollback& m);
    template <class M>
    void handle(emulator::ChannelRef ch, M& m);

    /// Sends the reply when `status` is fine (and `no_wait` is not set); else fails.
    bool answer(emulator::ChannelRef ch, const Status& status, bool no_wait, const protocol::Method& reply);
    /// An error the Broker returned: it has already closed the channel (soft) or the
    /// connection (hard); tell the peer.
    void failed(emulator::ChannelRef ch, const AmqpError& error);
    /// An error found here, not by the Broker: close the channel (or connection) in the Broker
    /// too, then tell the peer.
    void refuse(emulator::ChannelRef ch, const AmqpError& error);
    bool publish(emulator::ChannelRef ch, const protocol::BasicPublish& m, Message message,
                 std::string encoded_properties);

    void emit(Outgoing&& out);
    void send_now(const Outgoing& out);
    void flush_deferred();
    ChannelState* channel_state(std::uint16_t channel);
    bool model_open() const noexcept { return id_.has_value(); }

    detail::BrokerMethods methods_;
    const ServerOptions& options_;
    const Logger& log_;
    Peer peer_;
    ConnectionOwner& owner_;
    protocol::ServerConnection engine_;

    std::optional<emulator::ConnectionId> id_;
    std::string user_;
    std::string vhost_;
    std::map<std::uint16_t, ChannelState> channels_;

    bool deferring_ = false;
    std::vector<Outgoing> deferred_;
    std::size_t deferred_bytes_ = 0;
    bool deliveries_refused_ = false;
    Throttle throttle_ = Throttle::running;
    bool memory_alarm_ = false;
};

}  // namespace warren::server
