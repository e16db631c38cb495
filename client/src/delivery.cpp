#include "warren/delivery.hpp"

#include <ostream>

namespace warren {

std::ostream& operator<<(std::ostream& os, const Delivery& d) {
    os << "Delivery{tag: " << d.delivery_tag << ", redelivered: " << (d.redelivered ? "true" : "false")
       << ", exchange: " << FieldValue(d.exchange) << ", routing_key: " << FieldValue(d.routing_key);
    if (!d.consumer_tag.empty()) os << ", consumer_tag: " << FieldValue(d.consumer_tag);
    else os << ", message_count: " << d.message_count;
    return os << ", body: " << FieldValue(d.message.body) << ", properties: " << d.message.properties
              << '}';
}

std::ostream& operator<<(std::ostream& os, const Returned& r) {
    return os << "Returned{" << r.reply_code << " " << r.reply_text << ", exchange: "
              << FieldValue(r.exchange) << ", routing_key: " << FieldValue(r.routing_key)
              << ", body: " << FieldValue(r.message.body) << ", properties: " << r.message.properties
              << '}';
}

std::ostream& operator<<(std::ostream& os, const Confirm& c) {
    return os << "Confirm{" << (c.ack ? "ack" : "nack") << ' ' << c.delivery_tag
              << (c.multiple ? " multiple" : "") << '}';
}

}  // namespace warren
