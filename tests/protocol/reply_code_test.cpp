#include <catch2/catch.hpp>

#include "warren/protocol/reply_code.hpp"

using warren::AmqpError;
using warren::ReplyCode;

TEST_CASE("reply texts take RabbitMQ's 'NAME - explanation' form") {
    auto e = AmqpError::format(ReplyCode::NotFound, warren::method::queue_declare,
                               "no queue '{}' in vhost '/'", "q");
    CHECK(e.reply_code() == 404);
    CHECK(e.reply_text() == "NOT_FOUND - no queue 'q' in vhost '/'");
    CHECK(e.class_id() == 50);
    CHECK(e.method_id() == 10);
    CHECK_FALSE(e.closes_connection());
}

TEST_CASE("long reply texts are cut to a shortstr as RabbitMQ cuts them") {
    auto e = AmqpError::make(ReplyCode::PreconditionFailed, warren::method::none, std::string(400, 'x'));
    CHECK(e.reply_text().size() == 255);
    CHECK(e.reply_text().ends_with("x..."));
}

TEST_CASE("hard errors close the connection, soft errors the channel") {
    for (auto code : {ReplyCode::ContentTooLarge, ReplyCode::NoRoute, ReplyCode::NoConsumers,
                      ReplyCode::AccessRefused, ReplyCode::NotFound, ReplyCode::ResourceLocked,
                      ReplyCode::PreconditionFailed})
        CHECK_FALSE(warren::is_hard_error(code));
    for (auto code : {ReplyCode::ConnectionForced, ReplyCode::InvalidPath, ReplyCode::FrameError,
                      ReplyCode::SyntaxError, ReplyCode::CommandInvalid, ReplyCode::ChannelError,
                      ReplyCode::UnexpectedFrame, ReplyCode::ResourceError, ReplyCode::NotAllowed,
                      ReplyCode::NotImplemented, ReplyCode::InternalError})
        CHECK(warren::is_hard_error(code));
}
