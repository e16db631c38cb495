// A stream queue's log (rabbit_stream_queue over osiris), as RabbitMQ 3.10.8 keeps it on one
// node: messages appended with consecutive offsets from 0, in chunks grouped into segments;
// retention (x-max-length-bytes, x-max-age) drops whole segments, and only when a new segment
// is opened; each reader starts where its x-stream-offset says.
//
// A stream keeps a message as AMQP 1.0 (rabbit_msg_record), and a delivery converts it back:
// what survives that round trip is what to_stream_form keeps.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "warren/emulator/clock.hpp"
#include "warren/emulator/stored_message.hpp"
#include "warren/protocol/field_value.hpp"

namespace warren::emulator {

/// Where a stream reader starts (osiris's offset spec).
struct StreamStart {
    enum class From : std::uint8_t { First, Last, Next, Offset, Time };
    From from = From::Next;
    std::int64_t offset = 0;
    /// From::Time: the first chunk published at or after it.
    TimePoint time{};
};

/// RabbitMQ's statistics interval (collect_statistics_interval): a stream's queue.declare-ok
/// counts the messages it held at the last such tick of the node, every 5 s.
inline constexpr Duration statistics_interval{5000};
/// The last statistics tick at or before `now` (ticks fall on multiples of the interval).
inline TimePoint last_statistics_tick(TimePoint now) {
    return TimePoint{now.time_since_epoch() - now.time_since_epoch() % statistics_interval};
}

/// x-stream-offset as rabbit_stream_queue:parse_offset_arg/1 reads it; assumes the queue type's
/// check_consume accepted it.
StreamStart stream_start(const FieldValue* offset, TimePoint now);

/// Why a message cannot be written to a stream: a header RabbitMQ's conversion has no clause
/// for (a decimal) crashes the publishing channel.
bool stream_refuses(const StoredMessage& message);

/// The message as a stream gives it back: cluster_id dropped, array and table headers dropped
/// (rabbit_msg_record has no AMQP 1.0 form for them), the CC keys no longer routing keys.
MessagePtr to_stream_form(const StoredMessage& message);

/// A delivery of the entry at `offset`: its headers sorted by key with x-stream-offset set
/// (rabbit_basic:add_header sorts the table).
StoredMessage stream_delivery(const StoredMessage& stored, std::uint64_t offset);

/// The bytes a message takes in a segment file (osiris's record within its chunk), which
/// x-max-length-bytes and x-stream-max-segment-size-bytes count.
std::uint64_t stream_record_size(const StoredMessage& stored);

// osiris 1.3.1's on-disk sizes: a segment file's header; a chunk's header; a record's length
// prefix; a chunk trailer's entry for the channel that wrote it and a tracking snapshot's
// entry per writer, for a writer id of 34 bytes (RabbitMQ's is the channel's pid, "_-" and 22
// characters: warren takes a pid of 10 characters, "<0.1234.0>").
inline constexpr std::uint64_t segment_header_size = 8;
inline constexpr std::uint64_t chunk_header_size = 48;
inline constexpr std::uint64_t record_header_size = 4;
inline constexpr std::uint64_t writer_id_size = 34;
inline constexpr std::uint64_t trailer_entry_size = 10 + writer_id_size;
inline constexpr std::uint64_t snapshot_entry_size = 18 + writer_id_size;

/// A chunk: one published message, or (message null) a tracking snapshot, which takes an
/// offset that no reader is given.
struct StreamEntry {
    MessagePtr message;
    TimePoint timestamp{};
};

class StreamLog {
public:
    /// osiris's default segment size: 500 MB.
    static constexpr std::uint64_t default_max_segment_size = 500'000'000;

    StreamLog(std::uint64_t max_segment_size, std::optional<std::uint64_t> max_bytes,
              std::optional<Duration> max_age);

    /// Appends a message published at `now` by `writer` (one per publishing channel) as a
    /// chunk of its own; returns its offset.
    std::uint64_t append(MessagePtr message, TimePoint now, std::uint64_t writer);
    /// What the stream's writer does before any request, a reader attaching included: when
    /// the current segment is full and something was ever published, it opens a new segment
    /// with a tracking snapshot and applies retention.
    void attach(TimePoint now);

    /// The first offset still kept (the next one when the stream is empty).
    std::uint64_t first_offset() const noexcept { return first_; }
    /// The offset the next chunk gets.
    std::uint64_t next_offset() const noexcept { return first_ + entries_.size(); }
    bool empty() const noexcept { return entries_.empty(); }
    /// Messages kept (tracking snapshots aside).
    std::size_t size() const noexcept { return messages_; }
    /// Messages kept that were published before `t`.
    std::size_t size_before(TimePoint t) const;
    const StreamEntry& at(std::uint64_t offset) const { return entries_[offset - first_]; }
    /// Where a reader starting at `start` reads first (it may lie beyond next_offset: an
    /// integer offset past the end waits for that offset).
    std::uint64_t resolve(const StreamStart& start) const;
    /// The bytes its segment files hold.
    std::uint64_t bytes() const noexcept;
    std::size_t segment_count() const noexcept { return segments_.size(); }

    /// What a data directory keeps of the log besides its entries (osiris's segment files
    /// and the tracking its writer recovers from the last of them).
    struct Layout {
        std::uint64_t first = 0;
        /// The tracked writers, in the order they were first seen.
        std::vector<std::uint64_t> writers;
        /// Each segment's first offset and size in bytes, oldest first.
        std::vector<std::pair<std::uint64_t, std::uint64_t>> segments;
    };
    Layout layout() const;
    /// Rebuilds an empty log as a restarted node finds it on disk: `layout`, then the entries
    /// from layout.first on, in order. Retention is not applied (osiris applies it when a
    /// segment is next opened). Throws std::invalid_argument, changing nothing, when the two do
    /// not fit together.
    void restore(Layout layout, std::vector<StreamEntry> entries);

private:
    struct Segment {
        std::uint64_t first_offset = 0;
        std::uint64_t count = 0;
        std::uint64_t bytes = segment_header_size;
        TimePoint last_timestamp{};
    };
    bool full() const noexcept { return !segments_.empty() && segments_.back().bytes >= max_segment_size_; }
    /// Writes a chunk of `size` bytes, in a new segment when the current one is full; returns
    /// whether it opened one.
    bool write_chunk(StreamEntry entry, std::uint64_t size);
    /// A tracking snapshot when the current segment is full; returns whether it wrote one.
    bool snapshot_if_full(TimePoint now);
    void apply_retention(TimePoint now);

    std::uint64_t max_segment_size_;
    std::optional<std::uint64_t> max_bytes_;
    std::optional<Duration> max_age_;
    std::deque<StreamEntry> entries_;
    std::deque<Segment> segments_;
    std::uint64_t first_ = 0;
    std::size_t messages_ = 0;
    std::vector<std::uint64_t> writers_;
    /// The offsets of the tracking snapshots kept, ascending.
    std::deque<std::uint64_t> snapshots_;
};

}  // namespace warren::emulator
