// warren-soak-bench: a soak of an AMQP 0-9-1 broker through rabbitmq-c. Many connections publish
// persistent messages with publisher confirms and consume them with manual acks for a bounded
// time while one consumer is slow, then it checks that nothing was lost or duplicated and that
// the broker's resident memory stayed under a watermark. Prints figures; the exit status says
// whether the checks held (0) or not (1); 2 is a bad option or a broker that cannot be reached.
//
//   warren-soak-bench [--host 127.0.0.1] [--port 5672] [--connections 50] [--seconds 60]
//       [--body 1024] [--slow-consumer-delay-ms 20] [--server-pid PID] [--watermark BYTES]
//       [--queues N] [--prefetch 100] [--window 64] [--drain-seconds 30] [--report-seconds 10]
//       [--user guest] [--password guest] [--vhost /]
//
// The run:
//   set-up   --queues durable queues (default: one per consumer), named warren-soak-<pid>-<i>.
//   publish  Half of --connections (rounded down) publish for --seconds, each to queue
//            (its index mod --queues) through the default exchange: persistent (delivery mode
//            2), mandatory, --body bytes, in confirm mode with up to --window unconfirmed. Each
//            message's id is "<publisher>.<sequence>", in message-id and at the start of the
//            body. The publishers advertise the connection.blocked capability and count the
//            time the broker keeps them blocked (its memory alarm).
//   consume  The other half consume from the start, consumer i from queue (i mod --queues),
//            with manual acks (one basic.ack per message) and prefetch --prefetch. Consumer 0 is
//            the slow one: it sleeps --slow-consumer-delay-ms before each ack. With a queue per
//            consumer (the default) it is alone on its queue, whose backlog then grows for as
//            long as its publisher outpaces it: that backlog is the broker's memory pressure.
//   drain    When --seconds are over the publishers stop and wait for their outstanding
//            confirms; the consumers go on until the queues are empty. After two thirds of
//            --drain-seconds the slow consumer stops sleeping so that its backlog can be read;
//            at --drain-seconds the consumers stop and every client closes its connection (a
//            socket still open 10 s later, as a publisher's the broker keeps blocked, is shut
//            down). The whole run takes at most --seconds + --drain-seconds + 10 s, plus the
//            declarations and deletions (5 s at most each: the RPC timeout).
//   check    Queue depths from passive declares once every consumer has closed its connection
//            (which requeues what it held unacked); then the queues are deleted.
//              lost        confirmed messages never consumed, beyond what the queue still holds
//              duplicates  deliveries of an id already consumed
//              phantom     deliveries whose id was never published
//              corrupt     deliveries whose body size or body id does not match
//              extra       messages a queue holds beyond those published to it and not consumed
//            and nacked, returned, connection errors, and the server's peak VmRSS (read from
//            /proc/PID/status each second with --server-pid) against --watermark. Any of them
//            makes the exit status 1.
//
// Connections: --connections for the clients, plus one for declarations and one for the
// progress lines' queue depths. Heartbeats are off, as in warren-amqp-bench.
//
// Output: one line per figure, as key=value words after the figure's name; a progress line
// every --report-seconds.
#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "amqp_bench_support.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Options {
    std::string host = "127.0.0.1";
    int port = 5672;
    std::string user = "guest";
    std::string password = "guest";
    std::string vhost = "/";
    int connections = 50;
    double seconds = 60;
    std::size_t body = 1024;
    int slow_delay_ms = 20;
    long server_pid = 0;
    std::uint64_t watermark = 0;  // bytes of server RSS; 0: not checked
    int queues = 0;               // 0: one per consumer
    int prefetch = 100;
    int window = 64;
    double drain_seconds = 30;
    double report_seconds = 10;
};

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "warren-soak-bench: %s\n", what.c_str());
    std::exit(2);
}

using warren::bench::reply_text;

/// A client thread's failure: it ends that thread, is counted and printed, and fails the run.
struct ClientError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void check(amqp_connection_state_t conn, const char* what) {
    auto reply = amqp_get_rpc_reply(conn);
    if (reply.reply_type != AMQP_RESPONSE_NORMAL)
        throw ClientError(fmt::format("{}: {}", what, reply_text(reply)));
}

void check_status(int status, const char* what) {
    if (status < 0) throw ClientError(fmt::format("{}: {}", what, amqp_error_string2(status)));
}

