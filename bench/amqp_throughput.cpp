// warren-amqp-bench: an AMQP 0-9-1 broker's throughput, as rabbitmq-c (directly, not warren's
// facade) sees it. The same program measures warren-server and RabbitMQ; bench/compare_server.sh
// runs it against both and prints the ratios.
//
//   warren-amqp-bench --url amqp://guest:guest@127.0.0.1:5672/%2f
//       [--publishers N] [--consumers N] [--seconds S] [--sizes 100,4096]
//       [--modes plain,confirm,persistent]
//       [--max-mb MB] [--window N] [--prefetch N] [--connects N] [--idle N] [--server-pid PID]
//
// Each figure, per body size and mode, on a fresh non-durable queue of its own:
//   publish  N publishers (a connection each) publish transient messages to the default exchange
//            for --seconds (or until --max-mb of bodies); "plain" publishes without confirms and
//            the figure's clock stops when the queue holds every message, "confirm" keeps up to
//            --window unconfirmed messages in flight and stops when the last one is confirmed;
//            "persistent" is "confirm" with persistent messages (delivery mode 2) to a durable
//            queue, which a broker confirms once the message is on disk (warren-server with
//            --data-dir).
//   consume  N consumers (a connection each) drain that queue: "plain" with no-ack, "confirm"
//            with manual acks (one basic.ack per message) and prefetch --prefetch.
// Before those: connection set-up (TCP connect, AMQP handshake, login, channel.open), --connects
// times in a row, and --idle connections (each with a channel open) held at once for a second,
// with the resident memory of --server-pid before and after.
//
// Each throughput figure also says how many cores this program (client_cpu, all its threads) and,
// with --server-pid, the broker (server_cpu) used while it ran: a client_cpu near 1 per client
// with a low server_cpu means the figure measures the client, not the broker.
//
// Output: one line per figure, as key=value words after the figure's name.
#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "amqp_bench_support.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Options {
    std::string url;
    int publishers = 1;
    int consumers = 1;
    double seconds = 2.0;
    std::vector<std::size_t> sizes{100, 4096};
    std::vector<std::string> modes{"plain", "confirm"};
    std::size_t max_mb = 256;
    int window = 256;
    int prefetch = 1000;
    int connects = 200;
    int idle = 1000;
    long server_pid = 0;
};

struct Target {
    std::string host;
    int port = 5672;
    std::string vhost;
    std::string user;
    std::string password;
};

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "warren-amqp-bench: %s\n", what.c_str());
    std::exit(1);
}

Target parse_url(const std::string& url) {
    std::vector<char> text(url.begin(), url.end());
    text.push_back('\0');
    amqp_connection_info info{};
    amqp_default_connection_info(&info);
    if (amqp_parse_url(text.data(), &info) != AMQP_STATUS_OK) die("cannot parse URL " + url);
    return {info.host, info.port, info.vhost, info.user, info.password};
}

using warren::bench::reply_text;

void check(amqp_connection_state_t conn, const char* what) {
    auto reply = amqp_get_rpc_reply(conn);
    if (reply.reply_type != AMQP_RESPONSE_NORMAL) die(fmt::format("{}: {}", what, reply_text(reply)));
}

void check_status(int status, const char* what) {
    if (status < 0) die(fmt::format("{}: {}", what, amqp_error_string2(status)));
}

