#include "warren/server/server.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <boost/asio/post.hpp>

#include "warren/server/memory.hpp"

namespace warren::server {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr std::size_t read_buffer_size = 128 * 1024;

std::string endpoint_text(const asio::ip::tcp::endpoint& e) {
    if (e.address().is_v6()) return fmt::format("[{}]:{}", e.address().to_string(), e.port());
    return fmt::format("{}:{}", e.address().to_string(), e.port());
}

bool is_loopback(const asio::ip::address& a) {
    if (a.is_loopback()) return true;
    if (a.is_v6() && a.to_v6().is_v4_mapped())
        return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
    return false;
}

[[noreturn]] void fail(const error_code& ec, const std::string& what) {
    throw std::system_error(static_cast<std::error_code>(ec), what);
}

}  // namespace

void Server::load_definitions(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(fmt::format("--definitions {}: cannot read the file", path));
    std::stringstream text;
    text << in.rdbuf();
    try {
        for (const std::string& warning : broker_->import_definitions(text.str()))
            log_.log(LogLevel::warning, "", "definitions {}: {}", path, warning);
    } catch (const DefinitionsError& e) {
        throw std::runtime_error(fmt::format("--definitions {}: {} (RabbitMQ's reason: {})", path, e.what(), e.reason()));
    }
    log_.log(LogLevel::info, "", "imported definitions from {}", path);
}

void Server::open_data_dir() {
    try {
        const DataDirReport r = broker_->open_data_dir(options_.data_dir, DataDirOptions{options_.data_fsync});
        for (const std::string& warning : r.warnings) log_.log(LogLevel::warning, "", "--data-dir: {}", warning);
        log_.log(LogLevel::info, "", "data directory {}: {} vhosts, {} exchanges, {} queues, {} bindings, {} messages restored",
                 options_.data_dir, r.vhosts, r.exchanges, r.queues, r.bindings, r.messages);
    } catch (const DataDirError& e) {
        throw std::runtime_error(fmt::format("--data-dir {}: {}", options_.data_dir, e.what()));
    }
    data_dir_open_ = true;
}

void Server::commit_later(std::shared_ptr<Session> session) {
    if (session) awaiting_commit_.push_back(std::move(session));
    if (commit_posted_) return;
    commit_posted_ = true;
    asio::post(io_, [this] { run_commit(); });
}

void Server::run_commit() {
    commit_posted_ = false;
    try {
        broker_->sync_data();
    } catch (const DataDirError& e) {
        // RabbitMQ's node stops when its message store cannot write: nothing unrecorded may be
        // confirmed.
        log_.log(LogLevel::error, "", "the data directory refused a write, stopping: {}", e.what());
        std::fflush(nullptr);
        std::_Exit(70);
    }
    std::vector<std::shared_ptr<Session>> waiting;
    waiting.swap(awaiting_commit_);
    for (auto& s : waiting) s->committed();
}

Server::Server(asio::io_context& io, ServerOptions options)
    : io_(io),
      options_(std::move(options)),
      log_(options_.log_level, options_.log_sink),
      broker_(std::make_unique<Broker>(
          BrokerOptions{options_.vhosts, options_.users, std::make_shared<SystemClock>()})),
      acceptor_(io),
      read_buffer_(read_buffer_size),
      broker_timer_(io),
      memory_timer_(io),
      accept_retry_timer_(io),
      shutdown_timer_(io) {
    if (!options_.data_dir.empty()) open_data_dir();
    if (!options_.definitions_file.empty()) load_definitions(options_.definitions_file);
    error_code ec;
    const asio::ip::address address = asio::ip::make_address(options_.bind_address, ec);
    if (ec) fail(ec, fmt::format("invalid bind address '{}'", options_.bind_address));
    const tcp::endpoint endpoint(address, options_.port);
    const std::string where = endpoint_text(endpoint);
    acceptor_.open(endpoint.protocol(), ec);
    if (ec) fail(ec, fmt::format("cannot listen on {}", where));
    acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    acceptor_.bind(endpoint, ec);
    if (ec) fail(ec, fmt::format("cannot listen on {}", where));
    acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) fail(ec, fmt::format("cannot listen on {}", where));
    endpoint_ = acceptor_.local_endpoint();
    if (options_.management_port)
        management_ = std::make_unique<ManagementListener>(io_, *this, options_.management_bind,
                                                           *options_.management_port);
    // vm_memory_high_watermark's default: 0.4 of physical memory.
    watermark_ = options_.memory_high_watermark != 0
                     ? options_.memory_high_watermark
                     : static_cast<std::uint64_t>(static_cast<double>(physical_memory_bytes()) * 0.4);
}

