#include "dead_letter.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

namespace warren::emulator {
namespace {

FieldTable sorted_by_key(const FieldTable& table) {
    std::vector<FieldTable::Entry> entries(table.begin(), table.end());
    std::stable_sort(entries.begin(), entries.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    FieldTable sorted;
    for (auto& [k, v] : entries) sorted.set(std::move(k), std::move(v));
    return sorted;
}

bool entry_is(const FieldValue& entry, std::string_view queue, std::string_view reason) {
    if (entry.type() != FieldValue::Type::Table) return false;
    const FieldTable& t = entry.as_table();
    const FieldValue* q = t.find("queue");
    const FieldValue* r = t.find("reason");
    return q && r && q->is_string() && r->is_string() && q->as_string() == queue &&
           r->as_string() == reason;
}

/// Whether two x-death entries have the same queue and reason (either may be missing).
bool same_event(const FieldTable& a, const FieldTable& b) {
    const auto same = [&](std::string_view key) {
        const FieldValue* x = a.find(key);
        const FieldValue* y = b.find(key);
        return (!x && !y) || (x && y && *x == *y);
    };
    return same("queue") && same("reason");
}

/// `entry` with a count in front when it has none.
FieldTable with_count(const FieldTable& entry, std::int64_t count) {
    if (entry.contains("count")) return entry;
    FieldTable out{{"count", count}};
    for (const auto& [k, v] : entry) out.set(k, v);
    return out;
}

/// rabbit_dead_letter:group_by_queue_and_reason/1: with two entries or more, each (queue,
/// reason) is kept once, as its first entry (given a count of how many there were if it had
/// none), and the result comes out in reverse order. Entries that are not tables stay as they
/// are.
FieldArray group_by_queue_and_reason(const FieldArray& deaths) {
    if (deaths.size() < 2) return deaths;
    std::vector<FieldValue> reversed;
    std::vector<const FieldTable*> seen;
    for (const FieldValue& d : deaths) {
        if (d.type() != FieldValue::Type::Table) {
            reversed.push_back(d);
            continue;
        }
        const FieldTable& t = d.as_table();
        if (std::any_of(seen.begin(), seen.end(), [&](const FieldTable* s) { return same_event(*s, t); }))
            continue;
        seen.push_back(&t);
        std::int64_t n = 0;
        for (const FieldValue& other : deaths)
            if (other.type() == FieldValue::Type::Table && same_event(other.as_table(), t)) ++n;
        reversed.push_back(FieldValue(with_count(t, n)));
    }
    FieldArray grouped;
    for (auto it = reversed.rbegin(); it != reversed.rend(); ++it) grouped.push_back(*it);
    return grouped;
}

}  // namespace

std::string_view dead_letter_reason_name(DeadLetterReason reason) noexcept {
    switch (reason) {
        case DeadLetterReason::Rejected: return "rejected";
        case DeadLetterReason::Expired: return "expired";
        case DeadLetterReason::Maxlen: return "maxlen";
        case DeadLetterReason::DeliveryLimit: return "delivery_limit";
    }
    return "rejected";
}

MessagePtr make_dead_letter(const StoredMessage& message, DeadLetterReason reason,
                            std::string_view queue, TimePoint now,
                            std::string_view dead_letter_exchange,
                            const std::optional<std::string>& dead_letter_routing_key) {
    const std::string_view reason_name = dead_letter_reason_name(reason);
    Message out = message.to_message();
    FieldTable& headers = out.properties.headers;

    // routing-keys: the first routing key and the CC header's keys (BCC never appears).
    FieldArray routing_keys{FieldValue(message.routing_key())};
    if (const FieldValue* cc = headers.find("CC"); cc && cc->type() == FieldValue::Type::Array)
        for (const FieldValue& k : cc->as_array())
            if (k.is_string()) routing_keys.push_back(k);

    const std::uint64_t seconds = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
    // rabbit_dead_letter:make_msg/5's Info, in its order.
    FieldTable info{{"reason", std::string(reason_name)},
                    {"queue", std::string(queue)},
                    {"time", Timestamp{seconds}},
                    {"exchange", message.exchange()},
                    {"routing-keys", routing_keys}};
    if (out.properties.expiration) info.set("original-expiration", *out.properties.expiration);

    // rabbit_dead_letter:update_x_death_header/2.
    FieldTable first_entry{{"count", std::int64_t{1}}};
    for (const auto& [k, v] : info) first_entry.set(k, v);
    const FieldValue* existing = headers.find("x-death");
    if (!existing) {
        // The first death: its entry keeps Info's order, with count in front, and the
        // x-first-death headers are set, over any the publisher set.
        headers.set("x-death", FieldArray{FieldValue(std::move(first_entry))});
        headers.set("x-first-death-reason", std::string(reason_name));
        headers.set("x-first-death-queue", std::string(queue));
        headers.set("x-first-death-exchange", message.exchange());
    } else if (existing->type() != FieldValue::Type::Array) {
        // An x-death that is no array (a client re-published it as something else) is reset,
        // without x-first-death headers.
        headers.set("x-death", FieldArray{FieldValue(std::move(first_entry))});
    } else {
        // Later deaths: the history is grouped (which reverses it, when it has two entries or
        // more); the (queue, reason) entry counts up, or a new one is made, and goes in front
        // with its fields sorted (rabbit_misc:sort_field_table), keeping its first time,
        // exchange and routing keys.
        FieldArray others;
        std::optional<FieldTable> entry;
        for (const FieldValue& d : group_by_queue_and_reason(existing->as_array())) {
            if (!entry && entry_is(d, queue, reason_name)) {
                entry = d.as_table();
                continue;
            }
            others.push_back(d);
        }
        if (entry) {
            if (const FieldValue* count = entry->find("count"))
                entry->set("count", std::int64_t{(count->is_integer() ? count->as_int() : 0) + 1});
            else
                entry = with_count(*entry, 1);
        } else {
            entry = std::move(first_entry);
        }
        FieldArray updated{FieldValue(sorted_by_key(*entry))};
        for (const FieldValue& d : others) updated.push_back(d);
        headers.set("x-death", std::move(updated));
    }

    std::string routing_key = message.routing_key();
    std::vector<std::string> extra_keys;
    if (dead_letter_routing_key) {
        routing_key = *dead_letter_routing_key;
        headers.erase("CC");
    } else {
        for (const std::string& k : message.extra_routing_keys()) extra_keys.push_back(k);
    }
    headers = sorted_by_key(headers);
    // rabbit_basic:map_headers re-encodes: the copy carries no encoded properties of its own.
    reencode_headers(headers);
    out.properties.expiration.reset();
    return std::make_shared<const StoredMessage>(std::string(dead_letter_exchange), std::move(routing_key),
                                                 std::move(out), std::move(extra_keys));
}

bool is_dead_letter_cycle(const StoredMessage& dead_lettered, DeadLetterReason reason,
                          std::string_view queue) {
    if (reason == DeadLetterReason::Rejected) return false;
    const FieldValue* deaths = dead_lettered.properties().headers.find("x-death");
    if (!deaths || deaths->type() != FieldValue::Type::Array) return false;
    for (const FieldValue& d : deaths->as_array()) {
        if (d.type() != FieldValue::Type::Table) return false;
        const FieldTable& t = d.as_table();
        const FieldValue* r = t.find("reason");
        if (r && r->is_string() && r->as_string() == "rejected") return false;
        const FieldValue* q = t.find("queue");
        if (q && q->is_string() && q->as_string() == queue) return true;
    }
    return false;
}

}  // namespace warren::emulator
