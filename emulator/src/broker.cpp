// warren::Broker: time, faults and vhosts. The AMQP method surface is in broker_methods.cpp,
// inspection in inspection.cpp, the model's work in the files model.hpp lists.
#include "warren/emulator/broker.hpp"

#include <algorithm>
#include <stdexcept>

#include "model.hpp"
#include "password.hpp"

namespace warren {

using namespace emulator;

Broker::Broker(BrokerOptions options)
    : state_(std::make_unique<BrokerState>(std::move(options))) {}

TimePoint Broker::now() const {
    std::lock_guard lock(mutex_);
    return state_->clock->now();
}

void Broker::advance(Duration d) {
    std::lock_guard lock(mutex_);
    if (!state_->manual_clock)
        throw std::logic_error("Broker::advance needs a ManualClock; this Broker runs on another clock");
    const TimePoint target = state_->manual_clock->now() + d;
    Model(*state_).run_due(target);
    state_->manual_clock->set(target);
}

std::optional<TimePoint> Broker::next_deadline() const {
    std::lock_guard lock(mutex_);
    auto due = Model(*state_).next_due();
    if (!due) return std::nullopt;
    return due->at;
}

void Broker::run_due() {
    std::lock_guard lock(mutex_);
    Model(*state_).run_due(state_->clock->now());
}

void Broker::restart() {
    std::lock_guard lock(mutex_);
    Model model(*state_);
    const AmqpError shutdown = shutdown_error();
    while (!state_->connections.empty()) {
        ConnectionState& conn = *state_->connections.begin()->second;
        conn.sink->on_connection_closed(shutdown);
        model.close_connection(conn);
    }
    const TimePoint now = state_->clock->now();
    for (auto& [vname, v] : state_->vhosts) {
        std::vector<Queue*> transient_queues;
        for (auto& [qname, q] : v->queues)
            if (!q->durable()) transient_queues.push_back(q.get());
        for (Queue* q : transient_queues) model.delete_queue(*v, *q);
        std::vector<Exchange*> transient_exchanges;
        for (auto& [xname, x] : v->exchanges)
            if (!x->durable()) transient_exchanges.push_back(x.get());
        for (Exchange* x : transient_exchanges)
            if (v->exchanges.contains(x->name())) model.delete_exchange(*v, *x);
        for (auto& [qname, q] : v->queues) {
            // A quorum queue keeps every message; a classic one only its persistent ones.
            if (!q->rules().keeps_transient_messages) q->keep_only_persistent();
            q->forget_consumers();
            q->note_started(now);
        }
    }
}

std::size_t Broker::cut_connection(std::string_view name) {
    std::lock_guard lock(mutex_);
    std::vector<ConnectionState*> cut;
    for (auto& [id, conn] : state_->connections)
        if (conn->name == name) cut.push_back(conn.get());
    Model model(*state_);
    for (ConnectionState* conn : cut) {
        conn->sink->on_connection_lost();
        model.close_connection(*conn);
    }
    return cut.size();
}

void Broker::add_vhost(std::string name) {
    std::lock_guard lock(mutex_);
    if (state_->find_vhost(name)) return;
    state_->add_vhost(name);
    for (const User& u : state_->users) state_->set_permission(PermissionInfo{u.name, name});
    state_->record_security();
}

bool Broker::add_vhost(const VHostInfo& info, std::string_view creator) {
    std::lock_guard lock(mutex_);
    const bool created = state_->find_vhost(info.name) == nullptr;
    VHost& v = state_->add_vhost(info.name);
    v.description = info.description;
    v.tags = info.tags;
    // rabbit_mgmt_wm_vhost: the user who creates a vhost may use it.
    if (created && state_->find_user(creator)) state_->set_permission(PermissionInfo{std::string(creator), info.name});
    state_->record_security();
    return created;
}

namespace {

/// 320 CONNECTION_FORCED for the connections `close` picks, as rabbit_connection_tracking
/// closes them when their vhost or user goes.
template <class Pick>
void force_close(BrokerState& state, Pick pick, std::string_view why) {
    std::vector<ConnectionState*> picked;
    for (auto& [id, conn] : state.connections)
        if (pick(*conn)) picked.push_back(conn.get());
    const AmqpError error = AmqpError::make(ReplyCode::ConnectionForced, method::none, why);
    Model model(state);
    for (ConnectionState* conn : picked) {
        conn->sink->on_connection_closed(error);
        model.close_connection(*conn);
    }
}

}  // namespace

bool Broker::delete_vhost(std::string_view name) {
    std::lock_guard lock(mutex_);
    VHost* v = state_->find_vhost(name);
    if (!v) return false;
    force_close(*state_, [&](const ConnectionState& c) { return c.vhost == v; },
                fmt::format("vhost '{}' is deleted", name));
    Model model(*state_);
    std::vector<Queue*> queues;
    for (auto& [qname, q] : v->queues) queues.push_back(q.get());
    for (Queue* q : queues) model.delete_queue(*v, *q);
    std::erase_if(state_->permissions, [&](const PermissionInfo& p) { return p.vhost == name; });
    state_->vhosts.erase(state_->vhosts.find(name));
    state_->record_security();
    return true;
}

bool Broker::delete_user(std::string_view name) {
    std::lock_guard lock(mutex_);
    if (!state_->find_user(name)) return false;
    force_close(*state_, [&](const ConnectionState& c) { return c.user == name; },
                fmt::format("user '{}' is deleted", name));
    std::erase_if(state_->users, [&](const User& u) { return u.name == name; });
    std::erase_if(state_->permissions, [&](const PermissionInfo& p) { return p.user == name; });
    state_->record_security();
    return true;
}

bool Broker::clear_permissions(std::string_view vhost, std::string_view user) {
    std::lock_guard lock(mutex_);
    const bool cleared = std::erase_if(state_->permissions, [&](const PermissionInfo& p) {
                             return p.vhost == vhost && p.user == user;
                         }) > 0;
    state_->record_security();
    return cleared;
}

std::vector<std::string> Broker::vhosts() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& [name, v] : state_->vhosts) out.push_back(name);
    return out;
}