Server::~Server() {
    // Sessions may outlive the server inside pending handlers: let none keep the Broker.
    std::vector<std::shared_ptr<Session>> all;
    for (auto& [id, s] : sessions_) all.push_back(s);
    for (auto& s : all) s->close();
}

Server::tcp::endpoint Server::local_endpoint() const { return endpoint_; }

std::string Server::listening_on() const { return endpoint_text(endpoint_); }

std::optional<std::uint16_t> Server::management_port() const {
    if (!management_) return std::nullopt;
    return management_->port();
}

void Server::start() {
    // The Broker's, which a data directory may have restored.
    std::vector<std::string> users;
    for (const auto& u : broker_->users()) users.push_back(u.name);
    log_.log(LogLevel::info, "", "listening on {} (vhosts: {}; users: {}; memory high watermark: {} bytes)",
             listening_on(), fmt::join(broker_->vhosts(), ", "), fmt::join(users, ", "), watermark_);
    accept();
    if (management_) {
        management_->start();
        log_.log(LogLevel::info, "", "management API and console on http://{}:{}/", options_.management_bind,
                 management_->port());
    }
    arm_memory_timer();
    broker_touched();
}

void Server::accept() {
    acceptor_.async_accept([this](const error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (ec) {
            log_.log(LogLevel::warning, "", "accept failed: {}", ec.message());
            // Out of descriptors: try again shortly rather than spin.
            accept_retry_timer_.expires_after(std::chrono::milliseconds(100));
            accept_retry_timer_.async_wait([this](const error_code& e) {
                if (!e) accept();
            });
            return;
        }
        Peer peer;
        peer.id = next_session_id_++;
        error_code remote_ec;
        error_code local_ec;
        const tcp::endpoint remote = socket.remote_endpoint(remote_ec);
        const tcp::endpoint local = socket.local_endpoint(local_ec);
        if (remote_ec || local_ec) {
            accept();  // gone before we looked
            return;
        }
        peer.remote = endpoint_text(remote);
        peer.local = endpoint_text(local);
        peer.loopback = is_loopback(remote.address());
        auto session = std::make_shared<Session>(*this, std::move(socket), std::move(peer));
        sessions_.emplace(session->id(), session);
        session->start();
        accept();
    });
}

// ---- the Broker's timers ----------------------------------------------------------------------

void Server::broker_touched() {
    if (broker_check_posted_ || shutting_down_) return;
    broker_check_posted_ = true;
    asio::post(io_, [this] {
        broker_check_posted_ = false;
        arm_broker_timer();
    });
}

void Server::arm_broker_timer() {
    if (shutting_down_) return;
    const std::optional<TimePoint> next = broker_->next_deadline();
    if (next == broker_timer_at_) return;
    broker_timer_at_ = next;
    if (!next) {
        broker_timer_.cancel();
        return;
    }
    // The Broker's time is the system clock's; the timer's is steady. A millisecond more, so
    // that the deadline has passed on the Broker's clock when the timer fires.
    const auto delay = std::max(std::chrono::system_clock::duration::zero(),
                                *next - std::chrono::system_clock::now()) +
                       std::chrono::milliseconds(1);
    broker_timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay));
    broker_timer_.async_wait([this, next](const error_code& ec) {
        if (ec || broker_timer_at_ != next) return;
        broker_timer_at_.reset();
        broker_->run_due();
        if (commit_pending()) commit_later(nullptr);
        broker_touched();
    });
}

