// Headers exchanges: x-match all / any / all-with-x / any-with-x, value types, void as
// "present with any value", bindings without keys, and the routing key being ignored.
#include "scenario.hpp"

namespace warren::conformance {
namespace {

using I8 = std::int8_t;
using I16 = std::int16_t;
using I64 = std::int64_t;
using U8 = std::uint8_t;

FieldTable match(std::string kind, FieldTable keys = {}) {
    FieldTable args{{"x-match", std::move(kind)}};
    for (const auto& [k, v] : keys) args.set(k, v);
    return args;
}

void all(Session& s) {
    routing_matrix(s, "headers", {{"", match("all", {{"a", 1}, {"b", "x"}})}},
                   {{"", {{"a", 1}, {"b", "x"}}},
                    {"", {{"b", "x"}, {"a", 1}}},
                    {"", {{"a", 1}}},
                    {"", {{"a", 1}, {"b", "x"}, {"c", 2}}},
                    {"", {{"a", 1}, {"b", "y"}}},
                    {"", {}}});
}

void any(Session& s) {
    routing_matrix(s, "headers", {{"", match("any", {{"a", 1}, {"b", "x"}})}},
                   {{"", {{"a", 1}, {"b", "x"}}},
                    {"", {{"a", 1}}},
                    {"", {{"b", "x"}}},
                    {"", {{"a", 2}, {"b", "y"}}},
                    {"", {{"c", 1}}},
                    {"", {}}});
}

void default_is_all(Session& s) {
    routing_matrix(s, "headers", {{"", {{"a", 1}, {"b", "x"}}}},
                   {{"", {{"a", 1}, {"b", "x"}}}, {"", {{"a", 1}}}, {"", {}}});
}

void no_keys(Session& s) {
    routing_matrix(s, "headers", {{"", match("all")}, {"", match("any")}, {"", {}}},
                   {{"", {}}, {"", {{"a", 1}}}, {"", {{"x-match", "any"}}}});
}

// The same value 1 in every numeric type, and as a string and a bool.
void value_types(Session& s) {
    routing_matrix(s, "headers",
                   {{"", match("all", {{"v", 1}})},
                    {"", match("all", {{"v", I64{1}}})},
                    {"", match("all", {{"v", "1"}})},
                    {"", match("any", {{"v", 1.0}})}},
                   {{"", {{"v", I8{1}}}},
                    {"", {{"v", U8{1}}}},
                    {"", {{"v", I16{1}}}},
                    {"", {{"v", 1}}},
                    {"", {{"v", I64{1}}}},
                    {"", {{"v", 1.0f}}},
                    {"", {{"v", 1.0}}},
                    {"", {{"v", Decimal{0, 1}}}},
                    {"", {{"v", "1"}}},
                    {"", {{"v", ByteArray{"1"}}}},
                    {"", {{"v", true}}}});
}

// A void binding value asks only that the header be present.
void void_presence(Session& s) {
    routing_matrix(s, "headers",
                   {{"", match("all", {{"a", FieldValue()}})},
                    {"", match("any", {{"a", FieldValue()}, {"b", FieldValue()}})},
                    {"", match("all", {{"a", FieldValue()}, {"b", 2}})}},
                   {{"", {{"a", 1}}},
                    {"", {{"a", "text"}}},
                    {"", {{"a", FieldValue()}}},
                    {"", {{"b", 2}}},
                    {"", {{"a", 7}, {"b", 2}}},
                    {"", {}}});
}

// all / any skip binding keys starting with "x-"; all-with-x / any-with-x match them too.
void x_keys(Session& s) {
    routing_matrix(s, "headers",
                   {{"", match("all", {{"x-foo", "1"}, {"a", 1}})},
                    {"", match("any", {{"x-foo", "1"}})},
                    {"", match("all-with-x", {{"x-foo", "1"}, {"a", 1}})},
                    {"", match("any-with-x", {{"x-foo", "1"}, {"a", 2}})}},
                   {{"", {{"a", 1}}},
                    {"", {{"x-foo", "1"}}},
                    {"", {{"a", 1}, {"x-foo", "1"}}},
                    {"", {{"a", 2}}},
                    {"", {{"x-foo", "2"}}}});
}

void invalid_x_match(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "headers");
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, x, "", match("some", {{"a", 1}}));
    ch = s.channel();
    s.queue_bind(ch, q, x, "", match("ALL"));
    ch = s.channel();
    s.queue_bind(ch, q, x, "", {{"x-match", 1}});
    ch = s.channel();
    s.queue_bind(ch, q, x, "", {{"x-match", ByteArray{"all"}}});
    ch = s.channel();
    s.publish(ch, x, "", "m1", {.headers = {{"a", 1}}});
    s.drain(ch, q);
}

