// warren-server: an AMQP 0-9-1 server over warren's RabbitMQ 3.10 model. See usage().
#include <csignal>
#include <cstdio>
#include <memory>
#include <string_view>
#include <stdexcept>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "warren/server/server.hpp"

#ifndef WARREN_VERSION
#define WARREN_VERSION "unknown"
#endif

int main(int argc, char** argv) {
    using namespace warren::server;
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    CommandLine cl = parse_command_line(args);
    if (!cl.error.empty()) {
        fmt::print(stderr, "warren-server: {}\n\n{}", cl.error, usage());
        return 2;
    }
    if (cl.help) {
        fmt::print("{}", usage());
        return 0;
    }
    if (cl.version) {
        fmt::print("warren-server {}\n", WARREN_VERSION);
        return 0;
    }
    std::signal(SIGPIPE, SIG_IGN);

    boost::asio::io_context io(1);
    // Installed before the server starts, so that a signal during start-up is not lost.
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    std::unique_ptr<Server> server;
    try {
        server = std::make_unique<Server>(io, std::move(cl.options));
    } catch (const std::exception& e) {
        fmt::print(stderr, "warren-server: {}\n", e.what());
        return 1;
    }
    server->start();
    fmt::print("warren-server: listening on {}\n", server->listening_on());
    if (auto port = server->management_port())
        fmt::print("warren-server: management API and console on http://{}:{}/\n", server->options().management_bind, *port);
    std::fflush(stdout);

    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        server->log().log(LogLevel::info, "", "received {}: shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
        server->shutdown([&] { io.stop(); });
    });
    io.run();
    return 0;
}
