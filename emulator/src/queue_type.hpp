// What a queue's type decides, after RabbitMQ's rabbit_queue_type behaviour: which arguments a
// new queue accepts, which a redeclaration must match, and which basic.consume accepts. One
// module per type (classic_queue.cpp; quorum and stream queues are to come beside it), chosen
// when the queue is declared.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "warren/protocol/field_value.hpp"
#include "warren/protocol/reply_code.hpp"

namespace warren::emulator {

class QueueType {
public:
    virtual ~QueueType() = default;
    /// Its name as x-queue-type gives it ("classic").
    virtual std::string_view name() const noexcept = 0;
    /// Why a new queue's arguments are refused (the explanation of a 406), or nullopt.
    /// `queue` is rabbit_misc:rs's rendering ("queue 'q' in vhost '/'").
    virtual std::optional<std::string> validate_arguments(const FieldTable& arguments,
                                                          std::string_view queue) const = 0;
    /// The arguments a redeclaration must match, in RabbitMQ's order
    /// (capabilities/0 queue_arguments); any other argument may differ.
    virtual std::span<const std::string_view> equivalence_arguments() const noexcept = 0;
    /// basic.consume's arguments (rabbit_amqqueue:check_consume_arguments/3), or nullopt.
    virtual std::optional<AmqpError> check_consume_arguments(const FieldTable& arguments,
                                                             std::string_view queue,
                                                             MethodId m) const = 0;
};

/// rabbit_classic_queue.
const QueueType& classic_queue_type() noexcept;

}  // namespace warren::emulator
