#include "warren/protocol/basic_properties.hpp"

#include <ostream>

namespace warren {

bool BasicProperties::empty() const noexcept {
    return !content_type && !content_encoding && headers.empty() && !delivery_mode && !priority &&
           !correlation_id && !reply_to && !expiration && !message_id && !timestamp && !type &&
           !user_id && !app_id && !cluster_id;
}

std::ostream& operator<<(std::ostream& os, const BasicProperties& p) {
    os << '{';
    const char* sep = "";
    auto field = [&](const char* name, const auto& value) {
        os << sep << name << ": " << value;
        sep = ", ";
    };
    auto text = [&](const char* name, const std::optional<std::string>& v) {
        if (v) field(name, FieldValue(*v));
    };
    text("content_type", p.content_type);
    text("content_encoding", p.content_encoding);
    if (!p.headers.empty()) field("headers", p.headers);
    if (p.delivery_mode) field("delivery_mode", static_cast<unsigned>(*p.delivery_mode));
    if (p.priority) field("priority", static_cast<unsigned>(*p.priority));
    text("correlation_id", p.correlation_id);
    text("reply_to", p.reply_to);
    text("expiration", p.expiration);
    text("message_id", p.message_id);
    if (p.timestamp) field("timestamp", FieldValue(*p.timestamp));
    text("type", p.type);
    text("user_id", p.user_id);
    text("app_id", p.app_id);
    text("cluster_id", p.cluster_id);
    return os << '}';
}

std::ostream& operator<<(std::ostream& os, const Message& m) {
    return os << "Message{body: " << FieldValue(m.body) << ", properties: " << m.properties << '}';
}

}  // namespace warren
