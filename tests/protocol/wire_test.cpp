#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "warren/protocol/wire.hpp"

using warren::ByteArray;
using warren::Decimal;
using warren::FieldArray;
using warren::FieldTable;
using warren::FieldValue;
using warren::Timestamp;
namespace p = warren::protocol;
using p::CodecError;

namespace {

p::Bytes bytes_of(std::string_view s) { return p::Bytes(s.begin(), s.end()); }

/// The table body (without its length) for `t`.
std::string encoded_body(const FieldTable& t) {
    p::Bytes out;
    REQUIRE_FALSE(p::encode_field_table(t, out));
    return std::string(p::as_chars(p::ByteView(out).subspan(4)));
}

FieldTable decoded(std::string_view body) {
    FieldTable t;
    REQUIRE_FALSE(p::decode_field_table(p::as_bytes(body), t));
    return t;
}

std::error_code decode_error(std::string_view body) {
    FieldTable t;
    return p::decode_field_table(p::as_bytes(body), t);
}

}  // namespace

TEST_CASE("integers are big-endian and reads past the end fail without moving") {
    p::Bytes out;
    p::Writer w(out);
    w.u8(0x01);
    w.u16(0x0203);
    w.u32(0x04050607);
    w.u64(0x08090a0b0c0d0e0fULL);
    CHECK(out == bytes_of("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"));

    p::Reader r(out);
    std::uint8_t a = 0;
    std::uint16_t b = 0;
    std::uint32_t c = 0;
    std::uint64_t d = 0;
    REQUIRE(r.u8(a));
    REQUIRE(r.u16(b));
    REQUIRE(r.u32(c));
    REQUIRE(r.remaining() == 8);
    REQUIRE(r.u64(d));
    CHECK(a == 0x01);
    CHECK(b == 0x0203);
    CHECK(c == 0x04050607);
    CHECK(d == 0x08090a0b0c0d0e0fULL);
    CHECK(r.at_end());
    CHECK_FALSE(r.u8(a));
}

TEST_CASE("short and long strings") {
    p::Bytes out;
    p::Writer w(out);
    REQUIRE_FALSE(w.shortstr("abc"));
    w.longstr("de");
    CHECK(out == bytes_of(std::string("\x03" "abc\0\0\0\x02" "de", 10)));
    CHECK(w.shortstr(std::string(256, 'x')) == CodecError::short_string_too_long);
    CHECK(out.size() == 10);  // nothing written

    p::Reader r(out);
    std::string s;
    REQUIRE(r.shortstr(s));
    CHECK(s == "abc");
    REQUIRE(r.longstr(s));
    CHECK(s == "de");

    // A stated length longer than what is there reads nothing.
    const auto claim = bytes_of(std::string("\xff\xff\xff\xff" "ab", 6));
    p::Reader big(claim);
    CHECK_FALSE(big.longstr(s));
    CHECK(big.position() == 0);
}

TEST_CASE("field tables carry every type RabbitMQ writes, with its letters") {
    const FieldTable t{
        {"S", "text"},
        {"I", std::int32_t{-5}},
        {"D", Decimal{2, 150}},
        {"T", Timestamp{1700000000}},
        {"F", FieldTable{{"inner", true}}},
        {"A", FieldArray{1, "x", FieldArray{}}},
        {"b", std::int8_t{-1}},
        {"d", 2.5},
        {"f", 1.5f},
        {"l", std::int64_t{-9000000000LL}},
        {"s", std::int16_t{-2}},
        {"t", false},
        {"x", ByteArray{std::string("\0\x01", 2)}},
        {"B", std::uint8_t{200}},
        {"u", std::uint16_t{60000}},
        {"i", std::uint32_t{4000000000u}},
        {"V", FieldValue()},
    };
    // Each key is its own type letter: the octet after the one-byte key.
    for (const auto& [key, value] : t) {
        CHECK(encoded_body(FieldTable{{key, value}})[2] == key[0]);
        CHECK(p::field_type_letter(value.type()) == key[0]);
    }
    CHECK(decoded(encoded_body(t)) == t);
}

TEST_CASE("field table bytes match rabbit_binary_generator") {
    CHECK(encoded_body(FieldTable{{"a", 1}}) == std::string("\x01" "aI\0\0\0\x01", 7));
    CHECK(encoded_body(FieldTable{{"k", "v"}}) == std::string("\x01kS\0\0\0\x01v", 8));
    CHECK(encoded_body(FieldTable{{"t", true}}) == std::string("\x01tt\x01", 4));
    CHECK(encoded_body(FieldTable{{"n", FieldTable{}}}) == std::string("\x01nF\0\0\0\0", 7));
    CHECK(encoded_body(FieldTable{{"d", Decimal{3, 7}}}) == std::string("\x01" "dD\x03\0\0\0\x07", 8));
    p::Bytes arr;
    REQUIRE_FALSE(p::encode_field_array(FieldArray{std::int8_t{1}, "a"}, arr));
    CHECK(arr == bytes_of(std::string("\0\0\0\x08" "b\x01S\0\0\0\x01" "a", 12)));
}

