// The behaviour every exchange type implements, after RabbitMQ's rabbit_exchange_type:
// validate a binding, index it, drop it, and route. One implementation per file under
// emulator/src/exchange_types/.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "binding.hpp"

namespace warren::emulator {

class ExchangeType {
public:
    virtual ~ExchangeType() = default;

    /// "direct", "fanout", "topic" or "headers".
    virtual std::string_view name() const noexcept = 0;

    /// Why a binding with these arguments is invalid (becomes 406 PRECONDITION_FAILED), or
    /// nullopt when it is acceptable.
    virtual std::optional<std::string> validate_binding(std::string_view key,
                                                        const FieldTable& arguments) const;

    /// Index a binding. The Binding outlives its presence in the index.
    virtual void add_binding(const Binding& binding) = 0;
    virtual void remove_binding(const Binding& binding) = 0;

    /// Appends every binding that matches. May append one binding more than once (a queue
    /// bound twice, or several CC keys matching); the caller de-duplicates destinations.
    virtual void route(const RoutingInput& input, std::vector<const Binding*>& out) const = 0;

    /// For Broker::trace_route: nullopt when `binding` matches `input`, otherwise why not, in
    /// words a person reads (e.g. "pattern word 3 '*' had no word to take").
    virtual std::optional<std::string> explain(const Binding& binding,
                                               const RoutingInput& input) const = 0;
};

/// The exchange types RabbitMQ 3.10 has without plugins; nullptr for any other name.
std::unique_ptr<ExchangeType> make_exchange_type(std::string_view type_name);

}  // namespace warren::emulator
