// Content header frames (class 60 properties with their 14 flag bits, and the body size) and
// the splitting of a body into body frames.
//
// Pure functions over values; safe from any thread. Decoders return error codes, never throw.
#pragma once

#include <cstdint>
#include <string_view>
#include <system_error>

#include "warren/protocol/basic_properties.hpp"
#include "warren/protocol/wire.hpp"

namespace warren::protocol {

/// The fixed part of a content header frame's payload, as RabbitMQ's reader first splits it
/// (rabbit_command_assembler:analyze_frame): the property bytes stay undecoded until needed.
struct ContentHeaderPrefix {
    std::uint16_t class_id = 0;
    std::uint16_t weight = 0;
    std::uint64_t body_size = 0;
    ByteView properties;  // property flags and property list, a view into the payload
};

/// A content header of the basic class with its properties decoded.
struct ContentHeader {
    std::uint16_t class_id = 60;
    std::uint16_t weight = 0;
    std::uint64_t body_size = 0;
    BasicProperties properties = {};

    friend bool operator==(const ContentHeader&, const ContentHeader&) = default;
};

/// Splits a header frame's payload; fails with malformed_frame under 12 bytes (RabbitMQ's
/// FRAME_ERROR ... unknown_frame).
Decoded<ContentHeaderPrefix> split_content_header(ByteView payload) noexcept;

/// Decodes the property flags and list of the basic class. RabbitMQ ignores the two low flag
/// bits (continuation and reserved) and wants the list to end exactly; a malformed list gives
/// malformed_properties (RabbitMQ: 541 INTERNAL_ERROR). A present but empty `headers` table
/// decodes as absent, the way BasicProperties represents it.
Decoded<BasicProperties> decode_basic_properties(ByteView flags_and_list);

/// Decodes a whole header frame payload (split, then properties).
Decoded<ContentHeader> decode_content_header(ByteView payload);

/// Appends the property flags and list; `headers` is written only when it has entries.
/// Fails with short_string_too_long (appending nothing).
std::error_code encode_basic_properties(const BasicProperties& p, Bytes& out);

/// Appends a header frame's payload.
std::error_code encode(const ContentHeader& h, Bytes& out);

/// The property flag bits, first property in the highest bit.
namespace property_flag {
inline constexpr std::uint16_t content_type = 1u << 15;
inline constexpr std::uint16_t content_encoding = 1u << 14;
inline constexpr std::uint16_t headers = 1u << 13;
inline constexpr std::uint16_t delivery_mode = 1u << 12;
inline constexpr std::uint16_t priority = 1u << 11;
inline constexpr std::uint16_t correlation_id = 1u << 10;
inline constexpr std::uint16_t reply_to = 1u << 9;
inline constexpr std::uint16_t expiration = 1u << 8;
inline constexpr std::uint16_t message_id = 1u << 7;
inline constexpr std::uint16_t timestamp = 1u << 6;
inline constexpr std::uint16_t type = 1u << 5;
inline constexpr std::uint16_t user_id = 1u << 4;
inline constexpr std::uint16_t app_id = 1u << 3;
inline constexpr std::uint16_t cluster_id = 1u << 2;
}  // namespace property_flag

}  // namespace warren::protocol
