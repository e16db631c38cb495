#include "warren/emulator/stored_message.hpp"

namespace warren::emulator {

namespace {
const BasicProperties empty_properties{};
}

StoredMessage::StoredMessage(std::string exchange, std::string routing_key, Message message,
                             std::vector<std::string> extra_routing_keys)
    : exchange_(std::move(exchange)),
      routing_key_(std::move(routing_key)),
      body_(std::move(message.body)) {
    if (!message.properties.empty() || !extra_routing_keys.empty())
        extras_ = std::make_unique<const Extras>(
            Extras{std::move(message.properties), std::move(extra_routing_keys)});
}

const BasicProperties& StoredMessage::properties() const noexcept {
    return extras_ ? extras_->properties : empty_properties;
}

Message StoredMessage::to_message() const { return Message{body_, properties()}; }

}  // namespace warren::emulator
