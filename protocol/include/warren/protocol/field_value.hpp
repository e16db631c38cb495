// AMQP 0-9-1 field values, tables and arrays, with the types RabbitMQ encodes.
//
// FieldTable keeps insertion order, as the wire does. Typed accessors throw
// std::bad_variant_access-derived `FieldTypeError` on a type mismatch and `std::out_of_range`
// from `FieldTable::at` for a missing key. Plain values, not thread-safe beyond `const`.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/ostream.h>

namespace warren {

class FieldValue;

/// AMQP decimal: value * 10^-scale.
struct Decimal {
    std::uint8_t scale = 0;
    std::uint32_t value = 0;
    friend bool operator==(const Decimal&, const Decimal&) = default;
};

/// AMQP timestamp: seconds since the Unix epoch.
struct Timestamp {
    std::uint64_t seconds = 0;
    friend bool operator==(const Timestamp&, const Timestamp&) = default;
};

/// AMQP byte array ('x'): distinct from a long string so it round-trips with its type.
struct ByteArray {
    std::string bytes;
    friend bool operator==(const ByteArray&, const ByteArray&) = default;
};

/// Thrown by typed access to a FieldValue of another type.
class FieldTypeError : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

class FieldArray {
public:
    FieldArray() = default;
    FieldArray(std::initializer_list<FieldValue> items);
    explicit FieldArray(std::vector<FieldValue> items);

    std::size_t size() const noexcept;
    bool empty() const noexcept;
    const FieldValue& operator[](std::size_t i) const;
    FieldValue& operator[](std::size_t i);
    void push_back(FieldValue v);
    auto begin() const noexcept { return items_.begin(); }
    auto end() const noexcept { return items_.end(); }
    auto begin() noexcept { return items_.begin(); }
    auto end() noexcept { return items_.end(); }
    const std::vector<FieldValue>& items() const noexcept { return items_; }

    friend bool operator==(const FieldArray&, const FieldArray&);

private:
    std::vector<FieldValue> items_;
};

class FieldTable {
public:
    using Entry = std::pair<std::string, FieldValue>;

    FieldTable() = default;
    FieldTable(std::initializer_list<Entry> entries);

    /// The value under `key`; throws std::out_of_range naming the key when absent.
    const FieldValue& at(std::string_view key) const;
    /// The value under `key`, or nullptr.
    const FieldValue* find(std::string_view key) const noexcept;
    FieldValue* find(std::string_view key) noexcept;
    bool contains(std::string_view key) const noexcept { return find(key) != nullptr; }
    std::size_t size() const noexcept;
    bool empty() const noexcept;

    /// Sets `key` (replacing in place when present, appending otherwise).
    void set(std::string key, FieldValue value);
    /// Removes `key`; returns whether it was present.
    bool erase(std::string_view key);

    auto begin() const noexcept { return entries_.begin(); }
    auto end() const noexcept { return entries_.end(); }
    const std::vector<Entry>& entries() const noexcept { return entries_; }

    /// Same keys with equal values, in the same order (the wire's view).
    friend bool operator==(const FieldTable&, const FieldTable&);

private:
    std::vector<Entry> entries_;
};

class FieldValue {
public:
    enum class Type : std::uint8_t {
        Void, Bool, Int8, UInt8, Int16, UInt16, Int32, UInt32, Int64, UInt64,
        Float, Double, Decimal, String, Bytes, Timestamp, Table, Array,
    };

    FieldValue() = default;  // void
    FieldValue(bool v) : v_(v) {}
    template <class I>
        requires(std::is_integral_v<I> && !std::is_same_v<I, bool> && !std::is_same_v<I, char>)
    FieldValue(I v) : v_(from_integer(v)) {}
    FieldValue(float v) : v_(v) {}
    FieldValue(double v) : v_(v) {}
    FieldValue(Decimal v) : v_(v) {}
    FieldValue(Timestamp v) : v_(v) {}
    FieldValue(ByteArray v) : v_(std::move(v)) {}
    FieldValue(const char* v) : v_(std::string(v)) {}
    FieldValue(std::string v) : v_(std::move(v)) {}
    FieldValue(std::string_view v) : v_(std::string(v)) {}
    FieldValue(FieldTable v) : v_(std::move(v)) {}
    FieldValue(FieldArray v) : v_(std::move(v)) {}

    Type type() const noexcept { return static_cast<Type>(v_.index()); }
    bool is_void() const noexcept { return type() == Type::Void; }
    bool is_integer() const noexcept;
    bool is_number() const noexcept;  // integer, float, double or decimal
    bool is_string() const noexcept { return type() == Type::String; }

    const std::string& as_string() const;
    std::int64_t as_int() const;  // any integer type, widened
    bool as_bool() const;
    double as_double() const;     // float, double, decimal, or any integer
    const FieldTable& as_table() const;
    const FieldArray& as_array() const;
    Timestamp as_timestamp() const;
    Decimal as_decimal() const;
    const ByteArray& as_bytes() const;

    /// Exact equality: same type and same value.
    friend bool operator==(const FieldValue&, const FieldValue&);

    using Storage = std::variant<std::monostate, bool, std::int8_t, std::uint8_t, std::int16_t,
                                 std::uint16_t, std::int32_t, std::uint32_t, std::int64_t,
                                 std::uint64_t, float, double, Decimal, std::string, ByteArray,
                                 Timestamp, FieldTable, FieldArray>;
    const Storage& storage() const noexcept { return v_; }

private:
    template <class I>
    static Storage from_integer(I v) {
        if constexpr (std::is_signed_v<I>) {
            if constexpr (sizeof(I) == 1) return static_cast<std::int8_t>(v);
            else if constexpr (sizeof(I) == 2) return static_cast<std::int16_t>(v);
            else if constexpr (sizeof(I) == 4) return static_cast<std::int32_t>(v);
            else return static_cast<std::int64_t>(v);
        } else {
            if constexpr (sizeof(I) == 1) return static_cast<std::uint8_t>(v);
            else if constexpr (sizeof(I) == 2) return static_cast<std::uint16_t>(v);
            else if constexpr (sizeof(I) == 4) return static_cast<std::uint32_t>(v);
            else return static_cast<std::uint64_t>(v);
        }
    }

    Storage v_;
};

// Defined once FieldValue is complete: libstdc++'s vector needs its element type complete to
// instantiate size() under Clang.
inline std::size_t FieldArray::size() const noexcept { return items_.size(); }
inline bool FieldArray::empty() const noexcept { return items_.empty(); }
inline std::size_t FieldTable::size() const noexcept { return entries_.size(); }
inline bool FieldTable::empty() const noexcept { return entries_.empty(); }

/// The AMQP type name RabbitMQ uses in error texts ("long", "longstr", "signedint", ...).
std::string_view rabbit_type_name(FieldValue::Type type) noexcept;

/// Equality as RabbitMQ 3.10 compares header values (Erlang `==`): numbers by value across
/// integer and float types, everything else by type and value.
bool rabbit_loose_equal(const FieldValue& a, const FieldValue& b);

std::ostream& operator<<(std::ostream& os, const FieldValue& v);
std::ostream& operator<<(std::ostream& os, const FieldTable& t);
std::ostream& operator<<(std::ostream& os, const FieldArray& a);
std::ostream& operator<<(std::ostream& os, FieldValue::Type t);

}  // namespace warren

template <> struct fmt::formatter<warren::FieldValue> : fmt::ostream_formatter {};
template <> struct fmt::formatter<warren::FieldTable> : fmt::ostream_formatter {};
template <> struct fmt::formatter<warren::FieldArray> : fmt::ostream_formatter {};