/// A connection with channel 1 open.
class Connection {
public:
    explicit Connection(const Target& t) : conn_(amqp_new_connection()) {
        auto* socket = amqp_tcp_socket_new(conn_);
        if (socket == nullptr) die("amqp_tcp_socket_new failed");
        check_status(amqp_socket_open(socket, t.host.c_str(), t.port), "connect");
        auto login = amqp_login(conn_, t.vhost.c_str(), 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
                                t.user.c_str(), t.password.c_str());
        if (login.reply_type != AMQP_RESPONSE_NORMAL) die("login: " + reply_text(login));
        amqp_channel_open(conn_, 1);
        check(conn_, "channel.open");
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection() {
        amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
        amqp_destroy_connection(conn_);
    }
    amqp_connection_state_t get() const { return conn_; }

private:
    amqp_connection_state_t conn_;
};

std::uint32_t queue_depth(amqp_connection_state_t conn, const std::string& queue) {
    auto* ok = amqp_queue_declare(conn, 1, amqp_cstring_bytes(queue.c_str()), 1, 0, 0, 0,
                                  amqp_empty_table);
    check(conn, "queue.declare (passive)");
    return ok->message_count;
}

struct Figure {
    std::uint64_t messages = 0;
    double seconds = 0;
    std::uint64_t nacked = 0;
    double client_cpu = -1;  // cores this program used meanwhile (all its threads)
    double server_cpu = -1;  // cores --server-pid used meanwhile
    double rate() const { return seconds > 0 ? static_cast<double>(messages) / seconds : 0; }
};

/// CPU time (user + system, seconds) of this process.
double own_cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/// CPU time (user + system, seconds) of process `pid`, all its threads; -1 when unknown.
double process_cpu_seconds(long pid) {
    if (pid <= 0) return -1;
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // Fields after the command name, which is in parentheses and may hold spaces: state is
    // field 3, utime 14, stime 15.
    const auto close = text.rfind(')');
    if (close == std::string::npos) return -1;
    std::vector<std::string> fields;
    std::size_t at = close + 2;
    while (at < text.size()) {
        const auto space = text.find(' ', at);
        fields.push_back(text.substr(at, space == std::string::npos ? std::string::npos : space - at));
        if (space == std::string::npos) break;
        at = space + 1;
    }
    if (fields.size() < 13) return -1;
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    return (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
}

/// Measures the CPU both sides use during one figure.
class CpuMeter {
public:
    explicit CpuMeter(long server_pid)
        : server_pid_(server_pid), own_(own_cpu_seconds()), server_(process_cpu_seconds(server_pid)) {}
    void finish(Figure& f) const {
        if (f.seconds <= 0) return;
        f.client_cpu = (own_cpu_seconds() - own_) / f.seconds;
        const double server = process_cpu_seconds(server_pid_);
        if (server_ >= 0 && server >= 0) f.server_cpu = (server - server_) / f.seconds;
    }

private:
    long server_pid_;
    double own_;
    double server_;
};

std::string cpu_words(const Figure& f) {
    std::string words = fmt::format(" client_cpu={:.2f}", f.client_cpu);
    if (f.server_cpu >= 0) words += fmt::format(" server_cpu={:.2f}", f.server_cpu);
    return words;
}

/// One publisher's share: publishes until `stop` or `cap` messages; confirmed ones when confirming.
std::uint64_t publish_loop(const Target& target, const std::string& queue, std::size_t size,
                           bool confirm, bool persistent, int window, std::uint64_t cap,
                           const std::atomic<bool>& stop, std::uint64_t& nacked) {
    Connection c(target);
    auto conn = c.get();
    if (confirm) {
        amqp_confirm_select(conn, 1);
        check(conn, "confirm.select");
    }
    std::string body(size, 'x');
    amqp_bytes_t body_bytes{body.size(), body.data()};
    amqp_bytes_t key = amqp_cstring_bytes(queue.c_str());
    amqp_basic_properties_t props{};
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.delivery_mode = 2;
    std::uint64_t published = 0;
    std::uint64_t confirmed = 0;

    auto read_confirm = [&] {
        amqp_frame_t frame;
        check_status(amqp_simple_wait_frame(conn, &frame), "waiting for confirms");
        if (frame.frame_type != AMQP_FRAME_METHOD) return;
        if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
            auto* ack = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
            confirmed = std::max<std::uint64_t>(confirmed, ack->delivery_tag);
        } else if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
            auto* nack = static_cast<amqp_basic_nack_t*>(frame.payload.method.decoded);
            confirmed = std::max<std::uint64_t>(confirmed, nack->delivery_tag);
            ++nacked;
        } else {
            die(fmt::format("publisher: unexpected method {:#x}", frame.payload.method.id));
        }
        amqp_maybe_release_buffers(conn);
    };

    while (published < cap && ((published & 127) != 0 || !stop.load(std::memory_order_relaxed))) {
        if (confirm) {
            while (published - confirmed >= static_cast<std::uint64_t>(window)) read_confirm();
        }
        check_status(amqp_basic_publish(conn, 1, amqp_empty_bytes, key, 0, 0, persistent ? &props : nullptr, body_bytes),
                     "basic.publish");
        ++published;
    }
    if (confirm) {
        while (confirmed < published) read_confirm();
    }
    return published;
}