// ---- memory -----------------------------------------------------------------------------------

void Server::arm_memory_timer() {
    if (shutting_down_) return;
    memory_timer_.expires_after(options_.memory_check_interval);
    memory_timer_.async_wait([this](const error_code& ec) {
        if (ec) return;
        check_memory();
        arm_memory_timer();
    });
}

void Server::note_published(std::size_t bytes) {
    // Between samples, a burst of publishes of a hundredth of the watermark asks for one early.
    const bool was_below = published_since_check_ < watermark_ / 100;
    published_since_check_ += bytes;
    if (was_below && published_since_check_ >= watermark_ / 100)
        asio::post(io_, [this] { check_memory(); });
}

void Server::check_memory() {
    if (shutting_down_) return;
    published_since_check_ = 0;
    const std::uint64_t used = options_.memory_probe ? options_.memory_probe() : allocated_memory_bytes();
    const bool over = used > watermark_;
    if (over != memory_alarm_) set_memory_alarm(over, used);
}

void Server::set_memory_alarm(bool on, std::uint64_t used) {
    memory_alarm_ = on;
    if (on)
        log_.log(LogLevel::warning, "",
                 "memory resource limit alarm set: {} bytes allocated, high watermark {} bytes; "
                 "publishers are blocked until it clears",
                 used, watermark_);
    else
        log_.log(LogLevel::info, "", "memory resource limit alarm cleared: {} bytes allocated, high watermark {} bytes",
                 used, watermark_);
    std::vector<std::shared_ptr<Session>> all;
    for (auto& [id, s] : sessions_) all.push_back(s);
    for (auto& s : all) s->set_memory_alarm(on);
}

// ---- sessions and shutdown --------------------------------------------------------------------

void Server::session_closed(std::uint64_t id) {
    sessions_.erase(id);
    broker_touched();
    maybe_finish_shutdown();
}

std::vector<SessionStats> Server::sessions() const {
    std::vector<SessionStats> out;
    for (const auto& [id, s] : sessions_) out.push_back(s->stats());
    return out;
}

void Server::shutdown(std::function<void()> done) {
    if (shutting_down_) return;
    shutting_down_ = true;
    shutdown_done_ = std::move(done);
    log_.log(LogLevel::info, "", "shutting down: closing {} connection(s) with 320 CONNECTION_FORCED",
             sessions_.size());
    error_code ec;
    acceptor_.close(ec);
    if (management_) management_->stop();
    broker_timer_.cancel();
    memory_timer_.cancel();
    accept_retry_timer_.cancel();
    std::vector<std::shared_ptr<Session>> all;
    for (auto& [id, s] : sessions_) all.push_back(s);
    for (auto& s : all) s->shutdown();
    shutdown_timer_.expires_after(options_.shutdown_grace);
    shutdown_timer_.async_wait([this](const error_code& e) {
        if (e) return;
        std::vector<std::shared_ptr<Session>> left;
        for (auto& [id, s] : sessions_) left.push_back(s);
        if (!left.empty())
            log_.log(LogLevel::warning, "", "shutdown: {} connection(s) did not close in {} ms; dropping them",
                     left.size(), options_.shutdown_grace.count());
        for (auto& s : left) s->close();
    });
    maybe_finish_shutdown();
}

void Server::maybe_finish_shutdown() {
    if (!shutting_down_ || !sessions_.empty()) return;
    shutdown_timer_.cancel();
    if (!shutdown_done_) return;
    auto done = std::move(shutdown_done_);
    shutdown_done_ = nullptr;
    log_.log(LogLevel::info, "", "stopped");
    done();
}

}  // namespace warren::server
