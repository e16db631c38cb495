// The data directory: what a broker keeps across a restart of its process (RabbitMQ's Mnesia
// tables for durable exchanges, queues, bindings, vhosts, users and permissions, and its
// message store and queue indexes for persistent messages).
//
// One append-only file, DIR/warren.journal: an 8-byte magic, then records, each
//   u32 length of what follows the checksum | u32 CRC-32 of it | u8 type | payload
// big-endian, strings with a 32-bit length, tables in AMQP's encoding. Records say what changed
// (an exchange, queue or binding put or deleted; a message put into a queue, handed out,
// taken back, gone; a message appended to a stream, or an attach that wrote a tracking
// snapshot, and at a rewrite each stream's layout and entries; the vhosts, users and
// permissions as a whole). Reading replays them into a
// JournalImage; a record cut short or failing its checksum ends the replay with a warning (the
// bad tail is kept aside as warren.journal.bad-<n>). At open, and when half the file is dead
// records, the file is rewritten from the state (compaction): a new file, fsynced, renamed
// over the old.
//
// A queued message recorded in the journal carries a DurableMark: when the message leaves its
// queue for good (acknowledged, dropped, expired, dead-lettered, purged, deleted with its
// queue) the mark's destructor records that, so no path out of the model can forget it.
#pragma once

#include <algorithm>
#include <climits>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "durable_mark.hpp"
#include "stream.hpp"
#include "warren/emulator/broker.hpp"
#include "warren/protocol/wire.hpp"

namespace warren::emulator {

/// A file descriptor closed when its owner goes away, whichever way that is (a return, an
/// exception, the end of a Journal).
class ScopedFd {
public:
    ScopedFd() noexcept = default;
    explicit ScopedFd(int fd) noexcept : fd_(fd) {}
    ScopedFd(const ScopedFd&) = delete;
    ScopedFd& operator=(const ScopedFd&) = delete;
    ~ScopedFd() { reset(); }
    int get() const noexcept { return fd_; }
    /// Closes the descriptor held, if any, and holds fd instead.
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

class BrokerState;
class Exchange;
class Queue;
struct Binding;
struct QueuedMessage;
struct VHost;

/// What a replay of the journal found, before it is built into a BrokerState.
struct JournalImage {
    struct QueueRecord {
        std::string vhost;
        std::string name;
        std::string payload;
    };
    struct MessageRecord {
        std::uint64_t queue = 0;
        std::string payload;  // the MessagePut record's, without the changes below
        std::uint64_t sequence = 0;
        std::uint32_t delivery_count = 0;
        bool redelivered = false;
        /// Handed out and not taken back: unacknowledged when the process stopped.
        bool out = false;
        std::uint64_t out_order = 0;
    };
    std::optional<std::string> security;
    std::map<std::pair<std::string, std::string>, std::string> exchanges;  // (vhost, name) -> payload
    std::map<std::uint64_t, QueueRecord> queues;                           // by queue id
    std::map<std::string, std::string> bindings;                           // payload -> vhost
    std::unordered_map<std::uint64_t, MessageRecord> messages;
    /// A stream's records: the last compaction's layout and entries, then what changed since.
    struct StreamRecord {
        std::optional<std::string> layout;
        std::vector<std::string> entries;
        /// StreamAppend and StreamAttach records, in the order they were written.
        std::vector<std::pair<std::uint8_t, std::string>> changes;
    };
    std::map<std::uint64_t, StreamRecord> streams;  // by queue id
    std::uint64_t next_id = 1;
    std::vector<std::string> warnings;
};

class Journal {
public:
    enum class Type : std::uint8_t {
        Security = 1,
        ExchangePut,
        ExchangeDelete,
        QueuePut,
        QueueDelete,
        BindingPut,
        BindingDelete,
        MessagePut,
        MessageDelete,
        MessageDelivered,
        MessageRequeued,
        StreamLayout,
        StreamEntry,
        StreamAppend,
        StreamAttach,
    };

    /// Opens (creating it when absent) and locks the directory's journal and replays it.
    /// Throws DataDirError when the directory cannot be used (not creatable, locked by
    /// another process, not a warren journal).
    Journal(std::filesystem::path dir, DataDirOptions options);
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;

    /// The replayed state (once, after opening).
    JournalImage take_image() { return std::move(image_); }

    /// While false, changes are not written (a restore building the state, a broker going away).
    void set_recording(bool on) noexcept { recording_ = on; }
    bool recording() const noexcept { return recording_; }