void routing_key_ignored(Session& s) {
    routing_matrix(s, "headers", {{"k", match("any", {{"a", 1}})}, {"k", {}}},
                   {{"k", {{"a", 1}}}, {"other", {{"a", 1}}}, {"k", {{"a", 2}}}});
}

void string_values(Session& s) {
    routing_matrix(s, "headers", {{"", match("all", {{"s", "Value"}})}, {"", match("any", {{"s", ""}})}},
                   {{"", {{"s", "Value"}}}, {"", {{"s", "value"}}}, {"", {{"s", ""}}}, {"", {{"S", "Value"}}}});
}

void bool_values(Session& s) {
    routing_matrix(s, "headers", {{"", match("all", {{"b", true}})}, {"", match("all", {{"b", false}})}},
                   {{"", {{"b", true}}}, {"", {{"b", false}}}, {"", {{"b", 1}}}, {"", {{"b", 0}}}, {"", {{"b", "true"}}}});
}

void table_and_array_values(Session& s) {
    const FieldTable t{{"k", 1}, {"s", "v"}};
    const FieldArray a{1, "two"};
    routing_matrix(s, "headers", {{"", match("all", {{"t", t}})}, {"", match("any", {{"a", a}})}},
                   {{"", {{"t", t}}},
                    {"", {{"t", FieldTable{{"s", "v"}, {"k", 1}}}}},
                    {"", {{"t", FieldTable{{"k", 1}}}}},
                    {"", {{"a", a}}},
                    {"", {{"a", FieldArray{"two", 1}}}}});
}

void float_values(Session& s) {
    routing_matrix(s, "headers", {{"", match("all", {{"f", 0.5}})}, {"", match("all", {{"f", 0.5f}})}},
                   {{"", {{"f", 0.5}}}, {"", {{"f", 0.5f}}}, {"", {{"f", Decimal{1, 5}}}}, {"", {{"f", "0.5"}}}});
}

// Two bindings of one queue differ only by arguments: a message matching both makes one copy;
// unbinding takes the arguments to say which binding goes.
void bindings_by_arguments(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "headers");
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, x, "", match("any", {{"a", 1}}));
    s.queue_bind(ch, q, x, "", match("any", {{"b", 1}}));
    s.publish(ch, x, "", "m1", {.headers = {{"a", 1}, {"b", 1}}});
    s.queue_unbind(ch, q, x, "");
    s.publish(ch, x, "", "m2", {.headers = {{"a", 1}}});
    s.queue_unbind(ch, q, x, "", match("any", {{"a", 1}}));
    s.publish(ch, x, "", "m3", {.headers = {{"a", 1}}});
    s.publish(ch, x, "", "m4", {.headers = {{"b", 1}}});
    s.queue_unbind(ch, q, x, "", match("any", {{"b", 1}}));
    s.publish(ch, x, "", "m5", {.headers = {{"b", 1}}});
    s.drain(ch, q);
}

// Binding headers beyond those in the message, and a message header naming x-match.
void headers_order_and_extra(Session& s) {
    routing_matrix(s, "headers", {{"", match("all", {{"z", 1}, {"a", 1}, {"m", 1}})}},
                   {{"", {{"m", 1}, {"z", 1}, {"a", 1}}},
                    {"", {{"a", 1}, {"m", 1}, {"z", 1}, {"x-match", "any"}}},
                    {"", {{"a", 1}, {"z", 1}}}});
}

}  // namespace

void add_headers_scenarios(Scenarios& out) {
    out.push_back({"headers.all", all});
    out.push_back({"headers.any", any});
    out.push_back({"headers.default_is_all", default_is_all});
    out.push_back({"headers.no_keys", no_keys});
    out.push_back({"headers.value_types", value_types});
    out.push_back({"headers.void_presence", void_presence});
    out.push_back({"headers.x_keys", x_keys});
    out.push_back({"headers.invalid_x_match", invalid_x_match});
    out.push_back({"headers.routing_key_ignored", routing_key_ignored});
    out.push_back({"headers.string_values", string_values});
    out.push_back({"headers.bool_values", bool_values});
    out.push_back({"headers.table_and_array_values", table_and_array_values});
    out.push_back({"headers.float_values", float_values});
    out.push_back({"headers.bindings_by_arguments", bindings_by_arguments});
    out.push_back({"headers.order_and_extra", headers_order_and_extra});
}

}  // namespace warren::conformance
