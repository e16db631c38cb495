#include "warren/protocol/reply_code.hpp"

#include <ostream>

namespace warren {

std::string_view reply_code_name(ReplyCode code) noexcept {
    switch (code) {
        case ReplyCode::Success: return "OK";
        case ReplyCode::ContentTooLarge: return "CONTENT_TOO_LARGE";
        case ReplyCode::NoRoute: return "NO_ROUTE";
        case ReplyCode::NoConsumers: return "NO_CONSUMERS";
        case ReplyCode::ConnectionForced: return "CONNECTION_FORCED";
        case ReplyCode::InvalidPath: return "INVALID_PATH";
        case ReplyCode::AccessRefused: return "ACCESS_REFUSED";
        case ReplyCode::NotFound: return "NOT_FOUND";
        case ReplyCode::ResourceLocked: return "RESOURCE_LOCKED";
        case ReplyCode::PreconditionFailed: return "PRECONDITION_FAILED";
        case ReplyCode::FrameError: return "FRAME_ERROR";
        case ReplyCode::SyntaxError: return "SYNTAX_ERROR";
        case ReplyCode::CommandInvalid: return "COMMAND_INVALID";
        case ReplyCode::ChannelError: return "CHANNEL_ERROR";
        case ReplyCode::UnexpectedFrame: return "UNEXPECTED_FRAME";
        case ReplyCode::ResourceError: return "RESOURCE_ERROR";
        case ReplyCode::NotAllowed: return "NOT_ALLOWED";
        case ReplyCode::NotImplemented: return "NOT_IMPLEMENTED";
        case ReplyCode::InternalError: return "INTERNAL_ERROR";
    }
    return "UNKNOWN";
}

bool is_hard_error(ReplyCode code) noexcept {
    switch (code) {
        case ReplyCode::ContentTooLarge:
        case ReplyCode::NoRoute:
        case ReplyCode::NoConsumers:
        case ReplyCode::AccessRefused:
        case ReplyCode::NotFound:
        case ReplyCode::ResourceLocked:
        case ReplyCode::PreconditionFailed:
        case ReplyCode::Success:
            return false;
        default:
            return true;
    }
}

AmqpError AmqpError::make(ReplyCode code, MethodId method, std::string_view explanation) {
    // rabbit_binary_generator:map_exception/3 renders "NAME - text"; the reply text is a
    // shortstr, so RabbitMQ keeps 252 bytes of it and appends "..." when it is longer.
    std::string text;
    text.reserve(reply_code_name(code).size() + 3 + explanation.size());
    text.append(reply_code_name(code)).append(" - ").append(explanation);
    if (text.size() > 255) {
        text.resize(252);
        text.append("...");
    }
    return AmqpError(code, std::move(text), method);
}

std::ostream& operator<<(std::ostream& os, ReplyCode code) {
    return os << static_cast<unsigned>(code) << ' ' << reply_code_name(code);
}

std::ostream& operator<<(std::ostream& os, const AmqpError& e) {
    return os << "AmqpError{" << e.reply_code() << ", \"" << e.reply_text() << "\", method "
              << e.class_id() << '.' << e.method_id() << '}';
}

}  // namespace warren
