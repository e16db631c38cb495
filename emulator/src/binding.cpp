#include "binding.hpp"

#include "exchange.hpp"
#include "queue.hpp"

namespace warren::emulator {

const std::string& Binding::destination_name() const noexcept {
    return queue ? queue->name() : exchange->name();
}

}  // namespace warren::emulator
