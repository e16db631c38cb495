// Broker::open_data_dir: a broker opened on a data directory has what a restart of the broker
// that wrote it leaves (Broker::restart, itself checked against RabbitMQ 3.10.8), also when
// the writer stopped at any point after a sync_data (a copy of the journal taken then is what
// a killed process leaves); a damaged journal is read up to the damage.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include <fmt/ostream.h>

#include "broker_harness.hpp"
#include "journal.hpp"

using namespace warren;
using namespace warren::test;
namespace fs = std::filesystem;

namespace {

using Bodies = std::vector<std::string>;

/// A directory of its own under the system's temporary directory, removed afterwards.
class TempDir {
public:
    TempDir() {
        static std::mt19937_64 random{std::random_device{}()};
        path_ = fs::temp_directory_path() / ("warren-data-dir-test-" + std::to_string(random()));
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }
    std::string operator/(const std::string& sub) const { return (path_ / sub).string(); }

private:
    fs::path path_;
};

/// What a killed process leaves: the journal as it is on disk now.
void copy_journal(const std::string& from, const std::string& to) {
    fs::create_directories(to);
    fs::copy_file(fs::path(from) / "warren.journal", fs::path(to) / "warren.journal",
                  fs::copy_options::overwrite_existing);
}

BasicProperties persistent(std::optional<std::uint8_t> priority = std::nullopt) {
    return {.delivery_mode = 2, .priority = priority};
}

/// Topology, messages in every state, on the classic and quorum types.
void play(Harness& h) {
    auto& c = h.connect();
    auto ch = h.channel(c);
    h.declare_exchange(ch, "dx", "topic", {.durable = true, .arguments = {{"alternate-exchange", "ae"}}});
    h.declare_exchange(ch, "ae", "fanout", {.durable = true});
    h.declare_exchange(ch, "tx", "direct");
    h.declare_exchange(ch, "hx", "headers", {.durable = true, .internal = true});
    REQUIRE(h.methods.exchange_bind(ch, {"hx", "dx", "h.#", {}}).ok());
    h.declare_queue(ch, "dq", {.durable = true, .arguments = {{"x-max-length", std::int64_t{100}}}});
    h.declare_queue(ch, "tq");
    h.declare_queue(ch, "pq", {.durable = true, .arguments = {{"x-max-priority", 5}}});
    h.declare_queue(ch, "qq", {.durable = true, .arguments = {{"x-queue-type", "quorum"}}});
    h.declare_queue(ch, "gone", {.durable = true});
    h.bind(ch, "dq", "dx", "a.*");
    h.bind(ch, "dq", "tx", "k");
    h.bind(ch, "pq", "ae", "");
    h.bind(ch, "gone", "dx", "#");
    h.bind(ch, "qq", "hx", "", {{"x-match", "any"}, {"kind", "q"}});
    FieldTable headers{{"kind", "q"}, {"n", std::int64_t{7}}, {"f", 1.5}};
    h.publish(ch, "dx", "a.1", "p1", persistent());
    h.publish(ch, "dx", "a.2", "t1", {.delivery_mode = 1});
    h.publish(ch, "dx", "a.3", "p2", {.content_type = "text/plain", .headers = headers, .delivery_mode = 2});
    h.publish(ch, "dx", "zz", "to-ae", persistent(3));
    h.publish(ch, "", "pq", "x5", persistent(5));
    h.publish(ch, "", "pq", "x1", persistent(1));
    h.publish(ch, "dx", "h.1", "q-p", {.headers = {{"kind", "q"}}, .delivery_mode = 2});
    h.publish(ch, "dx", "h.2", "q-t", {.headers = {{"kind", "q"}}});
    h.publish(ch, "", "qq", "q3", persistent());
    h.publish(ch, "", "tq", "tq-p", persistent());
    REQUIRE(h.methods.queue_delete(ch, {"gone", false, false}).ok());
    // A consumer holds p1 and q-p; q-t was taken and returned once; p2 is acknowledged.
    auto& other = h.connect();
    auto cch = h.channel(other);
    REQUIRE(h.methods.basic_qos(cch, {0, 1, false}).ok());
    h.consume(cch, "dq", "c");
    auto got = h.get(cch, "qq");
    REQUIRE(got);
    REQUIRE(h.methods.basic_reject(cch, got->delivery_tag, true).ok());
    auto held = h.get(cch, "qq");
    REQUIRE(held);
    REQUIRE(held->message->body() == "q-t");
    // Settle p1 (the consumer's first delivery) and take p2 in its place.
    auto deliveries = other.sink.take_deliveries();
    REQUIRE(deliveries.size() == 1);
    REQUIRE(h.methods.basic_ack(cch, deliveries[0].tag, false).ok());
}

/// Everything a client can see of a broker's durable state, as text, taking every message
/// out of every queue.
std::string describe(Harness& h) {
    std::string out;
    for (const auto& v : h.broker.vhost_infos()) out += "vhost " + v.name + " " + v.description + "\n";
    for (const auto& u : h.broker.users()) out += "user " + u.name + "\n";
    for (const auto& p : h.broker.permissions())
        out += "perm " + p.user + "@" + p.vhost + " " + p.configure + " " + p.write + " " + p.read + "\n";
    for (const auto& x : h.broker.exchanges())
        out += fmt::format("exchange {} {} {} {} {} {}\n", x.name, x.type, x.durable, x.auto_delete, x.internal,
                           x.arguments.size());
    for (const auto& b : h.broker.bindings())
        out += fmt::format("binding {} -> {} {} ({} args)\n", b.source, b.destination, b.routing_key, b.arguments.size());
    auto& c = h.connect();
    auto ch = h.channel(c);
    for (const auto& q : h.broker.queues()) {
        out += fmt::format("queue {} {} {} ready={} unacked={}\n", q.name, q.type, q.durable, q.messages_ready,
                           q.messages_unacknowledged);
        while (auto got = h.get(ch, q.name, true)) {
            const Message m = got->message->to_message();
            out += fmt::format("  {}{} rk={} ex={} prio={} props={}\n", m.body, got->redelivered ? "*" : "",
                               got->message->routing_key(), got->message->exchange(),
                               m.properties.priority.value_or(0), fmt::streamed(m.properties));
        }
    }
    return out;
}

}  // namespace

