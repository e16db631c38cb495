// The management HTTP API over a socket: authentication, the read side, definitions, the
// console's files, and bad input. Codes, headers and texts are RabbitMQ 3.10.8's, as recorded in
// conformance/management/golden.json (which the test command also replays in full).
#include <fstream>
#include <map>
#include <sstream>

#include <boost/json/parse.hpp>

#include "raw_client.hpp"

namespace warren::test {
namespace {

namespace json = boost::json;

struct HttpAnswer {
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
    json::value json() const { return json::parse(body); }
};

/// A blocking socket to the management port.
class HttpClient {
public:
    explicit HttpClient(std::uint16_t port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        timeval tv{10, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~HttpClient() { ::close(fd_); }
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    void send_raw(std::string_view bytes) {
        while (!bytes.empty()) {
            const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) return;  // the server may close on a bad request mid-send
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
    }

    /// Reads one answer (Content-Length framed; an answer to HEAD has no body whatever its
    /// Content-Length says); status 0 when the connection closed first.
    HttpAnswer read_answer(bool has_body = true) {
        HttpAnswer a;
        std::size_t head_end;
        while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos)
            if (!fill()) return a;
        std::string_view head(buffer_.data(), head_end);
        a.status = static_cast<unsigned>(std::stoul(std::string(head.substr(9, 3))));
        std::size_t at = head.find("\r\n");
        while (at != std::string_view::npos && at < head.size()) {
            const std::size_t next = std::min(head.find("\r\n", at + 2), head.size());
            std::string_view line = head.substr(at + 2, next - at - 2);
            const auto colon = line.find(':');
            std::string name(line.substr(0, colon));
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            a.headers[name] = std::string(line.substr(colon + 2));
            at = next;
        }
        const std::size_t length =
            has_body && a.headers.count("content-length") ? std::stoul(a.headers["content-length"]) : 0;
        while (buffer_.size() < head_end + 4 + length)
            if (!fill()) return HttpAnswer{};
        a.body = buffer_.substr(head_end + 4, length);
        buffer_.erase(0, head_end + 4 + length);
        return a;
    }

    HttpAnswer request(std::string_view method, std::string_view target, std::string_view body = {},
                       std::string_view credentials = "Z3Vlc3Q6Z3Vlc3Q=" /* guest:guest */) {
        send_request(method, target, body, credentials);
        return read_answer();
    }

    void send_request(std::string_view method, std::string_view target, std::string_view body = {},
                      std::string_view credentials = "Z3Vlc3Q6Z3Vlc3Q=") {
        std::string r = fmt::format("{} {} HTTP/1.1\r\nHost: localhost\r\n", method, target);
        if (!credentials.empty()) r += fmt::format("Authorization: Basic {}\r\n", credentials);
        if (!body.empty()) r += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", body.size());
        r += "\r\n";
        r += body;
        send_raw(r);
    }

    bool closed_by_server() {
        char c;
        return ::recv(fd_, &c, 1, 0) == 0;
    }

private:
    bool fill() {
        char chunk[4096];
        const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n <= 0) return false;
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }
    int fd_ = -1;
    std::string buffer_;
};

ws::ServerOptions with_management() {
    auto o = test_server_options();
    o.management_port = 0;
    o.users.push_back({"plain", "pw", {}});
    o.users.push_back({"watcher", "pw", {"monitoring"}});
    return o;
}

std::string basic(std::string_view user_password) {
    std::string out;
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 0; i < user_password.size(); i += 3) {
        std::uint32_t group = 0;
        const std::size_t n = std::min<std::size_t>(3, user_password.size() - i);
        for (std::size_t k = 0; k < 3; ++k)
            group = group << 8 | (k < n ? static_cast<unsigned char>(user_password[i + k]) : 0u);
        for (std::size_t k = 0; k < 4; ++k) out += k <= n ? alphabet[(group >> (18 - 6 * k)) & 63] : '=';
    }
    return out;
}

}  // namespace

TEST_CASE("management: credentials, as RabbitMQ checks them") {
    RunningServer server(with_management());
    const std::uint16_t port = *server.server().management_port();
    HttpClient http(port);
    auto none = http.request("GET", "/api/overview", {}, "");
    CHECK(none.status == 401);
    CHECK(none.body.empty());
    CHECK(none.headers["www-authenticate"] == "Basic realm=\"RabbitMQ Management\"");
    auto wrong = http.request("GET", "/api/overview", {}, basic("guest:nope"));
    CHECK(wrong.status == 401);
    CHECK(wrong.body == R"({"error":"not_authorized","reason":"Login failed"})");
    auto plain = http.request("GET", "/api/whoami", {}, basic("plain:pw"));
    CHECK(plain.status == 401);
    CHECK(plain.body == R"({"error":"not_authorised","reason":"Not management user"})");
    CHECK(plain.headers.count("www-authenticate") == 0);
    auto watcher = http.request("GET", "/api/users", {}, basic("watcher:pw"));
    CHECK(watcher.status == 401);
    CHECK(watcher.body == R"({"error":"not_authorised","reason":"Not administrator user"})");
    auto me = http.request("GET", "/api/whoami");
    CHECK(me.status == 200);
    CHECK(me.headers["content-type"] == "application/json");
    CHECK(me.body == R"({"name":"guest","tags":["administrator"]})");
}

