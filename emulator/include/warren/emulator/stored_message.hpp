// A message as the model keeps it: immutable once published, shared by every queue it was
// routed to.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "warren/protocol/basic_properties.hpp"

namespace warren::emulator {

class StoredMessage {
public:
    /// `extra_routing_keys` are the keys it routes by beside `routing_key`: on a publish, the
    /// CC and BCC header keys (the BCC header itself is not kept: consumers never see it); on
    /// a dead-lettered message, the rest of its death routing keys.
    ///
    /// `encoded_properties` are the properties as a content header brought them (property
    /// flags and list; empty when the publisher was no AMQP client): like RabbitMQ's
    /// #content.properties_bin they are what a delivery sends, byte for byte, and a message
    /// whose properties the model changes is a new StoredMessage without them.
    StoredMessage(std::string exchange, std::string routing_key, Message message,
                  std::vector<std::string> extra_routing_keys = {}, std::string encoded_properties = {});

    const std::string& exchange() const noexcept { return exchange_; }
    const std::string& routing_key() const noexcept { return routing_key_; }
    std::span<const std::string> extra_routing_keys() const noexcept {
        return extras_ ? std::span<const std::string>(extras_->routing_keys) : std::span<const std::string>();
    }
    const std::string& body() const noexcept { return body_; }
    /// The message's properties (an empty set when it was published with none).
    const BasicProperties& properties() const noexcept;
    /// The properties as they were published over AMQP, or empty: a delivery writes these
    /// bytes when there are some, and encodes properties() otherwise.
    std::string_view encoded_properties() const noexcept;
    bool persistent() const noexcept { return properties().delivery_mode == 2; }
    std::size_t body_size() const noexcept { return body_.size(); }

    /// A copy in the facade's form.
    Message to_message() const;

private:
    std::string exchange_;
    std::string routing_key_;
    std::string body_;
    // What most messages lack: properties (several hundred bytes when present), routing keys
    // beyond the first, and the properties' bytes as an AMQP client published them. Null when
    // all are absent, which keeps a queued message small.
    struct Extras {
        BasicProperties properties;
        std::vector<std::string> routing_keys;
        std::string encoded_properties;
    };
    std::unique_ptr<const Extras> extras_;
};

using MessagePtr = std::shared_ptr<const StoredMessage>;

/// What RabbitMQ's re-encoding does to the headers of a message whose properties it changes
/// (dead-lettering, BCC stripping): rabbit_binary_parser read an unsigned 64-bit value ('L')
/// as a signed long and rabbit_binary_generator writes it back as one ('l'), so every UInt64
/// value, in nested tables and arrays too, becomes the Int64 of the same 64 bits.
void reencode_headers(FieldTable& headers);

}  // namespace warren::emulator
