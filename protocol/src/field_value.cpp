#include "warren/protocol/field_value.hpp"

#include <algorithm>
#include <iomanip>
#include <ostream>

namespace warren {

// ---- FieldArray -------------------------------------------------------------------------------

FieldArray::FieldArray(std::initializer_list<FieldValue> items) : items_(items) {}
FieldArray::FieldArray(std::vector<FieldValue> items) : items_(std::move(items)) {}

const FieldValue& FieldArray::operator[](std::size_t i) const {
    if (i >= items_.size()) throw std::out_of_range("FieldArray index out of range");
    return items_[i];
}
FieldValue& FieldArray::operator[](std::size_t i) {
    if (i >= items_.size()) throw std::out_of_range("FieldArray index out of range");
    return items_[i];
}
void FieldArray::push_back(FieldValue v) { items_.push_back(std::move(v)); }

bool operator==(const FieldArray& a, const FieldArray& b) { return a.items_ == b.items_; }

// ---- FieldTable -------------------------------------------------------------------------------

FieldTable::FieldTable(std::initializer_list<Entry> entries) {
    entries_.reserve(entries.size());
    for (const auto& e : entries) set(e.first, e.second);
}

const FieldValue& FieldTable::at(std::string_view key) const {
    if (const FieldValue* v = find(key)) return *v;
    throw std::out_of_range("FieldTable has no key '" + std::string(key) + "'");
}

const FieldValue* FieldTable::find(std::string_view key) const noexcept {
    for (const auto& e : entries_)
        if (e.first == key) return &e.second;
    return nullptr;
}

FieldValue* FieldTable::find(std::string_view key) noexcept {
    for (auto& e : entries_)
        if (e.first == key) return &e.second;
    return nullptr;
}

void FieldTable::set(std::string key, FieldValue value) {
    if (FieldValue* v = find(key)) {
        *v = std::move(value);
        return;
    }
    entries_.emplace_back(std::move(key), std::move(value));
}

bool FieldTable::erase(std::string_view key) {
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [&](const Entry& e) { return e.first == key; });
    if (it == entries_.end()) return false;
    entries_.erase(it);
    return true;
}

bool operator==(const FieldTable& a, const FieldTable& b) { return a.entries_ == b.entries_; }

// ---- FieldValue -------------------------------------------------------------------------------

namespace {

[[noreturn]] void type_error(const char* wanted, FieldValue::Type got) {
    throw FieldTypeError(std::string("FieldValue is ") + std::string(rabbit_type_name(got)) +
                         ", not " + wanted);
}

}  // namespace

bool FieldValue::is_integer() const noexcept {
    switch (type()) {
        case Type::Int8: case Type::UInt8: case Type::Int16: case Type::UInt16:
        case Type::Int32: case Type::UInt32: case Type::Int64: case Type::UInt64:
            return true;
        default:
            return false;
    }
}

bool FieldValue::is_number() const noexcept {
    return is_integer() || type() == Type::Float || type() == Type::Double ||
           type() == Type::Decimal;
}

const std::string& FieldValue::as_string() const {
    if (const auto* s = std::get_if<std::string>(&v_)) return *s;
    type_error("a string", type());
}

std::int64_t FieldValue::as_int() const {
    return std::visit(
        [this](const auto& x) -> std::int64_t {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
                if constexpr (std::is_same_v<T, std::uint64_t>) {
                    if (x > static_cast<std::uint64_t>(INT64_MAX))
                        throw std::out_of_range("unsigned 64-bit value does not fit int64_t");
                }
                return static_cast<std::int64_t>(x);
            } else {
                type_error("an integer", type());
            }
        },
        v_);
}

bool FieldValue::as_bool() const {
    if (const auto* b = std::get_if<bool>(&v_)) return *b;
    type_error("a bool", type());
}

