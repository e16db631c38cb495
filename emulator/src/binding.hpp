// A binding from a source exchange to a queue or to another exchange, and what a route
// is asked with.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "warren/protocol/field_value.hpp"

namespace warren::emulator {

class Exchange;
class Queue;

struct Binding {
    Exchange* source = nullptr;
    Queue* queue = nullptr;           // the destination when it is a queue
    Exchange* exchange = nullptr;     // the destination when it is an exchange
    std::string key;
    FieldTable arguments;

    bool to_queue() const noexcept { return queue != nullptr; }
    const std::string& destination_name() const noexcept;
};

/// rabbit_basic:header_routes/1: calls fn(key) for each long string in the CC header's array,
/// then in the BCC header's; a header that is no array adds nothing (a publish with one is
/// refused before routing, by check_routing_headers).
template <class Fn>
void for_each_header_route(const FieldTable& headers, Fn&& fn) {
    for (const char* header : {"CC", "BCC"}) {
        const FieldValue* v = headers.find(header);
        if (!v || v->type() != FieldValue::Type::Array) continue;
        for (const FieldValue& k : v->as_array())
            if (k.is_string()) fn(std::string_view(k.as_string()));
    }
}

/// What a publish routes with: the routing key and the keys beside it, and the headers for
/// the headers exchange.
struct RoutingInput {
    std::string_view routing_key;
    const FieldTable& headers;
    /// The keys beside `routing_key` when the caller has them: a stored message's CC and BCC
    /// keys, or a dead-lettered message's death keys. Without them they are read from the CC
    /// and BCC headers (rabbit_basic:header_routes/1).
    std::optional<std::span<const std::string>> extra_keys = std::nullopt;

    /// Calls fn(key) for the routing key and then each extra key.
    template <class Fn>
    void for_each_key(Fn&& fn) const {
        fn(routing_key);
        if (extra_keys) {
            for (const std::string& k : *extra_keys) fn(std::string_view(k));
            return;
        }
        for_each_header_route(headers, fn);
    }
};

}  // namespace warren::emulator
