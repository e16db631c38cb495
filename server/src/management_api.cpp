// ManagementApi: RabbitMQ 3.10.8's management HTTP API over the server's Broker: routing,
// authentication, the reads, and the console's files. Writes are in management_write.cpp,
// publish and get in management_messages.cpp. Answers recorded on 3.10.8
// (conformance/management/golden.json).
#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "management_call.hpp"
#include "warren/emulator/detail/json.hpp"
#include "warren/server/management.hpp"
#include "warren/server/server.hpp"

namespace warren::server {

// The console's files (management_console.cpp, generated from server/management/console/).
extern const std::string_view console_index_html;
extern const std::string_view console_js;
extern const std::string_view console_css;

namespace management {

constexpr std::string_view version = "3.10.8";

HttpResponse json_answer(unsigned status, const json::value& body) {
    return HttpResponse{status, "application/json", json::serialize(body), {}};
}

HttpResponse error_answer(unsigned status, std::string_view error, json::value reason) {
    return json_answer(status, json::object{{"error", error}, {"reason", std::move(reason)}});
}

HttpResponse not_found() { return error_answer(404, "Object Not Found", "Not Found"); }

HttpResponse not_authorised(std::string_view reason) { return error_answer(401, "not_authorised", json::string(reason)); }

HttpResponse no_content(unsigned status) { return HttpResponse{status, "", "", {}}; }

HttpResponse method_not_allowed(std::string_view allow) {
    HttpResponse r{405, "", "", {}};
    r.headers["Allow"] = std::string(allow);
    return r;
}

HttpResponse not_json() { return error_answer(400, "bad_request", "not_json"); }

std::optional<json::object> object_body(std::string_view body) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object{};
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.get_object());
}

std::string explanation(const AmqpError& e) {
    const std::string& text = e.reply_text();
    const auto dash = text.find(" - ");
    return dash == std::string::npos ? text : text.substr(dash + 3);
}

std::vector<std::string> parse_tags(const json::value& tags) {
    std::vector<std::string> out;
    auto add = [&](std::string_view t) {
        const auto b = t.find_first_not_of(' ');
        if (b == std::string_view::npos) return;
        out.emplace_back(t.substr(b, t.find_last_not_of(' ') - b + 1));
    };
    if (tags.is_string()) {
        std::string_view rest = tags.get_string();
        for (;;) {
            const auto comma = rest.find(',');
            add(rest.substr(0, comma));
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
    } else if (tags.is_array()) {
        for (const json::value& t : tags.get_array())
            if (t.is_string()) add(t.get_string());
    }
    return out;
}

json::array tags_json(const std::vector<std::string>& tags) {
    json::array out;
    for (const auto& t : tags) out.emplace_back(t);
    return out;
}

std::string url_encode(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
        else out += fmt::format("%{:02X}", c);
    }
    return out;
}

std::string properties_key(const BindingInfo& b) {
    const std::string key = url_encode(b.routing_key);
    if (b.arguments.empty()) return key.empty() ? "~" : key;
    // RabbitMQ's digest is erlang:phash2 of the argument table; warren's is its own (the API
    // only ever reads it back from a listing).
    std::uint32_t h = 2166136261u;
    for (char c : json::serialize(detail::to_json(b.arguments))) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
    return fmt::format("{}~{:08x}", key, h);
}

json::object binding_json(const BindingInfo& b) {
    return json::object{{"source", b.source},
                        {"vhost", b.vhost},
                        {"destination", b.destination},
                        {"destination_type", b.destination_type},
                        {"routing_key", b.routing_key},
                        {"arguments", detail::to_json(b.arguments)},
                        {"properties_key", properties_key(b)}};
}

