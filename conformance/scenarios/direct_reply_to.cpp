// Direct reply-to: a channel consumes (no-ack) from the pseudo-queue amq.rabbitmq.reply-to,
// publishes requests with reply_to "amq.rabbitmq.reply-to", which the broker rewrites to
// "amq.rabbitmq.reply-to.<suffix>"; a reply published to the default exchange with that key
// reaches the consumer directly. The suffix is masked in transcripts.
#include "scenario.hpp"

namespace warren::conformance {
namespace {

constexpr std::string_view reply_to = "amq.rabbitmq.reply-to";

BasicProperties request_properties(std::string correlation_id) {
    BasicProperties p;
    p.reply_to = std::string(reply_to);
    p.correlation_id = std::move(correlation_id);
    return p;
}

// Sends a request on `requester` through queue `q` and returns the rewritten reply_to the
// server side sees.
std::string request(Session& s, Channel& requester, Channel& server, std::string_view q, std::string id) {
    s.publish(requester, "", q, "request-" + id, request_properties(id));
    await_counts(s, q, 1, 0);  // the request is published on another channel
    auto got = s.get(server, q);
    return got && got->message.properties.reply_to ? *got->message.properties.reply_to : std::string();
}

// A request and two replies: delivered with exchange "", the reply key, never redelivered; a
// mandatory reply reaches no queue, so it is also returned, then confirmed.
void round_trip(Session& s) {
    const auto q = s.queue_name("requests");
    Channel requester = s.channel();
    Channel server = s.channel();
    s.queue_declare(server, q);
    auto& replies = s.consume(requester, reply_to, "replies", ConsumeOptions{.no_ack = true});
    const auto key = request(s, requester, server, q, "c1");
    auto& events = s.watch_events(server);
    s.confirm_select(server);
    BasicProperties p;
    p.correlation_id = "c1";
    s.publish(server, "", key, "reply-1", p, PublishOptions{.mandatory = true});
    s.wait_for_confirms(server);
    s.write_events(events);
    s.await(replies, 1);
    s.publish(server, "", key, "reply-2", p);
    s.wait_for_confirms(server);
    s.write_events(events);
    s.await(replies, 2);
}

// The reply delivery takes the channel's next delivery tag without using it up.
void delivery_tag_not_used_up(Session& s) {
    const auto q = s.queue_name("requests");
    Channel requester = s.channel();
    Channel server = s.channel();
    s.queue_declare(server, q);
    auto& replies = s.consume(requester, reply_to, "replies",
                              ConsumeOptions{.consumer_tag = "rpc", .no_ack = true});
    const auto key = request(s, requester, server, q, "c1");
    s.publish(requester, "", q, "other");
    s.get(requester, q, false);
    s.publish(server, "", key, "reply");
    s.await(replies, 1);
    s.publish(requester, "", q, "other-2");
    s.get(requester, q, false);
    s.ack(requester, 2, true);
}

// One reply consumer per channel, and it cannot acknowledge.
void consume_errors(Session& s) {
    Channel ch = s.channel();
    s.consume(ch, reply_to, "acking", ConsumeOptions{});
    ch = s.channel();
    s.consume(ch, reply_to, "first", ConsumeOptions{.no_ack = true});
    s.consume(ch, reply_to, "second", ConsumeOptions{.no_ack = true});
    ch = s.channel();
    s.consume(ch, reply_to, "first", ConsumeOptions{.no_ack = true});
    s.consume(ch, reply_to, "second-acking", ConsumeOptions{});
    const auto q = s.queue_name("q");
    ch = s.channel();
    s.queue_declare(ch, q);
    s.consume(ch, q, "ordinary", ConsumeOptions{.consumer_tag = "t"});
    s.consume(ch, reply_to, "same-tag", ConsumeOptions{.consumer_tag = "t", .no_ack = true});
}

// Asking for a reply without a reply consumer closes the channel.
void publish_without_consumer(Session& s) {
    const auto q = s.queue_name("requests");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    s.publish(ch, "", q, "request", request_properties("c1"));
    s.count(ch, q);
    ch = s.channel();
    auto& replies = s.consume(ch, reply_to, "replies", ConsumeOptions{.no_ack = true});
    s.cancel(ch, replies);
    s.publish(ch, "", q, "request", request_properties("c2"));
    s.count(ch, q);
}

// queue.declare of the pseudo-queue, passive or not, with or without a consumer: 0 messages,
// 1 consumer; a suffix only while its consumer lasts; other such names are not found.
void declare(Session& s) {
    const auto q = s.queue_name("requests");
    Channel ch = s.channel();
    s.queue_declare(ch, reply_to, QueueOptions{.passive = true});
    s.queue_declare(ch, reply_to);
    s.queue_declare(ch, "amq.rabbitmq.reply-tox");
    ch = s.channel();
    s.queue_declare(ch, "amq.rabbitmq.reply-to.nothing", QueueOptions{.passive = true});
    Channel requester = s.channel();
    Channel server = s.channel();
    s.queue_declare(server, q);
    auto& replies = s.consume(requester, reply_to, "replies", ConsumeOptions{.no_ack = true});
    const auto key = request(s, requester, server, q, "c1");
    s.queue_declare(server, key, QueueOptions{.passive = true});
    s.cancel(requester, replies);
    s.queue_declare(server, key, QueueOptions{.passive = true});
}

// A reply to a consumer cancelled, replaced or closed is dropped (returned when mandatory).
void reply_to_gone_consumer(Session& s) {
    const auto q = s.queue_name("requests");
    Channel requester = s.channel();
    Channel server = s.channel();
    s.queue_declare(server, q);
    auto& events = s.watch_events(server);
    s.confirm_select(server);
    auto& first = s.consume(requester, reply_to, "first", ConsumeOptions{.no_ack = true});
    const auto old_key = request(s, requester, server, q, "c1");
    s.cancel(requester, first);
    publish_confirmed(s, server, "", old_key, "after-cancel");
    s.write_events(events);
    auto& second = s.consume(requester, reply_to, "second", ConsumeOptions{.no_ack = true});
    const auto new_key = request(s, requester, server, q, "c2");
    s.note("new suffix differs: {}", new_key != old_key);
    s.publish(server, "", old_key, "to-old", {}, PublishOptions{.mandatory = true});
    s.wait_for_confirms(server);
    s.write_events(events);
    s.publish(server, "", new_key, "to-new", {}, PublishOptions{.mandatory = true});
    s.wait_for_confirms(server);
    s.write_events(events);
    s.await(second, 1);
    s.settle(first);
    s.close(requester);
    s.publish(server, "", new_key, "after-close", {}, PublishOptions{.mandatory = true});
    s.wait_for_confirms(server);
    s.write_events(events);
    s.publish(server, "", "amq.rabbitmq.reply-to.nothing", "garbage", {}, PublishOptions{.mandatory = true});
    s.wait_for_confirms(server);
    s.write_events(events);
}

// A CC header naming the reply key: the queue and the reply consumer both get the message, the
// delivery carrying the publish's routing key.
void cc_header(Session& s) {
    const auto q = s.queue_name("requests");
    const auto out = s.queue_name("copies");
    Channel requester = s.channel();
    Channel server = s.channel();
    s.queue_declare(server, q);
    s.queue_declare(server, out);
    auto& replies = s.consume(requester, reply_to, "replies", ConsumeOptions{.no_ack = true});
    const auto key = request(s, requester, server, q, "c1");
    BasicProperties p;
    p.headers = {{"CC", FieldArray{key}}};
    s.publish(server, "", out, "reply", p, PublishOptions{.mandatory = true});
    s.await(replies, 1);
    s.drain(server, out);
}

// A reply published in a transaction is delivered at once, not at tx.commit.
void reply_in_transaction(Session& s) {
    const auto q = s.queue_name("requests");
    Channel requester = s.channel();
    Channel server = s.channel();
    s.queue_declare(server, q);
    auto& replies = s.consume(requester, reply_to, "replies", ConsumeOptions{.no_ack = true});
    const auto key = request(s, requester, server, q, "c1");
    s.attempt("tx.select", [&] { server.tx_select(); });
    s.publish(server, "", key, "reply");
    s.await(replies, 1);
    s.attempt("tx.rollback", [&] { server.tx_rollback(); });
    s.settle(replies);
}

}  // namespace

void add_direct_reply_to_scenarios(Scenarios& out) {
    out.push_back({"direct_reply_to.round_trip", round_trip});
    out.push_back({"direct_reply_to.delivery_tag_not_used_up", delivery_tag_not_used_up});
    out.push_back({"direct_reply_to.consume_errors", consume_errors});
    out.push_back({"direct_reply_to.publish_without_consumer", publish_without_consumer});
    out.push_back({"direct_reply_to.declare", declare});
    out.push_back({"direct_reply_to.reply_to_gone_consumer", reply_to_gone_consumer});
    out.push_back({"direct_reply_to.cc_header", cc_header});
    out.push_back({"direct_reply_to.reply_in_transaction", reply_in_transaction});
}

}  // namespace warren::conformance
