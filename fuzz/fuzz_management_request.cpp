// The management HTTP API's request path: routing, percent-decoding, Basic authentication,
// query strings, JSON bodies, and every read and write the API makes on the Broker, called as
// ManagementListener calls it once Beast has parsed a request. Never crashes; every answer
// has a status from 200 to 599, and a body only with a content type, which when it is
// application/json is a JSON document (its syntax: names need not be UTF-8).
//
// (The listener's own parsing is Beast's request_parser inside its session, with nothing of
// warren's in between, so ManagementApi::handle is where a request's bytes meet warren.)
//
// Input: one or more requests separated by a line "~~~", each written like HTTP:
//
//   PUT /api/queues/%2F/q1
//   Authorization: Basic Z3Vlc3Q6Z3Vlc3Q=
//   X-Remote: 1
//
//   {"durable":true}
//
// The method is the first word when it is one of GET PUT POST DELETE HEAD OPTIONS PATCH, and
// one of them picked by the word's length otherwise. Without an Authorization line the request
// carries guest:guest's. X-Remote makes the peer not a loopback address (guest is refused).
// After the first empty line, everything up to the separator is the body.
//
// The Broker keeps what the requests declare (so that one input can declare and then list,
// publish and get); it is made afresh every `inputs_per_server` inputs to keep it small.
#include <array>
#include <chrono>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include "warren/server/management.hpp"
#include "warren/server/server.hpp"

namespace ws = warren::server;

namespace {

constexpr std::string_view separator = "\n~~~\n";
constexpr std::size_t max_requests = 32;
constexpr unsigned inputs_per_server = 500;
constexpr std::string_view guest = "Basic Z3Vlc3Q6Z3Vlc3Q=";  // guest:guest
constexpr std::array<std::string_view, 7> methods = {"GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH"};

struct World {
    boost::asio::io_context io;
    ws::Server server;

    static ws::ServerOptions options() {
        ws::ServerOptions o;
        o.bind_address = "127.0.0.1";
        o.port = 0;
        o.log_level = ws::LogLevel::none;
        o.log_sink = [](std::string_view) {};
        return o;
    }
    World() : server(io, options()) {}
};

/// The text of `line` after "Name:" (case-insensitive name), without leading blanks; or false.
bool header_value(std::string_view line, std::string_view name, std::string_view& value) {
    if (line.size() <= name.size() || line[name.size()] != ':') return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char a = line[i] >= 'A' && line[i] <= 'Z' ? static_cast<char>(line[i] - 'A' + 'a') : line[i];
        const char b = name[i] >= 'A' && name[i] <= 'Z' ? static_cast<char>(name[i] - 'A' + 'a') : name[i];
        if (a != b) return false;
    }
    value = line.substr(name.size() + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    return true;
}

/// The text up to the next '\n' (taken off `in`, with the newline).
std::string_view next_line(std::string_view& in) {
    const std::size_t nl = in.find('\n');
    const std::string_view line = in.substr(0, nl);
    in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
    return line;
}

ws::HttpRequest parse_request(std::string_view text) {
    ws::HttpRequest r;
    r.authorization = guest;
    const std::string_view first = next_line(text);
    const std::size_t space = first.find(' ');
    const std::string_view word = first.substr(0, space);
    r.method = methods[word.size() % methods.size()];
    for (std::string_view m : methods)
        if (m == word) r.method = m;
    if (space != std::string_view::npos) r.target = first.substr(space + 1);
    while (!text.empty()) {
        const std::string_view line = next_line(text);
        if (line.empty()) break;
        std::string_view value;
        if (header_value(line, "authorization", value)) r.authorization = value;
        else if (header_value(line, "x-remote", value)) r.peer_is_loopback = false;
    }
    r.body = text;
    return r;
}

/// Says what is wrong on stderr, then aborts (libFuzzer keeps the input).
[[noreturn]] void broken(const ws::HttpRequest& request, const ws::HttpResponse& response, const char* what) {
    std::fprintf(stderr, "management_request: %s\n  request: %s %s (authorization '%s', loopback %d)\n",
                 what, request.method.c_str(), request.target.c_str(), request.authorization.c_str(),
                 request.peer_is_loopback ? 1 : 0);
    std::fprintf(stderr, "  request body (%zu bytes): %.*s\n", request.body.size(),
                 static_cast<int>(std::min<std::size_t>(request.body.size(), 2000)), request.body.data());
    std::fprintf(stderr, "  response: %u '%s', body (%zu bytes): %.*s\n", response.status, response.content_type.c_str(),
                 response.body.size(), static_cast<int>(std::min<std::size_t>(response.body.size(), 2000)),
                 response.body.data());
    std::abort();
}

void check(const ws::HttpRequest& request, const ws::HttpResponse& response) {
    if (response.status < 200 || response.status > 599) broken(request, response, "status out of 200..599");
    if (response.content_type.empty() && !response.body.empty()) broken(request, response, "a body without a content type");
    if (response.content_type == "application/json") {
        // A name percent-decoded from the path may be any bytes, and an answer quotes it as
        // it is (in an error reason, say), so a body need not be UTF-8: checked is the syntax.
        boost::json::parse_options syntax_only;
        syntax_only.allow_invalid_utf8 = true;
        boost::system::error_code ec;
        (void)boost::json::parse(response.body, ec, {}, syntax_only);
        if (ec) broken(request, response, ("an application/json body that does not parse: " + ec.message()).c_str());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static std::unique_ptr<World> world;
    static unsigned inputs = 0;
    if (!world || ++inputs % inputs_per_server == 0) {
        world.reset();  // the Server before its io_context
        world = std::make_unique<World>();
    }

    std::string_view in(reinterpret_cast<const char*>(data), size);
    for (std::size_t n = 0; n < max_requests && !in.empty(); ++n) {
        const std::size_t end = in.find(separator);
        const ws::HttpRequest request = parse_request(in.substr(0, end));
        in.remove_prefix(end == std::string_view::npos ? in.size() : end + separator.size());
        check(request, ws::ManagementApi(world->server).handle(request));
        // What the request scheduled (the Broker's expiry timer) runs as it would in the server.
        world->io.restart();
        world->io.poll();
    }
    return 0;
}