    // ---- what changed ----
    void security(const BrokerState& s);
    void exchange_put(const VHost& v, const Exchange& x);
    void exchange_delete(const VHost& v, const Exchange& x);
    /// Returns the queue's id in the journal.
    std::uint64_t queue_put(const VHost& v, const Queue& q, std::uint64_t id = 0);
    void queue_delete(std::uint64_t id);
    void binding_put(const VHost& v, const Binding& b);
    void binding_delete(const VHost& v, const Binding& b);
    /// A message entering queue `queue_id`: recorded under a new id, which its mark keeps.
    DurableMark message_put(std::uint64_t queue_id, const QueuedMessage& m);
    /// The record of a message that has its id (a snapshot's).
    void message_record(std::uint64_t queue_id, const QueuedMessage& m, std::uint64_t id);
    /// The mark of a message read back from the journal.
    /// The mark of a message read back from the journal, whose record takes `record_bytes`.
    DurableMark adopt(std::uint64_t id, std::size_t record_bytes) {
        record_bytes_[id] = static_cast<std::uint32_t>(std::min<std::size_t>(record_bytes, UINT32_MAX));
        return DurableMark(this, id);
    }
    void message_delivered(std::uint64_t id);
    void message_requeued(std::uint64_t id, const QueuedMessage& m);
    void message_deleted(std::uint64_t id);
    /// A stream's layout, then each of its entries in offset order (a snapshot's).
    void stream_layout(std::uint64_t queue_id, const StreamLog::Layout& layout);
    void stream_entry(std::uint64_t queue_id, const StreamEntry& entry);
    /// What changes a stream: a message appended (adding `entries` to the log: 2 when a tracking
    /// snapshot went first), or an attach that wrote a tracking snapshot. Replayed through
    /// StreamLog, they rebuild its segments and retention exactly.
    void stream_append(std::uint64_t queue_id, TimePoint at, std::uint64_t writer, const StoredMessage& message,
                       std::uint64_t entries);
    void stream_attach(std::uint64_t queue_id, TimePoint at);
    /// Retention removed the stream's `count` oldest entries: their records are dead.
    void stream_trimmed(std::uint64_t queue_id, std::uint64_t count);

    // ---- making it durable ----
    /// Whether changes wait in memory for commit().
    bool pending() const noexcept { return !buffer_.empty(); }
    /// Writes what waits and, with DataDirOptions::fsync, fsyncs it. Throws DataDirError when
    /// the disk refuses.
    void commit();
    /// Whether the file is over DataDirOptions::compact_min_bytes and at least half of it is
    /// dead records (superseded, or saying what is gone, or putting what is gone). A rewrite
    /// thus costs at most twice what was appended since the last one.
    bool wants_compaction() const noexcept;
    /// Replaces the file with `records` (a whole state, as snapshot writers produce): written
    /// to a new file, fsynced, renamed over the old one.
    void rewrite(const protocol::Bytes& records);
    /// Appends one record to `out` (for rewrite's input).
    static void append_record(protocol::Bytes& out, Type type, const protocol::Bytes& payload);
    /// The record bodies of the current buffer go to `out` instead of the file (snapshots).
    void capture_into(protocol::Bytes* out) noexcept { capture_ = out; }

    const std::filesystem::path& file() const noexcept { return file_; }

private:
    void append(Type type, const protocol::Bytes& payload);
    void replay();
    void apply(Type type, protocol::ByteView payload);

    std::filesystem::path dir_;
    std::filesystem::path file_;
    DataDirOptions options_;
    ScopedFd lock_fd_;  // declared first, closed last: the lock outlives the journal's descriptor
    ScopedFd fd_;
    bool recording_ = true;
    protocol::Bytes buffer_;
    protocol::Bytes* capture_ = nullptr;
    std::uint64_t file_size_ = 0;
    std::uint64_t garbage_bytes_ = 0;  // dead records since the last rewrite
    std::uint64_t last_security_bytes_ = 0;
    /// The size of each live message's put record, by id: what its deletion makes dead.
    std::unordered_map<std::uint64_t, std::uint32_t> record_bytes_;
    /// The size of the record of each entry a stream keeps, oldest first, by queue id.
    std::unordered_map<std::uint64_t, std::deque<std::uint32_t>> stream_bytes_;
    std::uint64_t next_id_ = 1;
    std::uint64_t out_order_ = 0;
    JournalImage image_;
};

}  // namespace warren::emulator
