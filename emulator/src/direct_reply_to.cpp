// Direct reply-to (rabbit_channel's reply_consumer): replies published to
// amq.rabbitmq.reply-to.<suffix> through the default exchange go straight to the channel's
// no-ack reply consumer.
#include "model.hpp"

#include <algorithm>
#include <charconv>

namespace warren::emulator {

/// The suffix naming `ch`'s reply consumer: "<connection>.<channel>.<random key>" (hex ids).
/// Clients treat it as opaque; the key tells a later reply consumer on the same channel
/// from an earlier one, as rabbit_direct_reply_to's key does.
std::string Model::reply_suffix(const ChannelState& ch) {
    return fmt::format("{:x}.{:x}.{}", ch.connection->id, ch.id,
                       s_.generate_name("k").substr(2));
}

/// The channel whose current reply consumer `name` (amq.rabbitmq.reply-to.<suffix>) names,
/// or null: a suffix that does not decode, a channel gone, cancelled or consuming anew.
ChannelState* Model::reply_channel(std::string_view name) {
    const std::string_view suffix = name.substr(reply_to_prefix.size());
    const char* p = suffix.data();
    const char* end = p + suffix.size();
    ConnectionId connection = 0;
    ChannelId channel = 0;
    auto r = std::from_chars(p, end, connection, 16);
    if (r.ec != std::errc{} || r.ptr == end || *r.ptr != '.') return nullptr;
    r = std::from_chars(r.ptr + 1, end, channel, 16);
    if (r.ec != std::errc{} || r.ptr == end || *r.ptr != '.') return nullptr;
    ChannelState* ch = s_.find_channel(ChannelRef{connection, channel});
    if (!ch || !ch->reply_consumer || ch->reply_consumer->suffix != suffix) return nullptr;
    return ch;
}

/// rabbit_exchange:route/2 on the default exchange: each distinct routing key (CC and BCC
/// included) naming a reply consumer delivers the message to it directly, with the publish's
/// routing key, never redelivered, under the channel's next delivery tag, which the delivery
/// does not use up (rabbit_channel handle_cast deliver_reply). Such keys reach no queue.
void Model::deliver_replies(const MessagePtr& message) {
    std::vector<std::string_view> keys;
    auto note = [&](std::string_view key) {
        if (key.starts_with(reply_to_prefix) && std::find(keys.begin(), keys.end(), key) == keys.end())
            keys.push_back(key);
    };
    note(message->routing_key());
    for (const std::string& k : message->extra_routing_keys()) note(k);
    for (std::string_view key : keys) {
        ChannelState* ch = reply_channel(key);
        if (!ch) continue;  // dropped silently, as RabbitMQ does
        ch->connection->sink->on_deliver(
            ch->id, DeliverEvent{ch->reply_consumer->tag, ch->next_delivery_tag, false, *message});
    }
}

}  // namespace warren::emulator
