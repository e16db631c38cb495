// A binding from a source exchange to a queue or to another exchange, and what a route
// is asked with.
#pragma once

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

/// What a publish routes with: the routing key, the CC and BCC header keys
/// (rabbit_basic:header_routes/1), and the headers for the headers exchange.
struct RoutingInput {
    std::string_view routing_key;
    const FieldTable& headers;

    /// Calls fn(key) for the routing key and then each longstr in the CC and BCC arrays.
    template <class Fn>
    void for_each_key(Fn&& fn) const {
        fn(routing_key);
        for (const char* header : {"CC", "BCC"}) {
            const FieldValue* v = headers.find(header);
            if (!v || v->type() != FieldValue::Type::Array) continue;
            for (const FieldValue& k : v->as_array())
                if (k.is_string()) fn(std::string_view(k.as_string()));
        }
    }
};

}  // namespace warren::emulator
