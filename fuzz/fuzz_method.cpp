// Method decoding: never crashes; a decoded method encodes and decodes back to itself.
#include <cstdint>
#include <cstdlib>

#include "warren/protocol/methods.hpp"

namespace p = warren::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto decoded = p::decode_method(p::ByteView(data, size));
    if (decoded.error) return 0;
    const warren::MethodId id = p::method_id(decoded.value);
    if (!p::is_known_method(id) || p::method_name(id).empty()) std::abort();
    p::Bytes out;
    if (p::encode(decoded.value, out)) std::abort();
    auto again = p::decode_method(out);
    if (again.error || !(again.value == decoded.value)) std::abort();
    return 0;
}
