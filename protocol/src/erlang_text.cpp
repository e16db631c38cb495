#include "warren/protocol/erlang_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace warren::protocol::erlang {

// ---- terms ------------------------------------------------------------------------------------

Term Term::atom(std::string_view name) { return Term(Kind::Atom, std::string(name)); }
Term Term::integer(std::int64_t value) { return Term(Kind::Integer, std::to_string(value)); }
Term Term::unsigned_integer(std::uint64_t value) {
    return Term(Kind::Integer, std::to_string(value));
}
Term Term::floating(double value) { return Term(Kind::Float, float_text(value)); }
Term Term::binary(std::string_view bytes) { return Term(Kind::Binary, std::string(bytes)); }
Term Term::binary(ByteView bytes) { return binary(as_chars(bytes)); }
Term Term::list(std::vector<Term> elements) { return Term(Kind::List, {}, std::move(elements)); }
Term Term::tuple(std::vector<Term> elements) { return Term(Kind::Tuple, {}, std::move(elements)); }

std::string float_text(double value) {
    if (value == 0) return std::signbit(value) ? "-0.0" : "0.0";
    char buffer[64];
    const auto written =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
    // [-]d[.ddd]e(+|-)xx: the shortest digits that read back as the same double.
    const std::string_view scientific(buffer, static_cast<std::size_t>(written.ptr - buffer));
    const std::size_t e_at = scientific.find('e');
    std::string digits;
    for (const char c : scientific.substr(0, e_at))
        if (c >= '0' && c <= '9') digits += c;
    std::string_view exponent_text = scientific.substr(e_at + 1);
    if (exponent_text.front() == '+') exponent_text.remove_prefix(1);
    int exponent = 0;
    std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);

    const std::string sign = value < 0 ? "-" : "";
    const int length = static_cast<int>(digits.size());
    const int point = exponent + 1;  // value = 0.<digits> * 10^point
    // What the exponent form adds to the digits: '.', a '0' after a lone digit, 'e', exponent.
    const int exponent_extra =
        (length == 1 ? 2 : 1) + 1 + static_cast<int>(std::to_string(exponent).size());
    const std::string exponent_form =
        fmt::format("{}.{}e{}", digits.front(), length == 1 ? "0" : digits.substr(1), exponent);
    if (point == 0) return sign + "0." + digits;
    if (point > 0 && point < length)
        return sign + digits.substr(0, static_cast<std::size_t>(point)) + "." +
               digits.substr(static_cast<std::size_t>(point));
    if (point < 0) {
        const int plain_extra = 2 - point;  // "0." and the zeros
        return sign + (plain_extra <= exponent_extra
                           ? "0." + std::string(static_cast<std::size_t>(-point), '0') + digits
                           : exponent_form);
    }
    const int plain_extra = point - length + 2;  // the zeros and ".0"
    return sign + (plain_extra <= exponent_extra
                       ? digits + std::string(static_cast<std::size_t>(point - length), '0') + ".0"
                       : exponent_form);
}

Term rabbit_term(const FieldValue& value) {
    using Type = FieldValue::Type;
    switch (value.type()) {
        case Type::Void: return Term::atom("undefined");
        case Type::Bool: return Term::atom(value.as_bool() ? "true" : "false");
        case Type::UInt64: return Term::unsigned_integer(std::get<std::uint64_t>(value.storage()));
        case Type::Float: return Term::floating(std::get<float>(value.storage()));
        case Type::Double: return Term::floating(std::get<double>(value.storage()));
        case Type::Decimal: {
            const Decimal d = value.as_decimal();
            return Term::tuple({Term::integer(d.scale), Term::integer(d.value)});
        }
        case Type::String: return Term::binary(std::string_view(value.as_string()));
        case Type::Bytes: return Term::binary(std::string_view(value.as_bytes().bytes));
        case Type::Timestamp: return Term::unsigned_integer(value.as_timestamp().seconds);
        case Type::Table: {
            std::vector<Term> entries;
            for (const auto& [key, item] : value.as_table())
                entries.push_back(Term::tuple({Term::binary(std::string_view(key)),
                                               Term::atom(rabbit_type_name(item.type())),
                                               rabbit_term(item)}));
            return Term::list(std::move(entries));
        }
        case Type::Array: {
            std::vector<Term> items;
            for (const FieldValue& item : value.as_array())
                items.push_back(
                    Term::tuple({Term::atom(rabbit_type_name(item.type())), rabbit_term(item)}));
            return Term::list(std::move(items));
        }
        default: return Term::integer(value.as_int());  // the signed integer types
    }
}

