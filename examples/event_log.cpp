// Event log: services publish events to a topic exchange, the routing key naming the event
// type as <source>.<event>. An aggregator bound with "#" sees every event and counts them per
// type; an alerting consumer bound with "*.error" sees only the errors.
//
//   warren-example-event_log [--url amqp://guest:guest@localhost:5672/%2f]
#include <map>
#include <utility>
#include <vector>

#include "example_support.hpp"

constexpr std::string_view exchange = "example.event_log.events";
constexpr std::string_view all_queue = "example.event_log.all";
constexpr std::string_view error_queue = "example.event_log.errors";

int main(int argc, char** argv) {
    return example::run(argc, argv, [](example::Target& target) {
        warren::Connection conn = target.connect();
        warren::Channel ch = conn.channel();
        example::delete_names(ch, {all_queue, error_queue}, {exchange});

        ch.exchange_declare(exchange, "topic");
        ch.queue_declare(all_queue);
        ch.queue_declare(error_queue);
        ch.queue_bind(all_queue, exchange, "#");
        ch.queue_bind(error_queue, exchange, "*.error");

        // The aggregator and the alerter, each on its own channel.
        warren::Channel aggregator = conn.channel();
        std::map<std::string, int> counts;  // ordered by event type, for a stable summary
        std::size_t aggregated = 0;
        aggregator.basic_consume(
            all_queue,
            [&](const warren::Delivery& d) {
                ++counts[d.routing_key];
                ++aggregated;
            },
            {.no_ack = true});
        warren::Channel alerter = conn.channel();
        std::vector<std::string> alerts;
        alerter.basic_consume(
            error_queue,
            [&](const warren::Delivery& d) {
                alerts.push_back(fmt::format("{}: {}", d.routing_key, d.message.body));
            },
            {.no_ack = true});

        const std::vector<std::pair<std::string_view, std::string_view>> events = {
            {"user.login", "alice"},         {"user.login", "bob"},
            {"order.created", "order 1"},    {"user.login", "carol"},
            {"payment.error", "card declined for order 1"},
            {"order.created", "order 2"},    {"user.logout", "alice"},
            {"order.shipped", "order 2"},    {"payment.error", "gateway timeout for order 3"},
            {"user.login", "alice"},         {"order.created", "order 3"},
            {"disk.error", "/var is full"}};
        for (const auto& [type, body] : events)
            ch.basic_publish(exchange, type, warren::Message{.body = std::string(body)});
        fmt::print("published {} events\n", events.size());

        // Counting finishes when every event is in; the alerts are collected alongside.
        example::process_until(conn, [&] { return aggregated == events.size() && alerts.size() == 3; },
                               "every event at the aggregator and the three errors");
        fmt::print("event counts by type:\n");
        for (const auto& [type, count] : counts) fmt::print("  {:<15} {}\n", type, count);
        fmt::print("alerts:\n");
        for (const std::string& alert : alerts) fmt::print("  {}\n", alert);

        example::delete_names(ch, {all_queue, error_queue}, {exchange});
    });
}
