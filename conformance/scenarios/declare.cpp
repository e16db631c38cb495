// Declaring exchanges and queues: equivalence of redeclarations and every refusal with its
// text. A refusal closes the channel, so each attempt after one gets a fresh channel.
#include "scenario.hpp"

namespace warren::conformance {
namespace {

void exchange_redeclare(Session& s) {
    const auto x = s.exchange_name("x");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "topic", {.durable = true, .arguments = {{"k", "v"}}});
    s.exchange_declare(ch, x, "topic", {.durable = true, .arguments = {{"k", "v"}}});
    s.exchange_declare(ch, x, "fanout", {.passive = true});
    s.exchange_declare(ch, x, "topic", {.passive = true, .durable = false});
}

void exchange_inequivalent(Session& s) {
    const auto x = s.exchange_name("x");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "direct");
    const std::vector<std::pair<std::string, ExchangeOptions>> attempts = {
        {"fanout", {}},
        {"direct", {.durable = true}},
        {"direct", {.auto_delete = true}},
        {"direct", {.internal = true}},
        {"direct", {.arguments = {{"alternate-exchange", "elsewhere"}}}},
        {"direct", {.arguments = {{"x-custom", 1}}}},
    };
    for (const auto& [type, options] : attempts) {
        ch = s.channel();
        s.exchange_declare(ch, x, type, options);
    }
    ch = s.channel();
    s.exchange_declare(ch, x, "direct");
}

void exchange_arguments_inequivalent(Session& s) {
    const auto x = s.exchange_name("x");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "direct", {.arguments = {{"alternate-exchange", "ae1"}}});
    s.exchange_declare(ch, x, "direct", {.arguments = {{"alternate-exchange", "ae2"}}});
    ch = s.channel();
    s.exchange_declare(ch, x, "direct");
    ch = s.channel();
    s.exchange_declare(ch, x, "direct", {.arguments = {{"alternate-exchange", ByteArray{"ae1"}}}});
}

void exchange_passive_missing(Session& s) {
    Channel ch = s.channel();
    s.exchange_declare(ch, s.exchange_name("missing"), "direct", {.passive = true});
    s.exchange_declare(ch, s.exchange_name("other"), "direct");
}

void exchange_reserved_prefix(Session& s) {
    Channel ch = s.channel();
    s.exchange_declare(ch, "amq.cf.declare.reserved", "direct");
    ch = s.channel();
    s.exchange_declare(ch, "amq.direct", "direct", {.durable = true});
    ch = s.channel();
    s.exchange_declare(ch, "amq.cf.declare.reserved", "direct", {.passive = true});
}

// An unknown exchange type is a connection error: later calls on that connection fail, a new
// connection works.
void exchange_unknown_type(Session& s) {
    const auto x = s.exchange_name("x");
    Connection& first = s.connection();
    Channel ch = first.channel();
    s.exchange_declare(ch, x, "no-such-type");
    s.attempt("channel on the closed connection", [&] { first.channel(); });
    s.note("connection open: {}", first.is_open());
    Channel fresh = s.connect().channel();
    s.exchange_declare(fresh, x, "direct", {.passive = true});
}

void exchange_delete(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "direct");
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, x, "k");
    s.exchange_delete(ch, x, {.if_unused = true});
    ch = s.channel();
    s.queue_unbind(ch, q, x, "k");
    s.exchange_delete(ch, x, {.if_unused = true});
    s.exchange_declare(ch, x, "direct", {.passive = true});
    ch = s.channel();
    s.exchange_delete(ch, x);
    s.count(ch, q);
}

// Deleting an exchange drops its bindings: redeclared, it routes nowhere.
void exchange_delete_drops_bindings(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "fanout");
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, x);
    s.exchange_delete(ch, x);
    s.exchange_declare(ch, x, "fanout");
    s.publish(ch, x, "k", "m1");
    s.count(ch, q);
}

void queue_redeclare(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-max-length", 10}}});
    // Confirmed, so that the counts below include them (see consume.cpp).
    s.confirm_select(ch);
    s.publish(ch, "", q, "m1");
    s.publish(ch, "", q, "m2");
    s.wait_for_confirms(ch);
    s.queue_declare(ch, q, {.arguments = {{"x-max-length", 10}}});
    s.queue_declare(ch, q, {.passive = true, .durable = true});
}

void queue_inequivalent(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-message-ttl", 1000}}});
    const std::vector<QueueOptions> attempts = {
        {.durable = true, .arguments = {{"x-message-ttl", 1000}}},
        {.auto_delete = true, .arguments = {{"x-message-ttl", 1000}}},
        {.arguments = {{"x-message-ttl", 2000}}},
        {.arguments = {}},
        {.arguments = {{"x-message-ttl", 1000}, {"x-max-length", 5}}},
        {.arguments = {{"x-message-ttl", std::int64_t{1000}}}},
        {.arguments = {{"x-message-ttl", std::int16_t{1000}}}},
    };
    for (const auto& options : attempts) {
        ch = s.channel();
        s.queue_declare(ch, q, options);
    }
}

// Arguments RabbitMQ does not know are stored but never compared.
void queue_unknown_arguments(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-custom", 1}}});
    s.queue_declare(ch, q, {.arguments = {{"x-custom", 2}}});
    s.queue_declare(ch, q);
}

