// AMQP 0-9-1 wire primitives: big-endian integers, short and long strings, field tables and
// arrays with the type letters RabbitMQ 3.10 reads and writes, and the codec's error codes.
//
// Decoding never throws and never allocates more than the input actually holds: every length
// the peer states is checked against the bytes present before anything is reserved. Errors are
// `std::error_code`s of `codec_category()`. Encoding appends to a byte vector; it fails only
// for values the wire cannot carry (a short string over 255 bytes), and then leaves the vector
// as it was. Plain functions and values: no shared state, safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "warren/protocol/field_value.hpp"

namespace warren::protocol {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

/// Views the characters of a string as bytes (and back): bodies and strings are std::string.
inline ByteView as_bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(ByteView b) noexcept {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// What the codec reports. The comment names how RabbitMQ 3.10.8 reacts to the same input.
enum class CodecError {
    /// A field runs past the end of its frame (`FRAME_ERROR - cannot decode <<...>>`).
    truncated = 1,
    /// Bytes remain after a method's last field (also `cannot decode`: RabbitMQ matches exactly).
    trailing_bytes,
    /// A name field is not UTF-8 as xmerl_ucs accepts it (`FRAME_ERROR - Malformed UTF-8 in
    /// shortstr`).
    malformed_utf8,
    /// A field table or array holds a type letter RabbitMQ does not know. RabbitMQ's parser has
    /// no clause for it and the connection process crashes: the socket closes with no reply.
    bad_field_type,
    /// A float or double field is NaN or infinite: Erlang cannot represent it, the same crash.
    non_finite_float,
    /// Tables and arrays nested deeper than `max_field_nesting` (warren's limit; RabbitMQ has none).
    nesting_too_deep,
    /// A method's table argument failed to parse (any of the three errors above, or a
    /// truncated entry inside the table): the crash with no reply.
    malformed_table,
    /// A class/method pair RabbitMQ 3.10 does not know: the crash with no reply.
    unknown_method,
    /// Content properties that do not decode (RabbitMQ: `541 INTERNAL_ERROR`).
    malformed_properties,
    /// A frame too short for its type, a heartbeat with a payload, or an unknown frame type
    /// (`FRAME_ERROR - type T, all octets = <<...>>: unknown_frame`).
    malformed_frame,
    /// A frame's payload is larger than the negotiated frame_max (`{frame_too_large,...}`).
    frame_too_large,
    /// The octet after a frame's payload is not 0xCE (`{invalid_frame_end_marker,...}`).
    bad_frame_end,
    /// Encoding: a short string (or table key) longer than 255 bytes.
    short_string_too_long,
    /// Encoding: a frame whose payload exceeds 2^32 - 1 bytes.
    payload_too_large,
};

const std::error_category& codec_category() noexcept;
std::error_code make_error_code(CodecError e) noexcept;

/// A decoder's answer: the value, or the error that stopped it (then `value` is unspecified).
template <class T>
struct Decoded {
    T value{};
    std::error_code error{};
    explicit operator bool() const noexcept { return !error; }
};

/// Nesting limit for decoded tables and arrays; deeper input fails with nesting_too_deep, so a
/// hostile frame cannot exhaust the stack (decoding or destroying the value).
inline constexpr int max_field_nesting = 64;

/// RabbitMQ's UTF-8 check for name fields (rabbit_binary_parser:validate_utf8 -> xmerl_ucs):
/// one- to four-byte sequences, no overlong forms, surrogates and lead bytes F5-F7 accepted.
bool is_rabbit_utf8(std::string_view s) noexcept;

/// Bounds-checked big-endian reading over a byte view. Every reader returns false (and reads
/// nothing) when the bytes are not there.
class Reader {
public:
    explicit Reader(ByteView bytes) noexcept : bytes_(bytes) {}

    std::size_t remaining() const noexcept { return bytes_.size() - pos_; }
    std::size_t position() const noexcept { return pos_; }
    bool at_end() const noexcept { return pos_ == bytes_.size(); }
    ByteView rest() const noexcept { return bytes_.subspan(pos_); }

    bool u8(std::uint8_t& v) noexcept;
    bool u16(std::uint16_t& v) noexcept;
    bool u32(std::uint32_t& v) noexcept;
    bool u64(std::uint64_t& v) noexcept;
    /// `n` bytes as a view into the input.
    bool take(std::size_t n, ByteView& v) noexcept;
    /// Octet length then bytes.
    bool shortstr(std::string& v);
    /// 32-bit length then bytes.
    bool longstr(std::string& v);
    /// 32-bit length then bytes, as a view (a table's body before it is parsed).
    bool longstr_view(ByteView& v) noexcept;

private:
    ByteView bytes_;
    std::size_t pos_ = 0;
};

/// Big-endian writing onto the end of a byte vector.
class Writer {
public:
    explicit Writer(Bytes& out) noexcept : out_(out) {}

    void u8(std::uint8_t v) { out_.push_back(v); }
    void u16(std::uint16_t v);
    void u32(std::uint32_t v);
    void u64(std::uint64_t v);
    void raw(ByteView v) { out_.insert(out_.end(), v.begin(), v.end()); }
    void raw(std::string_view v) { raw(as_bytes(v)); }
    /// Fails (writing nothing) when `v` is longer than 255 bytes.
    std::error_code shortstr(std::string_view v);
    void longstr(std::string_view v);
    /// A table with its 32-bit length, as rabbit_binary_generator writes it.
    std::error_code table(const FieldTable& t);
    std::error_code array(const FieldArray& a);
    std::size_t size() const noexcept { return out_.size(); }
    Bytes& bytes() noexcept { return out_; }

private:
    Bytes& out_;
};

/// Parses a table body (the bytes after the 32-bit length) as rabbit_binary_parser does:
/// S T b B s u I i d f l L t D F A x V. 'l' and 'L' both read a signed 64-bit integer, 'i' is
/// unsigned and 'I' signed 32-bit, 't' is true for any non-zero octet. A key repeated in the
/// input keeps its first value (RabbitMQ's lookups find the first).
std::error_code decode_field_table(ByteView body, FieldTable& out);
/// Parses an array body (the bytes after the 32-bit length).
std::error_code decode_field_array(ByteView body, FieldArray& out);
/// Reads a 32-bit length and the table it announces.
std::error_code read_field_table(Reader& in, FieldTable& out);

/// Encodes a table with its 32-bit length, with rabbit_binary_generator's letters: S I D T F A
/// b d f l s t x B u i V. Unsigned 64-bit values have no letter in RabbitMQ 3.10; they are
/// written as 'l' (values above INT64_MAX wrap, as they would through RabbitMQ).
std::error_code encode_field_table(const FieldTable& table, Bytes& out);
std::error_code encode_field_array(const FieldArray& array, Bytes& out);

/// The type letter warren writes for a value.
char field_type_letter(FieldValue::Type type) noexcept;

}  // namespace warren::protocol

template <>
struct std::is_error_code_enum<warren::protocol::CodecError> : std::true_type {};
