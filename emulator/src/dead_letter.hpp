// Dead-lettering as RabbitMQ 3.10 does it (rabbit_dead_letter): the message a queue hands
// to its dead-letter exchange, with the x-death history RabbitMQ records, and the cycle rule
// that drops a message coming back to a queue it died in.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "warren/emulator/clock.hpp"
#include "warren/emulator/stored_message.hpp"

namespace warren::emulator {

enum class DeadLetterReason : std::uint8_t { Rejected, Expired, Maxlen, DeliveryLimit };

std::string_view dead_letter_reason_name(DeadLetterReason reason) noexcept;

/// The dead-lettered copy of `message` leaving `queue` for `dead_letter_exchange`:
/// - its exchange becomes the dead-letter exchange; it routes by `dead_letter_routing_key`
///   alone when the queue has one (and loses its CC header), else by all its routing keys;
/// - x-death gains an entry for (queue, reason), or that entry's count grows and it moves to
///   the front; x-first-death-exchange/-queue/-reason are set on the first death (one with
///   no x-death header); as RabbitMQ 3.10 does, a history of two entries or more is first
///   grouped by (queue, reason), which reverses it, and an x-death that is no array is reset;
/// - `expiration` is removed (kept in the entry as original-expiration);
/// - the headers table comes out sorted by key, as RabbitMQ's table updates leave it.
MessagePtr make_dead_letter(const StoredMessage& message, DeadLetterReason reason,
                            std::string_view queue, TimePoint now,
                            std::string_view dead_letter_exchange,
                            const std::optional<std::string>& dead_letter_routing_key);

/// Whether delivering `dead_lettered` (already carrying its new x-death entry) to `queue` closes
/// a cycle that RabbitMQ drops: `queue` appears in x-death and no death up to and including
/// its first appearance was a rejection. Rejections never make a cycle.
bool is_dead_letter_cycle(const StoredMessage& dead_lettered, DeadLetterReason reason,
                          std::string_view queue);

}  // namespace warren::emulator
