// What a queue's type decides, after RabbitMQ's rabbit_queue_type behaviour: which arguments a
// new queue accepts, which a redeclaration must match, which properties it may have, which
// basic.consume requests it takes, and how the queue treats what comes back to it. One module
// per type (classic_queue.cpp, quorum_queue.cpp, stream_queue.cpp), chosen by x-queue-type
// when the queue is declared.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "queue_arguments.hpp"
#include "warren/protocol/field_value.hpp"
#include "warren/protocol/reply_code.hpp"

namespace warren::emulator {

/// Where a message the queue takes back goes among its ready messages.
enum class ReturnPlace : std::uint8_t {
    /// Its original place, by enqueue order (rabbit_variable_queue).
    Original,
    /// Behind every ready message, as if published again.
    Back,
    /// In front of every ready message, behind those returned before it (rabbit_fifo's
    /// returns).
    Front,
};

/// How a queue type behaves where types differ, beyond argument checks.
struct QueueRules {
    /// A message requeued by basic.nack, basic.reject or basic.recover ...
    ReturnPlace settled_requeue = ReturnPlace::Original;
    /// ... and when the queue has an x-delivery-limit.
    ReturnPlace settled_requeue_with_limit = ReturnPlace::Original;
    /// A message its channel held when the channel closed (or its consumer's queue went).
    ReturnPlace channel_down_requeue = ReturnPlace::Original;
    /// Counts each message's returns: x-delivery-count on deliveries, x-delivery-limit. A
    /// basic.get that needs an ack counts as a consumer until its message is settled; one whose
    /// message the delivery limit dropped, or that at-least-once dead-lettering still holds,
    /// stays counted until its channel closes (rabbit_fifo's dequeue consumers).
    bool counts_deliveries = false;
    /// A broker restart keeps transient messages too.
    bool keeps_transient_messages = false;
    /// reject-publish refuses only once the queue is over its limit, and takes publishes again
    /// when it is down to 80% of it (rabbit_fifo's overflow state).
    bool soft_reject_publish = false;
    /// reject-publish-dlx is taken as drop-head.
    bool reject_publish_dlx_is_drop_head = false;
    /// The queue may be declared with an empty name (server_named).
    bool server_named = true;
    /// basic.consume's exclusive flag is honoured (rabbit_amqqueue_process); other types
    /// ignore it.
    bool exclusive_consumers = true;
    /// A consumer cancelled while it holds unacknowledged deliveries still counts as a
    /// consumer (declare-ok, x-expires) until they are settled or its channel closes; with
    /// x-single-active-consumer the next consumer takes over at once (rabbit_fifo's cancelled
    /// consumers).
    bool cancelled_consumers_linger = false;
    /// x-expires is looked at only on the queue's ticks, every `expiry_tick` from its
    /// declaration, and only basic.get and consumers count as use, not a declaration
    /// (rabbit_fifo's tick). Zero: x-expires falls due at its time, and declarations are uses.
    Duration expiry_tick{0};
    /// The queue is a log (rabbit_stream_queue): a publish is appended and stays; each
    /// consumer reads from an offset of its own; nothing is ever ready, taken, requeued or
    /// dead-lettered; basic.get, queue.purge, nack, reject and recover are refused; a
    /// declare-ok counts neither messages nor consumers (stream_process.cpp).
    bool log = false;
    /// queue.delete honours if-unused and if-empty (classic, stream); a quorum queue refuses
    /// either flag with 540 NOT_IMPLEMENTED "cannot delete queue '...' in vhost '...'.
    /// queue.delete operations with if-unused flag set are not supported by quorum queues"
    /// (rabbit_quorum_queue:delete/4, if-unused checked first).
    bool conditional_delete = true;
};

/// What basic.consume asks of a queue (rabbit_queue_type:consume/3's spec).
struct ConsumeRequest {
    const FieldTable& arguments;
    bool no_ack = false;
    /// The prefetch the consumer gets (basic.qos global=false); 0 for none.
    std::uint16_t prefetch = 0;
    /// The channel's global prefetch is active (rabbit_limiter).
    bool global_limit = false;
};

/// A crash of RabbitMQ's channel process where a check it does not expect fails: the
/// connection closes with 541 INTERNAL_ERROR (class 0, method 0).
inline AmqpError rabbit_crash() { return AmqpError(ReplyCode::InternalError, "INTERNAL_ERROR"); }

class QueueType {
public:
    virtual ~QueueType() = default;
    /// Its name as x-queue-type gives it ("classic").
    virtual std::string_view name() const noexcept = 0;
    /// Its module's name in RabbitMQ's texts ("rabbit_classic_queue").
    virtual std::string_view module() const noexcept = 0;
    /// The arguments it supports, in RabbitMQ's order (capabilities/0 queue_arguments): only
    /// these have their values checked, and a redeclaration must match them; any other
    /// argument may differ.
    virtual std::span<const std::string_view> supported_arguments() const noexcept = 0;
    /// Arguments of other types it refuses ("invalid arg 'K' for Q of queue type M").
    virtual std::span<const std::string_view> unsupported_arguments() const noexcept = 0;
    /// Why a queue of this type cannot have these properties ("invalid property 'auto-delete'
    /// for Q"), or nullopt.
    virtual std::optional<std::string> check_properties(bool durable, bool exclusive, bool auto_delete,
                                                        std::string_view queue) const = 0;
    /// basic.consume's arguments (rabbit_amqqueue:check_consume_arguments/3), then the
    /// type's own refusals (its consume/3), or nullopt.
    virtual std::optional<AmqpError> check_consume(const ConsumeRequest& request, std::string_view queue,
                                                   MethodId m) const = 0;
    virtual const QueueRules& rules() const noexcept = 0;
};

/// rabbit_classic_queue.
const QueueType& classic_queue_type() noexcept;
/// rabbit_quorum_queue.
const QueueType& quorum_queue_type() noexcept;
/// rabbit_stream_queue.
const QueueType& stream_queue_type() noexcept;
/// The type x-queue-type names; nullptr for a name RabbitMQ does not know.
const QueueType* find_queue_type(std::string_view name) noexcept;

/// Why a new queue's arguments are refused (the explanation of a 406), or nullopt, with
/// RabbitMQ's order of checks: x-queue-type, then the dead-letter exchange's type, then each
/// argument the type supports in rabbit_amqqueue:declare_args/0 order, then the arguments the
/// type refuses in the order given. `queue` is rabbit_misc:rs's rendering.
std::optional<std::string> validate_queue_arguments(const FieldTable& arguments, std::string_view queue);

/// The "invalid arg 'K' for Q of queue type M" refusal of a consumer argument the type does
/// not take.
AmqpError unsupported_consume_argument(std::string_view key, std::string_view queue,
                                       const QueueType& type, MethodId m);
/// The properties a replicated queue (quorum, stream) must have, checked as
/// rabbit_queue_type_util does: auto-delete first, then exclusive, then durable.
std::optional<std::string> check_replicated_properties(bool durable, bool exclusive, bool auto_delete,
                                                       std::string_view queue);
/// x-priority must be an integer (every integer type but the unsigned 64-bit one), or nullopt.
std::optional<AmqpError> check_consumer_priority(const FieldTable& arguments, std::string_view queue,
                                                 MethodId m);

}  // namespace warren::emulator
