// The rabbitmq-c backend against a live RabbitMQ at WARREN_TEST_AMQP_URL; the live cases skip
// themselves when it is unset. Every case names its queues and exchanges uniquely and deletes
// them when done, so runs may share a broker.
#include <cctype>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "warren/amqp/uri.hpp"
#include "warren/connection.hpp"

using namespace std::chrono_literals;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using warren::AmqpError;
using warren::ByteArray;
using warren::ChannelClosed;
using warren::ClientError;
using warren::ConnectionClosed;
using warren::Decimal;
using warren::Delivery;
using warren::FieldArray;
using warren::FieldTable;
using warren::FieldValue;
using warren::Message;
using warren::Timestamp;

namespace {

std::optional<std::string> broker_url() {
    const char* url = std::getenv("WARREN_TEST_AMQP_URL");
    if (url == nullptr) {
        WARN("WARREN_TEST_AMQP_URL is unset: live RabbitMQ test skipped");
        return std::nullopt;
    }
    return std::string(url);
}

std::string unique(std::string_view what) {
    static std::mt19937_64 random{std::random_device{}()};
    static unsigned counter = 0;
    return fmt::format("warren-amqp-test-{}-{}-{}-{:x}", what, getpid(), ++counter,
                       random() & 0xFFFFFF);
}

std::string percent_encode(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
            out.push_back(static_cast<char>(c));
        else
            out += fmt::format("%{:02X}", c);
    }
    return out;
}

/// `url` with another user, password and vhost.
std::string with_login(const std::string& url, std::string_view user, std::string_view password,
                       std::string_view vhost) {
    const warren::amqp::Uri uri = warren::amqp::parse_uri(url);
    return fmt::format("amqp://{}:{}@{}/{}", percent_encode(user), percent_encode(password),
                       uri.endpoint(), percent_encode(vhost));
}

/// A TCP relay on 127.0.0.1 between one client and the broker, which a test cuts to lose the
/// connection; a silent relay accepts the client and never answers, like a hung broker.
class Relay {
public:
    Relay(const warren::amqp::Uri& broker, bool silent) : broker_(broker), silent_(silent) {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), length) == 0);
        REQUIRE(::listen(listener_, 1) == 0);
        REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    Relay(const Relay&) = delete;
    Relay& operator=(const Relay&) = delete;
    ~Relay() {
        cut();
        thread_.join();
        ::close(listener_);
    }

    std::uint16_t port() const { return port_; }
    /// Closes both sides of the relayed connection.
    void cut() { cut_ = true; }

private:
    static int connect_to(const warren::amqp::Uri& broker) {
        addrinfo hints{};
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* found = nullptr;
        if (::getaddrinfo(broker.host.c_str(), std::to_string(broker.port).c_str(), &hints,
                          &found) != 0)
            return -1;
        int fd = ::socket(found->ai_family, found->ai_socktype, found->ai_protocol);
        if (fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
            ::close(fd);
            fd = -1;
        }
        ::freeaddrinfo(found);
        return fd;
    }

    void run() {
        pollfd accepting{listener_, POLLIN, 0};
        while (!cut_ && ::poll(&accepting, 1, 20) == 0) {
        }
        if (cut_) return;
        const int client = ::accept(listener_, nullptr, nullptr);
        const int broker = silent_ ? -1 : connect_to(broker_);
        char buffer[65536];
        while (!cut_) {
            pollfd fds[2] = {{client, POLLIN, 0}, {broker, POLLIN, 0}};
            if (::poll(fds, broker >= 0 ? 2 : 1, 20) <= 0) continue;
            for (int i = 0; i < 2; ++i) {
                if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP)) == 0) continue;
                const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
                if (n <= 0 || ::write(fds[1 - i].fd, buffer, static_cast<std::size_t>(n)) != n)
                    cut_ = true;
            }
        }
        ::close(client);
        if (broker >= 0) ::close(broker);
    }

    warren::amqp::Uri broker_;
    bool silent_;
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> cut_{false};
    std::thread thread_;
};

/// `url` pointed at 127.0.0.1:`port` instead of the broker.
std::string via_port(const std::string& url, std::uint16_t port, std::string_view query = "") {
    const warren::amqp::Uri uri = warren::amqp::parse_uri(url);
    return fmt::format("amqp://{}:{}@127.0.0.1:{}/{}{}", percent_encode(uri.user),
                       percent_encode(uri.password), port, percent_encode(uri.vhost), query);
}

