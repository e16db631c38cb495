#include "warren/protocol/server_connection.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "warren/protocol/content_header.hpp"
#include "warren/protocol/erlang_text.hpp"

// Behaviour cited below is rabbit_reader, rabbit_command_assembler and rabbit_channel of
// RabbitMQ 3.10.8, and was checked against that broker with raw-socket probes.

namespace warren::protocol {

// ---- errors -----------------------------------------------------------------------------------

namespace {

class EngineCategory final : public std::error_category {
public:
    const char* name() const noexcept override { return "warren.amqp.engine"; }
    std::string message(int ev) const override {
        switch (static_cast<EngineError>(ev)) {
            case EngineError::connection_not_open: return "connection is not open";
            case EngineError::channel_not_open: return "channel is not open";
            case EngineError::not_a_content_method: return "method carries no content";
        }
        return "unknown engine error";
    }
};

}  // namespace

const std::error_category& engine_category() noexcept {
    static const EngineCategory category;
    return category;
}

std::error_code make_error_code(EngineError e) noexcept {
    return {static_cast<int>(e), engine_category()};
}

namespace {

using namespace std::chrono_literals;

AmqpError internal_error() {
    // A non-AMQP exit reason: rabbit_binary_generator:lookup_amqp_exception gives the bare
    // name as the text and no method.
    return AmqpError(ReplyCode::InternalError, "INTERNAL_ERROR", method::none);
}

/// A reply text as it fits a short string: RabbitMQ keeps 252 bytes and appends "...".
std::string reply_text(const AmqpError& e) {
    std::string text = e.reply_text();
    if (text.size() > 255) {
        text.resize(252);
        text += "...";
    }
    return text;
}

constexpr std::uint32_t method_key(MethodId id) {
    return (std::uint32_t{id.class_id} << 16) | id.method_id;
}

/// The client methods a RabbitMQ channel hands to the broker: those amqp_methods.def marks
/// `handler`.
bool served_by_broker(MethodId id) {
#define WARREN_AMQP_DISPATCH_handler true
#define WARREN_AMQP_DISPATCH_engine false
    switch (method_key(id)) {
#define WARREN_METHOD(Struct, snake, class_id, method_id, name, content, dispatch) \
    case method_key(method::snake): return WARREN_AMQP_DISPATCH_##dispatch;
#include "warren/protocol/amqp_methods.def"
        default: return false;
    }
#undef WARREN_AMQP_DISPATCH_handler
#undef WARREN_AMQP_DISPATCH_engine
}

/// PLAIN as rabbit_auth_mechanism_plain reads it: exactly NUL user NUL password, the
/// password without NUL (no authorization identity).
bool parse_plain(const std::string& response, Credentials& c) {
    if (response.empty() || response[0] != '\0') return false;
    const auto second = response.find('\0', 1);
    if (second == std::string::npos) return false;
    if (response.find('\0', second + 1) != std::string::npos) return false;
    c.username = response.substr(1, second - 1);
    c.password = response.substr(second + 1);
    return true;
}

/// AMQPLAIN as rabbit_auth_mechanism_amqplain reads it: a field table body with LOGIN and
/// PASSWORD strings.
bool parse_amqplain(const std::string& response, Credentials& c) {
    FieldTable t;
    if (decode_field_table(as_bytes(response), t)) return false;
    const FieldValue* login = t.find("LOGIN");
    const FieldValue* password = t.find("PASSWORD");
    if (!login || !password || !login->is_string() || !password->is_string()) return false;
    c.username = login->as_string();
    c.password = password->as_string();
    return true;
}

}  // namespace

// ---- construction, input ----------------------------------------------------------------------

ServerConnection::ServerConnection(ServerHandler& handler, ServerConfig config,
                                   Clock::time_point now)
    : handler_(handler), config_(std::move(config)) {
    handshake_timer_.at = now + config_.handshake_timeout;
}

std::size_t ServerConnection::feed(ByteView bytes) {
    bytes_received_ += bytes.size();
    std::size_t used = 0;
    while (used < bytes.size() && phase_ != Phase::closed) {
        if (phase_ == Phase::awaiting_header) {
            take_protocol_header(bytes, used);
            continue;
        }
        used += decoder_.feed(bytes.subspan(used));
        if (decoder_.error()) {
            handle_decoder_error();  // always ends the connection
            break;
        }
        if (decoder_.ready()) {
            const FrameHeader h = decoder_.header();
            handle_frame(h.type, h.channel, decoder_.payload());
            decoder_.next();
        }
    }
    return bytes.size();
}

void ServerConnection::take_protocol_header(ByteView bytes, std::size_t& used) {
    const std::size_t take = std::min(sizeof header_bytes_ - header_have_, bytes.size() - used);
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(used), take, header_bytes_ + header_have_);
    header_have_ += take;
    used += take;
    if (header_have_ < sizeof header_bytes_) return;

