#include <catch2/catch.hpp>

#include <sstream>

#include "warren/protocol/basic_properties.hpp"

TEST_CASE("BasicProperties is empty until a property is set") {
    warren::BasicProperties p;
    CHECK(p.empty());
    p.headers.set("k", 1);
    CHECK_FALSE(p.empty());
    CHECK(warren::BasicProperties{.app_id = "a"}.empty() == false);
    CHECK(warren::BasicProperties{.delivery_mode = 2}.persistent());
}

TEST_CASE("a message prints its body and the properties that are set") {
    warren::Message m{.body = "hi", .properties = {.content_type = "text/plain", .priority = 3}};
    std::ostringstream os;
    os << m;
    CHECK(os.str() == R"(Message{body: "hi", properties: {content_type: "text/plain", priority: 3}})");
}
