// RabbitMQ's management HTTP API and the web console, over warren-server's Broker.
//
//   ManagementApi api(server);                       // the routes, without I/O
//   HttpResponse r = api.handle(request);            // on the server's io_context thread
//   ManagementListener http(io, server, "127.0.0.1", 15672);   // Boost.Beast, same thread
//   http.start();
//
// Paths, methods, status codes, JSON field names and error texts are RabbitMQ 3.10.8's (its
// management plugin, recorded in conformance/management/golden.json). The API runs on the
// AMQP side's io_context thread: every request is one short call into the Broker, as an AMQP
// method is, and what it causes (deliveries of a published message) reaches the AMQP
// connections through their sinks.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace warren::server {

class Server;

struct HttpRequest {
    std::string method;  // "GET", "PUT", ...
    std::string target;  // "/api/queues/%2F/q?if-empty=true"
    std::string authorization;
    std::string body;
    bool peer_is_loopback = true;
};

struct HttpResponse {
    unsigned status = 200;
    std::string content_type;  // empty: no body
    std::string body;
    std::map<std::string, std::string> headers;
};

class ManagementApi {
public:
    explicit ManagementApi(Server& server) : server_(server) {}
    HttpResponse handle(const HttpRequest& request);

private:
    Server& server_;
};

/// The HTTP listener: keep-alive connections, a body limit, and a timeout for clients that
/// stall mid-request.
class ManagementListener {
public:
    /// Binds; throws std::system_error when it cannot.
    ManagementListener(boost::asio::io_context& io, Server& server, const std::string& address,
                       std::uint16_t port);
    ~ManagementListener();
    void start();
    void stop();
    std::uint16_t port() const noexcept { return port_; }

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
    std::uint16_t port_ = 0;
};

}  // namespace warren::server
