// The data directory seen from the model: what is recorded when it is created, a whole state
// written as journal records (compaction), and a state rebuilt from a replayed journal.
// RabbitMQ keeps the same things across a restart: durable exchanges, queues and bindings in
// Mnesia, vhosts/users/permissions, and the messages rabbit_variable_queue recovers
// (persistent ones in durable classic queues; every one in quorum queues).
#include <algorithm>

#include <fmt/format.h>

#include "journal.hpp"
#include "journal_codec.hpp"
#include "model.hpp"

namespace warren {

using emulator::Journal;
using emulator::JournalImage;
using emulator::Model;
using emulator::Queue;
using emulator::QueuedMessage;
using emulator::StreamEntry;
using emulator::StreamLog;
using emulator::VHost;

namespace emulator {

void Model::record_new_queue(VHost& v, Queue& q) {
    if (!s_.journal || !q.durable() || q.exclusive()) return;
    q.set_journal(s_.journal.get(), s_.journal->queue_put(v, q));
}

void Model::record_new_exchange(VHost& v, Exchange& x) {
    if (s_.journal && x.durable()) s_.journal->exchange_put(v, x);
}

bool Model::durable_binding(const Binding& b) noexcept {
    if (!b.source->durable()) return false;
    return b.queue ? b.queue->journal_id() != 0 : b.exchange->durable();
}

namespace {

bool predeclared(const std::string& exchange) { return exchange.empty() || exchange.starts_with("amq."); }

/// The whole durable state as journal records.
protocol::Bytes snapshot(BrokerState& s) {
    Journal& j = *s.journal;
    protocol::Bytes out;
    j.capture_into(&out);
    j.security(s);
    for (auto& [vname, v] : s.vhosts) {
        for (auto& [xname, x] : v->exchanges)
            if (x->durable() && !predeclared(xname)) j.exchange_put(*v, *x);
        for (auto& [qname, q] : v->queues)
            if (q->journal_id() != 0) j.queue_put(*v, *q, q->journal_id());
        for (auto& [xname, x] : v->exchanges)
            for (const auto& b : x->bindings())
                if (Model::durable_binding(*b)) j.binding_put(*v, *b);
        for (auto& entry : v->queues) {
            const Queue& q = *entry.second;
            if (q.journal_id() == 0) continue;
            q.for_each_ready([&](const QueuedMessage& m) {
                if (m.mark) j.message_record(q.journal_id(), m, m.mark.id());
            });
            if (const StreamLog* log = q.log()) {
                j.stream_layout(q.journal_id(), log->layout());
                for (std::uint64_t o = log->first_offset(); o < log->next_offset(); ++o)
                    j.stream_entry(q.journal_id(), log->at(o));
            }
        }
    }
    // Deliveries held by channels, in delivery order per channel: handed out, not settled.
    for (auto& [cid, conn] : s.connections)
        for (auto& [chid, ch] : conn->channels)
            Model::for_each_held(*ch, [&](Unacked& u) {
                if (!u.queue || u.queue->journal_id() == 0 || !u.message.mark) return;
                j.message_record(u.queue->journal_id(), u.message, u.message.mark.id());
                j.message_delivered(u.message.mark.id());
            });
    j.capture_into(nullptr);
    return out;
}

template <class F>
void each_record(std::vector<std::string>& warnings, const char* what, F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        warnings.push_back(fmt::format("a {} record that does not decode was skipped ({})", what, e.what()));
    }
}

DataDirReport restore(BrokerState& s, JournalImage& image) {
    Journal& journal = *s.journal;
    DataDirReport report;
    report.warnings = std::move(image.warnings);
    Model model(s);
    const TimePoint now = s.clock->now();
    if (image.security) {
        each_record(report.warnings, "vhosts and users",
                    [&] { codec::apply_security(protocol::as_bytes(*image.security), s); });
    }
    report.vhosts = s.vhosts.size();
    for (auto& entry : image.exchanges) {
        const std::string& payload = entry.second;
        each_record(report.warnings, "exchange", [&] {
            codec::ExchangeRecord x = codec::decode_exchange(protocol::as_bytes(payload));
            VHost* v = s.find_vhost(x.vhost);
            auto type = make_exchange_type(x.type);
            if (!v || !type || v->exchanges.contains(x.name)) return;
            v->exchanges.emplace(x.name, std::make_unique<Exchange>(x.name, std::move(type), true, x.auto_delete,
                                                                    x.internal, std::move(x.arguments)));
            ++report.exchanges;
        });
    }
    std::unordered_map<std::uint64_t, Queue*> queues;
    for (auto& entry : image.queues) {
        const std::uint64_t id = entry.first;
        const JournalImage::QueueRecord& record = entry.second;
        each_record(report.warnings, "queue", [&] {
            codec::QueueRecord q = codec::decode_queue(protocol::as_bytes(record.payload));
            VHost* v = s.find_vhost(q.vhost);
            const QueueType* type = find_queue_type(q.type);
            if (!v || !type || v->queues.contains(q.name)) return;
            auto created = std::make_unique<Queue>(q.name, true, false, q.auto_delete, std::move(q.arguments), 0, *type);
            created->set_vhost(v);
            created->note_started(now);
            created->set_journal(&journal, id);
            queues[id] = created.get();
            v->queues.emplace(q.name, std::move(created));
            ++report.queues;
        });
    }
    for (auto& entry : image.bindings) {
        const std::string& payload = entry.first;
        each_record(report.warnings, "binding", [&] {
            codec::BindingRecord b = codec::decode_binding(protocol::as_bytes(payload));
            VHost* v = s.find_vhost(b.vhost);
            if (!v) return;
            Model::BindTarget t;
            t.source = model.find_exchange(*v, b.source);
            if (b.to_queue) t.queue = model.find_queue(*v, b.destination);
            else t.exchange = model.find_exchange(*v, b.destination);
            if (!t.source || (!t.queue && !t.exchange)) return;
            if (!model.add_binding(*v, t, b.key, b.arguments, 0, method::queue_bind)) return;
            ++report.bindings;
        });
    }
    // Streams: the layout and entries of the last compaction, then what was appended since,
    // replayed as it happened. A record that does not decode ends the stream's replay there.
    for (auto& [id, record] : image.streams) {
        auto q = queues.find(id);
        if (q == queues.end() || !q->second->log()) continue;
        StreamLog& log = *q->second->log();
        each_record(report.warnings, "stream", [&, &record = record] {
            if (record.layout) {
                std::vector<StreamEntry> entries;
                entries.reserve(record.entries.size());
                for (const std::string& e : record.entries)
                    entries.push_back(codec::decode_stream_entry(protocol::as_bytes(e)));
                log.restore(codec::decode_stream_layout(protocol::as_bytes(*record.layout)), std::move(entries));
            }
            for (const auto& [type, payload] : record.changes) {
                if (static_cast<Journal::Type>(type) == Journal::Type::StreamAttach) {
                    log.attach(codec::decode_stream_attach(protocol::as_bytes(payload)));
                } else {
                    codec::StreamAppend a = codec::decode_stream_append(protocol::as_bytes(payload));
                    log.append(std::move(a.message), a.at, a.writer);
                }
            }
        });
        // A channel after the restart is a writer none of the restored ones is.
        for (std::uint64_t writer : log.layout().writers)
            s.next_stream_writer = std::max(s.next_stream_writer, writer + 1);
        report.messages += log.size();
    }
    // Messages: those that were ready go back at their sequence numbers; those that were
    // handed out and not settled come back as a channel closing returns them, in the order
    // they were handed out.
    struct Out {
        std::uint64_t order;
        std::uint64_t id;
        Queue* queue;
        const std::string* payload;
    };
    std::vector<Out> out;
    for (auto& [id, m] : image.messages) {
        auto q = queues.find(m.queue);
        if (q == queues.end()) continue;
        if (m.out) {
            out.push_back(Out{m.out_order, id, q->second, &m.payload});
            continue;
        }
        each_record(report.warnings, "message", [&, id = id, &m = m, queue = q->second] {
            QueuedMessage qm = codec::decode_message(protocol::as_bytes(m.payload));
            qm.sequence = m.sequence;
            qm.delivery_count = m.delivery_count;
            qm.redelivered = m.redelivered;
            qm.mark = journal.adopt(id, m.payload.size() + 9);
            queue->restore(std::move(qm));
            ++report.messages;
        });
    }
    std::sort(out.begin(), out.end(), [](const Out& a, const Out& b) { return a.order < b.order; });
    for (const Out& o : out) {
        each_record(report.warnings, "message", [&] {
            const JournalImage::MessageRecord& m = image.messages.at(o.id);
            QueuedMessage qm = codec::decode_message(protocol::as_bytes(*o.payload));
            qm.sequence = m.sequence;
            qm.delivery_count = m.delivery_count;
            qm.redelivered = m.redelivered;
            qm.mark = journal.adopt(o.id, o.payload->size() + 9);
            if (model.take_back(*o.queue, std::move(qm), o.queue->rules().channel_down_requeue)) ++report.messages;
        });
    }
    return report;
}

}  // namespace
}  // namespace emulator

