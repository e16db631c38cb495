#include "journal_codec.hpp"

#include <limits>
#include <stdexcept>

#include "broker_state.hpp"
#include "warren/protocol/content_header.hpp"

namespace warren::emulator::codec {

using protocol::Reader;
using protocol::Writer;

namespace {

[[noreturn]] void bad(const char* what) { throw std::runtime_error(what); }

void put(Writer& w, std::string_view s) { w.longstr(s); }

void put_table(Writer& w, const FieldTable& t) {
    if (w.table(t)) bad("table");
}

FieldTable read_table(Reader& r) {
    FieldTable t;
    if (protocol::read_field_table(r, t)) bad("table");
    return t;
}

std::uint8_t read_u8(Reader& r) {
    std::uint8_t v = 0;
    if (!r.u8(v)) bad("u8");
    return v;
}

std::uint32_t read_u32(Reader& r) {
    std::uint32_t v = 0;
    if (!r.u32(v)) bad("u32");
    return v;
}

std::uint64_t read_u64(Reader& r) {
    std::uint64_t v = 0;
    if (!r.u64(v)) bad("u64");
    return v;
}

void put_strings(Writer& w, const std::vector<std::string>& v) {
    w.u32(static_cast<std::uint32_t>(v.size()));
    for (const auto& s : v) put(w, s);
}

std::vector<std::string> read_strings(Reader& r) {
    const std::uint32_t n = read_u32(r);
    if (n > r.remaining() / 4) bad("list length");
    std::vector<std::string> out;
    out.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) out.push_back(read_string(r));
    return out;
}

struct Security {
    struct VHostRec {
        std::string name, description;
        std::vector<std::string> tags;
    };
    std::vector<VHostRec> vhosts;
    std::vector<User> users;
    std::vector<PermissionInfo> permissions;
    std::vector<std::pair<std::string, std::string>> global_parameters;
};

Security decode_security(ByteView payload) {
    Reader r(payload);
    Security s;
    for (std::uint32_t n = read_u32(r); n > 0; --n) {
        Security::VHostRec v;
        v.name = read_string(r);
        v.description = read_string(r);
        v.tags = read_strings(r);
        s.vhosts.push_back(std::move(v));
    }
    for (std::uint32_t n = read_u32(r); n > 0; --n) {
        User u;
        u.name = read_string(r);
        u.password_hash = read_string(r);
        u.tags = read_strings(r);
        s.users.push_back(std::move(u));
    }
    for (std::uint32_t n = read_u32(r); n > 0; --n) {
        PermissionInfo p;
        p.user = read_string(r);
        p.vhost = read_string(r);
        p.configure = read_string(r);
        p.write = read_string(r);
        p.read = read_string(r);
        s.permissions.push_back(std::move(p));
    }
    for (std::uint32_t n = read_u32(r); n > 0; --n) {
        std::string name = read_string(r);
        s.global_parameters.emplace_back(std::move(name), read_string(r));
    }
    if (!r.at_end()) bad("trailing bytes");
    return s;
}

}  // namespace

std::string read_string(Reader& r) {
    std::string s;
    if (!r.longstr(s)) bad("string");
    return s;
}

Bytes encode_vhost_and_name(std::string_view vhost, std::string_view name) {
    Bytes out;
    Writer w(out);
    put(w, vhost);
    put(w, name);
    return out;
}

std::pair<std::string, std::string> read_vhost_and_name(Reader& r) {
    std::string vhost = read_string(r);
    return {std::move(vhost), read_string(r)};
}

// ---- vhosts, users, permissions ---------------------------------------------------------------

Bytes encode_security(const BrokerState& s) {
    Bytes out;
    Writer w(out);
    w.u32(static_cast<std::uint32_t>(s.vhosts.size()));
    for (const auto& [name, v] : s.vhosts) {
        put(w, name);
        put(w, v->description);
        put_strings(w, v->tags);
    }
    w.u32(static_cast<std::uint32_t>(s.users.size()));
    for (const User& u : s.users) {
        put(w, u.name);
        put(w, u.password_hash);
        put_strings(w, u.tags);
    }
    w.u32(static_cast<std::uint32_t>(s.permissions.size()));
    for (const PermissionInfo& p : s.permissions) {
        put(w, p.user);
        put(w, p.vhost);
        put(w, p.configure);
        put(w, p.write);
        put(w, p.read);
    }
    w.u32(static_cast<std::uint32_t>(s.global_parameters.size()));
    for (const auto& [name, value] : s.global_parameters) {
        put(w, name);
        put(w, value);
    }
    return out;
}

void check_security(ByteView payload) { (void)decode_security(payload); }

std::vector<std::string> security_vhosts(ByteView payload) {
    std::vector<std::string> out;
    for (auto& v : decode_security(payload).vhosts) out.push_back(std::move(v.name));
    return out;
}

