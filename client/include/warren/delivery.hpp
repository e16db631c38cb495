// What a consumer, basic.get, a mandatory return and a publisher confirm hand to the caller.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include <fmt/ostream.h>

#include "warren/protocol/basic_properties.hpp"

namespace warren {

/// basic.deliver or basic.get-ok.
struct Delivery {
    std::uint64_t delivery_tag = 0;
    bool redelivered = false;
    std::string exchange = {};
    std::string routing_key = {};
    /// The consumer's tag; empty for basic.get.
    std::string consumer_tag = {};
    /// basic.get only: ready messages left in the queue after this one.
    std::uint32_t message_count = 0;
    Message message = {};
};

/// basic.return: a mandatory message that no queue took.
struct Returned {
    std::uint16_t reply_code = 0;
    std::string reply_text = {};
    std::string exchange = {};
    std::string routing_key = {};
    Message message = {};
};

/// A publisher confirm (basic.ack or basic.nack from the broker) under confirm_select.
struct Confirm {
    std::uint64_t delivery_tag = 0;
    bool multiple = false;
    bool ack = true;
};

std::ostream& operator<<(std::ostream& os, const Delivery& d);
std::ostream& operator<<(std::ostream& os, const Returned& r);
std::ostream& operator<<(std::ostream& os, const Confirm& c);

}  // namespace warren

template <> struct fmt::formatter<warren::Delivery> : fmt::ostream_formatter {};
template <> struct fmt::formatter<warren::Returned> : fmt::ostream_formatter {};
template <> struct fmt::formatter<warren::Confirm> : fmt::ostream_formatter {};
