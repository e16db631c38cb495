// The AMQP method surface of a Broker, for the code that plays a client's part: the facade's
// in-process backend and warren-server. Not what a test of user code calls (it holds a
// warren::Channel); the model's own tests call it to check each method as RabbitMQ answers it.
//
// Each call takes the Broker's lock. Errors: every method answers with Result/Status carrying
// RabbitMQ's reply code and text. When the error is a channel error the model has already
// closed that channel (unacknowledged messages requeued, consumers cancelled); when it is a
// connection error it has closed the connection. What the broker sends unasked goes to the
// connection's ConnectionSink (sink.hpp), with the lock held.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "warren/emulator/broker.hpp"
#include "warren/emulator/methods.hpp"
#include "warren/emulator/result.hpp"
#include "warren/emulator/sink.hpp"

namespace warren::detail {

class BrokerMethods {
public:
    explicit BrokerMethods(Broker& broker) noexcept : broker_(&broker) {}

    Broker& broker() const noexcept { return *broker_; }

    // ---- connections and channels ----
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

    // ---- exchange ----
    Status exchange_declare(emulator::ChannelRef ch, const emulator::ExchangeDeclare& m);
    Status exchange_delete(emulator::ChannelRef ch, const emulator::ExchangeDelete& m);
    Status exchange_bind(emulator::ChannelRef ch, const emulator::ExchangeBind& m);
    Status exchange_unbind(emulator::ChannelRef ch, const emulator::ExchangeBind& m);

    // ---- queue ----
    Result<QueueDeclareOk> queue_declare(emulator::ChannelRef ch, const emulator::QueueDeclare& m);
    Status queue_bind(emulator::ChannelRef ch, const emulator::QueueBind& m);
    Status queue_unbind(emulator::ChannelRef ch, const emulator::QueueBind& m);
    Result<std::uint32_t> queue_purge(emulator::ChannelRef ch, std::string_view queue);
    Result<std::uint32_t> queue_delete(emulator::ChannelRef ch, const emulator::QueueDelete& m);

    // ---- basic ----
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

    // ---- confirm ----
    /// 406 "cannot switch from tx to confirm mode" on a transactional channel.
    Status confirm_select(emulator::ChannelRef ch);

    // ---- tx ----
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
    /// Takes the lock, finds the channel (504 when it is not open) and runs `handler`; when
    /// the handler answers with an error, closes the channel (or the connection) first.
    template <class R, class Handler>
    R on_channel(emulator::ChannelRef ref, MethodId m, Handler&& handler);

    Broker* broker_;
};

}  // namespace warren::detail
