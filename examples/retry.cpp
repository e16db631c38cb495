// Retry through a delayed queue: a worker that fails a task rejects it; the task queue
// dead-letters it into a delay queue whose TTL holds it for 10 seconds, and the delay queue
// dead-letters it back. The worker counts the attempts from the x-death header RabbitMQ
// keeps, and after the fifth failed attempt parks the task in a parking queue for a person
// to look at.
//
// On the emulator the four 10-second delays pass on the ManualClock: the whole example runs
// in well under a millisecond of wall time. Against a real broker it takes the delays for
// real (WARREN_EXAMPLE_RETRY_DELAY_MS shortens them; the output does not change).
//
//   warren-example-retry [--url amqp://guest:guest@localhost:5672/%2f]
#include <chrono>
#include <cstdlib>
#include <optional>

#include "example_support.hpp"

constexpr std::string_view tasks = "example.retry.tasks";
constexpr std::string_view delay = "example.retry.delay";
constexpr std::string_view parked = "example.retry.parked";
constexpr int max_attempts = 5;

/// The attempts so far: one, plus the times the task queue rejected this message.
int attempt_of(const warren::Delivery& d) {
    const warren::FieldValue* deaths = d.message.properties.headers.find("x-death");
    if (!deaths) return 1;
    for (const warren::FieldValue& death : deaths->as_array()) {
        const warren::FieldTable& entry = death.as_table();
        if (entry.at("queue").as_string() == tasks && entry.at("reason").as_string() == "rejected")
            return static_cast<int>(entry.at("count").as_int()) + 1;
    }
    return 1;
}

/// x-death as a person reads it, newest first; the time of each death is left out, since it
/// is the only thing that differs between the emulator's clock and a real one.
std::string describe_deaths(const warren::Delivery& d) {
    const warren::FieldValue* deaths = d.message.properties.headers.find("x-death");
    if (!deaths) return " none";
    std::string out;
    for (const warren::FieldValue& death : deaths->as_array()) {
        const warren::FieldTable& e = death.as_table();
        out += fmt::format("\n      {{queue: {}, reason: {}, count: {}, exchange: '{}', routing-keys: {}}}",
                           e.at("queue").as_string(), e.at("reason").as_string(), e.at("count").as_int(),
                           e.at("exchange").as_string(), e.at("routing-keys"));
    }
    return out;
}

int main(int argc, char** argv) {
    return example::run(argc, argv, [](example::Target& target) {
        using namespace std::chrono_literals;
        auto delay_for = 10'000ms;
        if (const char* env = std::getenv("WARREN_EXAMPLE_RETRY_DELAY_MS"); env && !target.on_emulator())
            delay_for = std::chrono::milliseconds(std::atoi(env));
        const auto started = std::chrono::steady_clock::now();

        warren::Connection conn = target.connect();
        warren::Channel ch = conn.channel();
        example::delete_names(ch, {tasks, delay, parked});

        // A rejected task goes to the delay queue; an expired delay goes back to the tasks.
        ch.queue_declare(tasks, {.arguments = {{"x-dead-letter-exchange", ""},
                                               {"x-dead-letter-routing-key", std::string(delay)}}});
        ch.queue_declare(delay, {.arguments = {{"x-message-ttl", static_cast<std::int64_t>(delay_for.count())},
                                               {"x-dead-letter-exchange", ""},
                                               {"x-dead-letter-routing-key", std::string(tasks)}}});
        ch.queue_declare(parked);

        ch.basic_publish("", tasks, warren::Message{.body = "resize image 42",
                                                    .properties = {.message_id = "task-42"}});
        fmt::print("producer: sent 'resize image 42'\n");

        std::optional<warren::Delivery> task;
        bool done = false;
        ch.basic_consume(tasks, [&](const warren::Delivery& d) { task = d; });
        while (!done) {
            example::process_until(conn, [&] { return task.has_value(); }, "the task", 10s + delay_for);
            const int attempt = attempt_of(*task);
            fmt::print("worker: attempt {} of '{}' failed; x-death:{}\n", attempt, task->message.body,
                       describe_deaths(*task));
            if (attempt < max_attempts) {
                ch.basic_reject(task->delivery_tag, /*requeue=*/false);
                fmt::print("worker: rejected it; it waits in the delay queue\n");
                task.reset();
                target.wait(delay_for);
            } else {
                ch.basic_publish("", parked, task->message);
                ch.basic_ack(task->delivery_tag);
                fmt::print("worker: gave up after {} attempts and parked it\n", attempt);
                done = true;
            }
        }
        std::optional<warren::Delivery> in_parking;
        example::process_until(conn, [&] { return (in_parking = ch.basic_get(parked, true)).has_value(); },
                               "the parked task");
        fmt::print("parking queue: '{}' (message id {})\n", in_parking->message.body,
                   in_parking->message.properties.message_id.value_or("none"));
        example::delete_names(ch, {tasks, delay, parked});
        if (target.on_emulator())
            fmt::print(stderr, "emulator wall time: {} us for {} ms of broker time\n",
                       std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - started).count(),
                       (max_attempts - 1) * delay_for.count());
    });
}
