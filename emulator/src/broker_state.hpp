// The model's internal state behind warren::Broker. Private to the emulator.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <unordered_map>
#include <vector>

#include "warren/emulator/broker.hpp"
#include "exchange.hpp"
#include "journal.hpp"
#include "warren/emulator/methods.hpp"
#include "queue.hpp"

namespace warren::emulator {

struct ConnectionState;
struct VHost;

/// A delivery awaiting acknowledgement on a channel.
struct Unacked {
    std::uint64_t tag = 0;
    Queue* queue = nullptr;       // null once the queue has been deleted
    QueuedMessage message;
    Consumer* consumer = nullptr;  // null for basic.get, or once the consumer is cancelled
    bool from_consumer = false;    // counted by the channel's global prefetch; basic.get is not
    /// The queue's id for the cancelled consumer that still holds it (0: none).
    std::uint64_t cancelled_consumer = 0;
};

/// How acknowledged deliveries are settled: basic.ack, or basic.nack / basic.reject with
/// requeue, or without it (dead-lettered where the queue says so).
enum class Settle { Ack, Requeue, Reject };

/// A publish inside a transaction: routed when it arrived (rabbit_channel routes it then), its
/// queues kept by name and looked up again at tx.commit, as rabbit_amqqueue:lookup/1 does.
struct TxPublish {
    MessagePtr message;
    std::vector<std::string> queues;
    std::optional<Duration> message_ttl;
    bool mandatory = false;
};

/// An ack, nack or reject inside a transaction: its deliveries have left the channel's
/// unacknowledged list and wait for tx.commit (or return to the list on tx.rollback).
struct TxSettle {
    Settle how = Settle::Ack;
    std::vector<Unacked> acked;
};

/// The work of an open transaction (rabbit_channel's tx = {Msgs, Acks}).
struct Transaction {
    std::vector<TxPublish> publishes;
    std::vector<TxSettle> settles;
};

/// Direct reply-to (rabbit_channel's reply_consumer): the channel's no-ack consumer of the
/// pseudo-queue amq.rabbitmq.reply-to, and the suffix that names it in a rewritten reply_to.
struct ReplyConsumer {
    std::string tag;
    std::string suffix;
};

struct ChannelState {
    ConnectionState* connection = nullptr;
    ChannelId id = 0;
    std::uint64_t next_delivery_tag = 1;
    std::deque<Unacked> unacked;  // ascending delivery tags
    std::string most_recently_declared_queue;

    /// basic.qos global=false: the prefetch given to consumers created from now on.
    std::uint16_t consumer_prefetch = 0;
    /// basic.qos global=true, RabbitMQ's rabbit_limiter: 0 means inactive. `volume` counts
    /// consumer deliveries awaiting acknowledgement while the limit is active.
    std::uint16_t global_prefetch = 0;
    std::uint32_t limiter_volume = 0;
    /// Queues that found the channel's limit reached, to resume when it no longer is.
    std::vector<Queue*> limiter_blocked_queues;

    std::map<std::string, std::unique_ptr<Consumer>, std::less<>> consumers;
    bool confirm_mode = false;
    /// Its writer id on the streams it publishes to (0 until it first does).
    std::uint64_t stream_writer = 0;
    std::uint64_t next_publish_sequence = 1;
    /// Set by tx.select: the channel is transactional from then on.
    std::unique_ptr<Transaction> tx;
    /// Set by basic.consume on amq.rabbitmq.reply-to, cleared by basic.cancel of its tag.
    std::optional<ReplyConsumer> reply_consumer;

    bool limiter_active() const noexcept { return global_prefetch > 0; }
    bool limit_reached() const noexcept {
        return limiter_active() && limiter_volume >= global_prefetch;
    }
};

struct ConnectionState {
    ConnectionId id = 0;
    std::string name;
    VHost* vhost = nullptr;
    std::string user;
    ConnectionSink* sink = nullptr;
    std::map<ChannelId, std::unique_ptr<ChannelState>> channels;
};

struct VHost {
    std::string name;
    /// What the management API shows and sets (PUT /api/vhosts/{name}).
    std::string description;
    std::vector<std::string> tags;
    std::unordered_map<std::string, std::unique_ptr<Exchange>> exchanges;
    std::unordered_map<std::string, std::unique_ptr<Queue>> queues;
};

/// A user as RabbitMQ keeps one: the salted password hash (password.hpp) and the tags.
struct User {
    std::string name;
    std::string password_hash;  // 4-byte salt + SHA-256; empty: no password login
    std::vector<std::string> tags;
};

class BrokerState {
public:
    explicit BrokerState(BrokerOptions options);
    /// Stops the journal recording the state's teardown.
    ~BrokerState();

    BrokerOptions options;
    /// The data directory's journal (Broker::open_data_dir), or null. Declared before what it
    /// records, so that it outlives every DurableMark.
    std::unique_ptr<Journal> journal;
    std::shared_ptr<Clock> clock;
    ManualClock* manual_clock = nullptr;
    std::map<std::string, std::unique_ptr<VHost>, std::less<>> vhosts;
    std::unordered_map<ConnectionId, std::unique_ptr<ConnectionState>> connections;
    ConnectionId next_connection_id = 1;
    std::uint64_t next_stream_writer = 1;
    std::mt19937_64 random;
    std::vector<User> users;
    std::vector<PermissionInfo> permissions;
    /// The permission expressions compiled so far (access.cpp), by their text.
    std::unordered_map<std::string, std::optional<std::regex>> permission_patterns;
    /// Imported global runtime parameters (cluster_name, ...), kept as name and JSON text so
    /// that exported definitions give them back.
    std::vector<std::pair<std::string, std::string>> global_parameters;

    VHost& add_vhost(std::string name);
    /// Records vhosts, users and permissions in the journal (after any change to them).
    void record_security() {
        if (journal) journal->security(*this);
    }
    VHost* find_vhost(std::string_view name);
    User* find_user(std::string_view name);
    const PermissionInfo* find_permission(std::string_view user, std::string_view vhost) const;
    /// Adds the user or replaces its password and tags.
    User& set_user(std::string name, std::string_view password, std::vector<std::string> tags);
    void set_permission(PermissionInfo p);
    ChannelState* find_channel(ChannelRef ref);
    std::string generate_name(std::string_view prefix);
};

}  // namespace warren::emulator