/// Sockets of the open connections, so that the run's end can shut down those still blocked in
/// a read or a write (a broker under a memory alarm stops reading from publishers).
class SocketRegistry {
public:
    void add(int fd) {
        std::lock_guard lock(mutex_);
        fds_.insert(fd);
    }
    void remove(int fd) {
        std::lock_guard lock(mutex_);
        fds_.erase(fd);
    }
    /// Shuts down every socket still registered; returns how many.
    int shut_down_all() {
        std::lock_guard lock(mutex_);
        for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
        return static_cast<int>(fds_.size());
    }

private:
    std::mutex mutex_;
    std::set<int> fds_;
};

SocketRegistry sockets;

/// What a connection is for: publishers advertise the connection.blocked capability; the
/// clients' sockets are in `sockets`, the control connections' (declarations, depths) are not.
enum class Role { publisher, consumer, control };

/// A connection with channel 1 open; RPCs (declares, close) time out after 5 s.
class Connection {
public:
    Connection(const Options& o, Role role) : conn_(amqp_new_connection()) {
        try {
            open(o, role);
        } catch (...) {
            if (fd_ >= 0) sockets.remove(fd_);
            amqp_destroy_connection(conn_);
            throw;
        }
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection() {
        amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
        if (fd_ >= 0) sockets.remove(fd_);
        amqp_destroy_connection(conn_);
    }
    amqp_connection_state_t get() const { return conn_; }

private:
    void open(const Options& o, Role role) {
        auto* socket = amqp_tcp_socket_new(conn_);
        if (socket == nullptr) throw ClientError("amqp_tcp_socket_new failed");
        check_status(amqp_socket_open(socket, o.host.c_str(), o.port), "connect");
        if (role != Role::control) {
            fd_ = amqp_get_sockfd(conn_);
            sockets.add(fd_);
        }
        timeval rpc_timeout{5, 0};
        amqp_set_rpc_timeout(conn_, &rpc_timeout);
        // rabbitmq-c merges these capabilities into its default client properties.
        amqp_table_entry_t capability{amqp_cstring_bytes("connection.blocked"), {}};
        capability.value.kind = AMQP_FIELD_KIND_BOOLEAN;
        capability.value.value.boolean = 1;
        amqp_table_entry_t capabilities{amqp_cstring_bytes("capabilities"), {}};
        capabilities.value.kind = AMQP_FIELD_KIND_TABLE;
        capabilities.value.value.table = {1, &capability};
        amqp_table_t properties{role == Role::publisher ? 1 : 0, &capabilities};
        auto login = amqp_login_with_properties(conn_, o.vhost.c_str(), 0, 131072, 0, &properties,
                                                AMQP_SASL_METHOD_PLAIN, o.user.c_str(), o.password.c_str());
        if (login.reply_type != AMQP_RESPONSE_NORMAL) throw ClientError("login: " + reply_text(login));
        amqp_channel_open(conn_, 1);
        check(conn_, "channel.open");
    }

    amqp_connection_state_t conn_;
    int fd_ = -1;
};

/// Ready messages in `queue` (passive queue.declare).
std::uint32_t queue_depth(amqp_connection_state_t conn, const std::string& queue) {
    auto* ok = amqp_queue_declare(conn, 1, amqp_cstring_bytes(queue.c_str()), 1, 0, 0, 0, amqp_empty_table);
    check(conn, "queue.declare (passive)");
    return ok->message_count;
}

using warren::bench::rss_kb;

double percentile(std::vector<float>& v, double p) {
    if (v.empty()) return 0;
    auto i = std::min(static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5), v.size() - 1);
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
    return v[i];
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
}

/// A message id, "<publisher>.<sequence>", packed as publisher << 40 | sequence.
constexpr int sequence_bits = 40;

std::string message_id(std::uint64_t publisher, std::uint64_t sequence) {
    return fmt::format("{}.{}", publisher, sequence);
}

std::optional<std::uint64_t> parse_message_id(std::string_view id) {
    const auto dot = id.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    std::uint64_t publisher = 0, sequence = 0;
    auto [p_end, p_err] = std::from_chars(id.data(), id.data() + dot, publisher);
    auto [s_end, s_err] = std::from_chars(id.data() + dot + 1, id.data() + id.size(), sequence);
    if (p_err != std::errc{} || s_err != std::errc{} || p_end != id.data() + dot ||
        s_end != id.data() + id.size() || sequence >= (1ull << sequence_bits) || publisher >= (1u << 20))
        return std::nullopt;
    return publisher << sequence_bits | sequence;
}

/// The body's first bytes: the id, padded with spaces, when the body is long enough for it.
constexpr std::size_t body_id_width = 24;

