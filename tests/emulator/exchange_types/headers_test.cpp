// The headers exchange through the ExchangeType interface. The routing matrix and every error
// text here were observed on RabbitMQ 3.10.8.
#include <catch2/catch.hpp>

#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "exchange_type.hpp"

using namespace warren;
using namespace warren::emulator;

namespace {

const FieldValue kVoid{};

std::optional<std::string> validate(const FieldValue& x_match) {
    return make_exchange_type("headers")->validate_binding("", FieldTable{{"x-match", x_match}});
}

std::string type_error(std::string_view type, std::string_view value) {
    return "Invalid x-match field type " + std::string(type) + " (value " + std::string(value) +
           "); expected longstr";
}

std::string value_error(std::string_view value) {
    return "Invalid x-match field value " + std::string(value) +
           "; expected all, any, all-with-x, or any-with-x";
}

}  // namespace

TEST_CASE("headers: routing matrix observed on RabbitMQ", "[headers]") {
    const std::vector<std::pair<std::string, FieldTable>> binding_args = {
        {"all_a_i32_1", {{"a", std::int32_t{1}}}},
        {"all_a_void", {{"a", kVoid}}},
        {"any_a_void", {{"x-match", "any"}, {"a", kVoid}}},
        {"all_empty", {}},
        {"all_only_xmatch", {{"x-match", "all"}}},
        {"any_empty", {{"x-match", "any"}}},
        {"all_xfoo", {{"x-foo", "bar"}}},
        {"any_xfoo", {{"x-match", "any"}, {"x-foo", "bar"}}},
        {"allx_xfoo", {{"x-match", "all-with-x"}, {"x-foo", "bar"}}},
        {"anyx_xfoo", {{"x-match", "any-with-x"}, {"x-foo", "bar"}}},
        {"anyx_empty", {{"x-match", "any-with-x"}}},
        {"allx_empty", {{"x-match", "all-with-x"}}},
        {"all_a1_b2", {{"a", std::int32_t{1}}, {"b", std::int32_t{2}}}},
        {"any_a1_b2", {{"x-match", "any"}, {"a", std::int32_t{1}}, {"b", std::int32_t{2}}}},
        {"all_a_str1", {{"a", "1"}}},
        {"all_a_true", {{"a", true}}},
        {"all_a_d15", {{"a", 1.5}}},
        {"all_a_dec", {{"a", Decimal{1, 15}}}},
        {"all_a_ts5", {{"a", Timestamp{5}}}},
        {"all_a_bin", {{"a", ByteArray{"z"}}}},
        {"all_a_tbl", {{"a", FieldTable{{"n", std::int32_t{1}}}}}},
        {"all_a_arr", {{"a", FieldArray{std::int32_t{1}}}}},
        {"all_a_f01", {{"a", 0.1f}}},
        {"all_a_u8_1", {{"a", std::uint8_t{1}}}},
        {"all_a_neg1", {{"a", std::int32_t{-1}}}},
    };
    auto type = make_exchange_type("headers");
    REQUIRE(type->name() == "headers");
    std::deque<Binding> bindings;
    std::map<const Binding*, std::string> name_of;
    for (const auto& [name, args] : binding_args) {
        REQUIRE(type->validate_binding("", args) == std::nullopt);
        Binding b;
        b.arguments = args;
        bindings.push_back(std::move(b));
        name_of[&bindings.back()] = name;
        type->add_binding(bindings.back());
    }

    // Matched by every message, so left out of the expectations below.
    const std::set<std::string> always{"all_empty", "all_only_xmatch", "all_xfoo", "allx_empty"};
    const std::set<std::string> present{"all_a_void", "any_a_void"};  // `a` is there
    using Names = std::set<std::string>;
    auto with = [](Names base, const Names& more) {
        base.insert(more.begin(), more.end());
        return base;
    };
    const Names one = with(present, {"all_a_i32_1", "any_a1_b2", "all_a_u8_1"});
    const std::vector<std::tuple<std::string, FieldTable, Names>> messages = {
        {"empty", {}, {}},
        {"a=i32 1", {{"a", std::int32_t{1}}}, one},
        {"a=i64 1", {{"a", std::int64_t{1}}}, one},
        {"a=d 1.0", {{"a", 1.0}}, one},
        {"a=f 1.0", {{"a", 1.0f}}, one},
        {"a=i8 1", {{"a", std::int8_t{1}}}, one},
        {"a=u32 1", {{"a", std::uint32_t{1}}}, one},
        {"a=u8 1", {{"a", std::uint8_t{1}}}, one},
        {"a=ts 1", {{"a", Timestamp{1}}}, one},
        {"a=str 1", {{"a", "1"}}, with(present, {"all_a_str1"})},
        {"a=true", {{"a", true}}, with(present, {"all_a_true"})},
        {"a=void", {{"a", kVoid}}, present},
        {"a=d 1.5", {{"a", 1.5}}, with(present, {"all_a_d15"})},
        {"a=f 1.5", {{"a", 1.5f}}, with(present, {"all_a_d15"})},
        {"a=dec 1,15", {{"a", Decimal{1, 15}}}, with(present, {"all_a_dec"})},
        {"a=dec 2,150", {{"a", Decimal{2, 150}}}, present},
        {"a=i32 5", {{"a", std::int32_t{5}}}, with(present, {"all_a_ts5"})},
        {"a=ts 5", {{"a", Timestamp{5}}}, with(present, {"all_a_ts5"})},
        {"a=str z", {{"a", "z"}}, with(present, {"all_a_bin"})},
        {"a=bin z", {{"a", ByteArray{"z"}}}, with(present, {"all_a_bin"})},
        {"a=tbl n i32 1", {{"a", FieldTable{{"n", std::int32_t{1}}}}},
         with(present, {"all_a_tbl"})},
        {"a=tbl n i64 1", {{"a", FieldTable{{"n", std::int64_t{1}}}}}, present},
        {"a=arr i32 1", {{"a", FieldArray{std::int32_t{1}}}}, with(present, {"all_a_arr"})},
        {"a=arr i64 1", {{"a", FieldArray{std::int64_t{1}}}}, present},
        {"a=arr d 1.0", {{"a", FieldArray{1.0}}}, present},
        {"a=f 0.1", {{"a", 0.1f}}, with(present, {"all_a_f01"})},
        {"a=d 0.1", {{"a", 0.1}}, present},
        {"a=d 0.1f", {{"a", static_cast<double>(0.1f)}}, with(present, {"all_a_f01"})},
        {"a=i32 -1", {{"a", std::int32_t{-1}}}, with(present, {"all_a_neg1"})},
        {"a=u32 max", {{"a", std::numeric_limits<std::uint32_t>::max()}}, present},
        {"x-foo=bar", {{"x-foo", "bar"}}, {"allx_xfoo", "anyx_xfoo"}},
        {"x-foo=baz", {{"x-foo", "baz"}}, {}},
        {"a=1,b=2", {{"a", std::int32_t{1}}, {"b", std::int32_t{2}}}, with(one, {"all_a1_b2"})},
        {"b=2,a=1", {{"b", std::int32_t{2}}, {"a", std::int32_t{1}}}, with(one, {"all_a1_b2"})},
        {"a=1,b=3", {{"a", std::int32_t{1}}, {"b", std::int32_t{3}}}, one},
        {"a=0,b=2", {{"a", std::int32_t{0}}, {"b", std::int32_t{2}}}, with(present, {"any_a1_b2"})},
        {"b=2", {{"b", std::int32_t{2}}}, {"any_a1_b2"}},
        {"x-match=any,b=2", {{"x-match", "any"}, {"b", std::int32_t{2}}}, {"any_a1_b2"}},
    };
    for (const auto& [label, headers, expected] : messages) {
        INFO("message " << label);
        std::vector<const Binding*> out;
        type->route(RoutingInput{"ignored", headers}, out);
        Names got;
        for (const Binding* b : out) got.insert(name_of.at(b));
        CHECK(got == with(expected, always));
        for (const Binding& b : bindings) {
            INFO("binding " << name_of.at(&b));
            const bool routed = got.count(name_of.at(&b)) > 0;
            CHECK(type->explain(b, RoutingInput{"ignored", headers}).has_value() == !routed);
        }
    }
}

