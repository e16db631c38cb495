#include "journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "broker_state.hpp"
#include "journal_codec.hpp"

namespace warren::emulator {

namespace {

using protocol::Bytes;
using protocol::ByteView;
using protocol::Reader;
using protocol::Writer;

constexpr char magic[8] = {'W', 'A', 'R', 'R', 'E', 'N', 'J', '1'};
constexpr std::size_t record_header = 4 + 4;
/// A record larger than this is taken for a corrupt length.
constexpr std::uint32_t max_record = 1u << 30;

std::uint32_t record_size(const Bytes& payload) {
    return static_cast<std::uint32_t>(std::min<std::size_t>(record_header + 1 + payload.size(), UINT32_MAX));
}

std::string errno_text(int e) { return std::strerror(e); }

[[noreturn]] void fail(std::string message) { throw DataDirError(std::move(message)); }

void write_all(int fd, const std::uint8_t* data, std::size_t n, const std::filesystem::path& file) {
    while (n > 0) {
        const ssize_t w = ::write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            fail(fmt::format("cannot write {}: {}", file.string(), errno_text(errno)));
        }
        data += w;
        n -= static_cast<std::size_t>(w);
    }
}

void sync_fd(int fd, const std::filesystem::path& file) {
    if (::fdatasync(fd) != 0) fail(fmt::format("cannot sync {}: {}", file.string(), errno_text(errno)));
}

void sync_dir(const std::filesystem::path& dir) {
    const ScopedFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() >= 0) ::fsync(fd.get());
}

}  // namespace

void ScopedFd::reset(int fd) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

// ---- CRC-32 (the reflected 0xEDB88320 polynomial of zlib and Ethernet) -------------------------

