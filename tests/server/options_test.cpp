#include <catch2/catch.hpp>

#include "warren/server/options.hpp"

namespace warren::test {

namespace ws = warren::server;

TEST_CASE("options: the defaults are RabbitMQ's") {
    const auto cl = ws::parse_command_line({});
    REQUIRE(cl.error.empty());
    CHECK(cl.options.bind_address == "127.0.0.1");
    CHECK(cl.options.port == 5672);
    REQUIRE(cl.options.users.size() == 1);
    CHECK(cl.options.users[0].name == "guest");
    CHECK(cl.options.users[0].password == "guest");
    CHECK(cl.options.vhosts == std::vector<std::string>{"/"});
    CHECK(cl.options.loopback_users == std::vector<std::string>{"guest"});
    CHECK(cl.options.memory_high_watermark == 0);  // 40% of physical memory
}

TEST_CASE("options: every flag, in both spellings") {
    const auto cl = ws::parse_command_line({"--bind", "0.0.0.0", "--port=0", "--user", "a:b:c", "--user=x:",
                                            "--vhost", "v1", "--vhost=v2", "--memory-high-watermark", "512MiB",
                                            "--heartbeat", "5", "--log-level", "warning",
                                            "--definitions", "defs.json"});
    REQUIRE(cl.error.empty());
    CHECK(cl.options.bind_address == "0.0.0.0");
    CHECK(cl.options.port == 0);
    REQUIRE(cl.options.users.size() == 2);
    CHECK(cl.options.users[0].name == "a");
    CHECK(cl.options.users[0].password == "b:c");
    CHECK(cl.options.users[1].name == "x");
    CHECK(cl.options.users[1].password == "");
    CHECK(cl.options.vhosts == std::vector<std::string>{"v1", "v2"});
    CHECK(cl.options.memory_high_watermark == 512ull << 20);
    CHECK(cl.options.amqp.heartbeat == 5);
    CHECK(cl.options.log_level == ws::LogLevel::warning);
    CHECK(cl.options.definitions_file == "defs.json");
    CHECK(cl.options.users[0].tags == std::vector<std::string>{"administrator"});
}

TEST_CASE("options: mistakes are reported, not guessed at") {
    CHECK(ws::parse_command_line({"--port", "65536"}).error == "--port needs a port number (0-65535)");
    CHECK(ws::parse_command_line({"--port"}).error == "--port needs a port number (0-65535)");
    CHECK(ws::parse_command_line({"--user", "nopassword"}).error == "--user nopassword: expected NAME:PASSWORD");
    CHECK(ws::parse_command_line({"--frobnicate"}).error == "unknown argument '--frobnicate'");
    CHECK_FALSE(ws::parse_command_line({"--memory-high-watermark", "lots"}).error.empty());
    CHECK_FALSE(ws::parse_command_line({"--log-level", "chatty"}).error.empty());
    CHECK(ws::parse_command_line({"--help"}).help);
    CHECK(ws::parse_command_line({"--version"}).version);
}

TEST_CASE("options: memory amounts, absolute and relative") {
    CHECK(ws::parse_memory_amount("1073741824", 0) == 1073741824ull);
    CHECK(ws::parse_memory_amount("2GB", 0) == 2'000'000'000ull);
    CHECK(ws::parse_memory_amount("2GiB", 0) == 2ull << 30);
    CHECK(ws::parse_memory_amount("100k", 0) == 100ull << 10);
    CHECK(ws::parse_memory_amount("0.4", 1000) == 400);
    CHECK(ws::parse_memory_amount("0", 1000) == 0);
    CHECK(ws::parse_memory_amount("1.5", 1000) == 0);
    CHECK(ws::parse_memory_amount("MiB", 1000) == 0);
    CHECK(ws::parse_memory_amount("-3", 1000) == 0);
}

}  // namespace warren::test
