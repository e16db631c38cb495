// The headers exchange: a binding's arguments are compared with the message headers; keys play
// no part (rabbit_exchange_type_headers, RabbitMQ 3.10).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "types.hpp"
#include "warren/protocol/erlang_text.hpp"

namespace warren::emulator {
namespace {

// ---- matching ---------------------------------------------------------------------------------

enum class XMatch { All, Any, AllWithX, AnyWithX };

std::string_view x_match_name(XMatch mode) {
    switch (mode) {
        case XMatch::All: return "all";
        case XMatch::Any: return "any";
        case XMatch::AllWithX: return "all-with-x";
        case XMatch::AnyWithX: return "any-with-x";
    }
    return "all";
}

/// The x-match mode; anything unrecognised counts as `all`, as RabbitMQ's parse_x_match does
/// for bindings made before it validated the argument.
XMatch parse_x_match(const FieldTable& arguments) {
    const FieldValue* x_match = arguments.find("x-match");
    if (!x_match || !x_match->is_string()) return XMatch::All;
    const std::string& mode = x_match->as_string();
    if (mode == "any") return XMatch::Any;
    if (mode == "all-with-x") return XMatch::AllWithX;
    if (mode == "any-with-x") return XMatch::AnyWithX;
    return XMatch::All;
}

bool requires_all(XMatch mode) { return mode == XMatch::All || mode == XMatch::AllWithX; }

/// What a binding asks of the message headers.
struct HeadersSpec {
    XMatch mode = XMatch::All;
    /// The compared arguments, sorted by key: never x-match, and no other key starting "x-"
    /// unless the mode is all-with-x or any-with-x.
    std::vector<FieldTable::Entry> wanted;
};

HeadersSpec make_spec(const FieldTable& arguments) {
    HeadersSpec spec;
    spec.mode = parse_x_match(arguments);
    const bool compare_x = spec.mode == XMatch::AllWithX || spec.mode == XMatch::AnyWithX;
    for (const FieldTable::Entry& entry : arguments) {
        if (entry.first == "x-match") continue;
        if (!compare_x && entry.first.starts_with("x-")) continue;
        spec.wanted.push_back(entry);
    }
    std::sort(spec.wanted.begin(), spec.wanted.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return spec;
}

using SortedHeaders = std::vector<const FieldTable::Entry*>;

void sort_headers(const FieldTable& headers, SortedHeaders& sorted) {
    sorted.clear();
    for (const FieldTable::Entry& entry : headers) sorted.push_back(&entry);
    std::sort(sorted.begin(), sorted.end(),
              [](const auto* a, const auto* b) { return a->first < b->first; });
}

/// Calls visit(wanted, found, matched) for each wanted header in key order, merging the two
/// sorted lists, until visit returns false. `found` is null when the message lacks the header.
/// A void wanted value asks only for presence; other values compare as Erlang's == does.
template <class Visit>
void compare_headers(const HeadersSpec& spec, const SortedHeaders& headers, Visit&& visit) {
    std::size_t h = 0;
    for (const FieldTable::Entry& wanted : spec.wanted) {
        while (h < headers.size() && headers[h]->first < wanted.first) ++h;
        const FieldValue* found =
            h < headers.size() && headers[h]->first == wanted.first ? &headers[h]->second : nullptr;
        const bool matched =
            found && (wanted.second.is_void() || rabbit_loose_equal(wanted.second, *found));
        if (!visit(wanted, found, matched)) return;
    }
}

bool matches(const HeadersSpec& spec, const SortedHeaders& headers) {
    const bool all = requires_all(spec.mode);
    bool every_matched = true;
    bool some_matched = false;
    compare_headers(spec, headers, [&](const auto&, const FieldValue*, bool matched) {
        if (matched)
            some_matched = true;
        else
            every_matched = false;
        return all ? every_matched : !some_matched;
    });
    return all ? every_matched : some_matched;
}

class HeadersExchangeType final : public ExchangeType {
public:
    std::string_view name() const noexcept override { return "headers"; }

    std::optional<std::string> validate_binding(std::string_view /*key*/,
                                                const FieldTable& arguments) const override {
        const FieldValue* x_match = arguments.find("x-match");
        if (!x_match) return std::nullopt;
        // rabbit_exchange_type_headers:validate_binding's texts, formatted with io_lib's ~p.
        using protocol::erlang::Term;
        if (!x_match->is_string())
            return protocol::erlang::format(
                "Invalid x-match field type ~p (value ~p); expected longstr",
                {Term::atom(rabbit_type_name(x_match->type())),
                 protocol::erlang::rabbit_term(*x_match)});
        const std::string& mode = x_match->as_string();
        if (mode == "all" || mode == "any" || mode == "all-with-x" || mode == "any-with-x")
            return std::nullopt;
        return protocol::erlang::format(
            "Invalid x-match field value ~p; expected all, any, all-with-x, or any-with-x",
            {Term::binary(std::string_view(mode))});
    }

    void add_binding(const Binding& binding) override {
        bindings_.push_back({&binding, make_spec(binding.arguments)});
    }

    void remove_binding(const Binding& binding) override {
        auto it = std::find_if(bindings_.begin(), bindings_.end(),
                               [&](const IndexedBinding& b) { return b.binding == &binding; });
        if (it != bindings_.end()) bindings_.erase(it);
    }

    /// Not re-entrant: sorts the headers into a buffer the exchange keeps.
    void route(const RoutingInput& input, std::vector<const Binding*>& out) const override {
        sort_headers(input.headers, sorted_headers_);
        for (const IndexedBinding& indexed : bindings_)
            if (matches(indexed.spec, sorted_headers_)) out.push_back(indexed.binding);
    }

    std::optional<std::string> explain(const Binding& binding,
                                       const RoutingInput& input) const override {
        const HeadersSpec spec = make_spec(binding.arguments);
        SortedHeaders headers;
        sort_headers(input.headers, headers);
        if (matches(spec, headers)) return std::nullopt;

        const std::string_view mode = x_match_name(spec.mode);
        if (spec.wanted.empty()) {
            // Only an `any` binding with nothing to compare can fail without comparing.
            return spec.mode == XMatch::Any
                       ? std::string("x-match any: the binding names no headers to compare "
                                     "(arguments starting 'x-' count only under any-with-x)")
                       : fmt::format("x-match {}: the binding names no headers to compare", mode);
        }
        std::vector<std::string> misses;
        compare_headers(spec, headers, [&](const FieldTable::Entry& wanted,
                                           const FieldValue* found, bool matched) {
            if (!found)
                misses.push_back(fmt::format("header '{}' missing", wanted.first));
            else if (!matched)
                misses.push_back(fmt::format("header '{}' is {}, binding wants {}", wanted.first,
                                             *found, wanted.second));
            return true;
        });
        if (requires_all(spec.mode)) return fmt::format("{}", fmt::join(misses, "; "));
        return fmt::format("x-match {}: no header matched ({})", mode, fmt::join(misses, "; "));
    }

private:
    struct IndexedBinding {
        const Binding* binding;
        HeadersSpec spec;
    };
    std::vector<IndexedBinding> bindings_;  // in the order they were added
    mutable SortedHeaders sorted_headers_;
};

}  // namespace

std::unique_ptr<ExchangeType> make_headers_exchange_type() {
    return std::make_unique<HeadersExchangeType>();
}

}  // namespace warren::emulator
