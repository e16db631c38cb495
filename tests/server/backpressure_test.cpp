// warren-server under load it must not buffer without bound: a consumer that does not read,
// a client that asks for more than it reads, and the memory high watermark.
#include <algorithm>
#include <atomic>

#include "raw_client.hpp"

namespace warren::test {
namespace {

ws::ServerOptions small_limits() {
    auto o = test_server_options();
    o.output_high_water = 64 * 1024;
    o.output_low_water = 16 * 1024;
    o.output_read_limit = 1024 * 1024;
    return o;
}

p::QueueDeclare declare_queue(std::string name) {
    p::QueueDeclare d;
    d.queue = std::move(name);
    return d;
}

std::string numbered_body(int i, std::size_t size) {
    std::string body = fmt::format("{:06}", i);
    body.resize(size, '.');
    return body;
}

ws::SessionStats stats_of(RunningServer& server, std::uint64_t session) {
    return server.call([&] {
        for (const auto& s : server.server().sessions())
            if (s.id == session) return s;
        return ws::SessionStats{};
    });
}

std::size_t ready(RunningServer& server, const std::string& queue) {
    return server.call([&] {
        auto q = server.server().broker().queue("/", queue);
        return q ? q->messages_ready : std::size_t(0);
    });
}

}  // namespace

TEST_CASE("a consumer that does not read keeps its messages in the queue, not in memory") {
    const auto options = small_limits();
    RunningServer server(options);
    constexpr int count = 2000;
    constexpr std::size_t size = 8192;

    // The consumer: a small receive window, and it reads nothing until the end.
    RawClient consumer(server.port(), "127.0.0.1", 4096);
    consumer.handshake();
    const std::uint64_t consumer_session = 1;
    consumer.open_channel(1);
    consumer.send(1, declare_queue("slow"));
    consumer.expect<p::QueueDeclareOk>(1);
    p::BasicConsume consume;
    consume.queue = "slow";
    consume.consumer_tag = "slow";
    consume.no_ack = true;
    consumer.send(1, consume);
    consumer.expect<p::BasicConsumeOk>(1);

    RawClient publisher(server.port());
    publisher.handshake();
    publisher.open_channel(1);
    publisher.send(1, p::ConfirmSelect{});
    publisher.expect<p::ConfirmSelectOk>(1);
    for (int i = 0; i < count; ++i) publisher.publish(1, "", "slow", numbered_body(i, size));
    for (int i = 1; i <= count; ++i) CHECK(publisher.expect<p::BasicAck>(1).delivery_tag == std::uint64_t(i));

    // 16 MB were published; the consumer's connection holds at most the high water mark and
    // one message, the kernel's socket buffers some more, and the queue the rest.
    const auto stalled = stats_of(server, consumer_session);
    CHECK(stalled.deliveries_paused);
    CHECK(stalled.peak_unwritten <= options.output_high_water + size + 512);
    CHECK(ready(server, "slow") > count / 2);

    // Once the consumer reads, deliveries resume and every message arrives, in order.
    for (int i = 0; i < count; ++i) {
        auto d = consumer.expect_content<p::BasicDeliver>(1);
        REQUIRE(d.body == numbered_body(i, size));
    }
    CHECK(ready(server, "slow") == 0);
    CHECK(stats_of(server, consumer_session).peak_unwritten <= options.output_high_water + size + 512);
    consumer.close();
    publisher.close();
}

TEST_CASE("other consumers of the queue are served while one is stalled") {
    RunningServer server(small_limits());
    RawClient stalled(server.port(), "127.0.0.1", 4096);
    stalled.handshake();
    stalled.open_channel(1);
    stalled.send(1, declare_queue("shared"));
    stalled.expect<p::QueueDeclareOk>(1);
    p::BasicConsume consume;
    consume.queue = "shared";
    consume.consumer_tag = "stalled";
    consume.no_ack = true;
    stalled.send(1, consume);
    stalled.expect<p::BasicConsumeOk>(1);

    RawClient reader(server.port());
    reader.handshake();
    reader.open_channel(1);
    consume.consumer_tag = "reader";
    reader.send(1, consume);
    reader.expect<p::BasicConsumeOk>(1);

    RawClient publisher(server.port());
    publisher.handshake();
    publisher.open_channel(1);
    constexpr int count = 1000;
    for (int i = 0; i < count; ++i) publisher.publish(1, "", "shared", numbered_body(i, 8192));
    // The reader gets the messages the stalled consumer cannot take.
    int received = 0;
    while (received < count / 2) {
        auto d = reader.expect_content<p::BasicDeliver>(1);
        CHECK(d.method.consumer_tag == "reader");
        ++received;
    }
    CHECK(received >= count / 2);
}

TEST_CASE("a client that asks for more than it reads is no longer read from") {
    const auto options = small_limits();
    RunningServer server(options);
    // More than the kernel's socket buffers take (net.ipv4.tcp_wmem's 4 MB at most).
    constexpr int count = 400;
    constexpr std::size_t size = 32768;
    RawClient c(server.port(), "127.0.0.1", 4096);
    c.handshake();
    c.open_channel(1);
    c.send(1, declare_queue("greedy"));
    c.expect<p::QueueDeclareOk>(1);
    for (int i = 0; i < count; ++i) c.publish(1, "", "greedy", numbered_body(i, size));
    p::BasicGet get;
    get.queue = "greedy";
    get.no_ack = true;
    // Every get at once, and nothing read: 13 MB of answers asked for.
    p::Bytes gets;
    for (int i = 0; i < count; ++i) REQUIRE_FALSE(p::encode_method_frame(1, get, gets));
    c.send_bytes(gets);
    CHECK(server.eventually([&] {
        const auto s = stats_of(server, 1);
        return !s.reading && s.unwritten > options.output_read_limit;
    }));
    const auto paused = stats_of(server, 1);
    // Reading stops after the request that crossed the limit: one answer over it at most.
    CHECK(paused.peak_unwritten <= options.output_read_limit + size + 1024);
    CHECK(ready(server, "greedy") > 0);
    for (int i = 0; i < count; ++i) REQUIRE(c.expect_content<p::BasicGetOk>(1).body == numbered_body(i, size));
    CHECK(ready(server, "greedy") == 0);
    c.close();
}

TEST_CASE("above the memory high watermark, publishing connections are blocked") {
    auto options = test_server_options();
    auto used = std::make_shared<std::atomic<std::uint64_t>>(0);
    options.memory_probe = [used] { return used->load(); };
    options.memory_high_watermark = 1'000'000;
    options.memory_check_interval = std::chrono::milliseconds(10);
    RunningServer server(options);

    RawClient publisher(server.port());
    publisher.handshake();
    publisher.open_channel(1);
    publisher.send(1, declare_queue("mem"));
    publisher.expect<p::QueueDeclareOk>(1);
    RawClient consumer(server.port());
    consumer.handshake();
    consumer.open_channel(1);
    RawClient unaware(server.port());
    HandshakeOptions plain;
    plain.capabilities = FieldTable{};
    unaware.handshake(plain);
    unaware.open_channel(1);

    used->store(2'000'000);
    CHECK(server.eventually([&] { return server.call([&] { return server.server().memory_alarm(); }); }));
    // rabbit_reader:publish_received: under the alarm, the first content header or body frame
    // blocks the connection and nothing after it is read. A publish whose header came in waits,
    // its body unread and the message unrouted, until the alarm clears; one with an empty body
    // is complete at its header, so it is routed before the block (both checked on 3.10.8).
    publisher.publish(1, "", "mem", "held back");
    CHECK(publisher.expect<p::ConnectionBlocked>(0).reason == "low on memory");
    unaware.publish(1, "", "mem", "");
    unaware.publish(1, "", "mem", "held back too");
    // Both publishers' sessions have stopped reading, so what they sent since stays unread.
    CHECK(server.eventually([&] {
        return server.call([&] {
            const auto sessions = server.server().sessions();
            return std::count_if(sessions.begin(), sessions.end(), [](const ws::SessionStats& st) {
                       return st.blocked && !st.reading;
                   }) == 2;
        });
    }));
    CHECK(ready(server, "mem") == 1);
    // A connection that only consumes is not told anything. The alarm reached every session
    // before memory_alarm() read true (one event on the server's thread), so what it made the
    // server send this connection would arrive before the answer to a request sent now.
    CHECK(consumer.nothing_before_round_trip(1));
    CHECK(server.logged("memory resource limit alarm set"));

    used->store(0);
    publisher.expect<p::ConnectionUnblocked>(0);
    CHECK(server.eventually([&] { return ready(server, "mem") == 3; }));
    // A client without the connection.blocked capability is told nothing, then or now: the
    // alarm and its clearing were both handled before its held-back publish was (ready is 3).
    CHECK(unaware.nothing_before_round_trip(1));
    CHECK(server.logged("memory resource limit alarm cleared"));
    publisher.close();
    consumer.close();
    unaware.close();
}

TEST_CASE("a blocked connection is kept alive with heartbeats and not timed out") {
    auto options = test_server_options();
    auto used = std::make_shared<std::atomic<std::uint64_t>>(2'000'000);
    options.memory_probe = [used] { return used->load(); };
    options.memory_high_watermark = 1'000'000;
    options.memory_check_interval = std::chrono::milliseconds(10);
    RunningServer server(options);
    CHECK(server.eventually([&] { return server.call([&] { return server.server().memory_alarm(); }); }));

    RawClient publisher(server.port());
    HandshakeOptions o;
    o.heartbeat = 1;
    publisher.handshake(o);
    publisher.open_channel(1);
    publisher.send(1, declare_queue("hb-blocked"));
    publisher.expect<p::QueueDeclareOk>(1);
    publisher.publish(1, "", "hb-blocked", "m");
    publisher.expect<p::ConnectionBlocked>(0);
    // Silent for three heartbeat intervals: the server, not reading, does not count that
    // against the client (RabbitMQ pauses its heartbeat monitor), and keeps sending its own.
    // This absence is about time itself (the heartbeat timers run on real time), so it is a
    // bounded wait.
    CHECK(publisher.nothing_arrives(3000ms));
    CHECK(publisher.heartbeats_received() >= 3);
    used->store(0);
    publisher.expect<p::ConnectionUnblocked>(0);
    publisher.close();
}

}  // namespace warren::test
