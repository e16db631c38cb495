// What warren-server is told: where to listen, who may log in, the vhosts, and the limits that
// keep a slow or greedy client from growing the server's memory without bound.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warren/emulator/broker.hpp"
#include "warren/protocol/server_connection.hpp"
#include "warren/server/log.hpp"

namespace warren::server {

struct ServerOptions {
    /// The address to listen on (IPv4 or IPv6). Port 0 picks a free port.
    std::string bind_address = "127.0.0.1";
    std::uint16_t port = 5672;

    std::vector<BrokerUser> users = {{"guest", "guest", {"administrator"}}};
    std::vector<std::string> vhosts = {"/"};
    /// Users who may connect only from a loopback address (RabbitMQ's loopback_users).
    std::vector<std::string> loopback_users = {"guest"};

    /// The management HTTP API and web console (RabbitMQ's management plugin): off unless a
    /// port is given (RabbitMQ's is 15672; 0 picks a free port).
    std::optional<std::uint16_t> management_port = std::nullopt;
    std::string management_bind = "127.0.0.1";

    /// A RabbitMQ definitions file (users, vhosts, permissions, exchanges, queues, bindings)
    /// imported at start, after `users` and `vhosts`; empty: none.
    std::string definitions_file = {};

    /// Where durable state is kept across restarts (Broker::open_data_dir); empty: memory only.
    std::string data_dir = {};
    /// fsync the journal before confirms and replies go out (DataDirOptions::fsync).
    bool data_fsync = true;

    /// What the AMQP engine announces and enforces (heartbeat, frame_max, channel_max, ...).
    protocol::ServerConfig amqp = {};

    /// Per-connection output limits, in bytes not yet written to the socket. Above the high
    /// water mark the broker stops delivering to the connection's consumers (their messages
    /// stay in their queues, where other consumers can take them); deliveries resume when the
    /// output falls to the low water mark. This is RabbitMQ's credit flow between a queue and
    /// a channel, counted in bytes instead of messages.
    std::size_t output_high_water = 1 << 20;
    std::size_t output_low_water = 256 << 10;
    /// Above this, the server stops reading from the connection (after the frame that crossed
    /// it): only the client's own requests (gets, declares, confirms of its publishes) can push
    /// output this far, and RabbitMQ would buffer them without limit.
    std::size_t output_read_limit = 16 << 20;
    /// A connection over output_read_limit whose socket takes no bytes for this long is closed:
    /// it neither reads nor can be read, so heartbeats cannot tell whether it lives. (RabbitMQ
    /// has no read limit and no send timeout by default; a slow consumer is never cut for being
    /// slow, only by heartbeats when it stops sending.)
    std::chrono::milliseconds send_timeout{30000};

    /// Memory high watermark in bytes of allocated memory (see memory.hpp); 0 means 40% of the
    /// machine's physical memory, RabbitMQ's vm_memory_high_watermark default of 0.4. Above
    /// it, connections that publish are blocked (connection.blocked "low on memory" to clients
    /// announcing the capability, and the server stops reading from them) until it is below.
    std::uint64_t memory_high_watermark = 0;
    std::chrono::milliseconds memory_check_interval{1000};
    /// What is compared with the watermark; empty means allocated_memory_bytes().
    std::function<std::uint64_t()> memory_probe = {};

    /// On shutdown, how long connections get to answer connection.close before their sockets
    /// are closed anyway.
    std::chrono::milliseconds shutdown_grace{3000};

    LogLevel log_level = LogLevel::info;
    /// Where log lines go; empty means stderr.
    Logger::Sink log_sink = {};
};

/// The outcome of reading the command line.
struct CommandLine {
    ServerOptions options;
    bool help = false;
    bool version = false;
    /// Non-empty when the command line is wrong: what is wrong.
    std::string error;
};

/// warren-server [--bind ADDR] [--port N] [--user NAME:PASSWORD]... [--vhost NAME]...
///               [--management] [--management-port N] [--management-bind ADDR]
///               [--definitions FILE] [--memory-high-watermark BYTES|FRACTION] [--heartbeat SECONDS]
///               [--log-level LEVEL] [--help] [--version]
/// --user and --vhost replace the defaults (guest:guest, "/") when given.
CommandLine parse_command_line(const std::vector<std::string_view>& args);

/// The --help text.
std::string usage();

/// "1073741824", "512MiB", "2GB", "0.4" (a fraction of `physical`): bytes, or 0 when the text
/// is not one of these forms.
std::uint64_t parse_memory_amount(std::string_view text, std::uint64_t physical);

}  // namespace warren::server
