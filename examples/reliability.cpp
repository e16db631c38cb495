// Reliability: a durable queue survives a broker restart, persistent messages (delivery_mode
// 2) survive it inside such a queue, and manual acknowledgements make sure no message is lost
// when a consumer dies: whatever it had not acknowledged goes back to the queue and is
// delivered to another consumer, flagged redelivered.
//
//   warren-example-reliability [--url amqp://guest:guest@localhost:5672/%2f]
#include <vector>

#include "example_support.hpp"

constexpr std::string_view queue = "example.reliability.orders";
constexpr std::size_t order_count = 5;

std::string describe(const warren::Delivery& d) {
    return fmt::format("{} ({}{})", d.message.body,
                       d.message.properties.persistent() ? "persistent" : "transient",
                       d.redelivered ? ", redelivered" : "");
}

int main(int argc, char** argv) {
    return example::run(argc, argv, [](example::Target& target) {
        warren::Connection producer = target.connect();
        warren::Channel ch = producer.channel();
        example::delete_names(ch, {queue});

        ch.queue_declare(queue, {.durable = true});
        for (std::size_t i = 1; i <= order_count; ++i)
            ch.basic_publish("", queue,
                             warren::Message{.body = fmt::format("order {}", i),
                                             .properties = {.delivery_mode = 2}});
        fmt::print("producer: sent order 1 to order {} as persistent messages\n", order_count);

        // Consumer 1 acknowledges an order once it has handled it. It handles two, and dies
        // while working on the rest.
        warren::Connection consumer1 = target.connect();
        warren::Channel ch1 = consumer1.channel();
        std::vector<warren::Delivery> received1;
        ch1.basic_consume(queue, [&](const warren::Delivery& d) {
            fmt::print("consumer 1: got {}\n", describe(d));
            received1.push_back(d);
            if (received1.size() <= 2) {
                ch1.basic_ack(d.delivery_tag);
                fmt::print("consumer 1: handled and acknowledged {}\n", d.message.body);
            }
        });
        example::process_until(consumer1, [&] { return received1.size() == order_count; },
                               "every order at consumer 1");
        // Closing the channel stands in for the process dying: the broker treats a dropped
        // connection the same way, returning the channel's unacknowledged messages to the queue.
        ch1.close();
        fmt::print("consumer 1: died with {} unacknowledged orders\n", order_count - 2);

        warren::Connection consumer2 = target.connect();
        warren::Channel ch2 = consumer2.channel();
        std::size_t received2 = 0;
        ch2.basic_consume(queue, [&](const warren::Delivery& d) {
            fmt::print("consumer 2: got {}\n", describe(d));
            ch2.basic_ack(d.delivery_tag);
            ++received2;
        });
        example::process_until(consumer2, [&] { return received2 == order_count - 2; },
                               "the orders consumer 1 left unacknowledged");

        // Every order has now been acknowledged once: nothing is left to deliver.
        auto ok = ch.queue_declare(queue, {.passive = true});
        fmt::print("queue: {} ready messages\n", ok.message_count);

        example::delete_names(ch, {queue});
    });
}
