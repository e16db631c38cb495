#include "warren/protocol/methods.hpp"

#include <algorithm>
#include <array>
#include <utility>
#include <vector>

namespace warren::protocol {

namespace {

/// Marks a short string RabbitMQ's decoder checks for UTF-8 (rabbit_framing_amqp_0_9_1 calls
/// rabbit_binary_parser:assert_utf8 on exactly these fields).
struct Utf8Checked {};
constexpr Utf8Checked utf8_checked{};

// Each method's arguments in wire order, walked by the encoder and the decoder below.
template <class V> void fields(ConnectionStart& m, V& v) {
    v.octet(m.version_major);
    v.octet(m.version_minor);
    v.table(m.server_properties);
    v.longstr(m.mechanisms);
    v.longstr(m.locales);
}
template <class V> void fields(ConnectionStartOk& m, V& v) {
    v.table(m.client_properties);
    v.shortstr(m.mechanism, utf8_checked);
    v.longstr(m.response);
    v.shortstr(m.locale, utf8_checked);
}
template <class V> void fields(ConnectionSecure& m, V& v) {
    v.longstr(m.challenge);
}
template <class V> void fields(ConnectionSecureOk& m, V& v) {
    v.longstr(m.response);
}
template <class V> void fields(ConnectionTune& m, V& v) {
    v.short_(m.channel_max);
    v.long_(m.frame_max);
    v.short_(m.heartbeat);
}
template <class V> void fields(ConnectionTuneOk& m, V& v) {
    v.short_(m.channel_max);
    v.long_(m.frame_max);
    v.short_(m.heartbeat);
}
template <class V> void fields(ConnectionOpen& m, V& v) {
    v.shortstr(m.virtual_host, utf8_checked);
    v.shortstr(m.capabilities, utf8_checked);
    v.bit(m.insist);
}
template <class V> void fields(ConnectionOpenOk& m, V& v) {
    v.shortstr(m.known_hosts, utf8_checked);
}
template <class V> void fields(ConnectionClose& m, V& v) {
    v.short_(m.reply_code);
    v.shortstr(m.reply_text, utf8_checked);
    v.short_(m.class_id);
    v.short_(m.method_id);
}
template <class V> void fields(ConnectionCloseOk&, V&) {}
template <class V> void fields(ConnectionBlocked& m, V& v) {
    v.shortstr(m.reason, utf8_checked);
}
template <class V> void fields(ConnectionUnblocked&, V&) {}
template <class V> void fields(ConnectionUpdateSecret& m, V& v) {
    v.longstr(m.new_secret);
    v.shortstr(m.reason, utf8_checked);
}
template <class V> void fields(ConnectionUpdateSecretOk&, V&) {}
template <class V> void fields(ChannelOpen& m, V& v) {
    v.shortstr(m.out_of_band, utf8_checked);
}
template <class V> void fields(ChannelOpenOk& m, V& v) {
    v.longstr(m.channel_id);
}
template <class V> void fields(ChannelFlow& m, V& v) {
    v.bit(m.active);
}
template <class V> void fields(ChannelFlowOk& m, V& v) {
    v.bit(m.active);
}
template <class V> void fields(ChannelClose& m, V& v) {
    v.short_(m.reply_code);
    v.shortstr(m.reply_text, utf8_checked);
    v.short_(m.class_id);
    v.short_(m.method_id);
}
template <class V> void fields(ChannelCloseOk&, V&) {}
template <class V> void fields(AccessRequest& m, V& v) {
    v.shortstr(m.realm, utf8_checked);
    v.bit(m.exclusive);
    v.bit(m.passive);
    v.bit(m.active);
    v.bit(m.write);
    v.bit(m.read);
}
template <class V> void fields(AccessRequestOk& m, V& v) {
    v.short_(m.ticket);
}
template <class V> void fields(ExchangeDeclare& m, V& v) {
    v.short_(m.ticket);
    v.shortstr(m.exchange, utf8_checked);
    v.shortstr(m.type, utf8_checked);
    v.bit(m.passive);
    v.bit(m.durable);
    v.bit(m.auto_delete);
    v.bit(m.internal);
    v.bit(m.no_wait);
    v.table(m.arguments);
}
template <class V> void fields(ExchangeDeclareOk&, V&) {}
template <class V> void fields(ExchangeDelete& m, V& v) {
    v.short_(m.ticket);
    v.shortstr(m.exchange, utf8_checked);
    v.bit(m.if_unused);
    v.bit(m.no_wait);
}
template <class V> void fields(ExchangeDeleteOk&, V&) {}
template <class V> void fields(ExchangeBind& m, V& v) {
    v.short_(m.ticket);
    v.shortstr(m.destination, utf8_checked);
    v.shortstr(m.source, utf8_checked);
    v.shortstr(m.routing_key, utf8_checked);
    v.bit(m.no_wait);
    v.table(m.arguments);
}
template <class V> void fields(ExchangeBindOk&, V&) {}
template <class V> void fields(ExchangeUnbind& m, V& v) {
    v.short_(m.ticket);
    v.shortstr(m.destination, utf8_checked);
    v.shortstr(m.source, utf8_checked);
    v.shortstr(m.routing_key, utf8_checked);
    v.bit(m.no_wait);
    v.table(m.arguments);
}
template <class V> void fields(ExchangeUnbindOk&, V&) {}
template <class V> void fields(QueueDeclare& m, V& v) {
    v.short_(m.ticket);
    v.shortstr(m.queue, utf8_checked);
    v.bit(m.passive);
    v.bit(m.durable);
    v.bit(m.exclusive);
    v.bit(m.auto_delete);
    v.bit(m.no_wait);
    v.table(m.arguments);
}
template <class V> void fields(QueueDeclareOk& m, V& v) {
    v.shortstr(m.queue, utf8_checked);
    v.long_(m.message_count);
    v.long_(m.consumer_count);
}
template <class V> void fields(QueueBind& m, V& v) {
    v.short_(m.ticket);
    v.shortstr(m.queue, utf8_checked);
    v.shortstr(m.exchange, utf8_checked);
    v.shortstr(m.routing_key, utf8_checked);
    v.bit(m.no_wait);
    v.table(m.arguments);
}
template <class V> void fields(QueueBindOk&, V&) {}
template <class V> void fields(QueuePurge& m, V& v) {
    v.short_(m.ticket);
    v.shortstr(m.queue, utf8_checked);
    v.bit(m.no_wait);
}
template <class V> void fields(QueuePurgeOk& m, V& v) {
    v.long_(m.message_count);
}
template <class V> void fields(QueueDelete& m, V& v) {
    v.short_(m.ticket);
    v.shortstr(m.queue, utf8_checked);
    v.bit(m.if_unused);
    v.bit(m.if_empty);
    v.bit(m.no_wait);
}
template <class V> void fields(QueueDeleteOk& m, V& v) {
    v.long_(m.message_count);
}
template <class V> void fields(QueueUnbind& m, V& v) {
    v.short_(m.ticket);
    v.shortstr(m.queue, utf8_checked);
    v.shortstr(m.exchange, utf8_checked);
    v.shortstr(m.routing_key, utf8_checked);
    v.table(m.arguments);
}
template <class V> void fields(QueueUnbindOk&, V&) {}
template <class V> void fields(BasicQos& m, V& v) {
    v.long_(m.prefetch_size);
    v.short_(m.prefetch_count);
    v.bit(m.global);
}
template <class V> void fields(BasicQosOk&, V&) {}
template <class V> void fields(BasicConsume& m, V& v) {
    v.short_(m.ticket);
    v.shortstr(m.queue, utf8_checked);
    v.shortstr(m.consumer_tag, utf8_checked);
    v.bit(m.no_local);
    v.bit(m.no_ack);
    v.bit(m.exclusive);
    v.bit(m.no_wait);
    v.table(m.arguments);
}
template <class V> void fields(BasicConsumeOk& m, V& v) {
    v.shortstr(m.consumer_tag, utf8_checked);
}
template <class V> void fields(BasicCancel& m, V& v) {
    v.shortstr(m.consumer_tag, utf8_checked);
    v.bit(m.no_wait);
}
template <class V> void fields(BasicCancelOk& m, V& v) {
    v.shortstr(m.consumer_tag, utf8_checked);
}
template <class V> void fields(BasicPublish& m, V& v) {
    v.short_(m.ticket);
    v.shortstr(m.exchange);
    v.shortstr(m.routing_key);
    v.bit(m.mandatory);
    v.bit(m.immediate);
}
template <class V> void fields(BasicReturn& m, V& v) {
    v.short_(m.reply_code);
    v.shortstr(m.reply_text);
    v.shortstr(m.exchange);
    v.shortstr(m.routing_key);
}
template <class V> void fields(BasicDeliver& m, V& v) {
    v.shortstr(m.consumer_tag);
    v.longlong(m.delivery_tag);
    v.bit(m.redelivered);
    v.shortstr(m.exchange);
    v.shortstr(m.routing_key);
}
template <class V> void fields(BasicGet& m, V& v) {
    v.short_(m.ticket);
    v.shortstr(m.queue, utf8_checked);
    v.bit(m.no_ack);
}
template <class V> void fields(BasicGetOk& m, V& v) {
    v.longlong(m.delivery_tag);
    v.bit(m.redelivered);
    v.shortstr(m.exchange);
    v.shortstr(m.routing_key);
    v.long_(m.message_count);
}
template <class V> void fields(BasicGetEmpty& m, V& v) {
    v.shortstr(m.cluster_id, utf8_checked);
}
template <class V> void fields(BasicAck& m, V& v) {
    v.longlong(m.delivery_tag);
    v.bit(m.multiple);
}
template <class V> void fields(BasicReject& m, V& v) {
    v.longlong(m.delivery_tag);
    v.bit(m.requeue);
}
template <class V> void fields(BasicRecoverAsync& m, V& v) {
    v.bit(m.requeue);
}
template <class V> void fields(BasicRecover& m, V& v) {
    v.bit(m.requeue);
}
template <class V> void fields(BasicRecoverOk&, V&) {}
template <class V> void fields(BasicNack& m, V& v) {
    v.longlong(m.delivery_tag);
    v.bit(m.multiple);
    v.bit(m.requeue);
}
template <class V> void fields(BasicCredit& m, V& v) {
    v.shortstr(m.consumer_tag, utf8_checked);
    v.long_(m.credit);
    v.bit(m.drain);
}
template <class V> void fields(BasicCreditOk& m, V& v) {
    v.long_(m.available);
}
template <class V> void fields(BasicCreditDrained& m, V& v) {
    v.shortstr(m.consumer_tag, utf8_checked);
    v.long_(m.credit_drained);
}
template <class V> void fields(TxSelect&, V&) {}
template <class V> void fields(TxSelectOk&, V&) {}
template <class V> void fields(TxCommit&, V&) {}
template <class V> void fields(TxCommitOk&, V&) {}
template <class V> void fields(TxRollback&, V&) {}
template <class V> void fields(TxRollbackOk&, V&) {}
template <class V> void fields(ConfirmSelect& m, V& v) {
    v.bit(m.no_wait);
}
template <class V> void fields(ConfirmSelectOk&, V&) {}

/// Writes arguments; consecutive bits share octets, low bit first, as the spec packs them.
class ArgumentEncoder {
public:
    explicit ArgumentEncoder(Bytes& out) : w_(out) {}

