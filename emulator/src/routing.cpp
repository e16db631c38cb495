// Where a publish goes: rabbit_exchange:route/2 over the exchange graph, and the extra
// routing keys of the CC and BCC headers (rabbit_basic:header_routes/1).
#include "model.hpp"

#include <algorithm>

namespace warren::emulator {

// rabbit_basic:header_routes/1: a CC or BCC header must be an array; a message with another
// type there is refused ("invalid message", from rabbit_channel's publish).
std::optional<AmqpError> check_routing_headers(const FieldTable& headers, MethodId m) {
    for (const char* key : {"CC", "BCC"}) {
        const FieldValue* v = headers.find(key);
        if (v && v->type() != FieldValue::Type::Array)
            return AmqpError::format(ReplyCode::PreconditionFailed, m,
                                     "invalid message: {{unacceptable_type_in_header,\"{}\",{}}}",
                                     key, rabbit_type_name(v->type()));
    }
    return std::nullopt;
}

std::vector<std::string> header_routes(const FieldTable& headers) {
    std::vector<std::string> keys;
    for_each_header_route(headers, [&](std::string_view key) { keys.emplace_back(key); });
    return keys;
}

/// rabbit_exchange:route/2: the queues a message reaches, each once. Exchange-to-exchange
/// bindings are followed, each exchange visited once; an exchange whose own bindings
/// match nothing hands the message to its alternate exchange.
void Model::route(VHost& v, Exchange& x, const RoutingInput& in, std::vector<Queue*>& queues,
           RouteTrace* trace) {
    if (x.name().empty()) {
        // The default exchange: bound implicitly to every queue by the queue's name.
        in.for_each_key([&](std::string_view key) {
            Queue* q = find_queue(v, key);
            if (trace) {
                BindingVerdict verdict{"", std::string(key), true, std::string(key)};
                verdict.matched = q != nullptr;
                if (!q) verdict.reason = fmt::format("no queue named '{}'", key);
                trace->bindings.push_back(std::move(verdict));
            }
            if (q && std::find(queues.begin(), queues.end(), q) == queues.end())
                queues.push_back(q);
        });
        return;
    }
    std::vector<Exchange*> worklist{&x};
    std::vector<Exchange*> seen{&x};
    std::vector<const Binding*> matched;
    while (!worklist.empty()) {
        Exchange* e = worklist.back();
        worklist.pop_back();
        matched.clear();
        e->route(in, matched);
        if (trace) {
            for (const auto& b : e->bindings()) {
                auto why = e->type().explain(*b, in);
                trace->bindings.push_back(BindingVerdict{e->name(), b->destination_name(),
                                                         b->to_queue(), b->key, b->arguments,
                                                         !why.has_value(), why.value_or("")});
            }
        }
        if (matched.empty()) {
            if (const std::string* ae = e->alternate_exchange()) {
                if (Exchange* alt = find_exchange(v, *ae)) {
                    if (std::find(seen.begin(), seen.end(), alt) == seen.end()) {
                        seen.push_back(alt);
                        worklist.push_back(alt);
                        if (trace) trace->alternate_exchanges.push_back(alt->name());
                    }
                }
            }
            continue;
        }
        for (const Binding* b : matched) {
            if (b->queue) {
                if (std::find(queues.begin(), queues.end(), b->queue) == queues.end())
                    queues.push_back(b->queue);
            } else if (std::find(seen.begin(), seen.end(), b->exchange) == seen.end()) {
                seen.push_back(b->exchange);
                worklist.push_back(b->exchange);
            }
        }
    }
}

/// The exchange a publish names, or the error publishing to it gives.
Result<Exchange*> Model::publish_target(VHost& v, std::string_view name) {
    Exchange* x = find_exchange(v, name);
    if (!x) return not_found("exchange", name, v, method::basic_publish);
    if (x->internal())
        return AmqpError::format(ReplyCode::AccessRefused, method::basic_publish,
                                 "cannot publish to internal {}", rs("exchange", name, v));
    return x;
}

}  // namespace warren::emulator
