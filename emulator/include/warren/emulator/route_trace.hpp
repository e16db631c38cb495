// Broker::trace_route's answer: what a publish would do, binding by binding.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <fmt/ostream.h>

#include "warren/protocol/field_value.hpp"
#include "warren/protocol/reply_code.hpp"

namespace warren {

struct BindingVerdict {
    std::string source;
    std::string destination;
    bool destination_is_queue = true;
    std::string binding_key;
    FieldTable arguments = {};
    bool matched = false;
    /// Why it did not match; empty when it matched.
    std::string reason = {};
};

struct RouteTrace {
    std::string exchange;
    std::string routing_key;
    /// Every binding examined, exchange by exchange in the order routing visits them.
    std::vector<BindingVerdict> bindings = {};
    /// Alternate exchanges the message went on to because an exchange routed it nowhere.
    std::vector<std::string> alternate_exchanges = {};
    /// The queues that would receive the message, each once, in routing order.
    std::vector<std::string> queues = {};
    /// The error the publish would get (missing or internal exchange), if any.
    std::optional<AmqpError> error = std::nullopt;
};

std::ostream& operator<<(std::ostream& os, const BindingVerdict& v);
std::ostream& operator<<(std::ostream& os, const RouteTrace& t);

}  // namespace warren

template <> struct fmt::formatter<warren::RouteTrace> : fmt::ostream_formatter {};
