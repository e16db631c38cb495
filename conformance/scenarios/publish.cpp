// Publishing: mandatory returns, confirms, the 14 basic properties and every field type
// round-tripping, CC/BCC sender-selected distribution, bodies of every shape, message TTL.
#include "scenario.hpp"

namespace warren::conformance {
namespace {

FieldTable with_cc(FieldTable headers, const std::string& key) {
    headers.set("CC", FieldArray{key});
    return headers;
}

void mandatory(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    auto& returns = s.watch_returns(ch);
    s.exchange_declare(ch, x, "direct");
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, x, "routed");
    s.confirm_select(ch);
    s.publish(ch, x, "routed", "m1", {}, {.mandatory = true});
    s.publish(ch, x, "unrouted", "m2", {.content_type = "text/plain", .headers = {{"h", 1}}}, {.mandatory = true});
    s.publish(ch, x, "unrouted", "m3");
    s.wait_for_confirms(ch);
    s.write_returns(returns);
    s.drain(ch, q);
}

// Without confirms: the return arrives asynchronously, so it is awaited.
void mandatory_without_confirms(Session& s) {
    const auto x = s.exchange_name("x");
    Channel ch = s.channel();
    auto& returns = s.watch_returns(ch);
    s.exchange_declare(ch, x, "topic");
    s.publish(ch, x, "a.b", "m1", {}, {.mandatory = true});
    if (!s.eventually([&] { return !returns.returns.empty(); })) s.note("no return arrived");
    s.write_returns(returns);
}

void missing_exchange(Session& s) {
    Channel ch = s.channel();
    s.publish(ch, s.exchange_name("missing"), "k", "m1");
    s.count(ch, s.queue_name("q"));
    s.note("channel open: {}", ch.is_open());
    s.publish(ch, "", "k", "m2");
}

void confirms(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    s.confirm_select(ch);
    s.confirm_select(ch);
    for (int i = 1; i <= 5; ++i) s.publish(ch, "", q, fmt::format("m{}", i));
    s.publish(ch, "", s.queue_name("missing"), "m6");
    s.wait_for_confirms(ch);
    s.count(ch, q);
}

void all_properties_round_trip(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    s.publish(ch, "", q, "full", all_properties());
    s.publish(ch, "", q, "bare");
    s.drain(ch, q);
    auto& c = s.consume(ch, q, "c1", {.no_ack = true});
    s.publish(ch, "", q, "full", all_properties());
    s.await(c, 1);
}

void user_id_mismatch(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    s.publish(ch, "", q, "m1", {.user_id = "somebody-else"});
    s.count(ch, q);
    ch = s.channel();
    s.count(ch, q);
}

void header_types_round_trip(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    s.publish(ch, "", q, "typed", {.headers = every_field_type()});
    s.get(ch, q);
    auto& c = s.consume(ch, q, "c1", {.no_ack = true});
    s.publish(ch, "", q, "typed", {.headers = every_field_type()});
    s.await(c, 1);
}

// Headers RabbitMQ has to rewrite (BCC removed) keep every type; a headers exchange matches on
// them.
void header_types_rewritten(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "headers");
    s.queue_declare(ch, q);
    s.queue_bind(ch, q, x, "", {{"x-match", "all"}, {"int16", std::int16_t{-1600}}, {"longstr", "text with spaces"}});
    FieldTable headers = every_field_type();
    headers.set("BCC", FieldArray{"nowhere"});
    s.publish(ch, x, "", "typed", {.headers = headers});
    s.drain(ch, q);
}

// Unsigned 64-bit header values ('L'), alone and inside a table and an array.
FieldTable unsigned_longs() {
    return {{"u64-max", std::uint64_t{18446744073709551615u}},
            {"u64", std::uint64_t{7}},
            {"table", FieldTable{{"n", std::uint64_t{9223372036854775809u}}}},
            {"array", FieldArray{std::uint64_t{5}, "x"}}};
}

// RabbitMQ sends a message's properties back as they were published: 'L' stays unsigned, in
// basic.get-ok, basic.deliver and basic.return.
void uint64_header(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    auto& returns = s.watch_returns(ch);
    s.confirm_select(ch);
    s.publish(ch, "", q, "u64", {.headers = unsigned_longs()});
    s.get(ch, q);
    s.publish(ch, "", "nowhere", "u64-returned", {.headers = unsigned_longs()}, {.mandatory = true});
    s.wait_for_confirms(ch);
    s.write_returns(returns);
    auto& c = s.consume(ch, q, "c1", {.no_ack = true});
    s.publish(ch, "", q, "u64", {.headers = unsigned_longs()});
    s.await(c, 1);
}