void apply_security(ByteView payload, BrokerState& s) {
    Security sec = decode_security(payload);
    s.vhosts.clear();
    for (auto& v : sec.vhosts) {
        VHost& created = s.add_vhost(v.name);
        created.description = std::move(v.description);
        created.tags = std::move(v.tags);
    }
    s.users = std::move(sec.users);
    s.permissions = std::move(sec.permissions);
    s.global_parameters = std::move(sec.global_parameters);
}

// ---- exchanges, queues, bindings --------------------------------------------------------------

Bytes encode_exchange(const VHost& v, const Exchange& x) {
    Bytes out;
    Writer w(out);
    put(w, v.name);
    put(w, x.name());
    put(w, x.type_name());
    w.u8(x.auto_delete());
    w.u8(x.internal());
    put_table(w, x.arguments());
    return out;
}

ExchangeRecord decode_exchange(ByteView payload) {
    Reader r(payload);
    ExchangeRecord x;
    x.vhost = read_string(r);
    x.name = read_string(r);
    x.type = read_string(r);
    x.auto_delete = read_u8(r) != 0;
    x.internal = read_u8(r) != 0;
    x.arguments = read_table(r);
    if (!r.at_end()) bad("trailing bytes");
    return x;
}

Bytes encode_queue(std::uint64_t id, const VHost& v, const Queue& q) {
    Bytes out;
    Writer w(out);
    w.u64(id);
    put(w, v.name);
    put(w, q.name());
    put(w, q.type().name());
    w.u8(q.auto_delete());
    put_table(w, q.arguments());
    return out;
}

QueueRecord decode_queue(ByteView payload) {
    Reader r(payload);
    QueueRecord q;
    q.id = read_u64(r);
    q.vhost = read_string(r);
    q.name = read_string(r);
    q.type = read_string(r);
    q.auto_delete = read_u8(r) != 0;
    q.arguments = read_table(r);
    if (!r.at_end()) bad("trailing bytes");
    return q;
}

Bytes encode_binding(const VHost& v, const Binding& b) {
    Bytes out;
    Writer w(out);
    put(w, v.name);
    put(w, b.source->name());
    w.u8(b.to_queue());
    put(w, b.destination_name());
    put(w, b.key);
    put_table(w, b.arguments);
    return out;
}

BindingRecord decode_binding(ByteView payload) {
    Reader r(payload);
    BindingRecord b;
    b.vhost = read_string(r);
    b.source = read_string(r);
    b.to_queue = read_u8(r) != 0;
    b.destination = read_string(r);
    b.key = read_string(r);
    b.arguments = read_table(r);
    if (!r.at_end()) bad("trailing bytes");
    return b;
}

bool binding_touches_exchange(const std::string& payload, const std::string& exchange) {
    const BindingRecord b = decode_binding(protocol::as_bytes(payload));
    return b.source == exchange || (!b.to_queue && b.destination == exchange);
}

bool binding_to_queue(const std::string& payload, const std::string& queue) {
    const BindingRecord b = decode_binding(protocol::as_bytes(payload));
    return b.to_queue && b.destination == queue;
}

// ---- messages ---------------------------------------------------------------------------------

namespace {

void put_stored(Writer& w, const StoredMessage& msg) {
    put(w, msg.exchange());
    put(w, msg.routing_key());
    const auto extras = msg.extra_routing_keys();
    w.u32(static_cast<std::uint32_t>(extras.size()));
    for (const std::string& k : extras) put(w, k);
    // The properties' bytes as a client published them, so that a delivery after the restart
    // sends the same bytes; otherwise warren's encoding of them.
    if (!msg.encoded_properties().empty()) {
        w.u8(1);
        put(w, msg.encoded_properties());
    } else {
        w.u8(0);
        Bytes props;
        if (protocol::encode_basic_properties(msg.properties(), props)) bad("properties");
        put(w, protocol::as_chars(props));
    }
    put(w, msg.body());
}

std::size_t stored_size_hint(const StoredMessage& msg) {
    return 64 + msg.exchange().size() + msg.routing_key().size() + msg.encoded_properties().size() + msg.body_size();
}

/// A message put_stored wrote, which must end the payload.
MessagePtr read_stored(Reader& r) {
    std::string exchange = read_string(r);
    std::string routing_key = read_string(r);
    std::vector<std::string> extras = read_strings(r);
    const bool original = read_u8(r) != 0;
    std::string props = read_string(r);
    Message message;
    message.body = read_string(r);
    if (!r.at_end()) bad("trailing bytes");
    auto decoded = protocol::decode_basic_properties(protocol::as_bytes(props));
    if (!decoded) bad("properties");
    message.properties = std::move(decoded.value);
    return std::make_shared<const StoredMessage>(std::move(exchange), std::move(routing_key), std::move(message),
                                                 std::move(extras), original ? std::move(props) : std::string());
}

std::int64_t read_i64(Reader& r) { return static_cast<std::int64_t>(read_u64(r)); }

void put_time(Writer& w, TimePoint t) { w.u64(static_cast<std::uint64_t>(t.time_since_epoch().count())); }

TimePoint read_time(Reader& r) { return TimePoint(Duration(static_cast<Duration::rep>(read_i64(r)))); }

}  // namespace

