// What Broker::queues(), exchanges() and bindings() report: the figures the management
// API shows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "warren/protocol/field_value.hpp"

namespace warren {

struct QueueInfo {
    std::string vhost;
    std::string name;
    bool durable = false;
    bool exclusive = false;
    bool auto_delete = false;
    /// "classic" or "quorum", as x-queue-type names it.
    std::string type = "classic";
    FieldTable arguments = {};
    std::size_t messages_ready = 0;
    std::size_t messages_unacknowledged = 0;
    std::size_t messages = 0;
    std::uint64_t message_bytes_ready = 0;
    std::size_t consumers = 0;
};

struct ExchangeInfo {
    std::string vhost;
    std::string name;
    std::string type;
    bool durable = false;
    bool auto_delete = false;
    bool internal = false;
    FieldTable arguments = {};
};

struct ConnectionInfo {
    std::uint64_t id = 0;
    /// The name the client gave (ConnectOptions::name; RabbitMQ's connection_name client
    /// property); empty when it gave none.
    std::string name;
    std::string vhost;
    std::string user;
    std::size_t channels = 0;
};

/// A channel of a connection, as /api/channels shows it.
struct ChannelInfo {
    std::uint64_t connection = 0;  // ConnectionInfo::id
    std::uint16_t number = 0;
    std::string vhost;
    std::string user;
    std::size_t consumer_count = 0;
    /// basic.qos: per consumer (global=false) and per channel (global=true).
    std::uint32_t prefetch_count = 0;
    std::uint32_t global_prefetch_count = 0;
    bool confirm = false;
    bool transactional = false;
    std::size_t messages_unacknowledged = 0;
    /// Publishes and acknowledgements waiting for tx.commit.
    std::size_t messages_uncommitted = 0;
    std::size_t acks_uncommitted = 0;
};

/// A consumer, as /api/consumers shows it.
struct ConsumerInfo {
    std::string vhost;
    std::string queue;
    std::string consumer_tag;
    std::uint64_t connection = 0;
    std::uint16_t channel = 0;
    std::string user;
    bool ack_required = true;
    bool exclusive = false;
    std::uint32_t prefetch_count = 0;
    FieldTable arguments = {};
};

struct BindingInfo {
    std::string vhost;
    std::string source;
    std::string destination;
    std::string destination_type;  // "queue" or "exchange"
    std::string routing_key;
    FieldTable arguments = {};
};

struct UserInfo {
    std::string name;
    /// base64 of a 4-byte salt and SHA-256(salt + password), as RabbitMQ exports it.
    std::string password_hash;
    std::string hashing_algorithm = "rabbit_password_hashing_sha256";
    std::vector<std::string> tags = {};
};

/// A user's permissions in a vhost: regular expressions over the resource names it may
/// configure, write to and read from. Having an entry is what lets a user open the vhost;
/// the expressions themselves are kept and exported but not enforced.
struct PermissionInfo {
    std::string user;
    std::string vhost;
    std::string configure = ".*";
    std::string write = ".*";
    std::string read = ".*";
};

struct VHostInfo {
    std::string name;
    std::string description;
    std::vector<std::string> tags = {};
};

}  // namespace warren
