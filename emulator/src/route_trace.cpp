#include "warren/emulator/route_trace.hpp"

#include <ostream>

namespace warren {

std::ostream& operator<<(std::ostream& os, const BindingVerdict& v) {
    os << (v.matched ? "  match    " : "  no match ") << "exchange '" << v.source << "' -> "
       << (v.destination_is_queue ? "queue '" : "exchange '") << v.destination << "' key '"
       << v.binding_key << "'";
    if (!v.arguments.empty()) os << " args " << v.arguments;
    if (!v.matched) os << ": " << v.reason;
    return os;
}

std::ostream& operator<<(std::ostream& os, const RouteTrace& t) {
    os << "route of key '" << t.routing_key << "' published to exchange '" << t.exchange << "'\n";
    if (t.error) return os << "  refused: " << t.error->reply_code() << ' ' << t.error->reply_text() << '\n';
    for (const auto& b : t.bindings) os << b << '\n';
    for (const auto& ae : t.alternate_exchanges) os << "  on to alternate exchange '" << ae << "'\n";
    if (t.queues.empty()) return os << "  reaches no queue\n";
    os << "  reaches:";
    for (const auto& q : t.queues) os << " '" << q << "'";
    return os << '\n';
}

}  // namespace warren