    // rabbit_reader:handshake: "AMQP" 0 0 9 1 and the older "AMQP" 1 1 0 9 both mean 0-9-1;
    // anything else (0-8, 1.0 without its plugin, garbage) gets the supported header back and
    // the socket closed.
    const std::uint8_t* h = header_bytes_;
    const bool amqp = h[0] == 'A' && h[1] == 'M' && h[2] == 'Q' && h[3] == 'P';
    const bool v091 = h[4] == 0 && h[5] == 0 && h[6] == 9 && h[7] == 1;
    const bool v091_old = h[4] == 1 && h[5] == 1 && h[6] == 0 && h[7] == 9;
    if (!amqp || !(v091 || v091_old)) {
        const std::size_t before = out_.size();
        out_.insert(out_.end(), protocol_header.begin(), protocol_header.end());
        bytes_sent_ += out_.size() - before;
        phase_ = Phase::closed;
        handshake_timer_.stop();
        wants_close_ = true;
        return;
    }
    phase_ = Phase::starting;
    ConnectionStart start;
    start.version_major = 0;
    start.version_minor = 9;
    start.server_properties = server_properties();
    for (const auto& m : config_.mechanisms) {
        if (!start.mechanisms.empty()) start.mechanisms += ' ';
        start.mechanisms += m;
    }
    start.locales = "en_US";
    write_method(0, start);
}

void ServerConnection::handle_decoder_error() {
    const FrameHeader& h = decoder_.header();
    std::string explanation;
    if (decoder_.error() == CodecError::frame_too_large)
        explanation = frame_too_large_explanation(h.type, h.size, decoder_.frame_max());
    else
        explanation = invalid_frame_end_explanation(h.type, decoder_.payload(), decoder_.bad_end_octet());
    // rabbit_reader:fatal_frame_error: the error is handled, then the reader pauses and dies.
    fail(AmqpError::make(ReplyCode::FrameError, method::none, explanation), true);
}

void ServerConnection::handle_frame(std::uint8_t type, std::uint16_t channel, ByteView payload) {
    if (phase_ == Phase::closing) return handle_frame_while_closing(type, channel, payload);
    if (channel == 0) return handle_channel0_frame(type, payload);
    handle_channel_frame(type, channel, payload);
}

void ServerConnection::handle_frame_while_closing(std::uint8_t type, std::uint16_t channel,
                                                  ByteView payload) {
    // After connection.close RabbitMQ still answers connection.close and waits for
    // connection.close-ok on channel 0; everything else is dropped unread.
    if (channel != 0 || type != frame_type::method) return;
    auto decoded = decode_method(payload);
    if (!decoded) return;
    if (std::holds_alternative<ConnectionClose>(decoded.value)) {
        write_method(0, ConnectionCloseOk{});
    } else if (std::holds_alternative<ConnectionCloseOk>(decoded.value)) {
        phase_ = Phase::closed;
        close_timer_.stop();
        wants_close_ = true;
    }
}

void ServerConnection::handle_channel0_frame(std::uint8_t type, ByteView payload) {
    switch (type) {
        case frame_type::method: break;
        case frame_type::heartbeat:
            if (!payload.empty())
                fail(AmqpError::make(ReplyCode::FrameError, method::none,
                                     unknown_frame_explanation(type, payload)));
            return;
        case frame_type::header:
            if (payload.size() < 12)
                return fail(AmqpError::make(ReplyCode::FrameError, method::none,
                                            unknown_frame_explanation(type, payload)));
            [[fallthrough]];
        case frame_type::body:
            return fail(AmqpError::make(ReplyCode::UnexpectedFrame, method::none,
                                        unexpected_frame_explanation(type, payload)));
        default:
            return fail(AmqpError::make(ReplyCode::FrameError, method::none,
                                        unknown_frame_explanation(type, payload)));
    }
    if (payload.size() < 4)
        return fail(AmqpError::make(ReplyCode::FrameError, method::none,
                                    unknown_frame_explanation(type, payload)));
    const MethodId id{static_cast<std::uint16_t>((payload[0] << 8) | payload[1]),
                      static_cast<std::uint16_t>((payload[2] << 8) | payload[3])};
    // rabbit_framing_amqp_0_9_1:lookup_method_name exits on an unknown pair, outside any
    // handler: the reader crashes.
    if (!is_known_method(id)) return drop();
    auto decoded = decode_method_arguments(id, payload.subspan(4));
    if (decoded.error == CodecError::malformed_utf8) {
        // An AMQP error without a method: rabbit_reader:handle_method0 names the method.
        return fail(AmqpError::make(ReplyCode::FrameError, id, "Malformed UTF-8 in shortstr"));
    }
    if (decoded.error) {
        // rabbit_misc:frame_error names the method, so handle_method0's catch-all sees a
        // non-AMQP reason: 541 once running, a silent drop before.
        return fail(internal_error());
    }
    handle_connection_method(std::move(decoded.value));
}

