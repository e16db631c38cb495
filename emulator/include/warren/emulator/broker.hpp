// The broker model: vhosts with their exchanges, queues and bindings; connections with their
// channels, consumers and unacknowledged deliveries; and the clock.
//
// Thread safety: every public member takes the Broker's one lock, so a Broker may be shared
// by threads; the model underneath is single-threaded plain code. Sinks are called with the
// lock held and must not call back into the Broker.
//
// Errors: the AMQP method surface answers with Result/Status carrying RabbitMQ's reply code
// and text. When the error is a channel error the model has already closed that channel
// (unacknowledged messages requeued, consumers cancelled); when it is a connection error it
// has closed the connection.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warren/emulator/clock.hpp"
#include "warren/emulator/inspection.hpp"
#include "warren/emulator/methods.hpp"
#include "warren/emulator/result.hpp"
#include "warren/emulator/route_trace.hpp"
#include "warren/emulator/sink.hpp"

namespace warren {

struct BrokerUser {
    std::string name;
    std::string password;
};

struct BrokerOptions {
    std::vector<std::string> vhosts = {"/"};
    std::vector<BrokerUser> users = {{"guest", "guest"}};
    /// The model's time. Null: a ManualClock starting at ManualClock::default_start.
    std::shared_ptr<Clock> clock = nullptr;
};

namespace emulator {
class BrokerState;
}

class Broker {
public:
    explicit Broker(BrokerOptions options = {});
    ~Broker();
    Broker(const Broker&) = delete;
    Broker& operator=(const Broker&) = delete;

    // ---- time ----
    TimePoint now() const;
    /// Moves the ManualClock forward by `d`, firing everything due on the way in due order:
    /// messages expiring at the head of their queue (dead-lettered where the queue says so)
    /// and unused queues reaching their x-expires. A message dead-lettered into a queue whose
    /// own TTL also falls due within `d` expires there within the same call.
    /// Throws std::logic_error when the Broker runs on another clock.
    void advance(Duration d);
    /// The earliest time something falls due, for a server that arms one timer; nullopt when
    /// nothing is pending.
    std::optional<TimePoint> next_deadline() const;
    /// Fires everything due at the clock's current time (for a Broker on a SystemClock).
    void run_due();

    // ---- faults a test can cause ----
    /// A simulated broker restart: every connection is closed with 320 CONNECTION_FORCED as a
    /// shutdown closes it (their unacknowledged messages return to their queues first);
    /// non-durable exchanges and queues vanish; durable queues keep their persistent messages
    /// in order and lose the transient ones; bindings between durable ends survive.
    void restart();
    /// Cuts the connection(s) named `name` (ConnectOptions::name) as a network failure would:
    /// their unacknowledged messages are requeued (redelivered), their exclusive queues go, and
    /// the client side finds the connection lost. Returns how many were cut.
    std::size_t cut_connection(std::string_view name);
    std::vector<ConnectionInfo> connections() const;

    // ---- inspection (an empty vhost means every vhost) ----
    std::vector<QueueInfo> queues(std::string_view vhost = {}) const;
    std::vector<ExchangeInfo> exchanges(std::string_view vhost = {}) const;
    std::vector<BindingInfo> bindings(std::string_view vhost = {}) const;
    std::optional<QueueInfo> queue(std::string_view vhost, std::string_view name) const;
    std::optional<ExchangeInfo> exchange(std::string_view vhost, std::string_view name) const;
    /// What publishing to `exchange` with this key and headers would do, and why.
    RouteTrace trace_route(std::string_view vhost, std::string_view exchange,
                           std::string_view routing_key, const FieldTable& headers = {}) const;

    // ---- vhosts and users ----
    void add_vhost(std::string name);
    std::vector<std::string> vhosts() const;
    bool authenticate(std::string_view user, std::string_view password) const;

