// The classic queue type (rabbit_classic_queue): requeued messages return to their place, a
// restart keeps only persistent messages, and every property combination is allowed.
#include "queue_type.hpp"

#include <array>

namespace warren::emulator {

namespace {

// rabbit_classic_queue:capabilities/0 queue_arguments, in RabbitMQ 3.10's order.
constexpr std::array<std::string_view, 13> supported = {
    "x-expires", "x-message-ttl", "x-dead-letter-exchange", "x-dead-letter-routing-key",
    "x-max-length", "x-max-length-bytes", "x-max-priority", "x-overflow", "x-queue-mode",
    "x-queue-version", "x-single-active-consumer", "x-queue-type", "x-queue-master-locator"};

// The other types' arguments a classic queue refuses.
constexpr std::array<std::string_view, 10> unsupported = {
    "x-quorum-initial-group-size", "x-max-in-memory-length", "x-max-in-memory-bytes",
    "x-quorum-target-group-size", "x-delivery-limit", "x-max-age", "x-stream-max-segment-size-bytes",
    "x-initial-cluster-size", "x-queue-leader-locator", "x-dead-letter-strategy"};

class ClassicQueue final : public QueueType {
public:
    std::string_view name() const noexcept override { return "classic"; }
    std::string_view module() const noexcept override { return "rabbit_classic_queue"; }
    std::span<const std::string_view> supported_arguments() const noexcept override { return supported; }
    std::span<const std::string_view> unsupported_arguments() const noexcept override { return unsupported; }

    std::optional<std::string> check_properties(bool, bool, bool, std::string_view) const override {
        return std::nullopt;
    }

    // x-priority must be an integer, x-cancel-on-ha-failover a boolean, and x-stream-offset (a
    // stream queue's) is refused.
    std::optional<AmqpError> check_consume(const ConsumeRequest& request, std::string_view queue,
                                           MethodId m) const override {
        const FieldTable& arguments = request.arguments;
        if (auto e = check_consumer_priority(arguments, queue, m)) return e;
        if (const FieldValue* v = arguments.find("x-cancel-on-ha-failover"); v && v->type() != FieldValue::Type::Bool)
            return AmqpError::format(ReplyCode::PreconditionFailed, m,
                                     "invalid arg 'x-cancel-on-ha-failover' for {}: {{unacceptable_type,{}}}",
                                     queue, rabbit_type_name(v->type()));
        if (arguments.contains("x-stream-offset"))
            return unsupported_consume_argument("x-stream-offset", queue, *this, m);
        return std::nullopt;
    }

    const QueueRules& rules() const noexcept override { return rules_; }

private:
    QueueRules rules_{};
};

}  // namespace

const QueueType& classic_queue_type() noexcept {
    static const ClassicQueue classic;
    return classic;
}

}  // namespace warren::emulator
