#include "amqp_conversion.hpp"

#include <type_traits>
#include <variant>

#include <fmt/format.h>

#include "warren/errors.hpp"

namespace warren::amqp {
namespace {

template <class... F>
struct Overloaded : F... {
    using F::operator()...;
};

amqp_field_value_t field(std::uint8_t kind) {
    amqp_field_value_t v{};
    v.kind = kind;
    return v;
}

amqp_array_t array_to_amqp(const FieldArray& array, Arena& arena);

amqp_field_value_t field_to_amqp(const FieldValue& value, Arena& arena) {
    return std::visit(
        Overloaded{
            [](std::monostate) { return field(AMQP_FIELD_KIND_VOID); },
            [](bool b) {
                auto v = field(AMQP_FIELD_KIND_BOOLEAN);
                v.value.boolean = b ? 1 : 0;
                return v;
            },
            [](std::int8_t i) { auto v = field(AMQP_FIELD_KIND_I8); v.value.i8 = i; return v; },
            [](std::uint8_t i) { auto v = field(AMQP_FIELD_KIND_U8); v.value.u8 = i; return v; },
            [](std::int16_t i) { auto v = field(AMQP_FIELD_KIND_I16); v.value.i16 = i; return v; },
            [](std::uint16_t i) { auto v = field(AMQP_FIELD_KIND_U16); v.value.u16 = i; return v; },
            [](std::int32_t i) { auto v = field(AMQP_FIELD_KIND_I32); v.value.i32 = i; return v; },
            [](std::uint32_t i) { auto v = field(AMQP_FIELD_KIND_U32); v.value.u32 = i; return v; },
            [](std::int64_t i) { auto v = field(AMQP_FIELD_KIND_I64); v.value.i64 = i; return v; },
            [](std::uint64_t i) { auto v = field(AMQP_FIELD_KIND_U64); v.value.u64 = i; return v; },
            [](float f) { auto v = field(AMQP_FIELD_KIND_F32); v.value.f32 = f; return v; },
            [](double d) { auto v = field(AMQP_FIELD_KIND_F64); v.value.f64 = d; return v; },
            [](Decimal d) {
                auto v = field(AMQP_FIELD_KIND_DECIMAL);
                v.value.decimal = {d.scale, d.value};
                return v;
            },
            [](const std::string& s) {
                auto v = field(AMQP_FIELD_KIND_UTF8);
                v.value.bytes = to_bytes(s);
                return v;
            },
            [](const ByteArray& b) {
                auto v = field(AMQP_FIELD_KIND_BYTES);
                v.value.bytes = to_bytes(b.bytes);
                return v;
            },
            [](Timestamp t) {
                auto v = field(AMQP_FIELD_KIND_TIMESTAMP);
                v.value.u64 = t.seconds;
                return v;
            },
            [&arena](const FieldTable& t) {
                auto v = field(AMQP_FIELD_KIND_TABLE);
                v.value.table = to_amqp(t, arena);
                return v;
            },
            [&arena](const FieldArray& a) {
                auto v = field(AMQP_FIELD_KIND_ARRAY);
                v.value.array = array_to_amqp(a, arena);
                return v;
            },
        },
        value.storage());
}

amqp_array_t array_to_amqp(const FieldArray& array, Arena& arena) {
    amqp_array_t out{};
    out.num_entries = static_cast<int>(array.size());
    out.entries = arena.allocate<amqp_field_value_t>(array.size());
    for (std::size_t i = 0; i < array.size(); ++i) out.entries[i] = field_to_amqp(array[i], arena);
    return out;
}

FieldValue field_from_amqp(const amqp_field_value_t& v) {
    switch (v.kind) {
        case AMQP_FIELD_KIND_VOID: return FieldValue();
        case AMQP_FIELD_KIND_BOOLEAN: return FieldValue(v.value.boolean != 0);
        case AMQP_FIELD_KIND_I8: return FieldValue(v.value.i8);
        case AMQP_FIELD_KIND_U8: return FieldValue(v.value.u8);
        case AMQP_FIELD_KIND_I16: return FieldValue(v.value.i16);
        case AMQP_FIELD_KIND_U16: return FieldValue(v.value.u16);
        case AMQP_FIELD_KIND_I32: return FieldValue(v.value.i32);
        case AMQP_FIELD_KIND_U32: return FieldValue(v.value.u32);
        case AMQP_FIELD_KIND_I64: return FieldValue(v.value.i64);
        case AMQP_FIELD_KIND_U64: return FieldValue(v.value.u64);
        case AMQP_FIELD_KIND_F32: return FieldValue(v.value.f32);
        case AMQP_FIELD_KIND_F64: return FieldValue(v.value.f64);
        case AMQP_FIELD_KIND_DECIMAL:
            return FieldValue(Decimal{v.value.decimal.decimals, v.value.decimal.value});
        case AMQP_FIELD_KIND_UTF8: return FieldValue(to_string(v.value.bytes));
        case AMQP_FIELD_KIND_BYTES: return FieldValue(ByteArray{to_string(v.value.bytes)});
        case AMQP_FIELD_KIND_TIMESTAMP: return FieldValue(Timestamp{v.value.u64});
        case AMQP_FIELD_KIND_TABLE: return FieldValue(from_amqp(v.value.table));
        case AMQP_FIELD_KIND_ARRAY: {
            FieldArray array;
            for (int i = 0; i < v.value.array.num_entries; ++i)
                array.push_back(field_from_amqp(v.value.array.entries[i]));
            return FieldValue(std::move(array));
        }
    }
    // rabbitmq-c refuses to decode any other kind, so none reaches here.
    throw ClientError(fmt::format("rabbitmq-c decoded a field of unknown kind '{}'",
                                  static_cast<char>(v.kind)));
}

template <class Optional>
void set_text(amqp_basic_properties_t& p, amqp_flags_t flag, amqp_bytes_t& slot,
              const Optional& value) {
    if (!value) return;
    p._flags |= flag;
    slot = to_bytes(*value);
}

std::optional<std::string> text(const amqp_basic_properties_t& p, amqp_flags_t flag,
                                amqp_bytes_t value) {
    if ((p._flags & flag) == 0) return std::nullopt;
    return to_string(value);
}

}  // namespace

amqp_bytes_t to_bytes(std::string_view text) noexcept {
    // rabbitmq-c's amqp_bytes_t is not const-correct; it only reads these bytes when encoding.
    return amqp_bytes_t{text.size(), const_cast<char*>(text.data())};
}

std::string to_string(amqp_bytes_t bytes) {
    if (bytes.len == 0) return {};
    return std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}

amqp_table_t to_amqp(const FieldTable& table, Arena& arena) {
    amqp_table_t out{};
    out.num_entries = static_cast<int>(table.size());
    out.entries = arena.allocate<amqp_table_entry_t>(table.size());
    std::size_t i = 0;
    for (const auto& [key, value] : table) {
        out.entries[i].key = to_bytes(key);
        out.entries[i].value = field_to_amqp(value, arena);
        ++i;
    }
    return out;
}

FieldTable from_amqp(const amqp_table_t& table) {
    FieldTable out;
    for (int i = 0; i < table.num_entries; ++i)
        out.set(to_string(table.entries[i].key), field_from_amqp(table.entries[i].value));
    return out;
}

amqp_basic_properties_t to_amqp(const BasicProperties& properties, Arena& arena) {
    amqp_basic_properties_t p{};
    set_text(p, AMQP_BASIC_CONTENT_TYPE_FLAG, p.content_type, properties.content_type);
    set_text(p, AMQP_BASIC_CONTENT_ENCODING_FLAG, p.content_encoding, properties.content_encoding);
    if (!properties.headers.empty()) {
        p._flags |= AMQP_BASIC_HEADERS_FLAG;
        p.headers = to_amqp(properties.headers, arena);
    }
    if (properties.delivery_mode) {
        p._flags |= AMQP_BASIC_DELIVERY_MODE_FLAG;
        p.delivery_mode = *properties.delivery_mode;
    }
    if (properties.priority) {
        p._flags |= AMQP_BASIC_PRIORITY_FLAG;
        p.priority = *properties.priority;
    }
    set_text(p, AMQP_BASIC_CORRELATION_ID_FLAG, p.correlation_id, properties.correlation_id);
    set_text(p, AMQP_BASIC_REPLY_TO_FLAG, p.reply_to, properties.reply_to);
    set_text(p, AMQP_BASIC_EXPIRATION_FLAG, p.expiration, properties.expiration);
    set_text(p, AMQP_BASIC_MESSAGE_ID_FLAG, p.message_id, properties.message_id);
    if (properties.timestamp) {
        p._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
        p.timestamp = properties.timestamp->seconds;
    }
    set_text(p, AMQP_BASIC_TYPE_FLAG, p.type, properties.type);
    set_text(p, AMQP_BASIC_USER_ID_FLAG, p.user_id, properties.user_id);
    set_text(p, AMQP_BASIC_APP_ID_FLAG, p.app_id, properties.app_id);
    set_text(p, AMQP_BASIC_CLUSTER_ID_FLAG, p.cluster_id, properties.cluster_id);
    return p;
}

BasicProperties from_amqp(const amqp_basic_properties_t& p) {
    BasicProperties out;
    out.content_type = text(p, AMQP_BASIC_CONTENT_TYPE_FLAG, p.content_type);
    out.content_encoding = text(p, AMQP_BASIC_CONTENT_ENCODING_FLAG, p.content_encoding);
    if (p._flags & AMQP_BASIC_HEADERS_FLAG) out.headers = from_amqp(p.headers);
    if (p._flags & AMQP_BASIC_DELIVERY_MODE_FLAG) out.delivery_mode = p.delivery_mode;
    if (p._flags & AMQP_BASIC_PRIORITY_FLAG) out.priority = p.priority;
    out.correlation_id = text(p, AMQP_BASIC_CORRELATION_ID_FLAG, p.correlation_id);
    out.reply_to = text(p, AMQP_BASIC_REPLY_TO_FLAG, p.reply_to);
    out.expiration = text(p, AMQP_BASIC_EXPIRATION_FLAG, p.expiration);
    out.message_id = text(p, AMQP_BASIC_MESSAGE_ID_FLAG, p.message_id);
    if (p._flags & AMQP_BASIC_TIMESTAMP_FLAG) out.timestamp = Timestamp{p.timestamp};
    out.type = text(p, AMQP_BASIC_TYPE_FLAG, p.type);
    out.user_id = text(p, AMQP_BASIC_USER_ID_FLAG, p.user_id);
    out.app_id = text(p, AMQP_BASIC_APP_ID_FLAG, p.app_id);
    out.cluster_id = text(p, AMQP_BASIC_CLUSTER_ID_FLAG, p.cluster_id);
    return out;
}

}  // namespace warren::amqp
