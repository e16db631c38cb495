// The Broker's AMQP method surface: each call takes the lock, finds its channel and hands it to
// the method's handler (handlers.hpp); a handler's error closes the channel, or for a hard
// error the connection, before it is answered, as rabbit_channel does.
#include "warren/emulator/detail/broker_methods.hpp"

#include <utility>

#include "handlers.hpp"

namespace warren::detail {

using namespace emulator;

template <class R, class Handler>
R BrokerMethods::on_channel(ChannelRef ref, MethodId m, Handler&& handler) {
    std::lock_guard lock(broker_->mutex_);
    BrokerState& state = *broker_->state_;
    ChannelState* ch = state.find_channel(ref);
    if (!ch) return channel_not_open(m);
    Model model(state);
    R answer = handler(model, *ch);
    if (!answer) return model.fail_channel(*ch, std::move(answer).error());
    return answer;
}

Result<ConnectionId> BrokerMethods::open_connection(std::string_view vhost, std::string_view user,
                                                    ConnectionSink& sink, std::string_view name) {
    std::lock_guard lock(broker_->mutex_);
    BrokerState& state = *broker_->state_;
    VHost* v = state.find_vhost(vhost);
    if (!v) return AmqpError::format(ReplyCode::NotAllowed, method::connection_open, "vhost {} not found", vhost);
    // rabbit_access_control:check_vhost_access/4: a user with no permissions in the vhost.
    if (!state.find_permission(user, vhost))
        return AmqpError::format(ReplyCode::NotAllowed, method::connection_open,
                                 "access to vhost '{}' refused for user '{}'", vhost, user);
    auto conn = std::make_unique<ConnectionState>();
    conn->id = state.next_connection_id++;
    conn->vhost = v;
    conn->user = std::string(user);
    conn->name = std::string(name);
    conn->sink = &sink;
    const ConnectionId id = conn->id;
    state.connections.emplace(id, std::move(conn));
    return id;
}

void BrokerMethods::close_connection(ConnectionId connection) {
    std::lock_guard lock(broker_->mutex_);
    BrokerState& state = *broker_->state_;
    auto it = state.connections.find(connection);
    if (it != state.connections.end()) Model(state).close_connection(*it->second);
}

Status BrokerMethods::open_channel(ChannelRef ref) {
    std::lock_guard lock(broker_->mutex_);
    BrokerState& state = *broker_->state_;
    auto it = state.connections.find(ref.connection);
    if (it == state.connections.end())
        return AmqpError::make(ReplyCode::ChannelError, method::channel_open, "connection is closed");
    ConnectionState& conn = *it->second;
    if (conn.channels.contains(ref.channel))
        return AmqpError::make(ReplyCode::ChannelError, method::channel_open, "second 'channel.open' seen");
    auto ch = std::make_unique<ChannelState>();
    ch->connection = &conn;
    ch->id = ref.channel;
    conn.channels.emplace(ref.channel, std::move(ch));
    return {};
}

void BrokerMethods::close_channel(ChannelRef ref) {
    std::lock_guard lock(broker_->mutex_);
    BrokerState& state = *broker_->state_;
    if (ChannelState* ch = state.find_channel(ref)) Model(state).close_channel(*ch);
}

void BrokerMethods::resume_deliveries(ConnectionId connection) {
    std::lock_guard lock(broker_->mutex_);
    BrokerState& state = *broker_->state_;
    auto it = state.connections.find(connection);
    if (it != state.connections.end()) Model(state).resume_deliveries(*it->second);
}

Status BrokerMethods::exchange_declare(ChannelRef ref, const ExchangeDeclare& m) {
    return on_channel<Status>(ref, method::exchange_declare, [&](Model& model, ChannelState& ch) {
        return emulator::exchange_declare(model, ch, m);
    });
}

Status BrokerMethods::exchange_delete(ChannelRef ref, const ExchangeDelete& m) {
    return on_channel<Status>(ref, method::exchange_delete, [&](Model& model, ChannelState& ch) {
        return emulator::exchange_delete(model, ch, m);
    });
}

Status BrokerMethods::exchange_bind(ChannelRef ref, const ExchangeBind& m) {
    return on_channel<Status>(ref, method::exchange_bind, [&](Model& model, ChannelState& ch) {
        return emulator::exchange_bind(model, ch, m);
    });
}

Status BrokerMethods::exchange_unbind(ChannelRef ref, const ExchangeBind& m) {
    return on_channel<Status>(ref, method::exchange_unbind, [&](Model& model, ChannelState& ch) {
        return emulator::exchange_unbind(model, ch, m);
    });
}

Result<QueueDeclareOk> BrokerMethods::queue_declare(ChannelRef ref, const QueueDeclare& m) {
    return on_channel<Result<QueueDeclareOk>>(ref, method::queue_declare, [&](Model& model, ChannelState& ch) {
        return emulator::queue_declare(model, ch, m);
    });
}

Status BrokerMethods::queue_bind(ChannelRef ref, const QueueBind& m) {
    return on_channel<Status>(ref, method::queue_bind, [&](Model& model, ChannelState& ch) {
        return emulator::queue_bind(model, ch, m);
    });
}

Status BrokerMethods::queue_unbind(ChannelRef ref, const QueueBind& m) {
    return on_channel<Status>(ref, method::queue_unbind, [&](Model& model, ChannelState& ch) {
        return emulator::queue_unbind(model, ch, m);
    });
}

Result<std::uint32_t> BrokerMethods::queue_purge(ChannelRef ref, std::string_view queue) {
    return on_channel<Result<std::uint32_t>>(ref, method::queue_purge, [&](Model& model, ChannelState& ch) {
        return emulator::queue_purge(model, ch, queue);
    });
}

Result<std::uint32_t> BrokerMethods::queue_delete(ChannelRef ref, const QueueDelete& m) {
    return on_channel<Result<std::uint32_t>>(ref, method::queue_delete, [&](Model& model, ChannelState& ch) {
        return emulator::queue_delete(model, ch, m);
    });
}

Status BrokerMethods::basic_qos(ChannelRef ref, const BasicQos& m) {
    return on_channel<Status>(ref, method::basic_qos, [&](Model& model, ChannelState& ch) {
        return emulator::basic_qos(model, ch, m);
    });
}

Status BrokerMethods::basic_publish(ChannelRef ref, const BasicPublish& m, Message message, std::string encoded_properties) {
    return on_channel<Status>(ref, method::basic_publish, [&](Model& model, ChannelState& ch) {
        return emulator::basic_publish(model, ch, m, std::move(message), std::move(encoded_properties));
    });
}

Result<std::optional<GetOk>> BrokerMethods::basic_get(ChannelRef ref, std::string_view queue, bool no_ack) {
    return on_channel<Result<std::optional<GetOk>>>(ref, method::basic_get, [&](Model& model, ChannelState& ch) {
        return emulator::basic_get(model, ch, queue, no_ack);
    });
}

Result<std::string> BrokerMethods::basic_consume(ChannelRef ref, const BasicConsume& m) {
    return on_channel<Result<std::string>>(ref, method::basic_consume, [&](Model& model, ChannelState& ch) {
        return emulator::basic_consume(model, ch, m);
    });
}

Status BrokerMethods::basic_cancel(ChannelRef ref, std::string_view consumer_tag) {
    return on_channel<Status>(ref, method::basic_cancel, [&](Model& model, ChannelState& ch) {
        return emulator::basic_cancel(model, ch, consumer_tag);
    });
}

Status BrokerMethods::basic_ack(ChannelRef ref, std::uint64_t delivery_tag, bool multiple) {
    return on_channel<Status>(ref, method::basic_ack, [&](Model& model, ChannelState& ch) {
        return emulator::basic_ack(model, ch, delivery_tag, multiple);
    });
}

Status BrokerMethods::basic_nack(ChannelRef ref, std::uint64_t delivery_tag, bool multiple, bool requeue) {
    return on_channel<Status>(ref, method::basic_nack, [&](Model& model, ChannelState& ch) {
        return emulator::basic_nack(model, ch, delivery_tag, multiple, requeue);
    });
}

Status BrokerMethods::basic_reject(ChannelRef ref, std::uint64_t delivery_tag, bool requeue) {
    return on_channel<Status>(ref, method::basic_reject, [&](Model& model, ChannelState& ch) {
        return emulator::basic_reject(model, ch, delivery_tag, requeue);
    });
}

Status BrokerMethods::basic_recover(ChannelRef ref, bool requeue) {
    return on_channel<Status>(ref, method::basic_recover, [&](Model& model, ChannelState& ch) {
        return emulator::basic_recover(model, ch, requeue);
    });
}

Status BrokerMethods::confirm_select(ChannelRef ref) {
    return on_channel<Status>(ref, method::confirm_select, [&](Model&, ChannelState& ch) {
        return emulator::confirm_select(ch);
    });
}

Status BrokerMethods::tx_select(ChannelRef ref) {
    return on_channel<Status>(ref, method::tx_select, [&](Model&, ChannelState& ch) {
        return emulator::tx_select(ch);
    });
}

Status BrokerMethods::tx_commit(ChannelRef ref) {
    return on_channel<Status>(ref, method::tx_commit, [&](Model& model, ChannelState& ch) {
        return emulator::tx_commit(model, ch);
    });
}

Status BrokerMethods::tx_rollback(ChannelRef ref) {
    return on_channel<Status>(ref, method::tx_rollback, [&](Model&, ChannelState& ch) {
        return emulator::tx_rollback(ch);
    });
}

}  // namespace warren::detail