void ServerConnection::handle_connection_method(Method&& method) {
    const MethodId id = method_id(method);
    const auto unexpected = [&](std::string_view state) {
        fail(AmqpError::format(ReplyCode::ChannelError, id,
                               "unexpected method in connection state {}", state));
    };
    switch (phase_) {
        case Phase::starting:
            if (auto* m = std::get_if<ConnectionStartOk>(&method))
                return handle_start_ok(std::move(*m));
            return unexpected("starting");
        case Phase::tuning:
            if (auto* m = std::get_if<ConnectionTuneOk>(&method)) return handle_tune_ok(*m);
            return unexpected("tuning");
        case Phase::opening:
            if (auto* m = std::get_if<ConnectionOpen>(&method)) return handle_open(*m);
            return unexpected("opening");
        case Phase::running:
            break;
        default:
            return;
    }
    if (auto* m = std::get_if<ConnectionClose>(&method)) {
        const AmqpError received(static_cast<ReplyCode>(m->reply_code), m->reply_text,
                                 MethodId{m->class_id, m->method_id});
        write_method(0, ConnectionCloseOk{});
        phase_ = Phase::closed;
        wants_close_ = true;
        end_connection(ConnectionEnd::Cause::peer_closed, received);
        return;
    }
    if (auto* m = std::get_if<ConnectionUpdateSecret>(&method)) {
        if (auto refused = handler_.update_secret(m->new_secret, m->reason)) {
            AmqpError e = *refused;
            if (e.method() == method::none) e = AmqpError(e.code(), e.reply_text(), id);
            return fail(e);
        }
        if (phase_ == Phase::running) write_method(0, ConnectionUpdateSecretOk{});
        return;
    }
    unexpected("running");
}

void ServerConnection::handle_start_ok(ConnectionStartOk&& m) {
    info_.client_properties = std::move(m.client_properties);
    info_.mechanism = m.mechanism;
    // rabbit_reader:auth_mechanism_to_module: an unknown or unoffered mechanism is
    // COMMAND_INVALID, which before tuning means a silent drop.
    const bool offered = std::find(config_.mechanisms.begin(), config_.mechanisms.end(),
                                   m.mechanism) != config_.mechanisms.end();
    Credentials c;
    c.mechanism = m.mechanism;
    bool parsed = false;
    if (offered && m.mechanism == "PLAIN") parsed = parse_plain(m.response, c);
    else if (offered && m.mechanism == "AMQPLAIN") parsed = parse_amqplain(m.response, c);
    if (!parsed) {
        return fail(AmqpError::format(ReplyCode::SyntaxError, method::none,
                                      "invalid {} response", m.mechanism));
    }
    const bool admitted = handler_.authenticate(c);
    if (phase_ != Phase::starting) return;  // the handler closed the connection
    if (!admitted) {
        // rabbit_reader:auth_fail: the reason is told only to clients that asked for it.
        if (client_capability("authentication_failure_close")) {
            const AmqpError refused = AmqpError::format(
                ReplyCode::AccessRefused, method::none,
                "Login was refused using authentication mechanism {}. For details see the "
                "broker logfile.",
                m.mechanism);
            send_connection_close(refused, ConnectionEnd::Cause::protocol_error);
            phase_ = Phase::closing;
            close_timer_.start(close_ok_wait());
        } else {
            phase_ = Phase::closed;
            wants_close_ = true;
        }
        return;
    }
    info_.user = std::move(c.username);
    phase_ = Phase::tuning;
    write_method(0, ConnectionTune{config_.channel_max, config_.frame_max, config_.heartbeat});
}

