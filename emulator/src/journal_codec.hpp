// The payloads of the journal's records (journal.hpp), written and read back. Strings carry a
// 32-bit length, tables and message properties AMQP's own encoding, so that argument and
// header types come back exactly as they were declared and published.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "queue.hpp"
#include "stream.hpp"
#include "warren/protocol/wire.hpp"

namespace warren::emulator {

class BrokerState;
class Exchange;
struct Binding;
struct VHost;

std::uint32_t crc32(protocol::ByteView bytes) noexcept;

namespace codec {

using protocol::Bytes;
using protocol::ByteView;

/// Throws std::runtime_error on any decoding failure.
std::string read_string(protocol::Reader& r);

Bytes encode_vhost_and_name(std::string_view vhost, std::string_view name);
std::pair<std::string, std::string> read_vhost_and_name(protocol::Reader& r);

Bytes encode_security(const BrokerState& s);
void check_security(ByteView payload);
std::vector<std::string> security_vhosts(ByteView payload);
/// Replaces `s`'s vhosts (created afresh, with their predeclared exchanges), users,
/// permissions and global parameters with the record's.
void apply_security(ByteView payload, BrokerState& s);

Bytes encode_exchange(const VHost& v, const Exchange& x);
struct ExchangeRecord {
    std::string vhost, name, type;
    bool auto_delete = false;
    bool internal = false;
    FieldTable arguments;
};
ExchangeRecord decode_exchange(ByteView payload);

Bytes encode_queue(std::uint64_t id, const VHost& v, const Queue& q);
struct QueueRecord {
    std::uint64_t id = 0;
    std::string vhost, name, type;
    bool auto_delete = false;
    FieldTable arguments;
};
QueueRecord decode_queue(ByteView payload);

Bytes encode_binding(const VHost& v, const Binding& b);
struct BindingRecord {
    std::string vhost, source;
    bool to_queue = true;
    std::string destination, key;
    FieldTable arguments;
};
BindingRecord decode_binding(ByteView payload);
bool binding_touches_exchange(const std::string& payload, const std::string& exchange);
bool binding_to_queue(const std::string& payload, const std::string& queue);

Bytes encode_message(std::uint64_t id, std::uint64_t queue, const QueuedMessage& m);
struct MessageHead {
    std::uint64_t id = 0;
    std::uint64_t queue = 0;
    std::uint64_t sequence = 0;
    std::uint32_t delivery_count = 0;
    bool redelivered = false;
};
MessageHead read_message_head(ByteView payload);
/// The whole message (without its mark).
QueuedMessage decode_message(ByteView payload);

// A stream's records: its layout and entries as a compaction writes them, and what was
// appended or attached since. Each payload starts with the queue's id.
std::uint64_t read_stream_queue(ByteView payload);
Bytes encode_stream_layout(std::uint64_t queue, const StreamLog::Layout& layout);
StreamLog::Layout decode_stream_layout(ByteView payload);
Bytes encode_stream_entry(std::uint64_t queue, const StreamEntry& entry);
StreamEntry decode_stream_entry(ByteView payload);
Bytes encode_stream_append(std::uint64_t queue, TimePoint at, std::uint64_t writer, const StoredMessage& message);
struct StreamAppend {
    TimePoint at{};
    std::uint64_t writer = 0;
    MessagePtr message;
};
StreamAppend decode_stream_append(ByteView payload);
Bytes encode_stream_attach(std::uint64_t queue, TimePoint at);
TimePoint decode_stream_attach(ByteView payload);

}  // namespace codec
}  // namespace warren::emulator