void queue_invalid_arguments(Session& s) {
    const auto q = s.queue_name("q");
    const std::vector<FieldTable> attempts = {
        {{"x-message-ttl", "1000"}},
        {{"x-message-ttl", -1}},
        {{"x-max-length", -1}},
        {{"x-expires", 0}},
        {{"x-max-priority", 300}},
        {{"x-overflow", "drop-everything"}},
        {{"x-dead-letter-routing-key", "k"}},
        {{"x-queue-mode", "fast"}},
    };
    for (const auto& args : attempts) {
        Channel ch = s.channel();
        s.queue_declare(ch, q, {.arguments = args});
    }
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.passive = true});
}

void queue_passive_missing(Session& s) {
    Channel ch = s.channel();
    s.queue_declare(ch, s.queue_name("missing"), {.passive = true});
    s.attempt("queue.declare on the closed channel", [&] { ch.queue_declare(s.queue_name("other")); });
    s.note("channel open: {}", ch.is_open());
}

void queue_reserved_prefix(Session& s) {
    Channel ch = s.channel();
    s.queue_declare(ch, "amq.cf.declare.q");
    ch = s.channel();
    s.queue_declare(ch, "amq.cf.declare.q", {.passive = true});
}

// A refused call changes nothing: the channel is closed, other channels go on.
void channel_error_isolated(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch1 = s.channel();
    Channel ch2 = s.channel();
    s.queue_declare(ch1, q);
    s.queue_declare(ch1, q, {.durable = true});
    s.note("ch1 open: {}, ch2 open: {}", ch1.is_open(), ch2.is_open());
    s.publish(ch2, "", q, "m1");
    s.get(ch2, q);
    s.get(ch1, q);
}


// rabbit_channel strips every CR and LF from the names in queue.declare, queue.delete,
// queue.bind / unbind, exchange.declare, exchange.delete and exchange.bind / unbind; the other
// methods (basic.publish, basic.get, basic.consume, queue.purge) take names as given.
std::string with_cr_lf(const std::string& name) {
    return "\r" + name.substr(0, 3) + "\r\n" + name.substr(3) + "\n";
}

void names_cr_lf_stripped(Session& s) {
    Channel ch = s.channel();
    const auto q = s.queue_name("q");
    const auto x = s.exchange_name("x");
    const auto x2 = s.exchange_name("x2");
    s.queue_declare(ch, with_cr_lf(q));
    s.queue_declare(ch, with_cr_lf(q), {.passive = true});
    s.exchange_declare(ch, with_cr_lf(x), "fanout");
    s.exchange_declare(ch, with_cr_lf(x), "fanout", {.passive = true});
    s.exchange_declare(ch, x2, "fanout");
    s.queue_bind(ch, with_cr_lf(q), with_cr_lf(x));
    s.exchange_bind(ch, with_cr_lf(x), with_cr_lf(x2));
    s.publish(ch, x2, "", "m1");
    s.get(ch, q);
    s.get(ch, with_cr_lf(q));
    ch = s.channel();
    s.queue_purge(ch, with_cr_lf(q));
    ch = s.channel();
    s.consume(ch, with_cr_lf(q), "c1");
    ch = s.channel();
    s.publish(ch, with_cr_lf(x2), "", "m2");
    s.count(ch, q);
    ch = s.channel();
    s.exchange_unbind(ch, with_cr_lf(x), with_cr_lf(x2));
    s.queue_unbind(ch, with_cr_lf(q), with_cr_lf(x));
    s.publish(ch, x2, "", "m3");
    s.get(ch, q);
    s.exchange_delete(ch, with_cr_lf(x2));
    s.exchange_declare(ch, x2, "fanout", {.passive = true});
    ch = s.channel();
    s.queue_delete(ch, with_cr_lf(q));
    s.count(ch, q);
    ch = s.channel();
    s.exchange_declare(ch, "\r\n", "fanout");
    ch = s.channel();
    s.queue_declare(ch, "\n", {.exclusive = true});
    s.queue_bind(ch, "\n", x);
    ch = s.channel();
    s.queue_delete(ch, "\r");
    s.exchange_bind(ch, "\r", x);
}
}  // namespace

void add_declare_scenarios(Scenarios& out) {
    out.push_back({"declare.names_cr_lf_stripped", names_cr_lf_stripped});
    out.push_back({"declare.exchange_redeclare", exchange_redeclare});
    out.push_back({"declare.exchange_inequivalent", exchange_inequivalent});
    out.push_back({"declare.exchange_arguments_inequivalent", exchange_arguments_inequivalent});
    out.push_back({"declare.exchange_passive_missing", exchange_passive_missing});
    out.push_back({"declare.exchange_reserved_prefix", exchange_reserved_prefix});
    out.push_back({"declare.exchange_unknown_type", exchange_unknown_type});
    out.push_back({"declare.exchange_delete", exchange_delete});
    out.push_back({"declare.exchange_delete_drops_bindings", exchange_delete_drops_bindings});
    out.push_back({"declare.queue_redeclare", queue_redeclare});
    out.push_back({"declare.queue_inequivalent", queue_inequivalent});
    out.push_back({"declare.queue_unknown_arguments", queue_unknown_arguments});
    out.push_back({"declare.queue_invalid_arguments", queue_invalid_arguments});
    out.push_back({"declare.queue_passive_missing", queue_passive_missing});
    out.push_back({"declare.queue_reserved_prefix", queue_reserved_prefix});
    out.push_back({"declare.channel_error_isolated", channel_error_isolated});
}

}  // namespace warren::conformance