TEST_CASE("headers: routing keys and CC play no part", "[headers]") {
    auto type = make_exchange_type("headers");
    Binding b;
    b.key = "some-key";
    b.arguments = FieldTable{{"x-match", "any"}, {"CC", FieldArray{"k"}}};
    type->add_binding(b);
    std::vector<const Binding*> out;
    type->route(RoutingInput{"some-key", FieldTable{}}, out);
    CHECK(out.empty());
    // CC is an ordinary header for matching purposes.
    const FieldTable cc{{"CC", FieldArray{"k"}}};
    type->route(RoutingInput{"other", cc}, out);
    CHECK(out == std::vector<const Binding*>{&b});
}

TEST_CASE("headers: removing a binding", "[headers]") {
    auto type = make_exchange_type("headers");
    std::deque<Binding> b(2);
    for (Binding& binding : b) type->add_binding(binding);
    type->remove_binding(b[0]);
    std::vector<const Binding*> out;
    type->route(RoutingInput{"", FieldTable{}}, out);
    CHECK(out == std::vector<const Binding*>{&b[1]});
    type->remove_binding(b[0]);  // not there any more: no effect
    type->remove_binding(b[1]);
    out.clear();
    type->route(RoutingInput{"", FieldTable{}}, out);
    CHECK(out.empty());
}

