#include "warren/emulator/stored_message.hpp"

namespace warren::emulator {

namespace {
const BasicProperties empty_properties{};
}

StoredMessage::StoredMessage(std::string exchange, std::string routing_key, Message message)
    : exchange_(std::move(exchange)),
      routing_key_(std::move(routing_key)),
      body_(std::move(message.body)) {
    if (!message.properties.empty())
        properties_ = std::make_unique<const BasicProperties>(std::move(message.properties));
}

const BasicProperties& StoredMessage::properties() const noexcept {
    return properties_ ? *properties_ : empty_properties;
}

Message StoredMessage::to_message() const { return Message{body_, properties()}; }

}  // namespace warren::emulator
