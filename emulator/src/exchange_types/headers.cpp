// The headers exchange: a binding's arguments are compared with the message headers; keys play
// no part (rabbit_exchange_type_headers, RabbitMQ 3.10).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "types.hpp"

namespace warren::emulator {
namespace {

// ---- Erlang term text, for validate_binding's messages ----------------------------------------
// RabbitMQ renders the offending x-match value with io_lib's ~tp. These reproduce that for
// values on one line; ~tp's line breaks in long tables and arrays are not reproduced.

/// A float as Erlang prints it (io_lib_format:fwrite_g): the shortest digits that read back as
/// the same double, written plainly unless the zeros that needs would take more characters than
/// the exponent form's additions ("1.0", "0.0015", "100.0", "1.0e3", "1.5e-4", "1.0e20").
std::string erlang_float_text(double value) {
    if (value == 0) return std::signbit(value) ? "-0.0" : "0.0";
    char buffer[64];
    const std::to_chars_result written =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
    // [-]d[.ddd]e(+|-)xx
    const std::string_view scientific(buffer, static_cast<std::size_t>(written.ptr - buffer));
    const std::size_t e_at = scientific.find('e');
    std::string text = value < 0 ? "-" : "";
    std::string digits;
    for (char c : scientific.substr(0, e_at))
        if (c >= '0' && c <= '9') digits += c;
    std::string_view exponent_text = scientific.substr(e_at + 1);
    if (exponent_text.front() == '+') exponent_text.remove_prefix(1);
    int exponent = 0;
    std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);

    // value = 0.<digits> * 10^point
    const int point = exponent + 1;
    const int length = static_cast<int>(digits.size());
    const std::string exponent_form = fmt::format(
        "{}.{}e{}", digits.front(), length == 1 ? std::string("0") : digits.substr(1), exponent);
    // What the exponent form adds to the digits: '.', a '0' after a lone digit, 'e', exponent.
    const int exponent_extra =
        (length == 1 ? 2 : 1) + 1 + static_cast<int>(fmt::formatted_size("{}", exponent));
    if (point == 0) return text + "0." + digits;
    if (point > 0 && point < length)
        return text + digits.substr(0, static_cast<std::size_t>(point)) + "." +
               digits.substr(static_cast<std::size_t>(point));
    if (point < 0) {
        const int plain_extra = 2 - point;  // "0." and the zeros
        return text + (plain_extra <= exponent_extra
                           ? "0." + std::string(static_cast<std::size_t>(-point), '0') + digits
                           : exponent_form);
    }
    const int plain_extra = point - length + 2;  // the zeros and ".0"
    return text + (plain_extra <= exponent_extra
                       ? digits + std::string(static_cast<std::size_t>(point - length), '0') + ".0"
                       : exponent_form);
}

/// A binary as ~tp prints it: <<"text">> when every byte is printable Latin-1, else the bytes
/// as integers (<<1,120>>).
std::string erlang_binary_text(std::string_view bytes) {
    auto printable = [](unsigned char c) {
        return (c >= 32 && c <= 126) || c >= 160 || (c >= 8 && c <= 13) || c == 27;
    };
    const bool as_string = std::all_of(bytes.begin(), bytes.end(), [&](char c) {
        return printable(static_cast<unsigned char>(c));
    });
    std::string text = "<<";
    if (as_string && !bytes.empty()) {
        text += '"';
        for (char c : bytes) {
            switch (c) {
                case '"': text += "\\\""; break;
                case '\\': text += "\\\\"; break;
                case '\b': text += "\\b"; break;
                case '\t': text += "\\t"; break;
                case '\n': text += "\\n"; break;
                case '\v': text += "\\v"; break;
                case '\f': text += "\\f"; break;
                case '\r': text += "\\r"; break;
                case '\x1b': text += "\\e"; break;
                default: text += c;
            }
        }
        text += '"';
    } else {
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            if (i > 0) text += ',';
            text += std::to_string(static_cast<unsigned char>(bytes[i]));
        }
    }
    return text + ">>";
}

/// The Erlang term RabbitMQ decodes a field value to (rabbit_binary_parser), as ~tp prints it.
std::string erlang_term_text(const FieldValue& value) {
    using Type = FieldValue::Type;
    switch (value.type()) {
        case Type::Void: return "undefined";
        case Type::Bool: return value.as_bool() ? "true" : "false";
        case Type::UInt64: return std::to_string(std::get<std::uint64_t>(value.storage()));
        case Type::Float: return erlang_float_text(std::get<float>(value.storage()));
        case Type::Double: return erlang_float_text(std::get<double>(value.storage()));
        case Type::Decimal: {
            const Decimal d = value.as_decimal();
            return fmt::format("{{{},{}}}", d.scale, d.value);
        }
        case Type::String: return erlang_binary_text(value.as_string());
        case Type::Bytes: return erlang_binary_text(value.as_bytes().bytes);
        case Type::Timestamp: return std::to_string(value.as_timestamp().seconds);
        case Type::Table: {
            std::string text = "[";
            for (const auto& [key, item] : value.as_table()) {
                if (text.size() > 1) text += ',';
                text += fmt::format("{{{},{},{}}}", erlang_binary_text(key),
                                    rabbit_type_name(item.type()), erlang_term_text(item));
            }
            return text + "]";
        }
        case Type::Array: {
            std::string text = "[";
            for (const FieldValue& item : value.as_array()) {
                if (text.size() > 1) text += ',';
                text += fmt::format("{{{},{}}}", rabbit_type_name(item.type()),
                                    erlang_term_text(item));
            }
            return text + "]";
        }
        default: return std::to_string(value.as_int());  // the signed integer types
    }
}

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
        if (!x_match->is_string())
            return fmt::format("Invalid x-match field type {} (value {}); expected longstr",
                               rabbit_type_name(x_match->type()), erlang_term_text(*x_match));
        const std::string& mode = x_match->as_string();
        if (mode == "all" || mode == "any" || mode == "all-with-x" || mode == "any-with-x")
            return std::nullopt;
        return fmt::format(
            "Invalid x-match field value {}; expected all, any, all-with-x, or any-with-x",
            erlang_binary_text(mode));
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