TEST_CASE("management: overview, lists and single objects, with AMQP clients' objects in them") {
    RunningServer server(with_management());
    RawClient amqp(server.port());
    amqp.handshake();
    amqp.open_channel(1);
    p::QueueDeclare d;
    d.queue = "jobs";
    d.durable = true;
    d.arguments = FieldTable{{"x-max-length", 10}};
    amqp.send(1, d);
    amqp.expect<p::QueueDeclareOk>(1);
    amqp.publish(1, "", "jobs", "one");
    amqp.publish(1, "", "jobs", "two");

    HttpClient http(*server.server().management_port());
    auto overview = http.request("GET", "/api/overview").json();
    CHECK(overview.at("rabbitmq_version") == "3.10.8");
    CHECK(overview.at("object_totals").at("queues") == 1);
    CHECK(overview.at("object_totals").at("exchanges") == 7);
    CHECK(overview.at("object_totals").at("connections") == 1);
    CHECK(overview.at("queue_totals").at("messages") == 2);
    CHECK(overview.at("exchange_types").as_array().size() == 4);

    auto q = http.request("GET", "/api/queues/%2F/jobs").json();
    CHECK(q.at("name") == "jobs");
    CHECK(q.at("type") == "classic");
    CHECK(q.at("durable") == true);
    CHECK(q.at("messages_ready") == 2);
    CHECK(q.at("arguments").at("x-max-length") == 10);
    CHECK(http.request("GET", "/api/queues/%2F").json().as_array().size() == 1);
    CHECK(http.request("GET", "/api/queues/%2F/nope").body == R"({"error":"Object Not Found","reason":"Not Found"})");
    CHECK(http.request("GET", "/api/queues/nope").status == 404);

    auto xs = http.request("GET", "/api/exchanges/%2F/").json().as_array();
    CHECK(xs.size() == 7);
    CHECK(xs[0].at("name") == "");
    CHECK(http.request("GET", "/api/exchanges/%2F/amq.default").json().at("type") == "direct");
    auto bindings = http.request("GET", "/api/bindings/%2F").json().as_array();
    REQUIRE(bindings.size() == 1);
    CHECK(bindings[0].at("source") == "");
    CHECK(bindings[0].at("routing_key") == "jobs");
    CHECK(bindings[0].at("properties_key") == "jobs");

    auto vhost = http.request("GET", "/api/vhosts/%2F").json();
    CHECK(vhost.at("description") == "Default virtual host");
    CHECK(http.request("GET", "/api/permissions/%2F/guest").json().at("configure") == ".*");
    CHECK(http.request("GET", "/api/healthchecks/node").body == R"({"status":"ok"})");

    auto wrong_method = http.request("PUT", "/api/overview", "{}");
    CHECK(wrong_method.status == 405);
    CHECK(wrong_method.headers["allow"] == "HEAD, GET, OPTIONS");
    CHECK(http.request("GET", "/api/no-such-thing").status == 404);
    amqp.close();
}

TEST_CASE("management: definitions export and import over HTTP") {
    RunningServer server(with_management());
    HttpClient http(*server.server().management_port());
    std::ifstream in(WARREN_DEFINITIONS_FIXTURES "/rabbitmq-3.10.8.json");
    std::stringstream exported;
    exported << in.rdbuf();
    CHECK(http.request("POST", "/api/definitions", exported.str()).status == 204);
    CHECK(http.request("GET", "/api/queues/shop/payments").json().at("type") == "quorum");
    auto shop = http.request("GET", "/api/definitions/shop").json();
    CHECK(shop.at("queues").as_array().size() == 7);
    CHECK(http.request("GET", "/api/definitions/nope").body == R"({"error":"bad_request","reason":"vhost_not_found"})");
    CHECK(http.request("POST", "/api/definitions/nope", "{}").body == R"({"error":"not_found","reason":"vhost_not_found"})");
    auto malformed = http.request("POST", "/api/definitions", R"({"queues":[)");
    CHECK(malformed.status == 400);
    CHECK(malformed.body == R"({"error":"bad_request","reason":"failed_to_parse_json"})");
    auto no_vhost = http.request("POST", "/api/definitions",
                                 R"({"queues":[{"name":"q","vhost":"nope","durable":true,"auto_delete":false}]})");
    CHECK(no_vhost.body == R"({"error":"bad_request","reason":["no_such_vhost","nope"]})");
    // Users imported over HTTP log in over AMQP.
    RawClient amqp(server.port());
    HandshakeOptions login;
    login.user = "orders-service";
    login.password = "s3cret";
    login.vhost = "shop";
    amqp.handshake(login);
    amqp.close();
}

