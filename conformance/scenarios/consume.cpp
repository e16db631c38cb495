// Getting and consuming: message counts, acknowledgements and their errors, requeue order and
// redelivered flags, round-robin, prefetch (per consumer and global on one queue), exclusive
// consumers. Deliveries to consumers are awaited until the expected number arrived.
//
// Counts come from passive declares. RabbitMQ's queue process answers those ahead of messages
// still in its mailbox (rabbit_amqqueue_process:prioritise_call gives `stat` priority), so a
// count straight after publishing is a race there: publishing channels are in confirm mode and
// every count after a publish follows wait_for_confirms, which returns once the queue has
// taken the messages.
#include "scenario.hpp"

namespace warren::conformance {
namespace {

// Declares queue `suffix`, puts `ch` in confirm mode and publishes m1..mn, confirmed.
std::string publish_n(Session& s, Channel& ch, int n, std::string_view suffix = "q") {
    const auto q = s.queue_name(suffix);
    s.queue_declare(ch, q);
    s.confirm_select(ch);
    for (int i = 1; i <= n; ++i) s.publish(ch, "", q, fmt::format("m{}", i));
    if (n > 0) s.wait_for_confirms(ch);
    return q;
}

void publish_more(Session& s, Channel& ch, std::string_view q, int from, int to) {
    for (int i = from; i <= to; ++i) s.publish(ch, "", q, fmt::format("m{}", i));
    s.wait_for_confirms(ch);
}

void get_message_counts(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 3);
    s.count(ch, q);
    s.get(ch, q);
    s.get(ch, q, false);
    s.count(ch, q);
    s.get(ch, q);
    s.get(ch, q);
    s.count(ch, q);
}

void get_requeue_order(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 5);
    for (int i = 0; i < 4; ++i) s.get(ch, q, false);
    s.nack(ch, 3);
    s.reject(ch, 1);
    s.drain(ch, q);
    s.count(ch, q);
}

void get_nack_multiple(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 4);
    for (int i = 0; i < 3; ++i) s.get(ch, q, false);
    s.nack(ch, 2, true);
    s.drain(ch, q);
    s.nack(ch, 3, false, false);
    s.count(ch, q);
}

void get_reject_discards(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 2);
    s.get(ch, q, false);
    s.reject(ch, 1, false);
    s.get(ch, q, false);
    s.nack(ch, 2, false, false);
    s.count(ch, q);
}

void get_recover(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 3);
    s.get(ch, q, false);
    s.get(ch, q, false);
    s.recover(ch, true);
    s.drain(ch, q);
}

void get_ack_multiple(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 4);
    for (int i = 0; i < 4; ++i) s.get(ch, q, false);
    s.ack(ch, 2, true);
    s.close(ch);
    Channel other = s.channel();
    s.drain(other, q);
}

void ack_unknown_tag(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 1);
    s.get(ch, q, false);
    s.ack(ch, 99);
    s.count(ch, q);
    Channel other = s.channel();
    s.drain(other, q);
}

void ack_twice(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 2);
    s.get(ch, q, false);
    s.ack(ch, 1);
    s.ack(ch, 1);
    s.count(ch, q);
}

void nack_reject_unknown_tag(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 1);
    s.nack(ch, 5);
    s.count(ch, q);
    ch = s.channel();
    s.reject(ch, 7);
    s.count(ch, q);
    ch = s.channel();
    s.nack(ch, 9, true);
    s.count(ch, q);
}

void ack_on_other_channel(Session& s) {
    Channel ch1 = s.channel();
    Channel ch2 = s.channel();
    const auto q = publish_n(s, ch1, 1);
    s.get(ch1, q, false);
    s.ack(ch2, 1);
    s.count(ch2, q);
    s.ack(ch1, 1);
    s.count(ch1, q);
}

// Multiple with tag 0 acknowledges everything outstanding.
void ack_multiple_zero(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 3);
    for (int i = 0; i < 3; ++i) s.get(ch, q, false);
    s.ack(ch, 0, true);
    s.close(ch);
    Channel other = s.channel();
    s.count(other, q);
}