TEST_CASE("data dir: a broker opened on it has what a restart leaves") {
    TempDir dir;
    Harness reference;
    play(reference);
    reference.broker.restart();
    {
        Harness writer;
        REQUIRE(writer.broker.open_data_dir(dir / "d").warnings.empty());
        play(writer);
        writer.broker.restart();
        writer.broker.sync_data();
    }
    Harness reader;
    const DataDirReport report = reader.broker.open_data_dir(dir / "d");
    CHECK(report.warnings.empty());
    CHECK(report.queues == 3);
    CHECK(report.exchanges == 3);
    const std::string expected = describe(reference);
    CHECK(expected.find("p1") == std::string::npos);  // acknowledged
    CHECK(describe(reader) == expected);
}

TEST_CASE("data dir: a process killed after a sync leaves what a restart leaves") {
    TempDir dir;
    Harness reference;
    play(reference);
    reference.broker.restart();
    Harness writer;
    writer.broker.open_data_dir(dir / "d");
    play(writer);
    writer.broker.sync_data();
    copy_journal(dir / "d", dir / "killed");
    Harness reader;
    CHECK(reader.broker.open_data_dir(dir / "killed").warnings.empty());
    CHECK(describe(reader) == describe(reference));
}

TEST_CASE("data dir: what was not synced is not there, what was synced is") {
    TempDir dir;
    Harness writer;
    writer.broker.open_data_dir(dir / "d");
    auto& c = writer.connect();
    auto ch = writer.channel(c);
    writer.declare_queue(ch, "q", {.durable = true});
    writer.publish(ch, "", "q", "one", persistent());
    CHECK(writer.broker.data_pending());
    writer.broker.sync_data();
    CHECK_FALSE(writer.broker.data_pending());
    writer.publish(ch, "", "q", "two", persistent());
    copy_journal(dir / "d", dir / "killed");
    Harness reader;
    reader.broker.open_data_dir(dir / "killed");
    auto rch = reader.channel(reader.connect());
    CHECK(drain(reader, rch, "q") == Bodies{"one"});
}