double FieldValue::as_double() const {
    switch (type()) {
        case Type::Float: return std::get<float>(v_);
        case Type::Double: return std::get<double>(v_);
        case Type::Decimal: {
            const Decimal d = std::get<Decimal>(v_);
            double r = d.value;
            for (int i = 0; i < d.scale; ++i) r /= 10.0;
            return r;
        }
        default:
            if (is_integer()) return static_cast<double>(as_int());
            type_error("a number", type());
    }
}

const FieldTable& FieldValue::as_table() const {
    if (const auto* t = std::get_if<FieldTable>(&v_)) return *t;
    type_error("a table", type());
}

const FieldArray& FieldValue::as_array() const {
    if (const auto* a = std::get_if<FieldArray>(&v_)) return *a;
    type_error("an array", type());
}

Timestamp FieldValue::as_timestamp() const {
    if (const auto* t = std::get_if<Timestamp>(&v_)) return *t;
    type_error("a timestamp", type());
}

Decimal FieldValue::as_decimal() const {
    if (const auto* d = std::get_if<Decimal>(&v_)) return *d;
    type_error("a decimal", type());
}

const ByteArray& FieldValue::as_bytes() const {
    if (const auto* b = std::get_if<ByteArray>(&v_)) return *b;
    type_error("a byte array", type());
}

bool operator==(const FieldValue& a, const FieldValue& b) { return a.v_ == b.v_; }

std::string_view rabbit_type_name(FieldValue::Type type) noexcept {
    // The atoms rabbit_binary_parser gives each type; they appear in RabbitMQ's error texts.
    using T = FieldValue::Type;
    switch (type) {
        case T::Void: return "void";
        case T::Bool: return "bool";
        case T::Int8: return "byte";
        case T::UInt8: return "unsignedbyte";
        case T::Int16: return "short";
        case T::UInt16: return "unsignedshort";
        case T::Int32: return "signedint";
        case T::UInt32: return "unsignedint";
        case T::Int64: return "long";
        case T::UInt64: return "unsignedlong";
        case T::Float: return "float";
        case T::Double: return "double";
        case T::Decimal: return "decimal";
        case T::String: return "longstr";
        case T::Bytes: return "binary";
        case T::Timestamp: return "timestamp";
        case T::Table: return "table";
        case T::Array: return "array";
    }
    return "unknown";
}

bool rabbit_loose_equal(const FieldValue& a, const FieldValue& b) {
    // Values of one type compare exactly; only mixed types need Erlang's rules below.
    if (a.type() == b.type()) return a == b;
    // Erlang `==` compares numbers by value whatever their representation; RabbitMQ 3.10's
    // headers exchange uses it (rabbit_exchange_type_headers:headers_match). Decimals are
    // decoded by RabbitMQ as {decimal, Scale, Value} tuples, so they compare structurally.
    const bool a_num = a.is_integer() || a.type() == FieldValue::Type::Float ||
                       a.type() == FieldValue::Type::Double;
    const bool b_num = b.is_integer() || b.type() == FieldValue::Type::Float ||
                       b.type() == FieldValue::Type::Double;
    if (a_num && b_num) {
        if (a.is_integer() && b.is_integer()) {
            // Compare exactly, including the unsigned 64-bit range.
            auto wide = [](const FieldValue& v) -> std::pair<bool, std::uint64_t> {
                if (v.type() == FieldValue::Type::UInt64)
                    return {false, std::get<std::uint64_t>(v.storage())};
                const std::int64_t i = v.as_int();
                return {i < 0, static_cast<std::uint64_t>(i)};
            };
            return wide(a) == wide(b);
        }
        return a.as_double() == b.as_double();
    }
    // Timestamps are integers on the Erlang side too.
    if (a.type() == FieldValue::Type::Timestamp && b.is_integer())
        return b.as_int() >= 0 && a.as_timestamp().seconds == static_cast<std::uint64_t>(b.as_int());
    if (b.type() == FieldValue::Type::Timestamp && a.is_integer())
        return rabbit_loose_equal(b, a);
    // Long strings and byte arrays are both binaries in Erlang.
    auto bytes_of = [](const FieldValue& v) -> const std::string* {
        if (v.type() == FieldValue::Type::String) return &v.as_string();
        if (v.type() == FieldValue::Type::Bytes) return &v.as_bytes().bytes;
        return nullptr;
    };
    const std::string* sa = bytes_of(a);
    const std::string* sb = bytes_of(b);
    if (sa && sb) return *sa == *sb;
    // Tables and arrays are lists of {Type, Value} tuples in Erlang: their types must agree.
    return a == b;
}

