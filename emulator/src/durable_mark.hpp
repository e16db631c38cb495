// A queued message's entry in the data directory's journal (journal.hpp): when the message
// leaves its queue for good, the mark's destructor records that.
#pragma once

#include <cstdint>

namespace warren::emulator {

class Journal;

/// A queued message's place in the journal. Move-only: exactly one QueuedMessage owns it.
class DurableMark {
public:
    DurableMark() = default;
    DurableMark(Journal* journal, std::uint64_t id) noexcept : journal_(journal), id_(id) {}
    DurableMark(DurableMark&& o) noexcept : journal_(o.journal_), id_(o.id_) { o.journal_ = nullptr; }
    DurableMark& operator=(DurableMark&& o) noexcept {
        if (this != &o) {
            release();
            journal_ = o.journal_;
            id_ = o.id_;
            o.journal_ = nullptr;
        }
        return *this;
    }
    DurableMark(const DurableMark&) = delete;
    DurableMark& operator=(const DurableMark&) = delete;
    ~DurableMark() { release(); }

    explicit operator bool() const noexcept { return journal_ != nullptr; }
    std::uint64_t id() const noexcept { return id_; }
    Journal* journal() const noexcept { return journal_; }

private:
    void release() noexcept;
    Journal* journal_ = nullptr;
    std::uint64_t id_ = 0;
};

}  // namespace warren::emulator
