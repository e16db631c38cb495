// Field table and array decoding: never crashes, and whatever decodes re-encodes to bytes that
// decode to the same value.
#include <cstdint>
#include <cstdlib>

#include "warren/protocol/wire.hpp"

namespace p = warren::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const p::ByteView in(data, size);
    (void)p::is_rabbit_utf8(p::as_chars(in));

    warren::FieldTable table;
    if (!p::decode_field_table(in, table)) {
        p::Bytes out;
        if (p::encode_field_table(table, out)) std::abort();
        warren::FieldTable again;
        if (p::decode_field_table(p::ByteView(out).subspan(4), again) || !(again == table)) std::abort();
    }
    warren::FieldArray array;
    if (!p::decode_field_array(in, array)) {
        p::Bytes out;
        if (p::encode_field_array(array, out)) std::abort();
        warren::FieldArray again;
        if (p::decode_field_array(p::ByteView(out).subspan(4), again) || !(again == array)) std::abort();
    }
    return 0;
}
