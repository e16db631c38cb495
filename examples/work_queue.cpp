// Work queue with fair dispatch (RabbitMQ tutorial two): tasks go to one queue, and two
// workers take them. With basic_qos(1) the broker hands a worker its next task only once it
// has acknowledged the last, so the fast worker ends up doing more of them. (Without it the
// broker would deal the tasks out alternately, whatever each one costs.)
//
// The work is simulated: each worker holds its task unacknowledged for its cost in seconds
// on a simulated clock, so the run takes no time and every run dispatches the same way.
//
//   warren-example-work_queue [--url amqp://guest:guest@localhost:5672/%2f]
#include <algorithm>
#include <vector>

#include "example_support.hpp"

constexpr std::string_view queue = "example.work_queue.tasks";
constexpr int task_count = 8;

/// A worker process: its own connection, one channel with prefetch 1.
struct Worker {
    std::string_view name;
    int seconds_per_task;
    warren::Connection conn;
    warren::Channel ch = conn.channel();
    std::optional<warren::Delivery> task = {};  // in hand, not yet acknowledged
    int busy_until = 0;
    std::vector<std::string> done = {};

    void start() {
        ch.basic_qos(1);
        ch.basic_consume(queue, [this](const warren::Delivery& d) { task = d; });
    }
    /// Waits for the broker to hand over the next task, and starts it at time `now`.
    void take_task(int now) {
        example::process_until(conn, [this] { return task.has_value(); }, "a task");
        busy_until = now + seconds_per_task;
        fmt::print("{:>2}s  {} starts {}\n", now, name, task->message.body);
    }
    void finish_task() {
        fmt::print("{:>2}s  {} finishes {}\n", busy_until, name, task->message.body);
        done.push_back(task->message.body);
        ch.basic_ack(task->delivery_tag);
        task.reset();
    }
};

int main(int argc, char** argv) {
    return example::run(argc, argv, [](example::Target& target) {
        warren::Connection producer = target.connect();
        warren::Channel ch = producer.channel();
        example::delete_names(ch, {queue});

        ch.queue_declare(queue);
        for (int i = 1; i <= task_count; ++i)
            ch.basic_publish("", queue, warren::Message{.body = fmt::format("task {}", i)});
        fmt::print("sent tasks 1 to {}\n", task_count);

        // Worker members are referenced by their callbacks, so the workers stay in place.
        Worker slow{"slow worker", 3, target.connect()};
        Worker fast{"fast worker", 1, target.connect()};
        Worker* workers[] = {&slow, &fast};
        int handed_out = 0;
        for (Worker* w : workers) {  // one at a time, so that each start is deterministic
            w->start();
            w->take_task(0);
            ++handed_out;
        }

        // Simulated time: the worker that is done first acknowledges its task, and the broker
        // hands that worker (the only one with room under its prefetch) the next one. A tie
        // goes to the first worker in the list; the other then waits its turn.
        while (slow.task || fast.task) {
            Worker* next = nullptr;
            for (Worker* w : workers)
                if (w->task && (!next || w->busy_until < next->busy_until)) next = w;
            const int now = next->busy_until;
            next->finish_task();
            if (handed_out < task_count) {
                next->take_task(now);
                ++handed_out;
            }
        }

        for (Worker* w : workers)
            fmt::print("{} ({} s per task) did {}: {}\n", w->name, w->seconds_per_task,
                       w->done.size(), fmt::join(w->done, ", "));

        example::delete_names(ch, {queue});
    });
}