std::optional<std::string> query_value(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) return std::string(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

namespace {

HttpResponse login_failed() {
    HttpResponse r = error_answer(401, "not_authorized", "Login failed");
    r.headers["WWW-Authenticate"] = "Basic realm=\"RabbitMQ Management\"";
    return r;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// A path segment, percent-decoded; nullopt for a broken escape.
std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

/// The default exchange is "amq.default" in paths.
std::string exchange_from_path(const std::string& name) { return name == "amq.default" ? "" : name; }

bool has_tag(const UserInfo& u, std::string_view tag) {
    return std::find(u.tags.begin(), u.tags.end(), tag) != u.tags.end();
}

json::object exchange_json(const ExchangeInfo& x) {
    return json::object{{"name", x.name},
                        {"vhost", x.vhost},
                        {"type", x.type},
                        {"durable", x.durable},
                        {"auto_delete", x.auto_delete},
                        {"internal", x.internal},
                        {"arguments", detail::to_json(x.arguments)}};
}

json::object vhost_json(const VHostInfo& v) {
    return json::object{{"name", v.name},
                        {"description", v.description},
                        {"tags", tags_json(v.tags)},
                        {"metadata", json::object{{"description", v.description}, {"tags", tags_json(v.tags)}}},
                        {"tracing", false},
                        {"default_queue_type", "undefined"}};
}

json::object user_json(const UserInfo& u) {
    return json::object{{"name", u.name},
                        {"password_hash", u.password_hash},
                        {"hashing_algorithm", u.hashing_algorithm},
                        {"tags", tags_json(u.tags)},
                        {"limits", json::object{}}};
}

json::object permission_json(const PermissionInfo& p) {
    return json::object{{"user", p.user}, {"vhost", p.vhost}, {"configure", p.configure},
                        {"write", p.write}, {"read", p.read}};
}

json::object consumer_json(const ConsumerInfo& c) {
    return json::object{{"consumer_tag", c.consumer_tag},
                        {"ack_required", c.ack_required},
                        {"exclusive", c.exclusive},
                        {"prefetch_count", c.prefetch_count},
                        {"arguments", detail::to_json(c.arguments)},
                        {"active", true},
                        {"activity_status", "up"},
                        {"queue", json::object{{"name", c.queue}, {"vhost", c.vhost}}},
                        {"channel_details", json::object{{"number", c.channel}, {"user", c.user}}}};
}

std::vector<BindingInfo> sorted(std::vector<BindingInfo> all) {
    std::stable_sort(all.begin(), all.end(), [](const BindingInfo& a, const BindingInfo& b) {
        return std::tie(a.vhost, a.source, a.destination, a.routing_key) <
               std::tie(b.vhost, b.source, b.destination, b.routing_key);
    });
    return all;
}

}  // namespace

Call::Call(Server& server, const HttpRequest& request, UserInfo user, std::vector<std::string> path, std::string query)
    : server_(server), broker_(server.broker()), request_(request), user_(std::move(user)), path_(std::move(path)),
      query_(std::move(query)) {}

bool Call::administrator() const { return has_tag(user_, "administrator"); }

bool Call::sees_all() const { return administrator() || has_tag(user_, "monitoring"); }

bool Call::may_use(std::string_view vhost) const {
    for (const PermissionInfo& p : broker_.permissions(vhost))
        if (p.user == user_.name) return true;
    return false;
}

bool Call::may_see(std::string_view vhost) const { return sees_all() || may_use(vhost); }

bool Call::vhost_exists(std::string_view v) const {
    const auto all = broker_.vhosts();
    return std::find(all.begin(), all.end(), v) != all.end();
}

std::optional<HttpResponse> Call::check_vhost(std::string_view vhost, bool missing_is_not_found_error) const {
    if (!vhost_exists(vhost))
        return missing_is_not_found_error ? error_answer(404, "not_found", "vhost_not_found") : not_found();
    if (!may_see(vhost)) return not_authorised("User not authorised to access virtual host");
    return std::nullopt;
}

HttpResponse Call::run() {
    const std::string& what = path_[0];
    const std::size_t n = path_.size();
    if (what == "overview") return overview();
    if (what == "whoami") {
        if (!is("GET")) return method_not_allowed("HEAD, GET, OPTIONS");
        return json_answer(200, json::object{{"name", user_.name}, {"tags", tags_json(user_.tags)}});
    }
    if (what == "healthchecks" && n == 2 && path_[1] == "node") {
        if (!is("GET")) return method_not_allowed("HEAD, GET, OPTIONS");
        return json_answer(200, json::object{{"status", "ok"}});
    }
    if (what == "aliveness-test" && n == 2) {
        if (!is("GET")) return method_not_allowed("HEAD, GET, OPTIONS");
        return aliveness_test(path_[1]);
    }
    if (what == "vhosts") return vhosts();
    if (what == "users") return users();
    if (what == "permissions") return permissions();
    if (what == "exchanges") return exchanges();
    if (what == "queues") return queues();
    if (what == "bindings") return bindings();
    if (what == "definitions") return definitions();
    if (what == "connections" && n == 1) return connections({});
    if (what == "channels" && n == 1) return channels({});
    if (what == "consumers" && n <= 2) return consumers();
    if (what == "policies" || what == "operator-policies" || what == "vhost-limits" || what == "user-limits")
        return empty_settings();
    if (what == "warren" && n == 4 && path_[1] == "trace-route") {
        if (!is("POST")) return method_not_allowed("POST, OPTIONS");
        return trace_route(path_[2], exchange_from_path(path_[3]));
    }
    return not_found();
}

// Policies, operator policies and limits: warren has none, and takes none (setting one is
// answered 404), so every list is empty; who may read which list, and which names exist, are
// RabbitMQ 3.10.8's rules.
HttpResponse Call::empty_settings() {
    const std::string& what = path_[0];
    const std::size_t n = path_.size();
    if (!is("GET") || n > 3) return not_found();
    const bool limits = what == "vhost-limits" || what == "user-limits";
    if (n == 3) {  // one policy (the limits' routes of three segments take no GET)
        if (what == "operator-policies" && !administrator()) return not_authorised("Not administrator user");
        if (!administrator() && !(has_tag(user_, "policymaker") && (!vhost_exists(path_[1]) || may_use(path_[1]))))
            return not_authorised("User not authorised to access object");
        return not_found();
    }
    if (n == 2 && what == "user-limits") {
        const auto users = broker_.users();
        if (std::none_of(users.begin(), users.end(), [&](const UserInfo& u) { return u.name == path_[1]; }))
            return not_found();
    } else if (n == 2) {
        if (!vhost_exists(path_[1])) return not_found();
        // Policies are not shown to a monitoring user without access to the vhost; limits are.
        if (!(limits ? may_see(path_[1]) : administrator() || may_use(path_[1])))
            return not_authorised("User not authorised to access virtual host");
    }
    return json_answer(200, json::array{});
}

HttpResponse Call::overview() {
    if (!is("GET")) return method_not_allowed("HEAD, GET, OPTIONS");
    json::array types;
    for (std::string_view t : {"direct", "fanout", "headers", "topic"})
        types.push_back(json::object{{"name", t},
                                     {"description", fmt::format("AMQP {} exchange, as per the AMQP specification", t)},
                                     {"enabled", true}});
    std::size_t queues = 0, exchanges = 0, consumers = 0, messages = 0, ready = 0, unacked = 0;
    for (const QueueInfo& q : broker_.queues()) {
        if (!may_see(q.vhost)) continue;
        ++queues;
        consumers += q.consumers;
        messages += q.messages;
        ready += q.messages_ready;
        unacked += q.messages_unacknowledged;
    }
    for (const ExchangeInfo& x : broker_.exchanges())
        if (may_see(x.vhost)) ++exchanges;
    std::size_t connections = 0, channels = 0;
    for (const ConnectionInfo& c : broker_.connections()) {
        if (!may_see(c.vhost)) continue;
        ++connections;
        channels += c.channels;
    }
    const auto endpoint = server_.local_endpoint();
    return json_answer(
        200, json::object{{"management_version", version},
                          {"rates_mode", "basic"},
                          {"exchange_types", std::move(types)},
                          {"product_version", version},
                          {"product_name", "RabbitMQ"},
                          {"rabbitmq_version", version},
                          {"cluster_name", "warren"},
                          {"node", "warren@localhost"},
                          {"object_totals", json::object{{"connections", connections},
                                                         {"channels", channels},
                                                         {"exchanges", exchanges},
                                                         {"queues", queues},
                                                         {"consumers", consumers}}},
                          {"queue_totals", json::object{{"messages", messages},
                                                        {"messages_ready", ready},
                                                        {"messages_unacknowledged", unacked}}},
                          {"listeners", json::array{json::object{{"node", "warren@localhost"},
                                                                 {"protocol", "amqp"},
                                                                 {"ip_address", endpoint.address().to_string()},
                                                                 {"port", endpoint.port()}}}}});
}

HttpResponse Call::vhosts() {
    const std::size_t n = path_.size();
    if (n == 3) {
        if (!is("GET")) return method_not_allowed("HEAD, GET, OPTIONS");
        if (auto refused = check_vhost(path_[1])) return *refused;
        if (path_[2] == "connections") return connections(path_[1]);
        if (path_[2] == "channels") return channels(path_[1]);
        if (path_[2] == "permissions") {
            if (!administrator()) return not_authorised("Not administrator user");
            json::array out;
            for (const PermissionInfo& p : broker_.permissions(path_[1])) out.push_back(permission_json(p));
            return json_answer(200, out);
        }
        return not_found();
    }
    if (n > 3) return not_found();
    if (n == 2) {
        if (is("PUT")) return put_vhost(path_[1]);
        if (is("DELETE")) return delete_vhost(path_[1]);
        if (!is("GET")) return method_not_allowed("HEAD, GET, PUT, DELETE, OPTIONS");
        for (const VHostInfo& v : broker_.vhost_infos())
            if (v.name == path_[1] && may_see(v.name)) return json_answer(200, vhost_json(v));
        return not_found();
    }
    if (!is("GET")) return method_not_allowed("HEAD, GET, OPTIONS");
    json::array out;
    for (const VHostInfo& v : broker_.vhost_infos())
        if (may_see(v.name)) out.push_back(vhost_json(v));
    return json_answer(200, out);
}

HttpResponse Call::users() {
    const std::size_t n = path_.size();
    if (n > 3) return not_found();
    if (n == 2 && is("PUT")) return administrator() ? put_user(path_[1]) : not_authorised("Not administrator user");
    if (n == 2 && is("DELETE"))
        return administrator() ? delete_user(path_[1]) : not_authorised("Not administrator user");
    if (!is("GET")) return method_not_allowed(n == 2 ? "HEAD, GET, PUT, DELETE, OPTIONS" : "HEAD, GET, OPTIONS");
    if (!administrator()) return not_authorised("Not administrator user");
    const auto all = broker_.users();
    if (n == 1) {
        json::array out;
        for (const UserInfo& u : all) out.push_back(user_json(u));
        return json_answer(200, out);
    }
    for (const UserInfo& u : all) {
        if (u.name != path_[1]) continue;
        if (n == 2) return json_answer(200, user_json(u));
        if (path_[2] != "permissions") return not_found();
        json::array out;
        for (const PermissionInfo& p : broker_.permissions())
            if (p.user == u.name) out.push_back(permission_json(p));
        return json_answer(200, out);
    }
    return not_found();
}

HttpResponse Call::permissions() {
    if (!administrator()) return not_authorised("Not administrator user");
    const std::size_t n = path_.size();
    if (n != 1 && n != 3) return not_found();
    if (n == 3 && is("PUT")) return put_permissions(path_[1], path_[2]);
    if (n == 3 && is("DELETE")) return delete_permissions(path_[1], path_[2]);
    if (!is("GET")) return method_not_allowed(n == 3 ? "HEAD, GET, PUT, DELETE, OPTIONS" : "HEAD, GET, OPTIONS");
    std::vector<PermissionInfo> all = broker_.permissions();
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
        return std::tie(a.vhost, a.user) < std::tie(b.vhost, b.user);
    });
    json::array out;
    for (const PermissionInfo& p : all) {
        if (n == 3 && p.vhost == path_[1] && p.user == path_[2]) return json_answer(200, permission_json(p));
        out.push_back(permission_json(p));
    }
    if (n == 3) return not_found();
    return json_answer(200, out);
}

