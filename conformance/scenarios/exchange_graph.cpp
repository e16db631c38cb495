// Exchanges routing to exchanges: exchange-to-exchange bindings (cycles included), alternate
// exchanges (chains, cycles, missing ones), internal exchanges and the default exchange.
#include "scenario.hpp"

namespace warren::conformance {
namespace {

void e2e_chain(Session& s) {
    const auto x1 = s.exchange_name("x1"), x2 = s.exchange_name("x2"), x3 = s.exchange_name("x3");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x1, "topic");
    s.exchange_declare(ch, x2, "direct");
    s.exchange_declare(ch, x3, "fanout");
    s.queue_declare(ch, q);
    s.exchange_bind(ch, x2, x1, "a.*");
    s.exchange_bind(ch, x3, x2, "a.b");
    s.queue_bind(ch, q, x3, "ignored");
    s.publish(ch, x1, "a.b", "m1");
    s.publish(ch, x1, "a.c", "m2");
    s.publish(ch, x2, "a.b", "m3");
    s.publish(ch, x3, "zzz", "m4");
    s.drain(ch, q);
}

// A cycle x1 -> x2 -> x1 delivers each message once to each queue.
void e2e_cycle(Session& s) {
    const auto x1 = s.exchange_name("x1"), x2 = s.exchange_name("x2");
    const auto q1 = s.queue_name("q1"), q2 = s.queue_name("q2");
    Channel ch = s.channel();
    s.exchange_declare(ch, x1, "fanout");
    s.exchange_declare(ch, x2, "fanout");
    s.queue_declare(ch, q1);
    s.queue_declare(ch, q2);
    s.exchange_bind(ch, x2, x1);
    s.exchange_bind(ch, x1, x2);
    s.queue_bind(ch, q1, x1);
    s.queue_bind(ch, q2, x2);
    s.publish(ch, x1, "k", "m1");
    s.publish(ch, x2, "k", "m2");
    s.drain(ch, q1);
    s.drain(ch, q2);
}

void e2e_self_binding(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "direct");
    s.queue_declare(ch, q);
    s.exchange_bind(ch, x, x, "k");
    s.queue_bind(ch, q, x, "k");
    s.publish(ch, x, "k", "m1");
    s.drain(ch, q);
}

// Two paths to one queue (x1 -> x2 -> q and x1 -> x3 -> q): one copy.
void e2e_diamond(Session& s) {
    const auto x1 = s.exchange_name("x1"), x2 = s.exchange_name("x2"), x3 = s.exchange_name("x3");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    for (const auto& x : {x1, x2, x3}) s.exchange_declare(ch, x, "fanout");
    s.queue_declare(ch, q);
    s.exchange_bind(ch, x2, x1);
    s.exchange_bind(ch, x3, x1);
    s.queue_bind(ch, q, x2);
    s.queue_bind(ch, q, x3);
    s.queue_bind(ch, q, x1);
    s.publish(ch, x1, "k", "m1");
    s.drain(ch, q);
}

void e2e_unbind(Session& s) {
    const auto x1 = s.exchange_name("x1"), x2 = s.exchange_name("x2");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x1, "direct");
    s.exchange_declare(ch, x2, "fanout");
    s.queue_declare(ch, q);
    s.exchange_bind(ch, x2, x1, "k");
    s.queue_bind(ch, q, x2);
    s.publish(ch, x1, "k", "m1");
    s.exchange_unbind(ch, x2, x1, "other");
    s.publish(ch, x1, "k", "m2");
    s.exchange_unbind(ch, x2, x1, "k");
    s.publish(ch, x1, "k", "m3");
    s.drain(ch, q);
}

void e2e_missing(Session& s) {
    const auto x = s.exchange_name("x");
    const auto missing = s.exchange_name("missing");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "direct");
    s.exchange_bind(ch, x, missing, "k");
    ch = s.channel();
    s.exchange_bind(ch, missing, x, "k");
    ch = s.channel();
    s.exchange_unbind(ch, missing, x, "k");
}

// Deleting an exchange in the middle removes its bindings both ways.
void e2e_delete_middle(Session& s) {
    const auto x1 = s.exchange_name("x1"), x2 = s.exchange_name("x2");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x1, "fanout");
    s.exchange_declare(ch, x2, "fanout");
    s.queue_declare(ch, q);
    s.exchange_bind(ch, x2, x1);
    s.queue_bind(ch, q, x2);
    s.exchange_delete(ch, x2);
    s.exchange_declare(ch, x2, "fanout");
    s.publish(ch, x1, "k", "m1");
    s.publish(ch, x2, "k", "m2");
    s.drain(ch, q);
}

