// The direct exchange: a binding matches when its key equals a routed key
// (rabbit_exchange_type_direct, rabbit_router:match_routing_key).
#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "types.hpp"

namespace warren::emulator {
namespace {

class DirectExchangeType final : public ExchangeType {
public:
    std::string_view name() const noexcept override { return "direct"; }

    void add_binding(const Binding& binding) override {
        auto it = by_key_.find(std::string_view(binding.key));
        if (it == by_key_.end())
            it = by_key_.emplace(binding.key, std::vector<const Binding*>{}).first;
        it->second.push_back(&binding);
    }

    void remove_binding(const Binding& binding) override {
        auto it = by_key_.find(std::string_view(binding.key));
        if (it == by_key_.end()) return;
        std::vector<const Binding*>& bound = it->second;
        auto found = std::find(bound.begin(), bound.end(), &binding);
        if (found != bound.end()) bound.erase(found);
        if (bound.empty()) by_key_.erase(it);
    }

    void route(const RoutingInput& input, std::vector<const Binding*>& out) const override {
        input.for_each_key([&](std::string_view key) {
            auto it = by_key_.find(key);
            if (it != by_key_.end()) out.insert(out.end(), it->second.begin(), it->second.end());
        });
    }

    std::optional<std::string> explain(const Binding& binding,
                                       const RoutingInput& input) const override {
        std::vector<std::string_view> keys;
        bool matched = false;
        input.for_each_key([&](std::string_view key) {
            keys.push_back(key);
            matched = matched || key == binding.key;
        });
        if (matched) return std::nullopt;
        if (keys.size() == 1)
            return fmt::format("binding key '{}' != routing key '{}'", binding.key, keys.front());
        return fmt::format("binding key '{}' equals none of the routing key and CC/BCC keys '{}'",
                           binding.key, fmt::join(keys, "', '"));
    }

private:
    std::unordered_map<std::string, std::vector<const Binding*>, StringViewHash, std::equal_to<>>
        by_key_;
};

}  // namespace

std::unique_ptr<ExchangeType> make_direct_exchange_type() {
    return std::make_unique<DirectExchangeType>();
}

}  // namespace warren::emulator
