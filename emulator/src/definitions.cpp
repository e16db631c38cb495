// Broker::export_definitions and import_definitions: RabbitMQ's definitions.json
// (rabbit_mgmt_wm_definitions, rabbit_definitions in 3.10.8).
//
// RabbitMQ imports a file's sections in this order: users, vhosts, permissions, topic
// permissions, parameters, global parameters, policies, queues, exchanges, bindings, and the
// objects of a section concurrently, so an error leaves whatever the workers had done. warren
// checks the whole file first, in that order (the first error is the one RabbitMQ reports),
// and then applies it: all or nothing. Where RabbitMQ's import crashes on a malformed record
// (a 500, or objects named "undefined"), warren refuses with "function_clause".
#include <algorithm>
#include <set>
#include <stdexcept>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "model.hpp"
#include "password.hpp"
#include "queue_type.hpp"
#include "warren/emulator/broker.hpp"
#include "warren/emulator/detail/json.hpp"

namespace warren {

using namespace emulator;
namespace json = boost::json;

namespace {

constexpr std::string_view rabbit_version = "3.10.8";
constexpr std::string_view sha256_algorithm = "rabbit_password_hashing_sha256";

// ---- errors, as the management API renders the Erlang terms -------------------------------

[[noreturn]] void refuse(std::string message, json::value reason) {
    throw DefinitionsError(std::move(message), json::serialize(reason));
}

[[noreturn]] void function_clause(std::string_view what) {
    refuse(fmt::format("malformed {} in definitions", what), "function_clause");
}

[[noreturn]] void no_such(std::string_view what, std::string_view name) {
    refuse(fmt::format("no such {} '{}'", what, name),
           json::array{fmt::format("no_such_{}", what), json::string(name)});
}

/// An Erlang string as jsx renders it: a list of code points.
json::array erlang_string(std::string_view utf8) {
    json::array out;
    for (std::size_t i = 0; i < utf8.size();) {
        const auto c = static_cast<unsigned char>(utf8[i]);
        const int extra = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
        std::uint32_t cp = extra == 0 ? c : c & (0x3f >> extra);
        for (int k = 1; k <= extra && i + k < utf8.size(); ++k)
            cp = cp << 6 | (static_cast<unsigned char>(utf8[i + k]) & 0x3f);
        out.push_back(cp);
        i += 1 + extra;
    }
    return out;
}

/// An AMQP error raised while importing: {amqp_error, Name, Explanation, none}.
[[noreturn]] void amqp_refusal(ReplyCode code, std::string_view atom, std::string_view explanation) {
    refuse(fmt::format("{} - {}", reply_code_name(code), explanation),
           json::array{"amqp_error", json::string(atom), erlang_string(explanation), "none"});
}

// ---- reading records --------------------------------------------------------------------

const json::array* section(const json::object& doc, std::string_view name) {
    const json::value* v = doc.if_contains(name);
    if (!v || v->is_null()) return nullptr;
    if (!v->is_array()) function_clause(name);
    for (const json::value& item : v->get_array())
        if (!item.is_object()) function_clause(name);
    return &v->get_array();
}

/// A field that must be a string when present: "badarg" otherwise, as RabbitMQ's
/// list_to_binary-style conversions fail.
std::optional<std::string> string_field(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) refuse(fmt::format("'{}' is not a string", key), "badarg");
    return std::string(v->get_string());
}

std::string required_string(const json::object& o, std::string_view key, std::string_view what) {
    auto s = string_field(o, key);
    if (!s) function_clause(what);
    return *s;
}

std::optional<bool> bool_field(const json::object& o, std::string_view key, std::string_view what) {
    const json::value* v = o.if_contains(key);
    if (!v) return std::nullopt;
    if (!v->is_bool()) function_clause(what);
    return v->get_bool();
}

FieldTable arguments_field(const json::object& o, std::string_view what) {
    const json::value* v = o.if_contains("arguments");
    if (!v || v->is_null()) return {};
    if (!v->is_object()) function_clause(what);
    return detail::table_from_json(v->get_object());
}

/// rabbit_mgmt_util's tags: a comma-separated string (items trimmed, empty ones dropped) or
/// a list of strings.
std::vector<std::string> parse_tags(const json::value& v) {
    std::vector<std::string> tags;
    auto add = [&](std::string_view t) {
        while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
        while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
        if (!t.empty()) tags.emplace_back(t);
    };
    if (v.is_string()) {
        std::string_view s = v.get_string();
        for (std::size_t at = 0; at <= s.size();) {
            const std::size_t comma = std::min(s.find(',', at), s.size());
            add(s.substr(at, comma - at));
            at = comma + 1;
        }
    } else if (v.is_array()) {
        for (const json::value& t : v.get_array()) {
            if (!t.is_string()) refuse("a tag is not a string", "badarg");
            add(t.get_string());
        }
    } else {
        refuse("tags are neither a string nor a list", "badarg");
    }
    return tags;
}

std::string resource(std::string_view kind, std::string_view name, std::string_view vhost) {
    return fmt::format("{} '{}' in vhost '{}'", kind, name, vhost);
}

// ---- the plan: what an import will do, checked before anything is done -----------------

struct UserPlan {
    std::string name;
    std::string password_hash;  // raw salt + digest
    std::optional<std::string> password;
    std::vector<std::string> tags;
};

struct QueuePlan {
    std::string vhost, name;
    bool durable = false, auto_delete = false;
    FieldTable arguments;
    const QueueType* type = nullptr;
};

struct ExchangePlan {
    std::string vhost, name, type;
    bool durable = false, auto_delete = false, internal = false;
    FieldTable arguments;
};

struct BindingPlan {
    std::string vhost, source, destination;
    bool to_queue = true;
    std::string key;
    FieldTable arguments;
};

struct Plan {
    std::vector<UserPlan> users;
    std::vector<VHostInfo> vhosts;
    std::vector<PermissionInfo> permissions;
    std::vector<std::pair<std::string, std::string>> global_parameters;
    std::vector<QueuePlan> queues;
    std::vector<ExchangePlan> exchanges;
    std::vector<BindingPlan> bindings;
    std::vector<std::string> warnings;
};

class Planner {
public:
    Planner(BrokerState& state, std::string_view vhost) : s_(state), scoped_vhost_(vhost) {}

