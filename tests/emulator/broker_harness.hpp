// Test harness for the Broker's AMQP method surface: connections whose sink records what the
// broker sends, and short helpers for the calls tests make most. Shared by the broker_*_test
// files; every expectation it supports was checked on RabbitMQ 3.10.8 by the tests using it.
#pragma once

#include <catch2/catch.hpp>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "warren/emulator/broker.hpp"
#include "warren/emulator/detail/broker_methods.hpp"

namespace warren::test {

using emulator::ChannelId;
using emulator::ChannelRef;
using emulator::ConnectionId;

/// What the broker sent a connection on its own account, in order.
struct SinkEvent {
    enum class Kind { Deliver, Return, Confirm, Cancel, ConnectionClosed, TxCommitOk };
    Kind kind;
    ChannelId channel = 0;
    std::string consumer_tag = {};
    std::uint64_t tag = 0;  // delivery tag, or confirm sequence
    bool redelivered = false;
    bool multiple = false;
    bool ack = true;
    std::uint16_t reply_code = 0;
    std::string reply_text = {};
    std::string exchange = {};
    std::string routing_key = {};
    Message message = {};
};

class RecordingSink final : public emulator::ConnectionSink {
public:
    std::vector<SinkEvent> events;

    void on_deliver(ChannelId ch, const emulator::DeliverEvent& e) override {
        events.push_back({SinkEvent::Kind::Deliver, ch, std::string(e.consumer_tag), e.delivery_tag,
                          e.redelivered, false, true, 0, "", e.message.exchange(),
                          e.message.routing_key(), e.message.to_message()});
    }
    void on_return(ChannelId ch, const emulator::ReturnEvent& e) override {
        events.push_back({SinkEvent::Kind::Return, ch, "", 0, false, false, true,
                          static_cast<std::uint16_t>(e.reply_code), std::string(e.reply_text),
                          e.message.exchange(), e.message.routing_key(), e.message.to_message()});
    }
    void on_confirm(ChannelId ch, std::uint64_t sequence, bool multiple, bool ack) override {
        events.push_back({SinkEvent::Kind::Confirm, ch, "", sequence, false, multiple, ack});
    }
    void on_consumer_cancelled(ChannelId ch, std::string_view tag) override {
        events.push_back({SinkEvent::Kind::Cancel, ch, std::string(tag)});
    }
    void on_connection_closed(const AmqpError& error) override {
        events.push_back({SinkEvent::Kind::ConnectionClosed, 0, "", 0, false, false, true,
                          error.reply_code(), error.reply_text()});
    }
    void on_connection_lost() override {
        events.push_back({SinkEvent::Kind::ConnectionClosed, 0, "", 0, false, false, true, 0, "lost"});
    }
    void on_tx_commit_ok(ChannelId ch) override { events.push_back({SinkEvent::Kind::TxCommitOk, ch}); }

    /// The deliveries recorded so far (basic.deliver only), and forgets every event.
    std::vector<SinkEvent> take_deliveries() {
        std::vector<SinkEvent> out;
        for (auto& e : events)
            if (e.kind == SinkEvent::Kind::Deliver) out.push_back(std::move(e));
        events.clear();
        return out;
    }
};

/// "consumer_tag:body" for each delivery, the shape most ordering assertions compare.
inline std::vector<std::string> who_got_what(const std::vector<SinkEvent>& deliveries) {
    std::vector<std::string> out;
    for (const auto& d : deliveries) out.push_back(d.consumer_tag + ":" + d.message.body);
    return out;
}

/// One broker and the connections a test opens on it.
class Harness {
public:
    Broker broker;
    /// The AMQP method surface the tests drive, as a client backend does.
    detail::BrokerMethods methods{broker};

    struct Connection {
        ConnectionId id = 0;
        RecordingSink sink;
        ChannelId next_channel = 1;
    };

