#include "warren/emulator/binding.hpp"

#include "warren/emulator/exchange.hpp"
#include "warren/emulator/queue.hpp"

namespace warren::emulator {

const std::string& Binding::destination_name() const noexcept {
    return queue ? queue->name() : exchange->name();
}

}  // namespace warren::emulator
