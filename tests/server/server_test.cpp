// warren-server over real sockets: a scripted client on an ephemeral port. The codes and texts
// asserted here are what RabbitMQ 3.10.8 sends for the same bytes (checked with the same
// probes against it).
#include <ifaddrs.h>
#include <net/if.h>

#include "raw_client.hpp"

namespace warren::test {
namespace {

p::QueueDeclare declare_queue(std::string name, FieldTable arguments = {}) {
    p::QueueDeclare d;
    d.queue = std::move(name);
    d.arguments = std::move(arguments);
    return d;
}

p::BasicGet get_from(std::string queue, bool no_ack = true) {
    p::BasicGet g;
    g.queue = std::move(queue);
    g.no_ack = no_ack;
    return g;
}

p::BasicConsume consume_from(std::string queue, std::string tag, bool no_ack = false) {
    p::BasicConsume c;
    c.queue = std::move(queue);
    c.consumer_tag = std::move(tag);
    c.no_ack = no_ack;
    return c;
}

// Pieces of a content header's property list, written by hand: warren's encoder cannot write
// what these tests send (an unsigned 64-bit 'L', a repeated key, a boolean octet of 2).
std::string be(std::uint64_t v, int bytes) {
    std::string out;
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return out;
}
std::string key(std::string_view k) { return static_cast<char>(k.size()) + std::string(k); }
std::string long_bytes(std::string_view content) { return be(content.size(), 4) + std::string(content); }
std::string unsigned_long(std::uint64_t v) { return "L" + be(v, 8); }

p::Bytes bytes_of(std::string_view s) { return p::Bytes(s.begin(), s.end()); }
bool contains(const p::Bytes& haystack, std::string_view needle) {
    return p::as_chars(haystack).find(needle) != std::string_view::npos;
}

/// A local IPv4 address that is not loopback, or "" when the machine has none.
std::string non_loopback_address() {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return "";
    std::string found;
    for (ifaddrs* a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || (a->ifa_flags & IFF_LOOPBACK)) continue;
        if (!(a->ifa_flags & IFF_UP)) continue;
        char text[INET_ADDRSTRLEN];
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text, sizeof text);
        found = text;
        break;
    }
    ::freeifaddrs(list);
    return found;
}

}  // namespace

TEST_CASE("handshake, declare, publish and get over a socket") {
    RunningServer server;
    RawClient c(server.port());
    const auto tune = c.handshake();
    CHECK(tune.channel_max == 2047);
    CHECK(tune.frame_max == 131072);
    CHECK(tune.heartbeat == 60);
    c.open_channel(1);
    c.send(1, declare_queue("q"));
    const auto ok = c.expect<p::QueueDeclareOk>(1);
    CHECK(ok.queue == "q");
    CHECK(ok.message_count == 0);
    BasicProperties props;
    props.content_type = "text/plain";
    props.headers = FieldTable{{"k", "v"}};
    c.publish(1, "", "q", "hello", props);
    c.send(1, get_from("q"));
    const auto got = c.expect_content<p::BasicGetOk>(1);
    CHECK(got.body == "hello");
    CHECK(got.properties == props);
    CHECK(got.method.routing_key == "q");
    CHECK(got.method.message_count == 0);
    c.send(1, get_from("q"));
    c.expect<p::BasicGetEmpty>(1);
    c.close();
    CHECK(server.logged("user 'guest' authenticated and granted access to vhost '/'"));
    CHECK(server.eventually([&] { return server.call([&] { return server.server().sessions().empty(); }); }));
}

TEST_CASE("a definitions file (--definitions) loads a RabbitMQ export before the server accepts connections") {
    auto options = test_server_options();
    options.definitions_file = WARREN_DEFINITIONS_FIXTURES "/rabbitmq-3.10.8.json";
    RunningServer server(options);
    CHECK(server.call([&] { return server.server().broker().queue("shop", "payments").has_value(); }));
    CHECK(server.logged("imported definitions from"));
    // The imported user logs in to the imported vhost with the password behind its hash.
    RawClient c(server.port());
    HandshakeOptions login;
    login.user = "orders-service";
    login.password = "s3cret";
    login.vhost = "shop";
    c.handshake(login);
    c.open_channel(1);
    auto passive = declare_queue("payments");
    passive.passive = true;
    c.send(1, passive);
    CHECK(c.expect<p::QueueDeclareOk>(1).queue == "payments");
    c.close();

    options.definitions_file = WARREN_DEFINITIONS_FIXTURES "/no-such-file.json";
    CHECK_THROWS_WITH(RunningServer(options), Catch::Contains("cannot read the file"));
}