    // ---- the AMQP method surface, for client backends and warren-server ----
    /// 530 NOT_ALLOWED for a vhost that does not exist.
    Result<emulator::ConnectionId> open_connection(std::string_view vhost, std::string_view user,
                                                   emulator::ConnectionSink& sink,
                                                   std::string_view name = {});
    /// A clean close by the client: unacknowledged messages requeued, consumers cancelled,
    /// exclusive queues deleted.
    void close_connection(emulator::ConnectionId connection);
    Status open_channel(emulator::ChannelRef channel);
    /// A clean close by the client, with the same effects on the channel's state.
    void close_channel(emulator::ChannelRef channel);
    /// The connection's sink accepts deliveries again (ConnectionSink::accepting_deliveries):
    /// its consumers that were passed over are offered messages again.
    void resume_deliveries(emulator::ConnectionId connection);

    Status exchange_declare(emulator::ChannelRef ch, const emulator::ExchangeDeclare& m);
    Status exchange_delete(emulator::ChannelRef ch, const emulator::ExchangeDelete& m);
    Status exchange_bind(emulator::ChannelRef ch, const emulator::ExchangeBind& m);
    Status exchange_unbind(emulator::ChannelRef ch, const emulator::ExchangeBind& m);
    Result<QueueDeclareOk> queue_declare(emulator::ChannelRef ch, const emulator::QueueDeclare& m);
    Status queue_bind(emulator::ChannelRef ch, const emulator::QueueBind& m);
    Status queue_unbind(emulator::ChannelRef ch, const emulator::QueueBind& m);
    Result<std::uint32_t> queue_purge(emulator::ChannelRef ch, std::string_view queue);
    Result<std::uint32_t> queue_delete(emulator::ChannelRef ch, const emulator::QueueDelete& m);
    Status basic_qos(emulator::ChannelRef ch, const emulator::BasicQos& m);
    /// `encoded_properties`: the properties' flags and list as a content header brought them
    /// (warren-server passes them; in-process publishes have none). Deliveries of the message
    /// carry them unchanged unless the model changes its properties (StoredMessage).
    Status basic_publish(emulator::ChannelRef ch, const emulator::BasicPublish& m, Message message,
                         std::string encoded_properties = {});
    /// basic.get: the message, or nullopt for get-empty.
    Result<std::optional<emulator::GetOk>> basic_get(emulator::ChannelRef ch, std::string_view queue,
                                                     bool no_ack);
    /// The consumer tag (generated when the request's is empty).
    Result<std::string> basic_consume(emulator::ChannelRef ch, const emulator::BasicConsume& m);
    Status basic_cancel(emulator::ChannelRef ch, std::string_view consumer_tag);
    Status basic_ack(emulator::ChannelRef ch, std::uint64_t delivery_tag, bool multiple);
    Status basic_nack(emulator::ChannelRef ch, std::uint64_t delivery_tag, bool multiple, bool requeue);
    Status basic_reject(emulator::ChannelRef ch, std::uint64_t delivery_tag, bool requeue);
    Status basic_recover(emulator::ChannelRef ch, bool requeue);
    /// 406 "cannot switch from tx to confirm mode" on a transactional channel.
    Status confirm_select(emulator::ChannelRef ch);
    /// tx.select: from now on the channel's publishes wait for tx.commit (routed when they
    /// arrive, delivered at commit) and its acks, nacks and rejects too (their delivery tags
    /// checked when they arrive, the deliveries off the unacknowledged list until commit or
    /// rollback). 406 "cannot switch from confirm to tx mode" under confirms; a second select
    /// changes nothing.
    Status tx_select(emulator::ChannelRef ch);
    /// tx.commit: the transaction's publishes reach their queues (mandatory returns for those
    /// that reach none), then its acknowledgements take effect; ConnectionSink::on_tx_commit_ok
    /// marks where tx.commit-ok goes among the events.
    /// 406 "channel is not transactional" without tx.select.
    Status tx_commit(emulator::ChannelRef ch);
    /// tx.rollback: the publishes are dropped, the acknowledged deliveries are unacknowledged
    /// again. 406 "channel is not transactional" without tx.select.
    Status tx_rollback(emulator::ChannelRef ch);

private:
    mutable std::mutex mutex_;
    std::unique_ptr<emulator::BrokerState> state_;
};

}  // namespace warren
