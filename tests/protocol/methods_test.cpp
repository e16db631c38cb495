#include <catch2/catch.hpp>

#include <string>
#include <utility>

#include "warren/protocol/methods.hpp"

using warren::FieldTable;
using warren::MethodId;
namespace p = warren::protocol;
namespace method = warren::method;
using p::CodecError;

namespace {

std::string encoded(const p::Method& m) {
    p::Bytes out;
    REQUIRE_FALSE(p::encode(m, out));
    return std::string(p::as_chars(out));
}

p::Method round_trip(const p::Method& m) {
    p::Bytes out;
    REQUIRE_FALSE(p::encode(m, out));
    auto d = p::decode_method(out);
    REQUIRE_FALSE(d.error);
    return std::move(d.value);
}

std::error_code decode_error(std::string_view payload) {
    return p::decode_method(p::as_bytes(payload)).error;
}

template <std::size_t... I>
void every_default_method_round_trips(std::index_sequence<I...>) {
    (
        [] {
            using T = std::variant_alternative_t<I, p::Method>;
            const p::Method m = T{};
            INFO(p::method_name(T::id));
            CHECK(round_trip(m) == m);
            CHECK(p::method_id(m) == T::id);
            CHECK(p::is_known_method(T::id));
            CHECK(p::method_has_content(T::id) == T::has_content);
        }(),
        ...);
}

}  // namespace

TEST_CASE("every method encodes and decodes back") {
    every_default_method_round_trips(std::make_index_sequence<std::variant_size_v<p::Method>>{});
    CHECK(std::variant_size_v<p::Method> == 69);
}

TEST_CASE("methods with values round trip") {
    const p::Method methods[] = {
        p::ConnectionStart{0, 9, FieldTable{{"product", "x"}}, "PLAIN AMQPLAIN", "en_US"},
        p::ConnectionStartOk{FieldTable{{"capabilities", FieldTable{{"a", true}}}}, "PLAIN",
                             std::string("\0u\0p", 4), "en_US"},
        p::ConnectionTune{2047, 131072, 60},
        p::ConnectionOpen{"/vhost", "", true},
        p::ConnectionClose{320, "CONNECTION_FORCED - bye", 10, 40},
        p::ConnectionBlocked{"low on memory"},
        p::ConnectionUpdateSecret{"secret", "reason"},
        p::ChannelOpenOk{"id"},
        p::ChannelFlow{false},
        p::AccessRequest{"/data", true, false, true, false, true},
        p::ExchangeDeclare{0, "ex", "topic", false, true, true, false, true, FieldTable{{"alternate-exchange", "ae"}}},
        p::ExchangeBind{0, "dst", "src", "rk", true, FieldTable{{"x", 1}}},
        p::QueueDeclare{0, "q", true, false, true, false, true, FieldTable{{"x-message-ttl", 1000}}},
        p::QueueDeclareOk{"q", 5, 2},
        p::QueueDelete{0, "q", true, true, false},
        p::BasicQos{0, 100, true},
        p::BasicConsume{0, "q", "ctag", false, true, true, false, FieldTable{{"x-priority", 5}}},
        p::BasicPublish{0, "ex", "rk", true, false},
        p::BasicReturn{312, "NO_ROUTE", "ex", "rk"},
        p::BasicDeliver{"ctag", 0xfffffffffffULL, true, "ex", "rk"},
        p::BasicGetOk{42, false, "ex", "rk", 7},
        p::BasicNack{9, true, false},
        p::BasicCredit{"ctag", 10, true},
        p::ConfirmSelect{true},
    };
    for (const auto& m : methods) {
        INFO(p::method_name(p::method_id(m)));
        CHECK(round_trip(m) == m);
    }
}

TEST_CASE("arguments are laid out as RabbitMQ's framing writes them") {
    CHECK(encoded(p::ConnectionTune{2047, 131072, 60}) ==
          std::string("\0\x0a\0\x1e\x07\xff\0\x02\0\0\0\x3c", 12));
    CHECK(encoded(p::ChannelOpenOk{}) == std::string("\0\x14\0\x0b\0\0\0\0", 8));
    CHECK(encoded(p::BasicPublish{0, "", "q", true, true}) ==
          std::string("\0\x3c\0\x28\0\0\0\x01q\x03", 10));
    CHECK(encoded(p::QueueDeclareOk{"q", 1, 2}) ==
          std::string("\0\x32\0\x0b\x01q\0\0\0\x01\0\0\0\x02", 14));
    CHECK(encoded(p::ConnectionClose{200, "ok", 0, 0}) ==
          std::string("\0\x0a\0\x32\0\xc8\x02ok\0\0\0\0", 13));
    CHECK(encoded(p::ExchangeUnbindOk{}) == std::string("\0\x28\0\x33", 4));  // 40.51
}