TEST_CASE("after its close the server drops a client that never hangs up") {
    RunningServer server;
    RawClient c(server.port());
    c.handshake();
    c.send(0, p::ConnectionClose{200, "bye", 0, 0});
    c.expect<p::ConnectionCloseOk>(0);
    CHECK(c.closed_by_peer());
    // This client never sends its FIN. About time itself (the server lingers for the FIN a
    // second of real time): the session goes when the linger ends.
    CHECK(server.eventually([&] { return server.call([&] { return server.server().sessions().empty(); }); }));
}

TEST_CASE("a body larger than frame_max arrives in several body frames") {
    RunningServer server;
    RawClient c(server.port());
    HandshakeOptions o;
    o.frame_max = 4096;
    c.handshake(o);
    c.open_channel(1);
    c.send(1, declare_queue("big"));
    c.expect<p::QueueDeclareOk>(1);
    const std::string body(20000, 'x');
    c.publish(1, "", "big", body);
    c.send(1, get_from("big"));
    CHECK(c.expect_content<p::BasicGetOk>(1).body == body);
}

TEST_CASE("a wrong protocol header gets the supported one back and the socket closed") {
    RunningServer server;
    RawClient c(server.port());
    c.send_bytes(std::string_view("AMQP\x00\x00\x08\x00", 8));
    CHECK(c.read_bytes(8) == std::string_view("AMQP\x00\x00\x09\x01", 8));
    CHECK(c.closed_by_peer());
    check_still_serving(server.port());
}

TEST_CASE("a bad password is refused with 403 when the client asks to be told") {
    RunningServer server;
    RawClient c(server.port());
    HandshakeOptions o;
    o.password = "wrong";
    c.start(o);
    c.expect_close(403,
                   "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see "
                   "the broker logfile.");
    CHECK(server.logged("PLAIN login refused: user 'guest' - invalid credentials"));

    // Without authentication_failure_close RabbitMQ just drops the socket.
    RawClient quiet(server.port());
    o.capabilities = FieldTable{};
    quiet.start(o);
    CHECK(quiet.closed_by_peer());
    check_still_serving(server.port());
}

TEST_CASE("guest may connect only from loopback") {
    const std::string address = non_loopback_address();
    if (address.empty()) {
        WARN("no non-loopback IPv4 address on this machine: skipped");
        return;
    }
    auto options = test_server_options();
    options.bind_address = "0.0.0.0";
    options.users = {{"guest", "guest"}, {"remote", "secret"}};
    RunningServer server(options);
    {
        RawClient c(server.port(), address);
        c.start();
        c.expect_close(403,
                       "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details "
                       "see the broker logfile.");
        CHECK(server.logged("user 'guest' can only connect via localhost"));
    }
    {
        RawClient c(server.port(), address);
        HandshakeOptions o;
        o.user = "remote";
        o.password = "secret";
        c.handshake(o);
        c.close();
    }
    check_still_serving(server.port());
}

TEST_CASE("an unknown vhost is refused with 530") {
    RunningServer server;
    RawClient c(server.port());
    HandshakeOptions o;
    o.vhost = "nope";
    c.start(o);
    c.expect<p::ConnectionTune>(0);
    c.finish_handshake(o);
    c.expect_close(530, "NOT_ALLOWED - vhost nope not found", {10, 40});
    check_still_serving(server.port());
}

TEST_CASE("a frame with a bad frame-end octet is a 501 FRAME_ERROR") {
    RunningServer server;
    RawClient c(server.port());
    c.handshake();
    c.open_channel(1);
    // A method frame (basic.qos's ids only) whose end octet is 0 instead of 0xCE.
    c.send_bytes(std::string_view("\x01\x00\x01\x00\x00\x00\x04\x00\x3c\x00\x0a\x00", 12));
    c.expect_close(501, "FRAME_ERROR - type 1, all octets = <<0,60,0,10>>: {invalid_frame_end_marker,0}");
    check_still_serving(server.port());
}

TEST_CASE("a frame larger than frame_max is a 501 FRAME_ERROR") {
    RunningServer server;
    RawClient c(server.port());
    c.handshake();
    c.open_channel(1);
    // A method frame announcing 200000 bytes with frame_max 131072.
    c.send_bytes(std::string_view("\x01\x00\x01\x00\x03\x0d\x40xxxx", 11));
    c.expect_close(501, "FRAME_ERROR - type 1, all octets = <<>>: {frame_too_large,200000,131064}");
    check_still_serving(server.port());
}

