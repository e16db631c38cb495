// Option aggregates for the facade's calls. Every member has a default, so call sites use
// designated initialisers: ch.queue_declare("q", {.durable = true}).
#pragma once

#include <string>

#include "warren/protocol/field_value.hpp"

namespace warren {

struct ExchangeOptions {
    bool passive = false;
    bool durable = false;
    bool auto_delete = false;
    bool internal = false;
    FieldTable arguments = {};
};

struct ExchangeDeleteOptions {
    bool if_unused = false;
};

struct QueueOptions {
    bool passive = false;
    bool durable = false;
    bool exclusive = false;
    bool auto_delete = false;
    FieldTable arguments = {};
};

struct QueueDeleteOptions {
    bool if_unused = false;
    bool if_empty = false;
};

struct PublishOptions {
    bool mandatory = false;
};

struct ConsumeOptions {
    /// Empty: the broker generates one ("amq.ctag-...").
    std::string consumer_tag = {};
    bool no_ack = false;
    bool exclusive = false;
    FieldTable arguments = {};
};

/// For connect(Broker&): which vhost and user the in-process connection uses.
struct ConnectOptions {
    std::string vhost = "/";
    std::string user = "guest";
    std::string password = "guest";
    /// The connection's name, as RabbitMQ's connection_name client property: it names the
    /// connection in Broker::connections() and for Broker::cut_connection.
    std::string name = {};
};

}  // namespace warren