/// Deletes the named queues and exchanges on a connection of its own when the test ends,
/// whether or not the test's own connection survived.
class Cleanup {
public:
    explicit Cleanup(std::string url) : url_(std::move(url)) {}
    Cleanup(const Cleanup&) = delete;
    Cleanup& operator=(const Cleanup&) = delete;
    ~Cleanup() {
        try {
            auto conn = warren::connect(url_);
            for (const auto& q : queues_) {
                auto ch = conn.channel();
                ch.queue_delete(q);
            }
            for (const auto& e : exchanges_) {
                auto ch = conn.channel();
                ch.exchange_delete(e);
            }
            conn.close();
        } catch (const std::exception& e) {
            WARN("cleanup failed: " << e.what());
        }
    }
    std::string queue(std::string_view what) { return queues_.emplace_back(unique(what)); }
    std::string exchange(std::string_view what) { return exchanges_.emplace_back(unique(what)); }

private:
    std::string url_;
    std::vector<std::string> queues_;
    std::vector<std::string> exchanges_;
};

/// Runs process_events until `done` or 5 s pass; returns how many events it dispatched.
template <class Done>
std::size_t process_until(warren::Connection& conn, Done done) {
    std::size_t events = 0;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < deadline)
        events += conn.process_events(100ms);
    return events;
}

/// basic_get, retried for up to 5 s until the queue yields a message (see `ready`). Each try
/// is a round trip to the broker, which paces the loop.
std::optional<Delivery> get_eventually(warren::Channel& ch, const std::string& queue,
                                       bool no_ack = false) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    for (;;) {
        std::optional<Delivery> got = ch.basic_get(queue, no_ack);
        if (got || std::chrono::steady_clock::now() > deadline) return got;
    }
}

std::string vhost_of(const std::string& url) { return warren::amqp::parse_uri(url).vhost; }

/// The queue's ready message count once it reaches `expected` (or after 5 s), as passive
/// declares report it. RabbitMQ enqueues a publish asynchronously (through its delegates), so
/// a declare right after a publish may not count it yet. Each declare is a round trip, which
/// paces the loop.
std::uint32_t ready(warren::Channel& ch, const std::string& queue, std::uint32_t expected) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    for (;;) {
        const std::uint32_t count = ch.queue_declare(queue, {.passive = true}).message_count;
        if (count == expected || std::chrono::steady_clock::now() > deadline) return count;
    }
}

}  // namespace

TEST_CASE("amqp: declare, bind, publish and get round-trip every property and field type") {
    auto url = broker_url();
    if (!url) return;
    Cleanup cleanup(*url);
    const std::string ex = cleanup.exchange("ex");
    const std::string q = cleanup.queue("q");

    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    CHECK(ch.id() == 1);
    ch.exchange_declare(ex, "direct");
    const warren::QueueDeclareOk ok = ch.queue_declare(q);
    CHECK(ok == warren::QueueDeclareOk{q, 0, 0});
    ch.queue_bind(q, ex, "rk");

    const Message sent{
        .body = std::string("binary\0body", 11),
        .properties = {
            .content_type = "application/octet-stream",
            .content_encoding = "identity",
            .headers = {{"void", FieldValue()},
                        {"bool", true},
                        {"int8", std::int8_t{-8}},
                        {"uint8", std::uint8_t{8}},
                        {"int16", std::int16_t{-16}},
                        {"uint16", std::uint16_t{16}},
                        {"int32", std::int32_t{-32}},
                        {"uint32", std::uint32_t{32}},
                        {"int64", std::int64_t{-64}},
                        {"uint64", std::uint64_t{64}},
                        {"float", 1.5f},
                        {"double", 2.25},
                        {"decimal", Decimal{2, 12345}},
                        {"string", "text"},
                        {"bytes", ByteArray{std::string("\0\xff", 2)}},
                        {"timestamp", Timestamp{1700000000}},
                        {"table", FieldTable{{"inner", 1}, {"deeper", FieldTable{{"x", "y"}}}}},
                        {"array", FieldArray{1, "two", FieldArray{}, FieldTable{}}}},
            .delivery_mode = 2,
            .priority = 7,
            .correlation_id = "corr",
            .reply_to = "reply",
            .expiration = "60000",
            .message_id = "id-1",
            .timestamp = Timestamp{1700000001},
            .type = "kind",
            .user_id = warren::amqp::parse_uri(*url).user,
            .app_id = "warren-tests",
            .cluster_id = "cluster",
        }};
    ch.basic_publish(ex, "rk", sent);

    const std::optional<Delivery> got = get_eventually(ch, q);
    REQUIRE(got);
    CHECK(got->message == sent);
    CHECK(got->delivery_tag == 1);
    CHECK_FALSE(got->redelivered);
    CHECK(got->exchange == ex);
    CHECK(got->routing_key == "rk");
    CHECK(got->consumer_tag.empty());
    CHECK(got->message_count == 0);
    ch.basic_ack(got->delivery_tag);
    CHECK_FALSE(ch.basic_get(q));

    ch.queue_unbind(q, ex, "rk");
    ch.basic_publish(ex, "rk", Message{.body = "unrouted"});
    CHECK_FALSE(ch.basic_get(q));
    conn.close();
}

