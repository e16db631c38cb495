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
    if (!message.properties.empty())
        properties_ = std::make_unique<const BasicProperties>(std::move(message.properties));
    if (!extra_routing_keys.empty())
        extra_keys_ = std::make_unique<const std::vector<std::string>>(std::move(extra_routing_keys));
}

const BasicProperties& StoredMessage::properties() const noexcept {
    return properties_ ? *properties_ : empty_properties;
}

Message StoredMessage::to_message() const { return Message{body_, properties()}; }

}  // namespace warren::emulator