TEST_CASE("management: paths and methods are routed before credentials; HEAD and OPTIONS") {
    RunningServer server(with_management());
    HttpClient http(*server.server().management_port());
    auto unrouted = http.request("GET", "/api/no-such-endpoint", {}, "");
    CHECK(unrouted.status == 404);
    CHECK(unrouted.body == R"({"error":"Object Not Found","reason":"Not Found"})");
    auto refused = http.request("DELETE", "/api/overview", {}, basic("guest:nope"));
    CHECK(refused.status == 405);
    CHECK(refused.headers["allow"] == "HEAD, GET, OPTIONS");
    CHECK(http.request("PUT", "/api/no-such-endpoint", {}, "").headers["allow"] == "HEAD, GET, OPTIONS");
    auto slash = http.request("GET", "/api/queues/%2F/q/no-such-endpoint", {}, "");
    CHECK(slash.status == 400);
    CHECK(slash.body.empty());
    auto options = http.request("OPTIONS", "/api/queues/%2F/q", {}, "");
    CHECK(options.status == 200);
    CHECK(options.headers["allow"] == "HEAD, GET, PUT, DELETE, OPTIONS");
    CHECK(http.request("GET", "/api/overview", {}, "").status == 401);  // routed: credentials now
    // HEAD: the GET answer's headers, Content-Length included, and not one byte of body: the
    // next answer on the connection starts right after the head.
    http.send_request("HEAD", "/api/whoami");
    auto head = http.read_answer(false);
    CHECK(head.status == 200);
    CHECK(head.headers["content-type"] == "application/json");
    CHECK(head.headers["content-length"] == "41");
    auto get = http.request("GET", "/api/whoami");
    CHECK(get.status == 200);
    CHECK(get.body == R"({"name":"guest","tags":["administrator"]})");
    // Policies and limits: none, and a plain list to read.
    CHECK(http.request("GET", "/api/policies/%2F").body == "[]");
    CHECK(http.request("GET", "/api/vhost-limits").body == "[]");
    CHECK(http.request("GET", "/api/policies/%2F/p").status == 404);
}

TEST_CASE("management: the console's files are served at /") {
    RunningServer server(with_management());
    HttpClient http(*server.server().management_port());
    auto index = http.request("GET", "/", {}, "");
    CHECK(index.status == 200);
    CHECK(index.headers["content-type"] == "text/html");
    CHECK(index.body.find("console.js") != std::string::npos);
    CHECK(http.request("GET", "/console.js", {}, "").headers["content-type"] == "text/javascript");
    CHECK(http.request("GET", "/console.css", {}, "").headers["content-type"] == "text/css");
    CHECK(http.request("GET", "/nothing.html", {}, "").status == 404);
}

TEST_CASE("management: bad requests get an answer and the server keeps serving") {
    RunningServer server(with_management());
    const std::uint16_t port = *server.server().management_port();
    {
        HttpClient garbage(port);
        garbage.send_raw("NOT HTTP AT ALL\r\n\r\n");
        CHECK(garbage.read_answer().status == 400);
        CHECK(garbage.closed_by_server());
    }
    {
        // A body over the limit is refused before it is read whole.
        HttpClient big(port);
        big.send_raw("POST /api/definitions HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\n");
        CHECK(big.read_answer().status == 413);
    }
    {
        // Broken escapes in a path are a 400 with no body (Cowboy's answer), not a crash.
        HttpClient http(port);
        for (const char* path : {"/api/queues/%zz/q", "/api/queues/%2", "/api/%"}) {
            auto a = http.request("GET", path);
            CHECK(a.status == 400);
            CHECK(a.body.empty());
        }
    }
    // A client that sends half a request and waits holds its own socket only.
    HttpClient stalled(port);
    stalled.send_raw("GET /api/overview HTTP/1.1\r\nHost: x\r\n");
    HttpClient other(port);
    CHECK(other.request("GET", "/api/whoami").status == 200);
    // Keep-alive: several requests on one connection.
    CHECK(other.request("GET", "/api/vhosts").status == 200);
    CHECK(other.request("GET", "/api/exchanges").status == 200);
}

}  // namespace warren::test