TEST_CASE("a method on a channel never opened is a 504 CHANNEL_ERROR") {
    RunningServer server;
    RawClient c(server.port());
    c.handshake();
    p::BasicQos qos;
    qos.prefetch_count = 10;
    c.send(5, qos);
    c.expect_close(504, "CHANNEL_ERROR - expected 'channel.open'", {60, 10});
    check_still_serving(server.port());
}

TEST_CASE("a broker refusal closes the channel with RabbitMQ's soft error") {
    RunningServer server;
    RawClient c(server.port());
    c.handshake();
    c.open_channel(1);
    auto passive = declare_queue("missing");
    passive.passive = true;
    c.send(1, passive);
    c.expect_channel_close(1, 404, "NOT_FOUND - no queue 'missing' in vhost '/'", {50, 10});
    // The channel number is free again once close-ok is sent.
    c.open_channel(1);
    c.send(1, declare_queue("present"));
    c.expect<p::QueueDeclareOk>(1);
    // A hard error from the broker closes the connection.
    c.send(1, consume_from("present", "tag"));
    c.expect<p::BasicConsumeOk>(1);
    c.send(1, consume_from("present", "tag"));
    c.expect_close(530, "NOT_ALLOWED - attempt to reuse consumer tag 'tag'", {60, 20});
    check_still_serving(server.port());
}

TEST_CASE("consume-ok goes before the deliveries it starts") {
    RunningServer server;
    RawClient c(server.port());
    c.handshake();
    c.open_channel(1);
    c.send(1, declare_queue("backlog"));
    c.expect<p::QueueDeclareOk>(1);
    for (int i = 0; i < 3; ++i) c.publish(1, "", "backlog", fmt::format("m{}", i));
    c.send(1, consume_from("backlog", "c1"));
    CHECK(c.expect<p::BasicConsumeOk>(1).consumer_tag == "c1");
    for (int i = 0; i < 3; ++i) {
        auto d = c.expect_content<p::BasicDeliver>(1);
        CHECK(d.body == fmt::format("m{}", i));
        CHECK(d.method.delivery_tag == std::uint64_t(i + 1));
        CHECK(d.method.consumer_tag == "c1");
    }
    // basic.recover requeues them: recover-ok first, then the redeliveries.
    c.send(1, p::BasicRecover{true});
    c.expect<p::BasicRecoverOk>(1);
    for (int i = 0; i < 3; ++i) {
        auto d = c.expect_content<p::BasicDeliver>(1);
        CHECK(d.method.redelivered);
    }
    c.send(1, p::BasicAck{0, true});
    c.close();
}

TEST_CASE("publisher confirms and mandatory returns") {
    RunningServer server;
    RawClient c(server.port());
    c.handshake();
    c.open_channel(1);
    c.send(1, p::ConfirmSelect{});
    c.expect<p::ConfirmSelectOk>(1);
    c.send(1, declare_queue("confirmed"));
    c.expect<p::QueueDeclareOk>(1);
    c.publish(1, "", "confirmed", "a");
    CHECK(c.expect<p::BasicAck>(1).delivery_tag == 1);
    c.publish(1, "", "nowhere", "b", {}, /*mandatory=*/true);
    auto returned = c.expect_content<p::BasicReturn>(1);
    CHECK(returned.method.reply_code == 312);
    CHECK(returned.method.reply_text == "NO_ROUTE");
    CHECK(returned.body == "b");
    CHECK(c.expect<p::BasicAck>(1).delivery_tag == 2);
}