// ---- publishers ------------------------------------------------------------------------------

enum class Settled : std::uint8_t { pending, acked, nacked };

struct Publisher {
    int index = 0;
    std::string queue;
    // Read by the progress line while the thread runs.
    std::atomic<std::uint64_t> published{0};
    std::atomic<std::uint64_t> settled{0};
    std::atomic<bool> blocked{false};
    std::atomic<bool> done{false};
    // The thread's own until `done`.
    std::vector<Settled> status;     // by sequence (delivery tag - 1)
    std::vector<float> latency_ms;   // publish to confirm, one per confirmed message
    std::uint64_t nacked = 0;
    std::uint64_t returned = 0;
    std::uint64_t blocked_times = 0;
    double blocked_seconds = 0;
    std::string error;
};

struct Run {
    const Options& options;
    std::vector<std::string> queues;
    std::atomic<bool> stop_publishing{false};
    Clock::time_point confirm_deadline{};  // set before the clients start
    std::atomic<bool> stop_consuming{false};
    std::atomic<int> slow_delay_ms{0};
};

void publish(Run& run, Publisher& p) {
    const Options& o = run.options;
    Connection c(o, Role::publisher);
    auto conn = c.get();
    amqp_confirm_select(conn, 1);
    check(conn, "confirm.select");

    std::string body(o.body, 'x');
    amqp_bytes_t key = amqp_cstring_bytes(p.queue.c_str());
    std::deque<std::pair<std::uint64_t, Clock::time_point>> unconfirmed;  // tag, publish time
    std::uint64_t settled = 0;
    Clock::time_point blocked_since{};

    auto settle = [&](std::uint64_t tag, Settled how) {
        auto& s = p.status[tag - 1];
        if (s != Settled::pending) return;
        s = how;
        ++settled;
        if (how == Settled::nacked) ++p.nacked;
    };
    auto settle_up_to = [&](std::uint64_t tag, bool multiple, Settled how) {
        const auto now = Clock::now();
        if (tag == 0 || tag > p.status.size()) throw ClientError(fmt::format("confirm of unknown tag {}", tag));
        if (multiple) {
            while (!unconfirmed.empty() && unconfirmed.front().first <= tag) {
                if (p.status[unconfirmed.front().first - 1] == Settled::pending && how == Settled::acked)
                    p.latency_ms.push_back(std::chrono::duration<float, std::milli>(now - unconfirmed.front().second).count());
                settle(unconfirmed.front().first, how);
                unconfirmed.pop_front();
            }
        } else {
            if (p.status[tag - 1] == Settled::pending && how == Settled::acked) {
                for (auto& [t, at] : unconfirmed)
                    if (t == tag) p.latency_ms.push_back(std::chrono::duration<float, std::milli>(now - at).count());
            }
            settle(tag, how);
            while (!unconfirmed.empty() && p.status[unconfirmed.front().first - 1] != Settled::pending)
                unconfirmed.pop_front();
        }
        p.settled.store(settled, std::memory_order_relaxed);
    };

    // Reads what the broker sends, for up to `wait`: confirms, returns, connection.blocked.
    auto read_frames = [&](timeval wait) {
        amqp_frame_t frame;
        int status = amqp_simple_wait_frame_noblock(conn, &frame, &wait);
        if (status == AMQP_STATUS_TIMEOUT) return;
        check_status(status, "publisher: waiting for confirms");
        if (frame.frame_type != AMQP_FRAME_METHOD) return;  // a returned message's content
        switch (frame.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD: {
            auto* ack = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
            settle_up_to(ack->delivery_tag, ack->multiple != 0, Settled::acked);
            break;
        }
        case AMQP_BASIC_NACK_METHOD: {
            auto* nack = static_cast<amqp_basic_nack_t*>(frame.payload.method.decoded);
            settle_up_to(nack->delivery_tag, nack->multiple != 0, Settled::nacked);
            break;
        }
        case AMQP_BASIC_RETURN_METHOD:
            ++p.returned;
            break;
        case AMQP_CONNECTION_BLOCKED_METHOD:
            if (!p.blocked.exchange(true)) {
                blocked_since = Clock::now();
                ++p.blocked_times;
            }
            break;
        case AMQP_CONNECTION_UNBLOCKED_METHOD:
            if (p.blocked.exchange(false)) p.blocked_seconds += seconds_between(blocked_since, Clock::now());
            break;
        case AMQP_CONNECTION_CLOSE_METHOD:
        case AMQP_CHANNEL_CLOSE_METHOD: {
            amqp_rpc_reply_t reply{AMQP_RESPONSE_SERVER_EXCEPTION, frame.payload.method, 0};
            throw ClientError("publisher: " + reply_text(reply));
        }
        default:
            throw ClientError(fmt::format("publisher: unexpected method {:#x}", frame.payload.method.id));
        }
        amqp_maybe_release_buffers(conn);
    };

    amqp_basic_properties_t props{};
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG;
    props.delivery_mode = 2;
    while (!run.stop_publishing.load(std::memory_order_relaxed)) {
        if (p.status.size() - settled >= static_cast<std::uint64_t>(o.window)) {
            read_frames({0, 100000});
            continue;
        }
        const auto sequence = p.status.size();
        const std::string id = message_id(static_cast<std::uint64_t>(p.index), sequence);
        if (body.size() >= body_id_width) {
            std::fill_n(body.begin(), body_id_width, ' ');
            std::copy(id.begin(), id.end(), body.begin());
        }
        props.message_id = amqp_cstring_bytes(id.c_str());
        p.status.push_back(Settled::pending);
        unconfirmed.emplace_back(sequence + 1, Clock::now());
        check_status(amqp_basic_publish(conn, 1, amqp_empty_bytes, key, 1, 0, &props,
                                        amqp_bytes_t{body.size(), body.data()}),
                     "basic.publish");
        p.published.store(p.status.size(), std::memory_order_relaxed);
    }
    while (settled < p.status.size() && Clock::now() < run.confirm_deadline) read_frames({0, 100000});
    if (p.blocked) p.blocked_seconds += seconds_between(blocked_since, Clock::now());
}

