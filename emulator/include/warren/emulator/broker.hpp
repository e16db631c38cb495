// The broker model: vhosts with their exchanges, queues and bindings; connections with their
// channels, consumers and unacknowledged deliveries; and the clock.
//
// What a test writer calls: time (advance), faults (restart, cut_connection), inspection
// (queues, exchanges, bindings, trace_route) and vhosts. Code under test reaches the broker
// through warren::connect(broker) and warren::Channel; client backends and warren-server use
// the AMQP method surface in warren/emulator/detail/broker_methods.hpp.
//
// Thread safety: every public member takes the Broker's one lock, so a Broker may be shared
// by threads; the model underneath is single-threaded plain code.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "warren/emulator/clock.hpp"
#include "warren/emulator/inspection.hpp"
#include "warren/emulator/route_trace.hpp"

namespace warren {

struct BrokerUser {
    std::string name;
    std::string password;
    /// RabbitMQ's user tags ("administrator", "monitoring", "management", ...).
    std::vector<std::string> tags = {};
};

struct BrokerOptions {
    std::vector<std::string> vhosts = {"/"};
    /// Each may use each of `vhosts` (full permissions).
    std::vector<BrokerUser> users = {{"guest", "guest", {"administrator"}}};
    /// The model's time. Null: a ManualClock starting at ManualClock::default_start.
    std::shared_ptr<Clock> clock = nullptr;
};

/// import_definitions' refusal: what RabbitMQ's POST /api/definitions answers, nothing imported.
class DefinitionsError : public std::runtime_error {
public:
    DefinitionsError(std::string message, std::string reason_json)
        : std::runtime_error(std::move(message)), reason_(std::move(reason_json)) {}
    /// The "reason" RabbitMQ's management API gives in its 400 answer, as JSON text:
    /// "failed_to_parse_json", ["no_such_vhost","v"], ["amqp_error","precondition_failed",...].
    const std::string& reason() const noexcept { return reason_; }

private:
    std::string reason_;
};

/// How a data directory is kept (Broker::open_data_dir).
struct DataDirOptions {
    /// fsync the journal before sync_data() returns: what a confirm waits for, as RabbitMQ's
    /// confirms wait for its message store's fsync. Off, a killed process still loses nothing
    /// written, a machine that loses power may.
    bool fsync = true;
    /// The journal is rewritten from the live state when it is over this size and twice what
    /// the state takes.
    std::uint64_t compact_min_bytes = 64u << 20;
};

/// What open_data_dir found.
struct DataDirReport {
    std::size_t vhosts = 0;
    std::size_t exchanges = 0;
    std::size_t queues = 0;
    std::size_t bindings = 0;
    std::size_t messages = 0;
    /// A damaged journal's tail that was skipped, records naming what no longer exists.
    std::vector<std::string> warnings = {};
};

/// A data directory that cannot be used, or a journal the disk refused to take.
class DataDirError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace emulator {
class BrokerState;
}
namespace detail {
class BrokerMethods;
}

class Broker {
public:
    explicit Broker(BrokerOptions options = {});
    ~Broker();
    Broker(const Broker&) = delete;
    Broker& operator=(const Broker&) = delete;

    // ---- time ----
    TimePoint now() const;
    /// Moves the ManualClock forward by `d`, firing everything due on the way in due order:
    /// messages expiring at the head of their queue (dead-lettered where the queue says so)
    /// and unused queues reaching their x-expires. A message dead-lettered into a queue whose
    /// own TTL also falls due within `d` expires there within the same call.
    /// Throws std::logic_error when the Broker runs on another clock.
    void advance(Duration d);
    /// The earliest time something falls due, for a server that arms one timer; nullopt when
    /// nothing is pending.
    std::optional<TimePoint> next_deadline() const;
    /// Fires everything due at the clock's current time (for a Broker on a SystemClock).
    void run_due();

    // ---- faults a test can cause ----
    /// A simulated broker restart: every connection is closed with 320 CONNECTION_FORCED as a
    /// shutdown closes it (their unacknowledged messages return to their queues first);
    /// non-durable exchanges and queues vanish; durable queues keep their persistent messages
    /// in order and lose the transient ones; bindings between durable ends survive.
    void restart();
    /// Cuts the connection(s) named `name` (ConnectOptions::name) as a network failure would:
    /// their unacknowledged messages are requeued (redelivered), their exclusive queues go, and
    /// the client side finds the connection lost. Returns how many were cut.
    std::size_t cut_connection(std::string_view name);
    std::vector<ConnectionInfo> connections() const;
    /// Every open channel, by connection and number.
    std::vector<ChannelInfo> channels() const;
    /// The consumers of one vhost's queues, or of every vhost's.
    std::vector<ConsumerInfo> consumers(std::string_view vhost = {}) const;

