// A stream's log: what a message keeps of itself in a stream, the log's offsets, segments and
// retention (osiris_log), and where a reader starts.
#include "stream.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <vector>

namespace warren::emulator {

bool stream_refuses(const StoredMessage& message) {
    for (const auto& [key, value] : message.properties().headers)
        if (value.type() == FieldValue::Type::Decimal) return true;
    return false;
}

namespace {

bool kept_in_stream(const FieldValue& v) {
    return v.type() != FieldValue::Type::Array && v.type() != FieldValue::Type::Table;
}

}  // namespace

// rabbit_msg_record:from_amqp091/2 and to_amqp091/1: every property but cluster_id has an AMQP
// 1.0 place; a header does unless it is an array or a table (unsupported_header_value_type).
// The headers are kept sorted by key, as every delivery gives them (stream_delivery).
MessagePtr to_stream_form(const StoredMessage& message) {
    Message copy = message.to_message();
    copy.properties.cluster_id.reset();
    std::vector<FieldTable::Entry> kept;
    for (const auto& entry : copy.properties.headers.entries())
        if (kept_in_stream(entry.second)) kept.push_back(entry);
    std::stable_sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    FieldTable headers;
    for (auto& [key, value] : kept) headers.set(std::move(key), std::move(value));
    // Written anew, as a delivery from the stream encodes them (an unsigned long as a long).
    reencode_headers(headers);
    copy.properties.headers = std::move(headers);
    return std::make_shared<const StoredMessage>(message.exchange(), message.routing_key(), std::move(copy));
}

// rabbit_misc:set_table_value/4: x-stream-offset set in place or added, the table sorted by
// key; the stored headers are sorted already, so the offset goes in at its place.
StoredMessage stream_delivery(const StoredMessage& stored, std::uint64_t offset) {
    static constexpr std::string_view key = "x-stream-offset";
    Message m = stored.to_message();
    const FieldValue value{static_cast<std::int64_t>(offset)};
    FieldTable headers;
    bool placed = false;
    for (const auto& [k, v] : m.properties.headers) {
        if (!placed && k >= key) {
            headers.set(std::string(key), value);
            placed = true;
            if (k == key) continue;
        }
        headers.set(k, v);
    }
    if (!placed) headers.set(std::string(key), value);
    m.properties.headers = std::move(headers);
    return StoredMessage(stored.exchange(), stored.routing_key(), std::move(m));
}

namespace {

// Sizes of AMQP 1.0 encodings (amqp10_binary_generator), as RabbitMQ 3.10.8 writes a message
// into a stream (rabbit_msg_record:from_amqp091/2).
std::uint64_t variable(std::uint64_t n) { return n < 255 ? 2 + n : 5 + n; }  // utf8, binary
std::uint64_t symbol(std::uint64_t n) { return 2 + n; }
// A list or map of `count` elements whose encodings take `bytes`.
std::uint64_t compound(std::uint64_t bytes, std::uint64_t count) {
    return bytes + 1 < 256 && count < 255 ? 3 + bytes : 9 + bytes;
}
std::uint64_t signed_integer(std::int64_t v, bool is_long) {
    if (v >= -128 && v <= 127) return 2;  // smallint / smalllong
    return is_long ? 9 : 5;
}

// A header value as rabbit_msg_record:from_091/2 converts it.
std::uint64_t header_value(const FieldValue& v) {
    using T = FieldValue::Type;
    switch (v.type()) {
        case T::Void: return 1;
        case T::Bool: return 1;
        case T::Int8: case T::UInt8: return 2;
        case T::Int16: case T::UInt16: return 3;
        case T::Int32: return signed_integer(v.as_int(), false);
        case T::UInt32: {
            const auto u = static_cast<std::uint64_t>(v.as_int());
            return u == 0 ? 1 : u < 256 ? 2 : 5;
        }
        case T::Int64: case T::UInt64: return signed_integer(v.as_int(), true);
        case T::Float: return 5;
        case T::Double: case T::Timestamp: return 9;
        case T::String: return variable(v.as_string().size());
        case T::Bytes: return variable(v.as_bytes().bytes.size());
        default: return 0;
    }
}

}  // namespace

std::uint64_t stream_record_size(const StoredMessage& stored) {
    const BasicProperties& p = stored.properties();
    // message-annotations: x-routing-key, x-exchange, then the x-basic-* ones that are set.
    std::uint64_t annotations = symbol(13) + variable(stored.routing_key().size()) + symbol(10) +
                                variable(stored.exchange().size());
    std::uint64_t count = 4;
    if (p.priority) annotations += symbol(16) + 2, count += 2;
    if (p.delivery_mode) annotations += symbol(21) + 2, count += 2;
    if (p.expiration) annotations += symbol(18) + variable(p.expiration->size()), count += 2;
    std::uint64_t size = 3 + compound(annotations, count);
    // properties: all 13 fields once any is set.
    std::uint64_t fields = 0;
    std::uint64_t present = 0;
    const auto field = [&](std::uint64_t bytes) { fields += bytes, ++present; };
    if (p.message_id) field(variable(p.message_id->size()));
    if (p.user_id) field(variable(p.user_id->size()));
    if (p.reply_to) field(variable(p.reply_to->size()));
    if (p.correlation_id) field(variable(p.correlation_id->size()));
    if (p.content_type) field(symbol(p.content_type->size()));
    if (p.content_encoding) field(symbol(p.content_encoding->size()));
    if (p.timestamp) field(9);
    if (present > 0) size += 3 + compound(fields + (13 - present), 13);
    // application-properties: x-basic-type, x-basic-app-id, then the headers it keeps.
    std::uint64_t application = 0;
    count = 0;
    if (p.type) application += variable(12) + variable(p.type->size()), count += 2;
    if (p.app_id) application += variable(14) + variable(p.app_id->size()), count += 2;
    for (const auto& [key, value] : p.headers) {
        if (value.type() == FieldValue::Type::Array || value.type() == FieldValue::Type::Table) continue;
        application += variable(key.size()) + header_value(value);
        count += 2;
    }
    if (count > 0) size += 3 + compound(application, count);
    return size + 3 + variable(stored.body_size());
}

StreamLog::StreamLog(std::uint64_t max_segment_size, std::optional<std::uint64_t> max_bytes,
                     std::optional<Duration> max_age)
    : max_segment_size_(max_segment_size), max_bytes_(max_bytes), max_age_(max_age) {}

bool StreamLog::write_chunk(StreamEntry entry, std::uint64_t size) {
    // osiris_log:write_chunk: a segment at or over its maximum size takes no more chunks.
    const bool opened = segments_.empty() || full();
    if (opened) segments_.push_back(Segment{next_offset()});
    Segment& s = segments_.back();
    s.bytes += size;
    ++s.count;
    s.last_timestamp = entry.timestamp;
    entries_.push_back(std::move(entry));
    return opened && segments_.size() > 1;
}

bool StreamLog::snapshot_if_full(TimePoint now) {
    // osiris_log:evaluate_tracking_snapshot: only once some writer is tracked.
    if (!full() || writers_.empty()) return false;
    snapshots_.push_back(next_offset());
    write_chunk(StreamEntry{nullptr, now},
                chunk_header_size + record_header_size + snapshot_entry_size * writers_.size());
    return true;
}

void StreamLog::attach(TimePoint now) {
    // Retention runs when a segment is opened, over the sizes once the batch is written.
    if (snapshot_if_full(now)) apply_retention(now);
}

std::uint64_t StreamLog::append(MessagePtr message, TimePoint now, std::uint64_t writer) {
    // osiris_writer tracks the batch's writer before it looks at the segment, so the tracking
    // snapshot a new writer's first message triggers counts that writer (osiris_tracking: at
    // most 255 writers are tracked).
    if (std::find(writers_.begin(), writers_.end(), writer) == writers_.end() && writers_.size() < 255)
        writers_.push_back(writer);
    const bool snapshot = snapshot_if_full(now);
    // The first chunk after a snapshot in the same batch carries no trailer.
    const std::uint64_t size = chunk_header_size + record_header_size + stream_record_size(*message) +
                               (snapshot ? 0 : trailer_entry_size);
    const std::uint64_t offset = next_offset();
    const bool opened = write_chunk(StreamEntry{std::move(message), now}, size);
    ++messages_;
    if (snapshot || opened) apply_retention(now);
    return offset;
}

void StreamLog::apply_retention(TimePoint now) {
    const auto drop_oldest = [&] {
        const Segment& s = segments_.front();
        for (std::uint64_t i = 0; i < s.count; ++i) {
            if (entries_.front().message) --messages_;
            entries_.pop_front();
        }
        first_ += s.count;
        segments_.pop_front();
        while (!snapshots_.empty() && snapshots_.front() < first_) snapshots_.pop_front();
    };
    // osiris_log eval_max_bytes: the newest segment stays; walking to older ones, each is kept
    // while it fits in what is left of the maximum; the first that does not goes, with every
    // older one.
    if (max_bytes_ && segments_.size() > 1) {
        std::uint64_t left = *max_bytes_ > segments_.back().bytes ? *max_bytes_ - segments_.back().bytes : 0;
        std::size_t keep = 1;
        for (auto it = segments_.rbegin() + 1; it != segments_.rend() && it->bytes <= left; ++it) {
            left -= it->bytes;
            ++keep;
        }
        while (segments_.size() > keep) drop_oldest();
    }
    // eval_age: oldest first, a segment whose last chunk is older than the maximum age goes,
    // until one is young enough; the newest stays.
    if (max_age_)
        while (segments_.size() > 1 && segments_.front().last_timestamp < now - *max_age_) drop_oldest();
}

StreamLog::Layout StreamLog::layout() const {
    Layout out{first_, writers_, {}};
    out.segments.reserve(segments_.size());
    for (const Segment& s : segments_) out.segments.emplace_back(s.first_offset, s.bytes);
    return out;
}

void StreamLog::restore(Layout layout, std::vector<StreamEntry> entries) {
    if (!entries_.empty() || !segments_.empty() || first_ != 0)
        throw std::invalid_argument("the stream has entries already");
    if (layout.writers.size() > 255) throw std::invalid_argument("more than 255 writers");
    if (layout.segments.empty() != entries.empty()) throw std::invalid_argument("entries without segments");
    const std::uint64_t next = layout.first + entries.size();
    if (next < layout.first) throw std::invalid_argument("offsets past the end");
    std::deque<Segment> segments;
    for (std::size_t i = 0; i < layout.segments.size(); ++i) {
        const auto [from, bytes] = layout.segments[i];
        const std::uint64_t to = i + 1 < layout.segments.size() ? layout.segments[i + 1].first : next;
        if ((i == 0 && from != layout.first) || to <= from || to > next || bytes < segment_header_size)
            throw std::invalid_argument("segments that do not cover the entries");
        segments.push_back(Segment{from, to - from, bytes, entries[to - 1 - layout.first].timestamp});
    }
    std::deque<std::uint64_t> snapshots;
    std::size_t messages = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        if (entries[i].message) ++messages;
        else snapshots.push_back(layout.first + i);
    }
    entries_.assign(std::make_move_iterator(entries.begin()), std::make_move_iterator(entries.end()));
    segments_ = std::move(segments);
    snapshots_ = std::move(snapshots);
    first_ = layout.first;
    messages_ = messages;
    writers_ = std::move(layout.writers);
}

