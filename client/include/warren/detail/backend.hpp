// The two interfaces a backend implements behind warren::Connection and warren::Channel:
// the in-process emulator (warren::client) and rabbitmq-c (warren::client_amqp).
// Not part of the public contract; users hold Connection and Channel.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "warren/delivery.hpp"
#include "warren/emulator/methods.hpp"
#include "warren/options.hpp"

namespace warren {

using ConsumerCallback = std::function<void(const Delivery&)>;
using ReturnCallback = std::function<void(const Returned&)>;
using ConfirmCallback = std::function<void(const Confirm&)>;

namespace detail {

class ChannelBackend {
public:
    virtual ~ChannelBackend() = default;

    virtual std::uint16_t id() const = 0;
    virtual bool is_open() const = 0;
    virtual void close() = 0;

    virtual void exchange_declare(std::string_view exchange, std::string_view type,
                                  const ExchangeOptions& options) = 0;
    virtual void exchange_delete(std::string_view exchange, const ExchangeDeleteOptions& options) = 0;
    virtual void exchange_bind(std::string_view destination, std::string_view source,
                               std::string_view routing_key, const FieldTable& arguments) = 0;
    virtual void exchange_unbind(std::string_view destination, std::string_view source,
                                 std::string_view routing_key, const FieldTable& arguments) = 0;
    virtual QueueDeclareOk queue_declare(std::string_view queue, const QueueOptions& options) = 0;
    virtual void queue_bind(std::string_view queue, std::string_view exchange,
                            std::string_view routing_key, const FieldTable& arguments) = 0;
    virtual void queue_unbind(std::string_view queue, std::string_view exchange,
                              std::string_view routing_key, const FieldTable& arguments) = 0;
    virtual std::uint32_t queue_purge(std::string_view queue) = 0;
    virtual std::uint32_t queue_delete(std::string_view queue, const QueueDeleteOptions& options) = 0;

    virtual void basic_qos(std::uint16_t prefetch_count, bool global, std::uint32_t prefetch_size) = 0;
    virtual void basic_publish(std::string_view exchange, std::string_view routing_key,
                               const Message& message, const PublishOptions& options) = 0;
    virtual std::optional<Delivery> basic_get(std::string_view queue, bool no_ack) = 0;
    virtual std::string basic_consume(std::string_view queue, ConsumerCallback callback,
                                      const ConsumeOptions& options) = 0;
    virtual void basic_cancel(std::string_view consumer_tag) = 0;
    virtual void basic_ack(std::uint64_t delivery_tag, bool multiple) = 0;
    virtual void basic_nack(std::uint64_t delivery_tag, bool multiple, bool requeue) = 0;
    virtual void basic_reject(std::uint64_t delivery_tag, bool requeue) = 0;
    virtual void basic_recover(bool requeue) = 0;

    virtual void confirm_select() = 0;
    virtual bool wait_for_confirms(std::chrono::milliseconds timeout) = 0;
    virtual void on_return(ReturnCallback callback) = 0;
    virtual void on_confirm(ConfirmCallback callback) = 0;

    virtual void tx_select() = 0;
    virtual void tx_commit() = 0;
    virtual void tx_rollback() = 0;
};

class ConnectionBackend {
public:
    virtual ~ConnectionBackend() = default;
    virtual std::shared_ptr<ChannelBackend> open_channel() = 0;
    virtual std::size_t process_events(std::chrono::milliseconds timeout) = 0;
    virtual void close() = 0;
    virtual bool is_open() const = 0;
};

}  // namespace detail
}  // namespace warren
