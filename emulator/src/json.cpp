// AMQP field values to and from JSON (detail/json.hpp).
#include "warren/emulator/detail/json.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace warren::detail {

namespace json = boost::json;

json::value to_json(const FieldValue& value) {
    using Type = FieldValue::Type;
    switch (value.type()) {
        case Type::Void: return nullptr;
        case Type::Bool: return value.as_bool();
        case Type::UInt64: {
            const auto v = std::get<std::uint64_t>(value.storage());
            return json::value(v);
        }
        case Type::Int8:
        case Type::UInt8:
        case Type::Int16:
        case Type::UInt16:
        case Type::Int32:
        case Type::UInt32:
        case Type::Int64: return value.as_int();
        case Type::Float:
        case Type::Double: return value.as_double();
        case Type::Decimal: {
            const Decimal d = value.as_decimal();
            return static_cast<double>(d.value) / std::pow(10.0, d.scale);
        }
        case Type::String: return json::string(value.as_string());
        case Type::Bytes: return json::string(value.as_bytes().bytes);
        case Type::Timestamp: return value.as_timestamp().seconds;
        case Type::Table: return to_json(value.as_table());
        case Type::Array: {
            json::array out;
            for (const FieldValue& item : value.as_array()) out.push_back(to_json(item));
            return out;
        }
    }
    return nullptr;
}

json::object to_json(const FieldTable& table) {
    std::vector<const FieldTable::Entry*> entries;
    for (const auto& e : table) entries.push_back(&e);
    std::stable_sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
    json::object out;
    for (const auto* e : entries) out[e->first] = to_json(e->second);
    return out;
}

FieldValue field_from_json(const json::value& value) {
    switch (value.kind()) {
        case json::kind::null: return FieldValue{};
        case json::kind::bool_: return value.get_bool();
        case json::kind::int64: return value.get_int64();
        case json::kind::uint64: {
            const std::uint64_t v = value.get_uint64();
            if (v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                return static_cast<std::int64_t>(v);
            return static_cast<double>(v);
        }
        case json::kind::double_: return value.get_double();
        case json::kind::string: return std::string(value.get_string());
        case json::kind::array: {
            FieldArray out;
            for (const json::value& item : value.get_array()) out.push_back(field_from_json(item));
            return out;
        }
        case json::kind::object: return table_from_json(value.get_object());
    }
    return FieldValue{};
}

FieldTable table_from_json(const json::object& object) {
    FieldTable out;
    for (const auto& [key, v] : object) out.set(std::string(key), field_from_json(v));
    return out;
}

}  // namespace warren::detail
