// What falls due on the clock (a message expiring at a queue's head, an unused queue reaching
// x-expires), found and fired in due order.
#include "model.hpp"

namespace warren::emulator {

/// The earliest thing due: a message expiring at a queue's head, or an unused queue
/// reaching x-expires (deleted without dead-lettering its messages).
std::optional<Model::Due> Model::next_due() const {
    std::optional<Due> best;
    auto consider = [&](TimePoint at, Queue* q, bool queue_expiry) {
        if (!best || at < best->at) best = Due{at, q, queue_expiry};
    };
    for (auto& [vname, v] : s_.vhosts) {
        for (auto& [qname, q] : v->queues) {
            if (q->has_ready() && q->head().expires_at != TimePoint::max())
                consider(q->head().expires_at, q.get(), false);
            if (q->settings().expires && q->consumers().empty() && !q->has_cancelled_consumers())
                consider(q->expiry_due(), q.get(), true);
        }
    }
    return best;
}

/// Fires everything due up to `until`, in due order, moving a ManualClock to each moment.
void Model::run_due(TimePoint until) {
    while (auto due = next_due()) {
        if (due->at > until) return;
        if (s_.manual_clock) s_.manual_clock->set(due->at);
        Queue& q = *due->queue;
        if (due->queue_expiry) delete_queue(*q.vhost(), q);
        else expire_due(q);
    }
}

}  // namespace warren::emulator
