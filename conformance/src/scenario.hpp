// The scenarios: each a plain function over a Session, registered by name. Names are
// "<topic>.<case>" and become golden file names (<name>.txt) and broker object names
// ("cf.<name>.<suffix>").
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "session.hpp"

namespace warren::conformance {

struct Scenario {
    std::string name;
    std::function<void(Session&)> play;
};

using Scenarios = std::vector<Scenario>;

// One per file in scenarios/, grouped by topic.
void add_direct_fanout_scenarios(Scenarios& out);
void add_topic_scenarios(Scenarios& out);
void add_headers_scenarios(Scenarios& out);
void add_exchange_graph_scenarios(Scenarios& out);
void add_declare_scenarios(Scenarios& out);
void add_queue_lifecycle_scenarios(Scenarios& out);
void add_consume_scenarios(Scenarios& out);
void add_single_active_consumer_scenarios(Scenarios& out);
void add_publish_scenarios(Scenarios& out);
void add_ttl_expiry_scenarios(Scenarios& out);
void add_limits_scenarios(Scenarios& out);
void add_dead_letter_scenarios(Scenarios& out);
void add_confirms_scenarios(Scenarios& out);
void add_tx_scenarios(Scenarios& out);
void add_direct_reply_to_scenarios(Scenarios& out);
void add_quorum_scenarios(Scenarios& out);
void add_stream_scenarios(Scenarios& out);

// ---- helpers shared by the scenario files (scenarios/common.cpp) ----

/// Every one of the 14 basic properties set (headers {"h": "v", "n": 42}).
BasicProperties all_properties();
/// A header table with a value of every AMQP field type, nested tables and arrays included.
FieldTable every_field_type();

struct Binding {
    std::string key;
    FieldTable arguments = {};
};

struct Publication {
    std::string key;
    FieldTable headers = {};
};

/// Publications with these routing keys and no headers.
std::vector<Publication> keys(std::initializer_list<std::string> routing_keys);

/// The routing table of one exchange: declares exchange "x" of `type`, queue "q<i>" for each
/// binding, bound with it; publishes each publication (body "p<i>") on the same channel, then
/// drains every queue in order. What each queue got is the exchange's answer for every key.
void routing_matrix(Session& s, std::string_view type, const std::vector<Binding>& bindings,
                    const std::vector<Publication>& publications);

/// Waits (bounded) until a passive declare of the queue fails, since a real broker may finish a
/// deletion (auto-delete, exclusive owner gone) just after the reply that caused it; then writes
/// down a passive declare's outcome, from a channel of a connection of its own.
void await_queue_gone(Session& s, std::string_view queue);
/// The same for an exchange.
void await_exchange_gone(Session& s, std::string_view exchange);

/// Waits (bounded) until a passive declare of the queue shows these counts, for changes a real
/// broker makes after the reply that caused them (a closed connection's messages requeued, its
/// consumers gone); then writes down a passive declare's outcome.
void await_counts(Session& s, std::string_view queue, std::uint32_t messages, std::uint32_t consumers);

/// Where dead letters are looked for: a fanout exchange "dlx" and a queue "dead" bound to it.
struct DeadLetters {
    std::string exchange;
    std::string queue;
};
DeadLetters dead_letters(Session& s, Channel& ch);

/// Publishes and waits for its confirm (the channel is in confirm mode); the caller writes
/// the events.
void publish_confirmed(Session& s, Channel& ch, std::string_view exchange, std::string_view key,
                       std::string body, BasicProperties props = {}, PublishOptions options = {});

/// Every scenario, sorted by name.
Scenarios all_scenarios();

}  // namespace warren::conformance
