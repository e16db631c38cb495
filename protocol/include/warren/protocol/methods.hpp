// AMQP 0-9-1 methods as RabbitMQ 3.10 serves them: one aggregate per method of the classes
// connection, channel, access, exchange, queue, basic, tx and confirm, with RabbitMQ's
// extensions (exchange.bind/unbind, basic.nack, basic.credit, confirm, connection.blocked and
// update-secret), and free functions to encode and decode a method frame's payload.
//
// Field names follow the specification (`no_wait` for no-wait); reserved fields (`ticket`,
// `capabilities`, `insist`, `out_of_band`, `channel_id`, `known_hosts`) are kept so that a
// decoded method encodes back to the same fields. The methods, their ids and layouts are
// listed once, in amqp_methods.def; the aggregates and the Method variant are expanded from
// it. Plain values; the functions are pure and safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>

#include "warren/protocol/field_value.hpp"
#include "warren/protocol/reply_code.hpp"
#include "warren/protocol/wire.hpp"

namespace warren::protocol {

// The field kinds of amqp_methods.def as member types.
#define WARREN_AMQP_TYPE_octet std::uint8_t
#define WARREN_AMQP_TYPE_short std::uint16_t
#define WARREN_AMQP_TYPE_long std::uint32_t
#define WARREN_AMQP_TYPE_longlong std::uint64_t
#define WARREN_AMQP_TYPE_bit bool
#define WARREN_AMQP_TYPE_shortstr std::string
#define WARREN_AMQP_TYPE_longstr std::string
#define WARREN_AMQP_TYPE_table FieldTable
#define WARREN_AMQP_CONTENT_content true
#define WARREN_AMQP_CONTENT_no_content false

// One aggregate per method: its ids, whether content follows it, and its arguments in wire
// order with their defaults (so aggregate initialization follows the wire order).
#define WARREN_METHOD(Struct, snake, class_id, method_id, name, content, dispatch) \
    struct Struct {                                                                 \
        static constexpr MethodId id = method::snake;                               \
        static constexpr bool has_content = WARREN_AMQP_CONTENT_##content;
#define WARREN_FIELD(kind, name, default_value, check) WARREN_AMQP_TYPE_##kind name = default_value;
#define WARREN_METHOD_END(Struct)                                         \
        friend bool operator==(const Struct&, const Struct&) = default; \
    };
#include "warren/protocol/amqp_methods.def"

#undef WARREN_AMQP_TYPE_octet
#undef WARREN_AMQP_TYPE_short
#undef WARREN_AMQP_TYPE_long
#undef WARREN_AMQP_TYPE_longlong
#undef WARREN_AMQP_TYPE_bit
#undef WARREN_AMQP_TYPE_shortstr
#undef WARREN_AMQP_TYPE_longstr
#undef WARREN_AMQP_TYPE_table
#undef WARREN_AMQP_CONTENT_content
#undef WARREN_AMQP_CONTENT_no_content

namespace detail {
/// The list expands to ", A, B, ..."; a leading `void` takes the first comma.
template <class First, class... Rest>
struct VariantOfRest {
    using type = std::variant<Rest...>;
};
}  // namespace detail

/// Any method: one alternative per entry of amqp_methods.def, in its order (class then method
/// order, tx before confirm).
#define WARREN_METHOD(Struct, snake, class_id, method_id, name, content, dispatch) , Struct
using Method = detail::VariantOfRest<void
#include "warren/protocol/amqp_methods.def"
                                     >::type;

/// The class and method ids of `m`.
MethodId method_id(const Method& m) noexcept;

/// RabbitMQ's name for a method ("basic.publish", "exchange.unbind_ok"), or "" when RabbitMQ
/// 3.10 does not know the pair.
std::string_view method_name(MethodId id) noexcept;

/// Whether RabbitMQ 3.10 knows the class/method pair (an unknown one crashes its reader).
bool is_known_method(MethodId id) noexcept;

/// Whether the method is followed by a content header and body (basic.publish, return,
/// deliver, get-ok).
bool method_has_content(MethodId id) noexcept;

/// Appends a method frame's payload: class id, method id, then the arguments, with
/// consecutive bits packed into octets. Fails with short_string_too_long (appending nothing).
std::error_code encode(const Method& m, Bytes& out);

/// Decodes a method frame's payload as RabbitMQ does: the arguments must fill the payload
/// exactly (truncated / trailing_bytes), then the name fields RabbitMQ checks must be UTF-8
/// (malformed_utf8), then the tables are parsed (malformed_table). A pair RabbitMQ does not
/// know gives unknown_method; a payload under four bytes gives malformed_frame.
Decoded<Method> decode_method(ByteView payload);

/// Decodes only the arguments of a method whose ids are already known.
Decoded<Method> decode_method_arguments(MethodId id, ByteView arguments);

}  // namespace warren::protocol
