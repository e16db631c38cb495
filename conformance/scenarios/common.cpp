#include "scenario.hpp"

namespace warren::conformance {

BasicProperties all_properties() {
    BasicProperties p;
    p.content_type = "text/plain";
    p.content_encoding = "identity";
    p.headers = {{"h", "v"}, {"n", 42}};
    p.delivery_mode = 2;
    p.priority = 7;
    p.correlation_id = "corr-1";
    p.reply_to = "cf.replies";
    p.expiration = "600000";
    p.message_id = "msg-1";
    p.timestamp = Timestamp{1700000000};
    p.type = "cf.kind";
    p.user_id = "guest";
    p.app_id = "cf-app";
    p.cluster_id = "cf-cluster";
    return p;
}

FieldTable every_field_type() {
    return {
        {"bool-true", true},
        {"bool-false", false},
        {"int8", std::int8_t{-8}},
        {"uint8", std::uint8_t{200}},
        {"int16", std::int16_t{-1600}},
        {"uint16", std::uint16_t{60000}},
        {"int32", std::int32_t{-320000}},
        {"uint32", std::uint32_t{4000000000u}},
        {"int64", std::int64_t{-6400000000}},
        {"float", 1.5f},
        {"double", -2.25},
        {"decimal", Decimal{2, 12345}},
        {"longstr", "text with spaces"},
        {"empty-str", ""},
        {"bytes", ByteArray{std::string("\x00\x01\xfe\xff", 4)}},
        {"timestamp", Timestamp{1700000000}},
        {"void", FieldValue()},
        {"table", FieldTable{{"inner", 1}, {"deeper", FieldTable{{"x", "y"}}}}},
        {"empty-table", FieldTable{}},
        {"array", FieldArray{1, "two", 3.0, true, FieldValue(), FieldArray{std::int64_t{4}}, FieldTable{{"k", "v"}}}},
        {"empty-array", FieldArray{}},
    };
}

std::vector<Publication> keys(std::initializer_list<std::string> routing_keys) {
    std::vector<Publication> out;
    for (const auto& k : routing_keys) out.push_back({k});
    return out;
}

void routing_matrix(Session& s, std::string_view type, const std::vector<Binding>& bindings,
                    const std::vector<Publication>& publications) {
    const std::string x = s.exchange_name("x");
    std::vector<std::string> queues;
    for (std::size_t i = 0; i < bindings.size(); ++i) queues.push_back(s.queue_name(fmt::format("q{}", i)));
    Channel ch = s.channel();
    s.exchange_declare(ch, x, type);
    for (std::size_t i = 0; i < bindings.size(); ++i) {
        s.queue_declare(ch, queues[i]);
        s.queue_bind(ch, queues[i], x, bindings[i].key, bindings[i].arguments);
    }
    for (std::size_t i = 0; i < publications.size(); ++i) {
        BasicProperties props;
        props.headers = publications[i].headers;
        s.publish(ch, x, publications[i].key, fmt::format("p{}", i), props);
    }
    for (const auto& q : queues) s.drain(ch, q);
}

namespace {

template <class Probe>
void await_gone(Session& s, std::string_view what, std::string_view name, Probe probe) {
    Connection& conn = s.connect();
    s.eventually([&] {
        try {
            Channel ch = conn.channel();
            probe(ch);
            ch.close();
            return false;
        } catch (const AmqpError&) {
            return true;
        }
    });
    Channel ch = conn.channel();
    s.attempt(fmt::format("{} {} exists", what, quote(name)), [&] { probe(ch); });
}

}  // namespace

void await_queue_gone(Session& s, std::string_view queue) {
    await_gone(s, "queue", queue, [&](Channel& ch) { ch.queue_declare(queue, {.passive = true}); });
}

void await_exchange_gone(Session& s, std::string_view exchange) {
    await_gone(s, "exchange", exchange, [&](Channel& ch) { ch.exchange_declare(exchange, "direct", {.passive = true}); });
}

DeadLetters dead_letters(Session& s, Channel& ch) {
    DeadLetters d{s.exchange_name("dlx"), s.queue_name("dead")};
    s.exchange_declare(ch, d.exchange, "fanout");
    s.queue_declare(ch, d.queue);
    s.queue_bind(ch, d.queue, d.exchange);
    return d;
}

void publish_confirmed(Session& s, Channel& ch, std::string_view exchange, std::string_view key,
                       std::string body, BasicProperties props, PublishOptions options) {
    s.publish(ch, exchange, key, std::move(body), std::move(props), options);
    s.wait_for_confirms(ch);
}

void await_counts(Session& s, std::string_view queue, std::uint32_t messages, std::uint32_t consumers) {
    s.eventually([&] {
        const auto ok = s.peek_counts(queue);
        return ok && ok->message_count == messages && ok->consumer_count == consumers;
    });
    Channel probe = s.connect().channel();
    s.count(probe, queue);
}

}  // namespace warren::conformance