// ---- printing ---------------------------------------------------------------------------------

namespace {

void print_quoted(std::ostream& os, std::string_view s) {
    os << '"';
    for (const unsigned char c : s) {
        switch (c) {
            case '"': os << "\\\""; break;
            case '\\': os << "\\\\"; break;
            case '\n': os << "\\n"; break;
            case '\r': os << "\\r"; break;
            case '\t': os << "\\t"; break;
            default:
                if (c < 0x20 || c >= 0x7f) {
                    static constexpr char hex[] = "0123456789abcdef";
                    os << "\\x" << hex[c >> 4] << hex[c & 0xf];
                } else {
                    os << static_cast<char>(c);
                }
        }
    }
    os << '"';
}

}  // namespace

std::ostream& operator<<(std::ostream& os, FieldValue::Type t) { return os << rabbit_type_name(t); }

std::ostream& operator<<(std::ostream& os, const FieldValue& v) {
    std::visit(
        [&os](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
                os << "void";
            } else if constexpr (std::is_same_v<T, bool>) {
                os << (x ? "true" : "false");
            } else if constexpr (std::is_same_v<T, std::int8_t>) {
                os << static_cast<int>(x) << "b";
            } else if constexpr (std::is_same_v<T, std::uint8_t>) {
                os << static_cast<unsigned>(x) << "ub";
            } else if constexpr (std::is_same_v<T, std::int16_t>) {
                os << x << "s";
            } else if constexpr (std::is_same_v<T, std::uint16_t>) {
                os << x << "us";
            } else if constexpr (std::is_same_v<T, std::int32_t>) {
                os << x;
            } else if constexpr (std::is_same_v<T, std::uint32_t>) {
                os << x << "u";
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                os << x << "L";
            } else if constexpr (std::is_same_v<T, std::uint64_t>) {
                os << x << "UL";
            } else if constexpr (std::is_same_v<T, float>) {
                os << x << "f";
            } else if constexpr (std::is_same_v<T, double>) {
                os << x;
            } else if constexpr (std::is_same_v<T, Decimal>) {
                os << "decimal(" << x.value << "e-" << static_cast<unsigned>(x.scale) << ")";
            } else if constexpr (std::is_same_v<T, std::string>) {
                print_quoted(os, x);
            } else if constexpr (std::is_same_v<T, ByteArray>) {
                os << "bytes";
                print_quoted(os, x.bytes);
            } else if constexpr (std::is_same_v<T, Timestamp>) {
                os << "timestamp(" << x.seconds << ")";
            } else if constexpr (std::is_same_v<T, FieldTable>) {
                os << x;
            } else if constexpr (std::is_same_v<T, FieldArray>) {
                os << x;
            }
        },
        v.storage());
    return os;
}

std::ostream& operator<<(std::ostream& os, const FieldTable& t) {
    os << '{';
    bool first = true;
    for (const auto& [k, v] : t) {
        if (!first) os << ", ";
        first = false;
        print_quoted(os, k);
        os << ": " << v;
    }
    return os << '}';
}

std::ostream& operator<<(std::ostream& os, const FieldArray& a) {
    os << '[';
    bool first = true;
    for (const auto& v : a) {
        if (!first) os << ", ";
        first = false;
        os << v;
    }
    return os << ']';
}

}  // namespace warren