    void bit(bool& b) {
        if (bit_count_ == 8) flush_bits();
        if (b) bits_ = static_cast<std::uint8_t>(bits_ | (1u << bit_count_));
        ++bit_count_;
    }
    void octet(std::uint8_t& v) { flush_bits(); w_.u8(v); }
    void short_(std::uint16_t& v) { flush_bits(); w_.u16(v); }
    void long_(std::uint32_t& v) { flush_bits(); w_.u32(v); }
    void longlong(std::uint64_t& v) { flush_bits(); w_.u64(v); }
    void shortstr(std::string& s, Utf8Checked = {}) {
        flush_bits();
        if (!error_) error_ = w_.shortstr(s);
    }
    void longstr(std::string& s) { flush_bits(); w_.longstr(s); }
    void table(FieldTable& t) {
        flush_bits();
        if (!error_) error_ = w_.table(t);
    }
    std::error_code finish() {
        flush_bits();
        return error_;
    }

private:
    void flush_bits() {
        if (bit_count_ == 0) return;
        w_.u8(bits_);
        bits_ = 0;
        bit_count_ = 0;
    }

    Writer w_;
    std::uint8_t bits_ = 0;
    int bit_count_ = 0;
    std::error_code error_;
};

/// Reads arguments in RabbitMQ's order of checks: first the whole layout (a binary match in
/// Erlang), then the UTF-8 of the checked names, then the tables.
class ArgumentDecoder {
public:
    explicit ArgumentDecoder(ByteView in) : in_(in) {}

