// The README's example, compiled and run as a test so that it stays true.
#include <catch2/catch.hpp>

#include <warren/warren.hpp>

using namespace std::chrono_literals;

TEST_CASE("the README example runs as shown") {
    warren::Broker broker;
    warren::Connection conn = warren::connect(broker);
    warren::Channel ch = conn.channel();

    ch.exchange_declare("sensor_data", "direct", {.durable = true});
    auto ok = ch.queue_declare("temperature_queue",
                               {.durable = true, .arguments = {{"x-message-ttl", 10'000}}});
    ch.queue_bind("temperature_queue", "sensor_data", "temperature");
    ch.basic_publish("sensor_data", "temperature",
                     warren::Message{.body = R"({"value":22.5})",
                                     .properties = {.content_type = "application/json",
                                                    .headers = {{"unit", "C"}}}});
    std::optional<warren::Delivery> d = ch.basic_get("temperature_queue");
    REQUIRE(d);
    CHECK(ok.queue == "temperature_queue");
    CHECK(d->message.body == R"({"value":22.5})");
    CHECK(d->message.properties.headers.at("unit").as_string() == "C");
    CHECK(d->routing_key == "temperature");
    CHECK(d->exchange == "sensor_data");
    ch.basic_ack(d->delivery_tag);

    int seen = 0;
    ch.basic_publish("sensor_data", "temperature", warren::Message{.body = "2"});
    std::string tag = ch.basic_consume("temperature_queue", [&](const warren::Delivery& got) {
        ++seen;
        ch.basic_ack(got.delivery_tag);
    });
    CHECK(tag.starts_with("amq.ctag-"));
    CHECK(seen == 0);  // callbacks run only inside process_events
    CHECK(conn.process_events() == 1);
    CHECK(seen == 1);
    broker.advance(10s);
    CHECK(broker.queue("/", "temperature_queue")->messages == 0);
}