// Taking the BCC header out re-encodes the properties: every 'L' comes back as a signed long.
void uint64_header_bcc(Session& s) {
    const auto q1 = s.queue_name("q1"), q2 = s.queue_name("q2");
    Channel ch = s.channel();
    s.queue_declare(ch, q1);
    s.queue_declare(ch, q2);
    FieldTable headers = unsigned_longs();
    headers.set("BCC", FieldArray{q2});
    s.publish(ch, "", q1, "u64-bcc", {.headers = headers});
    s.publish(ch, "", q1, "u64-cc", {.headers = with_cc(unsigned_longs(), q2)});
    s.drain(ch, q1);
    s.drain(ch, q2);
}

// CC and BCC add routing keys; CC stays in the headers, BCC is removed.
void cc_bcc(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q1 = s.queue_name("q1"), q2 = s.queue_name("q2"), q3 = s.queue_name("q3");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "direct");
    for (const auto& [q, k] : std::vector<std::pair<std::string, std::string>>{{q1, "k1"}, {q2, "k2"}, {q3, "k3"}}) {
        s.queue_declare(ch, q);
        s.queue_bind(ch, q, x, k);
    }
    s.publish(ch, x, "k1", "cc", {.headers = {{"CC", FieldArray{"k2"}}}});
    s.publish(ch, x, "k1", "bcc", {.headers = {{"BCC", FieldArray{"k3"}}}});
    s.publish(ch, x, "none", "both", {.headers = {{"a", 1}, {"CC", FieldArray{"k2"}}, {"BCC", FieldArray{"k3"}}}});
    s.publish(ch, x, "k1", "duplicates", {.headers = {{"CC", FieldArray{"k1", "k2", "k2"}}}});
    s.publish(ch, x, "k1", "non-strings", {.headers = {{"CC", FieldArray{1, "k3", ByteArray{"k2"}}}}});
    s.drain(ch, q1);
    s.drain(ch, q2);
    s.drain(ch, q3);
}

void cc_topic_and_default(Session& s) {
    const auto x = s.exchange_name("x");
    const auto q1 = s.queue_name("q1"), q2 = s.queue_name("q2");
    Channel ch = s.channel();
    s.exchange_declare(ch, x, "topic");
    s.queue_declare(ch, q1);
    s.queue_declare(ch, q2);
    s.queue_bind(ch, q1, x, "a.*");
    s.publish(ch, x, "z", "topic-cc", {.headers = {{"CC", FieldArray{"a.b", "#"}}}});
    s.publish(ch, "", q1, "default-cc", {.headers = {{"CC", FieldArray{q2}}}});
    s.publish(ch, "", "none", "default-bcc", {.headers = {{"BCC", FieldArray{q2}}}});
    s.drain(ch, q1);
    s.drain(ch, q2);
}

void cc_wrong_type(Session& s) {
    const auto q1 = s.queue_name("q1"), q2 = s.queue_name("q2");
    Channel ch = s.channel();
    s.queue_declare(ch, q1);
    s.queue_declare(ch, q2);
    s.publish(ch, "", q1, "cc-string", {.headers = {{"CC", q2}}});
    s.count(ch, q1);
    ch = s.channel();
    s.count(ch, q1);
    s.count(ch, q2);
}

// BCC on a mandatory message that only BCC routes: delivered, not returned.
void bcc_mandatory(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    auto& returns = s.watch_returns(ch);
    s.queue_declare(ch, q);
    s.confirm_select(ch);
    s.publish(ch, "", "nowhere", "m1", {.headers = {{"BCC", FieldArray{q}}}}, {.mandatory = true});
    s.publish(ch, "", "nowhere", "m2", {.headers = {{"BCC", FieldArray{"nowhere-either"}}}}, {.mandatory = true});
    s.wait_for_confirms(ch);
    s.write_returns(returns);
    s.drain(ch, q);
}

void bodies(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    std::string every_byte;
    for (int i = 0; i < 256; ++i) every_byte += static_cast<char>(i);
    s.publish(ch, "", q, "");
    s.publish(ch, "", q, every_byte);
    s.publish(ch, "", q, "unicode: \xc3\xa9\xe2\x82\xac");
    s.publish(ch, "", q, std::string(1000, 'x'));
    s.drain(ch, q);
}

