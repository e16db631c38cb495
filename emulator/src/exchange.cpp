#include "exchange.hpp"

#include <algorithm>

namespace warren::emulator {

Exchange::Exchange(std::string name, std::unique_ptr<ExchangeType> type, bool durable,
                   bool auto_delete, bool internal, FieldTable arguments)
    : name_(std::move(name)),
      type_(std::move(type)),
      durable_(durable),
      auto_delete_(auto_delete),
      internal_(internal),
      arguments_(std::move(arguments)) {}

const std::string* Exchange::alternate_exchange() const noexcept {
    const FieldValue* v = arguments_.find("alternate-exchange");
    return v && v->is_string() ? &v->as_string() : nullptr;
}

FieldTable sorted_arguments(const FieldTable& arguments) {
    std::vector<FieldTable::Entry> entries(arguments.begin(), arguments.end());
    std::stable_sort(entries.begin(), entries.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    FieldTable sorted;
    for (auto& [k, v] : entries) sorted.set(std::move(k), std::move(v));
    return sorted;
}

Binding* Exchange::find_binding(const Queue* queue, const Exchange* exchange,
                                std::string_view key, const FieldTable& arguments) const {
    for (const auto& b : outgoing_) {
        if (b->queue != queue || b->exchange != exchange || b->key != key) continue;
        if (b->arguments.size() != arguments.size()) continue;
        if (b->arguments == arguments || sorted_arguments(b->arguments) == sorted_arguments(arguments))
            return b.get();
    }
    return nullptr;
}

Binding& Exchange::add_binding(std::unique_ptr<Binding> binding) {
    type_->add_binding(*binding);
    outgoing_.push_back(std::move(binding));
    return *outgoing_.back();
}

void Exchange::remove_binding(const Binding* binding) {
    type_->remove_binding(*binding);
    auto it = std::find_if(outgoing_.begin(), outgoing_.end(),
                           [&](const auto& b) { return b.get() == binding; });
    if (it != outgoing_.end()) outgoing_.erase(it);
}

void Exchange::remove_incoming(const Binding* b) {
    auto it = std::find(incoming_.begin(), incoming_.end(), b);
    if (it != incoming_.end()) incoming_.erase(it);
}

}  // namespace warren::emulator
