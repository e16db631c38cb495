// The exceptions the facade throws. Every broker refusal is an AmqpError with RabbitMQ's
// reply code and text; calls on a channel or connection the broker closed throw
// ChannelClosed / ConnectionClosed carrying the error that closed it.
#pragma once

#include <stdexcept>

#include "warren/protocol/reply_code.hpp"

namespace warren {

/// A call on a channel that an earlier error (or close()) closed. Carries that error's code
/// and text; a channel closed by the client carries 200 and "closed by the client".
class ChannelClosed : public AmqpError {
public:
    explicit ChannelClosed(const AmqpError& cause) : AmqpError(cause) {}
};

/// A call on a connection that is closed: by the broker (its error is carried) or the client.
class ConnectionClosed : public AmqpError {
public:
    explicit ConnectionClosed(const AmqpError& cause) : AmqpError(cause) {}
};

/// A wait (wait_for_confirms, an answer from a real broker) that did not finish in time, or a
/// connection that could not be made: the text names what and where.
class ClientError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace warren
