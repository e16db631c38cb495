#include "warren/server/session.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "warren/server/server.hpp"

namespace warren::server {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

/// A heartbeat frame: type 8, channel 0, size 0, frame-end.
constexpr char heartbeat_frame[] = {8, 0, 0, 0, 0, 0, 0, static_cast<char>(0xCE)};

/// How long a closed connection waits for the peer's FIN after its own.
constexpr std::chrono::milliseconds linger_time{1000};

/// Half a heartbeat interval, the heartbeat sender's period.
std::chrono::milliseconds half_interval(std::uint16_t heartbeat_seconds) {
    return std::chrono::milliseconds(heartbeat_seconds * 1000) / 2;
}

bool would_block(const error_code& ec) {
    return ec == asio::error::would_block || ec == asio::error::try_again;
}

}  // namespace

std::size_t FrameBoundaries::take(protocol::ByteView bytes) noexcept {
    std::size_t used = 0;
    if (protocol_header_left_ > 0) {
        used = std::min(protocol_header_left_, bytes.size());
        protocol_header_left_ -= used;
        return used;
    }
    while (used < bytes.size()) {
        if (header_have_ < sizeof header_) {
            header_[header_have_++] = bytes[used++];
            if (header_have_ == sizeof header_) {
                const std::uint32_t size = (std::uint32_t(header_[3]) << 24) | (std::uint32_t(header_[4]) << 16) |
                                           (std::uint32_t(header_[5]) << 8) | std::uint32_t(header_[6]);
                rest_ = std::uint64_t(size) + 1;
            }
            continue;
        }
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(rest_, bytes.size() - used));
        used += n;
        rest_ -= n;
        if (rest_ == 0) {
            header_have_ = 0;
            break;
        }
    }
    return used;
}

Session::Session(Server& server, tcp::socket socket, Peer peer)
    : server_(server),
      socket_(std::move(socket)),
      timer_(server.io()),
      conn_(server.broker(), server.options(), server.log(), std::move(peer), *this),
      last_write_(Clock::now()) {}

Session::~Session() = default;

void Session::start() {
    error_code ec;
    socket_.non_blocking(true, ec);
    socket_.set_option(tcp::no_delay(true), ec);  // RabbitMQ's tcp_listen_options nodelay
    server_.log().log(LogLevel::info, conn_.context(), "accepted");
    if (server_.memory_alarm()) conn_.set_memory_alarm(true);
    event([] {});
}

template <class F>
void Session::event(F&& f) {
    if (state_ == State::closed) return;
    auto keep = shared_from_this();
    in_event_ = true;
    f();
    in_event_ = false;
    after_event();
}

void Session::after_event() {
    if (state_ == State::closed) return;
    flush();
    if (state_ == State::closed) return;
    schedule_timer();
    arm_read();
    server_.broker_touched();
}

// ---- what the connection asks of the session -------------------------------------------------

void Session::output_added() {
    if (in_event_ || flush_posted_ || state_ != State::open) return;
    flush_posted_ = true;
    asio::post(server_.io(), [self = shared_from_this()] {
        self->flush_posted_ = false;
        self->event([] {});
    });
}

void Session::cut() {
    asio::post(server_.io(), [self = shared_from_this()] { self->close(); });
}

void Session::published(std::size_t bytes) { server_.note_published(bytes); }

void Session::shutdown() {
    event([this] { conn_.shutdown(); });
}

void Session::set_memory_alarm(bool on) {
    event([this, on] { conn_.set_memory_alarm(on); });
}

// ---- reading ----------------------------------------------------------------------------------

bool Session::over_read_limit() const {
    return state_ == State::open && conn_.engine().is_open() &&
           conn_.unwritten() > server_.options().output_read_limit;
}

bool Session::reading_paused() const {
    return over_read_limit() || (state_ == State::open && conn_.engine().is_open() && conn_.blocked());
}

void Session::arm_read() {
    if (state_ == State::closed || read_armed_ || reading_paused()) return;
    if (!held_input_.empty()) {
        // Input read before the pause goes first.
        read_armed_ = true;
        asio::post(server_.io(), [self = shared_from_this()] {
            self->read_armed_ = false;
            if (self->state_ == State::closed) return;
            std::vector<std::uint8_t> held;
            held.swap(self->held_input_);
            self->feed(held);
        });
        return;
    }
    read_armed_ = true;
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](const error_code& ec) {
        self->read_armed_ = false;
        self->on_readable(ec);
    });
}

void Session::on_readable(const error_code& wait_ec) {
    if (state_ == State::closed || wait_ec == asio::error::operation_aborted) return;
    if (wait_ec) return transport_failed(wait_ec, "waiting to read");
    std::vector<std::uint8_t>& buffer = server_.read_buffer();
    error_code ec;
    const std::size_t n = socket_.read_some(asio::buffer(buffer), ec);
    if (would_block(ec)) return arm_read();
    if (ec) {
        if (state_ == State::lingering) return close();  // the peer's FIN, or its reset
        return transport_failed(ec, "reading");
    }
    if (state_ == State::lingering) return arm_read();  // after the close: discarded
    feed(protocol::ByteView(buffer.data(), n));
}

void Session::feed(protocol::ByteView bytes) {
    std::size_t used = 0;
    event([&] {
        while (used < bytes.size() && !reading_paused()) {
            const std::size_t take = input_frames_.take(bytes.subspan(used));
            conn_.feed(bytes.subspan(used, take));
            used += take;
        }
        if (used < bytes.size()) held_input_.assign(bytes.begin() + static_cast<std::ptrdiff_t>(used), bytes.end());
    });
}

// ---- writing ----------------------------------------------------------------------------------

