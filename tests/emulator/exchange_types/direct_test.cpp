// The direct exchange through the ExchangeType interface; checked against RabbitMQ 3.10.8.
#include <catch2/catch.hpp>

#include <deque>
#include <string>
#include <vector>

#include "exchange_type.hpp"

using namespace warren;
using namespace warren::emulator;

namespace {

Binding binding_with_key(std::string key) {
    Binding b;
    b.key = std::move(key);
    return b;
}

std::vector<const Binding*> route(const ExchangeType& type, std::string_view routing_key,
                                  const FieldTable& headers = {}) {
    std::vector<const Binding*> out;
    type.route(RoutingInput{routing_key, headers}, out);
    return out;
}

}  // namespace

TEST_CASE("direct: a binding matches when its key equals the routing key", "[direct]") {
    auto type = make_exchange_type("direct");
    REQUIRE(type);
    CHECK(type->name() == "direct");
    std::deque<Binding> b;
    for (const char* key : {"a", "", "b", "A", "a.b", "a"}) {
        b.push_back(binding_with_key(key));
        type->add_binding(b.back());
    }
    using Out = std::vector<const Binding*>;
    CHECK(route(*type, "a") == Out{&b[0], &b[5]});
    CHECK(route(*type, "") == Out{&b[1]});
    CHECK(route(*type, "A") == Out{&b[3]});  // case-sensitive
    CHECK(route(*type, "a.b") == Out{&b[4]});  // no pattern matching
    CHECK(route(*type, "*").empty());
    CHECK(route(*type, "zz").empty());

    SECTION("CC and BCC keys route as well; duplicates are left to the caller") {
        const FieldTable headers{{"CC", FieldArray{"b", "a"}}, {"BCC", FieldArray{"A"}}};
        CHECK(route(*type, "b", headers) == Out{&b[2], &b[2], &b[0], &b[5], &b[3]});
    }
    SECTION("only long-string entries of CC count, and the header name is case-sensitive") {
        const FieldTable headers{{"CC", FieldArray{ByteArray{"a"}, 1, "b"}},
                                 {"cc", FieldArray{"a"}}};
        CHECK(route(*type, "zz", headers) == Out{&b[2]});
    }
    SECTION("removing one of two equal-keyed bindings keeps the other") {
        type->remove_binding(b[0]);
        CHECK(route(*type, "a") == Out{&b[5]});
        type->remove_binding(b[5]);
        CHECK(route(*type, "a").empty());
        type->remove_binding(b[5]);  // already gone: no effect
        CHECK(route(*type, "b") == Out{&b[2]});
    }
}

TEST_CASE("direct: explain", "[direct]") {
    auto type = make_exchange_type("direct");
    const Binding b = binding_with_key("x");
    const FieldTable none;
    CHECK(type->explain(b, RoutingInput{"x", none}) == std::nullopt);
    CHECK(type->explain(b, RoutingInput{"y", none}) == "binding key 'x' != routing key 'y'");
    const FieldTable cc{{"CC", FieldArray{"z"}}};
    CHECK(type->explain(b, RoutingInput{"y", cc}) ==
          "binding key 'x' equals none of the routing key and CC/BCC keys 'y', 'z'");
    const FieldTable cc_match{{"CC", FieldArray{"x"}}};
    CHECK(type->explain(b, RoutingInput{"y", cc_match}) == std::nullopt);
}

TEST_CASE("make_exchange_type knows the four built-in types only", "[direct]") {
    for (const char* name : {"direct", "fanout", "topic", "headers"}) {
        auto type = make_exchange_type(name);
        REQUIRE(type);
        CHECK(type->name() == name);
    }
    CHECK(make_exchange_type("x-consistent-hash") == nullptr);
    CHECK(make_exchange_type("Direct") == nullptr);
    CHECK(make_exchange_type("") == nullptr);
    // Only the headers exchange has binding arguments to check.
    CHECK(make_exchange_type("direct")->validate_binding("k", FieldTable{{"x-match", 1}}) ==
          std::nullopt);
}