std::vector<VHostInfo> Broker::vhost_infos() const {
    std::lock_guard lock(mutex_);
    std::vector<VHostInfo> out;
    for (const auto& [name, v] : state_->vhosts) out.push_back(VHostInfo{name, v->description, v->tags});
    return out;
}

void Broker::add_user(BrokerUser user) {
    std::lock_guard lock(mutex_);
    state_->set_user(std::move(user.name), user.password, std::move(user.tags));
    state_->record_security();
}

std::vector<UserInfo> Broker::users() const {
    std::lock_guard lock(mutex_);
    std::vector<UserInfo> out;
    for (const User& u : state_->users)
        out.push_back(UserInfo{u.name, base64_encode(u.password_hash), "rabbit_password_hashing_sha256", u.tags});
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

void Broker::set_permissions(PermissionInfo permissions) {
    std::lock_guard lock(mutex_);
    if (!state_->find_user(permissions.user))
        throw std::invalid_argument(fmt::format("no user '{}'", permissions.user));
    if (!state_->find_vhost(permissions.vhost))
        throw std::invalid_argument(fmt::format("no vhost '{}'", permissions.vhost));
    state_->set_permission(std::move(permissions));
    state_->record_security();
}

std::vector<PermissionInfo> Broker::permissions(std::string_view vhost) const {
    std::lock_guard lock(mutex_);
    std::vector<PermissionInfo> out;
    for (const PermissionInfo& p : state_->permissions)
        if (vhost.empty() || p.vhost == vhost) out.push_back(p);
    return out;
}

bool Broker::authenticate(std::string_view user, std::string_view password) const {
    std::lock_guard lock(mutex_);
    const User* u = state_->find_user(user);
    return u && password_matches(u->password_hash, password);
}

}  // namespace warren