TEST_CASE("amqp: a message without properties and an empty body round-trips") {
    auto url = broker_url();
    if (!url) return;
    Cleanup cleanup(*url);
    const std::string q = cleanup.queue("q");
    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    ch.queue_declare(q);
    ch.basic_publish("", q, Message{});
    auto got = get_eventually(ch, q, /*no_ack=*/true);
    REQUIRE(got);
    CHECK(got->message == Message{});
    CHECK(got->message.properties.empty());
}

TEST_CASE("amqp: a body larger than a frame round-trips") {
    auto url = broker_url();
    if (!url) return;
    Cleanup cleanup(*url);
    const std::string q = cleanup.queue("q");
    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    ch.queue_declare(q);
    std::string body(1'000'003, '\0');
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 7 % 251);
    ch.basic_publish("", q, Message{.body = body});
    auto got = get_eventually(ch, q, true);
    REQUIRE(got);
    CHECK(got->message.body == body);
}

TEST_CASE("amqp: a consumer receives through process_events, in order, until cancelled") {
    auto url = broker_url();
    if (!url) return;
    Cleanup cleanup(*url);
    const std::string q = cleanup.queue("q");
    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    ch.queue_declare(q);
    for (int i = 0; i < 5; ++i) ch.basic_publish("", q, Message{.body = fmt::format("m{}", i)});

    std::vector<Delivery> got;
    const std::string tag = ch.basic_consume(q, [&](const Delivery& d) {
        got.push_back(d);
        ch.basic_ack(d.delivery_tag);
    });
    CHECK_THAT(tag, StartsWith("amq.ctag-"));
    const std::size_t events = process_until(conn, [&] { return got.size() >= 5; });
    CHECK(events == 5);
    REQUIRE(got.size() == 5);
    for (std::size_t i = 0; i < got.size(); ++i) {
        CHECK(got[i].message.body == fmt::format("m{}", i));
        CHECK(got[i].consumer_tag == tag);
        CHECK(got[i].delivery_tag == i + 1);
        CHECK(got[i].routing_key == q);
    }

    ch.basic_cancel(tag);
    ch.basic_publish("", q, Message{.body = "after cancel"});
    // The message waits in the queue, so it was not delivered, and nothing else came.
    CHECK(ready(ch, q, 1) == 1);
    CHECK(conn.process_events() == 0);
    CHECK(got.size() == 5);
}

TEST_CASE("amqp: a consumer with its own tag, and process_events' timeout") {
    auto url = broker_url();
    if (!url) return;
    Cleanup cleanup(*url);
    const std::string q = cleanup.queue("q");
    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    ch.queue_declare(q);
    int calls = 0;
    CHECK(ch.basic_consume(q, [&](const Delivery&) { ++calls; },
                           {.consumer_tag = "my-tag", .no_ack = true}) == "my-tag");

    const auto start = std::chrono::steady_clock::now();
    CHECK(conn.process_events(300ms) == 0);
    CHECK(std::chrono::steady_clock::now() - start >= 250ms);

    ch.basic_publish("", q, Message{.body = "x"});
    CHECK(conn.process_events(5s) == 1);
    CHECK(calls == 1);
}

