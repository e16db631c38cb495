// The management API's writes: vhosts, users, permissions (straight into the Broker), and
// exchanges, queues and bindings through an AMQP channel as the requesting user, as
// rabbit_mgmt_util:with_channel does, so that every refusal is the model's own AMQP error.
#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "management_call.hpp"
#include "warren/emulator/detail/json.hpp"
#include "warren/server/server.hpp"

namespace warren::server::management {

DirectChannel::DirectChannel(Broker& broker, std::string_view vhost, std::string_view user) : methods_(broker) {
    auto id = methods_.open_connection(vhost, user, *this, "management");
    if (!id) {
        open_error_ = std::move(id).error();
        return;
    }
    ref_ = emulator::ChannelRef{id.value(), 1};
    if (auto opened = methods_.open_channel(ref_); !opened) open_error_ = opened.error();
}

DirectChannel::~DirectChannel() {
    if (ref_.connection != 0) methods_.close_connection(ref_.connection);
}

namespace {

/// How rabbit_mgmt_util answers an AMQP error of a declare, delete or bind.
HttpResponse amqp_failure(const AmqpError& e) {
    switch (e.code()) {
        case ReplyCode::AccessRefused: return not_authorised("Access refused.");
        case ReplyCode::NotFound: return error_answer(404, "not_found", json::string(explanation(e)));
        default: return error_answer(400, "bad_request", json::string(explanation(e)));
    }
}

/// A boolean member (left as it is when absent); an error answer for anything else.
std::optional<HttpResponse> read_bool(const json::object& o, std::string_view key, bool& out) {
    const json::value* v = o.if_contains(key);
    if (!v) return std::nullopt;
    // rabbit_mgmt_util:parse_bool/1: JSON booleans, and the strings rabbitmqadmin sends.
    if (v->is_bool() || (v->is_string() && (v->get_string() == "true" || v->get_string() == "false"))) {
        out = v->is_bool() ? v->get_bool() : v->get_string() == "true";
        return std::nullopt;
    }
    return error_answer(400, "bad_request", json::array{"not_boolean", *v});
}

FieldTable read_arguments(const json::object& o) {
    const json::value* v = o.if_contains("arguments");
    return v && v->is_object() ? detail::table_from_json(v->get_object()) : FieldTable{};
}

std::string read_string(const json::object& o, std::string_view key, std::string fallback = {}) {
    const json::value* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::move(fallback);
}

}  // namespace

// ---- vhosts, users, permissions ----

HttpResponse Call::put_vhost(const std::string& name) {
    if (!administrator()) return not_authorised("Not administrator user");
    auto body = object_body(request_.body);
    if (!body) return not_json();
    VHostInfo info{name, read_string(*body, "description"), {}};
    if (const json::value* tags = body->if_contains("tags")) info.tags = parse_tags(*tags);
    return no_content(broker_.add_vhost(info, user_.name) ? 201 : 204);
}

HttpResponse Call::delete_vhost(const std::string& name) {
    if (!administrator()) return not_authorised("Not administrator user");
    if (!broker_.delete_vhost(name)) return not_found();
    server_.broker_touched();
    return no_content();
}

HttpResponse Call::put_user(const std::string& name) {
    auto body = object_body(request_.body);
    if (!body) return not_json();
    if (!body->contains("tags")) return error_answer(400, "bad_request", "tags_not_present");
    if (body->contains("password") && body->contains("password_hash"))
        return error_answer(400, "bad_request", "both_password_and_password_hash_are_provided");
    // rabbit_auth_backend_internal:put_user/2 is also what a definitions import calls.
    json::object user{{"name", name}, {"tags", tags_json(parse_tags(body->at("tags")))}};
    for (std::string_view key : {"password", "password_hash", "hashing_algorithm"})
        if (const json::value* v = body->if_contains(key)) user[key] = *v;
    const auto before = broker_.users();
    const bool exists = std::any_of(before.begin(), before.end(), [&](const UserInfo& u) { return u.name == name; });
    try {
        broker_.import_definitions(json::serialize(json::object{{"users", json::array{std::move(user)}}}));
    } catch (const DefinitionsError& e) {
        return error_answer(400, "bad_request", json::parse(e.reason()));
    }
    return no_content(exists ? 204 : 201);
}

HttpResponse Call::delete_user(const std::string& name) {
    if (!broker_.delete_user(name)) return not_found();
    server_.broker_touched();
    return no_content();
}

HttpResponse Call::put_permissions(const std::string& vhost, const std::string& user) {
    auto body = object_body(request_.body);
    if (!body) return not_json();
    std::string missing;
    for (std::string_view key : {"configure", "write", "read"})
        if (!body->contains(key)) missing += fmt::format("{}{{key_missing,{}}}", missing.empty() ? "" : ",", key);
    if (!missing.empty()) return error_answer(400, "bad_request", json::string("[" + missing + "]"));
    const auto existing = broker_.permissions(vhost);
    const bool exists =
        std::any_of(existing.begin(), existing.end(), [&](const PermissionInfo& p) { return p.user == user; });
    try {
        broker_.set_permissions(PermissionInfo{user, vhost, read_string(*body, "configure"),
                                               read_string(*body, "write"), read_string(*body, "read")});
    } catch (const std::invalid_argument&) {
        return error_answer(400, "bad_request", "vhost_or_user_not_found");
    }
    return no_content(exists ? 204 : 201);
}

HttpResponse Call::delete_permissions(const std::string& vhost, const std::string& user) {
    return broker_.clear_permissions(vhost, user) ? no_content() : not_found();
}

// ---- exchanges and queues ----

HttpResponse Call::put_exchange(const std::string& vhost, const std::string& name) {
    if (auto refused = check_vhost(vhost, true)) return *refused;
    auto body = object_body(request_.body);
    if (!body) return not_json();
    emulator::ExchangeDeclare m;
    m.exchange = name;
    m.type = read_string(*body, "type", "direct");
    for (auto [key, field] : {std::pair{"durable", &m.durable}, {"auto_delete", &m.auto_delete}, {"internal", &m.internal}})
        if (auto bad = read_bool(*body, key, *field)) return *bad;
    m.arguments = read_arguments(*body);
    const bool exists = broker_.exchange(vhost, name).has_value();
    DirectChannel ch(broker_, vhost, user_.name);
    if (ch.open_error()) return amqp_failure(*ch.open_error());
    if (auto done = ch.methods().exchange_declare(ch.ref(), m); !done) return amqp_failure(done.error());
    return no_content(exists ? 204 : 201);
}

HttpResponse Call::delete_exchange(const std::string& vhost, const std::string& name) {
    if (auto refused = check_vhost(vhost)) return *refused;
    if (!broker_.exchange(vhost, name)) return not_found();
    DirectChannel ch(broker_, vhost, user_.name);
    if (ch.open_error()) return amqp_failure(*ch.open_error());
    const bool if_unused = query_value(query_, "if-unused") == "true";
    if (auto done = ch.methods().exchange_delete(ch.ref(), {name, if_unused}); !done) return amqp_failure(done.error());
    server_.broker_touched();
    return no_content();
}

HttpResponse Call::put_queue(const std::string& vhost, const std::string& name) {
    if (auto refused = check_vhost(vhost, true)) return *refused;
    auto body = object_body(request_.body);
    if (!body) return not_json();
    emulator::QueueDeclare m;
    m.queue = name;
    for (auto [key, field] : {std::pair{"durable", &m.durable}, {"auto_delete", &m.auto_delete}})
        if (auto bad = read_bool(*body, key, *field)) return *bad;
    m.arguments = read_arguments(*body);
    const bool exists = broker_.queue(vhost, name).has_value();
    DirectChannel ch(broker_, vhost, user_.name);
    if (ch.open_error()) return amqp_failure(*ch.open_error());
    if (auto done = ch.methods().queue_declare(ch.ref(), m); !done) return amqp_failure(done.error());
    server_.broker_touched();
    return no_content(exists ? 204 : 201);
}

HttpResponse Call::delete_queue(const std::string& vhost, const std::string& name) {
    if (auto refused = check_vhost(vhost)) return *refused;
    if (!broker_.queue(vhost, name)) return not_found();
    DirectChannel ch(broker_, vhost, user_.name);
    if (ch.open_error()) return amqp_failure(*ch.open_error());
    emulator::QueueDelete m{name, query_value(query_, "if-unused") == "true", query_value(query_, "if-empty") == "true"};
    if (auto done = ch.methods().queue_delete(ch.ref(), m); !done) return amqp_failure(done.error());
    server_.broker_touched();
    return no_content();
}

HttpResponse Call::purge_queue(const std::string& vhost, const std::string& name) {
    if (auto refused = check_vhost(vhost)) return *refused;
    if (!broker_.queue(vhost, name)) return not_found();
    DirectChannel ch(broker_, vhost, user_.name);
    if (ch.open_error()) return amqp_failure(*ch.open_error());
    if (auto done = ch.methods().queue_purge(ch.ref(), name); !done) return amqp_failure(done.error());
    server_.broker_touched();
    return no_content();
}

// ---- bindings ----

HttpResponse Call::binding_route() {
    // bindings / {vhost} / e / {source} / (q|e) / {destination} [/ {properties key}]
    const std::size_t n = path_.size();
    if (n < 6 || n > 7 || path_[2] != "e" || (path_[4] != "q" && path_[4] != "e")) return not_found();
    const std::string& vhost = path_[1];
    const std::string source = path_[3] == "amq.default" ? "" : path_[3];
    const bool to_queue = path_[4] == "q";
    const std::string& destination = path_[5];
    if (n == 6 && !is("GET") && !is("POST")) return method_not_allowed("HEAD, GET, POST, OPTIONS");
    if (n == 7 && !is("GET") && !is("DELETE")) return method_not_allowed("HEAD, GET, DELETE, OPTIONS");
    if (auto refused = check_vhost(vhost)) return *refused;

    std::vector<BindingInfo> matching;
    for (BindingInfo& b : broker_.bindings(vhost))
        if (b.source == source && b.destination == destination && (b.destination_type == "queue") == to_queue)
            matching.push_back(std::move(b));
    std::stable_sort(matching.begin(), matching.end(),
                     [](const BindingInfo& a, const BindingInfo& b) { return a.routing_key < b.routing_key; });
    if (n == 6 && is("GET")) {
        json::array out;
        for (const BindingInfo& b : matching) out.push_back(binding_json(b));
        return json_answer(200, out);
    }
    if (n == 6) {  // POST: a new binding
        auto body = object_body(request_.body);
        if (!body) return not_json();
        BindingInfo b{vhost, source, destination, to_queue ? "queue" : "exchange", read_string(*body, "routing_key"),
                      read_arguments(*body)};
        DirectChannel ch(broker_, vhost, user_.name);
        if (ch.open_error()) return amqp_failure(*ch.open_error());
        const Status done = to_queue ? ch.methods().queue_bind(ch.ref(), {destination, source, b.routing_key, b.arguments})
                                     : ch.methods().exchange_bind(ch.ref(), {destination, source, b.routing_key, b.arguments});
        if (!done) return amqp_failure(done.error());
        HttpResponse r = no_content(201);
        r.headers["Location"] = url_encode(destination) + "/" + url_encode(properties_key(b));
        return r;
    }
    const std::string& key = path_[6];
    auto it = std::find_if(matching.begin(), matching.end(), [&](const BindingInfo& b) { return properties_key(b) == key; });
    if (it == matching.end()) return not_found();
    if (is("GET")) return json_answer(200, binding_json(*it));
    DirectChannel ch(broker_, vhost, user_.name);
    if (ch.open_error()) return amqp_failure(*ch.open_error());
    const Status done = to_queue ? ch.methods().queue_unbind(ch.ref(), {destination, source, it->routing_key, it->arguments})
                                 : ch.methods().exchange_unbind(ch.ref(), {destination, source, it->routing_key, it->arguments});
    if (!done) return amqp_failure(done.error());
    server_.broker_touched();
    return no_content();
}

}  // namespace warren::server::management
