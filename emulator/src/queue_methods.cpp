// The queue class: queue.declare, bind, unbind, purge and delete (rabbit_channel, then
// rabbit_amqqueue and rabbit_binding).
#include "handlers.hpp"

#include "equivalence.hpp"
#include "queue_type.hpp"

namespace warren::emulator {

Result<QueueDeclareOk> queue_declare(Model& model, ChannelState& ch, const QueueDeclare& m) {
    VHost& v = *ch.connection->vhost;
    const MethodId mid = method::queue_declare;
    const ConnectionId me = ch.connection->id;
    auto answer = [&](Queue& q) {
        // A declaration, passive or not, counts as use for x-expires (not for a type that
        // expires on its ticks).
        if (q.rules().expiry_tick == Duration{0}) q.note_used(model.now());
        ch.most_recently_declared_queue = q.name();
        // A stream reports the messages it held at the node's last statistics tick, and no
        // consumers.
        if (q.rules().log)
            return QueueDeclareOk{q.name(),
                                  static_cast<std::uint32_t>(q.log()->size_before(last_statistics_tick(model.now()))), 0};
        return QueueDeclareOk{q.name(), static_cast<std::uint32_t>(q.ready_count()),
                              static_cast<std::uint32_t>(q.consumer_count())};
    };
    std::string name = strip_cr_lf(m.queue);
    if (m.queue.starts_with(reply_to_queue)) {
        // rabbit_channel queue.declare of amq.rabbitmq.reply-to*, passive or not: the pseudo-
        // queue itself, or a suffix naming a live reply consumer, is declared with 0 messages
        // and 1 consumer; any other such name is not found.
        if (name != reply_to_queue && !(name.starts_with(reply_to_prefix) && model.reply_channel(name)))
            return not_found("queue", name, v, mid);
        ch.most_recently_declared_queue = name;
        return QueueDeclareOk{name, 0, 1};
    }
    if (m.passive) {
        // A passive declare takes the name as given: "" is not the last declared queue.
        auto q = model.queue_for_use(ch, name, mid);
        if (!q) return q.error();
        return answer(*q.value());
    }
    // The type x-queue-type names; an unknown one is refused with the other arguments, below.
    const FieldValue* named_type = m.arguments.find("x-queue-type");
    const QueueType* type = named_type && named_type->is_string() ? find_queue_type(named_type->as_string())
                                                                  : &classic_queue_type();
    if (name.empty()) {
        // rabbit_channel: a type without server_named support refuses before anything else.
        if (type && !type->rules().server_named)
            return AmqpError::format(ReplyCode::PreconditionFailed, mid,
                                     "Cannot declare a server-named queue for type {}", type->module());
        name = model.state().generate_name("amq.gen");
    } else if (has_reserved_prefix(name)) {
        return AmqpError::format(ReplyCode::AccessRefused, mid,
                                 "queue name '{}' contains reserved prefix 'amq.*'", name);
    }
    if (auto refused = model.check_access(ch, Access::Configure, "queue", name, mid)) return *refused;
    // Exclusive queues are never durable (rabbit_channel: Durable andalso not Exclusive).
    const bool durable = m.durable && !m.exclusive;
    const ConnectionId owner = m.exclusive ? me : 0;
    if (Queue* q = model.find_queue(v, name)) {
        // rabbit_amqqueue:assert_equivalence/5: exclusive owner, durable, auto_delete, args.
        if (q->owner() != owner) return resource_locked(*q, v, mid);
        if (auto e = check_bool_equivalence(q->durable(), durable, "durable", "queue", name, v, mid))
            return *e;
        if (auto e = check_bool_equivalence(q->auto_delete(), m.auto_delete, "auto_delete", "queue", name, v, mid))
            return *e;
        if (auto e = check_args_equivalence(q->arguments(), m.arguments, q->type().supported_arguments(),
                                            "queue", name, v, mid))
            return *e;
        return answer(*q);
    }
    // A new queue that dead-letters: its declarer reads it and writes to the exchange.
    if (const FieldValue* dlx = m.arguments.find("x-dead-letter-exchange"); dlx && dlx->is_string()) {
        if (auto refused = model.check_access(ch, Access::Read, "queue", name, mid)) return *refused;
        if (auto refused = model.check_access(ch, Access::Write, "exchange", dlx->as_string(), mid)) return *refused;
    }
    // A new queue's arguments are validated (rabbit_channel, then rabbit_amqqueue:declare/6);
    // an existing queue's are only compared, above.
    // Then the type's own rule on the queue's properties (rabbit_queue_type:declare).
    if (auto why = validate_queue_arguments(m.arguments, rs("queue", name, v)))
        return *why == check_crashes ? rabbit_crash() : AmqpError::make(ReplyCode::PreconditionFailed, mid, *why);
    if (auto why = type->check_properties(durable, m.exclusive, m.auto_delete, rs("queue", name, v)))
        return AmqpError::make(ReplyCode::PreconditionFailed, mid, *why);
    auto created = std::make_unique<Queue>(name, durable, m.exclusive, m.auto_delete, m.arguments, me, *type);
    created->set_vhost(&v);
    created->note_started(model.now());
    Queue& q = *created;
    v.queues.emplace(name, std::move(created));
    model.record_new_queue(v, q);
    return answer(q);
}

namespace {

// rabbit_channel:expand_routing_key_shortcut/3, for queue.bind and queue.unbind: an empty key
// with an empty queue name means the name of the channel's last declared queue.
std::string bind_key(const QueueBind& m, const std::string& expanded_queue) {
    return m.routing_key.empty() && m.queue.empty() ? expanded_queue : m.routing_key;
}

}  // namespace

Status queue_bind(Model& model, ChannelState& ch, const QueueBind& m) {
    VHost& v = *ch.connection->vhost;
    const MethodId mid = method::queue_bind;
    auto expanded = model.expand_queue_name(ch, m.queue, mid);
    if (!expanded) return expanded.error();
    const std::string queue_name = strip_cr_lf(expanded.value());
    // rabbit_channel:binding_action/10: write on the destination, read on the source.
    if (auto refused = model.check_access(ch, Access::Write, "queue", queue_name, mid)) return *refused;
    if (auto refused = model.check_access(ch, Access::Read, "exchange", strip_cr_lf(m.exchange), mid)) return *refused;
    const std::string key = bind_key(m, queue_name);
    auto target = model.resolve_binding(v, strip_cr_lf(m.exchange), queue_name, true, true, mid);
    if (!target) return target.error();
    return model.add_binding(v, *target.value(), key, m.arguments, ch.connection->id, mid);
}

Status queue_unbind(Model& model, ChannelState& ch, const QueueBind& m) {
    VHost& v = *ch.connection->vhost;
    const MethodId mid = method::queue_unbind;
    auto expanded = model.expand_queue_name(ch, m.queue, mid);
    if (!expanded) return expanded.error();
    const std::string queue_name = strip_cr_lf(expanded.value());
    // rabbit_channel:binding_action/10: write on the destination, read on the source.
    if (auto refused = model.check_access(ch, Access::Write, "queue", queue_name, mid)) return *refused;
    if (auto refused = model.check_access(ch, Access::Read, "exchange", strip_cr_lf(m.exchange), mid)) return *refused;
    auto target = model.resolve_binding(v, strip_cr_lf(m.exchange), queue_name, true, false, mid);
    if (!target) return target.error();
    if (!target.value()) return {};
    return model.unbind(v, *target.value(), bind_key(m, queue_name), m.arguments, ch.connection->id, mid);
}

Result<std::uint32_t> queue_purge(Model& model, ChannelState& ch, std::string_view queue) {
    const MethodId mid = method::queue_purge;
    auto name = model.expand_queue_name(ch, queue, mid);
    if (!name) return name.error();
    if (auto refused = model.check_access(ch, Access::Read, "queue", strip_cr_lf(name.value()), mid)) return *refused;
    auto q = model.queue_for_use(ch, name.value(), mid);
    if (!q) return q.error();
    if (q.value()->rules().log)
        return AmqpError::format(ReplyCode::NotImplemented, mid, "queue.purge not supported by stream queues {}",
                                 rs("queue", q.value()->name(), *ch.connection->vhost));
    return static_cast<std::uint32_t>(q.value()->purge());
}

Result<std::uint32_t> queue_delete(Model& model, ChannelState& ch, const QueueDelete& m) {
    VHost& v = *ch.connection->vhost;
    const MethodId mid = method::queue_delete;
    auto name = model.expand_queue_name(ch, m.queue, mid);
    if (!name) return name.error();
    if (auto refused = model.check_access(ch, Access::Configure, "queue", strip_cr_lf(name.value()), mid)) return *refused;
    Queue* q = model.find_queue(v, strip_cr_lf(name.value()));
    if (!q) return std::uint32_t{0};
    if (owned_elsewhere(*q, ch.connection->id)) return resource_locked(*q, v, mid);
    if (!q->rules().conditional_delete && (m.if_unused || m.if_empty))
        return AmqpError::format(ReplyCode::NotImplemented, mid,
                                 "cannot delete {}. queue.delete operations with {} flag set are not supported by "
                                 "quorum queues",
                                 rs("queue", q->name(), v), m.if_unused ? "if-unused" : "if-empty");
    // rabbit_amqqueue_process handle_call delete: emptiness is checked before use.
    if (m.if_empty && q->has_ready())
        return AmqpError::format(ReplyCode::PreconditionFailed, mid, "{} not empty",
                                 rs("queue", q->name(), v));
    // A stream is deleted in use too (rabbit_stream_queue:delete/4 ignores if_unused).
    if (m.if_unused && !q->consumers().empty() && !q->rules().log)
        return AmqpError::format(ReplyCode::PreconditionFailed, mid, "{} in use",
                                 rs("queue", q->name(), v));
    return model.delete_queue(v, *q);
}

}  // namespace warren::emulator