// A body larger than a frame: written down as its size and a checksum.
void large_body(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    std::string body(300000, '\0');
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>((i * 131 + 7) % 251);
    auto digest = [](const std::string& b) {
        std::uint64_t h = 1469598103934665603ull;  // FNV-1a
        for (unsigned char c : b) h = (h ^ c) * 1099511628211ull;
        return h;
    };
    s.note("publishing {} bytes, fnv1a {:016x}", body.size(), digest(body));
    s.attempt("basic.publish large", [&] { ch.basic_publish("", q, Message{body, {.message_id = "big"}}); });
    s.attempt("basic.get large", [&] {
        auto d = ch.basic_get(q, true);
        if (!d) return std::string("empty");
        return fmt::format("{} bytes, fnv1a {:016x}, {}", d->message.body.size(), digest(d->message.body),
                           describe(d->message.properties));
    });
}

void persistent_to_transient_queue(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    s.publish(ch, "", q, "persistent", {.delivery_mode = 2});
    s.publish(ch, "", q, "transient", {.delivery_mode = 1});
    s.publish(ch, "", q, "priority", {.priority = 9});
    s.drain(ch, q);
}

// Properties travel unchanged through exchange-to-exchange bindings and alternate exchanges;
// deliveries name the exchange published to and the original key.
void properties_through_routing(Session& s) {
    const auto x = s.exchange_name("x"), y = s.exchange_name("y"), ae = s.exchange_name("ae");
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.exchange_declare(ch, ae, "fanout");
    s.exchange_declare(ch, x, "topic", {.arguments = {{"alternate-exchange", ae}}});
    s.exchange_declare(ch, y, "direct");
    s.queue_declare(ch, q);
    s.exchange_bind(ch, y, x, "via.*");
    s.queue_bind(ch, q, y, "via.y");
    s.queue_bind(ch, q, ae);
    s.publish(ch, x, "via.y", "through-binding", all_properties());
    s.publish(ch, x, "other", "through-ae", all_properties());
    s.drain(ch, q);
}

void publish_on_closed_channel(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    s.close(ch);
    s.publish(ch, "", q, "m1");
    s.note("channel open: {}", ch.is_open());
    Channel other = s.channel();
    s.count(other, q);
}

// Time-to-live, seen only where the outcome does not depend on how fast the client is: a message
// whose TTL has certainly passed (wait() lets more than it pass; RabbitMQ drops expired messages
// at the head before a basic.get), and messages with no TTL at all.
void ttl_per_message(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q);
    s.publish(ch, "", q, "expires", {.expiration = "100"});
    s.publish(ch, "", q, "expires-now", {.expiration = "0"});
    s.publish(ch, "", q, "stays");
    s.wait(300ms);
    s.drain(ch, q);
}

void ttl_per_queue(Session& s) {
    const auto q = s.queue_name("q");
    Channel ch = s.channel();
    s.queue_declare(ch, q, {.arguments = {{"x-message-ttl", 100}}});
    s.publish(ch, "", q, "m1");
    s.publish(ch, "", q, "m2", {.expiration = "60000"});
    s.wait(300ms);
    s.drain(ch, q);
}

}  // namespace

void add_publish_scenarios(Scenarios& out) {
    out.push_back({"publish.mandatory", mandatory});
    out.push_back({"publish.mandatory_without_confirms", mandatory_without_confirms});
    out.push_back({"publish.missing_exchange", missing_exchange});
    out.push_back({"publish.confirms", confirms});
    out.push_back({"publish.all_properties", all_properties_round_trip});
    out.push_back({"publish.user_id_mismatch", user_id_mismatch});
    out.push_back({"publish.header_types", header_types_round_trip});
    out.push_back({"publish.header_types_rewritten", header_types_rewritten});
    out.push_back({"publish.uint64_header", uint64_header});
    out.push_back({"publish.uint64_header_bcc", uint64_header_bcc});
    out.push_back({"publish.cc_bcc", cc_bcc});
    out.push_back({"publish.cc_topic_and_default", cc_topic_and_default});
    out.push_back({"publish.cc_wrong_type", cc_wrong_type});
    out.push_back({"publish.bcc_mandatory", bcc_mandatory});
    out.push_back({"publish.bodies", bodies});
    out.push_back({"publish.large_body", large_body});
    out.push_back({"publish.persistent_to_transient_queue", persistent_to_transient_queue});
    out.push_back({"publish.properties_through_routing", properties_through_routing});
    out.push_back({"publish.on_closed_channel", publish_on_closed_channel});
    out.push_back({"ttl.per_message", ttl_per_message});
    out.push_back({"ttl.per_queue", ttl_per_queue});
}

}  // namespace warren::conformance