TEST_CASE("amqp: deliveries that arrive during a synchronous call wait for process_events") {
    auto url = broker_url();
    if (!url) return;
    Cleanup cleanup(*url);
    const std::string consumed = cleanup.queue("consumed");
    const std::string polled = cleanup.queue("polled");
    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    ch.queue_declare(consumed);
    ch.queue_declare(polled);

    std::vector<std::string> got;
    ch.basic_consume(consumed, [&](const Delivery& d) { got.push_back(d.message.body); },
                     {.no_ack = true});
    for (int round = 0; round < 20; ++round) {
        // The deliveries to the consumer and the get-ok travel on the same channel.
        for (int i = 0; i < 3; ++i)
            ch.basic_publish("", consumed, Message{.body = fmt::format("c{}-{}", round, i)});
        ch.basic_publish("", polled, Message{.body = fmt::format("p{}", round)});
        auto polled_message = get_eventually(ch, polled, true);
        REQUIRE(polled_message);
        CHECK(polled_message->message.body == fmt::format("p{}", round));
        CHECK(ch.queue_declare(polled, {.passive = true}).message_count == 0);
    }
    CHECK(got.empty());
    process_until(conn, [&] { return got.size() >= 60; });
    REQUIRE(got.size() == 60);
    for (int round = 0; round < 20; ++round)
        for (int i = 0; i < 3; ++i) CHECK(got[round * 3 + i] == fmt::format("c{}-{}", round, i));
}

TEST_CASE("amqp: a callback may ack, publish and make synchronous calls") {
    auto url = broker_url();
    if (!url) return;
    Cleanup cleanup(*url);
    const std::string first = cleanup.queue("first");
    const std::string second = cleanup.queue("second");
    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    ch.queue_declare(first);
    ch.queue_declare(second);
    std::vector<std::string> seen;
    ch.basic_consume(first, [&](const Delivery& d) {
        seen.push_back("first:" + d.message.body);
        ch.queue_declare(second, {.passive = true});
        ch.basic_publish("", second, Message{.body = d.message.body + "!"});
        ch.basic_ack(d.delivery_tag);
    });
    ch.basic_consume(second, [&](const Delivery& d) {
        seen.push_back("second:" + d.message.body);
        ch.basic_ack(d.delivery_tag);
    });
    ch.basic_publish("", first, Message{.body = "a"});
    process_until(conn, [&] { return seen.size() >= 2; });
    CHECK(seen == std::vector<std::string>{"first:a", "second:a!"});
}

TEST_CASE("amqp: a 404 closes only its channel") {
    auto url = broker_url();
    if (!url) return;
    Cleanup cleanup(*url);
    const std::string missing = unique("missing");
    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    auto other = conn.channel();
    CHECK(other.id() == 2);

    const std::string text =
        fmt::format("NOT_FOUND - no queue '{}' in vhost '{}'", missing, vhost_of(*url));
    try {
        ch.queue_declare(missing, {.passive = true});
        FAIL("passive declare of a missing queue succeeded");
    } catch (const AmqpError& e) {
        CHECK(dynamic_cast<const ChannelClosed*>(&e) == nullptr);
        CHECK(e.reply_code() == 404);
        CHECK(e.reply_text() == text);
        CHECK(e.class_id() == 50);
        CHECK(e.method_id() == 10);
    }
    CHECK_FALSE(ch.is_open());
    CHECK(conn.is_open());
    CHECK(other.is_open());
    try {
        ch.queue_declare("", {.exclusive = true});
        FAIL("a call on a closed channel succeeded");
    } catch (const ChannelClosed& e) {
        CHECK(e.reply_code() == 404);
        CHECK(e.reply_text() == text);
    }
    CHECK_THROWS_AS(ch.basic_publish("", "q", Message{}), ChannelClosed);

    CHECK_THAT(other.queue_declare("", {.exclusive = true}).queue, StartsWith("amq.gen-"));
    auto third = conn.channel();
    CHECK(third.id() == 3);
    third.queue_declare("", {.exclusive = true});
}

TEST_CASE("amqp: a publish to a missing exchange closes the channel at the next call") {
    auto url = broker_url();
    if (!url) return;
    const std::string missing = unique("missing-exchange");
    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    ch.basic_publish(missing, "rk", Message{.body = "x"});
    try {
        ch.queue_declare("", {.exclusive = true});
        FAIL("the channel survived a publish to a missing exchange");
    } catch (const ChannelClosed& e) {
        CHECK(e.reply_code() == 404);
        CHECK(e.reply_text() ==
              fmt::format("NOT_FOUND - no exchange '{}' in vhost '{}'", missing, vhost_of(*url)));
        CHECK(e.class_id() == 60);
        CHECK(e.method_id() == 40);
    }
    CHECK(conn.is_open());
    conn.channel().queue_declare("", {.exclusive = true});
}

