// Texts confirmed on RabbitMQ 3.10.8 (queue.declare with each argument, and basic.publish with
// each expiration).
#include <catch2/catch.hpp>

#include "queue_type.hpp"

using namespace warren;
using namespace warren::emulator;

namespace {
std::string refusal(const FieldTable& args) {
    return validate_queue_arguments(args, "queue 'q' in vhost '/'").value_or("accepted");
}
}  // namespace

TEST_CASE("queue arguments are refused with RabbitMQ's texts") {
    const std::string q = "for queue 'q' in vhost '/': ";
    CHECK(refusal({{"x-message-ttl", -1}}) == "invalid arg 'x-message-ttl' " + q + "{value_negative,-1}");
    CHECK(refusal({{"x-message-ttl", "10"}}) == "invalid arg 'x-message-ttl' " + q + "\"expected integer, got longstr\"");
    CHECK(refusal({{"x-message-ttl", true}}) == "invalid arg 'x-message-ttl' " + q + "\"expected integer, got bool\"");
    CHECK(refusal({{"x-expires", 0}}) == "invalid arg 'x-expires' " + q + "{value_zero,0}");
    CHECK(refusal({{"x-expires", -5}}) == "invalid arg 'x-expires' " + q + "{value_negative,-5}");
    CHECK(refusal({{"x-expires", std::int64_t{1099511627776}}}) ==
          "invalid arg 'x-expires' " + q + "{value_too_large,1099511627776}");
    CHECK(refusal({{"x-max-length", -1}}) == "invalid arg 'x-max-length' " + q + "{value_negative,-1}");
    CHECK(refusal({{"x-max-length-bytes", -1}}) == "invalid arg 'x-max-length-bytes' " + q + "{value_negative,-1}");
    CHECK(refusal({{"x-max-priority", 256}}) == "invalid arg 'x-max-priority' " + q + "{max_value_exceeded,256}");
    CHECK(refusal({{"x-max-priority", -1}}) == "invalid arg 'x-max-priority' " + q + "{value_negative,-1}");
    CHECK(refusal({{"x-overflow", "bogus"}}) == "invalid arg 'x-overflow' " + q + "invalid_overflow");
    CHECK(refusal({{"x-overflow", 1}}) == "invalid arg 'x-overflow' " + q + "{unacceptable_type,signedint}");
    CHECK(refusal({{"x-dead-letter-exchange", 5}}) ==
          "invalid type 'signedint' for arg 'x-dead-letter-exchange' in queue 'q' in vhost '/'");
    CHECK(refusal({{"x-dead-letter-routing-key", "rk"}}) ==
          "invalid arg 'x-dead-letter-routing-key' " + q + "routing_key_but_no_dlx_defined");
    CHECK(refusal({{"x-queue-mode", "weird"}}) == "invalid arg 'x-queue-mode' " + q + "\"unsupported queue mode 'weird'\"");
    CHECK(refusal({{"x-single-active-consumer", "yes"}}) ==
          "invalid arg 'x-single-active-consumer' " + q + "{unacceptable_type,longstr}");
    CHECK(refusal({{"x-delivery-limit", 5}}) ==
          "invalid arg 'x-delivery-limit' for queue 'q' in vhost '/' of queue type rabbit_classic_queue");
    CHECK(refusal({{"x-max-in-memory-length", 5}}) ==
          "invalid arg 'x-max-in-memory-length' for queue 'q' in vhost '/' of queue type rabbit_classic_queue");
}

TEST_CASE("the first refusal is RabbitMQ's: DLX type, then declare_args order, then other types' args") {
    CHECK(refusal({{"x-message-ttl", -1}, {"x-expires", 0}}).starts_with("invalid arg 'x-expires'"));
    CHECK(refusal({{"x-delivery-limit", 5}, {"x-dead-letter-exchange", 5}}).starts_with("invalid type 'signedint'"));
    CHECK(refusal({{"x-delivery-limit", 5}, {"x-message-ttl", -1}}).starts_with("invalid arg 'x-message-ttl'"));
    CHECK(refusal({{"x-overflow", "bad"}, {"x-max-length", -1}}).starts_with("invalid arg 'x-max-length'"));
}

TEST_CASE("valid arguments are accepted and parsed") {
    const FieldTable args{{"x-message-ttl", 0},
                          {"x-expires", 1000},
                          {"x-max-length", std::int64_t{3}},
                          {"x-max-length-bytes", 100u},
                          {"x-overflow", "reject-publish-dlx"},
                          {"x-dead-letter-exchange", "dlx"},
                          {"x-dead-letter-routing-key", "dead"},
                          {"x-max-priority", 0},
                          {"x-queue-type", "classic"},
                          {"x-queue-mode", "lazy"},
                          {"x-message-ttl-unknown", "anything"}};
    REQUIRE(refusal(args) == "accepted");
    const QueueArguments a = parse_queue_arguments(args);
    CHECK(a.message_ttl == Duration(0));
    CHECK(a.expires == Duration(1000));
    CHECK(a.max_length == 3u);
    CHECK(a.max_length_bytes == 100u);
    CHECK(a.overflow == Overflow::RejectPublishDlx);
    CHECK(a.dead_letter_exchange == "dlx");
    CHECK(a.dead_letter_routing_key == "dead");
    CHECK(a.priority_queue);
    CHECK(a.max_priority == 0);
    CHECK(refusal({{"x-message-ttl", std::int64_t{4294967296}}}) == "accepted");
}

TEST_CASE("expiration parses as Erlang's string:to_integer, with RabbitMQ's refusals") {
    CHECK(parse_expiration("0").ttl == Duration(0));
    CHECK(parse_expiration("+5").ttl == Duration(5));
    CHECK(parse_expiration("315360000000").ttl == Duration(315360000000));
    CHECK(parse_expiration("abc").error == "invalid expiration 'abc': no_integer");
    CHECK(parse_expiration("").error == "invalid expiration '': no_integer");
    CHECK(parse_expiration(" 5").error == "invalid expiration ' 5': no_integer");
    CHECK(parse_expiration("-1").error == "invalid expiration '-1': {value_negative,-1}");
    CHECK(parse_expiration("1.5").error == "invalid expiration '1.5': {leftover_string,\".5\"}");
    CHECK(parse_expiration("10x").error == "invalid expiration '10x': {leftover_string,\"x\"}");
    CHECK(parse_expiration("315360000001").error ==
          "invalid expiration '315360000001': {value_too_large,315360000001}");
}
