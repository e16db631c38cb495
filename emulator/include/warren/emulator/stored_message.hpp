// A message as the model keeps it: immutable once published, shared by every queue it was
// routed to.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "warren/protocol/basic_properties.hpp"

namespace warren::emulator {

class StoredMessage {
public:
    /// `extra_routing_keys` are the keys it routes by beside `routing_key`: on a publish, the
    /// CC and BCC header keys (the BCC header itself is not kept: consumers never see it); on
    /// a dead-lettered message, the rest of its death routing keys.
    StoredMessage(std::string exchange, std::string routing_key, Message message,
                  std::vector<std::string> extra_routing_keys = {});

    const std::string& exchange() const noexcept { return exchange_; }
    const std::string& routing_key() const noexcept { return routing_key_; }
    std::span<const std::string> extra_routing_keys() const noexcept {
        return extras_ ? std::span<const std::string>(extras_->routing_keys) : std::span<const std::string>();
    }
    const std::string& body() const noexcept { return body_; }
    /// The message's properties (an empty set when it was published with none).
    const BasicProperties& properties() const noexcept;
    bool persistent() const noexcept { return properties().delivery_mode == 2; }
    std::size_t body_size() const noexcept { return body_.size(); }

    /// A copy in the facade's form.
    Message to_message() const;

private:
    std::string exchange_;
    std::string routing_key_;
    std::string body_;
    // What most messages lack: properties (several hundred bytes when present) and routing
    // keys beyond the first. Null when both are absent, which keeps a queued message small.
    struct Extras {
        BasicProperties properties;
        std::vector<std::string> routing_keys;
    };
    std::unique_ptr<const Extras> extras_;
};

using MessagePtr = std::shared_ptr<const StoredMessage>;

}  // namespace warren::emulator