void ServerConnection::handle_tune_ok(const ConnectionTuneOk& m) {
    // rabbit_reader:validate_negotiated_integer_value; a failure is a silent drop this early.
    const auto within = [](std::uint32_t client, std::uint32_t min, std::uint32_t server) {
        if (client != 0 && client < min) return false;
        if (server != 0 && (client == 0 || client > server)) return false;
        return true;
    };
    if (!within(m.frame_max, frame_min_size, config_.frame_max))
        return fail(AmqpError::format(ReplyCode::NotAllowed, method::connection_tune,
                                      "negotiated frame_max = {} is out of range", m.frame_max));
    if (!within(m.channel_max, 1, config_.channel_max))
        return fail(AmqpError::format(ReplyCode::NotAllowed, method::connection_tune,
                                      "negotiated channel_max = {} is out of range",
                                      m.channel_max));
    // RabbitMQ adopts the client's values as they are.
    info_.frame_max = m.frame_max;
    info_.channel_max = m.channel_max;
    info_.heartbeat = m.heartbeat;
    decoder_.set_frame_max(m.frame_max);
    timeout_ = std::chrono::seconds(m.heartbeat);
    if (m.heartbeat > 0) {
        const Duration period = std::chrono::seconds(m.heartbeat);
        send_timer_.start(period / 2);
        receive_timer_.start(period);
        sent_sampled_ = false;
        received_sample_ = 0;
        received_same_ = 0;
    }
    phase_ = Phase::opening;
}

void ServerConnection::handle_open(const ConnectionOpen& m) {
    if (auto refused = handler_.open_vhost(info_.user, m.virtual_host)) {
        AmqpError e = *refused;
        if (e.method() == method::none) e = AmqpError(e.code(), e.reply_text(), ConnectionOpen::id);
        return fail(e);
    }
    if (phase_ != Phase::opening) return;  // the handler closed the connection
    info_.vhost = m.virtual_host;
    write_method(0, ConnectionOpenOk{});
    phase_ = Phase::running;
    handshake_timer_.stop();
    opened_ = true;
    handler_.on_connection_opened(info_);
}

// ---- channels ---------------------------------------------------------------------------------

void ServerConnection::handle_channel_frame(std::uint8_t type, std::uint16_t number,
                                            ByteView payload) {
    if (phase_ != Phase::running) {
        // rabbit_reader:handle_frame: channels exist only once the connection is open.
        return fail(AmqpError::make(ReplyCode::UnexpectedFrame, method::none,
                                    unexpected_frame_explanation(type, payload)));
    }
    const auto frame_error = [&] {
        fail(AmqpError::make(ReplyCode::FrameError, method::none,
                             unknown_frame_explanation(type, payload)));
    };
    // rabbit_command_assembler:analyze_frame, before the channel is looked up.
    MethodId id;
    switch (type) {
        case frame_type::method:
            if (payload.size() < 4) return frame_error();
            id = MethodId{static_cast<std::uint16_t>((payload[0] << 8) | payload[1]),
                          static_cast<std::uint16_t>((payload[2] << 8) | payload[3])};
            if (!is_known_method(id)) return drop();
            break;
        case frame_type::header:
            if (payload.size() < 12) return frame_error();
            break;
        case frame_type::body:
            break;
        case frame_type::heartbeat:
            if (!payload.empty()) return frame_error();
            return fail(AmqpError::make(ReplyCode::UnexpectedFrame, method::none,
                                        unexpected_frame_explanation(type, payload)));
        default:
            return frame_error();
    }

    auto it = channels_.find(number);
    if (it == channels_.end()) {
        // rabbit_reader:create_channel counts channels, whatever their numbers.
        if (info_.channel_max != 0 && channels_.size() >= info_.channel_max) {
            return fail(AmqpError::format(
                ReplyCode::NotAllowed, method::none,
                "number of channels opened ({}) has reached the negotiated channel_max ({})",
                channels_.size(), info_.channel_max));
        }
        it = channels_.emplace(number, Channel{}).first;
    }
    Channel& ch = it->second;

    const auto unexpected = [&](std::string_view text, MethodId m) {
        fail(AmqpError::make(ReplyCode::UnexpectedFrame, m, text));
    };
    const auto expected_header = [&] {
        unexpected(fmt::format("expected content header for class {}, got non content header "
                               "frame instead",
                               ch.pending_id.class_id),
                   ch.pending_id);
    };
    switch (ch.expect) {
        case Expect::method:
            if (type != frame_type::method)
                return unexpected("expected method frame, got non method frame instead",
                                  method::none);
            break;
        case Expect::header:
            if (type != frame_type::header) return expected_header();
            content_header(number, ch, payload);
            return content_frame_taken(number);
        case Expect::body:
            if (type != frame_type::body)
                return unexpected("expected content body, got non content body frame instead",
                                  ch.pending_id);
            content_body(number, ch, payload);
            return content_frame_taken(number);
    }

    auto decoded = decode_method_arguments(id, payload.subspan(4));
    if (decoded.error == CodecError::malformed_utf8) {
        // assert_utf8 raises with no method; the assembler passes it on as is.
        return fail(AmqpError::make(ReplyCode::FrameError, method::none,
                                    "Malformed UTF-8 in shortstr"));
    }
    if (decoded.error == CodecError::malformed_table) {
        // rabbit_binary_parser:parse_table has no clause for it; the assembler catches only
        // AMQP errors, so the reader crashes.
        return drop();
    }
    if (decoded.error) {
        return fail(AmqpError::make(ReplyCode::FrameError, id,
                                    cannot_decode_explanation(payload.subspan(4))));
    }
    if (method_has_content(id)) return content_method(ch, std::move(decoded.value), id);
    channel_method(number, ch, std::move(decoded.value));
}

