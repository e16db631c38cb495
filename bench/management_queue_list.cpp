// warren-management-bench: how long the management HTTP API takes to list many queues
// (GET /api/queues/{vhost} and GET /api/queues), for warren-server and RabbitMQ in one run.
//
//   warren-management-bench
//       --target warren=amqp://guest:guest@127.0.0.1:5691/%2f,http://127.0.0.1:15691
//       --target rabbitmq=amqp://guest:guest@127.0.0.1:5675/%2f,http://127.0.0.1:15675
//       [--queues 10000] [--requests 20] [--user guest:guest] [--settle-timeout 180]
//
// Per target, one after the other (so that one broker's set-up and clean-up never overlap the
// other's timing): a vhost of the bench's own is created (PUT /api/vhosts/{v}, and full
// permissions for the user), --queues non-durable queues are declared in it over AMQP (warren's
// rabbitmq-c backend; the URL's vhost is replaced by the bench's), and the bench waits until
// GET /api/queues/{v} lists them all, each with its figures ("messages" and the rest: RabbitMQ
// lists a new queue at once but adds its figures only when its stats reach the stats database,
// seconds later, and a list without them is a fraction of the size). Then --requests GETs of
// /api/queues/{v} and as many of /api/queues, on one keep-alive HTTP/1.1 connection
// (Boost.Beast, synchronous, basic auth), each timed from the request's first byte written to
// the response's last byte read, after one untimed request of each. Finally DELETE /api/vhosts/{v} removes the vhost and its queues.
// A target whose PUT /api/vhosts is refused gets the queues in "/" under a unique prefix
// instead, deleted over AMQP at the end; its list figures then count every queue in "/".
//
// The label before '=' in --target is optional ("target 1", "target 2", ... otherwise).
// Output: one key=value line per figure as it is measured, then a table of every target side
// by side. Percentiles are nearest-rank (p95 of 20 samples is the 19th smallest).
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <fmt/format.h>

#include "warren/connection.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Target {
    std::string label;
    std::string amqp_url;  // as given; its vhost is replaced
    std::string host;
    std::string port;
};

struct Options {
    std::vector<Target> targets;
    int queues = 10000;
    int requests = 20;
    std::string user = "guest";
    std::string password = "guest";
    int settle_timeout_s = 180;
};

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "warren-management-bench: %s\n", what.c_str());
    std::exit(1);
}

std::string base64(std::string_view in) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        const std::size_t n = std::min<std::size_t>(3, in.size() - i);
        std::uint32_t v = 0;
        for (std::size_t k = 0; k < 3; ++k)
            v = (v << 8) | (k < n ? static_cast<unsigned char>(in[i + k]) : 0u);
        for (std::size_t k = 0; k < 4; ++k)
            out += k <= n ? alphabet[(v >> (18 - 6 * k)) & 63] : '=';
    }
    return out;
}

/// Every byte but RFC 3986's unreserved ones as %XX (a vhost name in a path or an AMQP URI).
std::string percent_encode(std::string_view in) {
    std::string out;
    for (const char c : in) {
        const bool unreserved = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) out += c;
        else out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
    return out;
}

/// "amqp://user:pass@host:port/old?query" with `vhost` in place of "old".
std::string with_vhost(const std::string& url, std::string_view vhost) {
    const std::size_t scheme = url.find("://");
    if (scheme == std::string::npos) die(fmt::format("not an AMQP URL: {}", url));
    const std::size_t path = url.find('/', scheme + 3);
    const std::size_t query = url.find('?', scheme + 3);
    const std::string authority = url.substr(0, std::min(path, query));
    return authority + "/" + percent_encode(vhost) + (query == std::string::npos ? "" : url.substr(query));
}