TEST_CASE("data dir: vhosts, users and permissions are kept; a deleted vhost takes its queues") {
    TempDir dir;
    {
        Harness writer;
        writer.broker.open_data_dir(dir / "d");
        writer.broker.add_vhost(VHostInfo{"v1", "first", {"t"}}, "guest");
        writer.broker.add_vhost("v2");
        writer.broker.add_user(BrokerUser{"ann", "secret", {"monitoring"}});
        writer.broker.set_permissions(PermissionInfo{"ann", "v1", "^a", "^b", "^c"});
        auto ch = writer.channel(writer.connect("v2"));
        REQUIRE(writer.methods.queue_declare(ch, {.queue = "in-v2", .durable = true}).ok());
        writer.broker.delete_vhost("v2");
        writer.broker.add_vhost("v2");
    }
    Harness reader;
    reader.broker.open_data_dir(dir / "d");
    CHECK(reader.broker.vhosts() == std::vector<std::string>{"/", "v1", "v2"});
    CHECK(reader.broker.vhost_infos()[1].description == "first");
    CHECK(reader.broker.authenticate("ann", "secret"));
    CHECK_FALSE(reader.broker.authenticate("ann", "guess"));
    CHECK(reader.broker.permissions("v1").size() == 2);
    CHECK(reader.broker.queues("v2").empty());
    CHECK(reader.broker.exchange("v2", "amq.topic").has_value());
}

TEST_CASE("data dir: a message's TTL runs on across the restart") {
    TempDir dir;
    {
        Harness writer;
        writer.broker.open_data_dir(dir / "d");
        auto ch = writer.channel(writer.connect());
        writer.declare_queue(ch, "ttl", {.durable = true, .arguments = {{"x-message-ttl", 1000}}});
        writer.publish(ch, "", "ttl", "short", persistent());
        writer.broker.advance(Duration{600});
        writer.publish(ch, "", "ttl", "later", persistent());
    }
    Harness reader;  // its clock starts where the writer's did
    reader.broker.open_data_dir(dir / "d");
    CHECK(reader.ready("ttl") == 2);
    reader.broker.advance(Duration{1000});
    CHECK(reader.ready("ttl") == 1);
    reader.broker.advance(Duration{600});
    CHECK(reader.ready("ttl") == 0);
}

TEST_CASE("data dir: quorum deliveries held at a kill come back counted, as a restart returns them") {
    TempDir dir;
    Harness reference;
    Harness writer;
    writer.broker.open_data_dir(dir / "d");
    for (Harness* h : {&reference, &writer}) {
        auto ch = h->channel(h->connect());
        h->declare_queue(ch, "qq", {.durable = true, .arguments = {{"x-queue-type", "quorum"}, {"x-delivery-limit", 1}}});
        for (const char* b : {"a", "b", "c"}) h->publish(ch, "", "qq", b);
        REQUIRE(h->get(ch, "qq"));
        REQUIRE(h->get(ch, "qq"));
    }
    writer.broker.sync_data();
    copy_journal(dir / "d", dir / "killed");
    reference.broker.restart();
    Harness reader;
    reader.broker.open_data_dir(dir / "killed");
    CHECK(describe(reader) == describe(reference));
}

