// What a test (or the management API) sees of the broker: queues, exchanges, bindings and
// connections with the management API's figures, and route traces.
#include <algorithm>
#include <tuple>

#include "model.hpp"
#include "warren/emulator/broker.hpp"

namespace warren {

using namespace emulator;

namespace {

QueueInfo queue_info(const VHost& v, const Queue& q) {
    QueueInfo info;
    info.vhost = v.name;
    info.name = q.name();
    info.durable = q.durable();
    info.exclusive = q.exclusive();
    info.auto_delete = q.auto_delete();
    info.type = std::string(q.type().name());
    info.arguments = q.arguments();
    info.messages_ready = q.log() ? q.log()->size() : q.ready_count();
    info.messages_unacknowledged = q.unacked_count();
    info.messages = info.messages_ready + q.unacked_count();
    info.message_bytes_ready = q.ready_bytes();
    info.consumers = q.consumers().size();
    return info;
}

ExchangeInfo exchange_info(const VHost& v, const Exchange& x) {
    return ExchangeInfo{v.name, x.name(), std::string(x.type_name()), x.durable(),
                        x.auto_delete(), x.internal(), x.arguments()};
}

template <class Map>
std::vector<const typename Map::mapped_type::element_type*> sorted_values(const Map& m) {
    std::vector<const typename Map::mapped_type::element_type*> out;
    for (const auto& [k, v] : m) out.push_back(v.get());
    std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name() < b->name(); });
    return out;
}

}  // namespace

std::vector<ChannelInfo> Broker::channels() const {
    std::lock_guard lock(mutex_);
    std::vector<ChannelInfo> out;
    for (const auto& [id, conn] : state_->connections)
        for (const auto& [number, ch] : conn->channels) {
            ChannelInfo info;
            info.connection = id;
            info.number = number;
            info.vhost = conn->vhost->name;
            info.user = conn->user;
            info.consumer_count = ch->consumers.size();
            info.prefetch_count = ch->consumer_prefetch;
            info.global_prefetch_count = ch->global_prefetch;
            info.confirm = ch->confirm_mode;
            info.transactional = ch->tx != nullptr;
            info.messages_unacknowledged = ch->unacked.size();
            if (ch->tx) {
                info.messages_uncommitted = ch->tx->publishes.size();
                for (const TxSettle& s : ch->tx->settles) info.acks_uncommitted += s.acked.size();
            }
            out.push_back(std::move(info));
        }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return std::tie(a.connection, a.number) < std::tie(b.connection, b.number);
    });
    return out;
}

std::vector<ConsumerInfo> Broker::consumers(std::string_view vhost) const {
    std::lock_guard lock(mutex_);
    std::vector<ConsumerInfo> out;
    for (const auto& [id, conn] : state_->connections) {
        if (!vhost.empty() && conn->vhost->name != vhost) continue;
        for (const auto& [number, ch] : conn->channels)
            for (const auto& [tag, c] : ch->consumers) {
                if (!c->queue) continue;
                out.push_back(ConsumerInfo{conn->vhost->name, c->queue->name(), c->tag, id, number, conn->user,
                                           !c->no_ack, c->exclusive, c->prefetch, c->arguments});
            }
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return std::tie(a.vhost, a.queue, a.consumer_tag) < std::tie(b.vhost, b.queue, b.consumer_tag);
    });
    return out;
}

std::vector<ConnectionInfo> Broker::connections() const {
    std::lock_guard lock(mutex_);
    std::vector<ConnectionInfo> out;
    for (const auto& [id, conn] : state_->connections)
        out.push_back(ConnectionInfo{id, conn->name, conn->vhost->name, conn->user, conn->channels.size()});
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return out;
}


std::vector<QueueInfo> Broker::queues(std::string_view vhost) const {
    std::lock_guard lock(mutex_);
    std::vector<QueueInfo> out;
    for (const auto& [name, v] : state_->vhosts) {
        if (!vhost.empty() && name != vhost) continue;
        for (const Queue* q : sorted_values(v->queues)) out.push_back(queue_info(*v, *q));
    }
    return out;
}

std::vector<ExchangeInfo> Broker::exchanges(std::string_view vhost) const {
    std::lock_guard lock(mutex_);
    std::vector<ExchangeInfo> out;
    for (const auto& [name, v] : state_->vhosts) {
        if (!vhost.empty() && name != vhost) continue;
        for (const Exchange* x : sorted_values(v->exchanges)) out.push_back(exchange_info(*v, *x));
    }
    return out;
}

std::vector<BindingInfo> Broker::bindings(std::string_view vhost) const {
    std::lock_guard lock(mutex_);
    std::vector<BindingInfo> out;
    for (const auto& [name, v] : state_->vhosts) {
        if (!vhost.empty() && name != vhost) continue;
        // The default exchange's implicit bindings come first, as the management API lists them.
        for (const Queue* q : sorted_values(v->queues))
            out.push_back(BindingInfo{v->name, "", q->name(), "queue", q->name(), {}});
        for (const Exchange* x : sorted_values(v->exchanges))
            for (const auto& b : x->bindings())
                out.push_back(BindingInfo{v->name, x->name(), b->destination_name(),
                                          b->to_queue() ? "queue" : "exchange", b->key,
                                          b->arguments});
    }
    return out;
}

std::optional<QueueInfo> Broker::queue(std::string_view vhost, std::string_view name) const {
    std::lock_guard lock(mutex_);
    VHost* v = state_->find_vhost(vhost);
    if (!v) return std::nullopt;
    auto it = v->queues.find(std::string(name));
    if (it == v->queues.end()) return std::nullopt;
    return queue_info(*v, *it->second);
}

std::optional<ExchangeInfo> Broker::exchange(std::string_view vhost, std::string_view name) const {
    std::lock_guard lock(mutex_);
    VHost* v = state_->find_vhost(vhost);
    if (!v) return std::nullopt;
    auto it = v->exchanges.find(std::string(name));
    if (it == v->exchanges.end()) return std::nullopt;
    return exchange_info(*v, *it->second);
}

RouteTrace Broker::trace_route(std::string_view vhost, std::string_view exchange,
                               std::string_view routing_key, const FieldTable& headers) const {
    std::lock_guard lock(mutex_);
    RouteTrace trace;
    trace.exchange = std::string(exchange);
    trace.routing_key = std::string(routing_key);
    VHost* v = state_->find_vhost(vhost);
    if (!v) {
        trace.error = AmqpError::format(ReplyCode::NotAllowed, method::connection_open,
                                        "vhost {} not found", vhost);
        return trace;
    }
    Model model(*state_);
    auto target = model.publish_target(*v, exchange);
    if (!target) {
        trace.error = target.error();
        return trace;
    }
    if (auto refused = check_routing_headers(headers, method::basic_publish)) {
        trace.error = std::move(refused);
        return trace;
    }
    std::vector<Queue*> queues;
    model.route(*v, *target.value(), RoutingInput{routing_key, headers}, queues, &trace);
    for (Queue* q : queues) trace.queues.push_back(q->name());
    return trace;
}
}  // namespace warren
