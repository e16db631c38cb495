// Publisher confirms through the facade: confirm_select, on_confirm, wait_for_confirms, nacks
// from a queue that refuses a publish, and a mandatory return ahead of its ack, as RabbitMQ
// 3.10.8 sends them.
#include <catch2/catch.hpp>

#include <warren/warren.hpp>

using namespace warren;
using namespace std::chrono_literals;

TEST_CASE("confirms number publishes from 1 after confirm_select; a return comes before its ack") {
    Broker broker;
    Connection conn = connect(broker);
    Channel ch = conn.channel();
    ch.queue_declare("q");
    std::vector<std::string> seen;
    ch.on_return([&](const Returned& r) { seen.push_back(fmt::format("return {} {}", r.reply_code, r.message.body)); });
    ch.on_confirm([&](const Confirm& c) {
        seen.push_back(fmt::format("{} {}{}", c.ack ? "ack" : "nack", c.delivery_tag, c.multiple ? "+" : ""));
    });
    ch.basic_publish("", "q", Message{.body = "unconfirmed"});
    ch.confirm_select();
    ch.basic_publish("", "q", Message{.body = "1"});
    ch.basic_publish("", "nowhere", Message{.body = "2"}, {.mandatory = true});
    ch.basic_publish("", "nowhere", Message{.body = "3"});
    ch.basic_publish("amq.direct", "nowhere", Message{.body = "4"}, {.mandatory = true});
    CHECK(ch.wait_for_confirms(1s));
    CHECK(seen == std::vector<std::string>{"ack 1", "return 312 2", "ack 2", "ack 3", "return 312 4", "ack 4"});
}

TEST_CASE("a publish a queue refuses is nacked; wait_for_confirms reports it once") {
    Broker broker;
    Connection conn = connect(broker);
    Channel ch = conn.channel();
    ch.queue_declare("q", {.arguments = {{"x-max-length", 1}, {"x-overflow", "reject-publish"}}});
    std::vector<std::string> seen;
    ch.on_return([&](const Returned& r) { seen.push_back("return " + r.message.body); });
    ch.on_confirm([&](const Confirm& c) { seen.push_back(fmt::format("{} {}", c.ack ? "ack" : "nack", c.delivery_tag)); });
    ch.confirm_select();
    ch.basic_publish("", "q", Message{.body = "fits"});
    ch.basic_publish("", "q", Message{.body = "refused"}, {.mandatory = true});
    CHECK_FALSE(ch.wait_for_confirms(1s));
    CHECK(seen == std::vector<std::string>{"ack 1", "nack 2"});  // a refusal is no return
    ch.queue_purge("q");
    ch.basic_publish("", "q", Message{.body = "fits again"});
    CHECK(ch.wait_for_confirms(1s));
    CHECK(ch.basic_get("q", true)->message.body == "fits again");
}

TEST_CASE("a message discarded by TTL 0 or dead-lettered is still acked") {
    Broker broker;
    Connection conn = connect(broker);
    Channel ch = conn.channel();
    ch.queue_declare("dl");
    ch.queue_declare("ttl0", {.arguments = {{"x-message-ttl", 0}}});
    ch.queue_declare("ttl0-dlx", {.arguments = {{"x-message-ttl", 0}, {"x-dead-letter-exchange", ""},
                                                {"x-dead-letter-routing-key", "dl"}}});
    ch.confirm_select();
    ch.basic_publish("", "ttl0", Message{.body = "gone"}, {.mandatory = true});
    ch.basic_publish("", "ttl0-dlx", Message{.body = "dead"});
    CHECK(ch.wait_for_confirms(1s));
    CHECK(ch.basic_get("dl", true)->message.body == "dead");
}
