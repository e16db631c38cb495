#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "warren/protocol/content_header.hpp"
#include "warren/protocol/frame.hpp"

namespace p = warren::protocol;
using p::CodecError;

namespace {

struct Decoded {
    std::uint8_t type;
    std::uint16_t channel;
    std::string payload;
};

/// Feeds `in` in chunks of `chunk` bytes and collects the frames.
std::vector<Decoded> decode_all(p::FrameDecoder& d, const p::Bytes& in, std::size_t chunk,
                                std::error_code* error = nullptr) {
    std::vector<Decoded> frames;
    std::size_t at = 0;
    while (at < in.size()) {
        const std::size_t n = std::min(chunk, in.size() - at);
        std::size_t used = 0;
        while (used < n) {
            used += d.feed(p::ByteView(in).subspan(at + used, n - used));
            if (d.error()) {
                if (error) *error = d.error();
                return frames;
            }
            if (d.ready()) {
                frames.push_back({d.header().type, d.header().channel, std::string(p::as_chars(d.payload()))});
                d.next();
            }
        }
        at += n;
    }
    return frames;
}

}  // namespace

TEST_CASE("frames are type, channel, size, payload and 0xCE") {
    p::Bytes out;
    REQUIRE_FALSE(p::encode_frame(p::frame_type::body, 5, p::as_bytes("abc"), out));
    CHECK(out == p::Bytes{3, 0, 5, 0, 0, 0, 3, 'a', 'b', 'c', 0xCE});
    out.clear();
    p::encode_heartbeat_frame(out);
    CHECK(out == p::Bytes{8, 0, 0, 0, 0, 0, 0, 0xCE});
    out.clear();
    REQUIRE_FALSE(p::encode_method_frame(1, p::ChannelOpen{}, out));
    CHECK(out == p::Bytes{1, 0, 1, 0, 0, 0, 5, 0, 20, 0, 10, 0, 0xCE});
}

TEST_CASE("the decoder takes any split of the input") {
    p::Bytes in;
    REQUIRE_FALSE(p::encode_method_frame(0, p::ConnectionTuneOk{2047, 131072, 60}, in));
    p::encode_heartbeat_frame(in);
    REQUIRE_FALSE(p::encode_frame(p::frame_type::body, 9, p::as_bytes(""), in));
    REQUIRE_FALSE(p::encode_frame(p::frame_type::body, 65535, p::as_bytes(std::string(1000, 'x')), in));
    const std::size_t chunk = GENERATE(1, 2, 7, 8, 13, 100, 10000);
    p::FrameDecoder d(4096);
    const auto frames = decode_all(d, in, chunk);
    REQUIRE(frames.size() == 4);
    CHECK(frames[0].type == p::frame_type::method);
    CHECK(frames[1].type == p::frame_type::heartbeat);
    CHECK(frames[2].channel == 9);
    CHECK(frames[2].payload.empty());
    CHECK(frames[3].channel == 65535);
    CHECK(frames[3].payload == std::string(1000, 'x'));
}

TEST_CASE("feed stops at the end of a frame and waits for next()") {
    p::Bytes in;
    p::encode_heartbeat_frame(in);
    p::encode_heartbeat_frame(in);
    p::FrameDecoder d;
    CHECK(d.feed(in) == 8);
    CHECK(d.ready());
    CHECK(d.feed(p::ByteView(in).subspan(8)) == 0);
    d.next();
    CHECK(d.feed(p::ByteView(in).subspan(8)) == 8);
    CHECK(d.ready());
}

TEST_CASE("a frame over frame_max is refused on its header alone") {
    p::FrameDecoder d(4096);
    const p::Bytes header{3, 0, 1, 0, 0, 0x10, 0x01};  // 4097 bytes claimed
    CHECK(d.feed(header) == 7);
    CHECK(d.error() == CodecError::frame_too_large);
    CHECK(d.header().size == 4097);
    CHECK(d.feed(header) == 0);

    p::FrameDecoder exact(4096);
    p::Bytes in;
    REQUIRE_FALSE(p::encode_frame(3, 1, p::as_bytes(std::string(4096, 'x')), in));
    CHECK(decode_all(exact, in, 4096).size() == 1);  // RabbitMQ allows a payload of frame_max

    p::FrameDecoder unlimited(0);
    CHECK(unlimited.feed(header) == 7);
    CHECK_FALSE(unlimited.error());
}

TEST_CASE("a wrong frame-end octet is an error carrying the payload") {
    p::Bytes in;
    REQUIRE_FALSE(p::encode_frame(3, 1, p::as_bytes("abc"), in));
    in.back() = 0x00;
    const std::size_t chunk = GENERATE(1, 100);
    p::FrameDecoder d;
    std::error_code ec;
    CHECK(decode_all(d, in, chunk, &ec).empty());
    CHECK(ec == CodecError::bad_frame_end);
    CHECK(std::string(p::as_chars(d.payload())) == "abc");
    CHECK(d.bad_end_octet() == 0);
}

TEST_CASE("content frames: a header, then bodies of at most frame_max - 8 bytes") {
    warren::BasicProperties props;
    props.content_type = "text/plain";
    const std::string body(10000, 'b');
    p::Bytes out;
    REQUIRE_FALSE(p::encode_content_frames(7, props, body, 4096, out));
    p::FrameDecoder d(0);
    const auto frames = decode_all(d, out, out.size());
    REQUIRE(frames.size() == 4);
    CHECK(frames[0].type == p::frame_type::header);
    const auto h = p::decode_content_header(p::as_bytes(frames[0].payload));
    REQUIRE_FALSE(h.error);
    CHECK(h.value.body_size == 10000);
    CHECK(h.value.properties == props);
    CHECK(frames[1].payload.size() == 4088);
    CHECK(frames[2].payload.size() == 4088);
    CHECK(frames[3].payload.size() == 10000 - 2 * 4088);
    for (const auto& f : frames) CHECK(f.channel == 7);

    out.clear();
    REQUIRE_FALSE(p::encode_content_frames(1, {}, "", 4096, out));
    CHECK(decode_all(d, out, out.size()).size() == 1);  // no body frame for an empty body
}