HttpResponse Call::exchanges() {
    const std::size_t n = path_.size();
    if (n == 4 && path_[3] == "publish") {
        if (!is("POST")) return method_not_allowed("POST, OPTIONS");
        return publish(path_[1], exchange_from_path(path_[2]));
    }
    if (n == 5 && path_[3] == "bindings" && (path_[4] == "source" || path_[4] == "destination")) {
        if (!is("GET")) return method_not_allowed("HEAD, GET, OPTIONS");
        if (auto refused = check_vhost(path_[1])) return *refused;
        const std::string name = exchange_from_path(path_[2]);
        if (!broker_.exchange(path_[1], name)) return not_found();
        json::array out;
        for (const BindingInfo& b : sorted(broker_.bindings(path_[1]))) {
            const bool source = path_[4] == "source";
            if (source ? b.source == name : (b.destination_type == "exchange" && b.destination == name))
                out.push_back(binding_json(b));
        }
        return json_answer(200, out);
    }
    if (n > 3) return not_found();
    if (n == 3 && is("PUT")) return put_exchange(path_[1], exchange_from_path(path_[2]));
    if (n == 3 && is("DELETE")) return delete_exchange(path_[1], exchange_from_path(path_[2]));
    if (!is("GET")) return method_not_allowed(n == 3 ? "HEAD, GET, PUT, DELETE, OPTIONS" : "HEAD, GET, OPTIONS");
    if (n == 1) return list(broker_.exchanges(), exchange_json);
    if (auto refused = check_vhost(path_[1])) return *refused;
    if (n == 2) return list(broker_.exchanges(path_[1]), exchange_json);
    auto x = broker_.exchange(path_[1], exchange_from_path(path_[2]));
    return x ? json_answer(200, exchange_json(*x)) : not_found();
}