    Plan plan(const json::object& doc) {
        if (scoped_vhost_.empty()) {
            users(doc);
            vhosts(doc);
            permissions(doc);
            not_emulated(doc, "topic_permissions");
            not_emulated(doc, "parameters");
            global_parameters(doc);
        } else {
            not_emulated(doc, "parameters");
        }
        not_emulated(doc, "policies");
        queues(doc);
        exchanges(doc);
        bindings(doc);
        return std::move(plan_);
    }

private:
    bool vhost_known(std::string_view v) const {
        return s_.find_vhost(v) || std::any_of(plan_.vhosts.begin(), plan_.vhosts.end(),
                                               [&](const VHostInfo& x) { return x.name == v; });
    }

    /// The vhost a queue, exchange or binding record goes to.
    std::string record_vhost(const json::object& o) {
        if (!scoped_vhost_.empty()) return std::string(scoped_vhost_);
        auto v = string_field(o, "vhost");
        if (!v) no_such("vhost", "undefined");
        if (!vhost_known(*v)) no_such("vhost", *v);
        return *v;
    }

    void users(const json::object& doc) {
        const json::array* list = section(doc, "users");
        if (!list) return;
        for (const json::value& item : *list) {
            const json::object& o = item.get_object();
            UserPlan u;
            auto name = string_field(o, "name");
            if (!name) refuse("a user has no name", json::array{"badkey", "name"});
            u.name = *name;
            const json::value* tags = o.if_contains("tags");
            if (!tags) refuse(fmt::format("user '{}' has no tags", u.name), "tags_not_present");
            u.tags = parse_tags(*tags);
            if (auto hash = string_field(o, "password_hash")) {
                const std::string algorithm = string_field(o, "hashing_algorithm").value_or(std::string(sha256_algorithm));
                auto raw = base64_decode(*hash);
                if (!raw) refuse(fmt::format("user '{}': password_hash is not base64", u.name),
                                 json::array{"not_base64", json::string(*hash)});
                if (algorithm != sha256_algorithm)
                    refuse(fmt::format("user '{}': warren checks only {} password hashes, not {}", u.name,
                                       sha256_algorithm, algorithm),
                           json::array{"unsupported_hashing_algorithm", json::string(algorithm)});
                u.password_hash = std::move(*raw);
            } else {
                u.password = string_field(o, "password");
            }
            plan_.users.push_back(std::move(u));
        }
    }

