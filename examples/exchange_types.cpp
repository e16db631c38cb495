// The four exchange types, side by side: direct (exact routing key), fanout (every bound
// queue), topic (key patterns: * one word, # zero or more) and headers (match on message
// headers, all or any of them). Each demonstration binds a few queues, publishes a few
// messages, then empties each queue with basic.get to show which messages it got.
//
//   warren-example-exchange_types [--url amqp://guest:guest@localhost:5672/%2f]
#include <algorithm>
#include <string>
#include <vector>

#include "example_support.hpp"

struct Binding {
    std::string queue;
    std::string routing_key = "";
    warren::FieldTable arguments = {};
};

struct Publication {
    std::string routing_key;
    std::string body;
    warren::FieldTable headers = {};
};

/// "format=pdf type=report": a table of string values on one line.
std::string describe(const warren::FieldTable& table) {
    std::vector<std::string> pairs;
    for (const auto& [key, value] : table) pairs.push_back(key + "=" + value.as_string());
    return fmt::format("{}", fmt::join(pairs, " "));
}

void demonstrate(warren::Channel& ch, std::string_view type, const std::vector<Binding>& bindings,
                 const std::vector<Publication>& publications) {
    const std::string prefix = fmt::format("example.exchange_types.{}", type);
    const std::string exchange = prefix;
    std::vector<std::string> queues;  // in order of first binding
    for (const Binding& b : bindings)
        if (std::find(queues.begin(), queues.end(), prefix + "." + b.queue) == queues.end())
            queues.push_back(prefix + "." + b.queue);
    const std::vector<std::string_view> queue_names(queues.begin(), queues.end());
    example::delete_names(ch, queue_names, {exchange});

    fmt::print("== {} exchange\n", type);
    ch.exchange_declare(exchange, type);
    for (const std::string& queue : queues) ch.queue_declare(queue);
    for (const Binding& b : bindings) {
        ch.queue_bind(prefix + "." + b.queue, exchange, b.routing_key, b.arguments);
        fmt::print("  bind {:<14} key '{}'{}\n", b.queue, b.routing_key,
                   b.arguments.size() ? " headers " + describe(b.arguments) : "");
    }
    for (const Publication& p : publications) {
        ch.basic_publish(exchange, p.routing_key,
                         warren::Message{.body = p.body, .properties = {.headers = p.headers}});
        fmt::print("  publish '{}' with key '{}'{}\n", p.body, p.routing_key,
                   p.headers.size() ? " headers " + describe(p.headers) : "");
    }
    // basic.get on the publishing channel sees every message published before it.
    for (const std::string& queue : queues) {
        std::vector<std::string> got;
        while (auto d = ch.basic_get(queue, /*no_ack=*/true)) got.push_back(d->message.body);
        fmt::print("  queue {:<14} got: {}\n", queue.substr(prefix.size() + 1),
                   got.empty() ? "nothing" : fmt::format("{}", fmt::join(got, ", ")));
    }
    example::delete_names(ch, queue_names, {exchange});
}

int main(int argc, char** argv) {
    return example::run(argc, argv, [](example::Target& target) {
        warren::Connection conn = target.connect();
        warren::Channel ch = conn.channel();

        demonstrate(ch, "direct",
                    {{"errors", "error"},
                     {"all_logs", "info"}, {"all_logs", "warning"}, {"all_logs", "error"}},
                    {{"info", "disk at 70%"}, {"warning", "disk at 90%"},
                     {"error", "disk full"}, {"debug", "no queue is bound for debug"}});

        demonstrate(ch, "fanout",
                    {{"mobile"}, {"email"}, {"audit", "the key is ignored"}},
                    {{"", "news 1"}, {"sports", "news 2"}});

        demonstrate(ch, "topic",
                    {{"eu_orders", "order.eu.*"}, {"all_orders", "order.#"},
                     {"created", "*.*.created"}},
                    {{"order.eu.created", "order 1"}, {"order.us.created", "order 2"},
                     {"order.eu.shipped", "order 3"}, {"order.eu.de.created", "order 4"},
                     {"user.eu.created", "user 1"}});

        demonstrate(ch, "headers",
                    {{"pdf_reports", "", {{"x-match", "all"}, {"format", "pdf"}, {"type", "report"}}},
                     {"pdf_or_report", "", {{"x-match", "any"}, {"format", "pdf"}, {"type", "report"}}}},
                    {{"", "annual report", {{"format", "pdf"}, {"type", "report"}}},
                     {"", "server log", {{"format", "pdf"}, {"type", "log"}}},
                     {"", "zipped report", {{"format", "zip"}, {"type", "report"}}},
                     {"", "zipped log", {{"format", "zip"}, {"type", "log"}}}});
    });
}
