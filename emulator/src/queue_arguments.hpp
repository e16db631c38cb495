// The queue arguments that change a queue's behaviour, validated as RabbitMQ 3.10 validates
// them (rabbit_amqqueue:declare_args/0; which of them a queue accepts is its type's, in
// queue_type.hpp), and the per-message `expiration` property (rabbit_basic:parse_expiration/1).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
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
    /// x-delivery-limit (quorum queues): a message returned more often is dropped or
    /// dead-lettered as `delivery_limit`.
    std::optional<std::int64_t> delivery_limit;
    /// x-dead-letter-strategy at-least-once, which takes effect only with reject-publish
    /// overflow and a dead-letter exchange (rabbit_quorum_queue:dead_letter_handler/2).
    bool at_least_once = false;
    /// x-max-age and x-stream-max-segment-size-bytes (streams: retention and segment size).
    std::optional<Duration> max_age;
    std::optional<std::uint64_t> max_segment_size;
};

/// The largest TTL or expiry RabbitMQ accepts: ten years in milliseconds
/// (rabbit_misc:check_expiry/1).
inline constexpr std::int64_t max_expiry_ms = 315'360'000'000;

/// What a value check gives where RabbitMQ 3.10.8's own check crashes the channel (541
/// INTERNAL_ERROR, closing the connection): an x-max-age with no leading digit.
inline constexpr std::string_view check_crashes = "{crash}";

/// The x-queue-type argument's check, first of all: "invalid arg 'x-queue-type' for Q: ..."
/// or nullopt. `queue` is rabbit_misc:rs's rendering ("queue 'q' in vhost '/'").
std::optional<std::string> check_queue_type_argument(const FieldTable& arguments, std::string_view queue);

/// The value checks of rabbit_amqqueue:declare_args/0, in its order, for the arguments in
/// `supported` (those of the queue's type): the explanation of a 406, or nullopt.
std::optional<std::string> check_argument_values(const FieldTable& arguments, std::string_view queue,
                                                 std::span<const std::string_view> supported);

/// x-max-age ("7D", "1h"): a positive number and a unit, Y (365 days), M (30 days), D, h, m
/// or s; nullopt when it is not one.
std::optional<Duration> parse_max_age(std::string_view text);

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