    void vhosts(const json::object& doc) {
        const json::array* list = section(doc, "vhosts");
        if (!list) return;
        for (const json::value& item : *list) {
            const json::object& o = item.get_object();
            VHostInfo v;
            v.name = required_string(o, "name", "vhost");
            // rabbitmqctl export_definitions puts them under "metadata".
            const json::object* meta = &o;
            if (const json::value* m = o.if_contains("metadata"); m && m->is_object()) meta = &m->get_object();
            v.description = string_field(*meta, "description").value_or("");
            if (const json::value* t = meta->if_contains("tags")) v.tags = parse_tags(*t);
            plan_.vhosts.push_back(std::move(v));
        }
    }

    void permissions(const json::object& doc) {
        const json::array* list = section(doc, "permissions");
        if (!list) return;
        for (const json::value& item : *list) {
            const json::object& o = item.get_object();
            PermissionInfo p;
            for (auto [key, field] : {std::pair{"user", &p.user}, std::pair{"vhost", &p.vhost},
                                      std::pair{"configure", &p.configure}, std::pair{"write", &p.write},
                                      std::pair{"read", &p.read}}) {
                auto v = string_field(o, key);
                if (!v) refuse(fmt::format("a permission has no '{}'", key), "badarg");
                *field = *v;
            }
            const bool user_known = s_.find_user(p.user) ||
                                    std::any_of(plan_.users.begin(), plan_.users.end(),
                                                [&](const UserPlan& u) { return u.name == p.user; });
            if (!user_known) no_such("user", p.user);
            if (!vhost_known(p.vhost)) no_such("vhost", p.vhost);
            plan_.permissions.push_back(std::move(p));
        }
    }

    void not_emulated(const json::object& doc, std::string_view name) {
        const json::array* list = section(doc, name);
        if (list && !list->empty())
            plan_.warnings.push_back(fmt::format("{} {} not imported: warren does not emulate them",
                                                 list->size(), name));
    }

    void global_parameters(const json::object& doc) {
        const json::array* list = section(doc, "global_parameters");
        if (!list) return;
        for (const json::value& item : *list) {
            const json::object& o = item.get_object();
            const json::value* value = o.if_contains("value");
            plan_.global_parameters.emplace_back(required_string(o, "name", "global parameter"),
                                                 value ? json::serialize(*value) : "null");
        }
    }

    bool queue_planned(std::string_view vhost, std::string_view name) const {
        return std::any_of(plan_.queues.begin(), plan_.queues.end(),
                           [&](const QueuePlan& q) { return q.vhost == vhost && q.name == name; });
    }
    bool exchange_planned(std::string_view vhost, std::string_view name) const {
        return std::any_of(plan_.exchanges.begin(), plan_.exchanges.end(),
                           [&](const ExchangePlan& x) { return x.vhost == vhost && x.name == name; });
    }
    bool queue_will_exist(std::string_view vhost, std::string_view name) {
        VHost* v = s_.find_vhost(vhost);
        return (v && v->queues.count(std::string(name))) || queue_planned(vhost, name);
    }
    /// The type of the exchange the name will refer to, or empty when there will be none.
    std::string exchange_type_after(std::string_view vhost, std::string_view name) {
        for (const ExchangePlan& x : plan_.exchanges)
            if (x.vhost == vhost && x.name == name) return x.type;
        if (VHost* v = s_.find_vhost(vhost)) {
            auto it = v->exchanges.find(std::string(name));
            if (it != v->exchanges.end()) return std::string(it->second->type_name());
        } else if (vhost_known(vhost) && (name.empty() || name.starts_with("amq."))) {
            // A vhost the import creates gets the predeclared exchanges.
            static const std::pair<std::string_view, std::string_view> predeclared[] = {
                {"", "direct"}, {"amq.direct", "direct"}, {"amq.fanout", "fanout"}, {"amq.headers", "headers"},
                {"amq.match", "headers"}, {"amq.rabbitmq.trace", "topic"}, {"amq.topic", "topic"}};
            for (auto [n, t] : predeclared)
                if (n == name) return std::string(t);
        }
        return {};
    }

