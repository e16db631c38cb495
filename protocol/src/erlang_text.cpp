#include "warren/protocol/erlang_text.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

namespace warren::protocol::erlang {

namespace {

constexpr std::size_t line_length = 80;

/// io_lib_pretty:printable_latin1_list: ' '..'~', 160..255 and the seven escapable controls.
bool printable_latin1(std::uint8_t c) {
    switch (c) {
        case '\n': case '\r': case '\t': case '\v': case '\b': case '\f': case 0x1b:
            return true;
        default:
            return (c >= 0x20 && c <= 0x7e) || c >= 0xa0;
    }
}

/// io_lib:write_string(Chars, $"): the quoted form with Erlang's escapes.
std::string quoted(ByteView bytes) {
    std::string s = "\"";
    for (const std::uint8_t c : bytes) {
        switch (c) {
            case '"': s += "\\\""; break;
            case '\\': s += "\\\\"; break;
            case '\n': s += "\\n"; break;
            case '\r': s += "\\r"; break;
            case '\t': s += "\\t"; break;
            case '\v': s += "\\v"; break;
            case '\b': s += "\\b"; break;
            case '\f': s += "\\f"; break;
            case 0x1b: s += "\\e"; break;
            default: s += static_cast<char>(c);
        }
    }
    return s + "\"";
}

/// The length of the text after its last newline.
std::size_t column_after(std::string_view text) {
    const auto nl = text.rfind('\n');
    return nl == std::string_view::npos ? text.size() : text.size() - nl - 1;
}

/// io_lib_pretty's layout of a tuple {tag, Int, ...} at 0-based `column`: flat when it fits
/// the line, else the tag tuple layout with one-space indentation (the only one
/// io_lib_pretty picks for these short tags past the middle of the line).
std::string pretty_tag_tuple(std::string_view tag, const std::vector<std::uint64_t>& items,
                             std::size_t column) {
    std::string flat = "{" + std::string(tag);
    for (const auto v : items) flat += "," + std::to_string(v);
    flat += "}";
    const std::size_t col = column + 1;  // io_lib_pretty counts columns from 1
    if (flat.size() + col < line_length) return flat;
    const std::string indent(col, ' ');
    std::string out = "{" + std::string(tag);
    std::size_t at = col + tag.size() + 2;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const std::string e = std::to_string(items[i]);
        const std::size_t width = e.size() + 1;
        // pp_tail: a middle element needs room for itself and a comma, the last one for itself
        // and the closing brace: the same sum.
        if (width + 1 + at < line_length) {
            out += "," + e;
            at += width;
        } else {
            out += ",\n" + indent + e;
            at = col + 1 + e.size();
        }
    }
    return out + "}";
}

}  // namespace

std::string pretty_binary(ByteView bytes, std::size_t column) {
    if (!bytes.empty() && std::all_of(bytes.begin(), bytes.end(), printable_latin1))
        return "<<" + quoted(bytes) + ">>";  // printed flat whatever its length
    std::vector<std::string> items;
    items.reserve(bytes.size());
    std::size_t flat_size = 4;
    for (const std::uint8_t b : bytes) {
        items.push_back(std::to_string(b));
        flat_size += items.back().size();
    }
    if (!items.empty()) flat_size += items.size() - 1;
    const std::size_t col = column + 1;
    std::string out = "<<";
    if (flat_size + col < line_length) {
        for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
        return out + ">>";
    }
    // io_lib_pretty:pp_binary: fill lines of N characters, continuing under the first byte.
    const std::size_t inner_col = col + 2;
    const std::size_t width =
        std::max<std::ptrdiff_t>(8, std::min<std::ptrdiff_t>(
                                        static_cast<std::ptrdiff_t>(line_length) -
                                            static_cast<std::ptrdiff_t>(inner_col),
                                        static_cast<std::ptrdiff_t>(flat_size) - 4));
    const std::string indent(column + 2, ' ');
    std::ptrdiff_t room = static_cast<std::ptrdiff_t>(width);
    for (std::size_t i = 0; i + 1 < items.size(); ++i) {
        const auto len = static_cast<std::ptrdiff_t>(items[i].size() + 1);
        if (room - len < 0) {
            out += "\n" + indent + items[i] + ",";
            room = static_cast<std::ptrdiff_t>(width) - len;
        } else {
            out += items[i] + ",";
            room -= len;
        }
    }
    if (!items.empty()) {
        const std::string& last = items.back();
        if (static_cast<std::ptrdiff_t>(last.size()) > room) out += "\n" + indent;
        out += last;
    }
    return out + ">>";
}

std::string write_binary(ByteView bytes, std::size_t max_chars) {
    std::string out = "<<";
    for (std::size_t i = 0; i < bytes.size() && out.size() < max_chars; ++i) {
        if (i) out += ',';
        out += std::to_string(bytes[i]);
    }
    return out + ">>";
}

}  // namespace warren::protocol::erlang

namespace warren::protocol {

namespace {

using erlang::column_after;
using erlang::pretty_tag_tuple;

/// "type ~p, ~s octets = ~p" (rabbit_reader:payload_snippet keeps the first 16 bytes).
std::string frame_prefix(std::uint8_t type, ByteView payload) {
    std::string s = "type " + std::to_string(type) + ", ";
    if (payload.size() <= 16) {
        s += "all octets = ";
    } else {
        s += "first 16 octets = ";
        payload = payload.first(16);
    }
    return s + erlang::pretty_binary(payload, column_after(s));
}

}  // namespace

std::string unknown_frame_explanation(std::uint8_t type, ByteView payload) {
    return frame_prefix(type, payload) + ": unknown_frame";
}

std::string invalid_frame_end_explanation(std::uint8_t type, ByteView payload, std::uint8_t end) {
    std::string s = frame_prefix(type, payload) + ": ";
    return s + pretty_tag_tuple("invalid_frame_end_marker", {end}, column_after(s));
}

std::string frame_too_large_explanation(std::uint8_t type, std::uint32_t size,
                                        std::uint32_t frame_max) {
    std::string s = frame_prefix(type, {}) + ": ";
    // Checked only when frame_max >= 4096, so FrameMax - 8 never goes negative.
    return s + pretty_tag_tuple("frame_too_large", {size, frame_max - 8u}, column_after(s));
}

std::string unexpected_frame_explanation(std::uint8_t type, ByteView payload) {
    return frame_prefix(type, payload);
}

std::string cannot_decode_explanation(ByteView arguments) {
    return "cannot decode " + erlang::write_binary(arguments);
}

}  // namespace warren::protocol
