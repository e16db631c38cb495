// Transactions through the facade on the in-process backend: Channel::tx_select, tx_commit and
// tx_rollback (the model's rules are tested in tests/emulator/broker_tx_test.cpp).
#include <catch2/catch.hpp>

#include <warren/warren.hpp>

using namespace warren;

TEST_CASE("Channel::tx_commit delivers the transaction's publishes and returns") {
    Broker broker;
    Connection conn = connect(broker);
    Channel ch = conn.channel();
    ch.queue_declare("q");
    std::vector<std::string> returned;
    ch.on_return([&](const Returned& r) { returned.push_back(r.message.body); });
    ch.tx_select();
    ch.basic_publish("", "q", Message{.body = "m1"});
    ch.basic_publish("", "nowhere", Message{.body = "r1"}, {.mandatory = true});
    conn.process_events();
    CHECK(broker.queue("/", "q")->messages_ready == 0);
    CHECK(returned.empty());
    ch.tx_commit();
    conn.process_events();
    CHECK(broker.queue("/", "q")->messages_ready == 1);
    CHECK(returned == std::vector<std::string>{"r1"});
    ch.basic_publish("", "q", Message{.body = "m2"});
    ch.tx_rollback();
    CHECK(broker.queue("/", "q")->messages_ready == 1);
}

TEST_CASE("Channel::tx_rollback gives acknowledged deliveries back") {
    Broker broker;
    Connection conn = connect(broker);
    Channel ch = conn.channel();
    ch.queue_declare("q");
    ch.basic_publish("", "q", Message{.body = "m1"});
    ch.tx_select();
    auto got = ch.basic_get("q");
    REQUIRE(got);
    ch.basic_ack(got->delivery_tag);
    ch.tx_rollback();
    CHECK(broker.queue("/", "q")->messages_unacknowledged == 1);
    ch.basic_ack(got->delivery_tag);
    ch.tx_commit();
    CHECK(broker.queue("/", "q")->messages_unacknowledged == 0);
    // Acknowledged in the transaction, the tag is gone: a second ack is refused at once.
    ch.basic_publish("", "q", Message{.body = "m2"});
    ch.tx_commit();
    auto second = ch.basic_get("q");
    REQUIRE(second);
    ch.basic_ack(second->delivery_tag);
    ch.basic_ack(second->delivery_tag);
    try {
        ch.tx_commit();
        FAIL("the commit went through");
    } catch (const ChannelClosed& e) {
        CHECK(e.reply_code() == 406);
        CHECK(e.reply_text() == "PRECONDITION_FAILED - unknown delivery tag 2");
    }
}

TEST_CASE("Channel::tx_commit without tx_select is refused") {
    Broker broker;
    Connection conn = connect(broker);
    Channel ch = conn.channel();
    try {
        ch.tx_commit();
        FAIL("the commit went through");
    } catch (const AmqpError& e) {
        CHECK(e.reply_code() == 406);
        CHECK(e.reply_text() == "PRECONDITION_FAILED - channel is not transactional");
    }
    CHECK_FALSE(ch.is_open());
}