TEST_CASE("headers: x-match validation", "[headers]") {
    for (const char* mode : {"all", "any", "all-with-x", "any-with-x"})
        CHECK(validate(mode) == std::nullopt);
    CHECK(make_exchange_type("headers")->validate_binding("", FieldTable{{"a", 1}}) ==
          std::nullopt);

    SECTION("another string") {
        CHECK(validate("foo") == value_error(R"(<<"foo">>)"));
        CHECK(validate("ALL") == value_error(R"(<<"ALL">>)"));
        CHECK(validate("all ") == value_error(R"(<<"all ">>)"));
        CHECK(validate("") == value_error("<<>>"));
        CHECK(validate(std::string(100, 'x')) ==
              value_error("<<\"" + std::string(100, 'x') + "\">>"));
    }
    SECTION("strings print as Latin-1 text when every byte is printable, else as bytes") {
        CHECK(validate("a\"b\\c") == value_error(R"(<<"a\"b\\c">>)"));
        CHECK(validate("tab\tnl\n") == value_error(R"(<<"tab\tnl\n">>)"));
        CHECK(validate("a\rb") == value_error(R"(<<"a\rb">>)"));
        CHECK(validate("a\x1b" "b") == value_error(R"(<<"a\eb">>)"));
        CHECK(validate("a\vb") == value_error(R"(<<"a\vb">>)"));
        CHECK(validate("a\bb") == value_error(R"(<<"a\bb">>)"));
        CHECK(validate("a\fb") == value_error(R"(<<"a\fb">>)"));
        CHECK(validate("h\xc3\xa9llo") == value_error("<<\"h\xc3\xa9llo\">>"));
        CHECK(validate("\xff\xfe") == value_error("<<\"\xff\xfe\">>"));
        CHECK(validate("\xa0\xa1") == value_error("<<\"\xa0\xa1\">>"));
        CHECK(validate("\x01x") == value_error("<<1,120>>"));
        CHECK(validate("a\x7f" "b") == value_error("<<97,127,98>>"));
        CHECK(validate("a\x07" "b") == value_error("<<97,7,98>>"));
        CHECK(validate(std::string(1, '\0')) == value_error("<<0>>"));
        CHECK(validate("\x9f") == value_error("<<159>>"));
        CHECK(validate("\xe2\x82\xac") == value_error("<<226,130,172>>"));  // U+20AC
        CHECK(validate("\xc4\x81") == value_error("<<196,129>>"));          // U+0101
    }
    SECTION("integers, booleans, void") {
        CHECK(validate(std::int32_t{5}) == type_error("signedint", "5"));
        CHECK(validate(std::int64_t{1099511627776}) == type_error("long", "1099511627776"));
        CHECK(validate(std::int64_t{-5}) == type_error("long", "-5"));
        CHECK(validate(std::numeric_limits<std::int64_t>::min()) ==
              type_error("long", "-9223372036854775808"));
        CHECK(validate(std::int8_t{-3}) == type_error("byte", "-3"));
        CHECK(validate(std::uint8_t{200}) == type_error("unsignedbyte", "200"));
        CHECK(validate(std::int16_t{-300}) == type_error("short", "-300"));
        CHECK(validate(std::uint16_t{60000}) == type_error("unsignedshort", "60000"));
        CHECK(validate(std::uint32_t{4000000000}) == type_error("unsignedint", "4000000000"));
        CHECK(validate(true) == type_error("bool", "true"));
        CHECK(validate(false) == type_error("bool", "false"));
        CHECK(validate(kVoid) == type_error("void", "undefined"));
        CHECK(validate(Timestamp{1600000000}) == type_error("timestamp", "1600000000"));
        CHECK(validate(Timestamp{9223372036854775809u}) ==
              type_error("timestamp", "9223372036854775809"));
    }
    SECTION("decimals are {Scale,Value} with an unsigned value") {
        CHECK(validate(Decimal{2, 150}) == type_error("decimal", "{2,150}"));
        CHECK(validate(Decimal{0, 5}) == type_error("decimal", "{0,5}"));
        CHECK(validate(Decimal{1, 4294967291u}) == type_error("decimal", "{1,4294967291}"));
    }
    SECTION("floats print as Erlang prints them") {
        const std::vector<std::pair<double, const char*>> doubles = {
            {1.5, "1.5"},       {1.0, "1.0"},       {0.1, "0.1"},         {1e20, "1.0e20"},
            {-2.5e-7, "-2.5e-7"}, {123456.0, "123456.0"}, {1e15, "1.0e15"}, {1e16, "1.0e16"},
            {1e17, "1.0e17"},   {1e21, "1.0e21"},   {1e22, "1.0e22"},     {0.001, "0.001"},
            {0.0001, "0.0001"}, {0.00001, "1.0e-5"}, {1.5e-5, "1.5e-5"},
            {12345678901234567890.0, "1.2345678901234567e19"},            {-0.0, "-0.0"},
            {1180591620717411303424.0, "1.1805916207174113e21"},          {5e-324, "5.0e-324"},
            {1.7976931348623157e308, "1.7976931348623157e308"},           {100.0, "100.0"},
            {1234.5, "1234.5"}, {1000.0, "1.0e3"},  {0.0015, "0.0015"},   {0.00015, "1.5e-4"},
            {1200.0, "1.2e3"},  {10.0, "10.0"},     {120.0, "120.0"},     {0.0, "0.0"},
            {-1.5, "-1.5"},     {1e100, "1.0e100"}, {1e-100, "1.0e-100"}, {0.3, "0.3"},
            {2.0 / 3, "0.6666666666666666"},
        };
        for (const auto& [value, text] : doubles) {
            INFO(text);
            CHECK(validate(value) == type_error("double", text));
        }
        CHECK(validate(1.5f) == type_error("float", "1.5"));
        CHECK(validate(0.1f) == type_error("float", "0.10000000149011612"));
        CHECK(validate(3.4e38f) == type_error("float", "3.3999999521443642e38"));
    }
    SECTION("byte arrays, arrays and tables") {
        CHECK(validate(ByteArray{"all"}) == type_error("binary", R"(<<"all">>)"));
        CHECK(validate(ByteArray{"\x01\x02"}) == type_error("binary", "<<1,2>>"));
        CHECK(validate(ByteArray{}) == type_error("binary", "<<>>"));
        CHECK(validate(FieldArray{"all", std::int32_t{5}}) ==
              type_error("array", R"([{longstr,<<"all">>},{signedint,5}])"));
        CHECK(validate(FieldArray{}) == type_error("array", "[]"));
        CHECK(validate(FieldTable{}) == type_error("table", "[]"));
        CHECK(validate(FieldTable{{"k", 1.5}}) == type_error("table", R"([{<<"k">>,double,1.5}])"));
    }
    SECTION("values too long for the line break where io_lib_pretty breaks them") {
        // rabbit_exchange_type_headers:validate_binding's texts through rabbit_misc:format, run
        // on RabbitMQ 3.10.8's own modules.
        const std::string under(41, ' ');
        FieldTable table;
        for (int i = 1; i <= 4; ++i) table.set("key" + std::to_string(i), std::int32_t{i * 1000});
        CHECK(validate(table) ==
              "Invalid x-match field type table (value [{<<\"key1\">>,signedint,1000},\n" + under +
                  "{<<\"key2\">>,signedint,2000},\n" + under + "{<<\"key3\">>,signedint,3000},\n" +
                  under + "{<<\"key4\">>,signedint,4000}]); expected longstr");
        CHECK(validate(FieldArray{"value number 1", "value number 2", "value number 3"}) ==
              "Invalid x-match field type array (value [{longstr,<<\"value number 1\">>},\n" +
                  under + "{longstr,<<\"value number 2\">>},\n" + under +
                  "{longstr,<<\"value number 3\">>}]); expected longstr");
        std::string bytes;
        for (int i = 1; i <= 20; ++i) bytes += static_cast<char>(i);
        bytes += "\xc8\xc9\xca\xcb\xcc\xcd";
        CHECK(validate(ByteArray{bytes}) ==
              "Invalid x-match field type binary (value <<1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,\n" +
                  std::string(43, ' ') + "16,17,18,19,20,200,201,202,203,204,\n" +
                  std::string(43, ' ') + "205>>); expected longstr");
    }
}

TEST_CASE("headers: explain", "[headers]") {
    auto type = make_exchange_type("headers");
    auto explain = [&](FieldTable binding_args, const FieldTable& headers) {
        Binding b;
        b.arguments = std::move(binding_args);
        return type->explain(b, RoutingInput{"", headers});
    };
    const FieldTable none;
    CHECK(explain({{"a", 1}}, {{"a", 1L}}) == std::nullopt);
    CHECK(explain({{"a", 1}}, none) == "header 'a' missing");
    CHECK(explain({{"a", 1}}, {{"a", 2}}) == "header 'a' is 2, binding wants 1");
    CHECK(explain({{"a", 1}}, {{"a", "1"}}) == "header 'a' is \"1\", binding wants 1");
    CHECK(explain({{"b", 2}, {"a", 1}}, {{"b", 3}}) ==
          "header 'a' missing; header 'b' is 3, binding wants 2");
    CHECK(explain({{"x-match", "any"}, {"a", 1}, {"b", 2}}, {{"a", 0}}) ==
          "x-match any: no header matched (header 'a' is 0, binding wants 1; header 'b' missing)");
    CHECK(explain({{"x-match", "any"}, {"x-foo", "bar"}}, {{"x-foo", "bar"}}) ==
          "x-match any: the binding names no headers to compare (arguments starting 'x-' count "
          "only under any-with-x)");
    CHECK(explain({{"x-match", "any-with-x"}}, none) ==
          "x-match any-with-x: the binding names no headers to compare");
    CHECK(explain({{"x-match", "all-with-x"}, {"x-foo", "bar"}}, {{"x-foo", "baz"}}) ==
          "header 'x-foo' is \"baz\", binding wants \"bar\"");
    CHECK(explain({{"x-match", "any-with-x"}, {"x-foo", "bar"}}, {{"x-foo", "bar"}}) ==
          std::nullopt);
}