TEST_CASE("decoding follows rabbit_binary_parser") {
    SECTION("'l' and 'L' are both signed 64-bit") {
        const auto t = decoded(std::string("\x01" "aL\xff\xff\xff\xff\xff\xff\xff\xfe", 11));
        CHECK(t.at("a") == FieldValue(std::int64_t{-2}));
        CHECK(t.at("a").type() == FieldValue::Type::Int64);
    }
    SECTION("'I' is signed, 'i' unsigned") {
        const auto t = decoded(std::string("\x01" "aI\xff\xff\xff\xff\x01" "bi\xff\xff\xff\xff", 14));
        CHECK(t.at("a") == FieldValue(std::int32_t{-1}));
        CHECK(t.at("b") == FieldValue(std::uint32_t{0xffffffffu}));
    }
    SECTION("'t' is true for any non-zero octet") {
        CHECK(decoded(std::string("\x01" "at\x07", 4)).at("a") == FieldValue(true));
    }
    SECTION("a repeated key keeps its first value") {
        const auto t = decoded(std::string("\x01" "aI\0\0\0\x01\x01" "aI\0\0\0\x02", 14));
        CHECK(t.size() == 1);
        CHECK(t.at("a").as_int() == 1);
    }
    SECTION("the empty table") { CHECK(decoded("").empty()); }
}

TEST_CASE("malformed tables are errors, not crashes") {
    CHECK(decode_error(std::string("\x01" "aZ\0", 4)) == CodecError::bad_field_type);
    CHECK(decode_error(std::string("\x01" "aU\0\0\0\0\0\0\0\0", 11)) == CodecError::bad_field_type);
    CHECK(decode_error(std::string("\x01" "aS\0\0\0\x09xx", 9)) == CodecError::truncated);
    CHECK(decode_error(std::string("\x05" "ab", 3)) == CodecError::truncated);
    CHECK(decode_error(std::string("\x01" "aI\0\0", 5)) == CodecError::truncated);
    CHECK(decode_error(std::string("\x01" "a", 2)) == CodecError::truncated);
    // Erlang has no NaN or infinity: RabbitMQ's parser cannot match them.
    CHECK(decode_error(std::string("\x01" "af\x7f\xc0\0\0", 7)) == CodecError::non_finite_float);
    CHECK(decode_error(std::string("\x01" "ad\x7f\xf0\0\0\0\0\0\0", 11)) == CodecError::non_finite_float);
    // A table nested beyond the limit.
    std::string nested;
    for (int i = 0; i < p::max_field_nesting + 1; ++i) {
        const std::uint32_t n = static_cast<std::uint32_t>(nested.size());
        std::string entry = "\x01" "aF";
        entry += static_cast<char>(n >> 24);
        entry += static_cast<char>(n >> 16);
        entry += static_cast<char>(n >> 8);
        entry += static_cast<char>(n);
        nested = entry + nested;
    }
    CHECK(decode_error(nested) == CodecError::nesting_too_deep);
    CHECK(p::make_error_code(CodecError::nesting_too_deep).message() == "tables nested too deep");
}

TEST_CASE("arrays decode like tables") {
    FieldArray a;
    REQUIRE_FALSE(p::decode_field_array(p::as_bytes(std::string("V" "t\x01" "s\xff\xfe", 6)), a));
    CHECK(a == FieldArray{FieldValue(), true, std::int16_t{-2}});
    CHECK(p::decode_field_array(p::as_bytes("Q"), a) == CodecError::bad_field_type);
}

TEST_CASE("unsigned 64-bit values are written as 'l', the letter RabbitMQ has") {
    const std::string body = encoded_body(FieldTable{{"u", std::uint64_t{5}}});
    CHECK(body == std::string("\x01ul\0\0\0\0\0\0\0\x05", 11));
}

TEST_CASE("a key over 255 bytes cannot be encoded, and nothing is written") {
    p::Bytes out{1, 2, 3};
    CHECK(p::encode_field_table(FieldTable{{std::string(256, 'k'), 1}}, out) ==
          CodecError::short_string_too_long);
    CHECK(out == p::Bytes{1, 2, 3});
    CHECK(p::encode_field_table(FieldTable{{"a", FieldTable{{"b", std::string(300, 'v')}}}}, out) ==
          std::error_code{});
}

TEST_CASE("UTF-8 as xmerl_ucs accepts it") {
    // Each case was run through rabbit_binary_parser:validate_utf8 on RabbitMQ 3.10.8.
    const auto ok = [](std::string_view s) { return p::is_rabbit_utf8(s); };
    CHECK(ok("abc"));
    CHECK(ok(""));
    CHECK(ok(std::string("\0", 1)));
    CHECK(ok("\xc3\xa9"));
    CHECK(ok("\xc2\x80"));
    CHECK(ok("\xe0\xa0\x80"));
    CHECK(ok("\xed\xa0\x80"));          // a surrogate
    CHECK(ok("\xef\xbf\xbf"));
    CHECK(ok("\xf0\x90\x80\x80"));
    CHECK(ok("\xf4\x90\x80\x80"));      // above U+10FFFF
    CHECK(ok("\xf7\xbf\xbf\xbf"));
    CHECK_FALSE(ok("\xc0\x80"));        // overlong
    CHECK_FALSE(ok("\xc1\xbf"));
    CHECK_FALSE(ok("\xe0\x9f\xbf"));
    CHECK_FALSE(ok("\xf0\x8f\xbf\xbf"));
    CHECK_FALSE(ok("\xf8\x88\x80\x80\x80"));  // five bytes
    CHECK_FALSE(ok("\x80"));
    CHECK_FALSE(ok("\xc3"));
    CHECK_FALSE(ok("\xef\xbf"));
    CHECK_FALSE(ok("\xc2\xc2"));
    CHECK_FALSE(ok("\xfe"));
    CHECK_FALSE(ok("\xff"));
}
