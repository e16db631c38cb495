#include <catch2/catch.hpp>

#include <cstdint>
#include <sstream>

#include "warren/protocol/field_value.hpp"

using warren::FieldArray;
using warren::FieldTable;
using warren::FieldTypeError;
using warren::FieldValue;
using Type = FieldValue::Type;

namespace {
template <class T>
std::string printed(const T& v) {
    std::ostringstream os;
    os << v;
    return os.str();
}
}  // namespace

TEST_CASE("FieldValue keeps the AMQP type a literal implies") {
    CHECK(FieldValue().type() == Type::Void);
    CHECK(FieldValue(true).type() == Type::Bool);
    CHECK(FieldValue(std::int8_t{1}).type() == Type::Int8);
    CHECK(FieldValue(std::uint8_t{1}).type() == Type::UInt8);
    CHECK(FieldValue(std::int16_t{1}).type() == Type::Int16);
    CHECK(FieldValue(std::uint16_t{1}).type() == Type::UInt16);
    CHECK(FieldValue(1).type() == Type::Int32);
    CHECK(FieldValue(1u).type() == Type::UInt32);
    CHECK(FieldValue(std::int64_t{1}).type() == Type::Int64);
    CHECK(FieldValue(std::uint64_t{1}).type() == Type::UInt64);
    CHECK(FieldValue(1.5f).type() == Type::Float);
    CHECK(FieldValue(1.5).type() == Type::Double);
    CHECK(FieldValue(warren::Decimal{2, 150}).type() == Type::Decimal);
    CHECK(FieldValue("s").type() == Type::String);
    CHECK(FieldValue(std::string("s")).type() == Type::String);
    CHECK(FieldValue(warren::ByteArray{"\x01"}).type() == Type::Bytes);
    CHECK(FieldValue(warren::Timestamp{5}).type() == Type::Timestamp);
    CHECK(FieldValue(FieldTable{{"a", 1}}).type() == Type::Table);
    CHECK(FieldValue(FieldArray{1, "x"}).type() == Type::Array);
}

TEST_CASE("as_int widens every integer type and refuses the rest") {
    CHECK(FieldValue(std::int8_t{-5}).as_int() == -5);
    CHECK(FieldValue(std::uint16_t{65535}).as_int() == 65535);
    CHECK(FieldValue(std::uint32_t{4'000'000'000u}).as_int() == 4'000'000'000LL);
    CHECK(FieldValue(std::int64_t{-9'000'000'000LL}).as_int() == -9'000'000'000LL);
    CHECK_THROWS_AS(FieldValue("1").as_int(), FieldTypeError);
    CHECK_THROWS_AS(FieldValue(true).as_int(), FieldTypeError);
    CHECK_THROWS_AS(FieldValue(1.0).as_int(), FieldTypeError);
}

TEST_CASE("typed accessors throw on a mismatch, naming both types") {
    CHECK(FieldValue("x").as_string() == "x");
    CHECK(FieldValue(true).as_bool());
    CHECK(FieldValue(2.5f).as_double() == 2.5);
    CHECK(FieldValue(7).as_double() == 7.0);
    CHECK(FieldValue(warren::Decimal{2, 150}).as_double() == Approx(1.5));
    CHECK(FieldValue().is_void());
    try {
        (void)FieldValue(3).as_string();
        FAIL("no throw");
    } catch (const FieldTypeError& e) {
        CHECK(std::string(e.what()) == "FieldValue is signedint, not a string");
    }
    CHECK_THROWS_AS(FieldValue(1).as_table(), FieldTypeError);
    CHECK_THROWS_AS(FieldValue(1).as_array(), FieldTypeError);
}

TEST_CASE("FieldTable keeps insertion order and replaces in place") {
    FieldTable t{{"b", 1}, {"a", "two"}, {"c", FieldValue()}};
    REQUIRE(t.size() == 3);
    std::vector<std::string> keys;
    for (const auto& [k, v] : t) keys.push_back(k);
    CHECK(keys == std::vector<std::string>{"b", "a", "c"});
    t.set("a", 3);
    CHECK(t.at("a").as_int() == 3);
    CHECK(t.entries()[1].first == "a");
    CHECK(t.contains("c"));
    CHECK(t.find("zz") == nullptr);
    CHECK_THROWS_AS(t.at("zz"), std::out_of_range);
    CHECK(t.erase("b"));
    CHECK_FALSE(t.erase("b"));
    CHECK(t.size() == 2);
}

TEST_CASE("a nested path reads as in the API contract") {
    FieldTable headers{{"x-death", FieldArray{FieldTable{{"count", std::int64_t{3}}, {"reason", "expired"}}}}};
    CHECK(headers.at("x-death").as_array()[0].as_table().at("count").as_int() == 3);
}

TEST_CASE("exact equality needs the same type; RabbitMQ 3.10's loose equality does not") {
    CHECK(FieldValue(1) != FieldValue(std::int64_t{1}));
    CHECK(warren::rabbit_loose_equal(FieldValue(1), FieldValue(std::int64_t{1})));
    CHECK(warren::rabbit_loose_equal(FieldValue(1), FieldValue(1.0)));
    CHECK_FALSE(warren::rabbit_loose_equal(FieldValue("1"), FieldValue(1)));
    CHECK(warren::rabbit_loose_equal(FieldValue("ab"), FieldValue(warren::ByteArray{"ab"})));
    CHECK_FALSE(warren::rabbit_loose_equal(FieldValue(std::int64_t{-1}),
                                           FieldValue(std::uint64_t{UINT64_MAX})));
    CHECK_FALSE(warren::rabbit_loose_equal(FieldValue(true), FieldValue(1)));
}

TEST_CASE("values and tables print readably") {
    CHECK(printed(FieldValue("a\"b")) == R"("a\"b")");
    CHECK(printed(FieldValue(std::int64_t{5})) == "5L");
    CHECK(printed(FieldValue(5)) == "5");
    CHECK(printed(FieldValue()) == "void");
    CHECK(printed(FieldTable{{"k", 1}, {"s", "v"}}) == R"({"k": 1, "s": "v"})");
    CHECK(printed(FieldArray{1, "x"}) == R"([1, "x"])");
    CHECK(fmt::format("{}", FieldTable{{"k", true}}) == R"({"k": true})");
}