TEST_CASE("data dir: the journal is compacted as it grows and stays right") {
    TempDir dir;
    Harness writer;
    writer.broker.open_data_dir(dir / "d", DataDirOptions{.fsync = false, .compact_min_bytes = 4096});
    auto ch = writer.channel(writer.connect());
    writer.declare_queue(ch, "q", {.durable = true});
    const std::string body(200, 'x');
    for (int i = 0; i < 500; ++i) {
        writer.publish(ch, "", "q", body + std::to_string(i), persistent());
        auto got = writer.get(ch, "q");
        REQUIRE(got);
        REQUIRE(writer.methods.basic_ack(ch, got->delivery_tag, false).ok());
        writer.broker.sync_data();
    }
    writer.publish(ch, "", "q", "last", persistent());
    writer.broker.sync_data();
    CHECK(fs::file_size(fs::path(dir / "d") / "warren.journal") < 3 * 4096);
    copy_journal(dir / "d", dir / "killed");
    Harness reader;
    reader.broker.open_data_dir(dir / "killed");
    auto rch = reader.channel(reader.connect());
    CHECK(drain(reader, rch, "q") == Bodies{"last"});
}

TEST_CASE("data dir: a damaged journal is read up to the damage, with a warning") {
    TempDir dir;
    {
        Harness writer;
        writer.broker.open_data_dir(dir / "d", DataDirOptions{.fsync = false});
        auto ch = writer.channel(writer.connect());
        writer.declare_queue(ch, "q", {.durable = true});
        writer.broker.sync_data();
        for (const char* b : {"m1", "m2", "m3"}) {
            writer.publish(ch, "", "q", b, persistent());
            writer.broker.sync_data();
        }
    }
    const fs::path journal = fs::path(dir / "d") / "warren.journal";
    const auto size = fs::file_size(journal);
    const auto bodies_after = [&](auto damage) {
        TempDir copy;
        fs::copy_file(journal, copy.path() / "warren.journal");
        damage(copy.path() / "warren.journal");
        Harness reader;
        const DataDirReport report = reader.broker.open_data_dir(copy.path().string());
        auto ch = reader.channel(reader.connect());
        Bodies bodies = reader.has_queue("q") ? drain(reader, ch, "q") : Bodies{};
        // The broker goes on: the journal was rewritten without the damage.
        reader.publish(ch, "", "q", "after", persistent());
        return std::pair{report.warnings, bodies};
    };
    SECTION("the last record cut short") {
        auto [warnings, bodies] = bodies_after([&](const fs::path& p) { fs::resize_file(p, size - 3); });
        REQUIRE(warnings.size() == 1);
        CHECK_THAT(warnings[0], Catch::Contains("a record cut short") && Catch::Contains("skipped"));
        CHECK(bodies == Bodies{"m1", "m2"});
    }
    SECTION("a flipped byte in the last record") {
        auto [warnings, bodies] = bodies_after([&](const fs::path& p) {
            std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
            f.seekg(static_cast<std::streamoff>(size - 4));
            char b = 0;
            f.read(&b, 1);
            f.seekp(static_cast<std::streamoff>(size - 4));
            b = static_cast<char>(b ^ 0x10);
            f.write(&b, 1);
        });
        REQUIRE(warnings.size() == 1);
        CHECK_THAT(warnings[0], Catch::Contains("checksum"));
        CHECK(bodies == Bodies{"m1", "m2"});
    }
    SECTION("a length made huge") {
        auto [warnings, bodies] = bodies_after([&](const fs::path& p) {
            std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(8);
            f.write("\xff\xff\xff\xff", 4);
        });
        REQUIRE(warnings.size() == 1);
        CHECK_THAT(warnings[0], Catch::Contains("record length"));
        CHECK(bodies.empty());
    }
    SECTION("every prefix of the file opens") {
        for (std::uintmax_t cut = 0; cut < size; cut += 7) {
            auto [warnings, bodies] = bodies_after([&](const fs::path& p) { fs::resize_file(p, cut); });
            CHECK(bodies.size() <= 3);
        }
    }
}

/// The file descriptors this process has open (the directory listing's own included).
std::size_t open_fds() {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator{}));
}

