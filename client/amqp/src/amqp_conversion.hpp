// Conversions between warren's field tables and basic properties and rabbitmq-c's C structs,
// keeping every entry's order and type.
#pragma once

#include <cstddef>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>

#include <amqp.h>

#include "warren/protocol/basic_properties.hpp"
#include "warren/protocol/field_value.hpp"

namespace warren::amqp {

/// Memory for the C structs built from warren values, freed with the Arena. Those structs also
/// point into the strings of the values they were built from: both must outlive the call
/// that sends them.
class Arena {
public:
    Arena() { init_amqp_pool(&pool_, 4096); }
    ~Arena() { empty_amqp_pool(&pool_); }
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;

    /// Uninitialised room for `count` objects of the trivial type T.
    template <class T>
    T* allocate(std::size_t count) {
        static_assert(std::is_trivial_v<T>);
        if (count == 0) return nullptr;
        void* p = amqp_pool_alloc(&pool_, count * sizeof(T));
        if (p == nullptr) throw std::bad_alloc();
        return static_cast<T*>(p);
    }

private:
    amqp_pool_t pool_;
};

/// A view of `text`, for rabbitmq-c to read while encoding.
amqp_bytes_t to_bytes(std::string_view text) noexcept;
std::string to_string(amqp_bytes_t bytes);

amqp_table_t to_amqp(const FieldTable& table, Arena& arena);
FieldTable from_amqp(const amqp_table_t& table);

/// Headers are sent only when the table has entries, as RabbitMQ's clients do.
amqp_basic_properties_t to_amqp(const BasicProperties& properties, Arena& arena);
BasicProperties from_amqp(const amqp_basic_properties_t& properties);

}  // namespace warren::amqp