TEST_CASE("amqp: an inequivalent redeclare is a 406") {
    auto url = broker_url();
    if (!url) return;
    Cleanup cleanup(*url);
    const std::string q = cleanup.queue("q");
    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    ch.queue_declare(q);
    try {
        ch.queue_declare(q, {.durable = true});
        FAIL("inequivalent redeclare succeeded");
    } catch (const AmqpError& e) {
        CHECK(e.reply_code() == 406);
        CHECK(e.reply_text() ==
              fmt::format("PRECONDITION_FAILED - inequivalent arg 'durable' for queue '{}' in "
                          "vhost '{}': received 'true' but current is 'false'",
                          q, vhost_of(*url)));
        CHECK(e.method() == warren::method::queue_declare);
        CHECK_FALSE(e.closes_connection());
    }
    CHECK(conn.is_open());
}

TEST_CASE("amqp: an unknown delivery tag closes the channel with the ack's 406") {
    auto url = broker_url();
    if (!url) return;
    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    ch.basic_ack(42);
    try {
        ch.queue_declare("", {.exclusive = true});
        FAIL("the channel survived an unknown delivery tag");
    } catch (const ChannelClosed& e) {
        CHECK(e.reply_code() == 406);
        CHECK(e.reply_text() == "PRECONDITION_FAILED - unknown delivery tag 42");
        CHECK(e.method() == warren::method::basic_ack);
    }
}

TEST_CASE("amqp: a connection error closes the connection") {
    auto url = broker_url();
    if (!url) return;
    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    auto other = conn.channel();
    try {
        ch.exchange_declare(unique("ex"), "no-such-type");
        FAIL("declaring an exchange of an unknown type succeeded");
    } catch (const AmqpError& e) {
        CHECK(e.reply_code() == 503);
        CHECK(e.reply_text() == "COMMAND_INVALID - unknown exchange type 'no-such-type'");
        CHECK(e.method() == warren::method::exchange_declare);
        CHECK(e.closes_connection());
    }
    CHECK_FALSE(conn.is_open());
    CHECK_FALSE(other.is_open());
    CHECK_THROWS_AS(other.queue_declare(""), ConnectionClosed);
    CHECK_THROWS_AS(conn.channel(), ConnectionClosed);
    CHECK_THROWS_AS(conn.process_events(), ConnectionClosed);
    conn.close();
}

TEST_CASE("amqp: a mandatory publish that no queue takes comes back through on_return") {
    auto url = broker_url();
    if (!url) return;
    const std::string nowhere = unique("nowhere");
    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    std::vector<warren::Returned> returns;
    ch.on_return([&](const warren::Returned& r) { returns.push_back(r); });
    ch.basic_publish("", nowhere, Message{.body = "lost", .properties = {.message_id = "m1"}},
                     {.mandatory = true});
    ch.basic_publish("", nowhere, Message{.body = "dropped"});
    // The channel routes a publish as it takes it and answers in order: once this round trip
    // is answered, both publishes' returns, had there been two, are in the client.
    ch.basic_qos(0);
    CHECK(conn.process_events() == 1);
    REQUIRE(returns.size() == 1);
    CHECK(returns[0].reply_code == 312);
    CHECK(returns[0].reply_text == "NO_ROUTE");
    CHECK(returns[0].exchange.empty());
    CHECK(returns[0].routing_key == nowhere);
    CHECK(returns[0].message.body == "lost");
    CHECK(returns[0].message.properties.message_id == "m1");
}