json::array Call::consumer_details(std::string_view vhost, std::string_view queue) const {
    json::array out;
    for (const ConsumerInfo& c : broker_.consumers(vhost))
        if (c.queue == queue) out.push_back(consumer_json(c));
    return out;
}

json::value Call::queue_json(const QueueInfo& q) const {
    return json::object{{"name", q.name},
                        {"vhost", q.vhost},
                        {"type", q.type},
                        {"durable", q.durable},
                        {"auto_delete", q.auto_delete},
                        {"exclusive", q.exclusive},
                        {"arguments", detail::to_json(q.arguments)},
                        {"state", "running"},
                        {"messages", q.messages},
                        {"messages_ready", q.messages_ready},
                        {"messages_unacknowledged", q.messages_unacknowledged},
                        {"message_bytes_ready", q.message_bytes_ready},
                        {"consumers", q.consumers}};
}

HttpResponse Call::queues() {
    const std::size_t n = path_.size();
    if (n == 4) {
        if (path_[3] == "get") {
            if (!is("POST")) return method_not_allowed("POST, OPTIONS");
            return get(path_[1], path_[2]);
        }
        if (path_[3] == "contents") {
            if (!is("DELETE")) return method_not_allowed("DELETE, OPTIONS");
            return purge_queue(path_[1], path_[2]);
        }
        if (path_[3] == "bindings") {
            if (!is("GET")) return method_not_allowed("HEAD, GET, OPTIONS");
            if (auto refused = check_vhost(path_[1])) return *refused;
            if (!broker_.queue(path_[1], path_[2])) return not_found();
            json::array out;
            for (const BindingInfo& b : sorted(broker_.bindings(path_[1])))
                if (b.destination_type == "queue" && b.destination == path_[2]) out.push_back(binding_json(b));
            return json_answer(200, out);
        }
        return not_found();
    }
    if (n > 3) return not_found();
    if (n == 3 && is("PUT")) return put_queue(path_[1], path_[2]);
    if (n == 3 && is("DELETE")) return delete_queue(path_[1], path_[2]);
    if (!is("GET")) return method_not_allowed(n == 3 ? "HEAD, GET, PUT, DELETE, OPTIONS" : "HEAD, GET, OPTIONS");
    auto to_json = [this](const QueueInfo& q) { return queue_json(q); };
    if (n == 1) return list(broker_.queues(), to_json);
    if (auto refused = check_vhost(path_[1])) return *refused;
    if (n == 2) return list(broker_.queues(path_[1]), to_json);
    auto q = broker_.queue(path_[1], path_[2]);
    if (!q) return not_found();
    json::value out = queue_json(*q);
    out.get_object()["consumer_details"] = consumer_details(q->vhost, q->name);
    return json_answer(200, out);
}