namespace {

// ---- flat texts -------------------------------------------------------------------------------

constexpr long line_length = 80;

/// io_lib:printable_latin1_list's characters: ' '..'~', 160..255 and the seven escapable
/// controls.
bool printable_latin1(unsigned c) {
    switch (c) {
        case '\n': case '\r': case '\t': case '\v': case '\b': case '\f': case 0x1b:
            return true;
        default:
            return (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xff);
    }
}

/// io_lib:write_string(Chars, Quote) for Latin-1 characters: the quoted form with Erlang's
/// escapes, other control characters in octal.
std::string quoted(std::string_view chars, char quote) {
    std::string s(1, quote);
    for (const char ch : chars) {
        const auto c = static_cast<unsigned char>(ch);
        if (ch == quote || ch == '\\') {
            s += '\\';
            s += ch;
            continue;
        }
        switch (c) {
            case '\n': s += "\\n"; break;
            case '\r': s += "\\r"; break;
            case '\t': s += "\\t"; break;
            case '\v': s += "\\v"; break;
            case '\b': s += "\\b"; break;
            case '\f': s += "\\f"; break;
            case 0x1b: s += "\\e"; break;
            case 0x7f: s += "\\d"; break;
            default:
                if (c < 0x20 || (c >= 0x80 && c < 0xa0))
                    s += fmt::format("\\{:03o}", c);
                else
                    s += ch;
        }
    }
    return s + quote;
}

bool is_reserved_word(std::string_view name) {
    static constexpr std::string_view words[] = {
        "after", "and",  "andalso", "band", "begin",   "bnot",  "bor", "bsl",
        "bsr",   "bxor", "case",    "catch", "cond",   "div",   "end", "fun",
        "if",    "let",  "not",     "of",   "or",      "orelse", "receive", "rem",
        "try",   "when", "xor"};
    return std::find(std::begin(words), std::end(words), name) != std::end(words);
}

/// io_lib:write_atom_as_latin1: bare when it reads back as the same atom, else quoted.
std::string atom_text(std::string_view name) {
    auto lower = [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 0xdf && c != 0xf7);
    };
    auto name_char = [&](unsigned char c) {
        return lower(c) || (c >= 'A' && c <= 'Z') || (c >= 0xc0 && c <= 0xde && c != 0xd7) ||
               (c >= '0' && c <= '9') || c == '_' || c == '@';
    };
    const bool bare = !name.empty() && lower(static_cast<unsigned char>(name.front())) &&
                      std::all_of(name.begin(), name.end(),
                                  [&](char c) { return name_char(static_cast<unsigned char>(c)); }) &&
                      !is_reserved_word(name);
    return bare ? std::string(name) : quoted(name, '\'');
}

/// A list of integers io_lib_pretty prints as a string ("abc"): every element a printable
/// Latin-1 character code.
bool printable_list(const std::vector<Term>& elements) {
    return std::all_of(elements.begin(), elements.end(), [](const Term& t) {
        unsigned code = 0;
        const std::string& digits = t.text();
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), code);
        return t.kind() == Term::Kind::Integer && ec == std::errc{} &&
               end == digits.data() + digits.size() && printable_latin1(code);
    });
}

// ---- io_lib_pretty's layout -------------------------------------------------------------------

/// io_lib_pretty's intermediate form of a term: its flat text's length and, for what it may
/// break across lines, its parts.
struct Node {
    enum class Shape : std::uint8_t { Leaf, Bin, List, Tuple };
    Shape shape = Shape::Leaf;
    bool tagged = false;              // a tuple of two or more elements starting with an atom
    std::string text;                 // Leaf: the whole text
    std::vector<std::string> bytes;   // Bin: each byte as an integer
    std::vector<Node> elements;       // List, Tuple
    long length = 0;                  // the flat text's length
};

Node leaf(std::string text) {
    Node n;
    n.length = static_cast<long>(text.size());
    n.text = std::move(text);
    return n;
}

