// The classic queue type (rabbit_classic_queue).
#include "queue_type.hpp"

#include <array>

#include "queue_arguments.hpp"

namespace warren::emulator {

namespace {

// rabbit_classic_queue:capabilities/0 queue_arguments, in RabbitMQ 3.10's order.
constexpr std::array<std::string_view, 13> equivalence_keys = {
    "x-expires", "x-message-ttl", "x-dead-letter-exchange", "x-dead-letter-routing-key",
    "x-max-length", "x-max-length-bytes", "x-max-priority", "x-overflow", "x-queue-mode",
    "x-queue-version", "x-single-active-consumer", "x-queue-type", "x-queue-master-locator"};

class ClassicQueue final : public QueueType {
public:
    std::string_view name() const noexcept override { return "classic"; }

    std::optional<std::string> validate_arguments(const FieldTable& arguments,
                                                  std::string_view queue) const override {
        return validate_queue_arguments(arguments, queue);
    }

    std::span<const std::string_view> equivalence_arguments() const noexcept override {
        return equivalence_keys;
    }

    // x-priority must be an integer, x-cancel-on-ha-failover a boolean, and x-stream-offset (a
    // stream queue's) is refused.
    std::optional<AmqpError> check_consume_arguments(const FieldTable& arguments,
                                                     std::string_view queue,
                                                     MethodId m) const override {
        using T = FieldValue::Type;
        // rabbit_amqqueue's integer argument types: every integer type but the unsigned 64-bit one.
        if (const FieldValue* v = arguments.find("x-priority");
            v && (!v->is_integer() || v->type() == T::UInt64))
            return AmqpError::format(ReplyCode::PreconditionFailed, m,
                                     "invalid arg 'x-priority' for {}: \"expected integer, got {}\"",
                                     queue, rabbit_type_name(v->type()));
        if (const FieldValue* v = arguments.find("x-cancel-on-ha-failover"); v && v->type() != T::Bool)
            return AmqpError::format(ReplyCode::PreconditionFailed, m,
                                     "invalid arg 'x-cancel-on-ha-failover' for {}: {{unacceptable_type,{}}}",
                                     queue, rabbit_type_name(v->type()));
        if (arguments.contains("x-stream-offset"))
            return AmqpError::format(ReplyCode::PreconditionFailed, m,
                                     "invalid arg 'x-stream-offset' for {} of queue type rabbit_classic_queue",
                                     queue);
        return std::nullopt;
    }
};

}  // namespace

const QueueType& classic_queue_type() noexcept {
    static const ClassicQueue classic;
    return classic;
}

}  // namespace warren::emulator