Figure run_publish(const Options& o, const Target& target, const std::string& queue,
                   std::size_t size, bool confirm, bool persistent) {
    std::uint64_t cap_total = std::max<std::uint64_t>(1, o.max_mb * 1024 * 1024 / size);
    std::uint64_t cap_each = std::max<std::uint64_t>(1, cap_total / o.publishers);
    std::atomic<bool> stop{false};
    std::atomic<int> running{o.publishers};
    std::vector<std::uint64_t> counts(o.publishers, 0), nacks(o.publishers, 0);
    const CpuMeter cpu(o.server_pid);
    auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int i = 0; i < o.publishers; ++i) {
        threads.emplace_back([&, i] {
            counts[i] = publish_loop(target, queue, size, confirm, persistent, o.window, cap_each, stop, nacks[i]);
            --running;
        });
    }
    // Until --seconds have passed, or every publisher has published its share of --max-mb.
    auto deadline = start + std::chrono::duration<double>(o.seconds);
    while (running > 0 && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
    stop = true;
    for (auto& t : threads) t.join();
    Figure f;
    for (int i = 0; i < o.publishers; ++i) {
        f.messages += counts[i];
        f.nacked += nacks[i];
    }
    if (!confirm) {
        // Published is not yet enqueued: the clock stops when the queue holds every message.
        Connection c(target);
        auto deadline = Clock::now() + 60s;
        while (queue_depth(c.get(), queue) < f.messages) {
            if (Clock::now() > deadline) die("publish: the queue never held every message");
            std::this_thread::sleep_for(1ms);
        }
    }
    f.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    cpu.finish(f);
    return f;
}

/// One consumer's share: consumes until `consumed` reaches `total` (or nothing comes for 10 s).
void consume_loop(const Target& target, const std::string& queue, bool acks, int prefetch,
                  std::uint64_t total, std::atomic<std::uint64_t>& consumed, Clock::time_point& last) {
    Connection c(target);
    auto conn = c.get();
    if (acks) {
        amqp_basic_qos(conn, 1, 0, static_cast<std::uint16_t>(prefetch), 0);
        check(conn, "basic.qos");
    }
    amqp_basic_consume(conn, 1, amqp_cstring_bytes(queue.c_str()), amqp_empty_bytes, 0,
                       acks ? 0 : 1, 0, amqp_empty_table);
    check(conn, "basic.consume");

    std::uint64_t tag = 0;
    std::uint64_t body_left = 0;
    bool in_content = false;
    auto quiet_since = Clock::now();
    timeval poll{0, 10000};
    while (consumed.load(std::memory_order_relaxed) < total) {
        amqp_frame_t frame;
        int status = amqp_simple_wait_frame_noblock(conn, &frame, &poll);
        if (status == AMQP_STATUS_TIMEOUT) {
            if (Clock::now() - quiet_since > 10s) die("consume: no delivery for 10 s");
            continue;
        }
        check_status(status, "consume");
        quiet_since = Clock::now();
        bool done = false;
        if (frame.frame_type == AMQP_FRAME_METHOD) {
            if (frame.payload.method.id != AMQP_BASIC_DELIVER_METHOD)
                die(fmt::format("consumer: unexpected method {:#x}", frame.payload.method.id));
            tag = static_cast<amqp_basic_deliver_t*>(frame.payload.method.decoded)->delivery_tag;
            in_content = true;
        } else if (frame.frame_type == AMQP_FRAME_HEADER && in_content) {
            body_left = frame.payload.properties.body_size;
            done = body_left == 0;
        } else if (frame.frame_type == AMQP_FRAME_BODY && in_content) {
            body_left -= std::min<std::uint64_t>(body_left, frame.payload.body_fragment.len);
            done = body_left == 0;
        }
        if (done) {
            in_content = false;
            if (acks) check_status(amqp_basic_ack(conn, 1, tag, 0), "basic.ack");
            // The figure's clock stops at the last message, not when every consumer has noticed.
            if (consumed.fetch_add(1, std::memory_order_relaxed) + 1 == total) last = Clock::now();
            amqp_maybe_release_buffers(conn);
        }
    }
}

Figure run_consume(const Options& o, const Target& target, const std::string& queue,
                   std::uint64_t total, bool acks) {
    std::atomic<std::uint64_t> consumed{0};
    const CpuMeter cpu(o.server_pid);
    auto start = Clock::now();
    Clock::time_point last{};  // written once, by the thread that consumes the last message
    std::vector<std::thread> threads;
    for (int i = 0; i < o.consumers; ++i) {
        threads.emplace_back(
            [&] { consume_loop(target, queue, acks, o.prefetch, total, consumed, last); });
    }
    for (auto& t : threads) t.join();
    Figure f;
    f.messages = consumed.load();
    f.seconds = std::chrono::duration<double>((f.messages >= total ? last : Clock::now()) - start).count();
    cpu.finish(f);
    return f;
}

using warren::bench::rss_kb;

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

