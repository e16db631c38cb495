// The AMQP method handlers, one per method, grouped by class in exchange_methods.cpp,
// queue_methods.cpp, basic_methods.cpp, tx_methods.cpp and confirm_methods.cpp. Each follows
// the order of checks in RabbitMQ 3.10's rabbit_channel.erl, so a request wrong in several
// ways gets RabbitMQ's error. A handler only answers: when it returns an error,
// detail::BrokerMethods closes the channel (or the connection) as RabbitMQ does.
#pragma once

#include "model.hpp"
#include "warren/emulator/methods.hpp"

namespace warren::emulator {

Status exchange_declare(Model& model, ChannelState& ch, const ExchangeDeclare& m);
Status exchange_delete(Model& model, ChannelState& ch, const ExchangeDelete& m);
Status exchange_bind(Model& model, ChannelState& ch, const ExchangeBind& m);
Status exchange_unbind(Model& model, ChannelState& ch, const ExchangeBind& m);

Result<QueueDeclareOk> queue_declare(Model& model, ChannelState& ch, const QueueDeclare& m);
Status queue_bind(Model& model, ChannelState& ch, const QueueBind& m);
Status queue_unbind(Model& model, ChannelState& ch, const QueueBind& m);
Result<std::uint32_t> queue_purge(Model& model, ChannelState& ch, std::string_view queue);
Result<std::uint32_t> queue_delete(Model& model, ChannelState& ch, const QueueDelete& m);

Status basic_qos(Model& model, ChannelState& ch, const BasicQos& m);
Status basic_publish(Model& model, ChannelState& ch, const BasicPublish& m, Message message,
                     std::string encoded_properties);
Result<std::optional<GetOk>> basic_get(Model& model, ChannelState& ch, std::string_view queue, bool no_ack);
Result<std::string> basic_consume(Model& model, ChannelState& ch, const BasicConsume& m);
/// basic.consume on a stream, once its type accepted the request (stream_process.cpp).
Result<std::string> consume_log(Model& model, ChannelState& ch, Queue& q, const BasicConsume& m);
Status basic_cancel(Model& model, ChannelState& ch, std::string_view consumer_tag);
Status basic_ack(Model& model, ChannelState& ch, std::uint64_t delivery_tag, bool multiple);
Status basic_nack(Model& model, ChannelState& ch, std::uint64_t delivery_tag, bool multiple, bool requeue);
Status basic_reject(Model& model, ChannelState& ch, std::uint64_t delivery_tag, bool requeue);
Status basic_recover(Model& model, ChannelState& ch, bool requeue);

Status confirm_select(ChannelState& ch);

Status tx_select(ChannelState& ch);
Status tx_commit(Model& model, ChannelState& ch);
Status tx_rollback(ChannelState& ch);

}  // namespace warren::emulator
