// Microservices: orders -> payment -> notifications through one topic exchange. The shop
// publishes order.placed; the payment service consumes those and publishes payment.completed
// or payment.declined; the notification service consumes payment.* and tells the customer.
// Each service is a consumer whose callback publishes on, so one order flows through the
// whole chain; the correlation id (the order id) ties the events together.
//
//   warren-example-microservices [--url amqp://guest:guest@localhost:5672/%2f]
#include <vector>

#include "example_support.hpp"

constexpr std::string_view exchange = "example.microservices.events";
constexpr std::string_view payment_queue = "example.microservices.payment";
constexpr std::string_view notification_queue = "example.microservices.notifications";
constexpr std::int64_t payment_limit = 100;

struct Order {
    std::string id;
    std::string items;
    std::int64_t amount;  // EUR
};

/// Charges each order up to the limit and publishes the outcome.
void run_payment_service(warren::Channel& ch, std::vector<std::string>& log) {
    ch.basic_consume(payment_queue, [&ch, &log](const warren::Delivery& d) {
        const auto& order = d.message.properties;
        const std::int64_t amount = order.headers.at("amount").as_int();
        const bool accepted = amount <= payment_limit;
        const std::string outcome = accepted ? "payment.completed" : "payment.declined";
        ch.basic_publish(exchange, outcome,
                         warren::Message{.body = d.message.body,
                                         .properties = {.headers = order.headers,
                                                        .correlation_id = order.correlation_id}});
        ch.basic_ack(d.delivery_tag);
        log.push_back(fmt::format("{}: {} EUR {} -> {}", *order.correlation_id, amount,
                                  accepted ? "charged" : "over the limit", outcome));
    });
}

/// Tells the customer how the payment went.
void run_notification_service(warren::Channel& ch, std::vector<std::string>& log) {
    ch.basic_consume(notification_queue, [&ch, &log](const warren::Delivery& d) {
        const bool completed = d.routing_key == "payment.completed";
        log.push_back(fmt::format("{}: email \"your order of {}: {}\"",
                                  *d.message.properties.correlation_id, d.message.body,
                                  completed ? "paid, we are packing it" : "payment declined"));
        ch.basic_ack(d.delivery_tag);
    });
}

void print_log(std::string_view service, const std::vector<std::string>& log) {
    fmt::print("{}:\n", service);
    for (const std::string& line : log) fmt::print("  {}\n", line);
}

int main(int argc, char** argv) {
    return example::run(argc, argv, [](example::Target& target) {
        warren::Connection shop = target.connect();
        warren::Channel ch = shop.channel();
        example::delete_names(ch, {payment_queue, notification_queue}, {exchange});

        ch.exchange_declare(exchange, "topic");
        ch.queue_declare(payment_queue);
        ch.queue_declare(notification_queue);
        ch.queue_bind(payment_queue, exchange, "order.placed");
        ch.queue_bind(notification_queue, exchange, "payment.*");

        // The two services share a connection only to keep the example on one thread; each
        // has its own channel, as it would in its own process. On a real broker their
        // deliveries interleave by timing, so each keeps a log, printed at the end.
        warren::Connection services = target.connect();
        warren::Channel payment = services.channel();
        warren::Channel notifications = services.channel();
        std::vector<std::string> payment_log, notification_log;
        run_payment_service(payment, payment_log);
        run_notification_service(notifications, notification_log);

        const std::vector<Order> orders = {
            {"order-1", "2 books", 25}, {"order-2", "1 bicycle", 140}, {"order-3", "3 plants", 60}};
        for (const Order& order : orders) {
            ch.basic_publish(exchange, "order.placed",
                             warren::Message{.body = order.items,
                                             .properties = {.headers = {{"amount", order.amount}},
                                                            .correlation_id = order.id}});
            fmt::print("shop: placed {}, {} for {} EUR\n", order.id, order.items, order.amount);
        }

        example::process_until(services, [&] { return notification_log.size() == orders.size(); },
                               "a notification for every order");
        print_log("payment service", payment_log);
        print_log("notification service", notification_log);

        example::delete_names(ch, {payment_queue, notification_queue}, {exchange});
    });
}