    void queues(const json::object& doc) {
        const json::array* list = section(doc, "queues");
        if (!list) return;
        for (const json::value& item : *list) {
            const json::object& o = item.get_object();
            QueuePlan q;
            q.name = required_string(o, "name", "queue");
            q.vhost = record_vhost(o);
            auto durable = bool_field(o, "durable", "queue");
            auto auto_delete = bool_field(o, "auto_delete", "queue");
            if (!durable || !auto_delete) function_clause("queue");
            q.durable = *durable;
            q.auto_delete = *auto_delete;
            q.arguments = arguments_field(o, "queue");
            // Existing queues are left as they are, whatever the file says; RabbitMQ's import
            // also drops names it may not declare (amq.*) and, in warren, "" (RabbitMQ 3.10.8
            // creates a queue literally named "").
            if (q.name.empty() || has_reserved_prefix(q.name) || queue_will_exist(q.vhost, q.name)) continue;
            const std::string rendered = resource("queue", q.name, q.vhost);
            if (auto why = validate_queue_arguments(q.arguments, rendered)) {
                if (*why == check_crashes) refuse(fmt::format("{}: its arguments crash RabbitMQ", rendered), "badarg");
                amqp_refusal(ReplyCode::PreconditionFailed, "precondition_failed", *why);
            }
            const FieldValue* named = q.arguments.find("x-queue-type");
            q.type = named && named->is_string() ? find_queue_type(named->as_string()) : &classic_queue_type();
            if (auto why = q.type->check_properties(q.durable, false, q.auto_delete, rendered)) {
                // RabbitMQ's import worker fails and the import still answers 204.
                plan_.warnings.push_back(fmt::format("{} not imported: {}", rendered, *why));
                continue;
            }
            plan_.queues.push_back(std::move(q));
        }
    }

    void exchanges(const json::object& doc) {
        const json::array* list = section(doc, "exchanges");
        if (!list) return;
        for (const json::value& item : *list) {
            const json::object& o = item.get_object();
            ExchangePlan x;
            x.name = required_string(o, "name", "exchange");
            x.vhost = record_vhost(o);
            auto type = string_field(o, "type");
            x.type = type.value_or("undefined");
            if (!make_exchange_type(x.type))
                amqp_refusal(ReplyCode::CommandInvalid, "command_invalid",
                             fmt::format("{} exchange type '{}'", type ? "unknown" : "invalid", x.type));
            auto durable = bool_field(o, "durable", "exchange");
            if (!durable) function_clause("exchange");
            x.durable = *durable;
            x.auto_delete = bool_field(o, "auto_delete", "exchange").value_or(false);
            x.internal = bool_field(o, "internal", "exchange").value_or(false);
            x.arguments = arguments_field(o, "exchange");
            if (x.name.empty() || has_reserved_prefix(x.name) || !exchange_type_after(x.vhost, x.name).empty())
                continue;
            if (const FieldValue* ae = x.arguments.find("alternate-exchange"); ae && !ae->is_string())
                amqp_refusal(ReplyCode::PreconditionFailed, "precondition_failed",
                             fmt::format("invalid type '{}' for arg 'alternate-exchange' in {}",
                                         rabbit_type_name(ae->type()), resource("exchange", x.name, x.vhost)));
            plan_.exchanges.push_back(std::move(x));
        }
    }

    void bindings(const json::object& doc) {
        const json::array* list = section(doc, "bindings");
        if (!list) return;
        for (const json::value& item : *list) {
            const json::object& o = item.get_object();
            BindingPlan b;
            b.source = required_string(o, "source", "binding");
            b.vhost = record_vhost(o);
            b.destination = required_string(o, "destination", "binding");
            const std::string dtype = required_string(o, "destination_type", "binding");
            if (dtype != "queue" && dtype != "exchange") function_clause("binding");
            b.to_queue = dtype == "queue";
            b.key = string_field(o, "routing_key").value_or("");
            b.arguments = arguments_field(o, "binding");
            // Bindings whose ends will not exist, from or to the default exchange, or that
            // their exchange type refuses, are skipped (RabbitMQ answers 204 and has none).
            const std::string source_type = exchange_type_after(b.vhost, b.source);
            if (b.source.empty() || source_type.empty()) continue;
            if (b.to_queue ? !queue_will_exist(b.vhost, b.destination)
                           : (b.destination.empty() || exchange_type_after(b.vhost, b.destination).empty()))
                continue;
            if (make_exchange_type(source_type)->validate_binding(b.key, b.arguments)) continue;
            plan_.bindings.push_back(std::move(b));
        }
    }

