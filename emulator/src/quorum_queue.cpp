// The quorum queue type (rabbit_quorum_queue and its state machine, rabbit_fifo), as RabbitMQ
// 3.10.8 runs it on one node:
//
// - it is durable, shared and never auto-deleted, and needs a name from the client;
// - a message requeued by nack, reject or recover goes to the back of the queue, or, when the
//   queue has an x-delivery-limit, to the front; what a closing channel held goes to the
//   front; returns to the front queue up in the order they happen (rabbit_fifo's returns);
// - every return counts: deliveries carry x-delivery-count (basic.get always, a consumer from
//   the first redelivery on), and a message returned more often than x-delivery-limit is
//   dropped or dead-lettered as `delivery_limit`; a basic.get awaiting its ack counts as a
//   consumer;
// - reject-publish refuses publishes once the queue is over its limit, until it is down to
//   80% of it; reject-publish-dlx is taken as drop-head;
// - global prefetch is refused to its consumers, and a restart keeps every message;
// - basic.consume's exclusive flag is ignored; a consumer cancelled while it holds deliveries
//   counts until they are settled, and a single active consumer's successor takes over at
//   once;
// - x-expires is looked at on the queue's 5-second ticks, and only basic.get and consumers
//   are uses.
#include "queue_type.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace warren::emulator {

namespace {

// rabbit_quorum_queue:capabilities/0 queue_arguments, in RabbitMQ 3.10's order.
constexpr std::array<std::string_view, 15> supported = {
    "x-dead-letter-exchange", "x-dead-letter-routing-key", "x-dead-letter-strategy", "x-expires",
    "x-max-length", "x-max-length-bytes", "x-max-in-memory-length", "x-max-in-memory-bytes",
    "x-overflow", "x-single-active-consumer", "x-queue-type", "x-quorum-initial-group-size",
    "x-delivery-limit", "x-message-ttl", "x-queue-leader-locator"};

// The other types' arguments a quorum queue refuses.
constexpr std::array<std::string_view, 7> unsupported = {
    "x-max-priority", "x-queue-mode", "x-queue-version", "x-queue-master-locator", "x-max-age",
    "x-stream-max-segment-size-bytes", "x-initial-cluster-size"};

// Consumer arguments it does not take (its own are x-priority and x-credit).
constexpr std::array<std::string_view, 2> unsupported_consume = {"x-stream-offset",
                                                                 "x-cancel-on-ha-failover"};

class QuorumQueue final : public QueueType {
public:
    std::string_view name() const noexcept override { return "quorum"; }
    std::string_view module() const noexcept override { return "rabbit_quorum_queue"; }
    std::span<const std::string_view> supported_arguments() const noexcept override { return supported; }
    std::span<const std::string_view> unsupported_arguments() const noexcept override { return unsupported; }

    std::optional<std::string> check_properties(bool durable, bool exclusive, bool auto_delete,
                                                std::string_view queue) const override {
        return check_replicated_properties(durable, exclusive, auto_delete, queue);
    }

    // The arguments, then a global prefetch (rabbit_quorum_queue:consume/3: a connection
    // error).
    std::optional<AmqpError> check_consume(const ConsumeRequest& request, std::string_view queue,
                                           MethodId m) const override {
        for (const auto& [key, value] : request.arguments)
            if (std::find(unsupported_consume.begin(), unsupported_consume.end(), key) != unsupported_consume.end())
                return unsupported_consume_argument(key, queue, *this, m);
        if (auto e = check_consumer_priority(request.arguments, queue, m)) return e;
        if (request.global_limit)
            return AmqpError::format(ReplyCode::NotImplemented, m, "{} does not support global qos", queue);
        return std::nullopt;
    }

    const QueueRules& rules() const noexcept override { return rules_; }

private:
    QueueRules rules_{.settled_requeue = ReturnPlace::Back,
                      .settled_requeue_with_limit = ReturnPlace::Front,
                      .channel_down_requeue = ReturnPlace::Front,
                      .counts_deliveries = true,
                      .keeps_transient_messages = true,
                      .soft_reject_publish = true,
                      .reject_publish_dlx_is_drop_head = true,
                      .server_named = false,
                      .exclusive_consumers = false,
                      .cancelled_consumers_linger = true,
                      .expiry_tick = Duration{5000},
                      .conditional_delete = false};
};

}  // namespace

const QueueType& quorum_queue_type() noexcept {
    static const QuorumQueue quorum;
    return quorum;
}

}  // namespace warren::emulator
