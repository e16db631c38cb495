// Factories for the built-in exchange types; make_exchange_type picks among them by name.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "exchange_type.hpp"

namespace warren::emulator {

/// Hash for std::string-keyed unordered maps that look keys up by std::string_view without
/// building a std::string (pair it with std::equal_to<>).
struct StringViewHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

std::unique_ptr<ExchangeType> make_direct_exchange_type();
std::unique_ptr<ExchangeType> make_fanout_exchange_type();
std::unique_ptr<ExchangeType> make_topic_exchange_type();
std::unique_ptr<ExchangeType> make_headers_exchange_type();

}  // namespace warren::emulator