    BrokerState& s_;
    std::string_view scoped_vhost_;
    Plan plan_;
};

void apply(BrokerState& s, Plan& plan, std::string_view acting_user) {
    Model model(s);
    for (UserPlan& u : plan.users) {
        User& user = s.set_user(u.name, u.password.value_or(""), u.tags);
        if (!u.password) user.password_hash = u.password_hash;
    }
    for (VHostInfo& v : plan.vhosts) {
        // rabbit_vhost:add/2 gives the importing user full permissions in a vhost it creates.
        if (!s.find_vhost(v.name) && s.find_user(acting_user))
            plan.permissions.insert(plan.permissions.begin(), PermissionInfo{std::string(acting_user), v.name});
        VHost& vhost = s.add_vhost(v.name);
        vhost.description = v.description;
        vhost.tags = v.tags;
    }
    for (PermissionInfo& p : plan.permissions) s.set_permission(p);
    for (auto& [name, value] : plan.global_parameters) {
        auto it = std::find_if(s.global_parameters.begin(), s.global_parameters.end(),
                               [&name = name](const auto& p) { return p.first == name; });
        if (it == s.global_parameters.end()) s.global_parameters.emplace_back(name, value);
        else it->second = value;
    }
    s.record_security();
    for (QueuePlan& q : plan.queues) {
        VHost& v = *s.find_vhost(q.vhost);
        auto created = std::make_unique<Queue>(q.name, q.durable, false, q.auto_delete, q.arguments, 0, *q.type);
        created->set_vhost(&v);
        created->note_started(model.now());
        Queue& queue = *created;
        v.queues.emplace(q.name, std::move(created));
        model.record_new_queue(v, queue);
    }
    for (ExchangePlan& x : plan.exchanges) {
        VHost& v = *s.find_vhost(x.vhost);
        auto created = std::make_unique<Exchange>(x.name, make_exchange_type(x.type), x.durable, x.auto_delete,
                                                  x.internal, x.arguments);
        Exchange& exchange = *created;
        v.exchanges.emplace(x.name, std::move(created));
        model.record_new_exchange(v, exchange);
    }
    for (BindingPlan& b : plan.bindings) {
        VHost& v = *s.find_vhost(b.vhost);
        Model::BindTarget t;
        t.source = model.find_exchange(v, b.source);
        if (b.to_queue) t.queue = model.find_queue(v, b.destination);
        else t.exchange = model.find_exchange(v, b.destination);
        (void)model.add_binding(v, t, b.key, b.arguments, 0, method::queue_bind);
    }
}

// ---- export ---------------------------------------------------------------------------

json::array tags_json(const std::vector<std::string>& tags) {
    json::array out;
    for (const auto& t : tags) out.emplace_back(t);
    return out;
}

template <class Map>
auto sorted(const Map& m) {
    std::vector<const typename Map::mapped_type::element_type*> out;
    for (const auto& [k, v] : m) out.push_back(v.get());
    std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->name() < b->name(); });
    return out;
}

void export_vhost(const VHost& v, bool with_vhost, json::array& queues, json::array& exchanges,
                  json::array& bindings) {
    auto tag = [&](json::object o) {
        if (with_vhost) {
            json::object out;
            out["name"] = o["name"];
            out["vhost"] = v.name;
            for (auto& [k, val] : o)
                if (k != "name") out[k] = val;
            return out;
        }
        return o;
    };
    for (const Queue* q : sorted(v.queues)) {
        if (q->exclusive()) continue;
        queues.push_back(tag(json::object{{"name", q->name()},
                                          {"durable", q->durable()},
                                          {"auto_delete", q->auto_delete()},
                                          {"arguments", detail::to_json(q->arguments())}}));
    }
    std::vector<const Binding*> all_bindings;
    for (const Exchange* x : sorted(v.exchanges)) {
        if (!x->name().empty())
            for (const auto& b : x->bindings())
                if (!(b->queue && b->queue->exclusive())) all_bindings.push_back(b.get());
        if (x->name().empty() || has_reserved_prefix(x->name())) continue;
        exchanges.push_back(tag(json::object{{"name", x->name()},
                                             {"type", x->type_name()},
                                             {"durable", x->durable()},
                                             {"auto_delete", x->auto_delete()},
                                             {"internal", x->internal()},
                                             {"arguments", detail::to_json(x->arguments())}}));
    }
    std::stable_sort(all_bindings.begin(), all_bindings.end(), [](const Binding* a, const Binding* b) {
        return std::tuple(a->source->name(), !a->to_queue(), a->destination_name(), a->key) <
               std::tuple(b->source->name(), !b->to_queue(), b->destination_name(), b->key);
    });
    for (const Binding* b : all_bindings) {
        json::object o{{"source", b->source->name()}};
        if (with_vhost) o["vhost"] = v.name;
        o["destination"] = b->destination_name();
        o["destination_type"] = b->to_queue() ? "queue" : "exchange";
        o["routing_key"] = b->key;
        o["arguments"] = detail::to_json(b->arguments);
        bindings.push_back(std::move(o));
    }
}

}  // namespace