std::size_t StreamLog::size_before(TimePoint t) const {
    auto end = std::lower_bound(entries_.begin(), entries_.end(), t,
                                [](const StreamEntry& e, TimePoint at) { return e.timestamp < at; });
    const auto chunks = static_cast<std::uint64_t>(end - entries_.begin());
    const auto snapshots = std::lower_bound(snapshots_.begin(), snapshots_.end(), first_ + chunks) - snapshots_.begin();
    return static_cast<std::size_t>(chunks - static_cast<std::uint64_t>(snapshots));
}

std::uint64_t StreamLog::bytes() const noexcept {
    std::uint64_t total = 0;
    for (const Segment& s : segments_) total += s.bytes;
    return total;
}

std::uint64_t StreamLog::resolve(const StreamStart& start) const {
    switch (start.from) {
        case StreamStart::From::First: return first_offset();
        case StreamStart::From::Next: return next_offset();
        case StreamStart::From::Last:
            // The last chunk of messages (one message each here); next on a stream without one.
            for (std::uint64_t o = next_offset(); o > first_offset(); --o)
                if (at(o - 1).message) return o - 1;
            return next_offset();
        case StreamStart::From::Offset:
            // rabbit_stream_queue reads from the offset asked for, whatever osiris attaches at.
            if (start.offset < 0) return first_offset();
            return std::max(static_cast<std::uint64_t>(start.offset), first_offset());
        case StreamStart::From::Time: {
            // The first chunk published at or after the time (timestamps in milliseconds).
            auto it = std::lower_bound(entries_.begin(), entries_.end(), start.time,
                                       [](const StreamEntry& e, TimePoint t) { return e.timestamp < t; });
            return first_offset() + static_cast<std::uint64_t>(it - entries_.begin());
        }
    }
    return next_offset();
}

}  // namespace warren::emulator