// RabbitMQ 3.10.8 keeps a message's properties as published (#content.properties_bin) and sends
// those bytes back in basic.get-ok, basic.deliver and basic.return: an 'L', both entries of a
// repeated key, a 't' octet of 2 and a present but empty headers table all come back as sent
// (probed with these bytes on 3.10.8).
TEST_CASE("published properties come back byte for byte") {
    const std::string headers =
        key("u64") + unsigned_long(0x8000000000000001u) + key("dup") + "I" + be(1, 4) + key("dup") + "I" + be(2, 4) +
        key("bool") + "t\x02" + key("arr") + "A" + long_bytes(unsigned_long(7) + "t\x05") + key("nested") + "F" +
        long_bytes(key("n") + unsigned_long(9) + key("k") + "b\x01" + key("k") + "b\x02");
    // headers and delivery-mode 2.
    const p::Bytes sent = bytes_of(be(0x3000, 2) + long_bytes(headers) + "\x02");
    const p::Bytes empty_table = bytes_of(be(0x2000, 2) + long_bytes(""));

    RunningServer server;
    RawClient c(server.port());
    c.handshake();
    c.open_channel(1);
    c.send(1, declare_queue("verbatim"));
    c.expect<p::QueueDeclareOk>(1);

    c.publish_encoded(1, "", "verbatim", "get", sent);
    c.send(1, get_from("verbatim"));
    auto got = c.expect_content<p::BasicGetOk>(1);
    CHECK(got.encoded_properties == sent);
    CHECK(got.properties.delivery_mode == 2);

    c.publish_encoded(1, "", "verbatim", "empty", empty_table);
    c.send(1, get_from("verbatim"));
    CHECK(c.expect_content<p::BasicGetOk>(1).encoded_properties == empty_table);

    c.publish_encoded(1, "", "nowhere", "returned", sent, /*mandatory=*/true);
    auto returned = c.expect_content<p::BasicReturn>(1);
    CHECK(returned.body == "returned");
    CHECK(returned.encoded_properties == sent);

    c.send(1, consume_from("verbatim", "ct", /*no_ack=*/true));
    c.expect<p::BasicConsumeOk>(1);
    c.publish_encoded(1, "", "verbatim", "delivered", sent);
    auto delivered = c.expect_content<p::BasicDeliver>(1);
    CHECK(delivered.body == "delivered");
    CHECK(delivered.encoded_properties == sent);
    c.close();
}

// Where RabbitMQ changes the properties it re-encodes them (rabbit_binary_generator): the
// parser read 'L' as a signed long, so it goes out as 'l' with the same 64 bits, and a boolean
// as 1. Dead-lettering (rabbit_dead_letter via rabbit_basic:map_headers) and taking out the
// BCC header (rabbit_basic:strip_header) both do; the other headers keep their order, sorted
// by key when dead-lettered (as probed on 3.10.8).
TEST_CASE("properties the broker changes are re-encoded as RabbitMQ re-encodes them") {
    const std::string headers = key("u64") + unsigned_long(0x8000000000000001u) + key("bool") + "t\x02" +
                                key("arr") + "A" + long_bytes(unsigned_long(7) + "t\x05") + key("nested") + "F" +
                                long_bytes(key("n") + unsigned_long(9));
    const std::string bcc = key("BCC") + "A" + long_bytes("S" + long_bytes("copy"));
    const std::string reencoded_u64 = key("u64") + "l" + be(0x8000000000000001u, 8);
    const std::string reencoded_bool = key("bool") + "t\x01";
    const std::string reencoded_arr = key("arr") + "A" + long_bytes("l" + be(7, 8) + "t\x01");
    const std::string reencoded_nested = key("nested") + "F" + long_bytes(key("n") + "l" + be(9, 8));

    RunningServer server;
    RawClient c(server.port());
    c.handshake();
    c.open_channel(1);
    c.send(1, declare_queue("dead"));
    c.expect<p::QueueDeclareOk>(1);
    c.send(1, declare_queue("copy"));
    c.expect<p::QueueDeclareOk>(1);
    c.send(1, declare_queue("doomed", {{"x-dead-letter-exchange", ""}, {"x-dead-letter-routing-key", "dead"}}));
    c.expect<p::QueueDeclareOk>(1);

    SECTION("dead-lettered") {
        c.publish_encoded(1, "", "doomed", "m", bytes_of(be(0x2000, 2) + long_bytes(headers)));
        c.send(1, get_from("doomed", /*no_ack=*/false));
        auto got = c.expect_content<p::BasicGetOk>(1);
        c.send(1, p::BasicReject{got.method.delivery_tag, false});
        c.send(1, get_from("dead"));
        auto dead = c.expect_content<p::BasicGetOk>(1);
        CHECK(dead.body == "m");
        // Sorted: arr, bool, nested, u64, then x-death and x-first-death-*.
        CHECK(contains(dead.encoded_properties, reencoded_arr + reencoded_bool + reencoded_nested + reencoded_u64 +
                                                    key("x-death")));
        p::Bytes canonical;
        REQUIRE_FALSE(p::encode_basic_properties(dead.properties, canonical));
        CHECK(dead.encoded_properties == canonical);
    }
    SECTION("BCC taken out") {
        const p::Bytes expected =
            bytes_of(be(0x2000, 2) + long_bytes(reencoded_u64 + reencoded_bool + reencoded_arr + reencoded_nested));
        c.publish_encoded(1, "", "dead", "m", bytes_of(be(0x2000, 2) + long_bytes(headers + bcc)));
        c.send(1, get_from("dead"));
        CHECK(c.expect_content<p::BasicGetOk>(1).encoded_properties == expected);
        c.send(1, get_from("copy"));
        CHECK(c.expect_content<p::BasicGetOk>(1).encoded_properties == expected);
    }
    c.close();
}

