// The same facade scenarios on both backends: warren::connect(broker) and, when
// WARREN_TEST_AMQP_URL names a live RabbitMQ, warren::connect(url). Each scenario is written
// once against warren::Connection and returns what it observed; the in-process run must match
// the expectation, and the live run must match the in-process one.
#include <chrono>
#include <cstdlib>
#include <functional>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include "warren/connection.hpp"

using namespace std::chrono_literals;
using warren::ChannelClosed;
using warren::ClientError;
using warren::ConnectionClosed;
using warren::Delivery;
using warren::Message;

namespace {

using Observations = std::vector<std::string>;

/// Names for one run's queues and exchanges: unique on a shared broker, and removed from
/// observations so that both runs read alike.
class Names {
public:
    explicit Names(std::string prefix) : prefix_(std::move(prefix)) {}

    std::string queue(std::string_view what) { return queues_.emplace_back(prefix_ + std::string(what)); }
    /// An exchange nobody declares.
    std::string missing_exchange() const { return prefix_ + "missing"; }
    std::string strip(std::string text) const {
        for (auto at = text.find(prefix_); at != std::string::npos; at = text.find(prefix_, at))
            text.erase(at, prefix_.size());
        return text;
    }
    const std::vector<std::string>& queues() const { return queues_; }

private:
    std::string prefix_;
    std::vector<std::string> queues_;
};

/// Runs process_events until `done` or 5 s pass; returns how many events it dispatched.
template <class Done>
std::size_t process_until(warren::Connection& conn, Done done) {
    std::size_t events = 0;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < deadline) events += conn.process_events(100ms);
    return events;
}

/// Runs process_events until it has dispatched `expected` events or 5 s pass; returns how
/// many it dispatched.
std::size_t process_count(warren::Connection& conn, std::size_t expected) {
    std::size_t events = 0;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (events < expected && std::chrono::steady_clock::now() < deadline) events += conn.process_events(100ms);
    return events;
}

/// The queue's ready count once it reaches `expected`, or after 5 s. RabbitMQ enqueues a
/// publish asynchronously; each passive declare is a round trip, which paces the loop.
std::uint32_t ready(warren::Channel& ch, const std::string& queue, std::uint32_t expected) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    for (;;) {
        const std::uint32_t count = ch.queue_declare(queue, {.passive = true}).message_count;
        if (count == expected || std::chrono::steady_clock::now() > deadline) return count;
    }
}

/// Publisher confirms as one line per publish, whether the broker acked them one by one or
/// with `multiple`.
class ConfirmLog {
public:
    explicit ConfirmLog(Observations& out) : out_(out) {}
    void published() { outstanding_.insert(next_++); }
    void operator()(const warren::Confirm& c) {
        auto end = c.multiple ? outstanding_.upper_bound(c.delivery_tag) : outstanding_.find(c.delivery_tag);
        auto begin = c.multiple ? outstanding_.begin() : end;
        if (!c.multiple && end != outstanding_.end()) ++end;
        for (auto it = begin; it != end; ++it) out_.push_back(fmt::format("{} {}", c.ack ? "ack" : "nack", *it));
        outstanding_.erase(begin, end);
    }

private:
    Observations& out_;
    std::uint64_t next_ = 1;
    std::set<std::uint64_t> outstanding_;
};

template <class Call>
std::string outcome(const Names& names, Call call) {
    try {
        call();
        return "ok";
    } catch (const ChannelClosed& e) {
        return fmt::format("ChannelClosed {} {}", e.reply_code(), names.strip(e.reply_text()));
    } catch (const ConnectionClosed& e) {
        return fmt::format("ConnectionClosed {} {}", e.reply_code(), e.reply_text());
    } catch (const warren::AmqpError& e) {
        return fmt::format("AmqpError {} {}", e.reply_code(), names.strip(e.reply_text()));
    }
}

// ---- the scenarios ------------------------------------------------------------------------