HttpResponse Call::bindings() {
    const std::size_t n = path_.size();
    if (n >= 5) return binding_route();
    if (n > 2) return not_found();
    if (!is("GET")) return method_not_allowed("HEAD, GET, OPTIONS");
    if (n == 2)
        if (auto refused = check_vhost(path_[1])) return *refused;
    return list(sorted(broker_.bindings(n == 2 ? std::string_view(path_[1]) : std::string_view{})), binding_json);
}

HttpResponse Call::connections(std::string_view vhost) {
    if (!is("GET")) return method_not_allowed("HEAD, GET, OPTIONS");
    const auto sessions = server_.sessions();
    json::array out;
    for (const ConnectionInfo& c : broker_.connections()) {
        if (!vhost.empty() && c.vhost != vhost) continue;
        // A management user sees its own connections; administrators and monitoring users all.
        if (!sees_all() && c.user != user_.name) continue;
        const SessionStats* s = nullptr;
        for (const SessionStats& candidate : sessions)
            if (candidate.broker_id == c.id) s = &candidate;
        if (!s) continue;  // the API's own direct connections are not listed
        const protocol::ConnectionInfo& info = s->connection;
        json::object props = detail::to_json(info.client_properties);
        out.push_back(json::object{{"name", fmt::format("{} -> {}", s->remote, server_.listening_on())},
                                   {"user", c.user},
                                   {"vhost", c.vhost},
                                   {"channels", c.channels},
                                   {"protocol", "AMQP 0-9-1"},
                                   {"auth_mechanism", info.mechanism},
                                   {"user_provided_name", c.name},
                                   {"state", "running"},
                                   {"type", "network"},
                                   {"ssl", false},
                                   {"channel_max", info.channel_max},
                                   {"frame_max", info.frame_max},
                                   {"timeout", info.heartbeat},
                                   {"peer_host", s->remote},
                                   {"client_properties", std::move(props)}});
    }
    return json_answer(200, out);
}

HttpResponse Call::channels(std::string_view vhost) {
    if (!is("GET")) return method_not_allowed("HEAD, GET, OPTIONS");
    json::array out;
    for (const ChannelInfo& c : broker_.channels()) {
        if (!vhost.empty() && c.vhost != vhost) continue;
        if (!sees_all() && c.user != user_.name) continue;
        out.push_back(json::object{{"name", fmt::format("connection {} ({})", c.connection, c.number)},
                                   {"number", c.number},
                                   {"user", c.user},
                                   {"vhost", c.vhost},
                                   {"consumer_count", c.consumer_count},
                                   {"prefetch_count", c.prefetch_count},
                                   {"global_prefetch_count", c.global_prefetch_count},
                                   {"confirm", c.confirm},
                                   {"transactional", c.transactional},
                                   {"state", "running"},
                                   {"messages_unacknowledged", c.messages_unacknowledged},
                                   {"messages_unconfirmed", 0},
                                   {"messages_uncommitted", c.messages_uncommitted},
                                   {"acks_uncommitted", c.acks_uncommitted}});
    }
    return json_answer(200, out);
}

HttpResponse Call::consumers() {
    if (!is("GET")) return method_not_allowed("HEAD, GET, OPTIONS");
    std::string_view vhost;
    if (path_.size() == 2) {
        vhost = path_[1];
        if (auto refused = check_vhost(vhost)) return *refused;
    }
    json::array out;
    for (const ConsumerInfo& c : broker_.consumers(vhost))
        if (may_see(c.vhost)) out.push_back(consumer_json(c));
    return json_answer(200, out);
}

HttpResponse Call::definitions() {
    if (path_.size() > 2) return not_found();
    if (!administrator()) return not_authorised("Not administrator user");
    const std::string vhost = path_.size() == 2 ? path_[1] : "";
    if (is("GET")) {
        if (!vhost.empty() && !vhost_exists(vhost)) return error_answer(400, "bad_request", "vhost_not_found");
        return HttpResponse{200, "application/json", broker_.export_definitions(vhost), {}};
    }
    if (is("POST")) {
        if (!vhost.empty() && !vhost_exists(vhost)) return error_answer(404, "not_found", "vhost_not_found");
        try {
            for (const std::string& w : broker_.import_definitions(request_.body, vhost, user_.name))
                server_.log().log(LogLevel::warning, "", "definitions: {}", w);
        } catch (const DefinitionsError& e) {
            return error_answer(400, "bad_request", json::parse(e.reason()));
        }
        server_.broker_touched();
        return no_content();
    }
    return method_not_allowed("HEAD, GET, POST, OPTIONS");
}

