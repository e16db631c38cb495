// Classic queues with x-single-active-consumer: one consumer receives at a time, the first to
// register; when it goes the consumer then at the front of the queue's consumers (highest
// x-priority, earliest registered) takes over. Each consumer has its own channel, so delivery
// tags do not interleave.
//
// Not a scenario: publishing to such a queue after its active consumer was cancelled while
// ready messages waited. RabbitMQ 3.10.8 then tries to hand the new message straight to the
// new active consumer, fails an assertion that the queue is empty and restarts the queue
// process (a crash, not behaviour to reproduce); warren just enqueues the message.
#include "scenario.hpp"

namespace warren::conformance {
namespace {

const FieldTable single_active{{"x-single-active-consumer", true}};

// Declares the queue and a publishing channel in confirm mode, and publishes m1..mn, confirmed.
std::string declare_and_publish(Session& s, Channel& pub, int n) {
    const auto q = s.queue_name("q");
    s.queue_declare(pub, q, {.arguments = single_active});
    s.confirm_select(pub);
    for (int i = 1; i <= n; ++i) s.publish(pub, "", q, fmt::format("m{}", i));
    if (n > 0) s.wait_for_confirms(pub);
    return q;
}

void publish_one(Session& s, Channel& pub, std::string_view q, std::string body) {
    s.publish(pub, "", q, std::move(body));
    s.wait_for_confirms(pub);
}

// Everything goes to the first consumer; the others wait. Counts include waiting consumers.
void sac_first_consumer_gets_all(Session& s) {
    Channel pub = s.channel();
    Channel ch1 = s.channel();
    Channel ch2 = s.channel();
    const auto q = declare_and_publish(s, pub, 0);
    auto& c1 = s.consume(ch1, q, "c1", {.no_ack = true});
    auto& c2 = s.consume(ch2, q, "c2", {.no_ack = true});
    for (int i = 1; i <= 4; ++i) publish_one(s, pub, q, fmt::format("m{}", i));
    s.await(c1, 4);
    s.settle(c2);
    s.count(pub, q);
    s.queue_declare(pub, q, {.arguments = single_active});
}

// The active consumer's prefetch holds the queue back: the waiting consumer gets nothing,
// basic.get still takes messages, and an ack lets the active consumer go on.
void sac_prefetch_holds_queue(Session& s) {
    Channel pub = s.channel();
    Channel ch1 = s.channel();
    Channel ch2 = s.channel();
    const auto q = declare_and_publish(s, pub, 4);
    s.basic_qos(ch1, 1);
    auto& c1 = s.consume(ch1, q, "c1");
    auto& c2 = s.consume(ch2, q, "c2", {.no_ack = true});
    s.await(c1, 1);
    s.get(ch1, q, true);
    s.ack(ch1, c1.deliveries.at(0).delivery_tag);
    s.await(c1, 2);
    s.settle(c2);
    s.count(pub, q);
}

// A no_ack active consumer is not held back by the channel's prefetch.
void sac_no_ack_active(Session& s) {
    Channel pub = s.channel();
    Channel ch1 = s.channel();
    Channel ch2 = s.channel();
    const auto q = declare_and_publish(s, pub, 3);
    s.basic_qos(ch1, 1);
    auto& c1 = s.consume(ch1, q, "c1", {.no_ack = true});
    auto& c2 = s.consume(ch2, q, "c2", {.no_ack = true});
    s.await(c1, 3);
    s.settle(c2);
}

// A message the active consumer requeues comes back to it, not to a waiting consumer.
void sac_requeue_returns_to_active(Session& s) {
    Channel pub = s.channel();
    Channel ch1 = s.channel();
    Channel ch2 = s.channel();
    const auto q = declare_and_publish(s, pub, 3);
    s.basic_qos(ch1, 2);
    auto& c1 = s.consume(ch1, q, "c1");
    auto& c2 = s.consume(ch2, q, "c2", {.no_ack = true});
    s.await(c1, 2);
    s.nack(ch1, c1.deliveries.at(0).delivery_tag);
    s.await(c1, 3);
    s.settle(c2);
    s.count(pub, q);
}

// Closing the active consumer's channel requeues its unacknowledged messages and hands the
// queue to the next consumer, which gets them with the rest.
void sac_channel_close_promotes(Session& s) {
    Channel pub = s.channel();
    Channel ch1 = s.channel();
    Channel ch2 = s.channel();
    const auto q = declare_and_publish(s, pub, 3);
    s.basic_qos(ch1, 1);
    auto& c1 = s.consume(ch1, q, "c1");
    auto& c2 = s.consume(ch2, q, "c2", {.no_ack = true});
    s.await(c1, 1);
    s.close(ch1);
    s.await(c2, 3);
    s.count(pub, q);
}

// basic.cancel of the active consumer makes the next one active, but the queue does not
// deliver to it then: its ready messages wait (an ack does not move them either) until
// something runs the queue, here a new consumer.
void sac_cancel_promotes_without_delivery(Session& s) {
    Channel pub = s.channel();
    Channel ch1 = s.channel();
    Channel ch2 = s.channel();
    Channel ch3 = s.channel();
    const auto q = declare_and_publish(s, pub, 3);
    s.basic_qos(ch1, 1);
    auto& c1 = s.consume(ch1, q, "c1");
    auto& c2 = s.consume(ch2, q, "c2", {.no_ack = true});
    s.await(c1, 1);
    s.cancel(ch1, c1);
    s.count(ch1, q);
    s.ack(ch1, c1.deliveries.at(0).delivery_tag);
    s.get(ch1, q, true);
    auto& c3 = s.consume(ch3, q, "c3", {.no_ack = true});
    s.await(c2, 1);
    s.settle(c3);
    s.count(pub, q);
}

// The successor is the waiting consumer with the highest x-priority, earliest registered
// first; a higher priority does not take over from the active consumer.
void sac_successor_by_priority(Session& s) {
    Channel pub = s.channel();
    Channel ch1 = s.channel();
    Channel ch2 = s.channel();
    Channel ch3 = s.channel();
    Channel ch4 = s.channel();
    Channel ch5 = s.channel();
    const auto q = declare_and_publish(s, pub, 0);
    auto& c1 = s.consume(ch1, q, "c1", {.no_ack = true, .arguments = {{"x-priority", 0}}});
    auto& c2 = s.consume(ch2, q, "c2", {.no_ack = true});
    auto& c3 = s.consume(ch3, q, "c3", {.no_ack = true, .arguments = {{"x-priority", 10}}});
    auto& c4 = s.consume(ch4, q, "c4", {.no_ack = true, .arguments = {{"x-priority", -5}}});
    auto& c5 = s.consume(ch5, q, "c5", {.no_ack = true});
    publish_one(s, pub, q, "m1");
    s.await(c1, 1);
    s.cancel(ch1, c1);
    publish_one(s, pub, q, "m2");
    s.await(c3, 1);
    s.cancel(ch3, c3);
    publish_one(s, pub, q, "m3");
    s.await(c2, 1);
    s.close(ch2);
    await_counts(s, q, 0, 2);
    publish_one(s, pub, q, "m4");
    s.await(c5, 1);
    s.cancel(ch5, c5);
    publish_one(s, pub, q, "m5");
    s.await(c4, 1);
    s.count(pub, q);
}

// An exclusive consume is refused on a single-active-consumer queue, even with no consumers.
void sac_exclusive_consume_refused(Session& s) {
    Channel pub = s.channel();
    const auto q = declare_and_publish(s, pub, 0);
    Channel ch = s.channel();
    s.consume(ch, q, "c1", {.exclusive = true});
    ch = s.channel();
    s.consume(ch, q, "c2");
    s.count(pub, q);
}

void sac_argument_types(Session& s) {
    Channel ch = s.channel();
    const auto q = s.queue_name("q");
    s.queue_declare(ch, q, {.arguments = {{"x-single-active-consumer", "true"}}});
    ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-single-active-consumer", 1}}});
    ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-single-active-consumer", false}}});
    s.queue_declare(ch, q, {.arguments = {{"x-single-active-consumer", true}}});
}

}  // namespace

void add_single_active_consumer_scenarios(Scenarios& out) {
    out.push_back({"sac.first_consumer_gets_all", sac_first_consumer_gets_all});
    out.push_back({"sac.prefetch_holds_queue", sac_prefetch_holds_queue});
    out.push_back({"sac.no_ack_active", sac_no_ack_active});
    out.push_back({"sac.requeue_returns_to_active", sac_requeue_returns_to_active});
    out.push_back({"sac.channel_close_promotes", sac_channel_close_promotes});
    out.push_back({"sac.cancel_promotes_without_delivery", sac_cancel_promotes_without_delivery});
    out.push_back({"sac.successor_by_priority", sac_successor_by_priority});
    out.push_back({"sac.exclusive_consume_refused", sac_exclusive_consume_refused});
    out.push_back({"sac.argument_types", sac_argument_types});
}

}  // namespace warren::conformance
