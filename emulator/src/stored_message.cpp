#include "warren/emulator/stored_message.hpp"

#include <cstdint>

namespace warren::emulator {

namespace {
const BasicProperties empty_properties{};

// Property flags 0 and no list: what encoding an empty set of properties gives anyway.
constexpr std::string_view no_properties{"\0\0", 2};
}  // namespace

StoredMessage::StoredMessage(std::string exchange, std::string routing_key, Message message,
                             std::vector<std::string> extra_routing_keys, std::string encoded_properties)
    : exchange_(std::move(exchange)),
      routing_key_(std::move(routing_key)),
      body_(std::move(message.body)) {
    if (encoded_properties == no_properties) encoded_properties.clear();
    if (!message.properties.empty() || !extra_routing_keys.empty() || !encoded_properties.empty())
        extras_ = std::make_unique<const Extras>(Extras{std::move(message.properties),
                                                        std::move(extra_routing_keys),
                                                        std::move(encoded_properties)});
}

std::string_view StoredMessage::encoded_properties() const noexcept {
    return extras_ ? std::string_view(extras_->encoded_properties) : std::string_view();
}

namespace {

bool has_unsigned_long(const FieldValue& v) {
    switch (v.type()) {
        case FieldValue::Type::UInt64: return true;
        case FieldValue::Type::Table:
            for (const auto& [k, x] : v.as_table())
                if (has_unsigned_long(x)) return true;
            return false;
        case FieldValue::Type::Array:
            for (const FieldValue& x : v.as_array())
                if (has_unsigned_long(x)) return true;
            return false;
        default: return false;
    }
}

FieldTable reencoded(const FieldTable& table);

FieldValue reencoded(const FieldValue& v) {
    switch (v.type()) {
        case FieldValue::Type::UInt64:
            return static_cast<std::int64_t>(std::get<std::uint64_t>(v.storage()));
        case FieldValue::Type::Table: return reencoded(v.as_table());
        case FieldValue::Type::Array: {
            FieldArray out;
            for (const FieldValue& x : v.as_array()) out.push_back(reencoded(x));
            return out;
        }
        default: return v;
    }
}

FieldTable reencoded(const FieldTable& table) {
    FieldTable out;
    for (const auto& [k, v] : table) out.set(k, reencoded(v));
    return out;
}

}  // namespace

void reencode_headers(FieldTable& headers) {
    for (const auto& [k, v] : headers) {
        if (has_unsigned_long(v)) {
            headers = reencoded(headers);
            return;
        }
    }
}

const BasicProperties& StoredMessage::properties() const noexcept {
    return extras_ ? extras_->properties : empty_properties;
}

Message StoredMessage::to_message() const { return Message{body_, properties()}; }

}  // namespace warren::emulator