namespace {

/// The user of a Basic Authorization header, or why there is none.
std::optional<UserInfo> authenticate(Server& server, const HttpRequest& r, HttpResponse& refusal) {
    if (r.authorization.empty()) {
        refusal = HttpResponse{401, "", "", {{"WWW-Authenticate", "Basic realm=\"RabbitMQ Management\""}}};
        return std::nullopt;
    }
    refusal = login_failed();
    constexpr std::string_view scheme = "Basic ";
    if (!std::string_view(r.authorization).starts_with(scheme)) return std::nullopt;
    const std::string_view encoded = std::string_view(r.authorization).substr(scheme.size());
    // Beast's decoder writes up to two bytes past decoded_size() for a length that is not a
    // multiple of 4 (found by the fuzz target): room for them.
    std::string decoded(boost::beast::detail::base64::decoded_size(encoded.size()) + 3, '\0');
    const auto written = boost::beast::detail::base64::decode(decoded.data(), encoded.data(), encoded.size()).first;
    decoded.resize(written);
    const auto colon = decoded.find(':');
    if (colon == std::string::npos) return std::nullopt;
    const std::string name = decoded.substr(0, colon);
    if (!server.broker().authenticate(name, decoded.substr(colon + 1))) return std::nullopt;
    const auto& loopback = server.options().loopback_users;
    if (!r.peer_is_loopback && std::find(loopback.begin(), loopback.end(), name) != loopback.end())
        return std::nullopt;
    for (UserInfo& u : server.broker().users())
        if (u.name == name) return std::move(u);
    return std::nullopt;
}

/// "a%2Cb" and "+" in a query value.
std::string query_decode(std::string_view s) {
    std::string plus(s);
    std::replace(plus.begin(), plus.end(), '+', ' ');
    return percent_decode(plus).value_or(plus);
}

/// The member a sort key names ("name", "message_stats.publish"), or null.
const json::value* member_at(const json::value& v, std::string_view path) {
    const json::value* at = &v;
    while (at && at->is_object()) {
        const auto dot = path.find('.');
        at = at->get_object().if_contains(path.substr(0, dot));
        if (dot == std::string_view::npos) return at;
        path.remove_prefix(dot + 1);
    }
    return nullptr;
}

/// rabbit_mgmt_util's list options on a 200 list: sort / sort_reverse, columns, and
/// page / page_size (which turn the list into a page object).
HttpResponse shape_list(HttpResponse r, std::string_view query) {
    const auto sort = query_value(query, "sort");
    const auto reverse = query_value(query, "sort_reverse");
    const auto columns = query_value(query, "columns");
    const auto page = query_value(query, "page");
    if (r.status != 200 || r.content_type != "application/json" || (!sort && !columns && !page)) return r;
    boost::system::error_code ec;
    json::value body = json::parse(r.body, ec);
    if (ec) return r;
    auto shape = [&](json::value& v) {
        if (!columns || !v.is_object()) return;
        std::vector<std::string> keep;
        std::string_view rest = *columns;
        const std::string decoded = query_decode(rest);
        rest = decoded;
        for (;;) {
            const auto comma = rest.find(',');
            const std::string_view column = rest.substr(0, comma);
            keep.emplace_back(column.substr(0, column.find('.')));
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
        std::sort(keep.begin(), keep.end());
        keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
        json::object out;
        for (const std::string& k : keep)
            if (const json::value* m = v.get_object().if_contains(k)) out[k] = *m;
        v = std::move(out);
    };
    if (!body.is_array()) {
        shape(body);
        return json_answer(200, body);
    }
    json::array& items = body.get_array();
    if (sort && !sort->empty()) {
        const std::string key = query_decode(*sort);
        auto less = [&](const json::value& a, const json::value& b) {
            const json::value* x = member_at(a, key);
            const json::value* y = member_at(b, key);
            if (!x || !y) return x == nullptr && y != nullptr;
            if (x->is_number() && y->is_number()) return x->to_number<double>() < y->to_number<double>();
            if (x->is_string() && y->is_string()) return x->get_string() < y->get_string();
            return json::serialize(*x) < json::serialize(*y);
        };
        std::stable_sort(items.begin(), items.end(), less);
    }
    if (reverse == "true") std::reverse(items.begin(), items.end());
    for (json::value& v : items) shape(v);
    if (!page) return json_answer(200, body);
    auto number = [](const std::optional<std::string>& s, std::int64_t fallback) -> std::int64_t {
        try {
            return s ? std::stoll(*s) : fallback;
        } catch (const std::exception&) {
            return std::int64_t{-1};
        }
    };
    const std::int64_t page_number = number(page, 1);
    const std::int64_t page_size = number(query_value(query, "page_size"), 100);
    if (page_number < 1 || page_size < 1 || page_size > 500)
        return error_answer(400, "bad_request", "Invalid pagination parameters");
    const auto total = static_cast<std::int64_t>(items.size());
    const std::int64_t page_count = std::max<std::int64_t>(1, (total + page_size - 1) / page_size);
    json::array slice;
    for (std::int64_t i = (page_number - 1) * page_size; i < std::min(total, page_number * page_size); ++i)
        slice.push_back(items[static_cast<std::size_t>(i)]);
    const auto item_count = slice.size();
    return json_answer(200, json::object{{"filtered_count", total},
                                         {"item_count", item_count},
                                         {"items", std::move(slice)},
                                         {"page", page_number},
                                         {"page_count", page_count},
                                         {"page_size", page_size},
                                         {"total_count", total}});
}

/// RabbitMQ 3.10.8's management routes (rabbit_mgmt_dispatcher:dispatcher/0, ":name" matches
/// any one segment) and the methods each allows, as its 405 and OPTIONS answers list them.
/// Cowboy routes a request before its handler authenticates it, so a path matching none of
/// these and a method a route does not allow are answered without credentials.
struct Route {
    std::string_view pattern;
    std::string_view allow;
};

constexpr std::string_view get_only = "HEAD, GET, OPTIONS";
constexpr std::string_view get_put_delete = "HEAD, GET, PUT, DELETE, OPTIONS";
constexpr std::string_view get_post = "HEAD, GET, POST, OPTIONS";
constexpr std::string_view get_delete = "HEAD, GET, DELETE, OPTIONS";
constexpr std::string_view post_only = "POST, OPTIONS";

constexpr Route routes[] = {
    {"overview", get_only}, {"cluster-name", "HEAD, GET, PUT, OPTIONS"}, {"nodes", get_only},
    {"nodes/:", get_only}, {"nodes/:/memory", get_only}, {"nodes/:/memory/relative", get_only},
    {"nodes/:/memory/ets", get_only}, {"nodes/:/memory/ets/relative", get_only},
    {"nodes/:/memory/ets/:", get_only}, {"nodes/:/memory/ets/:/relative", get_only},
    {"extensions", get_only}, {"all-configuration", get_post}, {"definitions", get_post},
    {"definitions/:", get_post}, {"parameters", get_only}, {"parameters/:", get_only},
    {"parameters/:/:", get_only}, {"parameters/:/:/:", get_put_delete}, {"global-parameters", get_only},
    {"global-parameters/:", get_put_delete}, {"policies", get_only}, {"policies/:", get_only},
    {"policies/:/:", get_put_delete}, {"operator-policies", get_only}, {"operator-policies/:", get_only},
    {"operator-policies/:/:", get_put_delete}, {"vhost-limits/:/:", "PUT, DELETE, OPTIONS"},
    {"vhost-limits", "GET, OPTIONS"}, {"vhost-limits/:", "GET, OPTIONS"}, {"connections", get_only},
    {"connections/:", get_delete}, {"connections/username/:", get_delete}, {"connections/:/channels", get_only},
    {"channels", get_only}, {"channels/:", get_only}, {"consumers", get_only}, {"consumers/:", get_only},
    {"exchanges", get_only}, {"exchanges/:", get_only}, {"exchanges/:/:", get_put_delete},
    {"exchanges/:/:/publish", post_only}, {"exchanges/:/:/bindings/source", get_only},
    {"exchanges/:/:/bindings/destination", get_only}, {"queues", get_only}, {"queues/:", get_only},
    {"queues/:/:", get_put_delete}, {"queues/:/:/bindings", get_only}, {"queues/:/:/contents", "DELETE, OPTIONS"},
    {"queues/:/:/get", post_only}, {"queues/:/:/actions", post_only}, {"bindings", get_only},
    {"bindings/:", get_only}, {"bindings/:/e/:/:/:", get_post}, {"bindings/:/e/:/:/:/:", get_delete},
    {"vhosts", get_only}, {"vhosts/:", get_put_delete}, {"vhosts/:/start/:", post_only},
    {"vhosts/:/permissions", get_only}, {"vhosts/:/topic-permissions", get_only},
    {"vhosts/:/connections", get_only}, {"vhosts/:/channels", get_only}, {"users/bulk-delete", post_only},
    {"users/without-permissions", get_only}, {"users", get_only}, {"users/:", get_put_delete},
    {"users/:/permissions", get_only}, {"users/:/topic-permissions", get_only},
    {"user-limits/:/:", "PUT, DELETE, OPTIONS"}, {"user-limits", "GET, OPTIONS"}, {"user-limits/:", "GET, OPTIONS"},
    {"feature-flags", get_only}, {"feature-flags/:/enable", "PUT, OPTIONS"}, {"whoami", get_only},
    {"permissions", get_only}, {"permissions/:/:", get_put_delete}, {"topic-permissions", get_only},
    {"topic-permissions/:/:", get_put_delete}, {"topic-permissions/:/:/:", get_put_delete},
    {"aliveness-test/:", get_only}, {"healthchecks/node", get_only}, {"healthchecks/node/:", get_only},
    {"health/checks/alarms", get_only}, {"health/checks/local-alarms", get_only},
    {"health/checks/certificate-expiration/:/:", get_only}, {"health/checks/port-listener/:", get_only},
    {"health/checks/protocol-listener/:", get_only}, {"health/checks/virtual-hosts", get_only},
    {"health/checks/node-is-mirror-sync-critical", get_only}, {"health/checks/node-is-quorum-critical", get_only},
    {"reset", "DELETE, OPTIONS"}, {"reset/:", "DELETE, OPTIONS"}, {"rebalance/queues", post_only},
    {"auth", get_only}, {"auth/attempts/:", get_delete}, {"auth/attempts/:/source", get_delete},
    {"login", post_only},
    {"warren/trace-route/:/:", post_only},  // warren's own: the console's route tracer
};

/// The route the decoded segments after "/api/" take, or null.
const Route* find_route(const std::vector<std::string>& segments) {
    for (const Route& r : routes) {
        std::string_view rest = r.pattern;
        std::size_t i = 0;
        for (; i < segments.size() && !rest.empty(); ++i) {
            const std::size_t slash = std::min(rest.find('/'), rest.size());
            const std::string_view part = rest.substr(0, slash);
            if (part != ":" && part != segments[i]) break;
            rest.remove_prefix(std::min(slash + 1, rest.size()));
        }
        if (i == segments.size() && rest.empty()) return &r;
    }
    return nullptr;
}

bool allows(std::string_view allow, std::string_view method) {
    for (std::size_t at = 0; at < allow.size();) {
        const std::size_t comma = std::min(allow.find(',', at), allow.size());
        if (allow.substr(at, comma - at) == method) return true;
        at = comma + 2;
    }
    return false;
}

/// What RabbitMQ answers before authentication: an unrouted path (its not-found handler
/// allows HEAD, GET and OPTIONS, and refuses a segment holding an encoded '/'), a method the
/// route does not allow, OPTIONS. Null when the request goes on to authentication.
std::optional<HttpResponse> routing_answer(std::string_view method, const std::vector<std::string>& segments) {
    const Route* route = find_route(segments);
    const std::string_view allow = route ? route->allow : get_only;
    if (!allows(allow, method)) return method_not_allowed(allow);
    if (!route &&
        std::any_of(segments.begin(), segments.end(), [](const std::string& s) { return s.find('/') != s.npos; }))
        return no_content(400);
    if (method == "OPTIONS") {
        HttpResponse r = no_content(200);
        r.headers["Allow"] = std::string(allow);
        return r;
    }
    return route ? std::nullopt : std::optional(not_found());
}

HttpResponse console_file(std::string_view path) {
    if (path == "/" || path == "/index.html") return HttpResponse{200, "text/html", std::string(console_index_html), {}};
    if (path == "/console.js") return HttpResponse{200, "text/javascript", std::string(console_js), {}};
    if (path == "/console.css") return HttpResponse{200, "text/css", std::string(console_css), {}};
    return not_found();
}

}  // namespace

}  // namespace management

