// The exchange class: exchange.declare, delete, bind and unbind (rabbit_channel, then
// rabbit_exchange and rabbit_binding).
#include "handlers.hpp"

#include <array>

#include "equivalence.hpp"

namespace warren::emulator {

namespace {

// The arguments an exchange compares on redeclaration (rabbit_exchange:assert_equivalence/6).
constexpr std::array<std::string_view, 1> exchange_arguments = {"alternate-exchange"};

}  // namespace

Status exchange_declare(Model& model, ChannelState& ch, const ExchangeDeclare& m) {
    VHost& v = *ch.connection->vhost;
    const MethodId mid = method::exchange_declare;
    const std::string name = strip_cr_lf(m.exchange);
    if (m.passive) {
        if (name.empty()) return default_exchange_refused(mid);
        if (!model.find_exchange(v, name)) return not_found("exchange", name, v, mid);
        return {};
    }
    auto type = make_exchange_type(m.type);
    if (!type) {
        // rabbit_exchange:check_type/1 says "invalid" for a name that is an existing Erlang atom
        // and "unknown" for any other. '' always is an atom; which other names are depends on
        // the code loaded in the broker's VM, so they get "unknown".
        const std::string_view verdict = m.type.empty() ? "invalid" : "unknown";
        return AmqpError::format(ReplyCode::CommandInvalid, mid, "{} exchange type '{}'",
                                 verdict, m.type);
    }
    if (name.empty()) return default_exchange_refused(mid);
    if (auto refused = model.check_access(ch, Access::Configure, "exchange", name, mid)) return *refused;
    Exchange* x = model.find_exchange(v, name);
    if (!x) {
        if (has_reserved_prefix(name))
            return AmqpError::format(ReplyCode::AccessRefused, mid,
                                     "exchange name '{}' contains reserved prefix 'amq.*'",
                                     name);
        if (const FieldValue* ae = m.arguments.find("alternate-exchange"); ae && !ae->is_string())
            return AmqpError::format(ReplyCode::PreconditionFailed, mid,
                                     "invalid type '{}' for arg 'alternate-exchange' in {}",
                                     rabbit_type_name(ae->type()), rs("exchange", name, v));
        // An alternate exchange: the declarer reads this exchange and writes to that one.
        if (const FieldValue* ae = m.arguments.find("alternate-exchange")) {
            if (auto refused = model.check_access(ch, Access::Read, "exchange", name, mid)) return *refused;
            if (auto refused = model.check_access(ch, Access::Write, "exchange", ae->as_string(), mid))
                return *refused;
        }
        auto created = std::make_unique<Exchange>(name, std::move(type), m.durable,
                                                  m.auto_delete, m.internal, m.arguments);
        Exchange& x = *created;
        v.exchanges.emplace(name, std::move(created));
        model.record_new_exchange(v, x);
        return {};
    }
    // rabbit_exchange:assert_equivalence/6.
    if (x->type_name() != m.type)
        return inequivalent("type", "exchange", name, v, fmt::format("'{}'", m.type),
                            fmt::format("'{}'", x->type_name()), mid);
    if (auto e = check_bool_equivalence(x->durable(), m.durable, "durable", "exchange", name, v, mid))
        return *e;
    if (auto e = check_bool_equivalence(x->auto_delete(), m.auto_delete, "auto_delete", "exchange", name, v, mid))
        return *e;
    if (auto e = check_bool_equivalence(x->internal(), m.internal, "internal", "exchange", name, v, mid))
        return *e;
    if (auto e = check_args_equivalence(x->arguments(), m.arguments, exchange_arguments,
                                        "exchange", name, v, mid))
        return *e;
    return {};
}

Status exchange_delete(Model& model, ChannelState& ch, const ExchangeDelete& m) {
    VHost& v = *ch.connection->vhost;
    const MethodId mid = method::exchange_delete;
    const std::string name = strip_cr_lf(m.exchange);
    if (name.empty()) return default_exchange_refused(mid);
    if (has_reserved_prefix(name))
        return AmqpError::format(ReplyCode::AccessRefused, mid, "deletion of system {} not allowed",
                                 rs("exchange", name, v));
    if (auto refused = model.check_access(ch, Access::Configure, "exchange", name, mid)) return *refused;
    Exchange* x = model.find_exchange(v, name);
    if (!x) return {};
    if (m.if_unused && !x->bindings().empty())
        return AmqpError::format(ReplyCode::PreconditionFailed, mid, "{} in use",
                                 rs("exchange", name, v));
    model.delete_exchange(v, *x);
    return {};
}

Status exchange_bind(Model& model, ChannelState& ch, const ExchangeBind& m) {
    VHost& v = *ch.connection->vhost;
    const MethodId mid = method::exchange_bind;
    // rabbit_channel:binding_action/10: write on the destination, read on the source.
    if (auto refused = model.check_access(ch, Access::Write, "exchange", strip_cr_lf(m.destination), mid)) return *refused;
    if (auto refused = model.check_access(ch, Access::Read, "exchange", strip_cr_lf(m.source), mid)) return *refused;
    auto target = model.resolve_binding(v, strip_cr_lf(m.source), strip_cr_lf(m.destination), false,
                                        true, mid);
    if (!target) return target.error();
    return model.add_binding(v, *target.value(), m.routing_key, m.arguments, ch.connection->id, mid);
}

Status exchange_unbind(Model& model, ChannelState& ch, const ExchangeBind& m) {
    VHost& v = *ch.connection->vhost;
    const MethodId mid = method::exchange_unbind;
    // rabbit_channel:binding_action/10: write on the destination, read on the source.
    if (auto refused = model.check_access(ch, Access::Write, "exchange", strip_cr_lf(m.destination), mid)) return *refused;
    if (auto refused = model.check_access(ch, Access::Read, "exchange", strip_cr_lf(m.source), mid)) return *refused;
    auto target = model.resolve_binding(v, strip_cr_lf(m.source), strip_cr_lf(m.destination), false,
                                        false, mid);
    if (!target) return target.error();
    if (!target.value()) return {};
    return model.unbind(v, *target.value(), m.routing_key, m.arguments, ch.connection->id, mid);
    return {};
}

}  // namespace warren::emulator