void run_connects(const Options& o, const Target& target) {
    if (o.connects <= 0) return;
    std::vector<double> ms;
    for (int i = 0; i < o.connects; ++i) {
        auto start = Clock::now();
        {
            Connection c(target);
            ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        }
    }
    double sum = 0;
    for (double m : ms) sum += m;
    fmt::print("connect connections={} median_ms={:.3f} p99_ms={:.3f} mean_ms={:.3f}\n",
               o.connects, percentile(ms, 0.5), percentile(ms, 0.99), sum / ms.size());
    std::fflush(stdout);
}

void run_idle(const Options& o, const Target& target) {
    if (o.idle <= 0) return;
    long before = o.server_pid > 0 ? rss_kb(o.server_pid) : -1;
    auto start = Clock::now();
    std::vector<std::unique_ptr<Connection>> open;
    open.reserve(o.idle);
    for (int i = 0; i < o.idle; ++i) open.push_back(std::make_unique<Connection>(target));
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::this_thread::sleep_for(1s);
    long after = o.server_pid > 0 ? rss_kb(o.server_pid) : -1;
    fmt::print("idle connections={} open_seconds={:.3f} server_rss_before_mb={:.1f} "
               "server_rss_mb={:.1f} per_connection_kb={:.1f}\n",
               o.idle, seconds, before / 1024.0, after / 1024.0,
               before >= 0 && after >= 0 ? static_cast<double>(after - before) / o.idle : -1.0);
    std::fflush(stdout);
    open.clear();
}

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        auto comma = s.find(',', start);
        if (comma == std::string::npos) comma = s.size();
        if (comma > start) out.push_back(s.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

Options parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) die("missing value for " + a);
            return argv[++i];
        };
        if (a == "--url") o.url = value();
        else if (a == "--publishers") o.publishers = std::stoi(value());
        else if (a == "--consumers") o.consumers = std::stoi(value());
        else if (a == "--seconds") o.seconds = std::stod(value());
        else if (a == "--sizes") {
            o.sizes.clear();
            for (auto& s : split(value())) o.sizes.push_back(std::stoul(s));
        } else if (a == "--modes") o.modes = split(value());
        else if (a == "--max-mb") o.max_mb = std::stoul(value());
        else if (a == "--window") o.window = std::stoi(value());
        else if (a == "--prefetch") o.prefetch = std::stoi(value());
        else if (a == "--connects") o.connects = std::stoi(value());
        else if (a == "--idle") o.idle = std::stoi(value());
        else if (a == "--server-pid") o.server_pid = std::stol(value());
        else die("unknown option " + a + " (see the comment at the top of amqp_throughput.cpp)");
    }
    if (o.url.empty()) die("--url is required");
    if (o.publishers < 1 || o.consumers < 1 || o.window < 1 || o.prefetch < 1 || o.prefetch > 65535)
        die("--publishers, --consumers, --window and --prefetch must be positive (prefetch < 65536)");
    for (auto& m : o.modes)
        if (m != "plain" && m != "confirm" && m != "persistent")
            die("--modes takes plain, confirm and/or persistent");
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    Options o = parse_args(argc, argv);
    Target target = parse_url(o.url);

    // --idle needs a descriptor per connection.
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }

    // Connections first, while the broker is fresh: its memory before the idle connections is
    // then a new broker's, not what the throughput figures left allocated.
    run_connects(o, target);
    run_idle(o, target);

    Connection admin(target);
    for (std::size_t size : o.sizes) {
        for (const auto& mode : o.modes) {
            const bool persistent = mode == "persistent";
            const bool reliable = mode != "plain";
            std::string queue = fmt::format("warren-bench-{}-{}-{}", ::getpid(), size, mode);
            amqp_queue_declare(admin.get(), 1, amqp_cstring_bytes(queue.c_str()), 0, persistent, 0, 0,
                               amqp_empty_table);
            check(admin.get(), "queue.declare");

            Figure pub = run_publish(o, target, queue, size, reliable, persistent);
            fmt::print("publish size={} mode={} publishers={} msgs={} seconds={:.3f} rate={:.0f}{}{}\n",
                       size, mode, o.publishers, pub.messages, pub.seconds, pub.rate(),
                       pub.nacked ? fmt::format(" nacked={}", pub.nacked) : "", cpu_words(pub));
            std::fflush(stdout);

            Figure con = run_consume(o, target, queue, pub.messages, reliable);
            fmt::print("consume size={} mode={} consumers={} msgs={} seconds={:.3f} rate={:.0f}{}\n",
                       size, mode, o.consumers, con.messages, con.seconds, con.rate(), cpu_words(con));
            std::fflush(stdout);

            amqp_queue_delete(admin.get(), 1, amqp_cstring_bytes(queue.c_str()), 0, 0);
            check(admin.get(), "queue.delete");
        }
    }

    return 0;
}