// The fuzz campaign's journal target ran out of descriptors after 20,000 inputs: every rewrite
// of the journal (at each open, and each compaction) left the new file's descriptor open.
TEST_CASE("data dir: opening, compacting and closing leave no file descriptor open") {
    TempDir dir;
    const std::size_t before = open_fds();
    for (int round = 0; round < 5; ++round) {
        Harness h;
        h.broker.open_data_dir(dir / "d", DataDirOptions{.fsync = false, .compact_min_bytes = 1024});
        auto ch = h.channel(h.connect());
        h.declare_queue(ch, "q", {.durable = true});
        for (int i = 0; i < 50; ++i) {
            h.publish(ch, "", "q", std::string(100, 'x'), persistent());
            auto got = h.get(ch, "q");
            REQUIRE(got);
            REQUIRE(h.methods.basic_ack(ch, got->delivery_tag, false).ok());
            h.broker.sync_data();  // compacts once half the file is dead records
        }
    }
    {
        // A damaged tail, kept aside as warren.journal.bad-1.
        std::ofstream(fs::path(dir / "d") / "warren.journal", std::ios::app | std::ios::binary) << "\x01\x02";
        Harness h;
        REQUIRE(h.broker.open_data_dir(dir / "d").warnings.size() == 1);
    }
    CHECK(fs::exists(fs::path(dir / "d") / "warren.journal.bad-1"));
    CHECK(open_fds() == before);
}

TEST_CASE("data dir: refused when it is not a journal or is in use") {
    TempDir dir;
    fs::create_directories(dir / "foreign");
    std::ofstream(dir / "foreign/warren.journal") << "not a journal at all";
    Harness h;
    // A refusal leaves no descriptor open: not the lock file's, not the journal's.
    const std::size_t fds = open_fds();
    CHECK_THROWS_WITH(h.broker.open_data_dir(dir / "foreign"), Catch::Contains("is not a warren journal"));
    CHECK(open_fds() == fds);
    Harness first;
    first.broker.open_data_dir(dir / "d");
    const std::size_t fds_first = open_fds();
    Harness second;
    CHECK_THROWS_WITH(second.broker.open_data_dir(dir / "d"), Catch::Contains("in use by another process"));
    CHECK(open_fds() == fds_first);
    CHECK_THROWS_AS(first.broker.open_data_dir(dir / "other"), std::logic_error);
}

TEST_CASE("data dir: a journal whose queues were drained is compacted at the next sync") {
    TempDir dir;
    const DataDirOptions options{.fsync = false, .compact_min_bytes = 4096};
    const std::string body(1000, 'x');
    {
        Harness writer;
        writer.broker.open_data_dir(dir / "d", options);
        auto ch = writer.channel(writer.connect());
        writer.declare_queue(ch, "q", {.durable = true});
        for (int i = 0; i < 3000; ++i) writer.publish(ch, "", "q", body, persistent());
    }
    // Opened again: the journal was just rewritten holding every message.
    Harness h;
    h.broker.open_data_dir(dir / "d", options);
    const auto journal = fs::path(dir / "d") / "warren.journal";
    CHECK(fs::file_size(journal) > 3000 * 1000);
    auto ch = h.channel(h.connect());
    while (auto got = h.get(ch, "q")) REQUIRE(h.methods.basic_ack(ch, got->delivery_tag, false).ok());
    h.broker.sync_data();
    CHECK(fs::file_size(journal) < 64 * 1024);
}