// ---- consumers -------------------------------------------------------------------------------

struct Consumer {
    int index = 0;
    std::string queue;
    bool slow = false;
    std::atomic<std::uint64_t> consumed{0};
    std::atomic<bool> done{false};
    std::vector<std::uint64_t> ids;  // packed ids of the messages acked, in order
    std::uint64_t redelivered = 0;
    std::uint64_t phantom = 0;       // ids that do not parse
    std::uint64_t corrupt = 0;
    std::string error;
};

void consume(Run& run, Consumer& c) {
    const Options& o = run.options;
    Connection connection(o, Role::consumer);
    auto conn = connection.get();
    amqp_basic_qos(conn, 1, 0, static_cast<std::uint16_t>(o.prefetch), 0);
    check(conn, "basic.qos");
    amqp_basic_consume(conn, 1, amqp_cstring_bytes(c.queue.c_str()), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
    check(conn, "basic.consume");

    std::uint64_t tag = 0;
    bool redelivered = false;
    bool in_content = false;
    std::uint64_t body_size = 0, body_left = 0;
    std::string id, body_start;
    std::uint64_t consumed = 0;
    while (!run.stop_consuming.load(std::memory_order_relaxed)) {
        amqp_frame_t frame;
        timeval wait{0, 50000};
        int status = amqp_simple_wait_frame_noblock(conn, &frame, &wait);
        if (status == AMQP_STATUS_TIMEOUT) continue;
        check_status(status, "consumer: waiting for deliveries");
        bool complete = false;
        if (frame.frame_type == AMQP_FRAME_METHOD) {
            switch (frame.payload.method.id) {
            case AMQP_BASIC_DELIVER_METHOD: {
                auto* d = static_cast<amqp_basic_deliver_t*>(frame.payload.method.decoded);
                tag = d->delivery_tag;
                redelivered = d->redelivered != 0;
                in_content = true;
                id.clear();
                body_start.clear();
                break;
            }
            case AMQP_CONNECTION_BLOCKED_METHOD:
            case AMQP_CONNECTION_UNBLOCKED_METHOD:
                break;
            case AMQP_CONNECTION_CLOSE_METHOD:
            case AMQP_CHANNEL_CLOSE_METHOD: {
                amqp_rpc_reply_t reply{AMQP_RESPONSE_SERVER_EXCEPTION, frame.payload.method, 0};
                throw ClientError("consumer: " + reply_text(reply));
            }
            default:
                throw ClientError(fmt::format("consumer: unexpected method {:#x}", frame.payload.method.id));
            }
        } else if (frame.frame_type == AMQP_FRAME_HEADER && in_content) {
            auto* props = static_cast<amqp_basic_properties_t*>(frame.payload.properties.decoded);
            if (props->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
                id.assign(static_cast<const char*>(props->message_id.bytes), props->message_id.len);
            body_size = body_left = frame.payload.properties.body_size;
            complete = body_left == 0;
        } else if (frame.frame_type == AMQP_FRAME_BODY && in_content) {
            const auto& fragment = frame.payload.body_fragment;
            if (body_start.size() < body_id_width)
                body_start.append(static_cast<const char*>(fragment.bytes),
                                  std::min(fragment.len, body_id_width - body_start.size()));
            body_left -= std::min<std::uint64_t>(body_left, fragment.len);
            complete = body_left == 0;
        }
        if (!complete) continue;
        in_content = false;
        if (const int delay = c.slow ? run.slow_delay_ms.load(std::memory_order_relaxed) : 0; delay > 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        check_status(amqp_basic_ack(conn, 1, tag, 0), "basic.ack");
        if (redelivered) ++c.redelivered;
        if (auto packed = parse_message_id(id)) {
            c.ids.push_back(*packed);
            const std::string_view start(body_start);
            const bool body_ok = body_size == o.body &&
                                 (o.body < body_id_width || start.substr(0, start.find(' ')) == id);
            if (!body_ok) ++c.corrupt;
        } else {
            ++c.phantom;
        }
        c.consumed.store(++consumed, std::memory_order_relaxed);
        amqp_maybe_release_buffers(conn);
    }
}

// ---- arguments -------------------------------------------------------------------------------

Options parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) die("missing value for " + a);
            return argv[++i];
        };
        try {
            if (a == "--host") o.host = value();
            else if (a == "--port") o.port = std::stoi(value());
            else if (a == "--user") o.user = value();
            else if (a == "--password") o.password = value();
            else if (a == "--vhost") o.vhost = value();
            else if (a == "--connections") o.connections = std::stoi(value());
            else if (a == "--seconds") o.seconds = std::stod(value());
            else if (a == "--body") o.body = std::stoul(value());
            else if (a == "--slow-consumer-delay-ms") o.slow_delay_ms = std::stoi(value());
            else if (a == "--server-pid") o.server_pid = std::stol(value());
            else if (a == "--watermark") o.watermark = std::stoull(value());
            else if (a == "--queues") o.queues = std::stoi(value());
            else if (a == "--prefetch") o.prefetch = std::stoi(value());
            else if (a == "--window") o.window = std::stoi(value());
            else if (a == "--drain-seconds") o.drain_seconds = std::stod(value());
            else if (a == "--report-seconds") o.report_seconds = std::stod(value());
            else die("unknown option " + a + " (see the comment at the top of bench/soak.cpp)");
        } catch (const std::logic_error&) {
            die("bad value for " + a);
        }
    }
    if (o.connections < 2) die("--connections must be at least 2 (a publisher and a consumer)");
    if (o.seconds <= 0 || o.drain_seconds <= 0 || o.report_seconds <= 0)
        die("--seconds, --drain-seconds and --report-seconds must be positive");
    if (o.window < 1 || o.prefetch < 1 || o.prefetch > 65535 || o.queues < 0 || o.slow_delay_ms < 0)
        die("--window and --prefetch must be positive (prefetch < 65536), --queues and "
            "--slow-consumer-delay-ms not negative");
    if (o.watermark > 0 && o.server_pid <= 0) die("--watermark needs --server-pid");
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse_args(argc, argv);
    const int publisher_count = o.connections / 2;
    const int consumer_count = o.connections - publisher_count;
    const int queue_count = o.queues > 0 ? o.queues : consumer_count;

    Run run{o, {}};
    run.slow_delay_ms = o.slow_delay_ms;
    for (int i = 0; i < queue_count; ++i) run.queues.push_back(fmt::format("warren-soak-{}-{}", ::getpid(), i));

    std::optional<Connection> admin;
    try {
        admin.emplace(o, Role::control);
        for (const auto& q : run.queues) {
            amqp_queue_declare(admin->get(), 1, amqp_cstring_bytes(q.c_str()), 0, 1, 0, 0, amqp_empty_table);
            check(admin->get(), "queue.declare");
        }
    } catch (const ClientError& e) {
        die(e.what());
    }

    fmt::print("soak connections={} publishers={} consumers={} queues={} body={} seconds={} prefetch={} "
               "window={} slow_consumer_delay_ms={} drain_seconds={} watermark_mb={}\n",
               o.connections, publisher_count, consumer_count, queue_count, o.body, o.seconds, o.prefetch,
               o.window, o.slow_delay_ms, o.drain_seconds,
               o.watermark ? fmt::format("{:.1f}", static_cast<double>(o.watermark) / (1 << 20)) : "none");
    std::fflush(stdout);

    std::vector<std::unique_ptr<Publisher>> publishers;
    std::vector<std::unique_ptr<Consumer>> consumers;
    for (int i = 0; i < publisher_count; ++i) {
        publishers.push_back(std::make_unique<Publisher>());
        publishers.back()->index = i;
        publishers.back()->queue = run.queues[static_cast<std::size_t>(i % queue_count)];
    }
    for (int i = 0; i < consumer_count; ++i) {
        consumers.push_back(std::make_unique<Consumer>());
        consumers.back()->index = i;
        consumers.back()->queue = run.queues[static_cast<std::size_t>(i % queue_count)];
        consumers.back()->slow = i == 0;
    }

    // Queue depths for the progress lines come through a connection of their own, so that a
    // broker slow to answer delays the lines, not the run's phases.
    std::optional<Connection> monitor;
    try {
        monitor.emplace(o, Role::control);
    } catch (const ClientError& e) {
        die(e.what());
    }

    const auto start = Clock::now();
    const auto publish_end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
    const auto drain = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.drain_seconds));
    const auto deadline = publish_end + drain;
    run.confirm_deadline = deadline;

    std::vector<std::thread> threads;
    for (auto& c : consumers) {
        threads.emplace_back([&run, &c = *c] {
            try {
                consume(run, c);
            } catch (const ClientError& e) {
                c.error = e.what();
            }
            c.done = true;
        });
    }
    for (auto& p : publishers) {
        threads.emplace_back([&run, &p = *p] {
            try {
                publish(run, p);
            } catch (const ClientError& e) {
                p.error = e.what();
            }
            p.done = true;
        });
    }

    auto totals = [&] {
        struct {
            std::uint64_t published = 0, settled = 0, consumed = 0;
            int blocked = 0;
        } t;
        for (auto& p : publishers) {
            t.published += p->published.load(std::memory_order_relaxed);
            t.settled += p->settled.load(std::memory_order_relaxed);
            t.blocked += p->blocked.load(std::memory_order_relaxed) ? 1 : 0;
        }
        for (auto& c : consumers) t.consumed += c->consumed.load(std::memory_order_relaxed);
        return t;
    };
    // Ready messages in every queue; nothing when a declare fails.
    auto depths = [&](Connection& c) -> std::optional<std::vector<long>> {
        std::vector<long> d;
        try {
            for (const auto& q : run.queues) d.push_back(queue_depth(c.get(), q));
        } catch (const ClientError&) {
            return std::nullopt;
        }
        return d;
    };

    // The server's VmRSS each second and a progress line every --report-seconds, until the checks.
    std::atomic<bool> reporting{true};
    std::atomic<long> rss_start{-1}, rss_peak{-1}, rss_last{-1};
    std::atomic<double> rss_peak_at{0};
    if (o.server_pid > 0) rss_start = rss_peak = rss_last = rss_kb(o.server_pid);
    std::thread reporter([&] {
        const auto every = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.report_seconds));
        auto next_sample = start + 1s;
        auto next_report = start + every;
        while (reporting) {
            std::this_thread::sleep_for(20ms);
            const auto now = Clock::now();
            if (o.server_pid > 0 && now >= next_sample) {
                while (next_sample <= now) next_sample += 1s;
                const long kb = rss_kb(o.server_pid);
                rss_last = kb;
                if (kb > rss_peak) {
                    rss_peak = kb;
                    rss_peak_at = seconds_between(start, now);
                }
            }
            if (now < next_report) continue;
            while (next_report <= now) next_report += every;
            const auto t = totals();
            const auto d = depths(*monitor);
            long ready = 0;
            if (d)
                for (long n : *d) ready += n;
            fmt::print("progress t={:.0f} published={} confirmed={} consumed={} blocked_publishers={} ready={} "
                       "slow_queue_ready={} server_rss_mb={:.1f}\n",
                       seconds_between(start, now), t.published, t.settled, t.consumed, t.blocked,
                       d ? fmt::format("{}", ready) : "unknown", d ? fmt::format("{}", d->front()) : "unknown",
                       rss_last.load() / 1024.0);
            std::fflush(stdout);
        }
    });

    // Publishing.
    std::this_thread::sleep_until(publish_end);
    run.stop_publishing = true;
    const auto stopped = Clock::now();
    const auto at_stop = totals();

    // Draining: until every publisher is done, the queues are empty and nothing has been
    // consumed for a second, or the deadline. The slow consumer stops sleeping for the last third.
    const auto fast_from = publish_end + drain * 2 / 3;
    auto last_consumed = at_stop.consumed;
    auto last_change = Clock::now();
    Clock::time_point fast_at{};
    bool drained = false;
    while (Clock::now() < deadline) {
        std::this_thread::sleep_for(100ms);
        const auto now = Clock::now();
        if (now >= fast_from && run.slow_delay_ms != 0) {
            run.slow_delay_ms = 0;
            fast_at = now;
        }
        const auto t = totals();
        if (t.consumed != last_consumed) {
            last_consumed = t.consumed;
            last_change = now;
        }
        const bool publishers_done = std::all_of(publishers.begin(), publishers.end(), [](auto& p) { return p->done.load(); });
        if (!publishers_done || now - last_change < 1s) continue;
        const auto d = depths(*admin);
        if (!d) break;
        if (std::all_of(d->begin(), d->end(), [](long n) { return n == 0; })) {
            drained = true;
            break;
        }
    }
    const auto drain_end = Clock::now();
    run.stop_consuming = true;
    // Threads still blocked in a read or write past the deadline (a publisher the broker still
    // blocks, say) are released by shutting their sockets down.
    const auto hard_deadline = std::max(deadline, drain_end) + 10s;
    int shut_down = 0;
    while (!std::all_of(publishers.begin(), publishers.end(), [](auto& p) { return p->done.load(); }) ||
           !std::all_of(consumers.begin(), consumers.end(), [](auto& c) { return c->done.load(); })) {
        if (Clock::now() >= hard_deadline) {
            shut_down = sockets.shut_down_all();
            break;
        }
        std::this_thread::sleep_for(50ms);
    }
    for (auto& t : threads) t.join();

    // What the queues still hold, the consumers' unacked messages requeued.
    std::optional<std::vector<long>> left;
    std::string check_error;
    try {
        left.emplace();
        for (const auto& q : run.queues) left->push_back(queue_depth(admin->get(), q));
        for (const auto& q : run.queues) {
            amqp_queue_delete(admin->get(), 1, amqp_cstring_bytes(q.c_str()), 0, 0);
            check(admin->get(), "queue.delete");
        }
    } catch (const ClientError& e) {
        check_error = e.what();
        if (left && left->size() < run.queues.size()) left.reset();
    }
    reporting = false;
    reporter.join();
    const long rss_final = o.server_pid > 0 ? rss_kb(o.server_pid) : -1;
    monitor.reset();
    admin.reset();

    // ---- the checks ----
    std::vector<std::vector<std::uint8_t>> times_consumed(publishers.size());
    for (std::size_t i = 0; i < publishers.size(); ++i) times_consumed[i].assign(publishers[i]->status.size(), 0);
    std::uint64_t consumed = 0, redelivered = 0, phantom = 0, corrupt = 0, duplicates = 0, slow_consumed = 0;
    for (auto& c : consumers) {
        consumed += c->consumed;
        redelivered += c->redelivered;
        phantom += c->phantom;
        corrupt += c->corrupt;
        if (c->slow) slow_consumed = c->consumed;
        for (auto packed : c->ids) {
            const auto publisher = packed >> sequence_bits;
            const auto sequence = packed & ((1ull << sequence_bits) - 1);
            if (publisher >= publishers.size() || sequence >= times_consumed[publisher].size()) {
                ++phantom;
                continue;
            }
            auto& n = times_consumed[publisher][sequence];
            if (n > 0) ++duplicates;
            if (n < 255) ++n;
        }
    }
    std::uint64_t published = 0, confirmed = 0, nacked = 0, returned = 0, unconfirmed = 0;
    std::uint64_t blocked_times = 0;
    double blocked_seconds = 0;
    std::vector<std::uint64_t> confirmed_unconsumed(run.queues.size(), 0), other_unconsumed(run.queues.size(), 0);
    std::vector<float> latency;
    for (std::size_t i = 0; i < publishers.size(); ++i) {
        auto& p = *publishers[i];
        const auto q = static_cast<std::size_t>(p.index % queue_count);
        published += p.status.size();
        nacked += p.nacked;
        returned += p.returned;
        blocked_times += p.blocked_times;
        blocked_seconds += p.blocked_seconds;
        for (std::size_t s = 0; s < p.status.size(); ++s) {
            if (p.status[s] == Settled::acked) ++confirmed;
            if (p.status[s] == Settled::pending) ++unconfirmed;
            if (times_consumed[i][s] != 0) continue;
            if (p.status[s] == Settled::acked) ++confirmed_unconsumed[q];
            else ++other_unconsumed[q];
        }
        latency.insert(latency.end(), p.latency_ms.begin(), p.latency_ms.end());
    }
    // Without the queues' depths, every confirmed message not consumed counts as lost.
    std::uint64_t lost = 0, extra = 0, left_total = 0;
    for (std::size_t q = 0; q < run.queues.size(); ++q) {
        const auto held = left ? static_cast<std::uint64_t>((*left)[q]) : 0;
        left_total += held;
        if (confirmed_unconsumed[q] > held) lost += confirmed_unconsumed[q] - held;
        if (held > confirmed_unconsumed[q] + other_unconsumed[q]) extra += held - confirmed_unconsumed[q] - other_unconsumed[q];
    }
    std::vector<std::string> errors;
    for (auto& p : publishers)
        if (!p->error.empty()) errors.push_back(fmt::format("publisher {}: {}", p->index, p->error));
    for (auto& c : consumers)
        if (!c->error.empty()) errors.push_back(fmt::format("consumer {}: {}", c->index, c->error));
    if (!check_error.empty()) errors.push_back("checks: " + check_error);

    const double publish_seconds = seconds_between(start, stopped);
    std::uint64_t consumed_at_stop = at_stop.consumed;
    fmt::print("publish published={} confirmed={} nacked={} returned={} unconfirmed={} seconds={:.1f} "
               "rate={:.0f} confirm_rate={:.0f}\n",
               published, confirmed, nacked, returned, unconfirmed, publish_seconds,
               static_cast<double>(at_stop.published) / publish_seconds,
               static_cast<double>(at_stop.settled) / publish_seconds);
    fmt::print("confirm_latency_ms median={:.2f} p99={:.2f} max={:.2f} confirms={}\n", percentile(latency, 0.5),
               percentile(latency, 0.99), latency.empty() ? 0.0 : *std::max_element(latency.begin(), latency.end()),
               latency.size());
    fmt::print("blocked connection_blocked={} blocked_seconds_all_publishers={:.1f}\n", blocked_times, blocked_seconds);
    fmt::print("consume consumed={} redelivered={} rate_while_publishing={:.0f} consumed_after_stop={} "
               "drain_seconds={:.1f} drained={} slow_consumer_consumed={} slow_consumer_fast_after={}\n",
               consumed, redelivered, static_cast<double>(consumed_at_stop) / publish_seconds,
               consumed - consumed_at_stop, seconds_between(stopped, drain_end), drained ? "yes" : "no",
               slow_consumed,
               fast_at == Clock::time_point{} ? std::string("never") : fmt::format("{:.1f}s", seconds_between(stopped, fast_at)));
    const bool over_watermark = o.watermark > 0 && static_cast<std::uint64_t>(rss_peak.load()) * 1024 > o.watermark;
    if (o.server_pid > 0)
        fmt::print("memory server_rss_start_mb={:.1f} server_rss_peak_mb={:.1f} peak_at_s={:.0f} "
                   "server_rss_final_mb={:.1f} watermark_mb={} over_watermark={}\n",
                   rss_start / 1024.0, rss_peak / 1024.0, rss_peak_at.load(), rss_final / 1024.0,
                   o.watermark ? fmt::format("{:.1f}", static_cast<double>(o.watermark) / (1 << 20)) : "none",
                   over_watermark ? "yes" : "no");
    fmt::print("check lost={}{} duplicates={} phantom={} corrupt={} left_in_queues={} extra_in_queues={} "
               "errors={} sockets_shut_down={}\n",
               lost, left ? "" : " (at most: the queue depths are unknown)", duplicates, phantom, corrupt,
               left ? fmt::format("{}", left_total) : "unknown", extra, errors.size(), shut_down);
    for (const auto& e : errors) fmt::print("error {}\n", e);

    std::vector<std::string> failures;
    if (lost) failures.push_back("lost");
    if (duplicates) failures.push_back("duplicates");
    if (phantom) failures.push_back("phantom");
    if (corrupt) failures.push_back("corrupt");
    if (extra) failures.push_back("extra");
    if (nacked) failures.push_back("nacked");
    if (returned) failures.push_back("returned");
    if (!errors.empty()) failures.push_back("errors");
    if (over_watermark) failures.push_back("over_watermark");
    std::string result = failures.empty() ? "ok" : "FAIL";
    for (std::size_t i = 0; i < failures.size(); ++i) result += (i == 0 ? " " : ",") + failures[i];
    fmt::print("result {}\n", result);
    return failures.empty() ? 0 : 1;
}
