// Hello World (RabbitMQ tutorial one): a producer sends a message to a queue through the
// default exchange, and a consumer receives it.
//
//   warren-example-hello_world [--url amqp://guest:guest@localhost:5672/%2f]
#include "example_support.hpp"

constexpr std::string_view queue = "example.hello_world.hello";

int main(int argc, char** argv) {
    return example::run(argc, argv, [](example::Target& target) {
        warren::Connection conn = target.connect();
        warren::Channel ch = conn.channel();
        example::delete_names(ch, {queue});

        // The producer: the default exchange ("") routes by queue name.
        ch.queue_declare(queue);
        ch.basic_publish("", queue, warren::Message{.body = "Hello World!"});
        fmt::print(" [x] Sent 'Hello World!'\n");

        // The consumer: its callback runs inside process_events.
        fmt::print(" [*] Waiting for messages\n");
        bool received = false;
        ch.basic_consume(
            queue,
            [&](const warren::Delivery& d) {
                fmt::print(" [x] Received '{}'\n", d.message.body);
                received = true;
            },
            {.no_ack = true});
        example::process_until(conn, [&] { return received; }, "the message");

        example::delete_names(ch, {queue});
    });
}