namespace {

/// A stream with small segments and a byte limit: two writers, a reader attaching when a
/// segment is full (a tracking snapshot of its own), retention dropping segments, time moving.
void play_stream(Harness& h, int from, int to) {
    auto& c = h.connect();
    auto a = h.channel(c);
    auto b = h.channel(c);
    h.declare_queue(a, "s", {.durable = true,
                             .arguments = {{"x-queue-type", "stream"},
                                           {"x-stream-max-segment-size-bytes", 400},
                                           {"x-max-length-bytes", 1500}}});
    for (int i = from; i < to; ++i) {
        h.publish(i % 3 == 0 ? b : a, "", "s", fmt::format("m{}", i),
                  {.headers = {{"n", std::int64_t{i}}, {"tag", "t"}}, .delivery_mode = std::uint8_t(1 + i % 2)});
        h.broker.advance(Duration{250});
        if (i % 7 == 6) {
            auto r = h.channel(c);
            REQUIRE(h.methods.basic_qos(r, {0, 1, false}).ok());
            h.consume(r, "s", "", false, {{"x-stream-offset", "next"}});
        }
    }
}

/// Each message a reader from "first" gets (offset, body, headers), the counts, then the
/// same after a new channel publishes three more (which rolls a segment and applies
/// retention).
std::string describe_stream(Harness& h) {
    std::string out;
    auto read = [&] {
        auto& c = h.connect();
        auto r = h.channel(c);
        REQUIRE(h.methods.basic_qos(r, {0, 1000, false}).ok());
        h.consume(r, "s", "", false, {{"x-stream-offset", "first"}});
        for (const auto& d : c.sink.take_deliveries())
            out += fmt::format("{} {} {}\n", d.message.body, d.message.properties.delivery_mode.value_or(0),
                               fmt::streamed(d.message.properties.headers));
        const auto q = h.broker.queue("/", "s");
        REQUIRE(q);
        out += fmt::format("ready={}\n", q->messages_ready);
    };
    read();
    auto ch = h.channel(h.connect());
    for (int i = 0; i < 3; ++i) h.publish(ch, "", "s", fmt::format("after{}", i));
    read();
    return out;
}

}  // namespace

TEST_CASE("data dir: a stream keeps its messages, offsets, segments and writers across a restart") {
    TempDir dir;
    Harness reference;
    play_stream(reference, 0, 20);
    reference.broker.restart();
    play_stream(reference, 20, 30);
    reference.broker.restart();
    {
        Harness writer;
        REQUIRE(writer.broker.open_data_dir(dir / "d").warnings.empty());
        play_stream(writer, 0, 20);
    }
    {
        // The second opening starts from the compaction the first closing left: the layout
        // and the entries, then what is appended after it.
        Harness writer;
        const DataDirReport report = writer.broker.open_data_dir(dir / "d");
        REQUIRE(report.warnings.empty());
        writer.broker.advance(Duration{20 * 250});  // where the first writer's clock stopped
        play_stream(writer, 20, 30);
        writer.broker.sync_data();
        copy_journal(dir / "d", dir / "killed");
    }
    Harness reader;
    REQUIRE(reader.broker.open_data_dir(dir / "killed").warnings.empty());
    const std::string expected = describe_stream(reference);
    // Retention has dropped the first messages and kept the later ones.
    CHECK(expected.find("m0 ") == std::string::npos);
    CHECK(expected.find("x-stream-offset") != std::string::npos);
    CHECK(expected.find("m29 ") != std::string::npos);
    CHECK(describe_stream(reader) == expected);
}

TEST_CASE("data dir: what retention drops from a stream is compacted away") {
    TempDir dir;
    Harness writer;
    writer.broker.open_data_dir(dir / "d", DataDirOptions{.fsync = false, .compact_min_bytes = 4096});
    auto ch = writer.channel(writer.connect());
    writer.declare_queue(ch, "s", {.durable = true,
                                   .arguments = {{"x-queue-type", "stream"},
                                                 {"x-stream-max-segment-size-bytes", 1000},
                                                 {"x-max-length-bytes", 2000}}});
    const std::string body(200, 'x');
    for (int i = 0; i < 500; ++i) {
        writer.publish(ch, "", "s", body + std::to_string(i));
        writer.broker.sync_data();
    }
    CHECK(fs::file_size(fs::path(dir / "d") / "warren.journal") < 3 * 4096);
    copy_journal(dir / "d", dir / "killed");
    Harness reader;
    REQUIRE(reader.broker.open_data_dir(dir / "killed").warnings.empty());
    CHECK(reader.broker.queue("/", "s")->messages_ready == writer.broker.queue("/", "s")->messages_ready);
    CHECK(describe_stream(reader) == describe_stream(writer));
}
