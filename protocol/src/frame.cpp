#include "warren/protocol/frame.hpp"

#include <algorithm>

#include "warren/protocol/content_header.hpp"

namespace warren::protocol {

namespace {

void write_frame_header(Bytes& out, std::uint8_t type, std::uint16_t channel, std::uint32_t size) {
    Writer w(out);
    w.u8(type);
    w.u16(channel);
    w.u32(size);
}

/// Writes a frame whose payload is produced in place by `payload`, then patches its size.
template <class Payload>
std::error_code frame_in_place(Bytes& out, std::uint8_t type, std::uint16_t channel,
                               Payload&& payload) {
    const std::size_t start = out.size();
    write_frame_header(out, type, channel, 0);
    if (auto ec = payload()) {
        out.resize(start);
        return ec;
    }
    const std::size_t size = out.size() - start - 7;
    if (size > 0xFFFFFFFFu) {
        out.resize(start);
        return CodecError::payload_too_large;
    }
    for (int i = 0; i < 4; ++i)
        out[start + 3 + i] = static_cast<std::uint8_t>(size >> (24 - 8 * i));
    out.push_back(frame_end);
    return {};
}

}  // namespace

std::error_code encode_frame(std::uint8_t type, std::uint16_t channel, ByteView payload,
                             Bytes& out) {
    if (payload.size() > 0xFFFFFFFFu) return CodecError::payload_too_large;
    write_frame_header(out, type, channel, static_cast<std::uint32_t>(payload.size()));
    out.insert(out.end(), payload.begin(), payload.end());
    out.push_back(frame_end);
    return {};
}

std::error_code encode_method_frame(std::uint16_t channel, const Method& m, Bytes& out) {
    return frame_in_place(out, frame_type::method, channel, [&] { return encode(m, out); });
}

void encode_heartbeat_frame(Bytes& out) {
    write_frame_header(out, frame_type::heartbeat, 0, 0);
    out.push_back(frame_end);
}

std::error_code encode_content_frames(std::uint16_t channel, const BasicProperties& properties,
                                      std::string_view body, std::uint32_t frame_max,
                                      Bytes& out) {
    return encode_content_frames(channel, properties, ByteView{}, body, frame_max, out);
}

std::error_code encode_content_frames(std::uint16_t channel, const BasicProperties& properties,
                                      ByteView encoded_properties, std::string_view body,
                                      std::uint32_t frame_max, Bytes& out) {
    const std::size_t start = out.size();
    auto ec = frame_in_place(out, frame_type::header, channel, [&] {
        Writer w(out);
        w.u16(60);
        w.u16(0);
        w.u64(body.size());
        if (encoded_properties.empty()) return encode_basic_properties(properties, out);
        out.insert(out.end(), encoded_properties.begin(), encoded_properties.end());
        return std::error_code{};
    });
    if (ec) return ec;
    const std::size_t chunk =
        frame_max == 0 ? body.size() : std::max<std::size_t>(1, frame_max - std::min(frame_max, frame_overhead));
    for (std::size_t at = 0; at < body.size(); at += chunk) {
        if ((ec = encode_frame(frame_type::body, channel, as_bytes(body.substr(at, chunk)), out))) {
            out.resize(start);
            return ec;
        }
    }
    return {};
}

// ---- FrameDecoder -----------------------------------------------------------------------------

std::size_t FrameDecoder::feed(ByteView in) {
    std::size_t used = 0;
    const auto finish = [this](std::uint8_t end) {
        if (end == frame_end) {
            state_ = State::ready;
        } else {
            bad_end_ = end;
            error_ = CodecError::bad_frame_end;
            state_ = State::failed;
        }
    };

    if (state_ == State::header) {
        const std::size_t take = std::min(header_bytes_.size() - header_have_, in.size());
        std::copy_n(in.begin(), take, header_bytes_.begin() + static_cast<std::ptrdiff_t>(header_have_));
        header_have_ += take;
        used += take;
        if (header_have_ < header_bytes_.size()) return used;
        Reader r(header_bytes_);
        r.u8(header_.type);
        r.u16(header_.channel);
        r.u32(header_.size);
        if (frame_max_ != 0 && header_.size > frame_max_) {
            error_ = CodecError::frame_too_large;
            state_ = State::failed;
            return used;
        }
        buffer_.clear();
        state_ = State::payload;
    }

    if (state_ == State::payload) {
        const ByteView rest = in.subspan(used);
        if (buffer_.empty() && rest.size() > header_.size) {
            // The whole frame is in the caller's bytes: no copy.
            payload_ = rest.first(header_.size);
            used += header_.size + 1;
            finish(rest[header_.size]);
            return used;
        }
        // Room for the whole payload only when frame_max bounds it; an unlimited decoder grows
        // with the bytes that actually arrive, never with the size the peer claims.
        if (buffer_.empty()) buffer_.reserve(frame_max_ != 0 ? header_.size : rest.size());
        const std::size_t take = std::min<std::size_t>(header_.size - buffer_.size(), rest.size());
        buffer_.insert(buffer_.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(take));
        used += take;
        if (buffer_.size() < header_.size) return used;
        payload_ = buffer_;
        state_ = State::end;
    }

    if (state_ == State::end && used < in.size()) finish(in[used++]);
    return used;
}

void FrameDecoder::next() noexcept {
    if (state_ != State::ready) return;
    state_ = State::header;
    header_have_ = 0;
    payload_ = {};
    buffer_.clear();
}

}  // namespace warren::protocol