TEST_CASE("amqp: publisher confirms") {
    auto url = broker_url();
    if (!url) return;
    Cleanup cleanup(*url);
    auto conn = warren::connect(*url);

    SECTION("all acked") {
        const std::string q = cleanup.queue("q");
        auto ch = conn.channel();
        ch.queue_declare(q);
        ch.confirm_select();
        std::set<std::uint64_t> acked;
        ch.on_confirm([&](const warren::Confirm& c) {
            CHECK(c.ack);
            for (std::uint64_t t = c.multiple ? 1 : c.delivery_tag; t <= c.delivery_tag; ++t)
                acked.insert(t);
        });
        for (int i = 0; i < 10; ++i) ch.basic_publish("", q, Message{.body = "m"});
        CHECK(ch.wait_for_confirms(5s));
        CHECK(acked == std::set<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
        CHECK(ready(ch, q, 10) == 10);
        ch.basic_publish("", q, Message{.body = "m"});
        CHECK(ch.wait_for_confirms(5s));
        CHECK(acked.contains(11));
    }
    SECTION("a rejected publish is nacked") {
        const std::string q = cleanup.queue("q");
        auto ch = conn.channel();
        ch.queue_declare(q, {.arguments = {{"x-max-length", 1}, {"x-overflow", "reject-publish"}}});
        ch.confirm_select();
        std::vector<warren::Confirm> confirms;
        ch.on_confirm([&](const warren::Confirm& c) { confirms.push_back(c); });
        ch.basic_publish("", q, Message{.body = "kept"});
        ch.basic_publish("", q, Message{.body = "rejected"});
        CHECK_FALSE(ch.wait_for_confirms(5s));
        REQUIRE(confirms.size() == 2);
        CHECK(confirms[0].ack);
        CHECK(confirms[0].delivery_tag == 1);
        CHECK_FALSE(confirms[1].ack);
        CHECK(confirms[1].delivery_tag == 2);
        // The nack was reported once; later waits start afresh.
        CHECK(ch.wait_for_confirms(1s));
    }
    SECTION("a publish to a missing exchange fails the wait with the channel's error") {
        auto ch = conn.channel();
        ch.confirm_select();
        ch.basic_publish(unique("missing"), "rk", Message{});
        CHECK_THROWS_AS(ch.wait_for_confirms(5s), ChannelClosed);
    }
}

TEST_CASE("amqp: nack, reject and recover requeue with redelivered set") {
    auto url = broker_url();
    if (!url) return;
    Cleanup cleanup(*url);
    const std::string q = cleanup.queue("q");
    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    ch.queue_declare(q);
    ch.basic_publish("", q, Message{.body = "a"});

    auto first = get_eventually(ch, q);
    REQUIRE(first);
    CHECK_FALSE(first->redelivered);
    ch.basic_nack(first->delivery_tag, false, true);
    auto second = get_eventually(ch, q);
    REQUIRE(second);
    CHECK(second->redelivered);
    CHECK(second->message.body == "a");
    ch.basic_reject(second->delivery_tag, true);
    auto third = get_eventually(ch, q);
    REQUIRE(third);
    CHECK(third->redelivered);
    ch.basic_recover(true);
    auto fourth = get_eventually(ch, q);
    REQUIRE(fourth);
    CHECK(fourth->redelivered);
    ch.basic_reject(fourth->delivery_tag, false);
    CHECK_FALSE(ch.basic_get(q));
}

TEST_CASE("amqp: server-named queues, basic_get on an empty queue, purge and delete counts") {
    auto url = broker_url();
    if (!url) return;
    Cleanup cleanup(*url);
    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    const warren::QueueDeclareOk ok = ch.queue_declare("", {.exclusive = true});
    CHECK_THAT(ok.queue, StartsWith("amq.gen-"));
    CHECK_FALSE(ch.basic_get(ok.queue));

    for (int i = 0; i < 3; ++i) ch.basic_publish("", ok.queue, Message{.body = "x"});
    CHECK(ready(ch, ok.queue, 3) == 3);
    CHECK(ch.queue_purge(ok.queue) == 3);
    for (int i = 0; i < 2; ++i) ch.basic_publish("", ok.queue, Message{.body = "x"});
    REQUIRE(ready(ch, ok.queue, 2) == 2);
    CHECK(ch.queue_delete(ok.queue) == 2);
}

TEST_CASE("amqp: exchange-to-exchange bindings, qos and exchange delete") {
    auto url = broker_url();
    if (!url) return;
    Cleanup cleanup(*url);
    const std::string source = cleanup.exchange("source");
    const std::string destination = cleanup.exchange("destination");
    const std::string q = cleanup.queue("q");
    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    ch.basic_qos(10);
    ch.exchange_declare(source, "topic");
    ch.exchange_declare(destination, "fanout", {.durable = false, .auto_delete = false});
    ch.queue_declare(q);
    ch.queue_bind(q, destination);
    ch.exchange_bind(destination, source, "a.*");
    ch.basic_publish(source, "a.b", Message{.body = "routed"});
    ch.basic_publish(source, "b.b", Message{.body = "unrouted"});
    auto got = get_eventually(ch, q, true);
    REQUIRE(got);
    CHECK(got->message.body == "routed");
    CHECK(got->exchange == source);
    CHECK_FALSE(ch.basic_get(q));
    ch.exchange_unbind(destination, source, "a.*");
    ch.basic_publish(source, "a.b", Message{.body = "no longer routed"});
    CHECK_FALSE(ch.basic_get(q));
    ch.exchange_delete(destination);
    CHECK_THROWS_AS(ch.exchange_declare(destination, "fanout", {.passive = true}), AmqpError);
}

TEST_CASE("amqp: a consumer cancelled by the broker leaves the connection working") {
    auto url = broker_url();
    if (!url) return;
    Cleanup cleanup(*url);
    const std::string q = cleanup.queue("q");
    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    auto other = conn.channel();
    ch.queue_declare(q);
    int deliveries = 0;
    ch.basic_consume(q, [&](const Delivery&) { ++deliveries; }, {.no_ack = true});
    ch.basic_publish("", q, Message{.body = "before"});
    process_until(conn, [&] { return deliveries == 1; });
    other.queue_delete(q);
    CHECK(conn.process_events(2s) == 1);
    CHECK(ch.is_open());
    ch.queue_declare(q);
    ch.basic_publish("", q, Message{.body = "after"});
    // The message waits in the queue, so it was not delivered, and nothing else came.
    CHECK(ready(ch, q, 1) == 1);
    CHECK(conn.process_events() == 0);
    CHECK(deliveries == 1);
}

TEST_CASE("amqp: closing a channel and the connection") {
    auto url = broker_url();
    if (!url) return;
    Cleanup cleanup(*url);
    const std::string q = cleanup.queue("q");
    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    ch.queue_declare(q);
    ch.basic_publish("", q, Message{.body = "unacked"});
    REQUIRE(get_eventually(ch, q));
    ch.close();
    CHECK_FALSE(ch.is_open());
    ch.close();
    try {
        ch.queue_declare(q);
        FAIL("a call on a closed channel succeeded");
    } catch (const ChannelClosed& e) {
        CHECK(e.reply_code() == 200);
        CHECK(e.reply_text() == "closed by the client");
    }
    auto next = conn.channel();
    CHECK(next.id() == 2);
    CHECK(ready(next, q, 1) == 1);

    conn.close();
    CHECK_FALSE(conn.is_open());
    CHECK_FALSE(next.is_open());
    conn.close();
    try {
        conn.channel();
        FAIL("a channel opened on a closed connection");
    } catch (const ConnectionClosed& e) {
        CHECK(e.reply_code() == 200);
    }
    CHECK_THROWS_AS(next.basic_get(q), ConnectionClosed);
}

TEST_CASE("amqp: bad credentials are a 403 naming the broker") {
    auto url = broker_url();
    if (!url) return;
    const std::string endpoint = warren::amqp::parse_uri(*url).endpoint();
    try {
        warren::connect(with_login(*url, "guest", "wrong-password", vhost_of(*url)));
        FAIL("connected with a wrong password");
    } catch (const AmqpError& e) {
        CHECK(e.reply_code() == 403);
        CHECK(e.reply_text() ==
              "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For "
              "details see the broker logfile.");
        CHECK_THAT(e.what(), Contains(endpoint) && Contains("ACCESS_REFUSED"));
    }
}

TEST_CASE("amqp: an unknown vhost is a 530") {
    auto url = broker_url();
    if (!url) return;
    const std::string vhost = unique("vhost");
    const warren::amqp::Uri uri = warren::amqp::parse_uri(*url);
    try {
        warren::connect(with_login(*url, uri.user, uri.password, vhost));
        FAIL("connected to a missing vhost");
    } catch (const AmqpError& e) {
        CHECK(e.reply_code() == 530);
        CHECK(e.reply_text() == fmt::format("NOT_ALLOWED - vhost {} not found", vhost));
        CHECK_THAT(e.what(), Contains(uri.endpoint()));
    }
}

TEST_CASE("amqp: an unreachable broker is a ClientError naming host and port") {
    // Needs no broker: nothing listens on port 1.
    try {
        warren::connect("amqp://127.0.0.1:1/");
        FAIL("connected to port 1");
    } catch (const ClientError& e) {
        CHECK_THAT(e.what(), Contains("127.0.0.1:1"));
    }
    try {
        warren::connect("amqp://no-such-host.invalid:5999/?connection_timeout=2000");
        FAIL("connected to a host that does not resolve");
    } catch (const ClientError& e) {
        CHECK_THAT(e.what(), Contains("no-such-host.invalid:5999"));
    }
}

TEST_CASE("amqp: a lost connection is a ClientError naming the broker, then and later") {
    auto url = broker_url();
    if (!url) return;
    Relay relay(warren::amqp::parse_uri(*url), /*silent=*/false);
    auto conn = warren::connect(via_port(*url, relay.port()));
    auto ch = conn.channel();
    ch.queue_declare("", {.exclusive = true});
    relay.cut();
    const std::string endpoint = fmt::format("127.0.0.1:{}", relay.port());
    try {
        ch.queue_declare("", {.exclusive = true});
        FAIL("a call succeeded on a cut connection");
    } catch (const ClientError& e) {
        CHECK_THAT(e.what(), Contains(endpoint) && Contains("lost"));
    }
    CHECK_FALSE(conn.is_open());
    CHECK_FALSE(ch.is_open());
    CHECK_THROWS_AS(ch.basic_publish("", "q", Message{}), ClientError);
    CHECK_THROWS_AS(conn.process_events(), ClientError);
    CHECK_THROWS_AS(conn.channel(), ClientError);
    conn.close();
    CHECK_THROWS_AS(conn.channel(), ClientError);
}

TEST_CASE("amqp: a broker that never answers the handshake times out") {
    auto url = broker_url();
    if (!url) return;
    Relay relay(warren::amqp::parse_uri(*url), /*silent=*/true);
    const auto start = std::chrono::steady_clock::now();
    try {
        warren::connect(via_port(*url, relay.port(), "?connection_timeout=300"));
        FAIL("connected to a silent relay");
    } catch (const ClientError& e) {
        CHECK_THAT(e.what(), Contains(fmt::format("127.0.0.1:{}", relay.port())));
    }
    CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("amqp: after a channel error, only its no-ack deliveries still reach the consumer") {
    auto url = broker_url();
    if (!url) return;
    Cleanup cleanup(*url);
    const std::string auto_acked = cleanup.queue("auto-acked");
    const std::string acked = cleanup.queue("acked");
    auto conn = warren::connect(*url);
    auto ch = conn.channel();
    ch.queue_declare(auto_acked);
    ch.queue_declare(acked);
    for (int i = 0; i < 3; ++i) {
        ch.basic_publish("", auto_acked, Message{.body = fmt::format("kept{}", i)});
        ch.basic_publish("", acked, Message{.body = fmt::format("requeued{}", i)});
    }
    // Every message waits in its queue before the consumers start...
    REQUIRE(ready(ch, auto_acked, 3) == 3);
    REQUIRE(ready(ch, acked, 3) == 3);
    std::vector<std::string> got;
    ch.basic_consume(auto_acked, [&](const Delivery& d) { got.push_back(d.message.body); },
                     {.no_ack = true});
    ch.basic_consume(acked, [&](const Delivery& d) { got.push_back(d.message.body); });
    // ...so that each queue hands its backlog to the new consumer before it answers
    // basic.consume (rabbit_amqqueue_process), and the deliveries reach the channel ahead of
    // anything the client sends after consume-ok. A channel answers in order: when this
    // declare's answer has arrived, all six deliveries are in the client, and the queues are
    // empty.
    CHECK(ch.queue_declare(auto_acked, {.passive = true}).message_count == 0);
    CHECK(ch.queue_declare(acked, {.passive = true}).message_count == 0);
    ch.basic_publish(unique("missing"), "rk", Message{});
    CHECK_THROWS_AS(ch.basic_qos(1), ChannelClosed);
    CHECK(got.empty());
    conn.process_events();
    CHECK(got == std::vector<std::string>{"kept0", "kept1", "kept2"});
    auto other = conn.channel();
    CHECK(ready(other, acked, 3) == 3);
}
