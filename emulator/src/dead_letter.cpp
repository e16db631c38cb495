#include "warren/emulator/dead_letter.hpp"

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

}  // namespace

std::string_view dead_letter_reason_name(DeadLetterReason reason) noexcept {
    switch (reason) {
        case DeadLetterReason::Rejected: return "rejected";
        case DeadLetterReason::Expired: return "expired";
        case DeadLetterReason::Maxlen: return "maxlen";
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

    const FieldValue* existing = headers.find("x-death");
    if (!existing || existing->type() != FieldValue::Type::Array) {
        // The first death: its entry keeps Info's order, with count in front.
        FieldTable entry{{"count", std::int64_t{1}}};
        for (const auto& [k, v] : info) entry.set(k, v);
        headers.set("x-death", FieldArray{FieldValue(std::move(entry))});
        if (!headers.contains("x-first-death-reason")) {
            headers.set("x-first-death-reason", std::string(reason_name));
            headers.set("x-first-death-queue", std::string(queue));
            headers.set("x-first-death-exchange", message.exchange());
        }
    } else {
        // Later deaths: the (queue, reason) entry counts up and moves to the front, keeping its
        // first time, exchange and routing keys; a new pair is prepended. Either comes out with
        // its fields sorted (rabbit_misc:sort_field_table).
        FieldArray deaths;
        std::optional<FieldTable> entry;
        for (const FieldValue& d : existing->as_array()) {
            if (!entry && entry_is(d, queue, reason_name)) {
                entry = d.as_table();
                continue;
            }
            deaths.push_back(d);
        }
        if (entry) {
            const FieldValue* count = entry->find("count");
            const std::int64_t n = count && count->is_integer() ? count->as_int() : 0;
            entry->set("count", std::int64_t{n + 1});
        } else {
            entry = FieldTable{{"count", std::int64_t{1}}};
            for (const auto& [k, v] : info) entry->set(k, v);
        }
        FieldArray updated{FieldValue(sorted_by_key(*entry))};
        for (const FieldValue& d : deaths) updated.push_back(d);
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
