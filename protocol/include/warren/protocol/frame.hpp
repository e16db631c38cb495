// AMQP 0-9-1 frames: type, channel, size, payload, frame-end 0xCE. Encoders for method,
// content (header + body frames split by frame_max) and heartbeat frames, and an incremental
// FrameDecoder.
//
// FrameDecoder is sans-I/O: `feed(bytes) -> consumed` takes bytes up to the end of one frame.
// It never allocates more than the bytes it is actually given, and refuses a frame whose
// stated size exceeds frame_max as soon as the 7-byte frame header arrives, the way RabbitMQ's
// reader does. One decoder per connection; not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <system_error>

#include "warren/protocol/basic_properties.hpp"
#include "warren/protocol/methods.hpp"
#include "warren/protocol/wire.hpp"

namespace warren::protocol {

namespace frame_type {
inline constexpr std::uint8_t method = 1;
inline constexpr std::uint8_t header = 2;
inline constexpr std::uint8_t body = 3;
inline constexpr std::uint8_t heartbeat = 8;
}  // namespace frame_type

inline constexpr std::uint8_t frame_end = 0xCE;
/// Type, channel, size and frame-end: RabbitMQ's EMPTY_FRAME_SIZE.
inline constexpr std::uint32_t frame_overhead = 8;
/// The smallest frame_max a peer may negotiate, and the limit before tuning (FRAME_MIN_SIZE).
inline constexpr std::uint32_t frame_min_size = 4096;
/// RabbitMQ's default channel_max (rabbit.channel_max): channels 1 to 2047 per connection.
inline constexpr std::uint16_t default_channel_max = 2047;

/// "AMQP" 0 0 9 1: the protocol header a 0-9-1 client sends and the one RabbitMQ answers a
/// wrong header with.
inline constexpr std::array<std::uint8_t, 8> protocol_header = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};

struct FrameHeader {
    std::uint8_t type = 0;
    std::uint16_t channel = 0;
    std::uint32_t size = 0;
};

/// Appends one frame. Fails with payload_too_large over 2^32 - 1 bytes (appending nothing).
std::error_code encode_frame(std::uint8_t type, std::uint16_t channel, ByteView payload,
                             Bytes& out);
/// Appends a method frame.
std::error_code encode_method_frame(std::uint16_t channel, const Method& m, Bytes& out);
/// Appends a heartbeat frame (type 8, channel 0, empty).
void encode_heartbeat_frame(Bytes& out);
/// Appends a content header frame and the body frames, each body frame carrying at most
/// frame_max - 8 bytes (frame_max 0: one body frame); an empty body has no body frame, as
/// rabbit_binary_generator:build_simple_content_frames does.
std::error_code encode_content_frames(std::uint16_t channel, const BasicProperties& properties,
                                      std::string_view body, std::uint32_t frame_max,
                                      Bytes& out);
/// The same, the header carrying `encoded_properties` (property flags and list, as a content
/// header brought them in) verbatim instead of `properties` re-encoded, when they are given
/// (not empty): RabbitMQ's #content.properties_bin, sent back unchanged.
std::error_code encode_content_frames(std::uint16_t channel, const BasicProperties& properties,
                                      ByteView encoded_properties, std::string_view body,
                                      std::uint32_t frame_max, Bytes& out);

class FrameDecoder {
public:
    /// `frame_max` is the largest payload accepted (RabbitMQ compares the payload size with
    /// the negotiated frame_max); 0 means no limit.
    explicit FrameDecoder(std::uint32_t frame_max = frame_min_size) noexcept
        : frame_max_(frame_max) {}

    void set_frame_max(std::uint32_t frame_max) noexcept { frame_max_ = frame_max; }
    std::uint32_t frame_max() const noexcept { return frame_max_; }

    /// Consumes bytes up to the end of the next frame, never past it, and returns how many.
    /// Afterwards either more bytes are needed, or `ready()` (take the frame, then `next()`),
    /// or `error()` is set for good: frame_too_large (header() tells the claimed size) or
    /// bad_frame_end (payload() and bad_end_octet() tell what came). Feeding a decoder that is
    /// ready or failed consumes nothing.
    std::size_t feed(ByteView in);

    bool ready() const noexcept { return state_ == State::ready; }
    std::error_code error() const noexcept { return error_; }
    /// The current frame's header, once its 7 bytes have arrived.
    const FrameHeader& header() const noexcept { return header_; }
    /// The current frame's payload: valid while ready() or after bad_frame_end, until the next
    /// feed() or next(). It may point into the bytes given to the last feed().
    ByteView payload() const noexcept { return payload_; }
    std::uint8_t bad_end_octet() const noexcept { return bad_end_; }
    /// Forgets the ready frame; the decoder then expects the next frame's header.
    void next() noexcept;

private:
    enum class State { header, payload, end, ready, failed };

    std::uint32_t frame_max_;
    State state_ = State::header;
    std::array<std::uint8_t, 7> header_bytes_{};
    std::size_t header_have_ = 0;
    FrameHeader header_;
    Bytes buffer_;
    ByteView payload_;
    std::uint8_t bad_end_ = 0;
    std::error_code error_;
};

}  // namespace warren::protocol
