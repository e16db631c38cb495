#include <warren/warren.hpp>
#include <iostream>

int main() {
    warren::Broker broker;  // an in-process RabbitMQ: ManualClock, vhost "/", user guest
    auto conn = warren::connect(broker);
    auto ch = conn.channel();
    ch.queue_declare("hello", {.durable = true});
    ch.basic_publish("", "hello", {.body = "Hello World!"});
    ch.basic_consume("hello", [&](const warren::Delivery& d) {
        std::cout << "received " << d.message.body << '\n';
        ch.basic_ack(d.delivery_tag);
    });
    conn.process_events();  // consumer callbacks run here, on this thread
}
