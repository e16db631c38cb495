// What every example shares: where it runs (the in-process emulator, or a real broker with
// --url), a bounded wait for deliveries, and a clean slate of the example's own names.
//
// The examples print the same lines on both targets, so nothing they print depends on timing,
// generated names or consumer tags; anything that arrives on several queues at once is
// collected first and printed in a fixed order.
#pragma once

#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <warren/warren.hpp>

namespace example {

using namespace std::chrono_literals;

/// The broker an example talks to: warren's in-process emulator by default, a real RabbitMQ
/// with `--url amqp://...`.
class Target {
public:
    /// Throws std::invalid_argument for an argument other than `--url URI`.
    Target(int argc, char** argv) {
        for (int i = 1; i < argc; ++i) {
            const std::string_view arg = argv[i];
            if (arg == "--url" && i + 1 < argc) url_ = argv[++i];
            else if (arg.starts_with("--url=")) url_ = std::string(arg.substr(6));
            else throw std::invalid_argument(fmt::format("unknown argument '{}'", arg));
        }
        if (!url_) broker_ = std::make_unique<warren::Broker>();
    }

    /// A new connection; each stands for one process of the example (a producer, a worker).
    warren::Connection connect() {
        if (broker_) return warren::connect(*broker_);
#if WARREN_EXAMPLES_WITH_AMQP
        return warren::connect(*url_);
#else
        throw std::runtime_error(
            "--url: this example was built without the rabbitmq-c backend (warren::client_amqp); "
            "rebuild with -DWARREN_BUILD_AMQP=ON to run it against a real broker");
#endif
    }

    bool on_emulator() const { return broker_ != nullptr; }

    /// Lets `d` pass: on the emulator the ManualClock moves (everything due fires at once, in
    /// microseconds); on a real broker the example sleeps.
    void wait(std::chrono::milliseconds d) {
        if (broker_) broker_->advance(d);
        else std::this_thread::sleep_for(d);
    }

private:
    std::optional<std::string> url_;
    std::unique_ptr<warren::Broker> broker_;  // only when running on the emulator
};

/// Runs `conn`'s callbacks until `done()` holds. A real broker delivers asynchronously, so
/// this waits in 100 ms slices; it throws after `timeout` naming `what` it waited for.
inline void process_until(warren::Connection& conn, const std::function<bool()>& done,
                          std::string_view what, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline)
            throw std::runtime_error(fmt::format("timed out after {} ms waiting for {}",
                                                 timeout.count(), what));
        conn.process_events(100ms);
    }
}

/// Deletes the example's queues and exchanges, so that a rerun against a shared broker starts
/// clean. Deleting a name that does not exist is not an error in RabbitMQ.
inline void delete_names(warren::Channel& ch, const std::vector<std::string_view>& queues,
                         const std::vector<std::string_view>& exchanges = {}) {
    for (auto queue : queues) ch.queue_delete(queue);
    for (auto exchange : exchanges) ch.exchange_delete(exchange);
}

/// main() for an example: builds the Target from the command line and runs `body`, turning an
/// exception into a message on stderr and exit status 1 (2 for a bad command line).
inline int run(int argc, char** argv, const std::function<void(Target&)>& body) {
    std::optional<Target> target;
    try {
        target.emplace(argc, argv);
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: {}\nusage: {} [--url amqp://user:pass@host:port/vhost]\n",
                   argv[0], e.what(), argv[0]);
        return 2;
    }
    try {
        body(*target);
        return 0;
    } catch (const warren::AmqpError& e) {
        fmt::print(stderr, "{}: broker error {} {}\n", argv[0], e.reply_code(), e.reply_text());
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: {}\n", argv[0], e.what());
    }
    return 1;
}

}  // namespace example
