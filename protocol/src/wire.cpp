#include "warren/protocol/wire.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <string>

namespace warren::protocol {

// ---- errors -----------------------------------------------------------------------------------

namespace {

class CodecCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "warren.amqp.codec"; }
    std::string message(int ev) const override {
        switch (static_cast<CodecError>(ev)) {
            case CodecError::truncated: return "field runs past the end of the frame";
            case CodecError::trailing_bytes: return "bytes left after the last field";
            case CodecError::malformed_utf8: return "malformed UTF-8 in a short string";
            case CodecError::bad_field_type: return "unknown field type letter";
            case CodecError::non_finite_float: return "NaN or infinite float field";
            case CodecError::nesting_too_deep: return "tables nested too deep";
            case CodecError::malformed_table: return "malformed field table";
            case CodecError::unknown_method: return "unknown class or method id";
            case CodecError::malformed_properties: return "malformed content properties";
            case CodecError::malformed_frame: return "malformed frame";
            case CodecError::frame_too_large: return "frame larger than frame_max";
            case CodecError::bad_frame_end: return "invalid frame end octet";
            case CodecError::short_string_too_long: return "short string longer than 255 bytes";
            case CodecError::payload_too_large: return "frame payload longer than 2^32 - 1";
        }
        return "unknown codec error";
    }
};

}  // namespace

const std::error_category& codec_category() noexcept {
    static const CodecCategory category;
    return category;
}

std::error_code make_error_code(CodecError e) noexcept {
    return {static_cast<int>(e), codec_category()};
}

// ---- UTF-8 ------------------------------------------------------------------------------------