    void bit(bool& b) {
        if (error_) return;
        if (bit_pos_ == 8) {
            if (!in_.u8(bits_)) return fail();
            bit_pos_ = 0;
        }
        b = (bits_ >> bit_pos_) & 1u;
        ++bit_pos_;
    }
    void octet(std::uint8_t& v) { read([&] { return in_.u8(v); }); }
    void short_(std::uint16_t& v) { read([&] { return in_.u16(v); }); }
    void long_(std::uint32_t& v) { read([&] { return in_.u32(v); }); }
    void longlong(std::uint64_t& v) { read([&] { return in_.u64(v); }); }
    void shortstr(std::string& s) { read([&] { return in_.shortstr(s); }); }
    void shortstr(std::string& s, Utf8Checked) {
        shortstr(s);
        utf8_fields_.push_back(&s);
    }
    void longstr(std::string& s) { read([&] { return in_.longstr(s); }); }
    void table(FieldTable& t) {
        ByteView body;
        read([&] { return in_.longstr_view(body); });
        if (!error_) tables_.emplace_back(&t, body);
    }

    std::error_code finish() {
        if (error_) return error_;
        if (!in_.at_end()) return CodecError::trailing_bytes;
        for (const std::string* s : utf8_fields_)
            if (!is_rabbit_utf8(*s)) return CodecError::malformed_utf8;
        for (auto& [table, body] : tables_)
            if (decode_field_table(body, *table)) return CodecError::malformed_table;
        return {};
    }

private:
    template <class Read>
    void read(Read&& r) {
        bit_pos_ = 8;
        if (!error_ && !r()) fail();
    }
    void fail() { error_ = CodecError::truncated; }

