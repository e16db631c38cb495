#include <catch2/catch.hpp>

#include <deque>
#include <string>
#include <vector>

#include "exchange_type.hpp"

using namespace warren;
using namespace warren::emulator;

TEST_CASE("fanout: every binding matches, whatever the keys", "[fanout]") {
    auto type = make_exchange_type("fanout");
    REQUIRE(type);
    CHECK(type->name() == "fanout");
    std::deque<Binding> b(3);
    b[0].key = "a";
    b[1].key = "";
    b[2].key = "#";
    for (const Binding& binding : b) type->add_binding(binding);

    using Out = std::vector<const Binding*>;
    const FieldTable none;
    const FieldTable cc{{"CC", FieldArray{"a", "b"}}};
    std::vector<const Binding*> out;
    type->route(RoutingInput{"zzz", none}, out);
    CHECK(out == Out{&b[0], &b[1], &b[2]});
    out.clear();
    type->route(RoutingInput{"", cc}, out);  // CC adds no copies
    CHECK(out == Out{&b[0], &b[1], &b[2]});

    CHECK(type->explain(b[0], RoutingInput{"anything", none}) == std::nullopt);

    type->remove_binding(b[1]);
    out.clear();
    type->route(RoutingInput{"zzz", none}, out);
    CHECK(out == Out{&b[0], &b[2]});
    type->remove_binding(b[0]);
    type->remove_binding(b[2]);
    out.clear();
    type->route(RoutingInput{"zzz", none}, out);
    CHECK(out.empty());
}
