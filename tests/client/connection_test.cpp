// warren::Connection on the in-process backend: opening, errors that close it, closing it,
// process_events, and use from several threads.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include <warren/warren.hpp>

using namespace warren;
using namespace std::chrono_literals;

TEST_CASE("connect refuses a bad login and an unknown vhost as RabbitMQ does") {
    Broker broker;
    try {
        connect(broker, {.password = "wrong"});
        FAIL("connected");
    } catch (const AmqpError& e) {
        CHECK(e.reply_code() == 403);
        CHECK(e.reply_text() ==
              "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For "
              "details see the broker logfile.");
    }
    try {
        connect(broker, {.vhost = "nope"});
        FAIL("connected");
    } catch (const AmqpError& e) {
        CHECK(e.reply_code() == 530);
        CHECK(e.reply_text() == "NOT_ALLOWED - vhost nope not found");
        CHECK(e.closes_connection());
    }
    Connection conn = connect(broker);
    CHECK(conn.is_open());
}

TEST_CASE("a connection error closes the connection and every channel on it") {
    Broker broker;
    Connection conn = connect(broker);
    Channel ch1 = conn.channel();
    Channel ch2 = conn.channel();
    ch2.queue_declare("mine", {.exclusive = true});
    ch2.queue_declare("shared");
    ch2.basic_publish("", "shared", Message{.body = "m"});
    REQUIRE(ch2.basic_get("shared"));

    try {
        ch1.exchange_declare("x", "banana");
        FAIL("declared");
    } catch (const ChannelClosed&) {
        FAIL("the error itself is thrown by the call that caused it");
    } catch (const AmqpError& e) {
        CHECK(e.reply_code() == 503);
        CHECK(e.reply_text() == "COMMAND_INVALID - unknown exchange type 'banana'");
        CHECK(e.closes_connection());
        CHECK(e.class_id() == 40);
        CHECK(e.method_id() == 10);
    }
    CHECK_FALSE(conn.is_open());
    CHECK_FALSE(ch1.is_open());
    CHECK_FALSE(ch2.is_open());
    try {
        ch2.queue_declare("other");
        FAIL("declared");
    } catch (const ConnectionClosed& e) {
        CHECK(e.reply_code() == 503);
        CHECK(e.reply_text() == "COMMAND_INVALID - unknown exchange type 'banana'");
    }
    CHECK_THROWS_AS(conn.channel(), ConnectionClosed);
    // The broker let go of what the connection held.
    CHECK_FALSE(broker.queue("/", "mine"));
    CHECK(broker.queue("/", "shared")->messages_ready == 1);
}

TEST_CASE("closing a connection requeues its deliveries and deletes its exclusive queues") {
    Broker broker;
    Connection other = connect(broker);
    Channel watcher = other.channel();
    {
        Connection conn = connect(broker);
        Channel ch = conn.channel();
        ch.queue_declare("mine", {.exclusive = true});
        ch.queue_declare("q");
        ch.basic_publish("", "q", Message{.body = "held"});
        ch.basic_consume("q", [](const Delivery&) {});
        CHECK(broker.queue("/", "q")->messages_unacknowledged == 1);
        conn.close();
        CHECK_FALSE(conn.is_open());
        CHECK_FALSE(ch.is_open());
        CHECK_THROWS_AS(ch.basic_get("q"), ConnectionClosed);
        conn.close();  // twice is harmless
    }
    CHECK_FALSE(broker.queue("/", "mine"));
    auto d = watcher.basic_get("q");
    REQUIRE(d);
    CHECK(d->message.body == "held");
    CHECK(d->redelivered);
}

TEST_CASE("dropping a connection closes it") {
    Broker broker;
    {
        Connection conn = connect(broker);
        conn.channel().queue_declare("mine", {.exclusive = true});
        CHECK(broker.queue("/", "mine"));
    }
    CHECK_FALSE(broker.queue("/", "mine"));
}

TEST_CASE("process_events runs callbacks in delivery order and counts what it dispatched") {
    Broker broker;
    Connection conn = connect(broker);
    Channel ch1 = conn.channel();
    Channel ch2 = conn.channel();
    ch1.queue_declare("a");
    ch1.queue_declare("b");
    std::vector<std::string> seen;
    ch1.basic_consume("a", [&](const Delivery& d) { seen.push_back("a:" + d.message.body); }, {.no_ack = true});
    ch2.basic_consume("b", [&](const Delivery& d) { seen.push_back("b:" + d.message.body); }, {.no_ack = true});
    ch1.basic_publish("", "a", Message{.body = "1"});
    ch1.basic_publish("", "b", Message{.body = "2"});
    ch2.basic_publish("", "a", Message{.body = "3"});
    CHECK(seen.empty());
    CHECK(conn.process_events() == 3);
    CHECK(seen == std::vector<std::string>{"a:1", "b:2", "a:3"});
    CHECK(conn.process_events() == 0);
}

TEST_CASE("process_events with a timeout waits for a delivery from another thread") {
    Broker broker;
    Connection consumer = connect(broker);
    Channel ch = consumer.channel();
    ch.queue_declare("q");
    std::string got;
    ch.basic_consume("q", [&](const Delivery& d) { got = d.message.body; }, {.no_ack = true});
    std::thread producer([&] {
        Connection conn = connect(broker);
        conn.channel().basic_publish("", "q", Message{.body = "hello"});
    });
    std::size_t n = 0;
    for (int i = 0; i < 100 && n == 0; ++i) n = consumer.process_events(100ms);
    producer.join();
    CHECK(n == 1);
    CHECK(got == "hello");
}

TEST_CASE("two threads on two connections share a broker safely") {
    Broker broker;
    {
        Connection setup = connect(broker);
        setup.channel().queue_declare("work");
    }
    constexpr int per_thread = 500;
    std::atomic<int> consumed{0};
    auto worker = [&](int id) {
        Connection conn = connect(broker);
        Channel ch = conn.channel();
        ch.basic_qos(10);
        ch.basic_consume("work", [&](const Delivery& d) {
            ch.basic_ack(d.delivery_tag);
            ++consumed;
        });
        for (int i = 0; i < per_thread; ++i) {
            ch.basic_publish("", "work", Message{.body = std::to_string(id * per_thread + i)});
            conn.process_events();
        }
        while (consumed.load() < 2 * per_thread) conn.process_events(1ms);
        ch.close();
    };
    std::thread t1(worker, 0);
    std::thread t2(worker, 1);
    t1.join();
    t2.join();
    CHECK(consumed.load() == 2 * per_thread);
    auto q = broker.queue("/", "work");
    REQUIRE(q);
    CHECK(q->messages == 0);
    CHECK(q->consumers == 0);
}