TEST_CASE("consecutive bits share an octet, low bit first") {
    // queue.declare: passive, durable, exclusive, auto-delete, no-wait.
    const std::string qd = encoded(p::QueueDeclare{0, "", false, true, false, true, true, {}});
    CHECK(qd[7] == 0b11010);
    CHECK(encoded(p::BasicNack{1, true, true}).back() == 0b11);
    CHECK(encoded(p::AccessRequest{"", true, true, true, true, true}).back() == 0b11111);
    // exchange.declare: passive durable auto-delete internal no-wait, then the table.
    const std::string ed = encoded(p::ExchangeDeclare{0, "e", "direct", true, false, false, true, false, {}});
    CHECK(ed[6 + 2 + 7] == 0b01001);
    // Bits separated by other fields take an octet each: basic.get-ok has one bit.
    CHECK(encoded(p::BasicGetOk{1, true, "", "", 0}) ==
          std::string("\0\x3c\0\x47\0\0\0\0\0\0\0\x01\x01\0\0\0\0\0\0", 19));
}

TEST_CASE("names, ids and content as RabbitMQ's framing knows them") {
    CHECK(std::string(p::method_name(method::basic_publish)) == "basic.publish");
    CHECK(std::string(p::method_name(method::exchange_unbind_ok)) == "exchange.unbind_ok");
    CHECK(std::string(p::method_name(method::basic_recover_async)) == "basic.recover_async");
    CHECK(p::method_name(MethodId{40, 50}).empty());
    CHECK(p::method_name(MethodId{99, 1}).empty());
    CHECK_FALSE(p::is_known_method(MethodId{40, 50}));
    CHECK(p::is_known_method(MethodId{30, 10}));  // access.request
    for (const MethodId id : {method::basic_publish, method::basic_return, method::basic_deliver,
                              method::basic_get_ok})
        CHECK(p::method_has_content(id));
    CHECK_FALSE(p::method_has_content(method::basic_get));
}

TEST_CASE("decoding refuses what RabbitMQ refuses") {
    const std::string qd = encoded(p::QueueDeclare{0, "q", false, false, false, false, false, {}});
    SECTION("too short: cannot decode") {
        CHECK(decode_error(qd.substr(0, qd.size() - 1)) == CodecError::truncated);
    }
    SECTION("a byte too many: cannot decode") {
        CHECK(decode_error(qd + std::string(1, '\0')) == CodecError::trailing_bytes);
    }
    SECTION("a checked name that is not UTF-8") {
        const std::string bad = encoded(p::QueueDeclare{0, "\xff", false, false, false, false, false, {}});
        CHECK(decode_error(bad) == CodecError::malformed_utf8);
    }
    SECTION("publish names are not checked") {
        CHECK_FALSE(decode_error(encoded(p::BasicPublish{0, "\xff", "\xfe", false, false})));
        CHECK_FALSE(decode_error(encoded(p::BasicDeliver{"\xff", 1, false, "", ""})));
    }
    SECTION("the UTF-8 check comes before the table") {
        std::string bad = encoded(p::QueueDeclare{0, "\xff", false, false, false, false, false, {}});
        bad.replace(bad.size() - 4, 4, std::string("\0\0\0\x03\x01" "aZ", 7));
        CHECK(decode_error(bad) == CodecError::malformed_utf8);
    }
    SECTION("a table that does not parse") {
        std::string bad = qd;
        bad.replace(bad.size() - 4, 4, std::string("\0\0\0\x03\x01" "aZ", 7));
        CHECK(decode_error(bad) == CodecError::malformed_table);
    }
    SECTION("a table length past the end is a layout error") {
        std::string bad = qd;
        bad.replace(bad.size() - 4, 4, std::string("\0\0\0\x09", 4));
        CHECK(decode_error(bad) == CodecError::truncated);
    }
    SECTION("unknown ids") {
        CHECK(decode_error(std::string("\0\x28\0\x32", 4)) == CodecError::unknown_method);
        CHECK(decode_error(std::string("\0\x63\0\x01", 4)) == CodecError::unknown_method);
    }
    SECTION("no room for the ids") {
        CHECK(decode_error(std::string("\0\x3c\0", 3)) == CodecError::malformed_frame);
    }
    SECTION("undefined bits are ignored") {
        std::string m = encoded(p::BasicAck{1, false});
        m.back() = '\xfe';
        const auto d = p::decode_method(p::as_bytes(m));
        REQUIRE_FALSE(d.error);
        CHECK_FALSE(std::get<p::BasicAck>(d.value).multiple);
    }
}

TEST_CASE("a short string over 255 bytes cannot be encoded, and nothing is written") {
    p::Bytes out{9};
    CHECK(p::encode(p::QueueDeclare{0, std::string(256, 'q'), false, false, false, false, false, {}}, out) ==
          CodecError::short_string_too_long);
    CHECK(out == p::Bytes{9});
}
