// Figures for the in-process emulator: publish -> get -> ack cycles, fanout, topic and headers
// routing with many bindings, and the memory a queued message costs. Prints one line per
// figure; BENCHMARKS.md records them with the command that produced them.
//
//   build/bench/warren-bench [--quick]
//   build/bench/warren-bench --queue-types   (a stream read by 4 readers; quorum publish-get-ack)
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>
#include <unistd.h>

#include <fmt/format.h>
#include <warren/warren.hpp>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

std::size_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0, resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

const std::string body100(100, 'x');

void publish_get_ack(std::size_t n, bool quorum = false) {
    warren::Broker broker;
    auto conn = warren::connect(broker);
    auto ch = conn.channel();
    if (quorum) ch.queue_declare("bench", {.durable = true, .arguments = {{"x-queue-type", "quorum"}}});
    else ch.queue_declare("bench");
    const warren::Message msg{.body = body100};
    const auto start = Clock::now();
    for (std::size_t i = 0; i < n; ++i) {
        ch.basic_publish("", "bench", msg);
        auto d = ch.basic_get("bench");
        ch.basic_ack(d->delivery_tag);
    }
    const double s = seconds_since(start);
    fmt::print("publish-get-ack, {} queue, 100 B: {:>12.0f} cycles/s  ({} cycles, {:.3f} s)\n",
               quorum ? "quorum " : "classic", n / s, n, s);
}

void fanout(std::size_t n) {
    warren::Broker broker;
    auto conn = warren::connect(broker);
    auto ch = conn.channel();
    ch.exchange_declare("fan", "fanout");
    for (int q = 0; q < 10; ++q) {
        ch.queue_declare(fmt::format("fan.{}", q));
        ch.queue_bind(fmt::format("fan.{}", q), "fan");
    }
    const warren::Message msg{.body = body100};
    const auto start = Clock::now();
    for (std::size_t i = 0; i < n; ++i) {
        ch.basic_publish("fan", "", msg);
        if (i % 10'000 == 9'999)
            for (int q = 0; q < 10; ++q) ch.queue_purge(fmt::format("fan.{}", q));
    }
    const double s = seconds_since(start);
    fmt::print("publish, fanout to 10 queues, 100 B:    {:>12.0f} msgs/s    ({:.0f} enqueues/s)\n",
               n / s, 10 * n / s);
}

void topic(std::size_t n) {
    warren::Broker broker;
    auto conn = warren::connect(broker);
    auto ch = conn.channel();
    ch.exchange_declare("topic", "topic");
    constexpr int queues = 100;
    for (int q = 0; q < queues; ++q) ch.queue_declare(fmt::format("t.{}", q));
    // 100,000 bindings of varied shapes: literal, '*' and '#' patterns.
    for (int i = 0; i < 100'000; ++i) {
        const std::string q = fmt::format("t.{}", i % queues);
        std::string key;
        switch (i % 4) {
            case 0: key = fmt::format("sensor.{}.temperature", i); break;
            case 1: key = fmt::format("sensor.*.{}", i); break;
            case 2: key = fmt::format("region{}.#", i); break;
            default: key = fmt::format("*.building{}.#.alarm", i); break;
        }
        ch.queue_bind(q, "topic", key);
    }
    const warren::Message msg{.body = body100};
    std::vector<std::string> keys;
    for (int i = 0; i < 1024; ++i) {
        switch (i % 4) {
            case 0: keys.push_back(fmt::format("sensor.{}.temperature", i * 97)); break;
            case 1: keys.push_back(fmt::format("sensor.x.{}", i * 97 + 1)); break;
            case 2: keys.push_back(fmt::format("region{}.a.b.c", i * 97 + 2)); break;
            default: keys.push_back(fmt::format("x.building{}.floor.2.alarm", i * 97 + 3)); break;
        }
    }
    const auto start = Clock::now();
    for (std::size_t i = 0; i < n; ++i) {
        ch.basic_publish("topic", keys[i % keys.size()], msg);
        if (i % 10'000 == 9'999)
            for (int q = 0; q < queues; ++q) ch.queue_purge(fmt::format("t.{}", q));
    }
    const double s = seconds_since(start);
    fmt::print("publish, topic, 100,000 bindings:       {:>12.0f} msgs/s    ({:.3f} us/msg)\n",
               n / s, s * 1e6 / n);
}

