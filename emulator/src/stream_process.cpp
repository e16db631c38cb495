// A stream's own work (rabbit_stream_queue's readers): appending what is published, and each
// reader reading on from its offset while it has credit. Nothing is ever taken out of a
// stream: an acknowledgement only gives its reader credit for one more message.
#include "handlers.hpp"
#include "journal.hpp"
#include "stream.hpp"

namespace warren::emulator {

void Model::append_to_stream(Queue& q, const MessagePtr& message) {
    // Each publishing channel is a writer of its own (osiris's writer id).
    std::uint64_t writer = 0;
    if (publisher_) {
        if (publisher_->stream_writer == 0) publisher_->stream_writer = s_.next_stream_writer++;
        writer = publisher_->stream_writer;
    }
    StreamLog& log = *q.log();
    const std::uint64_t first = log.first_offset();
    const std::uint64_t next = log.next_offset();
    MessagePtr stored = to_stream_form(*message);
    log.append(stored, now(), writer);
    if (Journal* j = q.journal()) {
        j->stream_append(q.journal_id(), now(), writer, *stored, log.next_offset() - next);
        if (log.first_offset() != first) j->stream_trimmed(q.journal_id(), log.first_offset() - first);
    }
    dispatch_log(q);
}

void Model::attach_to_stream(Queue& q) {
    StreamLog& log = *q.log();
    const std::uint64_t first = log.first_offset();
    const std::uint64_t next = log.next_offset();
    log.attach(now());
    Journal* j = q.journal();
    if (!j || log.next_offset() == next) return;
    j->stream_attach(q.journal_id(), now());
    if (log.first_offset() != first) j->stream_trimmed(q.journal_id(), log.first_offset() - first);
}

void Model::dispatch_log(Queue& q) {
    StreamLog& log = *q.log();
    q.consumers().for_each([&](Consumer* c) {
        ChannelState& ch = *c->channel;
        // A reader behind the first offset retention kept reads on from there.
        if (c->log_offset < log.first_offset()) c->log_offset = log.first_offset();
        while (c->credit > 0 && c->log_offset < log.next_offset() &&
               ch.connection->sink->accepting_deliveries(ch.id)) {
            const std::uint64_t offset = c->log_offset++;
            const StreamEntry& entry = log.at(offset);
            if (!entry.message) continue;  // a tracking snapshot
            const StoredMessage delivered = stream_delivery(*entry.message, offset);
            const std::uint64_t tag = ch.next_delivery_tag++;
            --c->credit;
            q.note_unacked(1);
            // Nothing ever returns to a stream: the delivery keeps no message.
            ch.unacked.push_back(Unacked{tag, &q, QueuedMessage{}, c, true});
            if (ch.limiter_active()) ++ch.limiter_volume;
            ch.connection->sink->on_deliver(ch.id, DeliverEvent{c->tag, tag, false, delivered});
        }
    });
}

// rabbit_stream_queue:consume/3 once check_consume accepted the request: a reader with the
// channel's prefetch as credit, starting where x-stream-offset says. An exclusive consumer
// keeps no other reader out.
Result<std::string> consume_log(Model& model, ChannelState& ch, Queue& q, const BasicConsume& m) {
    std::string tag = m.consumer_tag.empty() ? model.state().generate_name("amq.ctag") : m.consumer_tag;
    auto consumer = std::make_unique<Consumer>();
    consumer->tag = tag;
    consumer->channel = &ch;
    consumer->queue = &q;
    consumer->exclusive = m.exclusive;
    consumer->arguments = m.arguments;
    consumer->prefetch = ch.consumer_prefetch;
    consumer->credit = consumer->prefetch;
    model.attach_to_stream(q);
    consumer->log_offset = q.log()->resolve(stream_start(m.arguments.find("x-stream-offset"), model.now()));
    Consumer* c = consumer.get();
    ch.consumers.emplace(tag, std::move(consumer));
    q.consumers().add(c);
    q.note_consumer_added();
    model.dispatch_log(q);
    return tag;
}

}  // namespace warren::emulator