void ack_no_ack_delivery(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 1);
    s.get(ch, q, true);
    s.ack(ch, 1);
    s.count(ch, q);
}

void consume_backlog_in_order(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 5);
    auto& c = s.consume(ch, q, "c1", {.no_ack = true});
    s.await(c, 5);
    s.count(ch, q);
}

void consume_round_robin(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 0);
    auto& c1 = s.consume(ch, q, "c1", {.no_ack = true});
    auto& c2 = s.consume(ch, q, "c2", {.no_ack = true});
    publish_more(s, ch, q, 1, 6);
    s.await(c1, 3);
    s.await(c2, 3);
}

void consume_round_robin_channels(Session& s) {
    Channel ch1 = s.channel();
    Channel ch2 = s.channel();
    const auto q = publish_n(s, ch1, 0);
    auto& c1 = s.consume(ch1, q, "c1", {.no_ack = true});
    auto& c2 = s.consume(ch2, q, "c2", {.no_ack = true});
    auto& c3 = s.consume(ch1, q, "c3", {.no_ack = true});
    publish_more(s, ch1, q, 1, 7);
    s.await(c1, 3);
    s.await(c2, 2);
    s.await(c3, 2);
}

void consume_prefetch(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 5);
    s.basic_qos(ch, 2);
    auto& c = s.consume(ch, q, "c1");
    s.await(c, 2);
    s.count(ch, q);
    s.ack(ch, c.deliveries.at(0).delivery_tag);
    s.await(c, 3);
    s.count(ch, q);
    s.ack(ch, c.deliveries.at(2).delivery_tag, true);
    s.await(c, 5);
    s.count(ch, q);
}

void consume_prefetch_two_consumers(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 0);
    s.basic_qos(ch, 1);
    auto& c1 = s.consume(ch, q, "c1");
    auto& c2 = s.consume(ch, q, "c2");
    publish_more(s, ch, q, 1, 4);
    s.await(c1, 1);
    s.await(c2, 1);
    s.count(ch, q);
    s.ack(ch, c2.deliveries.at(0).delivery_tag);
    s.await(c2, 2);
    s.count(ch, q);
    s.settle(c1);
}

// Global prefetch shared by two consumers of one queue (across several queues RabbitMQ's
// choice is not deterministic, so that is not a scenario).
void consume_prefetch_global(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 0);
    s.basic_qos(ch, 3, true);
    auto& c1 = s.consume(ch, q, "c1");
    auto& c2 = s.consume(ch, q, "c2");
    publish_more(s, ch, q, 1, 5);
    s.await(c1, 2);
    s.await(c2, 1);
    s.count(ch, q);
    s.ack(ch, c1.deliveries.at(0).delivery_tag);
    s.await(c2, 2);
    s.count(ch, q);
}

void consume_prefetch_per_consumer_and_global(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 0);
    s.basic_qos(ch, 1);
    s.basic_qos(ch, 3, true);
    auto& c1 = s.consume(ch, q, "c1");
    auto& c2 = s.consume(ch, q, "c2");
    publish_more(s, ch, q, 1, 5);
    s.await(c1, 1);
    s.await(c2, 1);
    s.count(ch, q);
}

// Prefetch applies to consumers created after basic.qos; no_ack consumers ignore it.
void consume_prefetch_scope(Session& s) {
    Channel ch = s.channel();
    const auto q1 = publish_n(s, ch, 3, "q1");
    const auto q2 = publish_n(s, ch, 3, "q2");
    const auto q3 = publish_n(s, ch, 3, "q3");
    auto& c1 = s.consume(ch, q1, "c1");
    s.basic_qos(ch, 1);
    auto& c2 = s.consume(ch, q2, "c2");
    auto& c3 = s.consume(ch, q3, "c3", {.no_ack = true});
    s.await(c1, 3);
    s.await(c2, 1);
    s.await(c3, 3);
    s.count(ch, q2);
}

void consume_nack_requeue(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 3);
    auto& c = s.consume(ch, q, "c1");
    s.await(c, 3);
    s.nack(ch, 2);
    s.await(c, 4);
    s.reject(ch, 4);
    s.await(c, 5);
    s.ack(ch, 0, true);
    s.count(ch, q);
}