void headers(std::size_t n) {
    warren::Broker broker;
    auto conn = warren::connect(broker);
    auto ch = conn.channel();
    ch.exchange_declare("hdr", "headers");
    constexpr int queues = 10;
    for (int q = 0; q < queues; ++q) ch.queue_declare(fmt::format("h.{}", q));
    for (int i = 0; i < 1'000; ++i)
        ch.queue_bind(fmt::format("h.{}", i % queues), "hdr", "",
                      {{"x-match", i % 2 ? "any" : "all"}, {"kind", fmt::format("k{}", i)},
                       {"region", i % 7}});
    std::vector<warren::Message> msgs;
    for (int i = 0; i < 64; ++i)
        msgs.push_back({.body = body100,
                        .properties = {.headers = {{"kind", fmt::format("k{}", i * 13)},
                                                   {"region", i % 7},
                                                   {"extra", "value"}}}});
    const auto start = Clock::now();
    for (std::size_t i = 0; i < n; ++i) {
        ch.basic_publish("hdr", "", msgs[i % msgs.size()]);
        if (i % 10'000 == 9'999)
            for (int q = 0; q < queues; ++q) ch.queue_purge(fmt::format("h.{}", q));
    }
    const double s = seconds_since(start);
    fmt::print("publish, headers, 1,000 bindings:       {:>12.0f} msgs/s    ({:.3f} us/msg)\n",
               n / s, s * 1e6 / n);
}

void queued_memory(std::size_t n) {
    warren::Broker broker;
    auto conn = warren::connect(broker);
    auto ch = conn.channel();
    ch.queue_declare("mem");
    const warren::Message msg{.body = body100};
    const std::size_t before = resident_bytes();
    for (std::size_t i = 0; i < n; ++i) ch.basic_publish("", "mem", msg);
    const std::size_t after = resident_bytes();
    const double per_message = static_cast<double>(after - before) / static_cast<double>(n);
    fmt::print("resident memory, {} queued 100 B msgs: {:.0f} B/msg, {:.0f} B overhead beyond the body\n",
               n, per_message, per_message - 100);
}

void expire_in_one_advance(std::size_t n) {
    using namespace std::chrono_literals;
    warren::Broker broker;
    auto conn = warren::connect(broker);
    auto ch = conn.channel();
    ch.queue_declare("ttl", {.arguments = {{"x-message-ttl", 10'000}}});
    const warren::Message msg{.body = body100};
    for (std::size_t i = 0; i < n; ++i) ch.basic_publish("", "ttl", msg);
    const auto start = Clock::now();
    broker.advance(10s);
    const double s = seconds_since(start);
    const auto left = broker.queue("/", "ttl")->messages;
    fmt::print("expire {} messages (x-message-ttl) in one advance: {:.3f} s ({} left)\n", n, s, left);
}

void dead_letter_throughput(std::size_t n) {
    using namespace std::chrono_literals;
    warren::Broker broker;
    auto conn = warren::connect(broker);
    auto ch = conn.channel();
    ch.queue_declare("dead", {});
    ch.queue_declare("src", {.arguments = {{"x-message-ttl", 1'000},
                                           {"x-dead-letter-exchange", ""},
                                           {"x-dead-letter-routing-key", "dead"}}});
    const warren::Message msg{.body = body100};
    for (std::size_t i = 0; i < n; ++i) ch.basic_publish("", "src", msg);
    const auto start = Clock::now();
    broker.advance(1s);
    const double s = seconds_since(start);
    fmt::print("dead-letter on expiry (x-death added, routed via the default exchange): {:>9.0f} msgs/s ({} in dead)\n",
               n / s, broker.queue("/", "dead")->messages);
}

// A stream of n 100 B messages: resident memory per message, then 4 readers (prefetch 1000,
// acking each delivery) reading it all from offset first.
void stream_readers(std::size_t n) {
    warren::Broker broker;
    auto conn = warren::connect(broker);
    auto pub = conn.channel();
    pub.queue_declare("stream", {.durable = true, .arguments = {{"x-queue-type", "stream"}}});
    const warren::Message msg{.body = body100};
    const std::size_t before = resident_bytes();
    auto start = Clock::now();
    for (std::size_t i = 0; i < n; ++i) pub.basic_publish("", "stream", msg);
    const double publish_s = seconds_since(start);
    const double per_message =
        static_cast<double>(resident_bytes() - before) / static_cast<double>(n);
    fmt::print("publish to a stream, 100 B:              {:>12.0f} msgs/s    ({:.0f} B resident per message)\n",
               n / publish_s, per_message);
    std::size_t received = 0;
    std::vector<warren::Channel> readers;
    readers.reserve(4);  // the callbacks hold references to their channels
    start = Clock::now();
    for (int r = 0; r < 4; ++r) {
        auto& ch = readers.emplace_back(conn.channel());
        ch.basic_qos(1000);
        ch.basic_consume("stream",
                         [&received, &ch](const warren::Delivery& d) {
                             ++received;
                             ch.basic_ack(d.delivery_tag);
                         },
                         {.arguments = {{"x-stream-offset", "first"}}});
    }
    while (received < 4 * n) conn.process_events();
    const double s = seconds_since(start);
    fmt::print("stream read from first by 4 readers:    {:>12.0f} deliveries/s ({} messages each, {:.3f} s)\n",
               4 * n / s, n, s);
}

}  // namespace

int main(int argc, char** argv) {
    const bool quick = argc > 1 && std::string_view(argv[1]) == "--quick";
    const std::size_t scale = quick ? 10 : 1;
    if (argc > 1 && std::string_view(argv[1]) == "--queue-types") {
        // The stream first, while the heap holds nothing freed it could reuse unseen.
        stream_readers(1'000'000);
        publish_get_ack(1'000'000, /*quorum=*/true);
        return 0;
    }
    // First, while the heap holds nothing freed that the queue could reuse unseen.
    queued_memory(1'000'000 / scale);
    publish_get_ack(2'000'000 / scale);
    fanout(500'000 / scale);
    topic(1'000'000 / scale);
    headers(200'000 / scale);
    expire_in_one_advance(1'000'000 / scale);
    dead_letter_throughput(200'000 / scale);
    publish_get_ack(1'000'000 / scale, /*quorum=*/true);
}
