// The x-death layout checked against RabbitMQ 3.10.8: a message expiring from one queue and
// then rejected from another, and a message rejected three times from the same queue.
#include <catch2/catch.hpp>

#include "dead_letter.hpp"

using namespace warren;
using namespace warren::emulator;

namespace {

const TimePoint t0 = ManualClock::default_start;

std::vector<std::string> keys_of(const FieldTable& t) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : t) keys.push_back(k);
    return keys;
}

}  // namespace

TEST_CASE("a first death records x-death in make_msg's order and the x-first-death headers") {
    StoredMessage original("", "src", Message{.body = "m1",
                                              .properties = {.headers = {{"a", 1}, {"CC", FieldArray{"cc1"}}},
                                                             .expiration = "5000"}},
                           {"cc1", "bcc1"});
    MessagePtr dl = make_dead_letter(original, DeadLetterReason::Expired, "src", t0 + Duration(1500), "dlx",
                                     std::nullopt);
    CHECK(dl->exchange() == "dlx");
    CHECK(dl->routing_key() == "src");
    CHECK(std::vector<std::string>(dl->extra_routing_keys().begin(), dl->extra_routing_keys().end()) ==
          std::vector<std::string>{"cc1", "bcc1"});
    const FieldTable& h = dl->properties().headers;
    CHECK(keys_of(h) == std::vector<std::string>{"CC", "a", "x-death", "x-first-death-exchange",
                                                 "x-first-death-queue", "x-first-death-reason"});
    CHECK_FALSE(dl->properties().expiration);
    const FieldTable& death = h.at("x-death").as_array()[0].as_table();
    CHECK(keys_of(death) == std::vector<std::string>{"count", "reason", "queue", "time", "exchange",
                                                     "routing-keys", "original-expiration"});
    CHECK(death.at("count") == FieldValue(std::int64_t{1}));
    CHECK(death.at("reason").as_string() == "expired");
    CHECK(death.at("time") == FieldValue(Timestamp{1'704'067'201}));
    CHECK(death.at("exchange").as_string() == "");
    CHECK(death.at("routing-keys") == FieldValue(FieldArray{"src", "cc1"}));
    CHECK(death.at("original-expiration").as_string() == "5000");
    CHECK(h.at("x-first-death-reason").as_string() == "expired");
    CHECK(h.at("x-first-death-queue").as_string() == "src");

    SECTION("a second death elsewhere prepends a sorted entry; a dead-letter key drops CC") {
        StoredMessage republished("", "src2", dl->to_message());
        MessagePtr again = make_dead_letter(republished, DeadLetterReason::Rejected, "src2",
                                            t0 + Duration(3000), "dlx", std::string("again"));
        CHECK(again->routing_key() == "again");
        CHECK(again->extra_routing_keys().empty());
        const FieldTable& h2 = again->properties().headers;
        CHECK_FALSE(h2.contains("CC"));
        const FieldArray& deaths = h2.at("x-death").as_array();
        REQUIRE(deaths.size() == 2);
        CHECK(keys_of(deaths[0].as_table()) ==
              std::vector<std::string>{"count", "exchange", "queue", "reason", "routing-keys", "time"});
        CHECK(deaths[0].as_table().at("routing-keys") == FieldValue(FieldArray{"src2", "cc1"}));
        CHECK(deaths[1] == h.at("x-death").as_array()[0]);
        CHECK(h2.at("x-first-death-queue").as_string() == "src");
    }
}

TEST_CASE("a repeated death counts up its entry, keeping the first time") {
    StoredMessage m("", "q", Message{.body = "y", .properties = {.headers = {{"z", 1}}}});
    MessagePtr d1 = make_dead_letter(m, DeadLetterReason::Rejected, "q", t0, "", std::string("dl"));
    StoredMessage back1("", "q", d1->to_message());
    MessagePtr d2 = make_dead_letter(back1, DeadLetterReason::Rejected, "q", t0 + Duration(60'000), "",
                                     std::string("dl"));
    StoredMessage back2("", "q", d2->to_message());
    MessagePtr d3 = make_dead_letter(back2, DeadLetterReason::Rejected, "q", t0 + Duration(120'000), "",
                                     std::string("dl"));
    const FieldArray& deaths = d3->properties().headers.at("x-death").as_array();
    REQUIRE(deaths.size() == 1);
    const FieldTable& e = deaths[0].as_table();
    CHECK(keys_of(e) == std::vector<std::string>{"count", "exchange", "queue", "reason", "routing-keys", "time"});
    CHECK(e.at("count").as_int() == 3);
    CHECK(e.at("time") == FieldValue(Timestamp{1'704'067'200}));
    CHECK(keys_of(d3->properties().headers) ==
          std::vector<std::string>{"x-death", "x-first-death-exchange", "x-first-death-queue",
                                   "x-first-death-reason", "z"});
}

TEST_CASE("cycles: a queue met again with no rejection in between drops the message") {
    StoredMessage m("", "a", Message{.body = "c"});
    MessagePtr from_a = make_dead_letter(m, DeadLetterReason::Expired, "a", t0, "", std::nullopt);
    CHECK(is_dead_letter_cycle(*from_a, DeadLetterReason::Expired, "a"));
    CHECK_FALSE(is_dead_letter_cycle(*from_a, DeadLetterReason::Expired, "b"));
    CHECK_FALSE(is_dead_letter_cycle(*from_a, DeadLetterReason::Rejected, "a"));
    MessagePtr rejected_b = make_dead_letter(*from_a, DeadLetterReason::Rejected, "b", t0, "", std::nullopt);
    MessagePtr expired_c = make_dead_letter(*rejected_b, DeadLetterReason::Expired, "c", t0, "", std::nullopt);
    // RabbitMQ 3.10 regroups a history of two entries or more, which reverses it: expired_c's
    // x-death is [c expired, a expired, b rejected], so going back to a is a cycle (a message
    // taking this path is dropped on RabbitMQ 3.10.8), going back to b is not.
    CHECK(is_dead_letter_cycle(*expired_c, DeadLetterReason::Expired, "a"));
    CHECK_FALSE(is_dead_letter_cycle(*expired_c, DeadLetterReason::Expired, "b"));
    CHECK(is_dead_letter_cycle(*expired_c, DeadLetterReason::Expired, "c"));
}

// RabbitMQ re-encodes a dead-lettered message's properties: an unsigned 64-bit header ('L')
// comes back as the signed long ('l') of the same 64 bits, inside tables and arrays too
// (observed on 3.10.8; conformance scenario dlx.uint64_header). The copy has no encoded
// properties of its own, so warren-server encodes it again.
TEST_CASE("a dead-lettered copy is re-encoded: unsigned longs become signed longs") {
    const FieldTable headers{{"u64", std::uint64_t{18446744073709551615u}},
                             {"table", FieldTable{{"n", std::uint64_t{9}}}},
                             {"array", FieldArray{std::uint64_t{5}, "x"}}};
    StoredMessage original("", "src", Message{.body = "m1", .properties = {.headers = headers}}, {},
                           std::string("\x20\x00 as published", 16));
    CHECK_FALSE(original.encoded_properties().empty());
    MessagePtr dl = make_dead_letter(original, DeadLetterReason::Rejected, "src", t0, "dlx", std::nullopt);
    CHECK(dl->encoded_properties().empty());
    const FieldTable& h = dl->properties().headers;
    CHECK(h.at("u64") == FieldValue(std::int64_t{-1}));
    CHECK(h.at("table") == FieldValue(FieldTable{{"n", std::int64_t{9}}}));
    CHECK(h.at("array") == FieldValue(FieldArray{std::int64_t{5}, "x"}));
    // The original keeps its own.
    CHECK(original.properties().headers == headers);
}

TEST_CASE("encoded properties are kept only when they say something") {
    CHECK(StoredMessage("", "q", Message{.body = "m"}).encoded_properties().empty());
    // Flags 0 and no list: what encoding no properties gives anyway.
    CHECK(StoredMessage("", "q", Message{.body = "m"}, {}, std::string("\0\0", 2)).encoded_properties().empty());
    const std::string empty_headers("\x20\x00\x00\x00\x00\x00", 6);
    StoredMessage m("", "q", Message{.body = "m"}, {}, empty_headers);
    CHECK(m.encoded_properties() == empty_headers);
    CHECK(m.properties().empty());
}
