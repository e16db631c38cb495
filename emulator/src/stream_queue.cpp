// The stream queue type (rabbit_stream_queue), as RabbitMQ 3.10.8 runs it on one node:
//
// - it is durable, shared and never auto-deleted, and needs a name from the client; of the
//   queue arguments it takes only x-max-length-bytes, x-max-age and the segment and cluster
//   settings;
// - a consumer needs a prefetch of its own (basic.qos global=false), manual acknowledgement
//   and no global prefetch; it reads from where x-stream-offset says (stream.hpp), and an ack
//   gives it credit for one more; basic.get, purge, nack, reject and recover are refused;
// - x-priority and x-cancel-on-ha-failover are other types' consumer arguments.
//
// Its log and its readers are in stream_log.cpp and stream_process.cpp.
#include "queue_type.hpp"
#include "stream.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace warren::emulator {

namespace {

// rabbit_stream_queue:capabilities/0 queue_arguments, in RabbitMQ 3.10's order.
constexpr std::array<std::string_view, 6> supported = {
    "x-max-length-bytes", "x-queue-type", "x-max-age", "x-stream-max-segment-size-bytes",
    "x-initial-cluster-size", "x-queue-leader-locator"};

// The other types' arguments a stream refuses.
constexpr std::array<std::string_view, 16> unsupported = {
    "x-expires", "x-message-ttl", "x-dead-letter-exchange", "x-dead-letter-routing-key",
    "x-max-length", "x-max-priority", "x-overflow", "x-queue-mode", "x-queue-version",
    "x-single-active-consumer", "x-queue-master-locator", "x-quorum-initial-group-size",
    "x-max-in-memory-length", "x-max-in-memory-bytes", "x-delivery-limit", "x-dead-letter-strategy"};

constexpr std::array<std::string_view, 2> unsupported_consume = {"x-priority", "x-cancel-on-ha-failover"};

bool is_keyword(const FieldValue& v) {
    if (v.type() != FieldValue::Type::String && v.type() != FieldValue::Type::Bytes) return false;
    const std::string& s = v.type() == FieldValue::Type::String ? v.as_string() : v.as_bytes().bytes;
    return s == "first" || s == "last" || s == "next";
}

// Erlang's ~p of a binary: printable text in <<"...">> with " and \ escaped.
std::string erlang_binary(std::string_view s) {
    std::string out = "<<\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\">>";
}

class StreamQueue final : public QueueType {
public:
    std::string_view name() const noexcept override { return "stream"; }
    std::string_view module() const noexcept override { return "rabbit_stream_queue"; }
    std::span<const std::string_view> supported_arguments() const noexcept override { return supported; }
    std::span<const std::string_view> unsupported_arguments() const noexcept override { return unsupported; }

    std::optional<std::string> check_properties(bool durable, bool exclusive, bool auto_delete,
                                                std::string_view queue) const override {
        return check_replicated_properties(durable, exclusive, auto_delete, queue);
    }

    // rabbit_amqqueue:check_consume_arguments/3 (other types' arguments; x-stream-offset as
    // parse_offset_arg/1 reads it), then rabbit_stream_queue:consume/3: a prefetch of the
    // consumer's own, manual acknowledgement, no global prefetch; an offset of a type osiris
    // cannot seek to crashes the channel last.
    std::optional<AmqpError> check_consume(const ConsumeRequest& request, std::string_view queue,
                                           MethodId m) const override {
        const FieldValue* offset = nullptr;
        for (const auto& [key, value] : request.arguments) {
            if (std::find(unsupported_consume.begin(), unsupported_consume.end(), key) != unsupported_consume.end())
                return unsupported_consume_argument(key, queue, *this, m);
            if (key == "x-stream-offset") offset = &value;
        }
        if (offset && offset->is_string() && !is_keyword(*offset)) {
            // rabbit_amqqueue:check_max_age/1: no leading digit crashes it.
            const std::string& text = offset->as_string();
            if (text.empty() || text[0] < '0' || text[0] > '9') return rabbit_crash();
            if (!parse_max_age(text))
                return AmqpError::format(ReplyCode::PreconditionFailed, m,
                                         "invalid arg 'x-stream-offset' for {}: {{invalid_stream_offset_arg,{{longstr,{}}}}}",
                                         queue, erlang_binary(text));
        }
        if (request.prefetch == 0)
            return AmqpError::format(ReplyCode::PreconditionFailed, m,
                                     "consumer prefetch count is not set for '{}'", queue);
        if (request.no_ack)
            return AmqpError::format(ReplyCode::NotImplemented, m,
                                     "automatic acknowledgement not supported by stream queues {}", queue);
        if (request.global_limit)
            return AmqpError::format(ReplyCode::NotImplemented, m, "{} does not support global qos", queue);
        if (offset && !offset->is_string() && !offset->is_integer() && !is_keyword(*offset) &&
            offset->type() != FieldValue::Type::Timestamp)
            return rabbit_crash();
        return std::nullopt;
    }

    const QueueRules& rules() const noexcept override { return rules_; }

private:
    QueueRules rules_{.keeps_transient_messages = true, .server_named = false, .exclusive_consumers = false,
                      .log = true};
};

}  // namespace

const QueueType& stream_queue_type() noexcept {
    static const StreamQueue stream;
    return stream;
}

StreamStart stream_start(const FieldValue* offset, TimePoint now) {
    StreamStart start;
    if (!offset) return start;
    if (is_keyword(*offset)) {
        const std::string& s = offset->type() == FieldValue::Type::String ? offset->as_string()
                                                                          : offset->as_bytes().bytes;
        start.from = s == "first" ? StreamStart::From::First
                   : s == "last"  ? StreamStart::From::Last
                                  : StreamStart::From::Next;
    } else if (offset->type() == FieldValue::Type::Timestamp) {
        start.from = StreamStart::From::Time;
        start.time = TimePoint{} + std::chrono::seconds(offset->as_timestamp().seconds);
    } else if (offset->is_string()) {
        start.from = StreamStart::From::Time;
        start.time = now - parse_max_age(offset->as_string()).value_or(Duration{});
    } else {
        start.from = StreamStart::From::Offset;
        start.offset = offset->as_int();
    }
    return start;
}

}  // namespace warren::emulator