    // ---- inspection (an empty vhost means every vhost) ----
    std::vector<QueueInfo> queues(std::string_view vhost = {}) const;
    std::vector<ExchangeInfo> exchanges(std::string_view vhost = {}) const;
    std::vector<BindingInfo> bindings(std::string_view vhost = {}) const;
    std::optional<QueueInfo> queue(std::string_view vhost, std::string_view name) const;
    std::optional<ExchangeInfo> exchange(std::string_view vhost, std::string_view name) const;
    /// What publishing to `exchange` with this key and headers would do, and why.
    RouteTrace trace_route(std::string_view vhost, std::string_view exchange,
                           std::string_view routing_key, const FieldTable& headers = {}) const;

    // ---- vhosts, users and permissions ----
    /// Adds the vhost (nothing when it exists) and lets every user use it, as a test that
    /// adds one expects.
    void add_vhost(std::string name);
    /// Adds the vhost with its description and tags, or changes them when it exists, as PUT
    /// /api/vhosts/{name} does; a new vhost gives `creator` (when it is a user) full
    /// permissions in it. Returns whether the vhost is new.
    bool add_vhost(const VHostInfo& info, std::string_view creator);
    /// Deletes the vhost with everything in it: its connections are closed with 320
    /// CONNECTION_FORCED "vhost '<name>' is deleted", its permissions go. False when there is
    /// no such vhost.
    bool delete_vhost(std::string_view name);
    std::vector<std::string> vhosts() const;
    std::vector<VHostInfo> vhost_infos() const;
    /// Adds the user, or changes its password and tags.
    void add_user(BrokerUser user);
    std::vector<UserInfo> users() const;
    /// Deletes the user and its permissions; its connections are closed with 320
    /// CONNECTION_FORCED "user '<name>' is deleted". False when there is no such user.
    bool delete_user(std::string_view name);
    /// Sets a user's permissions in a vhost (both must exist: std::invalid_argument).
    void set_permissions(PermissionInfo permissions);
    /// In one vhost, or every vhost when `vhost` is empty.
    std::vector<PermissionInfo> permissions(std::string_view vhost = {}) const;
    /// Removes a user's permissions in a vhost; false when it had none.
    bool clear_permissions(std::string_view vhost, std::string_view user);
    bool authenticate(std::string_view user, std::string_view password) const;

    // ---- definitions (RabbitMQ's definitions.json) ----
    /// The broker's topology as RabbitMQ 3.10.8's GET /api/definitions gives it (users,
    /// vhosts, permissions, exchanges, queues, bindings; no exclusive queues, no amq.* or
    /// default exchanges), or with a vhost, as GET /api/definitions/{vhost} does. Sorted, so
    /// equal brokers export equal text. Throws std::invalid_argument for an unknown vhost.
    std::string export_definitions(std::string_view vhost = {}) const;
    /// Loads definitions in that format (also rabbitmqctl export_definitions'), as POST
    /// /api/definitions does: objects that exist are left as they are, bindings whose ends are
    /// missing are skipped. All or nothing: on an error RabbitMQ would refuse with, throws
    /// DefinitionsError and changes nothing. With a vhost, the objects carry no "vhost" field
    /// and go to that vhost. Returns warnings for what warren does not emulate (policies,
    /// runtime parameters, topic permissions), which are not imported.
    /// A vhost the import creates gives `acting_user` (when it is a user) full permissions,
    /// as an import through the management API gives the user who posts it.
    std::vector<std::string> import_definitions(std::string_view json, std::string_view vhost = {},
                                                std::string_view acting_user = {});

    // ---- durable state in a directory (warren-server --data-dir) ----
    /// Restores what the directory holds (durable exchanges, queues and bindings; vhosts,
    /// users and permissions; the messages a RabbitMQ restart keeps: persistent ones in
    /// durable classic queues, every one in quorum queues) and records every change to them
    /// from now on. Messages that were handed out and not acknowledged come back as a
    /// restart brings them back: redelivered, in their places. Stream contents are not kept.
    /// Call it before any connection; once per Broker. An empty or new directory leaves the
    /// Broker as it is (its vhosts and users are recorded). Throws DataDirError when the
    /// directory cannot be used; a damaged journal's tail is skipped with a warning.
    DataDirReport open_data_dir(const std::string& directory, DataDirOptions options = {});
    /// Whether changes wait to be made durable by sync_data().
    bool data_pending() const;
    /// Writes the recorded changes to the journal (and fsyncs it): what warren-server does
    /// before it sends the confirms, acks' effects and replies of a batch of frames. Compacts
    /// the journal when it has grown. Throws DataDirError when the disk refuses.
    void sync_data();

private:
    friend class detail::BrokerMethods;
    mutable std::mutex mutex_;
    std::unique_ptr<emulator::BrokerState> state_;
};

}  // namespace warren
