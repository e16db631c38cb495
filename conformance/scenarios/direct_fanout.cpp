// Direct and fanout exchanges: exact key matching, duplicate bindings, unbinding.
#include "scenario.hpp"

namespace warren::conformance {
namespace {

void direct_exact_match(Session& s) {
    routing_matrix(s, "direct", {{"a"}, {"b"}}, keys({"a", "b", "c", "A", "a "}));
}

void direct_empty_key(Session& s) { routing_matrix(s, "direct", {{""}, {"x"}}, keys({"", "x", " "})); }

void direct_same_key_many_queues(Session& s) {
    routing_matrix(s, "direct", {{"k"}, {"k"}, {"other"}}, keys({"k", "other"}));
}

void direct_wildcards_are_literal(Session& s) {
    routing_matrix(s, "direct", {{"a.*"}, {"#"}, {"a.b"}}, keys({"a.b", "a.*", "#", "a"}));
}

void direct_unicode_key(Session& s) {
    routing_matrix(s, "direct", {{"ключ"}, {"clé"}}, keys({"ключ", "clé", "cle"}));
}

void direct_long_key(Session& s) {
    const std::string k255(255, 'k');
    routing_matrix(s, "direct", {{k255}}, keys({k255, k255.substr(1)}));
}

// One queue bound twice with the same key, and with two keys: one copy per message.
void direct_duplicate_bindings(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "direct");
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, x, "k");
    s.queue_bind(ch, q, x, "k");
    s.queue_bind(ch, q, x, "j");
    s.publish(ch, x, "k", "m1");
    s.publish(ch, x, "j", "m2");
    s.drain(ch, q);
    s.queue_unbind(ch, q, x, "k");
    s.publish(ch, x, "k", "m3");
    s.publish(ch, x, "j", "m4");
    s.drain(ch, q);
}

void direct_unbind(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "direct");
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, x, "k");
    s.publish(ch, x, "k", "before");
    s.queue_unbind(ch, q, x, "k");
    s.publish(ch, x, "k", "after");
    s.drain(ch, q);
    // Unbinding what is not bound.
    s.queue_unbind(ch, q, x, "never");
    s.count(ch, q);
}

void direct_bind_missing(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "direct");
    s.queue_bind(ch, q, x, "k");
    ch = s.channel();
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, s.exchange_name("missing"), "k");
    ch = s.channel();
    s.queue_unbind(ch, q, s.exchange_name("missing"), "k");
    ch = s.channel();
    s.queue_unbind(ch, s.queue_name("missing"), x, "k");
}

void fanout_ignores_key(Session& s) {
    routing_matrix(s, "fanout", {{"x"}, {"y"}, {""}}, keys({"z", "", "x"}));
}

// A queue bound to a fanout exchange under two keys gets one copy; it stays bound until both
// bindings are gone.
void fanout_bindings_by_key(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "fanout");
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, x, "a");
    s.queue_bind(ch, q, x, "b");
    s.publish(ch, x, "anything", "m1");
    s.queue_unbind(ch, q, x, "a");
    s.publish(ch, x, "anything", "m2");
    s.queue_unbind(ch, q, x, "b");
    s.publish(ch, x, "anything", "m3");
    s.drain(ch, q);
}

void fanout_no_bindings_mandatory(Session& s) {
    const auto x = s.exchange_name("x");
    Channel ch = s.channel();
    auto& returns = s.watch_returns(ch);
    s.exchange_declare(ch, x, "fanout");
    s.confirm_select(ch);
    s.publish(ch, x, "k", "m1", {}, {.mandatory = true});
    s.publish(ch, x, "k", "m2");
    s.wait_for_confirms(ch);
    s.write_returns(returns);
}

void fanout_many_queues(Session& s) {
    routing_matrix(s, "fanout", {{""}, {""}, {""}, {""}}, keys({"a", "b"}));
}

}  // namespace

void add_direct_fanout_scenarios(Scenarios& out) {
    out.push_back({"direct.exact_match", direct_exact_match});
    out.push_back({"direct.empty_key", direct_empty_key});
    out.push_back({"direct.same_key_many_queues", direct_same_key_many_queues});
    out.push_back({"direct.wildcards_are_literal", direct_wildcards_are_literal});
    out.push_back({"direct.unicode_key", direct_unicode_key});
    out.push_back({"direct.long_key", direct_long_key});
    out.push_back({"direct.duplicate_bindings", direct_duplicate_bindings});
    out.push_back({"direct.unbind", direct_unbind});
    out.push_back({"direct.bind_missing", direct_bind_missing});
    out.push_back({"fanout.ignores_key", fanout_ignores_key});
    out.push_back({"fanout.bindings_by_key", fanout_bindings_by_key});
    out.push_back({"fanout.no_bindings_mandatory", fanout_no_bindings_mandatory});
    out.push_back({"fanout.many_queues", fanout_many_queues});
}

}  // namespace warren::conformance
