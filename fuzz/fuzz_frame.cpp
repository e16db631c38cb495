// FrameDecoder: never crashes, never yields a payload over frame_max, and cuts the same frames
// (and the same error) whether the input comes whole or in pieces.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "warren/protocol/frame.hpp"

namespace p = warren::protocol;

namespace {

struct Outcome {
    std::vector<std::string> frames;
    std::error_code error;
    friend bool operator==(const Outcome&, const Outcome&) = default;
};

Outcome run(p::ByteView in, std::uint32_t frame_max, std::size_t chunk) {
    Outcome o;
    p::FrameDecoder d(frame_max);
    std::size_t at = 0;
    while (at < in.size() && !o.error) {
        const std::size_t n = std::min(chunk, in.size() - at);
        const std::size_t used = d.feed(in.subspan(at, n));
        if (used > n) std::abort();
        at += used;
        if (d.error()) {
            o.error = d.error();
        } else if (d.ready()) {
            if (frame_max != 0 && d.payload().size() > frame_max) std::abort();
            if (d.payload().size() != d.header().size) std::abort();
            o.frames.push_back(std::to_string(d.header().type) + ":" + std::to_string(d.header().channel) +
                               ":" + std::string(p::as_chars(d.payload())));
            d.next();
        } else if (used == 0) {
            std::abort();  // no progress without a frame or an error
        }
    }
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    // The first byte picks frame_max: no limit, the minimum, or a small odd value.
    const std::uint32_t limits[] = {0, 4096, 131072, 16, 100};
    const std::uint32_t frame_max = limits[data[0] % 5];
    const p::ByteView in(data + 1, size - 1);
    const Outcome whole = run(in, frame_max, in.size() + 1);
    const Outcome bytewise = run(in, frame_max, 1);
    const Outcome pieces = run(in, frame_max, 1 + data[0] / 5);
    if (!(whole == bytewise) || !(whole == pieces)) std::abort();
    return 0;
}