void consume_nack_multiple(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 5);
    s.basic_qos(ch, 3);
    auto& c = s.consume(ch, q, "c1");
    s.await(c, 3);
    s.nack(ch, 3, true);
    s.await(c, 6);
    s.count(ch, q);
}

// With prefetch 1 each, a requeued message goes to the consumer that has room.
void consume_reject_to_consumer_with_room(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 0);
    s.basic_qos(ch, 1);
    auto& c1 = s.consume(ch, q, "c1");
    auto& c2 = s.consume(ch, q, "c2");
    publish_more(s, ch, q, 1, 3);
    s.await(c1, 1);
    s.await(c2, 1);
    s.reject(ch, c1.deliveries.at(0).delivery_tag);
    s.await(c1, 2);
    s.count(ch, q);
}

void consume_recover(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 3);
    auto& c = s.consume(ch, q, "c1");
    s.await(c, 3);
    s.ack(ch, 2);
    s.recover(ch, true);
    s.await(c, 5);
    s.count(ch, q);
}

void consume_channel_close_requeues(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 4);
    s.basic_qos(ch, 2);
    auto& c = s.consume(ch, q, "c1");
    s.await(c, 2);
    s.close(ch);
    Channel other = s.channel();
    s.drain(other, q);
}

void consume_connection_close_requeues(Session& s) {
    Connection& conn = s.connect();
    Channel ch = conn.channel();
    const auto q = publish_n(s, ch, 3);
    auto& c = s.consume(ch, q, "c1");
    s.await(c, 3);
    s.ack(ch, 2);
    s.attempt("connection.close", [&] { conn.close(); });
    await_counts(s, q, 2, 0);
    Channel other = s.connect().channel();
    s.drain(other, q);
}

// A cancelled consumer's unacknowledged messages stay with the channel: acked after the
// cancel, or requeued when the channel closes.
void consume_cancel_keeps_unacked(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 2);
    auto& c = s.consume(ch, q, "c1");
    s.await(c, 2);
    s.cancel(ch, c);
    s.ack(ch, 1);
    s.count(ch, q);
    s.close(ch);
    Channel other = s.channel();
    s.drain(other, q);
}

void consume_exclusive(Session& s) {
    Channel ch1 = s.channel();
    Channel ch2 = s.channel();
    const auto q = publish_n(s, ch1, 0);
    s.consume(ch1, q, "c1", {.exclusive = true});
    s.consume(ch2, q, "c2");
    Channel ch3 = s.channel();
    const auto q2 = publish_n(s, ch3, 0, "q2");
    s.consume(ch3, q2, "c3");
    Channel ch4 = s.channel();
    s.consume(ch4, q2, "c4", {.exclusive = true});
    Channel ch5 = s.channel();
    s.count(ch5, q);
    s.count(ch5, q2);
}

// Reusing a consumer tag on a channel is a connection error.
void consume_duplicate_tag(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 0);
    s.consume(ch, q, "c1", {.consumer_tag = "cf-tag"});
    s.consume(ch, q, "c2", {.consumer_tag = "cf-tag"});
    s.note("connection open: {}", s.connection().is_open());
    await_counts(s, q, 0, 0);
    Channel fresh = s.connect().channel();
    // The same tag on another channel is fine.
    s.consume(fresh, q, "c3", {.consumer_tag = "cf-tag"});
}

void consume_cancel_unknown(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 0);
    s.attempt("basic.cancel no-such-tag", [&] { ch.basic_cancel("no-such-tag"); });
    s.count(ch, q);
}

void consume_missing_queue(Session& s) {
    Channel ch = s.channel();
    s.consume(ch, s.queue_name("missing"), "c1");
    s.note("channel open: {}", ch.is_open());
}

void consume_get_while_consuming(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 0);
    auto& c = s.consume(ch, q, "c1", {.consumer_tag = "cf-consumer"});
    s.publish(ch, "", q, "m1");
    s.get(ch, q);
    s.await(c, 1);
}