    /// A connection to vhost "/" as guest, or to `vhost` as `user`.
    Connection& connect(std::string_view vhost = "/", std::string_view user = "guest") {
        auto& c = connections_.emplace_back(std::make_unique<Connection>());
        auto id = methods.open_connection(vhost, user, c->sink);
        REQUIRE(id.ok());
        c->id = id.value();
        return *c;
    }
    ChannelRef channel(Connection& c) {
        ChannelRef ref{c.id, c.next_channel++};
        REQUIRE(methods.open_channel(ref).ok());
        return ref;
    }

    // ---- the calls tests make most ----
    void declare_queue(ChannelRef ch, std::string name, emulator::QueueDeclare m = {}) {
        m.queue = std::move(name);
        auto r = methods.queue_declare(ch, m);
        REQUIRE(r.ok());
    }
    void declare_exchange(ChannelRef ch, std::string name, std::string type,
                          emulator::ExchangeDeclare m = {}) {
        m.exchange = std::move(name);
        m.type = std::move(type);
        REQUIRE(methods.exchange_declare(ch, m).ok());
    }
    void bind(ChannelRef ch, std::string queue, std::string exchange, std::string key,
              FieldTable arguments = {}) {
        REQUIRE(methods.queue_bind(ch, {std::move(queue), std::move(exchange), std::move(key),
                                       std::move(arguments)})
                    .ok());
    }
    void publish(ChannelRef ch, std::string exchange, std::string key, std::string body,
                 BasicProperties properties = {}, bool mandatory = false) {
        REQUIRE(methods
                    .basic_publish(ch, {std::move(exchange), std::move(key), mandatory, false},
                                   Message{std::move(body), std::move(properties)})
                    .ok());
    }
    /// basic.get; the body of the message, or nullopt for get-empty.
    std::optional<emulator::GetOk> get(ChannelRef ch, std::string queue, bool no_ack = false) {
        auto r = methods.basic_get(ch, queue, no_ack);
        REQUIRE(r.ok());
        return r.value();
    }
    std::string consume(ChannelRef ch, std::string queue, std::string tag = "", bool no_ack = false,
                        FieldTable arguments = {}) {
        auto r = methods.basic_consume(ch, {std::move(queue), std::move(tag), false, no_ack, false,
                                           std::move(arguments)});
        REQUIRE(r.ok());
        return r.value();
    }
    std::size_t ready(std::string_view queue) const {
        auto q = broker.queue("/", queue);
        REQUIRE(q);
        return q->messages_ready;
    }
    std::size_t unacked(std::string_view queue) const {
        auto q = broker.queue("/", queue);
        REQUIRE(q);
        return q->messages_unacknowledged;
    }
    bool has_queue(std::string_view queue) const { return broker.queue("/", queue).has_value(); }
    bool has_exchange(std::string_view exchange) const {
        return broker.exchange("/", exchange).has_value();
    }
    /// Whether the model still has the channel open: cancelling an unknown consumer is a no-op
    /// on an open channel and refused on a closed one.
    bool channel_open(ChannelRef ch) { return methods.basic_cancel(ch, "no such consumer").ok(); }

private:
    std::deque<std::unique_ptr<Connection>> connections_;
};

/// Checks that `r` failed with exactly this reply code and text.
template <class R>
void require_error(const R& r, ReplyCode code, std::string_view text) {
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == code);
    CHECK(r.error().reply_text() == text);
}

/// A message's x-death history, newest first, as "queue/reason/count" for each entry.
inline std::vector<std::string> deaths(const Message& m) {
    std::vector<std::string> out;
    const FieldValue* x_death = m.properties.headers.find("x-death");
    if (!x_death) return out;
    for (const FieldValue& d : x_death->as_array()) {
        const FieldTable& t = d.as_table();
        out.push_back(t.at("queue").as_string() + "/" + t.at("reason").as_string() + "/" +
                      std::to_string(t.at("count").as_int()));
    }
    return out;
}

/// Bodies of every ready message in `queue`, taken with basic.get no-ack.
inline std::vector<std::string> drain(Harness& h, ChannelRef ch, const std::string& queue) {
    std::vector<std::string> out;
    while (auto got = h.get(ch, queue, true)) out.push_back(got->message->body());
    return out;
}

}  // namespace warren::test
