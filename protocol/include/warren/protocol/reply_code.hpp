// AMQP 0-9-1 reply codes, method identities, and the error value that carries them.
#pragma once

#include <cstdint>
#include <exception>
#include <iosfwd>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ostream.h>

namespace warren {

enum class ReplyCode : std::uint16_t {
    Success = 200,
    ContentTooLarge = 311,
    NoRoute = 312,
    NoConsumers = 313,
    ConnectionForced = 320,
    InvalidPath = 402,
    AccessRefused = 403,
    NotFound = 404,
    ResourceLocked = 405,
    PreconditionFailed = 406,
    FrameError = 501,
    SyntaxError = 502,
    CommandInvalid = 503,
    ChannelError = 504,
    UnexpectedFrame = 505,
    ResourceError = 506,
    NotAllowed = 530,
    NotImplemented = 540,
    InternalError = 541,
};

/// The constant's name as RabbitMQ prints it at the head of a reply text ("NOT_FOUND").
std::string_view reply_code_name(ReplyCode code) noexcept;

/// Hard errors close the connection; soft errors (311-313, 403-406) close the channel.
bool is_hard_error(ReplyCode code) noexcept;

/// The class and method of an AMQP method, as carried in channel.close / connection.close.
struct MethodId {
    std::uint16_t class_id = 0;
    std::uint16_t method_id = 0;
    friend bool operator==(const MethodId&, const MethodId&) = default;
};

/// Every method's MethodId, named as in amqp_methods.def (method::basic_publish), and `none`
/// for an error no method caused.
namespace method {
inline constexpr MethodId none{0, 0};
#define WARREN_METHOD(Struct, snake, class_id, method_id, name, content, dispatch) \
    inline constexpr MethodId snake{class_id, method_id};
#include "warren/protocol/amqp_methods.def"
}  // namespace method

/// An AMQP error as the broker reports it: reply code, reply text ("NOT_FOUND - no queue 'q'
/// in vhost '/'"), and the method that failed. A value in the model and the codec; the client
/// facade throws it.
class AmqpError : public std::exception {
public:
    AmqpError() = default;
    AmqpError(ReplyCode code, std::string reply_text, MethodId method = method::none)
        : code_(code), text_(std::move(reply_text)), method_(method) {}

    /// RabbitMQ's form: "<CODE_NAME> - <explanation>", cut as RabbitMQ cuts long texts.
    static AmqpError make(ReplyCode code, MethodId method, std::string_view explanation);
    template <class... Args>
    static AmqpError format(ReplyCode code, MethodId method, fmt::format_string<Args...> f,
                            Args&&... args) {
        return make(code, method, fmt::format(f, std::forward<Args>(args)...));
    }

    ReplyCode code() const noexcept { return code_; }
    std::uint16_t reply_code() const noexcept { return static_cast<std::uint16_t>(code_); }
    const std::string& reply_text() const noexcept { return text_; }
    std::uint16_t class_id() const noexcept { return method_.class_id; }
    std::uint16_t method_id() const noexcept { return method_.method_id; }
    MethodId method() const noexcept { return method_; }
    bool closes_connection() const noexcept { return is_hard_error(code_); }
    const char* what() const noexcept override { return text_.c_str(); }

    friend bool operator==(const AmqpError& a, const AmqpError& b) {
        return a.code_ == b.code_ && a.text_ == b.text_ && a.method_ == b.method_;
    }

private:
    ReplyCode code_ = ReplyCode::InternalError;
    std::string text_;
    MethodId method_;
};

std::ostream& operator<<(std::ostream& os, ReplyCode code);
std::ostream& operator<<(std::ostream& os, const AmqpError& e);

}  // namespace warren

template <> struct fmt::formatter<warren::AmqpError> : fmt::ostream_formatter {};
