#include "queue_arguments.hpp"

#include <array>
#include <algorithm>
#include <charconv>
#include <chrono>

#include <fmt/format.h>

namespace warren::emulator {
namespace {

// rabbit_amqqueue's ?INTEGER_ARG_TYPES.
bool integer_arg_type(const FieldValue& v) {
    using T = FieldValue::Type;
    switch (v.type()) {
        case T::Int8: case T::Int16: case T::Int32: case T::Int64:
        case T::UInt8: case T::UInt16: case T::UInt32:
            return true;
        default:
            return false;
    }
}

using Check = std::optional<std::string> (*)(const FieldValue& value, const FieldTable& all);

// Each returns the Erlang term RabbitMQ prints with ~255p after "invalid arg 'K' for Q: ".
std::optional<std::string> check_int(const FieldValue& v) {
    if (integer_arg_type(v)) return std::nullopt;
    return fmt::format("\"expected integer, got {}\"", rabbit_type_name(v.type()));
}

std::optional<std::string> check_expiry(std::int64_t n) {
    if (n < 0) return fmt::format("{{value_negative,{}}}", n);
    if (n > max_expiry_ms) return fmt::format("{{value_too_large,{}}}", n);
    return std::nullopt;
}

std::optional<std::string> check_non_negative(const FieldValue& v, const FieldTable&) {
    if (auto e = check_int(v)) return e;
    if (v.as_int() < 0) return fmt::format("{{value_negative,{}}}", v.as_int());
    return std::nullopt;
}

std::optional<std::string> check_expires(const FieldValue& v, const FieldTable&) {
    if (auto e = check_int(v)) return e;
    if (v.as_int() == 0) return std::string("{value_zero,0}");
    return check_expiry(v.as_int());
}

std::optional<std::string> check_message_ttl(const FieldValue& v, const FieldTable&) {
    if (auto e = check_int(v)) return e;
    return check_expiry(v.as_int());
}

std::optional<std::string> unacceptable_type(const FieldValue& v) {
    return fmt::format("{{unacceptable_type,{}}}", rabbit_type_name(v.type()));
}

std::optional<std::string> check_dlx_name(const FieldValue& v, const FieldTable&) {
    if (v.is_string()) return std::nullopt;
    return unacceptable_type(v);
}

std::optional<std::string> check_dlx_routing_key(const FieldValue& v, const FieldTable& all) {
    if (!v.is_string()) return unacceptable_type(v);
    if (!all.contains("x-dead-letter-exchange")) return std::string("routing_key_but_no_dlx_defined");
    return std::nullopt;
}

std::optional<std::string> check_max_priority(const FieldValue& v, const FieldTable& all) {
    if (auto e = check_non_negative(v, all)) return e;
    if (v.as_int() > 255) return fmt::format("{{max_value_exceeded,{}}}", v.as_int());
    return std::nullopt;
}

std::optional<std::string> check_overflow(const FieldValue& v, const FieldTable&) {
    if (!v.is_string()) return unacceptable_type(v);
    const std::string& s = v.as_string();
    if (s == "drop-head" || s == "reject-publish" || s == "reject-publish-dlx") return std::nullopt;
    return std::string("invalid_overflow");
}

std::optional<std::string> check_queue_mode(const FieldValue& v, const FieldTable&) {
    if (!v.is_string()) return unacceptable_type(v);
    if (v.as_string() == "default" || v.as_string() == "lazy") return std::nullopt;
    return fmt::format("\"unsupported queue mode '{}'\"", v.as_string());
}

std::optional<std::string> check_bool(const FieldValue& v, const FieldTable&) {
    if (v.type() == FieldValue::Type::Bool) return std::nullopt;
    return unacceptable_type(v);
}

std::optional<std::string> check_queue_type(const FieldValue& v, const FieldTable&) {
    if (!v.is_string()) return unacceptable_type(v);
    if (v.as_string() == "classic" || v.as_string() == "quorum" || v.as_string() == "stream") return std::nullopt;
    return fmt::format("\"unsupported queue type '{}'\"", v.as_string());
}

std::optional<std::string> check_queue_version(const FieldValue& v, const FieldTable&) {
    if (auto e = check_int(v)) return e;
    if (v.as_int() == 1 || v.as_int() == 2) return std::nullopt;
    return fmt::format("\"unsupported queue version '{}'\"", v.as_int());
}

std::optional<std::string> check_dead_letter_strategy(const FieldValue& v, const FieldTable&) {
    if (!v.is_string()) return unacceptable_type(v);
    if (v.as_string() == "at-most-once" || v.as_string() == "at-least-once") return std::nullopt;
    return std::string("invalid_dlx_strategy");
}

std::optional<std::string> check_leader_locator(const FieldValue& v, const FieldTable&) {
    if (!v.is_string()) return unacceptable_type(v);
    const std::string& s = v.as_string();
    if (s == "client-local" || s == "balanced" || s == "random" || s == "least-leaders") return std::nullopt;
    return std::string("invalid_queue_locator_arg");
}

// x-max-age: a positive number followed by one of the units Y, M, D, h, m, s.
std::optional<std::string> check_max_age(const FieldValue& v, const FieldTable&) {
    if (!v.is_string()) return unacceptable_type(v);
    if (parse_max_age(v.as_string())) return std::nullopt;
    const std::string& text = v.as_string();
    if (text.empty() || text[0] < '0' || text[0] > '9') return std::string(check_crashes);
    return std::string("invalid_max_age");
}

struct Validator {
    std::string_view key;
    Check check;
};

// rabbit_amqqueue:declare_args/0, in its order (the first failing argument is reported). The
// x-queue-type check runs before the others, and x-queue-master-locator is not among them.
constexpr std::array<Validator, 19> declare_args{{
    {"x-expires", check_expires},
    {"x-message-ttl", check_message_ttl},
    {"x-dead-letter-exchange", check_dlx_name},
    {"x-dead-letter-routing-key", check_dlx_routing_key},
    {"x-dead-letter-strategy", check_dead_letter_strategy},
    {"x-max-length", check_non_negative},
    {"x-max-length-bytes", check_non_negative},
    {"x-max-in-memory-length", check_non_negative},
    {"x-max-in-memory-bytes", check_non_negative},
    {"x-max-priority", check_max_priority},
    {"x-overflow", check_overflow},
    {"x-queue-mode", check_queue_mode},
    {"x-queue-version", check_queue_version},
    {"x-single-active-consumer", check_bool},
    {"x-quorum-initial-group-size", check_non_negative},
    {"x-max-age", check_max_age},
    {"x-stream-max-segment-size-bytes", check_non_negative},
    {"x-initial-cluster-size", check_non_negative},
    {"x-queue-leader-locator", check_leader_locator},
}};

}  // namespace

std::optional<std::string> check_queue_type_argument(const FieldTable& arguments, std::string_view queue) {
    const FieldValue* type = arguments.find("x-queue-type");
    if (!type) return std::nullopt;
    if (auto why = check_queue_type(*type, arguments))
        return fmt::format("invalid arg 'x-queue-type' for {}: {}", queue, *why);
    return std::nullopt;
}

std::optional<std::string> check_argument_values(const FieldTable& arguments, std::string_view queue,
                                                 std::span<const std::string_view> supported) {
    if (const FieldValue* dlx = arguments.find("x-dead-letter-exchange");
        dlx && !dlx->is_string() &&
        std::find(supported.begin(), supported.end(), "x-dead-letter-exchange") != supported.end())
        return fmt::format("invalid type '{}' for arg 'x-dead-letter-exchange' in {}",
                           rabbit_type_name(dlx->type()), queue);
    for (const Validator& v : declare_args) {
        if (std::find(supported.begin(), supported.end(), v.key) == supported.end()) continue;
        const FieldValue* value = arguments.find(v.key);
        if (!value) continue;
        if (auto why = v.check(*value, arguments))
            return *why == check_crashes ? *why : fmt::format("invalid arg '{}' for {}: {}", v.key, queue, *why);
    }
    return std::nullopt;
}

std::optional<Duration> parse_max_age(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0 || digits + 1 != text.size() || digits > 12) return std::nullopt;
    std::int64_t n = 0;
    std::from_chars(text.data(), text.data() + digits, n);
    if (n <= 0) return std::nullopt;
    using std::chrono::seconds;
    switch (text.back()) {
        case 'Y': return std::chrono::duration_cast<Duration>(seconds(n * 365 * 86400));
        case 'M': return std::chrono::duration_cast<Duration>(seconds(n * 30 * 86400));
        case 'D': return std::chrono::duration_cast<Duration>(seconds(n * 86400));
        case 'h': return std::chrono::duration_cast<Duration>(seconds(n * 3600));
        case 'm': return std::chrono::duration_cast<Duration>(seconds(n * 60));
        case 's': return std::chrono::duration_cast<Duration>(seconds(n));
        default: return std::nullopt;
    }
}

