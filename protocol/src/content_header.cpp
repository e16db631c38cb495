#include "warren/protocol/content_header.hpp"

#include <optional>
#include <string>

namespace warren::protocol {

Decoded<ContentHeaderPrefix> split_content_header(ByteView payload) noexcept {
    Reader in(payload);
    ContentHeaderPrefix h;
    if (!in.u16(h.class_id) || !in.u16(h.weight) || !in.u64(h.body_size))
        return {{}, CodecError::malformed_frame};
    h.properties = in.rest();
    return {h, {}};
}

Decoded<BasicProperties> decode_basic_properties(ByteView flags_and_list) {
    // rabbit_framing_amqp_0_9_1:decode_properties(60, ...): fourteen flags, two ignored bits,
    // then the present properties in order, and nothing after them.
    namespace pf = property_flag;
    Reader in(flags_and_list);
    std::uint16_t flags = 0;
    BasicProperties p;
    const auto bad = [] { return Decoded<BasicProperties>{{}, CodecError::malformed_properties}; };
    if (!in.u16(flags)) return bad();
    const auto text = [&](std::uint16_t flag, std::optional<std::string>& field) {
        if (!(flags & flag)) return true;
        std::string s;
        if (!in.shortstr(s)) return false;
        field = std::move(s);
        return true;
    };
    const auto octet = [&](std::uint16_t flag, std::optional<std::uint8_t>& field) {
        if (!(flags & flag)) return true;
        std::uint8_t v = 0;
        if (!in.u8(v)) return false;
        field = v;
        return true;
    };
    if (!text(pf::content_type, p.content_type)) return bad();
    if (!text(pf::content_encoding, p.content_encoding)) return bad();
    if (flags & pf::headers) {
        if (read_field_table(in, p.headers)) return bad();
    }
    if (!octet(pf::delivery_mode, p.delivery_mode)) return bad();
    if (!octet(pf::priority, p.priority)) return bad();
    if (!text(pf::correlation_id, p.correlation_id)) return bad();
    if (!text(pf::reply_to, p.reply_to)) return bad();
    if (!text(pf::expiration, p.expiration)) return bad();
    if (!text(pf::message_id, p.message_id)) return bad();
    if (flags & pf::timestamp) {
        std::uint64_t t = 0;
        if (!in.u64(t)) return bad();
        p.timestamp = Timestamp{t};
    }
    if (!text(pf::type, p.type)) return bad();
    if (!text(pf::user_id, p.user_id)) return bad();
    if (!text(pf::app_id, p.app_id)) return bad();
    if (!text(pf::cluster_id, p.cluster_id)) return bad();
    if (!in.at_end()) return bad();
    return {std::move(p), {}};
}

Decoded<ContentHeader> decode_content_header(ByteView payload) {
    auto prefix = split_content_header(payload);
    if (!prefix) return {{}, prefix.error};
    auto props = decode_basic_properties(prefix.value.properties);
    if (!props) return {{}, props.error};
    return {ContentHeader{prefix.value.class_id, prefix.value.weight, prefix.value.body_size,
                          std::move(props.value)},
            {}};
}

std::error_code encode_basic_properties(const BasicProperties& p, Bytes& out) {
    namespace pf = property_flag;
    const std::size_t size_before = out.size();
    Writer w(out);
    std::uint16_t flags = 0;
    if (p.content_type) flags |= pf::content_type;
    if (p.content_encoding) flags |= pf::content_encoding;
    if (!p.headers.empty()) flags |= pf::headers;
    if (p.delivery_mode) flags |= pf::delivery_mode;
    if (p.priority) flags |= pf::priority;
    if (p.correlation_id) flags |= pf::correlation_id;
    if (p.reply_to) flags |= pf::reply_to;
    if (p.expiration) flags |= pf::expiration;
    if (p.message_id) flags |= pf::message_id;
    if (p.timestamp) flags |= pf::timestamp;
    if (p.type) flags |= pf::type;
    if (p.user_id) flags |= pf::user_id;
    if (p.app_id) flags |= pf::app_id;
    if (p.cluster_id) flags |= pf::cluster_id;
    w.u16(flags);

    std::error_code ec;
    const auto text = [&](const std::optional<std::string>& v) {
        if (v && !ec) ec = w.shortstr(*v);
    };
    text(p.content_type);
    text(p.content_encoding);
    if (!p.headers.empty() && !ec) ec = w.table(p.headers);
    if (p.delivery_mode) w.u8(*p.delivery_mode);
    if (p.priority) w.u8(*p.priority);
    text(p.correlation_id);
    text(p.reply_to);
    text(p.expiration);
    text(p.message_id);
    if (p.timestamp) w.u64(p.timestamp->seconds);
    text(p.type);
    text(p.user_id);
    text(p.app_id);
    text(p.cluster_id);
    if (ec) out.resize(size_before);
    return ec;
}

std::error_code encode(const ContentHeader& h, Bytes& out) {
    const std::size_t size_before = out.size();
    Writer w(out);
    w.u16(h.class_id);
    w.u16(h.weight);
    w.u64(h.body_size);
    if (auto ec = encode_basic_properties(h.properties, out)) {
        out.resize(size_before);
        return ec;
    }
    return {};
}

}  // namespace warren::protocol
