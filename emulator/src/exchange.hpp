// An exchange: its declared attributes, its type's routing index, and the bindings that
// leave it (source) or arrive at it (destination of an exchange-to-exchange binding).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "binding.hpp"
#include "exchange_type.hpp"

namespace warren::emulator {

class Exchange {
public:
    Exchange(std::string name, std::unique_ptr<ExchangeType> type, bool durable,
             bool auto_delete, bool internal, FieldTable arguments);

    const std::string& name() const noexcept { return name_; }
    std::string_view type_name() const noexcept { return type_->name(); }
    const ExchangeType& type() const noexcept { return *type_; }
    bool durable() const noexcept { return durable_; }
    bool auto_delete() const noexcept { return auto_delete_; }
    bool internal() const noexcept { return internal_; }
    const FieldTable& arguments() const noexcept { return arguments_; }
    /// The `alternate-exchange` argument when it is a string (rabbit_exchange:route/2).
    const std::string* alternate_exchange() const noexcept;

    /// Bindings with this exchange as source, in the order they were made.
    const std::vector<std::unique_ptr<Binding>>& bindings() const noexcept { return outgoing_; }
    /// Bindings with this exchange as destination.
    const std::vector<Binding*>& incoming() const noexcept { return incoming_; }

    /// The existing binding equal to (destination, key, arguments), or null. Arguments compare
    /// as RabbitMQ compares them: sorted by key.
    Binding* find_binding(const Queue* queue, const Exchange* exchange, std::string_view key,
                          const FieldTable& arguments) const;
    Binding& add_binding(std::unique_ptr<Binding> binding);
    /// Drops the binding from this exchange's index and list (and from its destination's
    /// incoming list when the destination is an exchange). `binding` is destroyed.
    void remove_binding(const Binding* binding);

    void route(const RoutingInput& input, std::vector<const Binding*>& out) const {
        type_->route(input, out);
    }

    void add_incoming(Binding* b) { incoming_.push_back(b); }
    void remove_incoming(const Binding* b);

private:
    std::string name_;
    std::unique_ptr<ExchangeType> type_;
    bool durable_;
    bool auto_delete_;
    bool internal_;
    FieldTable arguments_;
    std::vector<std::unique_ptr<Binding>> outgoing_;
    std::vector<Binding*> incoming_;
};

/// Binding arguments sorted by key, as RabbitMQ stores them (rabbit_binding:sort_args/1).
FieldTable sorted_arguments(const FieldTable& arguments);

}  // namespace warren::emulator
