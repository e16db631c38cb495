// Lookups and the error texts the method handlers share.
#include "model.hpp"

#include <algorithm>

namespace warren::emulator {

std::string rs(std::string_view kind, std::string_view name, const VHost& vhost) {
    return fmt::format("{} '{}' in vhost '{}'", kind, name, vhost.name);
}

AmqpError not_found(std::string_view kind, std::string_view name, const VHost& vhost, MethodId m) {
    return AmqpError::format(ReplyCode::NotFound, m, "no {}", rs(kind, name, vhost));
}

AmqpError resource_locked(const Queue& q, const VHost& vhost, MethodId m) {
    return AmqpError::format(
        ReplyCode::ResourceLocked, m,
        "cannot obtain exclusive access to locked {}. It could be originally declared on another "
        "connection or the exclusive property value does not match that of the original "
        "declaration.",
        rs("queue", q.name(), vhost));
}

AmqpError default_exchange_refused(MethodId m) {
    return AmqpError::make(ReplyCode::AccessRefused, m, "operation not permitted on the default exchange");
}

AmqpError channel_not_open(MethodId m) {
    return AmqpError::make(ReplyCode::ChannelError, m, "expected 'channel.open'");
}

bool owned_elsewhere(const Queue& q, ConnectionId conn) { return q.exclusive() && q.owner() != conn; }

// RabbitMQ applies strip_cr_lf to the names in queue.declare, queue.delete, queue.bind /
// unbind, exchange.declare, exchange.delete and exchange.bind / unbind (after the
// empty-queue-name shortcut is expanded); basic.publish, basic.get, basic.consume and
// queue.purge take names as given.
std::string strip_cr_lf(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    for (char c : name)
        if (c != '\r' && c != '\n') out.push_back(c);
    return out;
}

bool has_reserved_prefix(std::string_view name) { return name.starts_with("amq."); }

Exchange* Model::find_exchange(VHost& v, std::string_view name) {
    auto it = v.exchanges.find(std::string(name));
    return it == v.exchanges.end() ? nullptr : it->second.get();
}

Queue* Model::find_queue(VHost& v, std::string_view name) {
    auto it = v.queues.find(std::string(name));
    return it == v.queues.end() ? nullptr : it->second.get();
}

Result<std::string> Model::expand_queue_name(ChannelState& ch, std::string_view name, MethodId m) {
    if (!name.empty()) return std::string(name);
    if (ch.most_recently_declared_queue.empty())
        return AmqpError::make(ReplyCode::NotFound, m, "no previously declared queue");
    return ch.most_recently_declared_queue;
}

Result<Queue*> Model::queue_for_use(ChannelState& ch, std::string_view name, MethodId m) {
    VHost& v = *ch.connection->vhost;
    Queue* q = find_queue(v, name);
    if (!q) return not_found("queue", name, v, m);
    if (owned_elsewhere(*q, ch.connection->id)) return resource_locked(*q, v, m);
    return q;
}

// rabbit_channel:binding_action/10 with rabbit_binding:add/3 and remove/3's lookups.
// check_not_default_exchange/1 looks at exchanges only: a queue named '' (a name of CR and LF
// only) is looked up like any other.
Result<std::optional<Model::BindTarget>> Model::resolve_binding(VHost& v, std::string_view source,
                                                                std::string_view destination,
                                                                bool destination_is_queue, bool adding,
                                                                MethodId m) {
    if ((!destination_is_queue && destination.empty()) || source.empty()) return default_exchange_refused(m);
    BindTarget t;
    t.source = find_exchange(v, source);
    if (destination_is_queue) t.queue = find_queue(v, destination);
    else t.exchange = find_exchange(v, destination);
    if (!t.source || !(t.queue || t.exchange)) {
        if (!adding) return std::optional<BindTarget>{};  // unbinding what is missing is fine
        if (!t.source) return not_found("exchange", source, v, m);
        return not_found(destination_is_queue ? "queue" : "exchange", destination, v, m);
    }
    return std::optional<BindTarget>{t};
}

Status Model::add_binding(VHost& v, const BindTarget& t, std::string_view key,
                          const FieldTable& arguments, ConnectionId conn, MethodId m) {
    if (auto why = t.source->type().validate_binding(key, arguments))
        return AmqpError::make(ReplyCode::PreconditionFailed, m, *why);
    if (t.queue && owned_elsewhere(*t.queue, conn)) return resource_locked(*t.queue, v, m);
    if (t.source->find_binding(t.queue, t.exchange, key, arguments)) return {};
    Binding& added = t.source->add_binding(
        std::make_unique<Binding>(Binding{t.source, t.queue, t.exchange, std::string(key), arguments}));
    if (t.queue) t.queue->add_incoming(&added);
    else t.exchange->add_incoming(&added);
    if (s_.journal && durable_binding(added)) s_.journal->binding_put(v, added);
    return {};
}

Status Model::unbind(VHost& v, const BindTarget& t, std::string_view key, const FieldTable& arguments,
                     ConnectionId conn, MethodId m) {
    Binding* b = t.source->find_binding(t.queue, t.exchange, key, arguments);
    if (!b) return {};
    if (t.queue && owned_elsewhere(*t.queue, conn)) return resource_locked(*t.queue, v, m);
    remove_binding(v, b);
    return {};
}

void Model::dedupe(std::vector<Queue*>& qs) {
    std::vector<Queue*> out;
    for (Queue* q : qs)
        if (std::find(out.begin(), out.end(), q) == out.end()) out.push_back(q);
    qs.swap(out);
}

}  // namespace warren::emulator