std::string Broker::export_definitions(std::string_view vhost) const {
    std::lock_guard lock(mutex_);
    const BrokerState& s = *state_;
    json::array queues, exchanges, bindings;
    if (!vhost.empty()) {
        const auto it = s.vhosts.find(vhost);
        if (it == s.vhosts.end()) throw std::invalid_argument(fmt::format("no vhost '{}'", vhost));
        export_vhost(*it->second, false, queues, exchanges, bindings);
        return json::serialize(json::object{{"rabbit_version", rabbit_version},
                                            {"parameters", json::array{}},
                                            {"policies", json::array{}},
                                            {"queues", std::move(queues)},
                                            {"exchanges", std::move(exchanges)},
                                            {"bindings", std::move(bindings)}});
    }
    json::array users, vhosts, permissions, global_parameters;
    std::vector<const User*> sorted_users;
    for (const User& u : s.users) sorted_users.push_back(&u);
    std::sort(sorted_users.begin(), sorted_users.end(), [](auto* a, auto* b) { return a->name < b->name; });
    for (const User* u : sorted_users)
        users.push_back(json::object{{"name", u->name},
                                     {"password_hash", base64_encode(u->password_hash)},
                                     {"hashing_algorithm", sha256_algorithm},
                                     {"tags", tags_json(u->tags)},
                                     {"limits", json::object{}}});
    for (const auto& [name, v] : s.vhosts) {
        vhosts.push_back(json::object{{"name", name}});
        export_vhost(*v, true, queues, exchanges, bindings);
    }
    std::vector<PermissionInfo> perms = s.permissions;
    std::sort(perms.begin(), perms.end(), [](const auto& a, const auto& b) {
        return std::tie(a.vhost, a.user) < std::tie(b.vhost, b.user);
    });
    for (const PermissionInfo& p : perms)
        permissions.push_back(json::object{{"user", p.user}, {"vhost", p.vhost}, {"configure", p.configure},
                                           {"write", p.write}, {"read", p.read}});
    for (const auto& [name, value] : s.global_parameters)
        global_parameters.push_back(json::object{{"name", name}, {"value", json::parse(value)}});
    return json::serialize(json::object{{"rabbit_version", rabbit_version},
                                        {"rabbitmq_version", rabbit_version},
                                        {"product_name", "RabbitMQ"},
                                        {"product_version", rabbit_version},
                                        {"users", std::move(users)},
                                        {"vhosts", std::move(vhosts)},
                                        {"permissions", std::move(permissions)},
                                        {"topic_permissions", json::array{}},
                                        {"parameters", json::array{}},
                                        {"global_parameters", std::move(global_parameters)},
                                        {"policies", json::array{}},
                                        {"queues", std::move(queues)},
                                        {"exchanges", std::move(exchanges)},
                                        {"bindings", std::move(bindings)}});
}

std::vector<std::string> Broker::import_definitions(std::string_view text, std::string_view vhost,
                                                    std::string_view acting_user) {
    boost::system::error_code ec;
    json::value doc = json::parse(text, ec);
    if (ec || !doc.is_object())
        refuse(ec ? fmt::format("definitions are not JSON: {}", ec.message()) : "definitions are not a JSON object",
               "failed_to_parse_json");
    std::lock_guard lock(mutex_);
    if (!vhost.empty() && !state_->find_vhost(vhost)) no_such("vhost", vhost);
    Plan plan = Planner(*state_, vhost).plan(doc.get_object());
    apply(*state_, plan, acting_user);
    return std::move(plan.warnings);
}

}  // namespace warren
