// What every queue type shares: finding the type x-queue-type names, and the order in which a
// new queue's arguments are checked (rabbit_amqqueue:declare/6 and rabbit_queue_type).
#include "queue_type.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace warren::emulator {

const QueueType* find_queue_type(std::string_view name) noexcept {
    if (name == "classic") return &classic_queue_type();
    if (name == "quorum") return &quorum_queue_type();
    if (name == "stream") return &stream_queue_type();
    return nullptr;
}

std::optional<std::string> validate_queue_arguments(const FieldTable& arguments, std::string_view queue) {
    if (auto why = check_queue_type_argument(arguments, queue)) return why;
    const FieldValue* named = arguments.find("x-queue-type");
    const QueueType& type = named ? *find_queue_type(named->as_string()) : classic_queue_type();
    if (auto why = check_argument_values(arguments, queue, type.supported_arguments())) return why;
    const auto unsupported = type.unsupported_arguments();
    for (const auto& [key, value] : arguments)
        if (std::find(unsupported.begin(), unsupported.end(), key) != unsupported.end())
            return fmt::format("invalid arg '{}' for {} of queue type {}", key, queue, type.module());
    return std::nullopt;
}

AmqpError unsupported_consume_argument(std::string_view key, std::string_view queue,
                                       const QueueType& type, MethodId m) {
    return AmqpError::format(ReplyCode::PreconditionFailed, m, "invalid arg '{}' for {} of queue type {}",
                             key, queue, type.module());
}

std::optional<std::string> check_replicated_properties(bool durable, bool exclusive, bool auto_delete,
                                                       std::string_view queue) {
    const char* property = auto_delete ? "auto-delete" : exclusive ? "exclusive-owner"
                                                       : !durable  ? "non-durable"
                                                                   : nullptr;
    if (!property) return std::nullopt;
    return fmt::format("invalid property '{}' for {}", property, queue);
}

std::optional<AmqpError> check_consumer_priority(const FieldTable& arguments, std::string_view queue,
                                                 MethodId m) {
    const FieldValue* v = arguments.find("x-priority");
    if (!v || (v->is_integer() && v->type() != FieldValue::Type::UInt64)) return std::nullopt;
    return AmqpError::format(ReplyCode::PreconditionFailed, m,
                             "invalid arg 'x-priority' for {}: \"expected integer, got {}\"", queue,
                             rabbit_type_name(v->type()));
}

}  // namespace warren::emulator