Observations consume_and_ack_in_order(warren::Connection& conn, Names& names) {
    Observations seen;
    auto ch = conn.channel();
    const std::string q = names.queue("q");
    ch.queue_declare(q);
    for (int i = 0; i < 5; ++i) ch.basic_publish("", q, Message{.body = fmt::format("m{}", i)});
    std::vector<Delivery> got;
    const std::string tag = ch.basic_consume(q, [&](const Delivery& d) {
        got.push_back(d);
        ch.basic_ack(d.delivery_tag);
    });
    seen.push_back(fmt::format("events {}", process_until(conn, [&] { return got.size() >= 5; })));
    for (const Delivery& d : got)
        seen.push_back(fmt::format("{} tag {} redelivered {} own tag {}", d.message.body, d.delivery_tag,
                                   d.redelivered, d.consumer_tag == tag));
    ch.basic_cancel(tag);
    ch.basic_publish("", q, Message{.body = "after cancel"});
    seen.push_back(fmt::format("ready {}", ready(ch, q, 1)));
    seen.push_back(fmt::format("events after cancel {}", conn.process_events()));
    seen.push_back(fmt::format("consumers {}", ch.queue_declare(q, {.passive = true}).consumer_count));
    return seen;
}

Observations process_events_counts(warren::Connection& conn, Names& names) {
    Observations pub_log, sub_log, seen;
    auto pub = conn.channel();
    auto sub = conn.channel();
    const std::string q = names.queue("q");
    const std::string nowhere = names.queue("nowhere");
    pub.queue_declare(q);
    pub.confirm_select();
    ConfirmLog confirms(pub_log);
    pub.on_confirm(std::ref(confirms));
    pub.on_return([&](const warren::Returned& r) { pub_log.push_back("return " + r.message.body); });

    // A return and its ack: two events.
    pub.basic_publish("", nowhere, Message{.body = "returned"}, {.mandatory = true});
    confirms.published();
    seen.push_back(fmt::format("return and ack: {}", process_until(conn, [&] { return pub_log.size() >= 2; })));

    // A delivery and a publish's ack: two events.
    sub.basic_consume(q, [&](const Delivery& d) { sub_log.push_back("deliver " + d.message.body); },
                      {.no_ack = true});
    pub.basic_publish("", q, Message{.body = "delivered"});
    confirms.published();
    seen.push_back(fmt::format("delivery and ack: {}", process_until(conn, [&] {
        return pub_log.size() >= 3 && sub_log.size() >= 1;
    })));

    // The broker's basic.cancel when the queue goes: one event, no callback to see it by.
    pub.queue_delete(q);
    seen.push_back(fmt::format("broker cancel: {}", process_count(conn, 1)));

    // A return on a channel without on_return still counts. The channel answers in order, so
    // after basic.qos-ok the return is in the client.
    auto bare = conn.channel();
    bare.basic_publish("", nowhere, Message{.body = "unheard"}, {.mandatory = true});
    bare.basic_qos(0);
    seen.push_back(fmt::format("unheard return: {}", conn.process_events()));
    seen.push_back(fmt::format("then: {}", conn.process_events()));
    seen.insert(seen.end(), pub_log.begin(), pub_log.end());
    seen.insert(seen.end(), sub_log.begin(), sub_log.end());
    return seen;
}