DataDirReport Broker::open_data_dir(const std::string& directory, DataDirOptions options) {
    std::lock_guard lock(mutex_);
    if (state_->journal) throw std::logic_error("Broker::open_data_dir: a data directory is open already");
    auto journal = std::make_unique<Journal>(directory, options);
    JournalImage image = journal->take_image();
    journal->set_recording(false);
    state_->journal = std::move(journal);
    // On a failure below the journal stays (restored messages point at it), recording nothing.
    DataDirReport report = emulator::restore(*state_, image);
    // The journal from now on: the state as restored, without the replayed history or a
    // damaged tail.
    state_->journal->rewrite(emulator::snapshot(*state_));
    state_->journal->set_recording(true);
    return report;
}

bool Broker::data_pending() const {
    std::lock_guard lock(mutex_);
    return state_->journal && state_->journal->pending();
}

void Broker::sync_data() {
    std::lock_guard lock(mutex_);
    if (!state_->journal) return;
    state_->journal->commit();
    if (state_->journal->wants_compaction()) state_->journal->rewrite(emulator::snapshot(*state_));
}

Broker::~Broker() {
    if (!state_ || !state_->journal) return;
    try {
        sync_data();
    } catch (...) {
        // Nothing to report to from a destructor; what was not written is lost as in a crash.
    }
    state_->journal->set_recording(false);
}

}  // namespace warren