bool is_rabbit_utf8(std::string_view s) noexcept {
    // xmerl_ucs:from_utf8 as RabbitMQ 3.10 calls it: it decodes 1-4 byte forms, refuses
    // overlong encodings and 5/6-byte forms, and does not check the Unicode range (so
    // surrogates and F5-F7 leads pass). Checked against the broker's own code.
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        const unsigned c = *p;
        int extra = 0;
        std::uint32_t min = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            ++p;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            extra = 1, min = 0x80, cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2, min = 0x800, cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return false;
        }
        if (end - p <= extra) return false;
        for (int i = 1; i <= extra; ++i) {
            if ((p[i] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if (cp < min) return false;
        p += extra + 1;
    }
    return true;
}

// ---- Reader -----------------------------------------------------------------------------------

bool Reader::u8(std::uint8_t& v) noexcept {
    if (remaining() < 1) return false;
    v = bytes_[pos_++];
    return true;
}

bool Reader::u16(std::uint16_t& v) noexcept {
    if (remaining() < 2) return false;
    v = static_cast<std::uint16_t>((bytes_[pos_] << 8) | bytes_[pos_ + 1]);
    pos_ += 2;
    return true;
}

bool Reader::u32(std::uint32_t& v) noexcept {
    if (remaining() < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | bytes_[pos_ + i];
    pos_ += 4;
    return true;
}

bool Reader::u64(std::uint64_t& v) noexcept {
    if (remaining() < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | bytes_[pos_ + i];
    pos_ += 8;
    return true;
}

bool Reader::take(std::size_t n, ByteView& v) noexcept {
    if (remaining() < n) return false;
    v = bytes_.subspan(pos_, n);
    pos_ += n;
    return true;
}

bool Reader::shortstr(std::string& v) {
    const std::size_t start = pos_;
    std::uint8_t n = 0;
    ByteView b;
    if (!u8(n) || !take(n, b)) {
        pos_ = start;
        return false;
    }
    v.assign(as_chars(b));
    return true;
}

bool Reader::longstr_view(ByteView& v) noexcept {
    const std::size_t start = pos_;
    std::uint32_t n = 0;
    if (!u32(n) || !take(n, v)) {
        pos_ = start;
        return false;
    }
    return true;
}

bool Reader::longstr(std::string& v) {
    ByteView b;
    if (!longstr_view(b)) return false;
    v.assign(as_chars(b));
    return true;
}

// ---- Writer -----------------------------------------------------------------------------------

void Writer::u16(std::uint16_t v) {
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
    out_.push_back(static_cast<std::uint8_t>(v));
}

void Writer::u32(std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<std::uint8_t>(v >> shift));
}

void Writer::u64(std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(static_cast<std::uint8_t>(v >> shift));
}

std::error_code Writer::shortstr(std::string_view v) {
    if (v.size() > 255) return CodecError::short_string_too_long;
    u8(static_cast<std::uint8_t>(v.size()));
    raw(v);
    return {};
}

void Writer::longstr(std::string_view v) {
    u32(static_cast<std::uint32_t>(v.size()));
    raw(v);
}

std::error_code Writer::table(const FieldTable& t) { return encode_field_table(t, out_); }
std::error_code Writer::array(const FieldArray& a) { return encode_field_array(a, out_); }

// ---- field values: decoding -------------------------------------------------------------------

namespace {

std::error_code decode_table_body(ByteView body, FieldTable& out, int depth);
std::error_code decode_array_body(ByteView body, FieldArray& out, int depth);

std::error_code decode_value(Reader& in, FieldValue& out, int depth) {
    std::uint8_t letter = 0;
    if (!in.u8(letter)) return CodecError::truncated;
    switch (letter) {
        case 'S': {
            std::string s;
            if (!in.longstr(s)) return CodecError::truncated;
            out = FieldValue(std::move(s));
            return {};
        }
        case 'x': {
            std::string s;
            if (!in.longstr(s)) return CodecError::truncated;
            out = FieldValue(ByteArray{std::move(s)});
            return {};
        }
        case 'T': {
            std::uint64_t v = 0;
            if (!in.u64(v)) return CodecError::truncated;
            out = FieldValue(Timestamp{v});
            return {};
        }
        case 'b': {
            std::uint8_t v = 0;
            if (!in.u8(v)) return CodecError::truncated;
            out = FieldValue(static_cast<std::int8_t>(v));
            return {};
        }
        case 'B': {
            std::uint8_t v = 0;
            if (!in.u8(v)) return CodecError::truncated;
            out = FieldValue(v);
            return {};
        }
        case 's': {
            std::uint16_t v = 0;
            if (!in.u16(v)) return CodecError::truncated;
            out = FieldValue(static_cast<std::int16_t>(v));
            return {};
        }
        case 'u': {
            std::uint16_t v = 0;
            if (!in.u16(v)) return CodecError::truncated;
            out = FieldValue(v);
            return {};
        }
        case 'I': {
            std::uint32_t v = 0;
            if (!in.u32(v)) return CodecError::truncated;
            out = FieldValue(static_cast<std::int32_t>(v));
            return {};
        }
        case 'i': {
            std::uint32_t v = 0;
            if (!in.u32(v)) return CodecError::truncated;
            out = FieldValue(v);
            return {};
        }
        case 'l':
        case 'L': {
            // rabbit_binary_parser reads both as signed 64-bit ('L' per the 0-9-1 errata).
            std::uint64_t v = 0;
            if (!in.u64(v)) return CodecError::truncated;
            out = FieldValue(static_cast<std::int64_t>(v));
            return {};
        }
        case 'f': {
            std::uint32_t v = 0;
            if (!in.u32(v)) return CodecError::truncated;
            const float f = std::bit_cast<float>(v);
            if (!std::isfinite(f)) return CodecError::non_finite_float;
            out = FieldValue(f);
            return {};
        }
        case 'd': {
            std::uint64_t v = 0;
            if (!in.u64(v)) return CodecError::truncated;
            const double d = std::bit_cast<double>(v);
            if (!std::isfinite(d)) return CodecError::non_finite_float;
            out = FieldValue(d);
            return {};
        }
        case 't': {
            std::uint8_t v = 0;
            if (!in.u8(v)) return CodecError::truncated;
            out = FieldValue(v != 0);
            return {};
        }
        case 'D': {
            std::uint8_t scale = 0;
            std::uint32_t value = 0;
            if (!in.u8(scale) || !in.u32(value)) return CodecError::truncated;
            out = FieldValue(Decimal{scale, value});
            return {};
        }
        case 'F': {
            ByteView body;
            if (!in.longstr_view(body)) return CodecError::truncated;
            if (depth >= max_field_nesting) return CodecError::nesting_too_deep;
            FieldTable t;
            if (auto ec = decode_table_body(body, t, depth + 1)) return ec;
            out = FieldValue(std::move(t));
            return {};
        }
        case 'A': {
            ByteView body;
            if (!in.longstr_view(body)) return CodecError::truncated;
            if (depth >= max_field_nesting) return CodecError::nesting_too_deep;
            FieldArray a;
            if (auto ec = decode_array_body(body, a, depth + 1)) return ec;
            out = FieldValue(std::move(a));
            return {};
        }
        case 'V':
            out = FieldValue();
            return {};
        default:
            return CodecError::bad_field_type;
    }
}

std::error_code decode_table_body(ByteView body, FieldTable& out, int depth) {
    Reader in(body);
    while (!in.at_end()) {
        std::string key;
        if (!in.shortstr(key)) return CodecError::truncated;
        FieldValue value;
        if (auto ec = decode_value(in, value, depth)) return ec;
        if (!out.contains(key)) out.set(std::move(key), std::move(value));
    }
    return {};
}

std::error_code decode_array_body(ByteView body, FieldArray& out, int depth) {
    Reader in(body);
    while (!in.at_end()) {
        FieldValue value;
        if (auto ec = decode_value(in, value, depth)) return ec;
        out.push_back(std::move(value));
    }
    return {};
}

// ---- field values: encoding -------------------------------------------------------------------

std::error_code encode_value(Writer& w, const FieldValue& v);

/// Writes a 32-bit length placeholder, runs `body`, then patches the length.
template <class Body>
std::error_code with_length(Writer& w, Body&& body) {
    const std::size_t at = w.size();
    w.u32(0);
    if (auto ec = body()) return ec;
    const std::size_t len = w.size() - at - 4;
    if (len > 0xFFFFFFFFu) return CodecError::payload_too_large;
    auto& b = w.bytes();
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<std::uint8_t>(len >> (24 - 8 * i));
    return {};
}

std::error_code encode_table_entries(Writer& w, const FieldTable& t) {
    for (const auto& [key, value] : t) {
        if (auto ec = w.shortstr(key)) return ec;
        if (auto ec = encode_value(w, value)) return ec;
    }
    return {};
}

std::error_code encode_array_items(Writer& w, const FieldArray& a) {
    for (const auto& value : a)
        if (auto ec = encode_value(w, value)) return ec;
    return {};
}

std::error_code encode_value(Writer& w, const FieldValue& v) {
    w.u8(static_cast<std::uint8_t>(field_type_letter(v.type())));
    return std::visit(
        [&w](const auto& x) -> std::error_code {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
                return {};
            } else if constexpr (std::is_same_v<T, bool>) {
                w.u8(x ? 1 : 0);
            } else if constexpr (std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint8_t>) {
                w.u8(static_cast<std::uint8_t>(x));
            } else if constexpr (std::is_same_v<T, std::int16_t> ||
                                 std::is_same_v<T, std::uint16_t>) {
                w.u16(static_cast<std::uint16_t>(x));
            } else if constexpr (std::is_same_v<T, std::int32_t> ||
                                 std::is_same_v<T, std::uint32_t>) {
                w.u32(static_cast<std::uint32_t>(x));
            } else if constexpr (std::is_same_v<T, std::int64_t> ||
                                 std::is_same_v<T, std::uint64_t>) {
                w.u64(static_cast<std::uint64_t>(x));
            } else if constexpr (std::is_same_v<T, float>) {
                w.u32(std::bit_cast<std::uint32_t>(x));
            } else if constexpr (std::is_same_v<T, double>) {
                w.u64(std::bit_cast<std::uint64_t>(x));
            } else if constexpr (std::is_same_v<T, Decimal>) {
                w.u8(x.scale);
                w.u32(x.value);
            } else if constexpr (std::is_same_v<T, std::string>) {
                w.longstr(x);
            } else if constexpr (std::is_same_v<T, ByteArray>) {
                w.longstr(x.bytes);
            } else if constexpr (std::is_same_v<T, Timestamp>) {
                w.u64(x.seconds);
            } else if constexpr (std::is_same_v<T, FieldTable>) {
                return with_length(w, [&] { return encode_table_entries(w, x); });
            } else if constexpr (std::is_same_v<T, FieldArray>) {
                return with_length(w, [&] { return encode_array_items(w, x); });
            }
            return {};
        },
        v.storage());
}

}  // namespace

std::error_code decode_field_table(ByteView body, FieldTable& out) {
    out = FieldTable{};
    return decode_table_body(body, out, 1);
}

std::error_code decode_field_array(ByteView body, FieldArray& out) {
    out = FieldArray{};
    return decode_array_body(body, out, 1);
}

std::error_code read_field_table(Reader& in, FieldTable& out) {
    ByteView body;
    if (!in.longstr_view(body)) return CodecError::truncated;
    return decode_field_table(body, out);
}

std::error_code encode_field_table(const FieldTable& table, Bytes& out) {
    const std::size_t size_before = out.size();
    Writer w(out);
    auto ec = with_length(w, [&] { return encode_table_entries(w, table); });
    if (ec) out.resize(size_before);
    return ec;
}

std::error_code encode_field_array(const FieldArray& array, Bytes& out) {
    const std::size_t size_before = out.size();
    Writer w(out);
    auto ec = with_length(w, [&] { return encode_array_items(w, array); });
    if (ec) out.resize(size_before);
    return ec;
}

char field_type_letter(FieldValue::Type type) noexcept {
    using T = FieldValue::Type;
    switch (type) {
        case T::Void: return 'V';
        case T::Bool: return 't';
        case T::Int8: return 'b';
        case T::UInt8: return 'B';
        case T::Int16: return 's';
        case T::UInt16: return 'u';
        case T::Int32: return 'I';
        case T::UInt32: return 'i';
        case T::Int64: return 'l';
        case T::UInt64: return 'l';
        case T::Float: return 'f';
        case T::Double: return 'd';
        case T::Decimal: return 'D';
        case T::String: return 'S';
        case T::Bytes: return 'x';
        case T::Timestamp: return 'T';
        case T::Table: return 'F';
        case T::Array: return 'A';
    }
    return 'V';
}

}  // namespace warren::protocol