Bytes encode_message(std::uint64_t id, std::uint64_t queue, const QueuedMessage& m) {
    Bytes out;
    out.reserve(stored_size_hint(*m.message));
    Writer w(out);
    w.u64(id);
    w.u64(queue);
    w.u64(m.sequence);
    w.u32(m.delivery_count);
    w.u8(m.redelivered);
    w.u8(m.priority);
    put_time(w, m.expires_at);
    put_stored(w, *m.message);
    return out;
}

MessageHead read_message_head(ByteView payload) {
    Reader r(payload);
    MessageHead h;
    h.id = read_u64(r);
    h.queue = read_u64(r);
    h.sequence = read_u64(r);
    h.delivery_count = read_u32(r);
    h.redelivered = read_u8(r) != 0;
    return h;
}

QueuedMessage decode_message(ByteView payload) {
    Reader r(payload);
    QueuedMessage m;
    (void)read_u64(r);  // id
    (void)read_u64(r);  // queue
    m.sequence = read_u64(r);
    m.delivery_count = read_u32(r);
    m.redelivered = read_u8(r) != 0;
    m.priority = read_u8(r);
    m.expires_at = read_time(r);
    m.message = read_stored(r);
    return m;
}

// ---- streams ----

std::uint64_t read_stream_queue(ByteView payload) {
    Reader r(payload);
    return read_u64(r);
}

Bytes encode_stream_layout(std::uint64_t queue, const StreamLog::Layout& layout) {
    Bytes out;
    Writer w(out);
    w.u64(queue);
    w.u64(layout.first);
    w.u32(static_cast<std::uint32_t>(layout.writers.size()));
    for (std::uint64_t writer : layout.writers) w.u64(writer);
    w.u32(static_cast<std::uint32_t>(layout.segments.size()));
    for (const auto& [first, bytes] : layout.segments) {
        w.u64(first);
        w.u64(bytes);
    }
    return out;
}

StreamLog::Layout decode_stream_layout(ByteView payload) {
    Reader r(payload);
    (void)read_u64(r);  // queue
    StreamLog::Layout layout;
    layout.first = read_u64(r);
    const std::uint32_t writers = read_u32(r);
    if (writers > r.remaining() / 8) bad("writer count");
    for (std::uint32_t i = 0; i < writers; ++i) layout.writers.push_back(read_u64(r));
    const std::uint32_t segments = read_u32(r);
    if (segments > r.remaining() / 16) bad("segment count");
    for (std::uint32_t i = 0; i < segments; ++i) {
        const std::uint64_t first = read_u64(r);
        layout.segments.emplace_back(first, read_u64(r));
    }
    if (!r.at_end()) bad("trailing bytes");
    return layout;
}

Bytes encode_stream_entry(std::uint64_t queue, const StreamEntry& entry) {
    Bytes out;
    out.reserve(entry.message ? stored_size_hint(*entry.message) : 32);
    Writer w(out);
    w.u64(queue);
    put_time(w, entry.timestamp);
    w.u8(entry.message ? 1 : 0);
    if (entry.message) put_stored(w, *entry.message);
    return out;
}

StreamEntry decode_stream_entry(ByteView payload) {
    Reader r(payload);
    (void)read_u64(r);  // queue
    StreamEntry entry;
    entry.timestamp = read_time(r);
    const std::uint8_t kind = read_u8(r);
    if (kind > 1) bad("stream entry kind");
    if (kind == 1) entry.message = read_stored(r);
    else if (!r.at_end()) bad("trailing bytes");
    return entry;
}

Bytes encode_stream_append(std::uint64_t queue, TimePoint at, std::uint64_t writer, const StoredMessage& message) {
    Bytes out;
    out.reserve(stored_size_hint(message));
    Writer w(out);
    w.u64(queue);
    put_time(w, at);
    w.u64(writer);
    put_stored(w, message);
    return out;
}

StreamAppend decode_stream_append(ByteView payload) {
    Reader r(payload);
    (void)read_u64(r);  // queue
    StreamAppend a;
    a.at = read_time(r);
    a.writer = read_u64(r);
    a.message = read_stored(r);
    return a;
}

Bytes encode_stream_attach(std::uint64_t queue, TimePoint at) {
    Bytes out;
    Writer w(out);
    w.u64(queue);
    put_time(w, at);
    return out;
}

TimePoint decode_stream_attach(ByteView payload) {
    Reader r(payload);
    (void)read_u64(r);  // queue
    const TimePoint at = read_time(r);
    if (!r.at_end()) bad("trailing bytes");
    return at;
}

}  // namespace warren::emulator::codec