// rabbit_reader:post_process_frame: after every content header or body frame (and after the
// publish it completed, if any), the reader may block.
void ServerConnection::content_frame_taken(std::uint16_t number) {
    if (phase_ == Phase::running) handler_.on_content_frame(number);
}

void ServerConnection::content_method(Channel& ch, Method&& method, MethodId id) {
    ch.pending = std::move(method);
    ch.pending_id = id;
    ch.expect = Expect::header;
}

void ServerConnection::content_header(std::uint16_t number, Channel& ch, ByteView payload) {
    const ContentHeaderPrefix h = split_content_header(payload).value;  // 12 bytes checked
    if (h.weight != 0) {
        return fail(AmqpError::format(ReplyCode::UnexpectedFrame, ch.pending_id,
                                      "expected content header for class {}, got non content "
                                      "header frame instead",
                                      ch.pending_id.class_id));
    }
    if (h.class_id != ch.pending_id.class_id) {
        return fail(AmqpError::format(ReplyCode::UnexpectedFrame, ch.pending_id,
                                      "expected content header for class {}, got one for class "
                                      "{} instead",
                                      ch.pending_id.class_id, h.class_id));
    }
    ch.properties.assign(h.properties.begin(), h.properties.end());
    ch.body_size = h.body_size;
    ch.body_received = 0;
    ch.body.clear();
    // Bodies over max_message_size are counted, not kept: RabbitMQ refuses them once whole.
    ch.discard_body = h.body_size > config_.max_message_size;
    if (h.body_size == 0) return content_complete(number, ch);
    ch.expect = Expect::body;
}

void ServerConnection::content_body(std::uint16_t number, Channel& ch, ByteView payload) {
    const std::uint64_t remaining = ch.body_size - std::min(ch.body_size, ch.body_received);
    if (ch.body_received > ch.body_size || payload.size() > remaining) {
        // More than announced: RabbitMQ's remaining count goes negative and never reaches
        // zero again, so the message never completes; keep counting, stop keeping.
        ch.discard_body = true;
        ch.body.clear();
        ch.body.shrink_to_fit();
        ch.body_received += payload.size();
        return;
    }
    ch.body_received += payload.size();
    if (!ch.discard_body) ch.body.append(as_chars(payload));
    if (ch.body_received == ch.body_size) content_complete(number, ch);
}