HttpResponse ManagementApi::handle(const HttpRequest& request) {
    using namespace management;
    const auto question = request.target.find('?');
    const std::string_view path = std::string_view(request.target).substr(0, question);
    const std::string query = question == std::string::npos ? "" : request.target.substr(question + 1);
    if (!path.starts_with("/api/")) {
        if (request.method != "GET" && request.method != "HEAD") return not_found();
        return console_file(path);
    }
    // Split before decoding: a name may hold an encoded '/'.
    std::vector<std::string> segments;
    for (std::size_t at = 5; at <= path.size();) {
        const std::size_t slash = std::min(path.find('/', at), path.size());
        auto segment = percent_decode(path.substr(at, slash - at));
        if (!segment) return no_content(400);  // Cowboy's answer to a broken escape
        segments.push_back(std::move(*segment));
        at = slash + 1;
    }
    // "/api/exchanges/v/" is "/api/exchanges/v".
    if (segments.size() > 1 && segments.back().empty()) segments.pop_back();
    if (segments.empty() || segments[0].empty()) return not_found();
    if (auto answer = routing_answer(request.method, segments)) return std::move(*answer);
    HttpResponse refusal;
    auto user = authenticate(server_, request, refusal);
    if (!user) return refusal;
    const bool management = std::any_of(user->tags.begin(), user->tags.end(), [](const std::string& t) {
        return t == "administrator" || t == "monitoring" || t == "policymaker" || t == "management";
    });
    if (!management) return not_authorised("Not management user");
    // HEAD is answered as GET; the listener sends the headers only.
    HttpRequest as_get;
    if (request.method == "HEAD") {
        as_get = request;
        as_get.method = "GET";
    }
    const HttpRequest& call = request.method == "HEAD" ? as_get : request;
    return shape_list(Call(server_, call, std::move(*user), std::move(segments), query).run(), query);
}

}  // namespace warren::server
