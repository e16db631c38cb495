// Content header decoding: never crashes; decoded headers round trip.
#include <cstdint>
#include <cstdlib>

#include "warren/protocol/content_header.hpp"

namespace p = warren::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const p::ByteView in(data, size);
    const auto prefix = p::split_content_header(in);
    if (!prefix.error && prefix.value.properties.size() + 12 != size) std::abort();
    auto decoded = p::decode_content_header(in);
    if (decoded.error) return 0;
    p::Bytes out;
    if (p::encode(decoded.value, out)) std::abort();
    auto again = p::decode_content_header(out);
    if (again.error || !(again.value == decoded.value)) std::abort();
    return 0;
}
