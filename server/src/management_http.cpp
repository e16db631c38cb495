// ManagementListener: HTTP/1.1 over Boost.Beast for the management API and console, on the
// server's io_context. Each connection reads one request at a time (keep-alive), with a body
// limit and a deadline, so a slow or half-open client holds one socket and nothing else.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "warren/server/management.hpp"
#include "warren/server/server.hpp"

namespace warren::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

/// The largest request body accepted (RabbitMQ's management.http.max_body_size default is
/// 10 MB); more gets 413 and the connection closed.
constexpr std::size_t max_body = 10'000'000;
/// A request must arrive whole within this long, and the client must take the answer.
constexpr std::chrono::seconds request_deadline{30};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
public:
    HttpSession(tcp::socket socket, Server& server) : stream_(std::move(socket)), server_(server), api_(server) {
        beast::error_code ec;
        const auto remote = stream_.socket().remote_endpoint(ec);
        loopback_ = !ec && remote.address().is_loopback();
    }

    void start() { read(); }
    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream_.close();
    }

private:
    void read() {
        parser_.emplace();
        parser_->body_limit(max_body);
        parser_->header_limit(64 * 1024);
        stream_.expires_after(request_deadline);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted) {
            close();
            return;
        }
        if (ec) {
            // A malformed or oversized request: answered, then the connection is closed.
            const bool too_large = ec == http::error::body_limit || ec == http::error::header_limit;
            HttpResponse r{too_large ? 413u : 400u, "text/plain", too_large ? "Request Entity Too Large" : "Bad Request", {}};
            write(std::move(r), false);
            return;
        }
        auto& req = parser_->get();
        HttpRequest request{std::string(req.method_string()), std::string(req.target()),
                            std::string(req[http::field::authorization]), std::move(req.body()), loopback_};
        auto response = api_.handle(request);
        // With a data directory, an answer goes out once what the request changed is on disk.
        server_.sync_data();
        write(std::move(response), req.keep_alive(), req.method() == http::verb::head);
    }

    /// A HEAD answer has the GET answer's headers, its Content-Length included, and no body.
    void write(HttpResponse r, bool keep_alive, bool head = false) {
        auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), 11);
        res->set(http::field::server, "warren");
        if (!r.content_type.empty()) res->set(http::field::content_type, r.content_type);
        for (const auto& [k, v] : r.headers) res->set(k, v);
        res->keep_alive(keep_alive);
        if (head) {
            res->content_length(r.body.size());
        } else {
            res->body() = std::move(r.body);
            res->prepare_payload();
        }
        stream_.expires_after(request_deadline);
        http::async_write(stream_, *res, [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
            if (ec || !keep_alive) {
                self->close();
                return;
            }
            self->read();
        });
    }

    beast::tcp_stream stream_;
    Server& server_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    ManagementApi api_;
    bool loopback_ = true;
};

}  // namespace

struct ManagementListener::Impl {
    Impl(asio::io_context& io, Server& s) : acceptor(io), server(s) {}
    tcp::acceptor acceptor;
    Server& server;
    bool stopped = false;

    void accept(std::shared_ptr<Impl> self) {
        acceptor.async_accept([self](beast::error_code ec, tcp::socket socket) {
            if (self->stopped || ec == asio::error::operation_aborted) return;
            if (!ec) std::make_shared<HttpSession>(std::move(socket), self->server)->start();
            self->accept(self);
        });
    }
};

ManagementListener::ManagementListener(asio::io_context& io, Server& server, const std::string& address,
                                       std::uint16_t port)
    : impl_(std::make_shared<Impl>(io, server)) {
    beast::error_code ec;
    const auto ip = asio::ip::make_address(address, ec);
    if (ec) throw std::system_error(static_cast<std::error_code>(ec), fmt::format("invalid management address '{}'", address));
    const tcp::endpoint endpoint(ip, port);
    auto check = [&](std::string_view what) {
        if (ec)
            throw std::system_error(static_cast<std::error_code>(ec),
                                    fmt::format("management API cannot {} {}:{}", what, address, port));
    };
    impl_->acceptor.open(endpoint.protocol(), ec);
    check("listen on");
    impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    impl_->acceptor.bind(endpoint, ec);
    check("bind");
    impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    check("listen on");
    port_ = impl_->acceptor.local_endpoint().port();
}

ManagementListener::~ManagementListener() { stop(); }

void ManagementListener::start() { impl_->accept(impl_); }

void ManagementListener::stop() {
    impl_->stopped = true;
    beast::error_code ec;
    impl_->acceptor.close(ec);
}

}  // namespace warren::server