void Session::committed() {
    awaiting_commit_ = false;
    event([] {});
}

void Session::flush() {
    if (state_ != State::open) return;
    if (server_.commit_pending()) {
        // With a data directory, nothing goes out before what produced it is on disk.
        if (!awaiting_commit_) {
            awaiting_commit_ = true;
            server_.commit_later(shared_from_this());
        }
        return;
    }
    peak_unwritten_ = std::max(peak_unwritten_, conn_.unwritten() + direct_output_.size());
    if (write_armed_) return;  // on_writable flushes
    const auto now = Clock::now();
    for (;;) {
        const bool direct = !direct_output_.empty();
        const protocol::ByteView out = direct ? protocol::as_bytes(direct_output_) : conn_.engine().output();
        if (out.empty()) break;
        error_code ec;
        const std::size_t n = socket_.write_some(asio::buffer(out.data(), out.size()), ec);
        if (would_block(ec)) {
            if (!stalled_since_) stalled_since_ = now;
            write_armed_ = true;
            socket_.async_wait(tcp::socket::wait_write, [self = shared_from_this()](const error_code& e) {
                self->on_writable(e);
            });
            break;
        }
        if (ec) return transport_failed(ec, "writing");
        bytes_written_ += n;
        last_write_ = now;
        stalled_since_.reset();
        if (direct) direct_output_.erase(0, n);
        else conn_.engine().consume_output(n);
    }
    // Deliveries refused while the output was high may resume (their frames come back through
    // output_added).
    conn_.output_drained();
    if (conn_.engine().wants_close() && conn_.engine().output().empty() && direct_output_.empty()) linger();
}

void Session::on_writable(const error_code& ec) {
    write_armed_ = false;
    if (state_ == State::closed || ec == asio::error::operation_aborted) return;
    if (ec) return transport_failed(ec, "waiting to write");
    event([] {});
}

void Session::send_heartbeat_directly(Clock::time_point now) {
    const std::uint16_t heartbeat = conn_.engine().info().heartbeat;
    if (heartbeat == 0 || !conn_.engine().output().empty() || !direct_output_.empty()) return;
    if (now - last_write_ < half_interval(heartbeat)) return;
    direct_output_.assign(heartbeat_frame, sizeof heartbeat_frame);
}

// ---- timers -----------------------------------------------------------------------------------

void Session::schedule_timer() {
    if (state_ == State::closed) return;
    const auto now = Clock::now();
    std::optional<Clock::time_point> at;
    const auto earliest = [&](Clock::time_point t) {
        if (!at || t < *at) at = t;
    };
    if (state_ == State::lingering) {
        at = linger_until_;
    } else {
        if (!reading_paused()) {
            if (auto d = conn_.engine().next_deadline()) earliest(*d == Clock::time_point::min() ? now : *d);
        } else if (const std::uint16_t hb = conn_.engine().info().heartbeat; hb > 0) {
            earliest(last_write_ + half_interval(hb));
        }
        if (stalled_since_ && over_read_limit()) earliest(*stalled_since_ + server_.options().send_timeout);
    }
    if (at == timer_at_) return;
    timer_at_ = at;
    if (!at) {
        timer_.cancel();
        return;
    }
    timer_.expires_at(*at);
    timer_.async_wait([self = shared_from_this(), at](const error_code& ec) {
        if (ec || self->timer_at_ != at) return;  // re-armed or cancelled meanwhile
        self->timer_at_.reset();
        self->on_timer();
    });
}

void Session::on_timer() {
    if (state_ == State::closed) return;
    const auto now = Clock::now();
    if (state_ == State::lingering) return close();
    if (stalled_since_ && over_read_limit() && now - *stalled_since_ >= server_.options().send_timeout) {
        server_.log().log(LogLevel::warning, conn_.context(),
                          "closing: the client took no data for {} ms ({} bytes waiting)",
                          server_.options().send_timeout.count(), conn_.unwritten());
        conn_.transport_closed();
        return close();
    }
    event([&] {
        if (reading_paused()) send_heartbeat_directly(now);
        else conn_.tick(now);
    });
}

// ---- closing ----------------------------------------------------------------------------------

void Session::linger() {
    // The engine is done and its last bytes are written: send FIN, read (and drop) until the
    // peer's, so that a reset does not destroy the close the peer has yet to read.
    state_ = State::lingering;
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    linger_until_ = Clock::now() + linger_time;
    if (ec) close();
}

void Session::transport_failed(const error_code& ec, std::string_view doing) {
    if (ec != asio::error::eof && ec != asio::error::connection_reset && ec != asio::error::broken_pipe)
        server_.log().log(LogLevel::debug, conn_.context(), "socket error while {}: {}", doing, ec.message());
    conn_.transport_closed();
    close();
}

void Session::close() {
    if (state_ == State::closed) return;
    auto keep = shared_from_this();
    state_ = State::closed;
    // The engine reports the end to the Broker if it has not ended already.
    conn_.transport_closed();
    error_code ec;
    socket_.close(ec);
    timer_.cancel();
    server_.log().log(LogLevel::debug, conn_.context(), "socket closed");
    server_.session_closed(id());
}

SessionStats Session::stats() const {
    SessionStats s;
    s.id = conn_.peer().id;
    s.remote = conn_.peer().remote;
    s.broker_id = conn_.broker_id();
    s.unwritten = conn_.unwritten() + direct_output_.size();
    s.peak_unwritten = std::max(peak_unwritten_, s.unwritten);
    s.bytes_written = bytes_written_;
    s.reading = read_armed_;
    s.deliveries_paused = conn_.deliveries_paused();
    s.blocked = conn_.blocked();
    s.connection = conn_.engine().info();
    return s;
}

}  // namespace warren::server