void ServerConnection::content_complete(std::uint16_t number, Channel& ch) {
    ch.expect = Expect::method;
    Method method = std::move(ch.pending);
    ch.pending = Method{};
    switch (ch.phase) {
        case ChannelPhase::awaiting_open:
            return fail(AmqpError::make(ReplyCode::ChannelError, ch.pending_id,
                                        "expected 'channel.open'"));
        case ChannelPhase::closing:
            return;
        case ChannelPhase::open:
            break;
    }
    auto* publish = std::get_if<BasicPublish>(&method);
    if (!publish)
        return fail(AmqpError::make(ReplyCode::CommandInvalid, ch.pending_id, "unimplemented method"));
    if (publish->immediate)
        return fail(AmqpError::make(ReplyCode::NotImplemented, ch.pending_id, "immediate=true"));
    if (ch.discard_body) {
        // rabbit_channel:check_msg_size, a soft error; its text drops "configured" for the
        // largest size RabbitMQ allows.
        const bool at_ceiling = config_.max_message_size == 536870912;
        close_channel(number, AmqpError::format(
                                  ReplyCode::PreconditionFailed, ch.pending_id,
                                  "message size {} is larger than {}max size {}", ch.body_size,
                                  at_ceiling ? "" : "configured ", config_.max_message_size));
        return;
    }
    auto properties = decode_basic_properties(ch.properties);
    // RabbitMQ decodes properties inside the channel process; a failure crashes it, and the
    // reader reports the crash as 541.
    if (!properties) return fail(internal_error());
    Message message{std::move(ch.body), std::move(properties.value)};
    ch.body = {};
    // The handler may close the channel; the encoded bytes it is given live here, and both
    // buffers keep their capacity for the next publish.
    published_properties_.swap(ch.properties);
    ch.properties.clear();
    handler_.on_publish(number, std::move(*publish), std::move(message), published_properties_);
}

void ServerConnection::channel_method(std::uint16_t number, Channel& ch, Method&& method) {
    const MethodId id = method_id(method);
    // rabbit_channel:handle_method, in its clause order.
    if (std::holds_alternative<ChannelOpen>(method)) {
        if (ch.phase != ChannelPhase::awaiting_open)
            return fail(AmqpError::make(ReplyCode::ChannelError, id, "second 'channel.open' seen"));
        ch.phase = ChannelPhase::open;
        write_method(number, ChannelOpenOk{});
        handler_.on_channel_opened(number);
        return;
    }
    if (ch.phase == ChannelPhase::awaiting_open)
        return fail(AmqpError::make(ReplyCode::ChannelError, id, "expected 'channel.open'"));
    if (ch.phase == ChannelPhase::closing) {
        if (std::holds_alternative<ChannelCloseOk>(method)) {
            ChannelEnd end{false, std::move(ch.close_sent)};
            channels_.erase(number);
            handler_.on_channel_closed(number, end);
        } else if (std::holds_alternative<ChannelClose>(method)) {
            write_method(number, ChannelCloseOk{});
        }
        return;
    }
    if (auto* m = std::get_if<ChannelClose>(&method)) {
        const AmqpError received(static_cast<ReplyCode>(m->reply_code), m->reply_text,
                                 MethodId{m->class_id, m->method_id});
        channels_.erase(number);
        write_method(number, ChannelCloseOk{});
        handler_.on_channel_closed(number, ChannelEnd{true, received});
        return;
    }
    if (std::holds_alternative<AccessRequest>(method)) {
        write_method(number, AccessRequestOk{1});
        return;
    }
    if (auto* m = std::get_if<ChannelFlow>(&method)) {
        // RabbitMQ 3.x blocks publishers with connection.blocked instead.
        if (!m->active) return fail(AmqpError::make(ReplyCode::NotImplemented, id, "active=false"));
        write_method(number, ChannelFlowOk{true});
        return;
    }
    if (served_by_broker(id)) return handler_.on_method(number, std::move(method));
    fail(AmqpError::make(ReplyCode::CommandInvalid, id, "unimplemented method"));
}

// ---- ending -----------------------------------------------------------------------------------

void ServerConnection::fail(const AmqpError& error, bool fatal) {
    switch (phase_) {
        case Phase::opening:
        case Phase::running:
            // rabbit_reader:handle_exception -> respond_and_close.
            send_connection_close(error, ConnectionEnd::Cause::protocol_error);
            if (fatal) {
                linger_then_close();
            } else {
                phase_ = Phase::closing;
                close_timer_.start(close_ok_wait());
            }
            return;
        case Phase::closing:
            // Already closed towards the peer: only a fatal frame error still ends the reader.
            if (fatal) linger_then_close();
            return;
        case Phase::awaiting_header:
        case Phase::starting:
        case Phase::tuning:
            // Errors before connection.open are logged and the socket dropped after a pause.
            linger_then_close();
            return;
        case Phase::closed:
            return;
    }
}

ServerConnection::Duration ServerConnection::close_ok_wait() const {
    // rabbit_reader:close_connection: the negotiated heartbeat when under 30 s, else 30 s.
    return timeout_ > 0s && timeout_ < 30s ? Duration(timeout_) : Duration(30s);
}