    Reader in_;
    std::uint8_t bits_ = 0;
    int bit_pos_ = 8;
    std::error_code error_;
    std::vector<const std::string*> utf8_fields_;
    std::vector<std::pair<FieldTable*, ByteView>> tables_;
};

constexpr std::uint32_t key(std::uint16_t class_id, std::uint16_t method_id) {
    return (std::uint32_t{class_id} << 16) | method_id;
}
constexpr std::uint32_t key(MethodId id) { return key(id.class_id, id.method_id); }

template <class T>
Decoded<Method> decode_as(ByteView arguments) {
    T m;
    ArgumentDecoder d(arguments);
    fields(m, d);
    if (auto ec = d.finish()) return {Method{}, ec};
    return {Method{std::move(m)}, {}};
}

struct MethodEntry {
    std::uint32_t key;
    bool has_content;
    Decoded<Method> (*decode)(ByteView);
};

template <std::size_t... I>
constexpr auto make_method_table(std::index_sequence<I...>) {
    std::array<MethodEntry, sizeof...(I)> table{
        MethodEntry{key(std::variant_alternative_t<I, Method>::id),
                    std::variant_alternative_t<I, Method>::has_content,
                    &decode_as<std::variant_alternative_t<I, Method>>}...};
    std::sort(table.begin(), table.end(),
              [](const MethodEntry& a, const MethodEntry& b) { return a.key < b.key; });
    return table;
}

constexpr auto method_table =
    make_method_table(std::make_index_sequence<std::variant_size_v<Method>>{});

const MethodEntry* find_method(MethodId id) noexcept {
    const std::uint32_t k = key(id);
    const auto* it = std::lower_bound(
        method_table.begin(), method_table.end(), k,
        [](const MethodEntry& e, std::uint32_t wanted) { return e.key < wanted; });
    return it != method_table.end() && it->key == k ? it : nullptr;
}

}  // namespace

MethodId method_id(const Method& m) noexcept {
    return std::visit([](const auto& x) { return std::decay_t<decltype(x)>::id; }, m);
}

std::string_view method_name(MethodId id) noexcept {
    switch (key(id)) {
        case key(10, 10): return "connection.start";
        case key(10, 11): return "connection.start_ok";
        case key(10, 20): return "connection.secure";
        case key(10, 21): return "connection.secure_ok";
        case key(10, 30): return "connection.tune";
        case key(10, 31): return "connection.tune_ok";
        case key(10, 40): return "connection.open";
        case key(10, 41): return "connection.open_ok";
        case key(10, 50): return "connection.close";
        case key(10, 51): return "connection.close_ok";
        case key(10, 60): return "connection.blocked";
        case key(10, 61): return "connection.unblocked";
        case key(10, 70): return "connection.update_secret";
        case key(10, 71): return "connection.update_secret_ok";
        case key(20, 10): return "channel.open";
        case key(20, 11): return "channel.open_ok";
        case key(20, 20): return "channel.flow";
        case key(20, 21): return "channel.flow_ok";
        case key(20, 40): return "channel.close";
        case key(20, 41): return "channel.close_ok";
        case key(30, 10): return "access.request";
        case key(30, 11): return "access.request_ok";
        case key(40, 10): return "exchange.declare";
        case key(40, 11): return "exchange.declare_ok";
        case key(40, 20): return "exchange.delete";
        case key(40, 21): return "exchange.delete_ok";
        case key(40, 30): return "exchange.bind";
        case key(40, 31): return "exchange.bind_ok";
        case key(40, 40): return "exchange.unbind";
        case key(40, 51): return "exchange.unbind_ok";
        case key(50, 10): return "queue.declare";
        case key(50, 11): return "queue.declare_ok";
        case key(50, 20): return "queue.bind";
        case key(50, 21): return "queue.bind_ok";
        case key(50, 30): return "queue.purge";
        case key(50, 31): return "queue.purge_ok";
        case key(50, 40): return "queue.delete";
        case key(50, 41): return "queue.delete_ok";
        case key(50, 50): return "queue.unbind";
        case key(50, 51): return "queue.unbind_ok";
        case key(60, 10): return "basic.qos";
        case key(60, 11): return "basic.qos_ok";
        case key(60, 20): return "basic.consume";
        case key(60, 21): return "basic.consume_ok";
        case key(60, 30): return "basic.cancel";
        case key(60, 31): return "basic.cancel_ok";
        case key(60, 40): return "basic.publish";
        case key(60, 50): return "basic.return";
        case key(60, 60): return "basic.deliver";
        case key(60, 70): return "basic.get";
        case key(60, 71): return "basic.get_ok";
        case key(60, 72): return "basic.get_empty";
        case key(60, 80): return "basic.ack";
        case key(60, 90): return "basic.reject";
        case key(60, 100): return "basic.recover_async";
        case key(60, 110): return "basic.recover";
        case key(60, 111): return "basic.recover_ok";
        case key(60, 120): return "basic.nack";
        case key(60, 200): return "basic.credit";
        case key(60, 201): return "basic.credit_ok";
        case key(60, 202): return "basic.credit_drained";
        case key(90, 10): return "tx.select";
        case key(90, 11): return "tx.select_ok";
        case key(90, 20): return "tx.commit";
        case key(90, 21): return "tx.commit_ok";
        case key(90, 30): return "tx.rollback";
        case key(90, 31): return "tx.rollback_ok";
        case key(85, 10): return "confirm.select";
        case key(85, 11): return "confirm.select_ok";
        default: return {};
    }
}

bool is_known_method(MethodId id) noexcept { return find_method(id) != nullptr; }

bool method_has_content(MethodId id) noexcept {
    const MethodEntry* e = find_method(id);
    return e != nullptr && e->has_content;
}

std::error_code encode(const Method& m, Bytes& out) {
    const std::size_t size_before = out.size();
    const std::error_code ec = std::visit(
        [&out](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            Writer w(out);
            w.u16(T::id.class_id);
            w.u16(T::id.method_id);
            ArgumentEncoder e(out);
            // The encoder only reads; `fields` takes a mutable reference so that one
            // description serves both directions.
            fields(const_cast<T&>(x), e);
            return e.finish();
        },
        m);
    if (ec) out.resize(size_before);
    return ec;
}

Decoded<Method> decode_method_arguments(MethodId id, ByteView arguments) {
    const MethodEntry* e = find_method(id);
    if (e == nullptr) return {Method{}, CodecError::unknown_method};
    return e->decode(arguments);
}

Decoded<Method> decode_method(ByteView payload) {
    Reader in(payload);
    MethodId id;
    if (!in.u16(id.class_id) || !in.u16(id.method_id)) return {Method{}, CodecError::malformed_frame};
    return decode_method_arguments(id, in.rest());
}

}  // namespace warren::protocol
