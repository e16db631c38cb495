#include <catch2/catch.hpp>

#include <string>

#include "warren/protocol/content_header.hpp"

using warren::BasicProperties;
using warren::FieldTable;
using warren::Timestamp;
namespace p = warren::protocol;
using p::CodecError;

namespace {

std::string encoded(const BasicProperties& props) {
    p::Bytes out;
    REQUIRE_FALSE(p::encode_basic_properties(props, out));
    return std::string(p::as_chars(out));
}

BasicProperties all_properties() {
    BasicProperties props;
    props.content_type = "application/json";
    props.content_encoding = "gzip";
    props.headers = FieldTable{{"x-retries", 3}, {"trace", "abc"}};
    props.delivery_mode = 2;
    props.priority = 5;
    props.correlation_id = "corr";
    props.reply_to = "amq.rabbitmq.reply-to";
    props.expiration = "60000";
    props.message_id = "id-1";
    props.timestamp = Timestamp{1700000000};
    props.type = "event";
    props.user_id = "guest";
    props.app_id = "app";
    props.cluster_id = "c";
    return props;
}

}  // namespace

TEST_CASE("all fourteen properties round trip") {
    const p::ContentHeader h{60, 0, 12345, all_properties()};
    p::Bytes out;
    REQUIRE_FALSE(p::encode(h, out));
    CHECK(out[12] == 0xff);  // fourteen flags, the two low bits clear
    CHECK(out[13] == 0xfc);
    const auto d = p::decode_content_header(out);
    REQUIRE_FALSE(d.error);
    CHECK(d.value == h);
}

TEST_CASE("each property has its flag bit, first property highest") {
    BasicProperties props;
    props.delivery_mode = 1;
    CHECK(encoded(props) == std::string("\x10\0\x01", 3));
    props = {};
    props.cluster_id = "x";
    CHECK(encoded(props) == std::string("\0\x04\x01x", 4));
    props = {};
    props.timestamp = Timestamp{1};
    CHECK(encoded(props) == std::string("\0\x40\0\0\0\0\0\0\0\x01", 10));
    CHECK(encoded(BasicProperties{}) == std::string("\0\0", 2));
}

TEST_CASE("headers are written only when they have entries") {
    BasicProperties props;
    props.headers = FieldTable{};
    CHECK(encoded(props) == std::string("\0\0", 2));
    // An empty table sent by a client decodes as no headers.
    const auto d = p::decode_basic_properties(p::as_bytes(std::string("\x20\0\0\0\0\0", 6)));
    REQUIRE_FALSE(d.error);
    CHECK(d.value.empty());
}

TEST_CASE("the continuation and reserved flag bits are ignored, as RabbitMQ does") {
    const auto d = p::decode_basic_properties(p::as_bytes(std::string("\x80\x03\x01" "a", 4)));
    REQUIRE_FALSE(d.error);
    CHECK(d.value.content_type == "a");
}

TEST_CASE("malformed property lists are refused") {
    const auto error = [](std::string_view bytes) {
        return p::decode_basic_properties(p::as_bytes(bytes)).error;
    };
    CHECK(error("") == CodecError::malformed_properties);                       // no flags
    CHECK(error(std::string("\x80\0", 2)) == CodecError::malformed_properties);  // missing value
    CHECK(error(std::string("\x80\0\x05" "ab", 5)) == CodecError::malformed_properties);
    CHECK(error(std::string("\0\0x", 3)) == CodecError::malformed_properties);  // trailing byte
    CHECK(error(std::string("\x20\0\0\0\0\x03\x01" "aZ", 9)) == CodecError::malformed_properties);
    CHECK(error(std::string("\0\x40\0\0\0", 5)) == CodecError::malformed_properties);
}

TEST_CASE("the header prefix splits off without decoding the properties") {
    const std::string payload("\0\x3c\0\x01\0\0\0\0\0\0\0\x09\xff\xff garbage", 22);
    const auto h = p::split_content_header(p::as_bytes(payload));
    REQUIRE_FALSE(h.error);
    CHECK(h.value.class_id == 60);
    CHECK(h.value.weight == 1);
    CHECK(h.value.body_size == 9);
    CHECK(h.value.properties.size() == 10);
    CHECK(p::split_content_header(p::as_bytes(payload.substr(0, 11))).error == CodecError::malformed_frame);
    CHECK(p::decode_content_header(p::as_bytes(payload)).error == CodecError::malformed_properties);
}

TEST_CASE("a property over 255 bytes cannot be encoded") {
    BasicProperties props;
    props.message_id = std::string(256, 'm');
    p::Bytes out{1};
    CHECK(p::encode_basic_properties(props, out) == CodecError::short_string_too_long);
    CHECK(out == p::Bytes{1});
}