TEST_CASE("basic.cancel reaches only clients with consumer_cancel_notify, after delete-ok") {
    RunningServer server;
    for (bool notify : {true, false}) {
        RawClient c(server.port());
        HandshakeOptions o;
        if (!notify) o.capabilities = FieldTable{{"authentication_failure_close", true}};
        c.handshake(o);
        c.open_channel(1);
        c.send(1, declare_queue("doomed"));
        c.expect<p::QueueDeclareOk>(1);
        c.send(1, consume_from("doomed", "ct"));
        c.expect<p::BasicConsumeOk>(1);
        p::QueueDelete del;
        del.queue = "doomed";
        c.send(1, del);
        c.expect<p::QueueDeleteOk>(1);
        if (notify) {
            const auto cancel = c.expect<p::BasicCancel>(1);
            CHECK(cancel.consumer_tag == "ct");
            CHECK(cancel.no_wait);
        } else {
            // The cancellation would have been written with delete-ok, before qos-ok.
            CHECK(c.nothing_before_round_trip(1));
        }
        c.close();
    }
}

TEST_CASE("transactions buffer publishes and acks until commit") {
    RunningServer server;
    RawClient c(server.port());
    c.handshake();
    c.open_channel(1);
    c.send(1, declare_queue("txq"));
    c.expect<p::QueueDeclareOk>(1);
    c.send(1, p::TxSelect{});
    c.expect<p::TxSelectOk>(1);
    c.publish(1, "", "txq", "one");
    c.send(1, get_from("txq"));
    c.expect<p::BasicGetEmpty>(1);
    c.send(1, p::TxCommit{});
    c.expect<p::TxCommitOk>(1);
    c.publish(1, "", "txq", "rolled back");
    c.send(1, p::TxRollback{});
    c.expect<p::TxRollbackOk>(1);
    // The committed message, taken with an ack that waits for the next commit.
    c.send(1, get_from("txq", /*no_ack=*/false));
    auto got = c.expect_content<p::BasicGetOk>(1);
    CHECK(got.body == "one");
    CHECK(got.method.message_count == 0);
    c.send(1, p::BasicAck{got.method.delivery_tag, false});
    c.send(1, p::TxRollback{});
    c.expect<p::TxRollbackOk>(1);
    c.send(1, p::BasicAck{got.method.delivery_tag, false});
    c.send(1, p::TxCommit{});
    c.expect<p::TxCommitOk>(1);
    CHECK(server.call([&] { return server.server().broker().queue("/", "txq")->messages; }) == 0);

    // rabbit_channel's refusals.
    c.send(1, p::ConfirmSelect{});
    c.expect_channel_close(1, 406, "PRECONDITION_FAILED - cannot switch from tx to confirm mode", {85, 10});
    c.open_channel(2);
    c.send(2, p::ConfirmSelect{});
    c.expect<p::ConfirmSelectOk>(2);
    c.send(2, p::TxSelect{});
    c.expect_channel_close(2, 406, "PRECONDITION_FAILED - cannot switch from confirm to tx mode", {90, 10});
    c.open_channel(3);
    c.send(3, p::TxCommit{});
    c.expect_channel_close(3, 406, "PRECONDITION_FAILED - channel is not transactional", {90, 20});
    c.open_channel(4);
    c.send(4, p::TxRollback{});
    c.expect_channel_close(4, 406, "PRECONDITION_FAILED - channel is not transactional", {90, 30});
    c.close();
}

TEST_CASE("access.request, recover-async and basic.credit as RabbitMQ answers them") {
    RunningServer server;
    RawClient c(server.port());
    c.handshake();
    c.open_channel(1);
    c.send(1, p::AccessRequest{"/data", false, false, true, true, true});
    CHECK(c.expect<p::AccessRequestOk>(1).ticket == 1);
    c.send(1, declare_queue("credit"));
    c.expect<p::QueueDeclareOk>(1);
    c.send(1, consume_from("credit", "ct"));
    c.expect<p::BasicConsumeOk>(1);
    c.send(1, p::BasicCredit{"ct", 5, false});
    CHECK(c.expect<p::BasicCreditOk>(1).available == 0);
    c.send(1, p::BasicCredit{"nope", 5, false});
    c.expect_channel_close(1, 406, "PRECONDITION_FAILED - unknown consumer tag 'nope'", {60, 200});
    c.open_channel(2);
    c.send(2, p::BasicRecoverAsync{false});
    c.expect_close(540, "NOT_IMPLEMENTED - requeue=false", {60, 100});
}

