#include "warren/server/options.hpp"

#include <charconv>
#include <cmath>

#include "warren/server/memory.hpp"

namespace warren::server {

namespace {

template <class T>
bool parse_integer(std::string_view text, T& out) {
    if (text.empty()) return false;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::uint64_t parse_memory_amount(std::string_view text, std::uint64_t physical) {
    if (text.find('.') != std::string_view::npos) {
        // A fraction of physical memory, as vm_memory_high_watermark.relative.
        double fraction = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), fraction);
        if (ec != std::errc() || end != text.data() + text.size() || !(fraction > 0) || fraction > 1)
            return 0;
        return static_cast<std::uint64_t>(std::floor(fraction * static_cast<double>(physical)));
    }
    // An absolute amount, with vm_memory_high_watermark.absolute's units.
    struct Unit {
        std::string_view suffix;
        std::uint64_t factor;
    };
    static constexpr Unit units[] = {
        {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}, {"TiB", 1ull << 40},
        {"kB", 1000ull},     {"KB", 1000ull},     {"MB", 1000'000ull}, {"GB", 1000'000'000ull},
        {"TB", 1000'000'000'000ull},
        {"k", 1ull << 10},   {"K", 1ull << 10},   {"M", 1ull << 20},   {"G", 1ull << 30},
        {"T", 1ull << 40},
    };
    std::uint64_t factor = 1;
    for (const Unit& u : units) {
        if (text.size() > u.suffix.size() && text.ends_with(u.suffix)) {
            factor = u.factor;
            text.remove_suffix(u.suffix.size());
            break;
        }
    }
    std::uint64_t amount = 0;
    if (!parse_integer(text, amount) || amount == 0) return 0;
    if (amount > UINT64_MAX / factor) return 0;
    return amount * factor;
}

std::string usage() {
    return "usage: warren-server [options]\n"
           "\n"
           "An AMQP 0-9-1 server over warren's RabbitMQ 3.10 model.\n"
           "\n"
           "  --bind ADDR                 address to listen on (default 127.0.0.1)\n"
           "  --port N                    port (default 5672; 0 picks a free port)\n"
           "  --user NAME:PASSWORD        a user (repeatable; default guest:guest; guest may\n"
           "                              connect only from loopback, as in RabbitMQ)\n"
           "  --vhost NAME                a virtual host (repeatable; default /)\n"
           "  --management                the management HTTP API and web console on port 15672\n"
           "  --management-port N         ... on port N (0 picks a free port)\n"
           "  --management-bind ADDR      address for them (default 127.0.0.1)\n"
           "  --definitions FILE          load RabbitMQ definitions (a definitions.json from\n"
           "                              GET /api/definitions or rabbitmqctl\n"
           "                              export_definitions) at start\n"
           "  --data-dir DIR              keep durable exchanges, queues, bindings, users,\n"
           "                              persistent messages and streams in DIR across\n"
           "                              restarts (default: memory only)\n"
           "  --data-fsync on|off         fsync before confirming (default on; off survives a\n"
           "                              killed process, not a power loss)\n"
           "  --memory-high-watermark M   block publishers above M bytes of allocated memory:\n"
           "                              bytes (1073741824, 512MiB, 2GB) or a fraction of\n"
           "                              physical memory (default 0.4)\n"
           "  --heartbeat SECONDS         heartbeat the server proposes (default 60; 0 = none)\n"
           "  --log-level LEVEL           debug, info, warning, error or none (default info)\n"
           "  --help                      this text\n"
           "  --version                   the version\n"
           "\n"
           "Prints \"warren-server: listening on ADDR:PORT\" on stdout once it accepts\n"
           "connections; logs go to stderr. SIGINT or SIGTERM closes every connection with\n"
           "320 CONNECTION_FORCED and exits with status 0.\n";
}

CommandLine parse_command_line(const std::vector<std::string_view>& args) {
    CommandLine cl;
    ServerOptions& o = cl.options;
    bool users_given = false;
    bool vhosts_given = false;
    auto fail = [&](std::string message) {
        cl.error = std::move(message);
        return cl;
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        std::string_view value;
        bool has_value = false;
        // --name=value and --name value are both accepted.
        if (arg.starts_with("--")) {
            if (auto eq = arg.find('='); eq != std::string_view::npos) {
                value = arg.substr(eq + 1);
                arg = arg.substr(0, eq);
                has_value = true;
            }
        }
        auto take_value = [&]() -> bool {
            if (has_value) return true;
            if (i + 1 >= args.size()) return false;
            value = args[++i];
            return true;
        };
        if (arg == "--help" || arg == "-h") {
            cl.help = true;
        } else if (arg == "--version") {
            cl.version = true;
        } else if (arg == "--bind") {
            if (!take_value() || value.empty()) return fail("--bind needs an address");
            o.bind_address = std::string(value);
        } else if (arg == "--port") {
            if (!take_value() || !parse_integer(value, o.port))
                return fail("--port needs a port number (0-65535)");
        } else if (arg == "--user") {
            if (!take_value()) return fail("--user needs NAME:PASSWORD");
            const auto colon = value.find(':');
            if (colon == std::string_view::npos || colon == 0)
                return fail(fmt::format("--user {}: expected NAME:PASSWORD", value));
            if (!users_given) o.users.clear();
            users_given = true;
            // The server's configured users administer it, as RabbitMQ's default user does.
            o.users.push_back({std::string(value.substr(0, colon)), std::string(value.substr(colon + 1)),
                               {"administrator"}});
        } else if (arg == "--vhost") {
            if (!take_value() || value.empty()) return fail("--vhost needs a name");
            if (!vhosts_given) o.vhosts.clear();
            vhosts_given = true;
            o.vhosts.emplace_back(value);
        } else if (arg == "--management") {
            if (!o.management_port) o.management_port = 15672;
        } else if (arg == "--management-port") {
            std::uint16_t port = 0;
            if (!take_value() || !parse_integer(value, port))
                return fail("--management-port needs a port number (0-65535)");
            o.management_port = port;
        } else if (arg == "--management-bind") {
            if (!take_value() || value.empty()) return fail("--management-bind needs an address");
            o.management_bind = std::string(value);
        } else if (arg == "--definitions") {
            if (!take_value() || value.empty()) return fail("--definitions needs a file");
            o.definitions_file = std::string(value);
        } else if (arg == "--data-dir") {
            if (!take_value() || value.empty()) return fail("--data-dir needs a directory");
            o.data_dir = std::string(value);
        } else if (arg == "--data-fsync") {
            if (!take_value() || (value != "on" && value != "off")) return fail("--data-fsync needs on or off");
            o.data_fsync = value == "on";
        } else if (arg == "--memory-high-watermark") {
            if (!take_value()) return fail("--memory-high-watermark needs an amount");
            o.memory_high_watermark = parse_memory_amount(value, physical_memory_bytes());
            if (o.memory_high_watermark == 0)
                return fail(fmt::format("--memory-high-watermark {}: expected bytes (1073741824, "
                                        "512MiB, 2GB) or a fraction of physical memory (0.4)",
                                        value));
        } else if (arg == "--heartbeat") {
            if (!take_value() || !parse_integer(value, o.amqp.heartbeat))
                return fail("--heartbeat needs a number of seconds (0-65535)");
        } else if (arg == "--log-level") {
            if (!take_value()) return fail("--log-level needs a level");
            auto level = parse_log_level(value);
            if (!level) return fail(fmt::format("--log-level {}: expected debug, info, warning, error or none", value));
            o.log_level = *level;
        } else {
            return fail(fmt::format("unknown argument '{}'", arg));
        }
    }
    return cl;
}

}  // namespace warren::server
