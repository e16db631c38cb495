// What a client sees when the broker restarts or its connection is cut
// (Broker::restart, Broker::cut_connection).
#include <catch2/catch.hpp>

#include <warren/warren.hpp>

using namespace warren;
using namespace std::chrono_literals;

TEST_CASE("a broker restart closes the connection with 320 CONNECTION_FORCED") {
    Broker broker;
    Connection conn = connect(broker);
    Channel ch = conn.channel();
    ch.queue_declare("durable", {.durable = true});
    ch.basic_publish("", "durable", Message{.body = "kept", .properties = {.delivery_mode = 2}});
    ch.basic_publish("", "durable", Message{.body = "lost"});
    std::vector<std::string> got;
    ch.basic_consume("durable", [&](const Delivery& d) { got.push_back(d.message.body); });
    conn.process_events();
    REQUIRE(got.size() == 2);

    broker.restart();
    CHECK_FALSE(conn.is_open());
    try {
        ch.basic_get("durable");
        FAIL("the call went through");
    } catch (const ConnectionClosed& e) {
        CHECK(e.reply_code() == 320);
        CHECK(e.reply_text() == "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'");
        CHECK(e.class_id() == 0);
        CHECK(e.method_id() == 0);
    }

    Connection again = connect(broker);
    auto d = again.channel().basic_get("durable", true);
    REQUIRE(d);
    CHECK(d->message.body == "kept");
    CHECK(d->redelivered);  // it had been delivered before the restart
    CHECK(broker.queue("/", "durable")->messages_ready == 0);
}

TEST_CASE("a cut connection fails on the client side; its messages go back redelivered") {
    Broker broker;
    Connection keeper = connect(broker);
    Channel kch = keeper.channel();
    kch.queue_declare("q");
    kch.basic_publish("", "q", Message{.body = "m"});

    Connection victim = connect(broker, {.name = "victim"});
    Channel vch = victim.channel();
    vch.queue_declare("mine", {.exclusive = true});
    vch.basic_consume("q", [](const Delivery&) {});
    victim.process_events();
    REQUIRE(broker.queue("/", "q")->messages_unacknowledged == 1);

    CHECK(broker.cut_connection("victim") == 1);
    CHECK_FALSE(victim.is_open());
    CHECK_FALSE(vch.is_open());
    CHECK_THROWS_AS(vch.basic_get("q"), ClientError);
    CHECK_THROWS_AS(victim.process_events(), ClientError);
    CHECK_THROWS_AS(victim.channel(), ClientError);
    CHECK_FALSE(broker.queue("/", "mine"));

    auto d = kch.basic_get("q", true);
    REQUIRE(d);
    CHECK(d->message.body == "m");
    CHECK(d->redelivered);
}