Node intermediate(const Term& term) {
    using Kind = Term::Kind;
    switch (term.kind()) {
        case Kind::Atom: return leaf(atom_text(term.text()));
        case Kind::Integer:
        case Kind::Float: return leaf(term.text());
        case Kind::Binary: {
            const std::string& b = term.text();
            if (b.empty()) return leaf("<<>>");
            if (std::all_of(b.begin(), b.end(),
                            [](char c) { return printable_latin1(static_cast<unsigned char>(c)); }))
                return leaf("<<" + quoted(b, '"') + ">>");  // flat whatever its length
            Node n;
            n.shape = Node::Shape::Bin;
            n.length = 4 + static_cast<long>(b.size()) - 1;
            for (const char c : b) {
                n.bytes.push_back(std::to_string(static_cast<unsigned char>(c)));
                n.length += static_cast<long>(n.bytes.back().size());
            }
            return n;
        }
        case Kind::List:
        case Kind::Tuple: {
            const auto& elements = term.elements();
            const bool list = term.kind() == Kind::List;
            if (elements.empty()) return leaf(list ? "[]" : "{}");
            if (list && printable_list(elements)) {
                std::string chars;
                for (const Term& t : elements) chars += static_cast<char>(std::stoi(t.text()));
                return leaf(quoted(chars, '"'));
            }
            Node n;
            n.shape = list ? Node::Shape::List : Node::Shape::Tuple;
            n.tagged = !list && elements.size() > 1 && elements.front().kind() == Kind::Atom;
            n.length = 2 + static_cast<long>(elements.size()) - 1;
            for (const Term& t : elements) {
                n.elements.push_back(intermediate(t));
                n.length += n.elements.back().length;
            }
            return n;
        }
    }
    return leaf("");
}

void write(const Node& n, std::string& out) {
    switch (n.shape) {
        case Node::Shape::Leaf: out += n.text; return;
        case Node::Shape::Bin:
            out += "<<";
            for (std::size_t i = 0; i < n.bytes.size(); ++i) {
                if (i) out += ',';
                out += n.bytes[i];
            }
            out += ">>";
            return;
        case Node::Shape::List:
        case Node::Shape::Tuple: {
            const bool list = n.shape == Node::Shape::List;
            out += list ? '[' : '{';
            for (std::size_t i = 0; i < n.elements.size(); ++i) {
                if (i) out += ',';
                write(n.elements[i], out);
            }
            out += list ? ']' : '}';
            return;
        }
    }
}

/// io_lib_pretty:print for a term that does not fit the rest of its line, with the names of
/// its arguments: Col is the 1-based column, Ind the indentation of continuation lines, LD the
/// closing brackets that follow on the last line, W the width already taken on the line by the
/// term, M the whole term's flat length (io_lib:format sets no line_max_chars).
class Layout {
public:
    explicit Layout(long whole_length) : m_(whole_length) {}

    /// io_lib_pretty's choice of tag-tuple indentation: the first of none (-1) and 4 whose
    /// layout keeps within bounds, else 1.
    long tuple_indent(const Node& n, long col) const {
        if (cind(n, col, -1, 0, 0)) return -1;
        if (cind(n, col, 4, 0, 0)) return 4;
        return 1;
    }

    void pp(const Node& n, long col, long tind, long ind, long ld, long w, std::string& out) const {
        if (fits(n, col, ld, w)) return write(n, out);
        switch (n.shape) {
            case Node::Shape::Leaf: out += n.text; return;
            case Node::Shape::Bin: return pp_binary(n, col + 2, ind + 2, ld, w, out);
            case Node::Shape::List:
                out += '[';
                pp_list(n.elements, 0, col + 1, tind, ind + 1, ld, w + 1, out);
                out += ']';
                return;
            case Node::Shape::Tuple:
                out += '{';
                if (n.tagged)
                    pp_tag_tuple(n.elements, col, tind, ind, ld, w + 1, out);
                else
                    pp_list(n.elements, 0, col + 1, tind, ind + 1, ld, w + 1, out);
                out += '}';
                return;
        }
    }

private:
    using Elements = std::vector<Node>;

    bool fits(const Node& n, long col, long ld, long w) const {
        return n.length < line_length - col - ld && n.length + w + ld <= m_;
    }

    /// pp_tail's test for writing the next element flat after a comma on the same line.
    bool fits_after(const Node& e, long col, long ld, long w) const {
        if (e.shape != Node::Shape::Leaf) return false;
        const long len = 1 + e.length;
        return ld == 0 ? len + 1 < line_length - col && w + len + 1 <= m_
                       : len < line_length - col - ld && w + len + ld <= m_;
    }

    static long last_depth(const Elements& l, std::size_t next, long ld) {
        return next < l.size() ? 0 : ld + 1;
    }

