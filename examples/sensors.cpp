// Sensors: two sensors (temperature, humidity) publish readings to one direct exchange; the
// routing key names the kind of reading, and each monitor's queue is bound to one kind.
//
//   warren-example-sensors [--url amqp://guest:guest@localhost:5672/%2f]
#include <vector>

#include "example_support.hpp"

constexpr std::string_view exchange = "example.sensors.sensor_data";
constexpr std::string_view temperature_queue = "example.sensors.temperature";
constexpr std::string_view humidity_queue = "example.sensors.humidity";

struct Sensor {
    std::string_view kind;  // the routing key
    std::string_view unit;
    std::vector<double> readings;
};

/// Publishes each reading as JSON, the unit in a header.
void run_sensor(warren::Channel& ch, const Sensor& sensor) {
    for (double value : sensor.readings) {
        ch.basic_publish(exchange, sensor.kind,
                         warren::Message{.body = fmt::format(R"({{"value":{}}})", value),
                                         .properties = {.content_type = "application/json",
                                                        .headers = {{"unit", sensor.unit}}}});
        fmt::print("{} sensor: sent {} {}\n", sensor.kind, value, sensor.unit);
    }
}

/// Consumes `queue`, logging each reading and acknowledging it.
void run_monitor(warren::Channel& ch, std::string_view queue, std::vector<std::string>& log) {
    ch.basic_consume(queue, [&ch, &log](const warren::Delivery& d) {
        log.push_back(fmt::format("{} {} (routing key '{}')", d.message.body,
                                  d.message.properties.headers.at("unit").as_string(),
                                  d.routing_key));
        ch.basic_ack(d.delivery_tag);
    });
}

void print_log(std::string_view monitor, const std::vector<std::string>& log) {
    fmt::print("{} received:\n", monitor);
    for (const std::string& line : log) fmt::print("  {}\n", line);
}

int main(int argc, char** argv) {
    return example::run(argc, argv, [](example::Target& target) {
        warren::Connection sensors = target.connect();
        warren::Connection monitors = target.connect();
        warren::Channel setup = sensors.channel();
        example::delete_names(setup, {temperature_queue, humidity_queue}, {exchange});

        setup.exchange_declare(exchange, "direct");
        setup.queue_declare(temperature_queue);
        setup.queue_declare(humidity_queue);
        setup.queue_bind(temperature_queue, exchange, "temperature");
        setup.queue_bind(humidity_queue, exchange, "humidity");

        // Two monitors, one channel each. Their deliveries interleave differently from run
        // to run on a real broker, so each monitor logs its own and the logs are printed after.
        warren::Channel temperature_monitor = monitors.channel();
        warren::Channel humidity_monitor = monitors.channel();
        std::vector<std::string> temperature_log, humidity_log;
        run_monitor(temperature_monitor, temperature_queue, temperature_log);
        run_monitor(humidity_monitor, humidity_queue, humidity_log);

        // Two sensors, each publishing on its own channel.
        warren::Channel temperature = sensors.channel();
        warren::Channel humidity = sensors.channel();
        run_sensor(temperature, {"temperature", "C", {21.5, 22.0, 22.75}});
        run_sensor(humidity, {"humidity", "%", {40, 41.5, 43}});

        example::process_until(
            monitors, [&] { return temperature_log.size() == 3 && humidity_log.size() == 3; },
            "three readings at each monitor");
        print_log("temperature monitor", temperature_log);
        print_log("humidity monitor", humidity_log);

        example::delete_names(setup, {temperature_queue, humidity_queue}, {exchange});
    });
}