void ae_basic(Session& s) {
    const auto x = s.exchange_name("x"), ae = s.exchange_name("ae");
    const auto q = s.queue_name("q"), qae = s.queue_name("qae");
    Channel ch = s.channel();
    s.exchange_declare(ch, ae, "fanout");
    s.exchange_declare(ch, x, "direct", {.arguments = {{"alternate-exchange", ae}}});
    s.queue_declare(ch, q);
    s.queue_declare(ch, qae);
    s.queue_bind(ch, q, x, "routed");
    s.queue_bind(ch, qae, ae);
    s.publish(ch, x, "routed", "m1");
    s.publish(ch, x, "unrouted", "m2");
    s.drain(ch, q);
    s.drain(ch, qae);
}

// x -> ae1 -> ae2: each alternate exchange routes with the original key.
void ae_chain(Session& s) {
    const auto x = s.exchange_name("x"), ae1 = s.exchange_name("ae1"), ae2 = s.exchange_name("ae2");
    const auto q1 = s.queue_name("q1"), q2 = s.queue_name("q2");
    Channel ch = s.channel();
    s.exchange_declare(ch, ae2, "fanout");
    s.exchange_declare(ch, ae1, "direct", {.arguments = {{"alternate-exchange", ae2}}});
    s.exchange_declare(ch, x, "direct", {.arguments = {{"alternate-exchange", ae1}}});
    s.queue_declare(ch, q1);
    s.queue_declare(ch, q2);
    s.queue_bind(ch, q1, ae1, "k1");
    s.queue_bind(ch, q2, ae2);
    s.publish(ch, x, "k1", "m1");
    s.publish(ch, x, "k2", "m2");
    s.drain(ch, q1);
    s.drain(ch, q2);
}

// x and y name each other as alternates and route nowhere: the message is dropped (and
// returned when mandatory).
void ae_cycle(Session& s) {
    const auto x = s.exchange_name("x"), y = s.exchange_name("y");
    Channel ch = s.channel();
    auto& returns = s.watch_returns(ch);
    s.exchange_declare(ch, x, "direct", {.arguments = {{"alternate-exchange", y}}});
    s.exchange_declare(ch, y, "direct", {.arguments = {{"alternate-exchange", x}}});
    s.confirm_select(ch);
    s.publish(ch, x, "k", "m1", {}, {.mandatory = true});
    s.publish(ch, y, "k", "m2", {}, {.mandatory = true});
    s.wait_for_confirms(ch);
    s.write_returns(returns);
}

void ae_missing(Session& s) {
    const auto x = s.exchange_name("x"), ae = s.exchange_name("ae");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    auto& returns = s.watch_returns(ch);
    s.exchange_declare(ch, x, "direct", {.arguments = {{"alternate-exchange", ae}}});
    s.confirm_select(ch);
    s.publish(ch, x, "k", "m1", {}, {.mandatory = true});
    s.wait_for_confirms(ch);
    s.write_returns(returns);
    // Declared later, the alternate exchange takes effect.
    s.exchange_declare(ch, ae, "fanout");
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, ae);
    s.publish(ch, x, "k", "m2", {}, {.mandatory = true});
    s.wait_for_confirms(ch);
    s.write_returns(returns);
    s.drain(ch, q);
}

// A message the alternate exchange routes is not returned; the delivery names the original
// exchange.
void ae_mandatory(Session& s) {
    const auto x = s.exchange_name("x"), ae = s.exchange_name("ae");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    auto& returns = s.watch_returns(ch);
    s.exchange_declare(ch, ae, "direct");
    s.exchange_declare(ch, x, "topic", {.arguments = {{"alternate-exchange", ae}}});
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, ae, "yes");
    s.confirm_select(ch);
    s.publish(ch, x, "yes", "m1", {}, {.mandatory = true});
    s.publish(ch, x, "no", "m2", {}, {.mandatory = true});
    s.wait_for_confirms(ch);
    s.write_returns(returns);
    s.drain(ch, q);
}

void ae_internal(Session& s) {
    const auto x = s.exchange_name("x"), ae = s.exchange_name("ae");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, ae, "fanout", {.internal = true});
    s.exchange_declare(ch, x, "direct", {.arguments = {{"alternate-exchange", ae}}});
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, ae);
    s.publish(ch, x, "k", "m1");
    s.drain(ch, q);
}

