// AMQP 0-9-1 methods as RabbitMQ 3.10 serves them: one aggregate per method of the classes
// connection, channel, access, exchange, queue, basic, tx and confirm, with RabbitMQ's
// extensions (exchange.bind/unbind, basic.nack, basic.credit, confirm, connection.blocked and
// update-secret), and free functions to encode and decode a method frame's payload.
//
// Field names follow the specification (`no_wait` for no-wait); reserved fields (`ticket`,
// `capabilities`, `insist`, `out_of_band`, `channel_id`, `known_hosts`) are kept so that a
// decoded method encodes back to the same fields. Ids and layouts are those of RabbitMQ's
// rabbit_framing_amqp_0_9_1 (note exchange.unbind-ok is 40.51). Plain values; the functions
// are pure and safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>

#include "warren/protocol/field_value.hpp"
#include "warren/protocol/reply_code.hpp"
#include "warren/protocol/wire.hpp"

namespace warren::protocol {

/// connection.start
struct ConnectionStart {
    static constexpr MethodId id = method::connection_start;
    static constexpr bool has_content = false;
    std::uint8_t version_major = 0;
    std::uint8_t version_minor = 9;
    FieldTable server_properties = {};
    std::string mechanisms = {};
    std::string locales = {};
    friend bool operator==(const ConnectionStart&, const ConnectionStart&) = default;
};

/// connection.start_ok
struct ConnectionStartOk {
    static constexpr MethodId id = method::connection_start_ok;
    static constexpr bool has_content = false;
    FieldTable client_properties = {};
    std::string mechanism = "PLAIN";
    std::string response = {};
    std::string locale = "en_US";
    friend bool operator==(const ConnectionStartOk&, const ConnectionStartOk&) = default;
};

/// connection.secure
struct ConnectionSecure {
    static constexpr MethodId id = method::connection_secure;
    static constexpr bool has_content = false;
    std::string challenge = {};
    friend bool operator==(const ConnectionSecure&, const ConnectionSecure&) = default;
};

/// connection.secure_ok
struct ConnectionSecureOk {
    static constexpr MethodId id = method::connection_secure_ok;
    static constexpr bool has_content = false;
    std::string response = {};
    friend bool operator==(const ConnectionSecureOk&, const ConnectionSecureOk&) = default;
};

/// connection.tune
struct ConnectionTune {
    static constexpr MethodId id = method::connection_tune;
    static constexpr bool has_content = false;
    std::uint16_t channel_max = 0;
    std::uint32_t frame_max = 0;
    std::uint16_t heartbeat = 0;
    friend bool operator==(const ConnectionTune&, const ConnectionTune&) = default;
};

/// connection.tune_ok
struct ConnectionTuneOk {
    static constexpr MethodId id = method::connection_tune_ok;
    static constexpr bool has_content = false;
    std::uint16_t channel_max = 0;
    std::uint32_t frame_max = 0;
    std::uint16_t heartbeat = 0;
    friend bool operator==(const ConnectionTuneOk&, const ConnectionTuneOk&) = default;
};

/// connection.open
struct ConnectionOpen {
    static constexpr MethodId id = method::connection_open;
    static constexpr bool has_content = false;
    std::string virtual_host = "/";
    std::string capabilities = {};
    bool insist = false;
    friend bool operator==(const ConnectionOpen&, const ConnectionOpen&) = default;
};

/// connection.open_ok
struct ConnectionOpenOk {
    static constexpr MethodId id = method::connection_open_ok;
    static constexpr bool has_content = false;
    std::string known_hosts = {};
    friend bool operator==(const ConnectionOpenOk&, const ConnectionOpenOk&) = default;
};

/// connection.close
struct ConnectionClose {
    static constexpr MethodId id = method::connection_close;
    static constexpr bool has_content = false;
    std::uint16_t reply_code = 0;
    std::string reply_text = {};
    std::uint16_t class_id = 0;
    std::uint16_t method_id = 0;
    friend bool operator==(const ConnectionClose&, const ConnectionClose&) = default;
};

/// connection.close_ok
struct ConnectionCloseOk {
    static constexpr MethodId id = method::connection_close_ok;
    static constexpr bool has_content = false;
    friend bool operator==(const ConnectionCloseOk&, const ConnectionCloseOk&) = default;
};

/// connection.blocked
struct ConnectionBlocked {
    static constexpr MethodId id = method::connection_blocked;
    static constexpr bool has_content = false;
    std::string reason = {};
    friend bool operator==(const ConnectionBlocked&, const ConnectionBlocked&) = default;
};

/// connection.unblocked
struct ConnectionUnblocked {
    static constexpr MethodId id = method::connection_unblocked;
    static constexpr bool has_content = false;
    friend bool operator==(const ConnectionUnblocked&, const ConnectionUnblocked&) = default;
};

/// connection.update_secret
struct ConnectionUpdateSecret {
    static constexpr MethodId id = method::connection_update_secret;
    static constexpr bool has_content = false;
    std::string new_secret = {};
    std::string reason = {};
    friend bool operator==(const ConnectionUpdateSecret&, const ConnectionUpdateSecret&) = default;
};

/// connection.update_secret_ok
struct ConnectionUpdateSecretOk {
    static constexpr MethodId id = method::connection_update_secret_ok;
    static constexpr bool has_content = false;
    friend bool operator==(const ConnectionUpdateSecretOk&, const ConnectionUpdateSecretOk&) = default;
};

/// channel.open
struct ChannelOpen {
    static constexpr MethodId id = method::channel_open;
    static constexpr bool has_content = false;
    std::string out_of_band = {};
    friend bool operator==(const ChannelOpen&, const ChannelOpen&) = default;
};

/// channel.open_ok
struct ChannelOpenOk {
    static constexpr MethodId id = method::channel_open_ok;
    static constexpr bool has_content = false;
    std::string channel_id = {};
    friend bool operator==(const ChannelOpenOk&, const ChannelOpenOk&) = default;
};

/// channel.flow
struct ChannelFlow {
    static constexpr MethodId id = method::channel_flow;
    static constexpr bool has_content = false;
    bool active = true;
    friend bool operator==(const ChannelFlow&, const ChannelFlow&) = default;
};

/// channel.flow_ok
struct ChannelFlowOk {
    static constexpr MethodId id = method::channel_flow_ok;
    static constexpr bool has_content = false;
    bool active = true;
    friend bool operator==(const ChannelFlowOk&, const ChannelFlowOk&) = default;
};

/// channel.close
struct ChannelClose {
    static constexpr MethodId id = method::channel_close;
    static constexpr bool has_content = false;
    std::uint16_t reply_code = 0;
    std::string reply_text = {};
    std::uint16_t class_id = 0;
    std::uint16_t method_id = 0;
    friend bool operator==(const ChannelClose&, const ChannelClose&) = default;
};

/// channel.close_ok
struct ChannelCloseOk {
    static constexpr MethodId id = method::channel_close_ok;
    static constexpr bool has_content = false;
    friend bool operator==(const ChannelCloseOk&, const ChannelCloseOk&) = default;
};

/// access.request
struct AccessRequest {
    static constexpr MethodId id = method::access_request;
    static constexpr bool has_content = false;
    std::string realm = {};
    bool exclusive = false;
    bool passive = false;
    bool active = false;
    bool write = false;
    bool read = false;
    friend bool operator==(const AccessRequest&, const AccessRequest&) = default;
};

/// access.request_ok
struct AccessRequestOk {
    static constexpr MethodId id = method::access_request_ok;
    static constexpr bool has_content = false;
    std::uint16_t ticket = 0;
    friend bool operator==(const AccessRequestOk&, const AccessRequestOk&) = default;
};

/// exchange.declare
struct ExchangeDeclare {
    static constexpr MethodId id = method::exchange_declare;
    static constexpr bool has_content = false;
    std::uint16_t ticket = 0;
    std::string exchange = {};
    std::string type = "direct";
    bool passive = false;
    bool durable = false;
    bool auto_delete = false;
    bool internal = false;
    bool no_wait = false;
    FieldTable arguments = {};
    friend bool operator==(const ExchangeDeclare&, const ExchangeDeclare&) = default;
};

/// exchange.declare_ok
struct ExchangeDeclareOk {
    static constexpr MethodId id = method::exchange_declare_ok;
    static constexpr bool has_content = false;
    friend bool operator==(const ExchangeDeclareOk&, const ExchangeDeclareOk&) = default;
};

/// exchange.delete
struct ExchangeDelete {
    static constexpr MethodId id = method::exchange_delete;
    static constexpr bool has_content = false;
    std::uint16_t ticket = 0;
    std::string exchange = {};
    bool if_unused = false;
    bool no_wait = false;
    friend bool operator==(const ExchangeDelete&, const ExchangeDelete&) = default;
};

/// exchange.delete_ok
struct ExchangeDeleteOk {
    static constexpr MethodId id = method::exchange_delete_ok;
    static constexpr bool has_content = false;
    friend bool operator==(const ExchangeDeleteOk&, const ExchangeDeleteOk&) = default;
};

/// exchange.bind
struct ExchangeBind {
    static constexpr MethodId id = method::exchange_bind;
    static constexpr bool has_content = false;
    std::uint16_t ticket = 0;
    std::string destination = {};
    std::string source = {};
    std::string routing_key = {};
    bool no_wait = false;
    FieldTable arguments = {};
    friend bool operator==(const ExchangeBind&, const ExchangeBind&) = default;
};

/// exchange.bind_ok
struct ExchangeBindOk {
    static constexpr MethodId id = method::exchange_bind_ok;
    static constexpr bool has_content = false;
    friend bool operator==(const ExchangeBindOk&, const ExchangeBindOk&) = default;
};

/// exchange.unbind
struct ExchangeUnbind {
    static constexpr MethodId id = method::exchange_unbind;
    static constexpr bool has_content = false;
    std::uint16_t ticket = 0;
    std::string destination = {};
    std::string source = {};
    std::string routing_key = {};
    bool no_wait = false;
    FieldTable arguments = {};
    friend bool operator==(const ExchangeUnbind&, const ExchangeUnbind&) = default;
};

/// exchange.unbind_ok
struct ExchangeUnbindOk {
    static constexpr MethodId id = method::exchange_unbind_ok;
    static constexpr bool has_content = false;
    friend bool operator==(const ExchangeUnbindOk&, const ExchangeUnbindOk&) = default;
};

/// queue.declare
struct QueueDeclare {
    static constexpr MethodId id = method::queue_declare;
    static constexpr bool has_content = false;
    std::uint16_t ticket = 0;
    std::string queue = {};
    bool passive = false;
    bool durable = false;
    bool exclusive = false;
    bool auto_delete = false;
    bool no_wait = false;
    FieldTable arguments = {};
    friend bool operator==(const QueueDeclare&, const QueueDeclare&) = default;
};

/// queue.declare_ok
struct QueueDeclareOk {
    static constexpr MethodId id = method::queue_declare_ok;
    static constexpr bool has_content = false;
    std::string queue = {};
    std::uint32_t message_count = 0;
    std::uint32_t consumer_count = 0;
    friend bool operator==(const QueueDeclareOk&, const QueueDeclareOk&) = default;
};

/// queue.bind
struct QueueBind {
    static constexpr MethodId id = method::queue_bind;
    static constexpr bool has_content = false;
    std::uint16_t ticket = 0;
    std::string queue = {};
    std::string exchange = {};
    std::string routing_key = {};
    bool no_wait = false;
    FieldTable arguments = {};
    friend bool operator==(const QueueBind&, const QueueBind&) = default;
};

/// queue.bind_ok
struct QueueBindOk {
    static constexpr MethodId id = method::queue_bind_ok;
    static constexpr bool has_content = false;
    friend bool operator==(const QueueBindOk&, const QueueBindOk&) = default;
};

/// queue.purge
struct QueuePurge {
    static constexpr MethodId id = method::queue_purge;
    static constexpr bool has_content = false;
    std::uint16_t ticket = 0;
    std::string queue = {};
    bool no_wait = false;
    friend bool operator==(const QueuePurge&, const QueuePurge&) = default;
};

/// queue.purge_ok
struct QueuePurgeOk {
    static constexpr MethodId id = method::queue_purge_ok;
    static constexpr bool has_content = false;
    std::uint32_t message_count = 0;
    friend bool operator==(const QueuePurgeOk&, const QueuePurgeOk&) = default;
};

/// queue.delete
struct QueueDelete {
    static constexpr MethodId id = method::queue_delete;
    static constexpr bool has_content = false;
    std::uint16_t ticket = 0;
    std::string queue = {};
    bool if_unused = false;
    bool if_empty = false;
    bool no_wait = false;
    friend bool operator==(const QueueDelete&, const QueueDelete&) = default;
};

/// queue.delete_ok
struct QueueDeleteOk {
    static constexpr MethodId id = method::queue_delete_ok;
    static constexpr bool has_content = false;
    std::uint32_t message_count = 0;
    friend bool operator==(const QueueDeleteOk&, const QueueDeleteOk&) = default;
};

/// queue.unbind
struct QueueUnbind {
    static constexpr MethodId id = method::queue_unbind;
    static constexpr bool has_content = false;
    std::uint16_t ticket = 0;
    std::string queue = {};
    std::string exchange = {};
    std::string routing_key = {};
    FieldTable arguments = {};
    friend bool operator==(const QueueUnbind&, const QueueUnbind&) = default;
};

/// queue.unbind_ok
struct QueueUnbindOk {
    static constexpr MethodId id = method::queue_unbind_ok;
    static constexpr bool has_content = false;
    friend bool operator==(const QueueUnbindOk&, const QueueUnbindOk&) = default;
};

/// basic.qos
struct BasicQos {
    static constexpr MethodId id = method::basic_qos;
    static constexpr bool has_content = false;
    std::uint32_t prefetch_size = 0;
    std::uint16_t prefetch_count = 0;
    bool global = false;
    friend bool operator==(const BasicQos&, const BasicQos&) = default;
};

/// basic.qos_ok
struct BasicQosOk {
    static constexpr MethodId id = method::basic_qos_ok;
    static constexpr bool has_content = false;
    friend bool operator==(const BasicQosOk&, const BasicQosOk&) = default;
};

/// basic.consume
struct BasicConsume {
    static constexpr MethodId id = method::basic_consume;
    static constexpr bool has_content = false;
    std::uint16_t ticket = 0;
    std::string queue = {};
    std::string consumer_tag = {};
    bool no_local = false;
    bool no_ack = false;
    bool exclusive = false;
    bool no_wait = false;
    FieldTable arguments = {};
    friend bool operator==(const BasicConsume&, const BasicConsume&) = default;
};

/// basic.consume_ok
struct BasicConsumeOk {
    static constexpr MethodId id = method::basic_consume_ok;
    static constexpr bool has_content = false;
    std::string consumer_tag = {};
    friend bool operator==(const BasicConsumeOk&, const BasicConsumeOk&) = default;
};

/// basic.cancel
struct BasicCancel {
    static constexpr MethodId id = method::basic_cancel;
    static constexpr bool has_content = false;
    std::string consumer_tag = {};
    bool no_wait = false;
    friend bool operator==(const BasicCancel&, const BasicCancel&) = default;
};

/// basic.cancel_ok
struct BasicCancelOk {
    static constexpr MethodId id = method::basic_cancel_ok;
    static constexpr bool has_content = false;
    std::string consumer_tag = {};
    friend bool operator==(const BasicCancelOk&, const BasicCancelOk&) = default;
};

/// basic.publish (carries content)
struct BasicPublish {
    static constexpr MethodId id = method::basic_publish;
    static constexpr bool has_content = true;
    std::uint16_t ticket = 0;
    std::string exchange = {};
    std::string routing_key = {};
    bool mandatory = false;
    bool immediate = false;
    friend bool operator==(const BasicPublish&, const BasicPublish&) = default;
};

/// basic.return (carries content)
struct BasicReturn {
    static constexpr MethodId id = method::basic_return;
    static constexpr bool has_content = true;
    std::uint16_t reply_code = 0;
    std::string reply_text = {};
    std::string exchange = {};
    std::string routing_key = {};
    friend bool operator==(const BasicReturn&, const BasicReturn&) = default;
};

/// basic.deliver (carries content)
struct BasicDeliver {
    static constexpr MethodId id = method::basic_deliver;
    static constexpr bool has_content = true;
    std::string consumer_tag = {};
    std::uint64_t delivery_tag = 0;
    bool redelivered = false;
    std::string exchange = {};
    std::string routing_key = {};
    friend bool operator==(const BasicDeliver&, const BasicDeliver&) = default;
};

/// basic.get
struct BasicGet {
    static constexpr MethodId id = method::basic_get;
    static constexpr bool has_content = false;
    std::uint16_t ticket = 0;
    std::string queue = {};
    bool no_ack = false;
    friend bool operator==(const BasicGet&, const BasicGet&) = default;
};

/// basic.get_ok (carries content)
struct BasicGetOk {
    static constexpr MethodId id = method::basic_get_ok;
    static constexpr bool has_content = true;
    std::uint64_t delivery_tag = 0;
    bool redelivered = false;
    std::string exchange = {};
    std::string routing_key = {};
    std::uint32_t message_count = 0;
    friend bool operator==(const BasicGetOk&, const BasicGetOk&) = default;
};

/// basic.get_empty
struct BasicGetEmpty {
    static constexpr MethodId id = method::basic_get_empty;
    static constexpr bool has_content = false;
    std::string cluster_id = {};
    friend bool operator==(const BasicGetEmpty&, const BasicGetEmpty&) = default;
};

/// basic.ack
struct BasicAck {
    static constexpr MethodId id = method::basic_ack;
    static constexpr bool has_content = false;
    std::uint64_t delivery_tag = 0;
    bool multiple = false;
    friend bool operator==(const BasicAck&, const BasicAck&) = default;
};

/// basic.reject
struct BasicReject {
    static constexpr MethodId id = method::basic_reject;
    static constexpr bool has_content = false;
    std::uint64_t delivery_tag = 0;
    bool requeue = true;
    friend bool operator==(const BasicReject&, const BasicReject&) = default;
};

/// basic.recover_async
struct BasicRecoverAsync {
    static constexpr MethodId id = method::basic_recover_async;
    static constexpr bool has_content = false;
    bool requeue = false;
    friend bool operator==(const BasicRecoverAsync&, const BasicRecoverAsync&) = default;
};

/// basic.recover
struct BasicRecover {
    static constexpr MethodId id = method::basic_recover;
    static constexpr bool has_content = false;
    bool requeue = false;
    friend bool operator==(const BasicRecover&, const BasicRecover&) = default;
};

/// basic.recover_ok
struct BasicRecoverOk {
    static constexpr MethodId id = method::basic_recover_ok;
    static constexpr bool has_content = false;
    friend bool operator==(const BasicRecoverOk&, const BasicRecoverOk&) = default;
};

/// basic.nack
struct BasicNack {
    static constexpr MethodId id = method::basic_nack;
    static constexpr bool has_content = false;
    std::uint64_t delivery_tag = 0;
    bool multiple = false;
    bool requeue = true;
    friend bool operator==(const BasicNack&, const BasicNack&) = default;
};

/// basic.credit
struct BasicCredit {
    static constexpr MethodId id = method::basic_credit;
    static constexpr bool has_content = false;
    std::string consumer_tag = {};
    std::uint32_t credit = 0;
    bool drain = false;
    friend bool operator==(const BasicCredit&, const BasicCredit&) = default;
};

/// basic.credit_ok
struct BasicCreditOk {
    static constexpr MethodId id = method::basic_credit_ok;
    static constexpr bool has_content = false;
    std::uint32_t available = 0;
    friend bool operator==(const BasicCreditOk&, const BasicCreditOk&) = default;
};

/// basic.credit_drained
struct BasicCreditDrained {
    static constexpr MethodId id = method::basic_credit_drained;
    static constexpr bool has_content = false;
    std::string consumer_tag = {};
    std::uint32_t credit_drained = 0;
    friend bool operator==(const BasicCreditDrained&, const BasicCreditDrained&) = default;
};

/// tx.select
struct TxSelect {
    static constexpr MethodId id = method::tx_select;
    static constexpr bool has_content = false;
    friend bool operator==(const TxSelect&, const TxSelect&) = default;
};

/// tx.select_ok
struct TxSelectOk {
    static constexpr MethodId id = method::tx_select_ok;
    static constexpr bool has_content = false;
    friend bool operator==(const TxSelectOk&, const TxSelectOk&) = default;
};

/// tx.commit
struct TxCommit {
    static constexpr MethodId id = method::tx_commit;
    static constexpr bool has_content = false;
    friend bool operator==(const TxCommit&, const TxCommit&) = default;
};

/// tx.commit_ok
struct TxCommitOk {
    static constexpr MethodId id = method::tx_commit_ok;
    static constexpr bool has_content = false;
    friend bool operator==(const TxCommitOk&, const TxCommitOk&) = default;
};

/// tx.rollback
struct TxRollback {
    static constexpr MethodId id = method::tx_rollback;
    static constexpr bool has_content = false;
    friend bool operator==(const TxRollback&, const TxRollback&) = default;
};

/// tx.rollback_ok
struct TxRollbackOk {
    static constexpr MethodId id = method::tx_rollback_ok;
    static constexpr bool has_content = false;
    friend bool operator==(const TxRollbackOk&, const TxRollbackOk&) = default;
};

/// confirm.select
struct ConfirmSelect {
    static constexpr MethodId id = method::confirm_select;
    static constexpr bool has_content = false;
    bool no_wait = false;
    friend bool operator==(const ConfirmSelect&, const ConfirmSelect&) = default;
};

/// confirm.select_ok
struct ConfirmSelectOk {
    static constexpr MethodId id = method::confirm_select_ok;
    static constexpr bool has_content = false;
    friend bool operator==(const ConfirmSelectOk&, const ConfirmSelectOk&) = default;
};

/// Any method. The alternatives are in class then method order.
using Method = std::variant<
    ConnectionStart,
    ConnectionStartOk,
    ConnectionSecure,
    ConnectionSecureOk,
    ConnectionTune,
    ConnectionTuneOk,
    ConnectionOpen,
    ConnectionOpenOk,
    ConnectionClose,
    ConnectionCloseOk,
    ConnectionBlocked,
    ConnectionUnblocked,
    ConnectionUpdateSecret,
    ConnectionUpdateSecretOk,
    ChannelOpen,
    ChannelOpenOk,
    ChannelFlow,
    ChannelFlowOk,
    ChannelClose,
    ChannelCloseOk,
    AccessRequest,
    AccessRequestOk,
    ExchangeDeclare,
    ExchangeDeclareOk,
    ExchangeDelete,
    ExchangeDeleteOk,
    ExchangeBind,
    ExchangeBindOk,
    ExchangeUnbind,
    ExchangeUnbindOk,
    QueueDeclare,
    QueueDeclareOk,
    QueueBind,
    QueueBindOk,
    QueuePurge,
    QueuePurgeOk,
    QueueDelete,
    QueueDeleteOk,
    QueueUnbind,
    QueueUnbindOk,
    BasicQos,
    BasicQosOk,
    BasicConsume,
    BasicConsumeOk,
    BasicCancel,
    BasicCancelOk,
    BasicPublish,
    BasicReturn,
    BasicDeliver,
    BasicGet,
    BasicGetOk,
    BasicGetEmpty,
    BasicAck,
    BasicReject,
    BasicRecoverAsync,
    BasicRecover,
    BasicRecoverOk,
    BasicNack,
    BasicCredit,
    BasicCreditOk,
    BasicCreditDrained,
    TxSelect,
    TxSelectOk,
    TxCommit,
    TxCommitOk,
    TxRollback,
    TxRollbackOk,
    ConfirmSelect,
    ConfirmSelectOk>;

/// The class and method ids of `m`.
MethodId method_id(const Method& m) noexcept;

/// RabbitMQ's name for a method ("basic.publish", "exchange.unbind_ok"), or "" when RabbitMQ
/// 3.10 does not know the pair.
std::string_view method_name(MethodId id) noexcept;

/// Whether RabbitMQ 3.10 knows the class/method pair (an unknown one crashes its reader).
bool is_known_method(MethodId id) noexcept;

/// Whether the method is followed by a content header and body (basic.publish, return,
/// deliver, get-ok).
bool method_has_content(MethodId id) noexcept;

/// Appends a method frame's payload: class id, method id, then the arguments, with
/// consecutive bits packed into octets. Fails with short_string_too_long (appending nothing).
std::error_code encode(const Method& m, Bytes& out);

/// Decodes a method frame's payload as RabbitMQ does: the arguments must fill the payload
/// exactly (truncated / trailing_bytes), then the name fields RabbitMQ checks must be UTF-8
/// (malformed_utf8), then the tables are parsed (malformed_table). A pair RabbitMQ does not
/// know gives unknown_method; a payload under four bytes gives malformed_frame.
Decoded<Method> decode_method(ByteView payload);

/// Decodes only the arguments of a method whose ids are already known.
Decoded<Method> decode_method_arguments(MethodId id, ByteView arguments);

}  // namespace warren::protocol
