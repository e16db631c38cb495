// The basic class: qos, publish, get, consume, cancel, ack, nack, reject and recover, in the
// order of checks of rabbit_channel's handle_method clauses.
#include "handlers.hpp"

#include "queue_type.hpp"
#include "stream.hpp"

namespace warren::emulator {

Status basic_qos(Model& model, ChannelState& ch, const BasicQos& m) {
    const MethodId mid = method::basic_qos;
    if (m.prefetch_size != 0)
        return AmqpError::format(ReplyCode::NotImplemented, mid, "prefetch_size!=0 ({})",
                                 m.prefetch_size);
    model.set_prefetch(ch, m.prefetch_count, m.global);
    return {};
}

Status basic_publish(Model& model, ChannelState& ch, const BasicPublish& m, Message message,
                     std::string encoded_properties) {
    VHost& v = *ch.connection->vhost;
    const MethodId mid = method::basic_publish;
    if (m.immediate) return AmqpError::make(ReplyCode::NotImplemented, mid, "immediate=true");
    if (auto refused = model.check_access(ch, Access::Write, "exchange", m.exchange, mid)) return *refused;
    auto target = model.publish_target(v, m.exchange);
    if (!target) return target.error();
    BasicProperties& props = message.properties;
    if (props.reply_to && *props.reply_to == reply_to_queue) {
        // rabbit_channel:maybe_set_fast_reply_to/2: the reply_to names this channel's reply
        // consumer from here on, and the properties are encoded anew.
        if (!ch.reply_consumer)
            return AmqpError::make(ReplyCode::PreconditionFailed, mid,
                                   "fast reply consumer does not exist");
        props.reply_to = fmt::format("{}{}", reply_to_prefix, ch.reply_consumer->suffix);
        reencode_headers(props.headers);
        encoded_properties.clear();
    }
    if (props.user_id && *props.user_id != ch.connection->user)
        return AmqpError::format(ReplyCode::PreconditionFailed, mid,
                                 "user_id property set to '{}' but authenticated user was '{}'",
                                 *props.user_id, ch.connection->user);
    std::optional<Duration> message_ttl;
    if (props.expiration) {
        // rabbit_channel:check_expiration_header/1.
        auto parsed = parse_expiration(*props.expiration);
        if (parsed.error) return AmqpError::make(ReplyCode::PreconditionFailed, mid, *parsed.error);
        message_ttl = parsed.ttl;
    }
    std::vector<std::string> header_keys;
    if (!props.headers.empty()) {
        if (auto refused = check_routing_headers(props.headers, mid)) return *refused;
        header_keys = header_routes(props.headers);
        // rabbit_basic:make_message/4: the message keeps its CC header but not its BCC header,
        // before any exchange (the headers exchange included) sees it. Taking it out
        // re-encodes the properties (rabbit_basic:strip_header).
        if (props.headers.erase("BCC")) {
            reencode_headers(props.headers);
            encoded_properties.clear();
        }
    }
    const std::uint64_t sequence = ch.confirm_mode ? ch.next_publish_sequence++ : 0;
    auto stored = std::make_shared<const StoredMessage>(m.exchange, m.routing_key, std::move(message),
                                                        std::move(header_keys), std::move(encoded_properties));
    std::vector<Queue*> queues;
    model.route(v, *target.value(),
                RoutingInput{stored->routing_key(), stored->properties().headers,
                             stored->extra_routing_keys()},
                queues, nullptr);
    // A stream cannot store a decimal header: rabbit_msg_record crashes the channel.
    for (Queue* q : queues)
        if (q->rules().log && stream_refuses(*stored)) return rabbit_crash();
    // Direct reply-to: keys naming a reply consumer, only ever on the default exchange.
    const bool replies = target.value()->name().empty() &&
                         (stored->routing_key().starts_with(reply_to_prefix) ||
                          !stored->extra_routing_keys().empty());
    if (ch.tx) {
        // In a transaction the message is routed now and reaches its queues at tx.commit;
        // a reply is delivered now, as RabbitMQ's routing delivers it.
        if (replies) model.deliver_replies(stored);
        TxPublish held{std::move(stored), {}, message_ttl, m.mandatory};
        held.queues.reserve(queues.size());
        for (Queue* q : queues) held.queues.push_back(q->name());
        ch.tx->publishes.push_back(std::move(held));
        return {};
    }
    model.deliver_published(ch, stored, queues, m.mandatory, message_ttl, sequence);
    if (replies) model.deliver_replies(stored);
    return {};
}

Result<std::optional<GetOk>> basic_get(Model& model, ChannelState& ch, std::string_view queue, bool no_ack) {
    const MethodId mid = method::basic_get;
    auto name = model.expand_queue_name(ch, queue, mid);
    if (!name) return name.error();
    if (auto refused = model.check_access(ch, Access::Read, "queue", name.value(), mid)) return *refused;
    auto found = model.queue_for_use(ch, name.value(), mid);
    if (!found) return found.error();
    Queue& q = *found.value();
    if (q.rules().log)
        return AmqpError::format(ReplyCode::NotImplemented, mid, "basic.get not supported by stream queues {}",
                                 rs("queue", q.name(), *ch.connection->vhost));
    q.note_used(model.now());
    model.expire_due(q);
    if (!q.has_ready()) return std::optional<GetOk>{};
    QueuedMessage m = q.pop();
    // rabbit_amqqueue_process:fetch/2 drops what has expired at the new head before
    // get-ok counts what is left.
    model.expire_due(q);
    MessagePtr copy = model.delivered_form(q, m, /*to_consumer=*/false);
    GetOk ok{ch.next_delivery_tag++, m.redelivered, static_cast<std::uint32_t>(q.ready_count()),
             copy ? std::move(copy) : m.message};
    if (!no_ack) {
        q.note_unacked(1);
        if (m.mark) m.mark.journal()->message_delivered(m.mark.id());
        if (q.rules().counts_deliveries) q.add_get_consumer(&ch);
        ch.unacked.push_back(Unacked{ok.delivery_tag, &q, std::move(m), nullptr, false});
    }
    return std::optional<GetOk>{std::move(ok)};
}

Result<std::string> basic_consume(Model& model, ChannelState& ch, const BasicConsume& m) {
    VHost& v = *ch.connection->vhost;
    const MethodId mid = method::basic_consume;
    if (!m.consumer_tag.empty() && ch.consumers.contains(m.consumer_tag))
        return AmqpError::format(ReplyCode::NotAllowed, mid, "attempt to reuse consumer tag '{}'",
                                 m.consumer_tag);
    if (m.queue == reply_to_queue) {
        // rabbit_channel basic.consume of amq.rabbitmq.reply-to: one no-ack reply consumer per
        // channel, outside the channel's ordinary consumers; no queue, no arguments checked.
        if (!m.no_ack)
            return AmqpError::make(ReplyCode::PreconditionFailed, mid,
                                   "reply consumer cannot acknowledge");
        if (ch.reply_consumer)
            return AmqpError::make(ReplyCode::PreconditionFailed, mid, "reply consumer already set");
        std::string tag = m.consumer_tag.empty() ? model.state().generate_name("amq.ctag") : m.consumer_tag;
        ch.reply_consumer = ReplyConsumer{tag, model.reply_suffix(ch)};
        return tag;
    }
    auto name = model.expand_queue_name(ch, m.queue, mid);
    if (!name) return name.error();
    if (auto refused = model.check_access(ch, Access::Read, "queue", name.value(), mid)) return *refused;
    auto found = model.queue_for_use(ch, name.value(), mid);
    if (!found) return found.error();
    Queue& q = *found.value();
    const ConsumeRequest request{m.arguments, m.no_ack, ch.consumer_prefetch,
                                 ch.limiter_active()};
    if (auto refused = q.type().check_consume(request, rs("queue", q.name(), v), mid)) return *refused;
    if (q.rules().log) return consume_log(model, ch, q, m);
    // rabbit_amqqueue_process check_exclusive_access/3 for consumers; a single-active-consumer
    // queue refuses every exclusive consume, and nothing else.
    const bool single_active = q.settings().single_active_consumer;
    const bool exclusive = m.exclusive && q.rules().exclusive_consumers;
    if (q.rules().exclusive_consumers &&
        (single_active ? m.exclusive : q.exclusive_consumer() || (m.exclusive && !q.consumers().empty())))
        return AmqpError::format(ReplyCode::AccessRefused, mid, "{} in exclusive use",
                                 rs("queue", q.name(), v));
    std::string tag = m.consumer_tag.empty() ? model.state().generate_name("amq.ctag") : m.consumer_tag;
    auto consumer = std::make_unique<Consumer>();
    consumer->tag = tag;
    consumer->channel = &ch;
    consumer->queue = &q;
    consumer->no_ack = m.no_ack;
    consumer->exclusive = exclusive;
    consumer->arguments = m.arguments;
    if (const FieldValue* priority = m.arguments.find("x-priority")) consumer->priority = priority->as_int();
    consumer->prefetch = m.no_ack ? 0 : ch.consumer_prefetch;
    consumer->credit = consumer->prefetch;
    Consumer* c = consumer.get();
    ch.consumers.emplace(tag, std::move(consumer));
    q.consumers().add(c);
    q.note_consumer_added();
    if (exclusive) q.set_exclusive_consumer(c);
    if (single_active && !q.single_active_consumer()) q.set_single_active_consumer(c);
    model.dispatch(q);
    return tag;
}

Status basic_cancel(Model& model, ChannelState& ch, std::string_view consumer_tag) {
    if (ch.reply_consumer && ch.reply_consumer->tag == consumer_tag) {
        ch.reply_consumer.reset();
        return {};
    }
    auto it = ch.consumers.find(consumer_tag);
    if (it == ch.consumers.end()) return {};
    Consumer& c = *it->second;
    Queue& q = *c.queue;
    const bool hands_over = q.single_active_consumer() == &c && q.rules().cancelled_consumers_linger;
    model.remove_consumer(ch, c, /*run_auto_delete=*/true);
    // rabbit_fifo hands a single active consumer's place over at once (a queue of this type
    // is never auto-deleted, so it is still there).
    if (hands_over) model.dispatch(q);
    return {};
}

Status basic_ack(Model& model, ChannelState& ch, std::uint64_t delivery_tag, bool multiple) {
    auto acked = model.collect(ch, delivery_tag, multiple, method::basic_ack);
    if (!acked) return acked.error();
    model.acknowledge(ch, std::move(acked.value()), Settle::Ack);
    return {};
}

namespace {

// rabbit_stream_queue:settle/4: a stream takes acknowledgements only (a connection error).
std::optional<AmqpError> refuse_log_settle(ChannelState& ch, const std::vector<Unacked>& settled, MethodId m) {
    for (const Unacked& u : settled)
        if (u.queue && u.queue->rules().log)
            return AmqpError::format(ReplyCode::NotImplemented, m,
                                     "basic.nack and basic.reject not supported by stream queues {}",
                                     rs("queue", u.queue->name(), *ch.connection->vhost));
    return std::nullopt;
}

}  // namespace

Status basic_nack(Model& model, ChannelState& ch, std::uint64_t delivery_tag, bool multiple, bool requeue) {
    auto acked = model.collect(ch, delivery_tag, multiple, method::basic_nack);
    if (!acked) return acked.error();
    if (auto refused = refuse_log_settle(ch, acked.value(), method::basic_nack)) return *refused;
    model.acknowledge(ch, std::move(acked.value()), requeue ? Settle::Requeue : Settle::Reject);
    return {};
}

Status basic_reject(Model& model, ChannelState& ch, std::uint64_t delivery_tag, bool requeue) {
    auto acked = model.collect(ch, delivery_tag, false, method::basic_reject);
    if (!acked) return acked.error();
    if (auto refused = refuse_log_settle(ch, acked.value(), method::basic_reject)) return *refused;
    model.acknowledge(ch, std::move(acked.value()), requeue ? Settle::Requeue : Settle::Reject);
    return {};
}

Status basic_recover(Model& model, ChannelState& ch, bool requeue) {
    if (!requeue)
        return AmqpError::make(ReplyCode::NotImplemented, method::basic_recover, "requeue=false");
    // Stream deliveries crash RabbitMQ's recover (rabbit_stream_queue has no requeue).
    for (const Unacked& u : ch.unacked)
        if (u.queue && u.queue->rules().log) return rabbit_crash();
    auto all = model.collect(ch, 0, true, method::basic_recover);
    model.settle(ch, std::move(all.value()), Settle::Requeue);
    return {};
}

}  // namespace warren::emulator
