// warren-server (or any AMQP 0-9-1 broker) with many idle connections: how long each takes to
// set up (TCP connect to connection.open-ok, then channel.open-ok), and what the server's
// resident memory grows by. Prints figures; asserts nothing.
//
//   server_idle_connections --port 5699 --connections 1000 --pid $(pgrep -n warren-server)
//
// Each connection is a plain socket doing the handshake as a client would (PLAIN guest/guest,
// heartbeat 0 so idle means silent), then opening one channel; all stay open until the RSS is
// read, then close.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "warren/protocol/frame.hpp"
#include "warren/protocol/methods.hpp"

namespace p = warren::protocol;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 5672;
    int connections = 1000;
    long pid = 0;  // the server's, to read its RSS; 0: not read
};

/// VmRSS of `pid` in kB, or -1.
long rss_kb(long pid) {
    std::ifstream status(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

bool send_all(int fd, const p::Bytes& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

/// Reads frames until a method with `id` arrives on `channel`; false on anything else.
bool await_method(int fd, p::FrameDecoder& decoder, p::Bytes& pending, warren::MethodId id) {
    std::uint8_t buf[4096];
    for (;;) {
        std::size_t used = 0;
        while (used < pending.size()) {
            used += decoder.feed(p::ByteView(pending).subspan(used));
            if (decoder.error()) return false;
            if (!decoder.ready()) continue;
            const auto payload = decoder.payload();
            const bool match = decoder.header().type == p::frame_type::method && payload.size() >= 4 &&
                               ((payload[0] << 8) | payload[1]) == id.class_id &&
                               ((payload[2] << 8) | payload[3]) == id.method_id;
            const bool heartbeat = decoder.header().type == p::frame_type::heartbeat;
            decoder.next();
            if (match) {
                pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(used));
                return true;
            }
            if (!heartbeat) return false;
        }
        pending.clear();
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return false;
        pending.assign(buf, buf + n);
    }
}

/// One connection through channel.open-ok; the socket, or -1.
int open_connection(const Options& o) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(o.port);
    ::inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    p::FrameDecoder decoder(0);
    p::Bytes pending;
    p::Bytes out(p::protocol_header.begin(), p::protocol_header.end());
    bool ok = send_all(fd, out) && await_method(fd, decoder, pending, warren::method::connection_start);
    if (ok) {
        out.clear();
        p::ConnectionStartOk start_ok;
        start_ok.response = std::string("\0guest\0guest", 12);
        (void)p::encode_method_frame(0, start_ok, out);
        ok = send_all(fd, out) && await_method(fd, decoder, pending, warren::method::connection_tune);
    }
    if (ok) {
        out.clear();
        (void)p::encode_method_frame(0, p::ConnectionTuneOk{2047, 131072, 0}, out);
        (void)p::encode_method_frame(0, p::ConnectionOpen{"/", "", false}, out);
        (void)p::encode_method_frame(1, p::ChannelOpen{}, out);
        ok = send_all(fd, out) && await_method(fd, decoder, pending, warren::method::connection_open_ok) &&
             await_method(fd, decoder, pending, warren::method::channel_open_ok);
    }
    if (!ok) {
        ::close(fd);
        return -1;
    }
    return fd;
}

double percentile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view flag = argv[i];
        const std::string value = argv[i + 1];
        if (flag == "--host") o.host = value;
        else if (flag == "--port") o.port = static_cast<std::uint16_t>(std::stoi(value));
        else if (flag == "--connections") o.connections = std::stoi(value);
        else if (flag == "--pid") o.pid = std::stol(value);
        else {
            fmt::print(stderr, "usage: {} [--host H] [--port P] [--connections N] [--pid SERVER_PID]\n", argv[0]);
            return 2;
        }
    }
    const long rss_before = o.pid ? rss_kb(o.pid) : -1;
    std::vector<int> sockets;
    std::vector<double> setup_ms;
    const auto start = Clock::now();
    for (int i = 0; i < o.connections; ++i) {
        const auto t0 = Clock::now();
        const int fd = open_connection(o);
        if (fd < 0) {
            fmt::print(stderr, "connection {} failed\n", i + 1);
            break;
        }
        setup_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        sockets.push_back(fd);
    }
    const double total_s = std::chrono::duration<double>(Clock::now() - start).count();
    // Let the server settle before reading its memory.
    ::usleep(500 * 1000);
    const long rss_after = o.pid ? rss_kb(o.pid) : -1;

    fmt::print("connections opened: {} of {} in {:.2f} s ({:.0f}/s)\n", sockets.size(), o.connections, total_s,
               static_cast<double>(sockets.size()) / total_s);
    fmt::print("set-up time (connect to channel.open-ok), ms: median {:.3f}, p90 {:.3f}, p99 {:.3f}, max {:.3f}\n",
               percentile(setup_ms, 0.5), percentile(setup_ms, 0.9), percentile(setup_ms, 0.99),
               percentile(setup_ms, 1.0));
    if (o.pid) {
        fmt::print("server RSS: {} kB before, {} kB with {} idle connections (+{} kB, {:.1f} kB each)\n",
                   rss_before, rss_after, sockets.size(), rss_after - rss_before,
                   sockets.empty() ? 0.0 : static_cast<double>(rss_after - rss_before) / static_cast<double>(sockets.size()));
    }
    for (int fd : sockets) ::close(fd);
    return sockets.size() == static_cast<std::size_t>(o.connections) ? 0 : 1;
}