std::uint32_t crc32(ByteView bytes) noexcept {
    static const std::array<std::uint32_t, 256> table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    std::uint32_t c = 0xFFFFFFFFu;
    for (std::uint8_t b : bytes) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

// ---- DurableMark ------------------------------------------------------------------------------

void DurableMark::release() noexcept {
    if (!journal_) return;
    Journal* j = journal_;
    journal_ = nullptr;
    try {
        j->message_deleted(id_);
    } catch (...) {
        // Only a failed allocation can throw here; the record is lost, the message comes back.
    }
}

// ---- opening and replaying --------------------------------------------------------------------

Journal::Journal(std::filesystem::path dir, DataDirOptions options)
    : dir_(std::move(dir)), file_(dir_ / "warren.journal"), options_(options) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) fail(fmt::format("cannot create the data directory {}: {}", dir_.string(), ec.message()));
    const std::filesystem::path lock = dir_ / "warren.lock";
    // A failure below throws out of the constructor; the ScopedFd members opened so far close.
    lock_fd_.reset(::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (lock_fd_.get() < 0) fail(fmt::format("cannot open {}: {}", lock.string(), errno_text(errno)));
    if (::flock(lock_fd_.get(), LOCK_EX | LOCK_NB) != 0)
        fail(fmt::format("the data directory {} is in use by another process", dir_.string()));
    fd_.reset(::open(file_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (fd_.get() < 0) fail(fmt::format("cannot open {}: {}", file_.string(), errno_text(errno)));
    replay();
}

void Journal::replay() {
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) fail(fmt::format("cannot read {}: {}", file_.string(), errno_text(errno)));
    const auto size = static_cast<std::uint64_t>(st.st_size);
    file_size_ = size;
    if (size == 0) return;
    Bytes data(size);
    std::size_t have = 0;
    while (have < size) {
        const ssize_t r = ::pread(fd_.get(), data.data() + have, size - have, static_cast<off_t>(have));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) fail(fmt::format("cannot read {}: {}", file_.string(), r < 0 ? errno_text(errno) : "short read"));
        have += static_cast<std::size_t>(r);
    }
    if (size < sizeof magic || std::memcmp(data.data(), magic, sizeof magic) != 0) {
        // Not ours: refuse rather than overwrite someone's file.
        if (size >= sizeof magic || std::memcmp(data.data(), magic, static_cast<std::size_t>(size)) != 0)
            fail(fmt::format("{} is not a warren journal (no WARRENJ1 header)", file_.string()));
        image_.warnings.push_back(fmt::format("{}: the header is cut short; starting empty", file_.string()));
        return;
    }
    std::size_t pos = sizeof magic;
    std::size_t records = 0;
    while (pos < size) {
        const std::size_t left = size - pos;
        std::string problem;
        std::uint32_t length = 0;
        std::uint32_t checksum = 0;
        if (left < record_header + 1) {
            problem = "a record cut short";
        } else {
            Reader r(ByteView(data).subspan(pos, record_header));
            r.u32(length);
            r.u32(checksum);
            if (length == 0 || length > max_record) problem = fmt::format("a record length of {} bytes", length);
            else if (length > left - record_header) problem = "a record cut short";
            else if (crc32(ByteView(data).subspan(pos + record_header, length)) != checksum)
                problem = "a record failing its checksum";
        }
        if (problem.empty()) {
            const ByteView body = ByteView(data).subspan(pos + record_header, length);
            const auto type = static_cast<Type>(body[0]);
            try {
                apply(type, body.subspan(1));
            } catch (const std::exception& e) {
                problem = fmt::format("a record that does not decode ({})", e.what());
            }
        }
        if (!problem.empty()) {
            // Keep the bad tail for a look; the compaction at open leaves it out of the journal.
            std::filesystem::path aside = file_;
            for (int n = 1;; ++n) {
                aside = dir_ / fmt::format("warren.journal.bad-{}", n);
                if (!std::filesystem::exists(aside)) break;
            }
            const ScopedFd out(::open(aside.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
            if (out.get() >= 0) write_all(out.get(), data.data() + pos, size - pos, aside);
            image_.warnings.push_back(fmt::format(
                "{}: {} at byte {} after {} good records; the {} bytes from there are skipped (kept in {})",
                file_.string(), problem, pos, records, size - pos, aside.filename().string()));
            break;
        }
        pos += record_header + length;
        ++records;
    }
    image_.next_id = next_id_;
}

void Journal::apply(Type type, ByteView payload) {
    Reader r(payload);
    JournalImage& im = image_;
    const auto bump = [&](std::uint64_t id) { next_id_ = std::max(next_id_, id + 1); };
    switch (type) {
        case Type::Security:
            codec::check_security(payload);
            im.security = std::string(protocol::as_chars(payload));
            // A vhost that is gone takes its exchanges, queues and bindings along.
            {
                const std::vector<std::string> vhosts = codec::security_vhosts(payload);
                const auto gone = [&](const std::string& v) {
                    return std::find(vhosts.begin(), vhosts.end(), v) == vhosts.end();
                };
                std::erase_if(im.exchanges, [&](const auto& e) { return gone(e.first.first); });
                std::erase_if(im.queues, [&](const auto& e) { return gone(e.second.vhost); });
                std::erase_if(im.bindings, [&](const auto& e) { return gone(e.second); });
                std::erase_if(im.streams, [&](const auto& e) { return !im.queues.contains(e.first); });
            }
            return;
        case Type::ExchangePut: {
            const auto [vhost, name] = codec::read_vhost_and_name(r);
            im.exchanges[{vhost, name}] = std::string(protocol::as_chars(payload));
            return;
        }
        case Type::ExchangeDelete: {
            const auto vhost_and_name = codec::read_vhost_and_name(r);
            const std::string& vhost = vhost_and_name.first;
            const std::string& name = vhost_and_name.second;
            im.exchanges.erase({vhost, name});
            std::erase_if(im.bindings, [&](const auto& b) {
                return b.second == vhost && codec::binding_touches_exchange(b.first, name);
            });
            return;
        }
        case Type::QueuePut: {
            std::uint64_t id = 0;
            if (!r.u64(id)) throw std::runtime_error("queue id");
            bump(id);
            const auto [vhost, name] = codec::read_vhost_and_name(r);
            im.queues[id] = JournalImage::QueueRecord{vhost, name, std::string(protocol::as_chars(payload))};
            return;
        }
        case Type::QueueDelete: {
            std::uint64_t id = 0;
            if (!r.u64(id)) throw std::runtime_error("queue id");
            auto it = im.queues.find(id);
            if (it == im.queues.end()) return;
            const std::string vhost = it->second.vhost;
            const std::string name = it->second.name;
            im.queues.erase(it);
            im.streams.erase(id);
            std::erase_if(im.bindings, [&](const auto& b) {
                return b.second == vhost && codec::binding_to_queue(b.first, name);
            });
            return;
        }
        case Type::BindingPut:
        case Type::BindingDelete: {
            const auto [vhost, name] = codec::read_vhost_and_name(r);  // the source
            (void)name;
            const std::string key(protocol::as_chars(payload));
            if (type == Type::BindingPut) im.bindings[key] = vhost;
            else im.bindings.erase(key);
            return;
        }
        case Type::MessagePut: {
            const codec::MessageHead head = codec::read_message_head(payload);
            bump(head.id);
            JournalImage::MessageRecord& m = im.messages[head.id];
            m.queue = head.queue;
            m.payload = std::string(protocol::as_chars(payload));
            m.sequence = head.sequence;
            m.delivery_count = head.delivery_count;
            m.redelivered = head.redelivered;
            m.out = false;
            return;
        }
        case Type::MessageDelete:
        case Type::MessageDelivered:
        case Type::MessageRequeued: {
            std::uint64_t id = 0;
            if (!r.u64(id)) throw std::runtime_error("message id");
            if (type == Type::MessageDelete) {
                im.messages.erase(id);
                return;
            }
            auto it = im.messages.find(id);
            if (it == im.messages.end()) return;
            if (type == Type::MessageDelivered) {
                it->second.out = true;
                it->second.out_order = ++out_order_;
                return;
            }
            std::uint64_t sequence = 0;
            std::uint32_t count = 0;
            if (!r.u64(sequence) || !r.u32(count)) throw std::runtime_error("requeue");
            it->second.sequence = sequence;
            it->second.delivery_count = count;
            it->second.redelivered = true;
            it->second.out = false;
            return;
        }
        case Type::StreamLayout:
        case Type::StreamEntry:
        case Type::StreamAppend:
        case Type::StreamAttach: {
            const std::uint64_t queue = codec::read_stream_queue(payload);
            if (!im.queues.contains(queue)) throw std::runtime_error("a stream record for no queue");
            JournalImage::StreamRecord& stream = im.streams[queue];
            std::string body(protocol::as_chars(payload));
            if (type == Type::StreamLayout) {
                stream = JournalImage::StreamRecord{std::move(body), {}, {}};
            } else if (type == Type::StreamEntry) {
                if (!stream.layout || !stream.changes.empty()) throw std::runtime_error("a stream entry out of place");
                stream.entries.push_back(std::move(body));
            } else {
                stream.changes.emplace_back(static_cast<std::uint8_t>(type), std::move(body));
            }
            return;
        }
    }
    throw std::runtime_error(fmt::format("unknown record type {}", static_cast<int>(type)));
}

// ---- recording --------------------------------------------------------------------------------

void Journal::append_record(Bytes& out, Type type, const Bytes& payload) {
    Writer w(out);
    const std::size_t length = payload.size() + 1;
    w.u32(static_cast<std::uint32_t>(length));
    const std::size_t crc_at = out.size();
    w.u32(0);
    w.u8(static_cast<std::uint8_t>(type));
    w.raw(ByteView(payload));
    const std::uint32_t c = crc32(ByteView(out).subspan(crc_at + 4, length));
    out[crc_at] = static_cast<std::uint8_t>(c >> 24);
    out[crc_at + 1] = static_cast<std::uint8_t>(c >> 16);
    out[crc_at + 2] = static_cast<std::uint8_t>(c >> 8);
    out[crc_at + 3] = static_cast<std::uint8_t>(c);
}

void Journal::append(Type type, const Bytes& payload) {
    if (capture_) {
        append_record(*capture_, type, payload);
        return;
    }
    if (!recording_) return;
    append_record(buffer_, type, payload);
    // What this record makes dead, itself included where it only says something is gone.
    const std::uint64_t size = record_header + 1 + payload.size();
    switch (type) {
        case Type::MessageDelete: {
            garbage_bytes_ += size;
            Reader r{ByteView(payload)};
            std::uint64_t id = 0;
            if (r.u64(id)) {
                if (auto it = record_bytes_.find(id); it != record_bytes_.end()) {
                    garbage_bytes_ += it->second;
                    record_bytes_.erase(it);
                }
            }
            break;
        }
        case Type::MessageDelivered:
        case Type::MessageRequeued:
            garbage_bytes_ += size;
            break;
        case Type::QueueDelete: {
            garbage_bytes_ += 2 * size;
            Reader r{ByteView(payload)};
            std::uint64_t id = 0;
            if (r.u64(id)) {
                if (auto it = stream_bytes_.find(id); it != stream_bytes_.end()) {
                    for (std::uint32_t bytes : it->second) garbage_bytes_ += bytes;
                    stream_bytes_.erase(it);
                }
            }
            break;
        }
        case Type::ExchangeDelete:
        case Type::BindingDelete:
            garbage_bytes_ += 2 * size;
            break;
        case Type::Security:
            garbage_bytes_ += last_security_bytes_;
            last_security_bytes_ = size;
            break;
        default:
            break;
    }
}

void Journal::security(const BrokerState& s) {
    if (!recording_ && !capture_) return;
    append(Type::Security, codec::encode_security(s));
}

void Journal::exchange_put(const VHost& v, const Exchange& x) {
    if (!recording_ && !capture_) return;
    append(Type::ExchangePut, codec::encode_exchange(v, x));
}

void Journal::exchange_delete(const VHost& v, const Exchange& x) {
    if (!recording_) return;
    append(Type::ExchangeDelete, codec::encode_vhost_and_name(v.name, x.name()));
}

std::uint64_t Journal::queue_put(const VHost& v, const Queue& q, std::uint64_t id) {
    if (id == 0) id = next_id_++;
    if (recording_ || capture_) append(Type::QueuePut, codec::encode_queue(id, v, q));
    return id;
}

void Journal::queue_delete(std::uint64_t id) {
    if (!recording_) return;
    Bytes payload;
    Writer(payload).u64(id);
    append(Type::QueueDelete, payload);
}

void Journal::binding_put(const VHost& v, const Binding& b) {
    if (!recording_ && !capture_) return;
    append(Type::BindingPut, codec::encode_binding(v, b));
}

void Journal::binding_delete(const VHost& v, const Binding& b) {
    if (!recording_) return;
    append(Type::BindingDelete, codec::encode_binding(v, b));
}

DurableMark Journal::message_put(std::uint64_t queue_id, const QueuedMessage& m) {
    const std::uint64_t id = next_id_++;
    message_record(queue_id, m, id);
    return DurableMark(this, id);
}

void Journal::message_record(std::uint64_t queue_id, const QueuedMessage& m, std::uint64_t id) {
    if (!recording_ && !capture_) return;
    const protocol::Bytes payload = codec::encode_message(id, queue_id, m);
    record_bytes_[id] = record_size(payload);
    append(Type::MessagePut, payload);
}

void Journal::message_delivered(std::uint64_t id) {
    if (!recording_ && !capture_) return;
    Bytes payload;
    Writer(payload).u64(id);
    append(Type::MessageDelivered, payload);
}

void Journal::message_requeued(std::uint64_t id, const QueuedMessage& m) {
    if (!recording_) return;
    Bytes payload;
    Writer w(payload);
    w.u64(id);
    w.u64(m.sequence);
    w.u32(m.delivery_count);
    append(Type::MessageRequeued, payload);
}

void Journal::message_deleted(std::uint64_t id) {
    if (!recording_) return;
    Bytes payload;
    Writer(payload).u64(id);
    append(Type::MessageDelete, payload);
}

void Journal::stream_layout(std::uint64_t queue_id, const StreamLog::Layout& layout) {
    if (!recording_ && !capture_) return;
    stream_bytes_[queue_id].clear();
    append(Type::StreamLayout, codec::encode_stream_layout(queue_id, layout));
}

void Journal::stream_entry(std::uint64_t queue_id, const StreamEntry& entry) {
    if (!recording_ && !capture_) return;
    const Bytes payload = codec::encode_stream_entry(queue_id, entry);
    stream_bytes_[queue_id].push_back(record_size(payload));
    append(Type::StreamEntry, payload);
}

void Journal::stream_append(std::uint64_t queue_id, TimePoint at, std::uint64_t writer, const StoredMessage& message,
                            std::uint64_t entries) {
    if (!recording_) return;
    const Bytes payload = codec::encode_stream_append(queue_id, at, writer, message);
    // A tracking snapshot written before the message costs no record of its own.
    auto& sizes = stream_bytes_[queue_id];
    for (; entries > 1; --entries) sizes.push_back(0);
    sizes.push_back(record_size(payload));
    append(Type::StreamAppend, payload);
}

void Journal::stream_attach(std::uint64_t queue_id, TimePoint at) {
    if (!recording_) return;
    const Bytes payload = codec::encode_stream_attach(queue_id, at);
    stream_bytes_[queue_id].push_back(record_size(payload));  // the tracking snapshot it wrote
    append(Type::StreamAttach, payload);
}

void Journal::stream_trimmed(std::uint64_t queue_id, std::uint64_t count) {
    if (!recording_) return;
    auto it = stream_bytes_.find(queue_id);
    if (it == stream_bytes_.end()) return;
    for (; count > 0 && !it->second.empty(); --count) {
        garbage_bytes_ += it->second.front();
        it->second.pop_front();
    }
}

// ---- making it durable ------------------------------------------------------------------------

void Journal::commit() {
    if (buffer_.empty()) return;
    if (file_size_ == 0) {
        write_all(fd_.get(), reinterpret_cast<const std::uint8_t*>(magic), sizeof magic, file_);
        file_size_ = sizeof magic;
    }
    Bytes out;
    out.swap(buffer_);
    write_all(fd_.get(), out.data(), out.size(), file_);
    file_size_ += out.size();
    if (options_.fsync) sync_fd(fd_.get(), file_);
}

bool Journal::wants_compaction() const noexcept {
    return file_size_ > options_.compact_min_bytes && garbage_bytes_ > file_size_ / 2;
}

void Journal::rewrite(const Bytes& records) {
    const std::filesystem::path next = dir_ / "warren.journal.next";
    {
        const ScopedFd fd(::open(next.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (fd.get() < 0) fail(fmt::format("cannot create {}: {}", next.string(), errno_text(errno)));
        write_all(fd.get(), reinterpret_cast<const std::uint8_t*>(magic), sizeof magic, next);
        write_all(fd.get(), records.data(), records.size(), next);
        if (options_.fsync) sync_fd(fd.get(), next);
    }
    if (::rename(next.c_str(), file_.c_str()) != 0)
        fail(fmt::format("cannot rename {} to {}: {}", next.string(), file_.string(), errno_text(errno)));
    if (options_.fsync) sync_dir(dir_);
    fd_.reset(::open(file_.c_str(), O_RDWR | O_APPEND | O_CLOEXEC));
    if (fd_.get() < 0) fail(fmt::format("cannot open {}: {}", file_.string(), errno_text(errno)));
    file_size_ = sizeof magic + records.size();
    garbage_bytes_ = 0;
    buffer_.clear();
}

}  // namespace warren::emulator