    static void newline(long ind, std::string& out) {
        out += '\n';
        out.append(static_cast<std::size_t>(std::max(0L, ind)), ' ');
    }

    void pp_tag_tuple(const Elements& l, long col, long tind, long ind, long ld, long w,
                      std::string& out) const {
        const long tag_length = l.front().length;
        const long tag_ind = tag_length + 2;
        const long tcol = col + tag_ind;
        write(l.front(), out);
        if (tind > 0 && tag_ind > tind) {
            pp_tail(l, 1, col + tind, tcol, tind, ind + tind, ld, w + tag_length, out);
        } else {
            out += ',';
            pp_list(l, 1, tcol, tind, ind + tag_ind, ld, w + tag_length + 1, out);
        }
    }

    void pp_list(const Elements& l, std::size_t from, long col0, long tind, long ind, long ld,
                 long w, std::string& out) const {
        const long we = pp_element(l[from], col0, tind, ind, last_depth(l, from + 1, ld), w, out);
        pp_tail(l, from + 1, col0, col0 + we, tind, ind, ld, w + we, out);
    }

    void pp_tail(const Elements& l, std::size_t from, long col0, long col, long tind, long ind,
                 long ld, long w, std::string& out) const {
        for (std::size_t i = from; i < l.size(); ++i) {
            const Node& e = l[i];
            const long ld1 = last_depth(l, i + 1, ld);
            if (fits_after(e, col, ld1, w)) {
                out += ',';
                write(e, out);
                col += 1 + e.length;
                w += 1 + e.length;
            } else {
                out += ',';
                newline(ind, out);
                const long we = pp_element(e, col0, tind, ind, ld1, 0, out);
                col = col0 + we;
                w = we;
            }
        }
    }

    long pp_element(const Node& e, long col, long tind, long ind, long ld, long w,
                    std::string& out) const {
        if (fits(e, col, ld, w) && e.shape == Node::Shape::Leaf) {
            write(e, out);
            return e.length;
        }
        pp(e, col, tind, ind, ld, w, out);
        return line_length;
    }

    /// pp_binary: the bytes fill lines of N characters, continuing under the first byte.
    void pp_binary(const Node& n, long col, long ind, long ld, long w, std::string& out) const {
        const long width = std::max(8L, std::min(line_length - col, m_ - 4 - w) - ld);
        long room = width;
        out += "<<";
        for (std::size_t i = 0; i + 1 < n.bytes.size(); ++i) {
            const long len = static_cast<long>(n.bytes[i].size()) + 1;
            if (room - len < 0) {
                newline(ind, out);
                room = width - len;
            } else {
                room -= len;
            }
            out += n.bytes[i];
            out += ',';
        }
        const std::string& last = n.bytes.back();
        if (static_cast<long>(last.size()) > room) newline(ind, out);
        out += last;
        out += ">>";
    }

    // cind and its helpers walk the layout pp would make and say whether it stays within
    // io_lib_pretty's bounds for the tag-tuple indentation `ind` (false: its no_good).

    bool cind(const Node& n, long col, long ind, long ld, long w) const {
        if (fits(n, col, ld, w)) return true;
        switch (n.shape) {
            case Node::Shape::List: return cind_list(n.elements, 0, col + 1, ind, ld, w + 1);
            case Node::Shape::Tuple:
                return n.tagged ? cind_tag_tuple(n.elements, col, ind, ld, w + 1)
                                : cind_list(n.elements, 0, col + 1, ind, ld, w + 1);
            default: return true;
        }
    }

    bool cind_tag_tuple(const Elements& l, long col, long ind, long ld, long w) const {
        const long tag_length = l.front().length;
        const long tag_ind = tag_length + 2;
        const long tcol = col + tag_ind;
        if (ind > 0 && tag_ind > ind) {
            const long col1 = col + ind;
            if (m_ + col1 <= line_length || col1 <= line_length / 2)
                return cind_tail(l, 1, col1, tcol, ind, ld, w + tag_length);
            return false;
        }
        if (m_ + tcol < line_length || tcol < line_length / 2)
            return cind_list(l, 1, tcol, ind, ld, w + tag_length + 1);
        return false;
    }

    bool cind_list(const Elements& l, std::size_t from, long col0, long ind, long ld,
                   long w) const {
        long we = 0;
        if (!cind_element(l[from], col0, ind, last_depth(l, from + 1, ld), w, we)) return false;
        return cind_tail(l, from + 1, col0, col0 + we, ind, ld, w + we);
    }