TEST_CASE("a dead peer is found by heartbeats and its unacked messages are requeued") {
    RunningServer server;
    {
        RawClient c(server.port());
        HandshakeOptions o;
        o.heartbeat = 1;
        c.handshake(o);
        c.open_channel(1);
        c.send(1, declare_queue("hb"));
        c.expect<p::QueueDeclareOk>(1);
        c.publish(1, "", "hb", "unacked");
        c.send(1, consume_from("hb", "ct"));
        c.expect<p::BasicConsumeOk>(1);
        CHECK(c.expect_content<p::BasicDeliver>(1).body == "unacked");
        // From now on the client says nothing: two heartbeat intervals later it is dead.
        const auto before = std::chrono::steady_clock::now();
        CHECK(c.closed_by_peer(6000ms));
        const auto waited = std::chrono::steady_clock::now() - before;
        CHECK(waited >= 1500ms);
        CHECK(c.heartbeats_received() >= 1);
    }
    CHECK(server.logged("missed heartbeats from client, timeout: 1s"));
    RawClient c(server.port());
    c.handshake();
    c.open_channel(1);
    c.send(1, get_from("hb"));
    auto got = c.expect_content<p::BasicGetOk>(1);
    CHECK(got.body == "unacked");
    CHECK(got.method.redelivered);
    c.close();
}

TEST_CASE("a client that keeps heartbeating stays connected") {
    RunningServer server;
    RawClient c(server.port());
    HandshakeOptions o;
    o.heartbeat = 1;
    c.handshake(o);
    // About time itself (the server's heartbeat timers run on real time, and this test has no
    // hook into them): three heartbeat intervals in which the client sends only heartbeats, each
    // half an interval apart, and the server neither closes the connection nor sends anything
    // but heartbeats.
    for (int i = 0; i < 6; ++i) {
        CHECK(c.nothing_arrives(500ms));
        c.send_heartbeat();
    }
    // The server's own heartbeats: one each half interval in which it sent nothing else.
    CHECK(c.heartbeats_received() >= 3);
    c.open_channel(1);
    c.close();
}

TEST_CASE("message TTL fires on the broker's timer, with no client activity") {
    RunningServer server;
    RawClient c(server.port());
    c.handshake();
    c.open_channel(1);
    c.send(1, declare_queue("dead"));
    c.expect<p::QueueDeclareOk>(1);
    c.send(1, declare_queue("ttl", FieldTable{{"x-message-ttl", std::int32_t(100)},
                                              {"x-dead-letter-exchange", ""},
                                              {"x-dead-letter-routing-key", "dead"}}));
    c.expect<p::QueueDeclareOk>(1);
    c.send(1, consume_from("dead", "watcher", true));
    c.expect<p::BasicConsumeOk>(1);
    const auto before = std::chrono::steady_clock::now();
    c.publish(1, "", "ttl", "expires");
    auto d = c.expect_content<p::BasicDeliver>(1, 2000ms);
    CHECK(d.body == "expires");
    CHECK(std::chrono::steady_clock::now() - before >= 90ms);
    c.close();
}

TEST_CASE("shutdown closes every connection with 320 CONNECTION_FORCED") {
    RunningServer server;
    RawClient a(server.port());
    a.handshake();
    a.open_channel(1);
    RawClient b(server.port());
    b.handshake();
    RawClient handshaking(server.port());
    handshaking.send_bytes(std::string_view("AMQP\x00\x00\x09\x01", 8));
    handshaking.expect<p::ConnectionStart>(0);
    std::promise<void> done;
    server.call([&] {
        server.server().shutdown([&] { done.set_value(); });
        return 0;
    });
    a.expect_close(320, "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'");
    b.expect_close(320, "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'");
    CHECK(handshaking.closed_by_peer());
    handshaking.hang_up();
    // Every client has hung up, so their sessions end without waiting out the grace period.
    CHECK(done.get_future().wait_for(3s) == std::future_status::ready);
}

}  // namespace warren::test