// An alternate exchange reached through an exchange-to-exchange binding is not consulted: only
// the exchange published to has its alternate tried.
void ae_of_bound_exchange(Session& s) {
    const auto x = s.exchange_name("x"), y = s.exchange_name("y"), ae = s.exchange_name("ae");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, ae, "fanout");
    s.exchange_declare(ch, x, "fanout");
    s.exchange_declare(ch, y, "direct", {.arguments = {{"alternate-exchange", ae}}});
    s.queue_declare(ch, q);
    s.exchange_bind(ch, y, x);
    s.queue_bind(ch, q, ae);
    s.publish(ch, x, "k", "via-x");
    s.publish(ch, y, "k", "via-y");
    s.drain(ch, q);
}

void internal_publish_refused(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "fanout", {.internal = true});
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, x);
    s.publish(ch, x, "k", "m1");
    s.count(ch, q);
    ch = s.channel();
    s.count(ch, q);
}

void internal_via_binding(Session& s) {
    const auto x = s.exchange_name("x"), xi = s.exchange_name("xi");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "direct");
    s.exchange_declare(ch, xi, "fanout", {.internal = true});
    s.queue_declare(ch, q);
    s.exchange_bind(ch, xi, x, "k");
    s.queue_bind(ch, q, xi);
    s.publish(ch, x, "k", "m1");
    s.drain(ch, q);
}

void default_implicit_binding(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    auto& returns = s.watch_returns(ch);
    s.queue_declare(ch, q);
    s.confirm_select(ch);
    s.publish(ch, "", q, "m1");
    s.publish(ch, "", s.queue_name("missing"), "m2", {}, {.mandatory = true});
    s.publish(ch, "", "", "m3", {}, {.mandatory = true});
    s.wait_for_confirms(ch);
    s.write_returns(returns);
    s.drain(ch, q);
}

void default_refuses_binding(Session& s) {
    const auto q = s.queue_name("q");
    const auto x = s.exchange_name("x");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    s.exchange_declare(ch, x, "direct");
    s.queue_bind(ch, q, "", q);
    ch = s.channel();
    s.queue_unbind(ch, q, "", q);
    ch = s.channel();
    s.exchange_bind(ch, x, "", "k");
    ch = s.channel();
    s.exchange_bind(ch, "", x, "k");
}

void default_refuses_declare_delete(Session& s) {
    Channel ch = s.channel();
    s.exchange_declare(ch, "", "direct");
    ch = s.channel();
    s.exchange_declare(ch, "", "direct", {.passive = true});
    ch = s.channel();
    s.exchange_delete(ch, "");
}

void predeclared_exchanges(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    for (const auto& [name, type] : std::vector<std::pair<std::string, std::string>>{
             {"amq.direct", "direct"}, {"amq.fanout", "fanout"}, {"amq.topic", "topic"},
             {"amq.headers", "headers"}, {"amq.match", "headers"}})
        s.exchange_declare(ch, name, type, {.passive = true});
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, "amq.direct", q);
    s.publish(ch, "amq.direct", q, "m1");
    s.drain(ch, q);
    s.queue_unbind(ch, q, "amq.direct", q);
    s.exchange_delete(ch, "amq.direct");
    ch = s.channel();
    s.exchange_declare(ch, "amq.direct", "direct", {.durable = true});
}

}  // namespace

void add_exchange_graph_scenarios(Scenarios& out) {
    out.push_back({"e2e.chain", e2e_chain});
    out.push_back({"e2e.cycle", e2e_cycle});
    out.push_back({"e2e.self_binding", e2e_self_binding});
    out.push_back({"e2e.diamond", e2e_diamond});
    out.push_back({"e2e.unbind", e2e_unbind});
    out.push_back({"e2e.missing", e2e_missing});
    out.push_back({"e2e.delete_middle", e2e_delete_middle});
    out.push_back({"alternate.basic", ae_basic});
    out.push_back({"alternate.chain", ae_chain});
    out.push_back({"alternate.cycle", ae_cycle});
    out.push_back({"alternate.missing", ae_missing});
    out.push_back({"alternate.mandatory", ae_mandatory});
    out.push_back({"alternate.internal", ae_internal});
    out.push_back({"alternate.of_bound_exchange", ae_of_bound_exchange});
    out.push_back({"internal.publish_refused", internal_publish_refused});
    out.push_back({"internal.via_binding", internal_via_binding});
    out.push_back({"default.implicit_binding", default_implicit_binding});
    out.push_back({"default.refuses_binding", default_refuses_binding});
    out.push_back({"default.refuses_declare_delete", default_refuses_declare_delete});
    out.push_back({"default.predeclared_exchanges", predeclared_exchanges});
}

}  // namespace warren::conformance