Observations cancel_with_queued_deliveries(warren::Connection& conn, Names& names) {
    Observations seen;
    auto ch = conn.channel();
    const std::string q = names.queue("q");
    ch.queue_declare(q);
    for (int i = 0; i < 2; ++i) ch.basic_publish("", q, Message{.body = fmt::format("before{}", i)});
    seen.push_back(fmt::format("ready {}", ready(ch, q, 2)));
    std::vector<std::string> first, second;
    ch.basic_consume(q, [&](const Delivery& d) {
        first.push_back(d.message.body);
        ch.basic_ack(d.delivery_tag);
    }, {.consumer_tag = "t"});
    // A queue hands its backlog to a new consumer before consume-ok, and the channel answers
    // in order: after this declare both deliveries wait in the client.
    seen.push_back(fmt::format("left in queue {}", ch.queue_declare(q, {.passive = true}).message_count));
    ch.basic_cancel("t");
    ch.basic_consume(q, [&](const Delivery& d) {
        second.push_back(d.message.body);
        ch.basic_ack(d.delivery_tag);
    }, {.consumer_tag = "t"});
    ch.basic_publish("", q, Message{.body = "after"});
    seen.push_back(fmt::format("events {}", process_until(conn, [&] {
        return first.size() >= 2 && second.size() >= 1;
    })));
    for (const auto& body : first) seen.push_back("first " + body);
    for (const auto& body : second) seen.push_back("second " + body);
    seen.push_back(fmt::format("then {}", conn.process_events()));
    return seen;
}

Observations confirms_and_nacks(warren::Connection& conn, Names& names) {
    Observations seen, log;
    auto ch = conn.channel();
    const std::string full = names.queue("full");
    const std::string plain = names.queue("plain");
    ch.queue_declare(full, {.arguments = {{"x-max-length", 1}, {"x-overflow", "reject-publish"}}});
    ch.queue_declare(plain);
    seen.push_back("nothing outstanding: " + fmt::format("{}", ch.wait_for_confirms(1s)));
    ch.confirm_select();
    ConfirmLog confirms(log);
    ch.on_confirm(std::ref(confirms));
    for (const char* body : {"kept", "rejected"}) {
        ch.basic_publish("", full, Message{.body = body});
        confirms.published();
    }
    seen.push_back(fmt::format("overflow all acked: {}", ch.wait_for_confirms(5s)));
    seen.push_back(fmt::format("again: {}", ch.wait_for_confirms(5s)));
    for (int i = 0; i < 10; ++i) {
        ch.basic_publish("", plain, Message{.body = "m"});
        confirms.published();
    }
    seen.push_back(fmt::format("ten all acked: {}", ch.wait_for_confirms(5s)));
    seen.insert(seen.end(), log.begin(), log.end());
    ch.basic_publish(names.missing_exchange(), "rk", Message{});
    seen.push_back("missing exchange: " + outcome(names, [&] { ch.wait_for_confirms(5s); }));
    return seen;
}

Observations returns(warren::Connection& conn, Names& names) {
    Observations seen;
    auto ch = conn.channel();
    const std::string nowhere = names.queue("nowhere");
    ch.on_return([&](const warren::Returned& r) {
        seen.push_back(fmt::format("return {} {} '{}' '{}' {} {}", r.reply_code, r.reply_text, r.exchange,
                                   names.strip(r.routing_key), r.message.body,
                                   r.message.properties.message_id.value_or("-")));
    });
    ch.basic_publish("", nowhere, Message{.body = "lost", .properties = {.message_id = "m1"}},
                     {.mandatory = true});
    ch.basic_publish("", nowhere, Message{.body = "dropped"});
    ch.basic_publish("amq.direct", nowhere, Message{.body = "direct"}, {.mandatory = true});
    ch.basic_qos(0);  // answered in order: both returns are in the client
    seen.push_back(fmt::format("events {}", conn.process_events()));
    return seen;
}

