// The fanout exchange: every binding matches, whatever its key (rabbit_exchange_type_fanout).
#include <algorithm>
#include <vector>

#include "types.hpp"

namespace warren::emulator {
namespace {

class FanoutExchangeType final : public ExchangeType {
public:
    std::string_view name() const noexcept override { return "fanout"; }

    void add_binding(const Binding& binding) override { bindings_.push_back(&binding); }

    void remove_binding(const Binding& binding) override {
        auto it = std::find(bindings_.begin(), bindings_.end(), &binding);
        if (it != bindings_.end()) bindings_.erase(it);
    }

    void route(const RoutingInput& /*input*/, std::vector<const Binding*>& out) const override {
        out.insert(out.end(), bindings_.begin(), bindings_.end());
    }

    std::optional<std::string> explain(const Binding& /*binding*/,
                                       const RoutingInput& /*input*/) const override {
        return std::nullopt;
    }

private:
    std::vector<const Binding*> bindings_;  // in the order they were added
};

}  // namespace

std::unique_ptr<ExchangeType> make_fanout_exchange_type() {
    return std::make_unique<FanoutExchangeType>();
}

}  // namespace warren::emulator