    bool cind_tail(const Elements& l, std::size_t from, long col0, long col, long ind, long ld,
                   long w) const {
        for (std::size_t i = from; i < l.size(); ++i) {
            const Node& e = l[i];
            const long ld1 = last_depth(l, i + 1, ld);
            if (fits_after(e, col, ld1, w)) {
                col += 1 + e.length;
                w += 1 + e.length;
            } else {
                long we = 0;
                if (!cind_element(e, col0, ind, ld1, 0, we)) return false;
                col = col0 + we;
                w = we;
            }
        }
        return true;
    }

    bool cind_element(const Node& e, long col, long ind, long ld, long w, long& we) const {
        if (fits(e, col, ld, w) && e.shape == Node::Shape::Leaf) {
            we = e.length;
            return true;
        }
        we = line_length;
        return cind(e, col, ind, ld, w);
    }

    long m_;
};

/// The length of the text after its last newline, a tab reaching the next multiple of 8
/// (io_lib_format's indentation).
std::size_t column_after(std::string_view text) {
    const auto nl = text.rfind('\n');
    if (nl != std::string_view::npos) text.remove_prefix(nl + 1);
    std::size_t column = 0;
    for (const char c : text) column = c == '\t' ? (column + 8) / 8 * 8 : column + 1;
    return column;
}

}  // namespace

std::string pretty(const Term& term, std::size_t column) {
    const Node n = intermediate(term);
    std::string out;
    const long col = static_cast<long>(column) + 1;  // io_lib_pretty counts columns from 1
    if (n.shape == Node::Shape::Leaf || n.length < line_length - col) {
        write(n, out);
        return out;
    }
    const Layout layout(n.length);
    layout.pp(n, col, layout.tuple_indent(n, col), col - 1, 0, 0, out);
    return out;
}

std::string format(std::string_view format, std::initializer_list<Term> args) {
    std::string out;
    auto arg = args.begin();
    for (std::size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '~') {
            out += format[i];
            continue;
        }
        const char directive = i + 1 < format.size() ? format[++i] : '\0';
        if (directive == '~') {
            out += '~';
        } else if (directive == 'n') {
            out += '\n';
        } else if (directive == 'p' && arg != args.end()) {
            out += pretty(*arg++, column_after(out));
        } else {
            throw std::invalid_argument("erlang::format: unknown directive or missing argument");
        }
    }
    if (arg != args.end()) throw std::invalid_argument("erlang::format: unused arguments");
    return out;
}

std::string pretty_binary(ByteView bytes, std::size_t column) {
    return pretty(Term::binary(bytes), column);
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
using erlang::Term;

/// "type ~p, ~s octets = ~p" (rabbit_reader:payload_snippet keeps the first 16 bytes).
std::string frame_prefix(std::uint8_t type, ByteView payload) {
    std::string s = "type " + std::to_string(type) + ", ";
    if (payload.size() <= 16) {
        s += "all octets = ";
    } else {
        s += "first 16 octets = ";
        payload = payload.first(16);
    }
    return s + erlang::pretty_binary(payload, s.size());
}

/// What follows the prefix: ": ~p" with the error term.
std::string with_error(std::string prefix, const Term& error) {
    prefix += ": ";
    return prefix + erlang::pretty(error, column_after(prefix));
}

}  // namespace

std::string unknown_frame_explanation(std::uint8_t type, ByteView payload) {
    return with_error(frame_prefix(type, payload), Term::atom("unknown_frame"));
}

std::string invalid_frame_end_explanation(std::uint8_t type, ByteView payload, std::uint8_t end) {
    return with_error(frame_prefix(type, payload),
                      Term::tuple({Term::atom("invalid_frame_end_marker"), Term::integer(end)}));
}

std::string frame_too_large_explanation(std::uint8_t type, std::uint32_t size,
                                        std::uint32_t frame_max) {
    // Checked only when frame_max >= 4096, so FrameMax - 8 never goes negative.
    return with_error(frame_prefix(type, {}),
                      Term::tuple({Term::atom("frame_too_large"), Term::integer(size),
                                   Term::integer(frame_max - 8u)}));
}

std::string unexpected_frame_explanation(std::uint8_t type, ByteView payload) {
    return frame_prefix(type, payload);
}

std::string cannot_decode_explanation(ByteView arguments) {
    return "cannot decode " + erlang::write_binary(arguments);
}

}  // namespace warren::protocol
