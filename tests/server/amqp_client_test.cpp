// warren's own rabbitmq-c backend (warren::connect(uri)) against warren-server: the facade that
// runs against RabbitMQ runs against the server unchanged. Built when warren::client_amqp is.
#include "raw_client.hpp"

#if __has_include("warren/amqp/uri.hpp")

#include "warren/connection.hpp"

namespace warren::test {

TEST_CASE("a rabbitmq-c round trip through warren::connect(uri)") {
    RunningServer server;
    Connection conn = connect(fmt::format("amqp://guest:guest@127.0.0.1:{}/%2f", server.port()));
    Channel ch = conn.channel();
    ch.exchange_declare("rt.x", "topic");
    const auto ok = ch.queue_declare("rt.q");
    CHECK(ok.queue == "rt.q");
    ch.queue_bind("rt.q", "rt.x", "a.#");
    ch.confirm_select();
    Message m;
    m.body = "hello";
    m.properties.message_id = "id-1";
    ch.basic_publish("rt.x", "a.b", m);
    CHECK(ch.wait_for_confirms());

    std::vector<Delivery> got;
    const std::string tag = ch.basic_consume("rt.q", [&](const Delivery& d) { got.push_back(d); });
    for (int i = 0; i < 50 && got.empty(); ++i) conn.process_events(std::chrono::milliseconds(100));
    REQUIRE(got.size() == 1);
    CHECK(got[0].message.body == "hello");
    CHECK(got[0].message.properties.message_id == "id-1");
    CHECK(got[0].routing_key == "a.b");
    CHECK(got[0].exchange == "rt.x");
    ch.basic_ack(got[0].delivery_tag);
    ch.basic_cancel(tag);

    // A refusal arrives as RabbitMQ's error, and the connection carries on.
    try {
        ch.queue_declare("rt.missing", QueueOptions{.passive = true});
        FAIL("expected 404");
    } catch (const AmqpError& e) {
        CHECK(e.reply_code() == 404);
        CHECK(e.reply_text() == "NOT_FOUND - no queue 'rt.missing' in vhost '/'");
    }
    Channel again = conn.channel();
    CHECK(again.queue_delete("rt.q") == 0);
    conn.close();
}

}  // namespace warren::test

#endif
