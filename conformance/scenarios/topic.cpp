// Topic exchanges: "*" takes exactly one word, "#" zero or more; words are split on "." and
// may be empty. Each pattern scenario binds one queue and tries the awkward keys: "", ".",
// "a..b", "a.b.", ".a" among them.
#include "scenario.hpp"

namespace warren::conformance {
namespace {

std::vector<Publication> awkward_keys() {
    return keys({"", ".", "..", "a", "b", "a.b", "b.a", "a.b.c", "a..b", "a.b.", ".a", "a.x.b", "a.b.b", "x.a.b"});
}

// One queue bound with `binding_key`, tried against every awkward key.
void add_pattern(Scenarios& out, std::string name, std::string binding_key) {
    out.push_back({"topic.pattern_" + name,
                   [binding_key](Session& s) { routing_matrix(s, "topic", {{binding_key}}, awkward_keys()); }});
}

// Several queues bound with overlapping patterns, each key published once.
void overlapping(Session& s) {
    routing_matrix(s, "topic", {{"#"}, {"a.#"}, {"*.b"}, {"a.b"}, {"a.*.c"}, {"#.c"}, {"*.*"}},
                   keys({"a.b", "a.b.c", "x.b", "a", "c", "a.x.c", "b.c"}));
}

// A queue matched by several of its bindings gets one copy.
void one_copy_per_queue(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "topic");
    s.queue_declare(ch, q);
    for (const char* key : {"a.*", "*.b", "#", "a.b", "a.#.b"}) s.queue_bind(ch, q, x, key);
    s.publish(ch, x, "a.b", "m1");
    s.publish(ch, x, "z", "m2");
    s.drain(ch, q);
}

void unbind_pattern(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "topic");
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, x, "a.*");
    s.queue_bind(ch, q, x, "#");
    s.publish(ch, x, "z.z", "m1");
    s.queue_unbind(ch, q, x, "#");
    s.publish(ch, x, "z.z", "m2");
    s.publish(ch, x, "a.z", "m3");
    s.queue_unbind(ch, q, x, "a.*");
    s.publish(ch, x, "a.z", "m4");
    s.drain(ch, q);
}

// "*" and "#" inside a word are plain characters.
void wildcards_inside_words(Session& s) {
    routing_matrix(s, "topic", {{"a*.b"}, {"a#"}, {"*a.b"}}, keys({"a*.b", "ab.b", "a#", "a", "ab", "*a.b", "xa.b"}));
}

void case_sensitive(Session& s) { routing_matrix(s, "topic", {{"A.b"}, {"a.B"}}, keys({"a.b", "A.b", "a.B", "A.B"})); }

void many_words(Session& s) {
    routing_matrix(s, "topic", {{"a.#.z"}, {"*.*.*.*.*.*.*.*.*.*"}, {"#.j.#"}},
                   keys({"a.b.c.d.e.f.g.h.i.z", "a.b.c.d.e.f.g.h.i.j", "a.z", "j", "a.b.c.d.e.f.g.h.i"}));
}

}  // namespace

void add_topic_scenarios(Scenarios& out) {
    add_pattern(out, "hash", "#");
    add_pattern(out, "hash_hash", "#.#");
    add_pattern(out, "star", "*");
    add_pattern(out, "star_star", "*.*");
    add_pattern(out, "star_hash_star", "*.#.*");
    add_pattern(out, "hash_star", "#.*");
    add_pattern(out, "star_hash", "*.#");
    add_pattern(out, "hash_star_hash", "#.*.#");
    add_pattern(out, "empty", "");
    add_pattern(out, "dot", ".");
    add_pattern(out, "a_star", "a.*");
    add_pattern(out, "star_a", "*.a");
    add_pattern(out, "a_hash", "a.#");
    add_pattern(out, "hash_a", "#.a");
    add_pattern(out, "a_hash_b", "a.#.b");
    add_pattern(out, "a_star_b", "a.*.b");
    add_pattern(out, "a_empty_b", "a..b");
    add_pattern(out, "trailing_dot", "a.b.");
    add_pattern(out, "leading_dot", ".a");
    add_pattern(out, "literal", "a.b");
    add_pattern(out, "hash_empty_word", "#..#");
    add_pattern(out, "star_empty_word", "*..*");
    out.push_back({"topic.overlapping_patterns", overlapping});
    out.push_back({"topic.one_copy_per_queue", one_copy_per_queue});
    out.push_back({"topic.unbind_pattern", unbind_pattern});
    out.push_back({"topic.wildcards_inside_words", wildcards_inside_words});
    out.push_back({"topic.case_sensitive", case_sensitive});
    out.push_back({"topic.many_words", many_words});
}

}  // namespace warren::conformance
