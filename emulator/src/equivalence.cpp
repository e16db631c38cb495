// Declare equivalence, after rabbit_misc:assert_args_equivalence/4 and the assert_equivalence
// functions of rabbit_exchange and rabbit_amqqueue.
#include "equivalence.hpp"

#include "model.hpp"

namespace warren::emulator {

namespace {

// rabbit_misc:val/1 renders an argument's value as Erlang's ~s (binaries) or ~p (the rest)
// prints it.
std::string erlang_value(const FieldValue& v) {
    switch (v.type()) {
        case FieldValue::Type::String: return v.as_string();
        case FieldValue::Type::Bytes: return v.as_bytes().bytes;
        case FieldValue::Type::Bool: return v.as_bool() ? "true" : "false";
        case FieldValue::Type::Void: return "undefined";
        case FieldValue::Type::Timestamp: return std::to_string(v.as_timestamp().seconds);
        case FieldValue::Type::Decimal:
            return fmt::format("{{{},{}}}", v.as_decimal().scale, v.as_decimal().value);
        case FieldValue::Type::UInt64: return std::to_string(std::get<std::uint64_t>(v.storage()));
        default:
            if (v.is_integer()) return std::to_string(v.as_int());
            return fmt::format("{}", v);
    }
}

std::string typed_value(const FieldValue* v) {
    if (!v) return "none";
    return fmt::format("the value '{}' of type '{}'", erlang_value(*v), rabbit_type_name(v->type()));
}

// rabbit_misc:type_class/1: every integer type and decimal are one class, float and double
// another; any other type is its own class.
int type_class(const FieldValue& v) {
    if (v.is_integer() || v.type() == FieldValue::Type::Decimal) return -1;
    if (v.type() == FieldValue::Type::Float || v.type() == FieldValue::Type::Double) return -2;
    return static_cast<int>(v.type());
}

// Erlang's =:= on the decoded values, the types dropped: integers (timestamps are integers)
// by value, floats by value, long strings and byte arrays (both binaries) by bytes; the rest
// structurally.
bool erlang_exactly_equal(const FieldValue& a, const FieldValue& b) {
    using T = FieldValue::Type;
    const auto integral = [](const FieldValue& v) { return v.is_integer() || v.type() == T::Timestamp; };
    const auto binary = [](const FieldValue& v) { return v.type() == T::String || v.type() == T::Bytes; };
    const auto floating = [](const FieldValue& v) { return v.type() == T::Float || v.type() == T::Double; };
    if (integral(a) && integral(b)) {
        const auto widen = [](const FieldValue& v) {
            return v.type() == T::Timestamp ? FieldValue(v.as_timestamp().seconds) : v;
        };
        return rabbit_loose_equal(widen(a), widen(b));
    }
    if (binary(a) && binary(b)) return rabbit_loose_equal(a, b);
    if (floating(a) && floating(b)) return a.as_double() == b.as_double();
    return a == b;
}

}  // namespace

AmqpError inequivalent(std::string_view key, std::string_view kind, std::string_view name,
                       const VHost& vhost, std::string_view received, std::string_view current,
                       MethodId m) {
    return AmqpError::format(ReplyCode::PreconditionFailed, m,
                             "inequivalent arg '{}' for {}: received {} but current is {}", key,
                             rs(kind, name, vhost), received, current);
}

std::optional<AmqpError> check_bool_equivalence(bool current, bool received, std::string_view key,
                                                std::string_view kind, std::string_view name,
                                                const VHost& vhost, MethodId m) {
    if (current == received) return std::nullopt;
    return inequivalent(key, kind, name, vhost, received ? "'true'" : "'false'",
                        current ? "'true'" : "'false'", m);
}

std::optional<AmqpError> check_args_equivalence(const FieldTable& current, const FieldTable& received,
                                                std::span<const std::string_view> keys,
                                                std::string_view kind, std::string_view name,
                                                const VHost& vhost, MethodId m) {
    for (std::string_view key : keys) {
        const FieldValue* cur = current.find(key);
        const FieldValue* rec = received.find(key);
        if (!cur && !rec) continue;
        if (cur && rec) {
            if (type_class(*cur) == type_class(*rec) && rabbit_loose_equal(*cur, *rec)) continue;
            if (erlang_exactly_equal(*cur, *rec)) continue;
            return inequivalent(key, kind, name, vhost, "'" + erlang_value(*rec) + "'",
                                "'" + erlang_value(*cur) + "'", m);
        }
        const FieldValue* present = cur ? cur : rec;
        if (key == "x-queue-type" && present->is_string() && present->as_string() == "classic")
            continue;
        return inequivalent(key, kind, name, vhost, typed_value(rec), typed_value(cur), m);
    }
    return std::nullopt;
}

}  // namespace warren::emulator