Observations channel_error(warren::Connection& conn, Names& names) {
    Observations seen;
    auto ch = conn.channel();
    auto other = conn.channel();
    ch.basic_publish(names.missing_exchange(), "rk", Message{});
    try {
        ch.basic_qos(1);
        seen.push_back("basic_qos went through");
    } catch (const ChannelClosed& e) {
        seen.push_back(fmt::format("basic_qos: ChannelClosed {} {} {}.{}", e.reply_code(),
                                   names.strip(e.reply_text()), e.class_id(), e.method_id()));
    }
    seen.push_back(fmt::format("channel open {}, connection open {}", ch.is_open(), conn.is_open()));
    seen.push_back("publish: " + outcome(names, [&] { ch.basic_publish("", "q", Message{}); }));
    seen.push_back("ack: " + outcome(names, [&] { ch.basic_ack(1); }));
    seen.push_back("declare: " + outcome(names, [&] { ch.queue_declare(names.queue("q")); }));
    seen.push_back("wait_for_confirms: " + outcome(names, [&] { ch.wait_for_confirms(1s); }));
    seen.push_back("close: " + outcome(names, [&] { ch.close(); }));
    seen.push_back("other channel: " + outcome(names, [&] { other.queue_declare(names.queue("fine")); }));
    return seen;
}

/// Deliveries wait in the client when their channel closes (by the client, or by an error).
Observations close_with_deliveries_pending(warren::Connection& conn, Names& names, bool by_error) {
    Observations seen;
    auto ch = conn.channel();
    const std::string auto_acked = names.queue("auto-acked");
    const std::string acked = names.queue("acked");
    ch.queue_declare(auto_acked);
    ch.queue_declare(acked);
    for (int i = 0; i < 3; ++i) {
        ch.basic_publish("", auto_acked, Message{.body = fmt::format("kept{}", i)});
        ch.basic_publish("", acked, Message{.body = fmt::format("requeued{}", i)});
    }
    seen.push_back(fmt::format("ready {} {}", ready(ch, auto_acked, 3), ready(ch, acked, 3)));
    std::vector<std::string> got;
    ch.basic_consume(auto_acked, [&](const Delivery& d) { got.push_back(d.message.body); }, {.no_ack = true});
    ch.basic_consume(acked, [&](const Delivery& d) { got.push_back(d.message.body); });
    // The backlogs precede consume-ok, and the channel answers in order.
    seen.push_back(fmt::format("left {} {}", ch.queue_declare(auto_acked, {.passive = true}).message_count,
                               ch.queue_declare(acked, {.passive = true}).message_count));
    if (by_error) {
        ch.basic_publish(names.missing_exchange(), "rk", Message{});
        seen.push_back("basic_qos: " + outcome(names, [&] { ch.basic_qos(1); }));
    } else {
        ch.close();
    }
    seen.push_back(fmt::format("before process_events: {}", got.size()));
    seen.push_back(fmt::format("events {}", conn.process_events()));
    for (const auto& body : got) seen.push_back("got " + body);
    auto other = conn.channel();
    seen.push_back(fmt::format("requeued {}", ready(other, acked, 3)));
    conn.close();
    seen.push_back(fmt::format("connection open {}", conn.is_open()));
    seen.push_back("process_events: " + outcome(names, [&] { conn.process_events(); }));
    seen.push_back("basic_get: " + outcome(names, [&] { other.basic_get(acked); }));
    return seen;
}

// ---- running them on both backends --------------------------------------------------------

using Scenario = std::function<Observations(warren::Connection&, Names&)>;

Observations observe_inproc(const Scenario& scenario) {
    warren::Broker broker;
    auto conn = warren::connect(broker);
    Names names("inproc-");
    return scenario(conn, names);
}

std::optional<Observations> observe_live(const Scenario& scenario) {
    const char* url = std::getenv("WARREN_TEST_AMQP_URL");
    if (url == nullptr) {
        WARN("WARREN_TEST_AMQP_URL is unset: the live RabbitMQ half is skipped");
        return std::nullopt;
    }
    static std::mt19937_64 random{std::random_device{}()};
    Names names(fmt::format("warren-agreement-{}-{:x}-", getpid(), random() & 0xFFFFFF));
    struct Cleanup {
        const char* url;
        const Names& names;
        ~Cleanup() {
            try {
                auto conn = warren::connect(url);
                auto ch = conn.channel();
                for (const auto& q : names.queues()) ch.queue_delete(q);
            } catch (const std::exception&) {
                // Best effort: the names are unique, so a leftover harms no later run.
            }
        }
    } cleanup{url, names};
    auto conn = warren::connect(url);
    return scenario(conn, names);
}