void ServerConnection::linger_then_close() {
    phase_ = Phase::closed;
    stop_heartbeats();
    channels_.clear();
    if (config_.silent_close_delay <= Duration::zero()) {
        close_timer_.stop();
        wants_close_ = true;
    } else {
        close_timer_.start(config_.silent_close_delay);
    }
    end_connection(ConnectionEnd::Cause::protocol_error, std::nullopt);
}

void ServerConnection::drop() {
    // The reader process dies and the socket is closed at once: what was not yet written is
    // lost with it (RabbitMQ's channel replies to earlier frames in the same read included).
    out_.clear();
    out_begin_ = 0;
    phase_ = Phase::closed;
    close_timer_.stop();
    wants_close_ = true;
    end_connection(ConnectionEnd::Cause::protocol_error, std::nullopt);
}

void ServerConnection::send_connection_close(const AmqpError& error, ConnectionEnd::Cause cause) {
    write_method(0, ConnectionClose{error.reply_code(), reply_text(error), error.class_id(),
                                    error.method_id()});
    end_connection(cause, error);
}

void ServerConnection::end_connection(ConnectionEnd::Cause cause, std::optional<AmqpError> error) {
    channels_.clear();
    stop_heartbeats();
    handshake_timer_.stop();
    if (!opened_ || ended_) return;
    ended_ = true;
    handler_.on_connection_closed(ConnectionEnd{cause, std::move(error)});
}

void ServerConnection::transport_closed() {
    phase_ = Phase::closed;
    close_timer_.stop();
    wants_close_ = true;
    end_connection(ConnectionEnd::Cause::transport_closed, std::nullopt);
}

// ---- timers -----------------------------------------------------------------------------------

void ServerConnection::stop_heartbeats() {
    send_timer_.stop();
    receive_timer_.stop();
}

std::optional<ServerConnection::Clock::time_point> ServerConnection::next_deadline() const noexcept {
    std::optional<Clock::time_point> next;
    for (const Timer* t : {&handshake_timer_, &send_timer_, &receive_timer_, &close_timer_}) {
        if (t->pending) return Clock::time_point::min();
        if (t->at && (!next || *t->at < *next)) next = t->at;
    }
    return next;
}

void ServerConnection::on_tick(Clock::time_point now) {
    for (Timer* t : {&handshake_timer_, &send_timer_, &receive_timer_, &close_timer_}) {
        if (t->pending) {
            t->at = now + *t->pending;
            t->pending.reset();
        }
    }
    const auto due = [now](const Timer& t) { return t.at && *t.at <= now; };

    if (due(handshake_timer_)) {
        // rabbit_reader: handshake_timeout before the connection runs drops the socket.
        handshake_timer_.stop();
        if (phase_ != Phase::running && phase_ != Phase::closing && phase_ != Phase::closed)
            drop();
    }
    if (due(close_timer_)) {
        close_timer_.stop();
        phase_ = Phase::closed;
        wants_close_ = true;
    }
    const Duration period = std::chrono::seconds(info_.heartbeat);
    if (due(receive_timer_)) {
        // rabbit_heartbeat receiver: every interval; two looks in a row with nothing new mean
        // the peer is gone. The socket is closed without a word.
        receive_timer_.at = now + period;
        if (bytes_received_ != received_sample_) {
            received_sample_ = bytes_received_;
            received_same_ = 0;
        } else if (received_same_ < 1) {
            ++received_same_;
        } else {
            phase_ = Phase::closed;
            close_timer_.stop();
            wants_close_ = true;
            end_connection(ConnectionEnd::Cause::heartbeat_timeout, std::nullopt);
        }
    }
    if (due(send_timer_)) {
        // rabbit_heartbeat sender: every half interval, a heartbeat if nothing went out since
        // the last look (the first look always sends one).
        if (!sent_sampled_ || bytes_sent_ == sent_sample_) write_heartbeat();
        sent_sample_ = bytes_sent_;
        sent_sampled_ = true;
        send_timer_.at = now + period / 2;
    }
}

// ---- output -----------------------------------------------------------------------------------

void ServerConnection::consume_output(std::size_t n) noexcept {
    out_begin_ += std::min(n, out_.size() - out_begin_);
    if (out_begin_ == out_.size()) {
        out_.clear();
        out_begin_ = 0;
    } else if (out_begin_ > 65536 && out_begin_ * 2 > out_.size()) {
        out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(out_begin_));
        out_begin_ = 0;
    }
}