// A message rejected by a basic.get client goes to the consumer that is there, redelivered.
// (The consumer comes first: RabbitMQ may let a basic.consume overtake a requeue still in the
// queue's mailbox, so consuming right after the reject would race.)
void consume_requeue_after_get(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 2);
    s.get(ch, q, false);
    auto& c = s.consume(ch, q, "c1", {.no_ack = true});
    s.await(c, 1);
    s.reject(ch, 1);
    s.await(c, 2);
}

void consume_acks_in_callback(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 5);
    s.basic_qos(ch, 1);
    auto& c = s.consume(ch, q, "c1", {}, [](Channel& channel, const Delivery& d) {
        channel.basic_ack(d.delivery_tag);
    });
    s.await(c, 5);
    s.count(ch, q);
}

void consume_cancel_from_callback(Session& s) {
    Channel ch = s.channel();
    const auto q = publish_n(s, ch, 3);
    s.basic_qos(ch, 1);
    auto& c = s.consume(ch, q, "c1", {.consumer_tag = "cf-self-cancel"}, [](Channel& channel, const Delivery& d) {
        channel.basic_cancel(d.consumer_tag);
        channel.basic_ack(d.delivery_tag);
    });
    s.await(c, 1);
    s.count(ch, q);
    s.settle(c);
}

}  // namespace

void add_consume_scenarios(Scenarios& out) {
    out.push_back({"get.message_counts", get_message_counts});
    out.push_back({"get.requeue_order", get_requeue_order});
    out.push_back({"get.nack_multiple", get_nack_multiple});
    out.push_back({"get.reject_discards", get_reject_discards});
    out.push_back({"get.recover", get_recover});
    out.push_back({"get.ack_multiple", get_ack_multiple});
    out.push_back({"ack.unknown_tag", ack_unknown_tag});
    out.push_back({"ack.twice", ack_twice});
    out.push_back({"ack.nack_reject_unknown_tag", nack_reject_unknown_tag});
    out.push_back({"ack.on_other_channel", ack_on_other_channel});
    out.push_back({"ack.multiple_zero", ack_multiple_zero});
    out.push_back({"ack.no_ack_delivery", ack_no_ack_delivery});
    out.push_back({"consume.backlog_in_order", consume_backlog_in_order});
    out.push_back({"consume.round_robin", consume_round_robin});
    out.push_back({"consume.round_robin_channels", consume_round_robin_channels});
    out.push_back({"consume.prefetch", consume_prefetch});
    out.push_back({"consume.prefetch_two_consumers", consume_prefetch_two_consumers});
    out.push_back({"consume.prefetch_global", consume_prefetch_global});
    out.push_back({"consume.prefetch_per_consumer_and_global", consume_prefetch_per_consumer_and_global});
    out.push_back({"consume.prefetch_scope", consume_prefetch_scope});
    out.push_back({"consume.nack_requeue", consume_nack_requeue});
    out.push_back({"consume.nack_multiple", consume_nack_multiple});
    out.push_back({"consume.reject_to_consumer_with_room", consume_reject_to_consumer_with_room});
    out.push_back({"consume.recover", consume_recover});
    out.push_back({"consume.channel_close_requeues", consume_channel_close_requeues});
    out.push_back({"consume.connection_close_requeues", consume_connection_close_requeues});
    out.push_back({"consume.cancel_keeps_unacked", consume_cancel_keeps_unacked});
    out.push_back({"consume.exclusive", consume_exclusive});
    out.push_back({"consume.duplicate_tag", consume_duplicate_tag});
    out.push_back({"consume.cancel_unknown", consume_cancel_unknown});
    out.push_back({"consume.missing_queue", consume_missing_queue});
    out.push_back({"consume.get_while_consuming", consume_get_while_consuming});
    out.push_back({"consume.requeue_after_get", consume_requeue_after_get});
    out.push_back({"consume.acks_in_callback", consume_acks_in_callback});
    out.push_back({"consume.cancel_from_callback", consume_cancel_from_callback});
}

}  // namespace warren::conformance
