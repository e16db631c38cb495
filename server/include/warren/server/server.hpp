// warren-server's listener: one Broker for every connection, on one io_context thread.
//
//   boost::asio::io_context io;
//   warren::server::Server server(io, options);   // binds; throws std::system_error
//   server.start();                                // accepts; "listening on" is logged
//   io.run();                                      // until shutdown() has closed everything
//
// The Broker runs on a SystemClock; after every event the server re-arms one timer at the
// Broker's next deadline (message and queue expiry) and calls Broker::run_due when it fires.
// A second timer samples memory against the high watermark (ServerOptions).
//
// Threading: construct anywhere; every other member must run on the io_context's thread
// (post to it from elsewhere). Exceptions: construction throws std::system_error when the
// address cannot be bound, std::runtime_error when the definitions file cannot be loaded.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "warren/emulator/broker.hpp"
#include "warren/server/log.hpp"
#include "warren/server/management.hpp"
#include "warren/server/options.hpp"
#include "warren/server/session.hpp"

namespace warren::server {

class Server {
public:
    using tcp = boost::asio::ip::tcp;

    Server(boost::asio::io_context& io, ServerOptions options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// The bound address (with the port chosen when the options said 0).
    tcp::endpoint local_endpoint() const;
    std::uint16_t port() const { return local_endpoint().port(); }
    /// "127.0.0.1:5672" ("[::1]:5672" for IPv6).
    std::string listening_on() const;

    /// The management API's port, when it is on.
    std::optional<std::uint16_t> management_port() const;

    /// Starts accepting connections and the timers.
    void start();
    /// Stops accepting, closes every connection with 320 CONNECTION_FORCED ("broker forced
    /// connection closure with reason 'shutdown'"), waits for them to close (at most
    /// ServerOptions::shutdown_grace), then calls `done`.
    void shutdown(std::function<void()> done = {});

    Broker& broker() noexcept { return *broker_; }
    const Logger& log() const noexcept { return log_; }
    const ServerOptions& options() const noexcept { return options_; }
    std::vector<SessionStats> sessions() const;
    bool memory_alarm() const noexcept { return memory_alarm_; }
    std::uint64_t memory_high_watermark() const noexcept { return watermark_; }

    // ---- for sessions ----
    boost::asio::io_context& io() noexcept { return io_; }
    /// The read buffer every session borrows for one read at a time.
    std::vector<std::uint8_t>& read_buffer() noexcept { return read_buffer_; }
    /// Something happened that may change the Broker's next deadline.
    void broker_touched();
    void session_closed(std::uint64_t id);
    /// Whether the Broker holds changes not yet durable: a session then sends nothing until
    /// the next group commit (commit_later), so that no confirm, reply or ack's effect goes
    /// out before its record is on disk.
    bool commit_pending() const { return data_dir_open_ && broker_->data_pending(); }
    /// Flushes `session` (when not null) after the next group commit, which runs once the
    /// ready handlers have run.
    void commit_later(std::shared_ptr<Session> session);
    /// Commits now, when anything waits (the management API answers after it).
    void sync_data() {
        if (commit_pending()) run_commit();
    }
    void note_published(std::size_t bytes);

private:
    /// ServerOptions::definitions_file; throws std::runtime_error saying what is wrong.
    void load_definitions(const std::string& path);
    /// ServerOptions::data_dir; throws std::runtime_error saying what is wrong.
    void open_data_dir();
    void run_commit();
    void accept();
    void arm_broker_timer();
    void check_memory();
    void arm_memory_timer();
    void set_memory_alarm(bool on, std::uint64_t used);
    void maybe_finish_shutdown();

    boost::asio::io_context& io_;
    ServerOptions options_;
    Logger log_;
    std::unique_ptr<Broker> broker_;
    tcp::acceptor acceptor_;
    tcp::endpoint endpoint_;
    std::map<std::uint64_t, std::shared_ptr<Session>> sessions_;
    std::uint64_t next_session_id_ = 1;
    std::vector<std::uint8_t> read_buffer_;

    boost::asio::steady_timer broker_timer_;
    std::optional<TimePoint> broker_timer_at_;
    bool broker_check_posted_ = false;

    boost::asio::steady_timer memory_timer_;
    std::uint64_t watermark_ = 0;
    bool memory_alarm_ = false;
    std::uint64_t published_since_check_ = 0;

    std::unique_ptr<ManagementListener> management_;

    bool data_dir_open_ = false;
    bool commit_posted_ = false;
    std::vector<std::shared_ptr<Session>> awaiting_commit_;

    boost::asio::steady_timer accept_retry_timer_;
    boost::asio::steady_timer shutdown_timer_;
    bool shutting_down_ = false;
    std::function<void()> shutdown_done_;
};

}  // namespace warren::server
