#include "warren/protocol/methods.hpp"

#include <utility>
#include <vector>

namespace warren::protocol {

namespace {

/// Marks a short string RabbitMQ's decoder checks for UTF-8 (rabbit_framing_amqp_0_9_1 calls
/// rabbit_binary_parser:assert_utf8 on exactly these fields).
struct Utf8Checked {};
constexpr Utf8Checked utf8_checked{};

// Each method's arguments in wire order, walked by the encoder and the decoder below: a field
// of kind k is visited as v.k_(member), with utf8_checked added where RabbitMQ checks UTF-8
// (a `utf8` mark on anything but a short string does not compile).
#define WARREN_AMQP_CHECK_utf8 , utf8_checked
#define WARREN_AMQP_CHECK_any
#define WARREN_METHOD(Struct, snake, class_id, method_id, name, content, dispatch) \
    template <class V>                                                              \
    void fields([[maybe_unused]] Struct& m, [[maybe_unused]] V& v) {
#define WARREN_FIELD(kind, name, default_value, check) v.kind##_(m.name WARREN_AMQP_CHECK_##check);
#define WARREN_METHOD_END(Struct) }
#include "warren/protocol/amqp_methods.def"
#undef WARREN_AMQP_CHECK_utf8
#undef WARREN_AMQP_CHECK_any

/// Writes arguments; consecutive bits share octets, low bit first, as the spec packs them.
class ArgumentEncoder {
public:
    explicit ArgumentEncoder(Bytes& out) : w_(out) {}

    void bit_(bool& b) {
        if (bit_count_ == 8) flush_bits();
        if (b) bits_ = static_cast<std::uint8_t>(bits_ | (1u << bit_count_));
        ++bit_count_;
    }
    void octet_(std::uint8_t& v) { flush_bits(); w_.u8(v); }
    void short_(std::uint16_t& v) { flush_bits(); w_.u16(v); }
    void long_(std::uint32_t& v) { flush_bits(); w_.u32(v); }
    void longlong_(std::uint64_t& v) { flush_bits(); w_.u64(v); }
    void shortstr_(std::string& s, Utf8Checked = {}) {
        flush_bits();
        if (!error_) error_ = w_.shortstr(s);
    }
    void longstr_(std::string& s) { flush_bits(); w_.longstr(s); }
    void table_(FieldTable& t) {
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

    void bit_(bool& b) {
        if (error_) return;
        if (bit_pos_ == 8) {
            if (!in_.u8(bits_)) return fail();
            bit_pos_ = 0;
        }
        b = (bits_ >> bit_pos_) & 1u;
        ++bit_pos_;
    }
    void octet_(std::uint8_t& v) { read([&] { return in_.u8(v); }); }
    void short_(std::uint16_t& v) { read([&] { return in_.u16(v); }); }
    void long_(std::uint32_t& v) { read([&] { return in_.u32(v); }); }
    void longlong_(std::uint64_t& v) { read([&] { return in_.u64(v); }); }
    void shortstr_(std::string& s) { read([&] { return in_.shortstr(s); }); }
    void shortstr_(std::string& s, Utf8Checked) {
        shortstr_(s);
        utf8_fields_.push_back(&s);
    }
    void longstr_(std::string& s) { read([&] { return in_.longstr(s); }); }
    void table_(FieldTable& t) {
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
    std::string_view name;
    bool has_content;
    Decoded<Method> (*decode)(ByteView);
};

const MethodEntry* find_method(MethodId id) noexcept {
    switch (key(id)) {
#define WARREN_METHOD(Struct, snake, class_id, method_id, name, content, dispatch)         \
    case key(method::snake): {                                                             \
        static constexpr MethodEntry entry{name, Struct::has_content, &decode_as<Struct>}; \
        return &entry;                                                                     \
    }
#include "warren/protocol/amqp_methods.def"
        default: return nullptr;
    }
}

}  // namespace

MethodId method_id(const Method& m) noexcept {
    return std::visit([](const auto& x) { return std::decay_t<decltype(x)>::id; }, m);
}

std::string_view method_name(MethodId id) noexcept {
    const MethodEntry* e = find_method(id);
    return e != nullptr ? e->name : std::string_view{};
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