void check_agreement(const Scenario& scenario, const Observations& expected) {
    const Observations inproc = observe_inproc(scenario);
    CHECK(inproc == expected);
    const std::optional<Observations> live = observe_live(scenario);
    if (live) CHECK(*live == inproc);
}

}  // namespace

TEST_CASE("agreement: a consumer acks in order; process_events counts its deliveries") {
    check_agreement(consume_and_ack_in_order,
                    {"events 5", "m0 tag 1 redelivered false own tag true",
                     "m1 tag 2 redelivered false own tag true", "m2 tag 3 redelivered false own tag true",
                     "m3 tag 4 redelivered false own tag true", "m4 tag 5 redelivered false own tag true",
                     "ready 1", "events after cancel 0", "consumers 0"});
}

TEST_CASE("agreement: process_events counts deliveries, returns, confirms and broker cancels") {
    check_agreement(process_events_counts,
                    {"return and ack: 2", "delivery and ack: 2", "broker cancel: 1", "unheard return: 1",
                     "then: 0", "return returned", "ack 1", "ack 2", "deliver delivered"});
}

TEST_CASE("agreement: a cancelled consumer keeps its queued deliveries when its tag is reused") {
    check_agreement(cancel_with_queued_deliveries,
                    {"ready 2", "left in queue 0", "events 3", "first before0", "first before1",
                     "second after", "then 0"});
}

TEST_CASE("agreement: confirms, and a nack for a reject-publish overflow") {
    check_agreement(confirms_and_nacks,
                    {"nothing outstanding: true", "overflow all acked: false", "again: true",
                     "ten all acked: true", "ack 1", "nack 2", "ack 3", "ack 4", "ack 5", "ack 6", "ack 7",
                     "ack 8", "ack 9", "ack 10", "ack 11", "ack 12",
                     "missing exchange: ChannelClosed 404 NOT_FOUND - no exchange 'missing' in vhost '/'"});
}

TEST_CASE("agreement: mandatory returns") {
    check_agreement(returns, {"return 312 NO_ROUTE '' 'nowhere' lost m1",
                              "return 312 NO_ROUTE 'amq.direct' 'nowhere' direct -", "events 2"});
}

TEST_CASE("agreement: a channel closed by an error throws ChannelClosed from then on") {
    const std::string closed = "ChannelClosed 404 NOT_FOUND - no exchange 'missing' in vhost '/'";
    check_agreement(channel_error,
                    {"basic_qos: " + closed + " 60.40", "channel open false, connection open true",
                     "publish: " + closed, "ack: " + closed, "declare: " + closed,
                     "wait_for_confirms: " + closed, "close: ok", "other channel: ok"});
}

TEST_CASE("agreement: a closed channel's queued deliveries reach only no-ack consumers") {
    const Observations tail{"events 3", "got kept0", "got kept1", "got kept2", "requeued 3",
                            "connection open false",
                            "process_events: ConnectionClosed 200 closed by the client",
                            "basic_get: ConnectionClosed 200 closed by the client"};
    SECTION("closed by the client") {
        Observations expected{"ready 3 3", "left 0 0", "before process_events: 0"};
        expected.insert(expected.end(), tail.begin(), tail.end());
        check_agreement([](warren::Connection& c, Names& n) { return close_with_deliveries_pending(c, n, false); },
                        expected);
    }
    SECTION("closed by an error") {
        Observations expected{"ready 3 3", "left 0 0",
                              "basic_qos: ChannelClosed 404 NOT_FOUND - no exchange 'missing' in vhost '/'",
                              "before process_events: 0"};
        expected.insert(expected.end(), tail.begin(), tail.end());
        check_agreement([](warren::Connection& c, Names& n) { return close_with_deliveries_pending(c, n, true); },
                        expected);
    }
}