/// "[label=]amqp://...,http://host:port"
Target parse_target(std::string_view text) {
    Target t;
    const std::size_t eq = text.find('=');
    if (eq != std::string_view::npos && text.substr(0, eq).find_first_of(":/") == std::string_view::npos) {
        t.label = text.substr(0, eq);
        text.remove_prefix(eq + 1);
    }
    const std::size_t comma = text.find(",http://");
    if (comma == std::string_view::npos) die(fmt::format("--target wants AMQP_URL,http://HOST:PORT, not '{}'", text));
    t.amqp_url = text.substr(0, comma);
    std::string_view base = text.substr(comma + 8);
    while (base.ends_with('/')) base.remove_suffix(1);
    const std::size_t colon = base.rfind(':');
    t.host = base.substr(0, colon);
    t.port = colon == std::string_view::npos ? "80" : std::string(base.substr(colon + 1));
    return t;
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) die(fmt::format("{} needs a value", a));
            return argv[++i];
        };
        if (a == "--target") o.targets.push_back(parse_target(value()));
        else if (a == "--queues") o.queues = std::stoi(value());
        else if (a == "--requests") o.requests = std::stoi(value());
        else if (a == "--settle-timeout") o.settle_timeout_s = std::stoi(value());
        else if (a == "--user") {
            const std::string v = value();
            const std::size_t colon = v.find(':');
            if (colon == std::string::npos) die("--user wants NAME:PASSWORD");
            o.user = v.substr(0, colon);
            o.password = v.substr(colon + 1);
        } else if (a == "--help" || a == "-h") {
            std::puts("warren-management-bench --target [LABEL=]AMQP_URL,http://HOST:PORT [--target ...]\n"
                      "    [--queues 10000] [--requests 20] [--user guest:guest] [--settle-timeout SECONDS]");
            std::exit(0);
        } else {
            die(fmt::format("unknown argument '{}' (--help)", a));
        }
    }
    if (o.targets.empty()) die("give at least one --target (--help)");
    if (o.queues < 1 || o.requests < 1) die("--queues and --requests must be at least 1");
    for (std::size_t i = 0; i < o.targets.size(); ++i)
        if (o.targets[i].label.empty()) o.targets[i].label = fmt::format("target {}", i + 1);
    return o;
}

/// One keep-alive HTTP/1.1 connection, reopened when the server closes it.
class HttpClient {
public:
    HttpClient(std::string host, std::string port, const std::string& user, const std::string& password)
        : host_(std::move(host)), port_(std::move(port)), auth_("Basic " + base64(user + ":" + password)) {}

    struct Answer {
        unsigned status = 0;
        std::string body;
    };

    Answer request(http::verb method, const std::string& target, const std::string& body = {}) {
        // A keep-alive connection the server closed while idle fails on the first write or
        // read: try once more on a new one.
        for (int attempt = 0;; ++attempt) {
            try {
                return once(method, target, body);
            } catch (const std::exception& e) {
                stream_.reset();
                if (attempt == 1)
                    throw std::runtime_error(
                        fmt::format("{} http://{}:{}{}: {}", http::to_string(method), host_, port_, target, e.what()));
            }
        }
    }

private:
    Answer once(http::verb method, const std::string& target, const std::string& body) {
        if (!stream_) {
            stream_.emplace(io_);
            tcp::resolver resolver(io_);
            stream_->connect(resolver.resolve(host_, port_));
            stream_->socket().set_option(tcp::no_delay(true));
        }
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, host_);
        req.set(http::field::authorization, auth_);
        req.set(http::field::user_agent, "warren-management-bench");
        if (!body.empty()) req.set(http::field::content_type, "application/json");
        req.body() = body;
        req.keep_alive(true);
        req.prepare_payload();
        http::write(*stream_, req);
        http::response_parser<http::string_body> parser;
        parser.body_limit(std::numeric_limits<std::uint64_t>::max());
        http::read(*stream_, buffer_, parser);
        auto res = parser.release();
        if (!res.keep_alive()) stream_.reset();
        return Answer{res.result_int(), std::move(res.body())};
    }

    asio::io_context io_;
    std::string host_;
    std::string port_;
    std::string auth_;
    std::optional<beast::tcp_stream> stream_;
    beast::flat_buffer buffer_;
};

struct Figures {
    std::string vhost;
    double declare_s = 0;
    double settle_s = 0;
    std::vector<double> vhost_ms;
    std::vector<double> all_ms;
    std::size_t vhost_bytes = 0;
    std::size_t all_bytes = 0;
    std::size_t vhost_listed = 0;
    std::size_t all_listed = 0;
};

