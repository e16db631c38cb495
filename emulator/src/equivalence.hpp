// Declare equivalence: what a redeclaration of an existing exchange or queue must match, with
// RabbitMQ's 406 texts (rabbit_misc:assert_args_equivalence/4, rabbit_exchange and
// rabbit_amqqueue assert_equivalence).
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "broker_state.hpp"

namespace warren::emulator {

/// 406 "inequivalent arg '<key>' for <kind> '<name>' in vhost '<v>': received X but current is Y".
AmqpError inequivalent(std::string_view key, std::string_view kind, std::string_view name,
                       const VHost& vhost, std::string_view received, std::string_view current,
                       MethodId m);

/// A flag (durable, auto_delete, internal) that must be as declared.
std::optional<AmqpError> check_bool_equivalence(bool current, bool received, std::string_view key,
                                                std::string_view kind, std::string_view name,
                                                const VHost& vhost, MethodId m);

/// The arguments named in `keys`, compared in that order: a value on both sides is equivalent
/// when the types are of one class and the values compare equal, or when the values are
/// exactly equal whatever their types; a value on one side only never is, except that an
/// absent x-queue-type equals 'classic'.
std::optional<AmqpError> check_args_equivalence(const FieldTable& current, const FieldTable& received,
                                                std::span<const std::string_view> keys,
                                                std::string_view kind, std::string_view name,
                                                const VHost& vhost, MethodId m);

}  // namespace warren::emulator