void ServerConnection::write_method(std::uint16_t channel, const Method& m) {
    const std::size_t before = out_.size();
    // Methods built here have short strings within bounds; a failure appends nothing.
    (void)encode_method_frame(channel, m, out_);
    bytes_sent_ += out_.size() - before;
}

void ServerConnection::write_heartbeat() {
    const std::size_t before = out_.size();
    encode_heartbeat_frame(out_);
    bytes_sent_ += out_.size() - before;
}

std::error_code ServerConnection::send(std::uint16_t channel, const Method& method) {
    if (phase_ != Phase::running) return EngineError::connection_not_open;
    if (!is_channel_open(channel)) return EngineError::channel_not_open;
    const std::size_t before = out_.size();
    if (auto ec = encode_method_frame(channel, method, out_)) return ec;
    bytes_sent_ += out_.size() - before;
    return {};
}

std::error_code ServerConnection::send_content(std::uint16_t channel, const Method& method,
                                               const BasicProperties& properties,
                                               std::string_view body,
                                               ByteView encoded_properties) {
    if (!method_has_content(method_id(method))) return EngineError::not_a_content_method;
    if (phase_ != Phase::running) return EngineError::connection_not_open;
    if (!is_channel_open(channel)) return EngineError::channel_not_open;
    const std::size_t before = out_.size();
    std::error_code ec = encode_method_frame(channel, method, out_);
    if (!ec) ec = encode_content_frames(channel, properties, encoded_properties, body, info_.frame_max, out_);
    if (ec) {
        out_.resize(before);
        return ec;
    }
    bytes_sent_ += out_.size() - before;
    return {};
}

std::error_code ServerConnection::close_channel(std::uint16_t channel, const AmqpError& error) {
    if (phase_ != Phase::running) return EngineError::connection_not_open;
    auto it = channels_.find(channel);
    if (it == channels_.end() || it->second.phase != ChannelPhase::open)
        return EngineError::channel_not_open;
    it->second.phase = ChannelPhase::closing;
    it->second.close_sent = error;
    write_method(channel, ChannelClose{error.reply_code(), reply_text(error), error.class_id(),
                                       error.method_id()});
    return {};
}

void ServerConnection::close_connection(const AmqpError& error) {
    if (phase_ == Phase::closing || phase_ == Phase::closed) return;
    if (phase_ != Phase::running && phase_ != Phase::opening) {
        phase_ = Phase::closed;
        wants_close_ = true;
        return;
    }
    send_connection_close(error, ConnectionEnd::Cause::server_closed);
    phase_ = Phase::closing;
    close_timer_.start(close_ok_wait());
}

void ServerConnection::block(std::string_view reason) {
    if (phase_ != Phase::running || !client_capability("connection.blocked")) return;
    write_method(0, ConnectionBlocked{std::string(reason)});
}

void ServerConnection::unblock() {
    if (phase_ != Phase::running || !client_capability("connection.blocked")) return;
    write_method(0, ConnectionUnblocked{});
}

// ---- state ------------------------------------------------------------------------------------

bool ServerConnection::is_channel_open(std::uint16_t channel) const noexcept {
    const auto it = channels_.find(channel);
    return it != channels_.end() && it->second.phase == ChannelPhase::open;
}

bool ServerConnection::client_capability(std::string_view name) const noexcept {
    const FieldValue* caps = info_.client_properties.find("capabilities");
    if (!caps || caps->type() != FieldValue::Type::Table) return false;
    const FieldValue* v = caps->as_table().find(name);
    return v && v->type() == FieldValue::Type::Bool && v->as_bool();
}

FieldTable ServerConnection::server_properties() const {
    // rabbit_reader:server_properties: RabbitMQ's capabilities, then the other keys sorted.
    FieldTable capabilities{
        {"publisher_confirms", true},
        {"exchange_exchange_bindings", true},
        {"basic.nack", true},
        {"consumer_cancel_notify", true},
        {"connection.blocked", true},
        {"consumer_priorities", true},
        {"authentication_failure_close", true},
        {"per_consumer_qos", true},
        {"direct_reply_to", true},
    };
    return FieldTable{
        {"capabilities", std::move(capabilities)},
        {"cluster_name", config_.cluster_name},
        {"copyright", config_.copyright},
        {"information", config_.information},
        {"platform", config_.platform},
        {"product", config_.product},
        {"version", config_.version},
    };
}

}  // namespace warren::protocol