QueueArguments parse_queue_arguments(const FieldTable& arguments) {
    QueueArguments a;
    auto integer = [&](std::string_view key) -> std::optional<std::int64_t> {
        const FieldValue* v = arguments.find(key);
        if (!v || !integer_arg_type(*v)) return std::nullopt;
        return v->as_int();
    };
    auto text = [&](std::string_view key) -> std::optional<std::string> {
        const FieldValue* v = arguments.find(key);
        if (!v || !v->is_string()) return std::nullopt;
        return v->as_string();
    };
    if (auto ttl = integer("x-message-ttl")) a.message_ttl = Duration(*ttl);
    if (auto expires = integer("x-expires")) a.expires = Duration(*expires);
    a.dead_letter_exchange = text("x-dead-letter-exchange");
    a.dead_letter_routing_key = text("x-dead-letter-routing-key");
    if (auto n = integer("x-max-length")) a.max_length = static_cast<std::uint64_t>(*n);
    if (auto n = integer("x-max-length-bytes")) a.max_length_bytes = static_cast<std::uint64_t>(*n);
    if (auto age = text("x-max-age")) a.max_age = parse_max_age(*age);
    if (auto n = integer("x-stream-max-segment-size-bytes")) a.max_segment_size = static_cast<std::uint64_t>(*n);
    if (auto overflow = text("x-overflow")) {
        if (*overflow == "reject-publish") a.overflow = Overflow::RejectPublish;
        else if (*overflow == "reject-publish-dlx") a.overflow = Overflow::RejectPublishDlx;
    }
    if (auto p = integer("x-max-priority")) {
        a.priority_queue = true;
        a.max_priority = static_cast<std::uint8_t>(*p);
    }
    if (const FieldValue* sac = arguments.find("x-single-active-consumer");
        sac && sac->type() == FieldValue::Type::Bool)
        a.single_active_consumer = sac->as_bool();
    if (auto limit = integer("x-delivery-limit")) a.delivery_limit = *limit;
    a.at_least_once = text("x-dead-letter-strategy") == "at-least-once" &&
                      a.overflow == Overflow::RejectPublish && a.dead_letter_exchange.has_value();
    return a;
}

