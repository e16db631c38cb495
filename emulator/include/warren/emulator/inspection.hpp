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
