// One client socket: a thin loop that reads into the engine, writes what the engine produces,
// and runs the engine's timers. All AMQP work is in BrokerConnection.
//
// Reads and writes are non-blocking calls made when the socket is ready (async_wait), so an
// idle connection holds no buffer: the server lends one read buffer to every session in turn.
// Reading stops while the connection is blocked by the memory alarm or its unwritten output is
// over ServerOptions::output_read_limit; meanwhile the engine's timers are held (RabbitMQ
// pauses its heartbeat monitor) and the session sends heartbeats itself. A connection over the
// read limit whose socket takes no bytes for ServerOptions::send_timeout is closed.
//
// Threading: every member runs on the server's one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "warren/server/broker_connection.hpp"

namespace warren::server {

class Server;

/// Where the frames of an inbound AMQP byte stream end (after the 8-byte protocol header), so
/// that input can be fed one frame at a time and reading can pause between any two frames.
class FrameBoundaries {
public:
    /// How many of `bytes` (the stream's next bytes) belong to the current unit: the protocol
    /// header, or one frame (header, payload, frame-end). All of them when the unit goes on.
    std::size_t take(protocol::ByteView bytes) noexcept;

private:
    std::size_t protocol_header_left_ = 8;
    std::uint8_t header_[7] = {};
    std::size_t header_have_ = 0;
    std::uint64_t rest_ = 0;  // payload and frame-end still to come
};

/// A snapshot of a session, for tests and diagnostics.
struct SessionStats {
    std::uint64_t id = 0;
    std::string remote;
    std::optional<emulator::ConnectionId> broker_id;
    std::size_t unwritten = 0;        // bytes produced and not yet taken by the socket
    std::size_t peak_unwritten = 0;   // the most there ever was
    std::uint64_t bytes_written = 0;
    bool reading = false;             // a read is armed (not paused)
    bool deliveries_paused = false;
    bool blocked = false;             // by the memory alarm
    /// As negotiated (connection.start-ok, tune-ok): what /api/connections shows.
    protocol::ConnectionInfo connection = {};
};

class Session final : public std::enable_shared_from_this<Session>, private ConnectionOwner {
public:
    using tcp = boost::asio::ip::tcp;
    using Clock = std::chrono::steady_clock;

    Session(Server& server, tcp::socket socket, Peer peer);
    ~Session() override;

    void start();
    /// Broker shutdown: 320 CONNECTION_FORCED, then close once the peer answers (or the
    /// server's grace period ends and it calls close()).
    void shutdown();
    /// Closes the socket now.
    void close();
    void set_memory_alarm(bool on);
    /// The group commit this session waited for is done: writes what it held back.
    void committed();

    std::uint64_t id() const noexcept { return conn_.peer().id; }
    bool closed() const noexcept { return state_ == State::closed; }
    SessionStats stats() const;
    BrokerConnection& connection() noexcept { return conn_; }

private:
    enum class State { open, lingering, closed };

    // ConnectionOwner
    void output_added() override;
    void cut() override;
    void published(std::size_t bytes) override;

    /// Runs `f` as one event: then writes, re-arms the timer and the read, and tells the
    /// server the Broker may have new deadlines.
    template <class F>
    void event(F&& f);
    void after_event();

    bool reading_paused() const;
    bool over_read_limit() const;
    void arm_read();
    void on_readable(const boost::system::error_code& ec);
    /// Feeds `bytes` to the engine a frame at a time, stopping when reading pauses; the rest is
    /// held until it resumes.
    void feed(protocol::ByteView bytes);
    void flush();
    void on_writable(const boost::system::error_code& ec);
    void schedule_timer();
    void on_timer();
    void send_heartbeat_directly(Clock::time_point now);
    /// The engine is done and everything is written: FIN, then wait for the peer's.
    void linger();
    void transport_failed(const boost::system::error_code& ec, std::string_view doing);

    Server& server_;
    tcp::socket socket_;
    boost::asio::steady_timer timer_;
    BrokerConnection conn_;
    State state_ = State::open;

    bool in_event_ = false;
    bool flush_posted_ = false;
    bool awaiting_commit_ = false;
    bool read_armed_ = false;
    bool write_armed_ = false;
    std::optional<Clock::time_point> timer_at_;
    std::optional<Clock::time_point> stalled_since_;  // output waiting, socket full
    Clock::time_point last_write_;
    std::optional<Clock::time_point> linger_until_;
    std::string direct_output_;  // heartbeats sent while the engine's timers are held
    std::vector<std::uint8_t> held_input_;  // read, not yet fed: reading paused meanwhile
    FrameBoundaries input_frames_;
    std::size_t peak_unwritten_ = 0;
    std::uint64_t bytes_written_ = 0;
};

}  // namespace warren::server
