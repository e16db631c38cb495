// RabbitMQ's reply texts that print Erlang terms. RabbitMQ formats the payload of a bad frame
// with io_lib:format's ~p, which prints a binary as <<"text">> when every byte is printable
// Latin-1 and as <<1,2,3>> otherwise, and breaks lines past column 80 the way io_lib_pretty
// does; these functions reproduce that byte for byte for the shapes RabbitMQ 3.10 prints
// (checked against the Erlang runtime the broker runs on). Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "warren/protocol/wire.hpp"

namespace warren::protocol::erlang {

/// io_lib:format("~p", [Binary]) when the binary starts at 0-based `column` of its line.
std::string pretty_binary(ByteView bytes, std::size_t column);

/// io_lib:format("~w", [Binary]): every byte as an integer, no line breaks. Stops after about
/// `max_chars` characters, since RabbitMQ cuts reply texts at 255 bytes anyway.
std::string write_binary(ByteView bytes, std::size_t max_chars = 512);

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
