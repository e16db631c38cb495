// RabbitMQ's texts that print Erlang terms. RabbitMQ formats them with io_lib:format's ~p: a
// binary prints as <<"text">> when every byte is printable Latin-1 and as <<1,2,3>> otherwise,
// and a term too long for the rest of its line is broken the way io_lib_pretty breaks it (line
// length 80, starting at the column the text before it reached). This is one printer for every
// such text: the bad frame texts below and the headers exchange's x-match texts, checked byte
// for byte against the Erlang runtime the broker runs on (OTP 25). Pure functions.
//
// ~p, not ~tp: with ~tp a binary that is valid UTF-8 would print as <<"héllo"/utf8>>, but none
// of the texts reproduced here uses ~tp (RabbitMQ 3.10.8's rabbit_exchange_type_headers formats
// the x-match value with ~p), so that mode is not implemented.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "warren/protocol/field_value.hpp"
#include "warren/protocol/wire.hpp"

namespace warren::protocol::erlang {

/// An Erlang term, as far as RabbitMQ's texts need them: atoms, integers, floats, binaries,
/// proper lists and tuples.
class Term {
public:
    enum class Kind : std::uint8_t { Atom, Integer, Float, Binary, List, Tuple };

    static Term atom(std::string_view name);
    static Term integer(std::int64_t value);
    static Term unsigned_integer(std::uint64_t value);
    static Term floating(double value);
    static Term binary(std::string_view bytes);
    static Term binary(ByteView bytes);
    static Term list(std::vector<Term> elements);
    static Term tuple(std::vector<Term> elements);

    Kind kind() const noexcept { return kind_; }
    /// An atom's name, an integer's or float's printed digits, a binary's bytes.
    const std::string& text() const noexcept { return text_; }
    /// A list's or tuple's elements.
    const std::vector<Term>& elements() const noexcept { return elements_; }

private:
    Term(Kind kind, std::string text, std::vector<Term> elements = {})
        : kind_(kind), text_(std::move(text)), elements_(std::move(elements)) {}

    Kind kind_;
    std::string text_;
    std::vector<Term> elements_;
};

/// io_lib:format("~p", [Term]) when the term starts at 0-based `column` of its line.
std::string pretty(const Term& term, std::size_t column);

/// io_lib:format(Format, Args) for formats whose only directives are ~p, ~n and ~~: each ~p is
/// printed at the column the text before it reached (a tab advancing to the next multiple of
/// 8), as io_lib_format does. Throws std::invalid_argument when the directives and the
/// arguments disagree.
std::string format(std::string_view format, std::initializer_list<Term> args);

/// io_lib:format("~p", [Binary]) when the binary starts at 0-based `column` of its line.
std::string pretty_binary(ByteView bytes, std::size_t column);

/// io_lib:format("~w", [Binary]): every byte as an integer, no line breaks. Stops after about
/// `max_chars` characters, since RabbitMQ cuts reply texts at 255 bytes anyway.
std::string write_binary(ByteView bytes, std::size_t max_chars = 512);

/// A float as Erlang writes it (float_to_list(F, [short])): the shortest digits that read back
/// as the same double, written plainly unless the zeros that needs would take more characters
/// than the exponent form's additions ("1.0", "0.0015", "100.0", "1.0e3", "1.5e-4").
std::string float_text(double value);

/// The term rabbit_binary_parser decodes a field value to: integers for every integer type and
/// timestamps, floats, {Scale, Value} for decimals, binaries for strings and byte arrays,
/// true / false / undefined, [{Key, Type, Value}] for tables and [{Type, Value}] for arrays.
Term rabbit_term(const FieldValue& value);

}  // namespace warren::protocol::erlang

namespace warren::protocol {

/// rabbit_reader:frame_error(unknown_frame, ...): "type 9, all octets = <<"abc">>: unknown_frame"
std::string unknown_frame_explanation(std::uint8_t type, ByteView payload);
/// rabbit_reader:frame_error({invalid_frame_end_marker, End}, ...).
std::string invalid_frame_end_explanation(std::uint8_t type, ByteView payload, std::uint8_t end);
/// rabbit_reader:frame_error({frame_too_large, Size, FrameMax - 8}, ...), payload <<>>.
std::string frame_too_large_explanation(std::uint8_t type, std::uint32_t size,
                                        std::uint32_t frame_max);
/// rabbit_reader:unexpected_frame: "type 8, all octets = <<>>".
std::string unexpected_frame_explanation(std::uint8_t type, ByteView payload);
/// rabbit_misc:frame_error: "cannot decode <<0,0,1,113>>".
std::string cannot_decode_explanation(ByteView arguments);

}  // namespace warren::protocol
