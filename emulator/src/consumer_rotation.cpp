#include "consumer.hpp"

#include <algorithm>

namespace warren::emulator {

void ConsumerRotation::remove(const Consumer* c) {
    if (auto it = std::find(active_.begin(), active_.end(), c); it != active_.end()) {
        active_.erase(it);
        return;
    }
    if (auto it = std::find(blocked_.begin(), blocked_.end(), c); it != blocked_.end())
        blocked_.erase(it);
}

bool ConsumerRotation::is_blocked(const Consumer* c) const noexcept {
    return std::find(blocked_.begin(), blocked_.end(), c) != blocked_.end();
}

void ConsumerRotation::block_in_place(Consumer* c) {
    if (auto it = std::find(active_.begin(), active_.end(), c); it != active_.end()) active_.erase(it);
    block(c);
}

}  // namespace warren::emulator