/// The length of a JSON array body, or nullopt.
std::optional<std::size_t> array_size(const std::string& body) {
    boost::system::error_code ec;
    const json::value v = json::parse(body, ec);
    if (ec || !v.is_array()) return std::nullopt;
    return v.as_array().size();
}

/// How many queues a list body holds, and how many of them have their figures ("messages"):
/// RabbitMQ lists a new queue at once, and its figures when its stats reach the stats database.
std::pair<std::size_t, std::size_t> listed_with_figures(const std::string& body) {
    boost::system::error_code ec;
    const json::value v = json::parse(body, ec);
    if (ec || !v.is_array()) return {0, 0};
    std::size_t with = 0;
    for (const json::value& q : v.as_array())
        if (q.is_object() && q.as_object().contains("messages")) ++with;
    return {v.as_array().size(), with};
}

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double nearest_rank(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

/// Deletes what run_target made: the vhost, or the prefixed queues in "/".
void clean_up(const Options& o, const Target& t, HttpClient& http, const std::string& vhost, const std::string& prefix) {
    if (prefix.empty()) {
        const auto gone = http.request(http::verb::delete_, "/api/vhosts/" + percent_encode(vhost));
        if (gone.status != 204) std::fprintf(stderr, "%s: DELETE /api/vhosts answered %u\n", t.label.c_str(), gone.status);
        return;
    }
    warren::Connection conn = warren::connect(with_vhost(t.amqp_url, vhost));
    warren::Channel ch = conn.channel();
    for (int i = 0; i < o.queues; ++i) ch.queue_delete(fmt::format("{}q{:05}", prefix, i));
    conn.close();
}

Figures run_target(const Options& o, const Target& t) {
    Figures f;
    HttpClient http(t.host, t.port, o.user, o.password);
    const std::string tag = fmt::format("warren-bench-mgmt-{}", ::getpid());

    // The bench's vhost, or "/" with a prefix when the target cannot create one.
    std::string prefix;
    const auto created = http.request(http::verb::put, "/api/vhosts/" + percent_encode(tag));
    if (created.status == 201 || created.status == 204) {
        f.vhost = tag;
        const auto granted = http.request(http::verb::put,
                                          fmt::format("/api/permissions/{}/{}", percent_encode(tag), percent_encode(o.user)),
                                          R"({"configure":".*","write":".*","read":".*"})");
        if (granted.status != 201 && granted.status != 204)
            fail(fmt::format("{}: PUT /api/permissions answered {}: {}", t.label, granted.status, granted.body));
    } else {
        std::fprintf(stderr, "%s: PUT /api/vhosts answered %u; using \"/\" with the prefix %s.\n", t.label.c_str(),
                     created.status, tag.c_str());
        f.vhost = "/";
        prefix = tag + ".";
    }
    try {
        const std::string vhost_path = "/api/queues/" + percent_encode(f.vhost);

        auto start = Clock::now();
        {
            warren::Connection conn = warren::connect(with_vhost(t.amqp_url, f.vhost));
            warren::Channel ch = conn.channel();
            for (int i = 0; i < o.queues; ++i) ch.queue_declare(fmt::format("{}q{:05}", prefix, i));
            conn.close();
        }
        f.declare_s = ms_since(start) / 1000;
        fmt::print("{}: declare queues={} seconds={:.3f}\n", t.label, o.queues, f.declare_s);
        std::fflush(stdout);

        // Until the list holds them all, each with its figures.
        start = Clock::now();
        for (;;) {
            const auto r = http.request(http::verb::get, vhost_path);
            const auto [n, with] = r.status == 200 ? listed_with_figures(r.body) : std::pair<std::size_t, std::size_t>{};
            const auto want = static_cast<std::size_t>(o.queues);
            if (n >= want && with >= want) break;
            if (ms_since(start) > o.settle_timeout_s * 1000.0)
                fail(fmt::format("{}: after {} s, GET {} lists {} queue(s), {} with figures", t.label,
                                 o.settle_timeout_s, vhost_path, n, with));
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
        f.settle_s = ms_since(start) / 1000;
        fmt::print("{}: listed all with figures after seconds={:.3f}\n", t.label, f.settle_s);
        std::fflush(stdout);

        auto timed = [&](const std::string& path, std::vector<double>& samples, std::size_t& bytes,
                         std::size_t& listed) {
            const auto warm = http.request(http::verb::get, path);
            if (warm.status != 200) fail(fmt::format("{}: GET {} answered {}", t.label, path, warm.status));
            listed = array_size(warm.body).value_or(0);
            bytes = warm.body.size();
            for (int i = 0; i < o.requests; ++i) {
                const auto begin = Clock::now();
                const auto r = http.request(http::verb::get, path);
                samples.push_back(ms_since(begin));
                if (r.status != 200) fail(fmt::format("{}: GET {} answered {}", t.label, path, r.status));
                bytes = r.body.size();
            }
            fmt::print("{}: GET {} requests={} listed={} bytes={} min_ms={:.1f} median_ms={:.1f} p95_ms={:.1f} "
                       "max_ms={:.1f}\n",
                       t.label, path, samples.size(), listed, bytes, *std::min_element(samples.begin(), samples.end()),
                       median(samples), nearest_rank(samples, 0.95), *std::max_element(samples.begin(), samples.end()));
            std::fflush(stdout);
        };
        timed(vhost_path, f.vhost_ms, f.vhost_bytes, f.vhost_listed);
        timed("/api/queues", f.all_ms, f.all_bytes, f.all_listed);
    } catch (...) {
        try {
            clean_up(o, t, http, f.vhost, prefix);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "%s: cleaning up: %s\n", t.label.c_str(), e.what());
        }
        throw;
    }
    clean_up(o, t, http, f.vhost, prefix);
    return f;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    std::vector<Figures> all;
    try {
        for (const Target& t : o.targets) all.push_back(run_target(o, t));
    } catch (const std::exception& e) {
        die(e.what());
    }

    std::string head = "| figure |";
    std::string rule = "| --- |";
    for (const Target& t : o.targets) {
        head += fmt::format(" {} |", t.label);
        rule += " ---: |";
    }
    fmt::print("\n{}\n{}\n", head, rule);
    auto row = [&](const std::string& name, auto cell) {
        std::string line = "| " + name + " |";
        for (const Figures& f : all) line += " " + cell(f) + " |";
        fmt::print("{}\n", line);
    };
    row(fmt::format("declare {} queues over AMQP, one channel (s)", o.queues),
        [](const Figures& f) { return fmt::format("{:.2f}", f.declare_s); });
    row("until GET lists them all with their figures (s)", [](const Figures& f) { return fmt::format("{:.1f}", f.settle_s); });
    const std::pair<const char*, std::vector<double> Figures::*> series[] = {{"GET /api/queues/{vhost}", &Figures::vhost_ms},
                                                                             {"GET /api/queues", &Figures::all_ms}};
    for (const auto& [path, member] : series) {
        row(fmt::format("{}, min (ms)", path), [&](const Figures& f) {
            return fmt::format("{:.1f}", *std::min_element((f.*member).begin(), (f.*member).end()));
        });
        row(fmt::format("{}, median (ms)", path), [&](const Figures& f) { return fmt::format("{:.1f}", median(f.*member)); });
        row(fmt::format("{}, p95 (ms)", path),
            [&](const Figures& f) { return fmt::format("{:.1f}", nearest_rank(f.*member, 0.95)); });
        row(fmt::format("{}, max (ms)", path), [&](const Figures& f) {
            return fmt::format("{:.1f}", *std::max_element((f.*member).begin(), (f.*member).end()));
        });
    }
    row("GET /api/queues/{vhost}, body (bytes; queues listed)",
        [](const Figures& f) { return fmt::format("{} ({})", f.vhost_bytes, f.vhost_listed); });
    row("GET /api/queues, body (bytes; queues listed)",
        [](const Figures& f) { return fmt::format("{} ({})", f.all_bytes, f.all_listed); });
    return 0;
}
