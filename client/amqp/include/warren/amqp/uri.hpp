// AMQP URIs as RabbitMQ defines them: https://www.rabbitmq.com/uri-spec.html, with the query
// parameters of https://www.rabbitmq.com/uri-query-parameters.html that apply to a plain TCP
// connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace warren::amqp {

/// The connection parameters an AMQP URI carries. A part the URI leaves out keeps the
/// default below.
struct Uri {
    std::string user = "guest";
    std::string password = "guest";
    /// A host name or an IP address; an IPv6 address without its brackets.
    std::string host = "localhost";
    std::uint16_t port = 5672;
    std::string vhost = "/";
    /// ?heartbeat= (seconds). 0 disables heartbeats: rabbitmq-c answers them only while a call
    /// is reading from the socket, so an idle connection with heartbeats would be dropped.
    std::uint16_t heartbeat = 0;
    /// ?channel_max=; 0 accepts the broker's limit.
    std::uint16_t channel_max = 0;
    /// ?frame_max= (bytes, at least 4096).
    std::uint32_t frame_max = 131072;
    /// ?connection_timeout= (milliseconds): bounds the TCP connect and, separately, the AMQP
    /// handshake.
    std::chrono::milliseconds connection_timeout = std::chrono::seconds(10);

    /// "host:port", an IPv6 address in brackets: how error messages name the broker.
    std::string endpoint() const;

    friend bool operator==(const Uri&, const Uri&) = default;
};

/// Parses an "amqp" URI: amqp://user:password@host:port/vhost?query, every part optional and
/// percent-decoded. No path means vhost "/"; an empty path ("amqp://host/") means vhost "";
/// "/" itself is written %2f. Throws warren::ClientError saying what is wrong for a URI the
/// specification rejects, for an unknown query parameter, and for "amqps" (no TLS support).
Uri parse_uri(std::string_view text);

}  // namespace warren::amqp
