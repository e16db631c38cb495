// The arguments and answers of the AMQP methods the model serves, one aggregate per method.
#pragma once

#include <cstdint>
#include <string>

#include "warren/emulator/sink.hpp"
#include "warren/emulator/stored_message.hpp"
#include "warren/protocol/field_value.hpp"

namespace warren {

/// queue.declare-ok.
struct QueueDeclareOk {
    std::string queue = {};
    std::uint32_t message_count = 0;
    std::uint32_t consumer_count = 0;
    friend bool operator==(const QueueDeclareOk&, const QueueDeclareOk&) = default;
};

namespace emulator {

/// A channel of a connection, as the model knows it.
struct ChannelRef {
    ConnectionId connection = 0;
    ChannelId channel = 0;
};

struct ExchangeDeclare {
    std::string exchange = {};
    std::string type = "direct";
    bool passive = false;
    bool durable = false;
    bool auto_delete = false;
    bool internal = false;
    FieldTable arguments = {};
};

struct ExchangeDelete {
    std::string exchange = {};
    bool if_unused = false;
};

struct ExchangeBind {
    std::string destination = {};
    std::string source = {};
    std::string routing_key = {};
    FieldTable arguments = {};
};

struct QueueDeclare {
    std::string queue = {};
    bool passive = false;
    bool durable = false;
    bool exclusive = false;
    bool auto_delete = false;
    FieldTable arguments = {};
};

struct QueueBind {
    std::string queue = {};
    std::string exchange = {};
    std::string routing_key = {};
    FieldTable arguments = {};
};

struct QueueDelete {
    std::string queue = {};
    bool if_unused = false;
    bool if_empty = false;
};

struct BasicQos {
    std::uint32_t prefetch_size = 0;
    std::uint16_t prefetch_count = 0;
    bool global = false;
};

struct BasicPublish {
    std::string exchange = {};
    std::string routing_key = {};
    bool mandatory = false;
    bool immediate = false;
};

struct BasicConsume {
    std::string queue = {};
    std::string consumer_tag = {};
    bool no_local = false;
    bool no_ack = false;
    bool exclusive = false;
    FieldTable arguments = {};
};

/// basic.get-ok.
struct GetOk {
    std::uint64_t delivery_tag = 0;
    bool redelivered = false;
    std::uint32_t message_count = 0;
    MessagePtr message = nullptr;
};

}  // namespace emulator
}  // namespace warren
