#include "exchange_type.hpp"

#include "types.hpp"

namespace warren::emulator {

std::optional<std::string> ExchangeType::validate_binding(std::string_view /*key*/,
                                                          const FieldTable& /*arguments*/) const {
    return std::nullopt;
}

std::unique_ptr<ExchangeType> make_exchange_type(std::string_view type_name) {
    if (type_name == "direct") return make_direct_exchange_type();
    if (type_name == "fanout") return make_fanout_exchange_type();
    if (type_name == "topic") return make_topic_exchange_type();
    if (type_name == "headers") return make_headers_exchange_type();
    return nullptr;
}

}  // namespace warren::emulator
