// The queue arguments that change a classic queue's behaviour, validated as RabbitMQ 3.10
// validates them (rabbit_amqqueue:declare_args/0 and rabbit_classic_queue), and the
// per-message `expiration` property (rabbit_basic:parse_expiration/1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "warren/emulator/clock.hpp"
#include "warren/protocol/field_value.hpp"

namespace warren::emulator {

enum class Overflow : std::uint8_t { DropHead, RejectPublish, RejectPublishDlx };

struct QueueArguments {
    std::optional<Duration> message_ttl;
    std::optional<Duration> expires;
    std::optional<std::string> dead_letter_exchange;
    std::optional<std::string> dead_letter_routing_key;
    std::optional<std::uint64_t> max_length;
    std::optional<std::uint64_t> max_length_bytes;
    Overflow overflow = Overflow::DropHead;
    /// x-max-priority: 0 when absent; a queue with it keeps one FIFO per level 0..max.
    std::uint8_t max_priority = 0;
    bool priority_queue = false;
    bool single_active_consumer = false;
};

/// The largest TTL or expiry RabbitMQ accepts: ten years in milliseconds
/// (rabbit_misc:check_expiry/1).
inline constexpr std::int64_t max_expiry_ms = 315'360'000'000;

/// Why the arguments are refused, or nullopt. `queue` is rabbit_misc:rs's rendering
/// ("queue 'q' in vhost '/'"); the text is the explanation of a 406 PRECONDITION_FAILED.
/// Checks run in RabbitMQ's order: the dead-letter exchange's type (rabbit_channel), each
/// known argument in declare_args order, then arguments classic queues do not support.
std::optional<std::string> validate_queue_arguments(const FieldTable& arguments,
                                                    std::string_view queue);

/// The arguments' meaning; assumes validate_queue_arguments accepted them.
QueueArguments parse_queue_arguments(const FieldTable& arguments);

/// A message's `expiration`: a decimal string of milliseconds, 0..max_expiry_ms, as Erlang's
/// string:to_integer reads it (a sign is allowed, nothing may follow). The error is the
/// explanation of a 406 ("invalid expiration '1.5': {leftover_string,\".5\"}").
struct ExpirationParse {
    std::optional<Duration> ttl;
    std::optional<std::string> error;
};
ExpirationParse parse_expiration(std::string_view expiration);

}  // namespace warren::emulator