namespace {

// io_lib:format's ~p of a list of bytes: a string with Erlang's escapes when every byte is
// printable (io_lib:printable_list), else the list of integers.
std::string erlang_char_list(std::string_view bytes) {
    std::string out = "\"";
    for (unsigned char b : bytes) {
        switch (b) {
            case '"': out += "\\\""; continue;
            case '\\': out += "\\\\"; continue;
            case '\n': out += "\\n"; continue;
            case '\r': out += "\\r"; continue;
            case '\t': out += "\\t"; continue;
            case '\v': out += "\\v"; continue;
            case '\b': out += "\\b"; continue;
            case '\f': out += "\\f"; continue;
            case 27: out += "\\e"; continue;
            default: break;
        }
        if ((b >= 32 && b <= 126) || b >= 160) {
            out.push_back(static_cast<char>(b));
            continue;
        }
        std::string list = "[";
        for (unsigned char c : bytes) list += fmt::format("{}{}", list.size() > 1 ? "," : "", c);
        return list + "]";
    }
    return out + "\"";
}

// io_lib:format's ~p of the pair {Tag, Value} starting at 0-based `column`: on one line when
// it ends before column 79 (io_lib_pretty, line length 80), else broken after the tag with
// the value under it.
std::string erlang_pair(std::string_view tag, std::string_view value, std::size_t column) {
    const std::string flat = fmt::format("{{{},{}}}", tag, value);
    if (column + 1 + flat.size() < 80) return flat;
    return fmt::format("{{{},\n{}{}}}", tag, std::string(column + 1, ' '), value);
}

}  // namespace

ExpirationParse parse_expiration(std::string_view expiration) {
    // rabbit_basic:parse_expiration/1 with Erlang's string:to_integer/1 (an optional sign, then
    // at least one digit; what follows the digits is the leftover), explained by
    // rabbit_channel with "invalid expiration '~ts': ~p".
    const std::string prefix = fmt::format("invalid expiration '{}': ", expiration);
    auto invalid = [&](std::string_view tag, std::string_view value) {
        // The column counts from the last line break (the expiration may hold one).
        const std::size_t line_start = prefix.rfind('\n');
        const std::size_t column = line_start == std::string::npos ? prefix.size() : prefix.size() - line_start - 1;
        return ExpirationParse{std::nullopt, prefix + erlang_pair(tag, value, column)};
    };
    std::size_t i = 0;
    bool negative = false;
    if (i < expiration.size() && (expiration[i] == '+' || expiration[i] == '-')) {
        negative = expiration[i] == '-';
        ++i;
    }
    const std::size_t digits_start = i;
    while (i < expiration.size() && expiration[i] >= '0' && expiration[i] <= '9') ++i;
    if (i == digits_start) return ExpirationParse{std::nullopt, prefix + "no_integer"};
    if (i < expiration.size()) return invalid("leftover_string", erlang_char_list(expiration.substr(i)));
    std::string_view digits = expiration.substr(digits_start, i - digits_start);
    while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
    if (digits == "0") return ExpirationParse{Duration(0), std::nullopt};
    if (negative) return invalid("value_negative", fmt::format("-{}", digits));
    // More digits than an int64 holds are certainly too large.
    std::int64_t value = 0;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    (void)ptr;
    if (ec != std::errc{} || value > max_expiry_ms) return invalid("value_too_large", digits);
    return ExpirationParse{Duration(value), std::nullopt};
}

}  // namespace warren::emulator
