// ManagementApi: RabbitMQ 3.10.8's management HTTP API routes over the server's Broker, and
// the console's files. Answers recorded on 3.10.8 (conformance/management/golden.json).
#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "warren/emulator/detail/json.hpp"
#include "warren/server/management.hpp"
#include "warren/server/server.hpp"

namespace warren::server {

// The console's files (management_console.cpp, generated from server/management/console/).
extern const std::string_view console_index_html;
extern const std::string_view console_js;
extern const std::string_view console_css;

namespace {

namespace json = boost::json;
constexpr std::string_view version = "3.10.8";

HttpResponse json_answer(unsigned status, const json::value& body) {
    return HttpResponse{status, "application/json", json::serialize(body), {}};
}

HttpResponse error_answer(unsigned status, std::string_view error, json::value reason) {
    return json_answer(status, json::object{{"error", error}, {"reason", std::move(reason)}});
}

HttpResponse not_found() { return error_answer(404, "Object Not Found", "Not Found"); }

HttpResponse not_authorised(std::string_view reason) { return error_answer(401, "not_authorised", json::string(reason)); }

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

json::array tags_json(const std::vector<std::string>& tags) {
    json::array out;
    for (const auto& t : tags) out.emplace_back(t);
    return out;
}

json::object queue_json(const QueueInfo& q) {
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

json::object exchange_json(const ExchangeInfo& x) {
    return json::object{{"name", x.name},
                        {"vhost", x.vhost},
                        {"type", x.type},
                        {"durable", x.durable},
                        {"auto_delete", x.auto_delete},
                        {"internal", x.internal},
                        {"arguments", detail::to_json(x.arguments)}};
}

/// rabbit_mgmt_format's properties key: "~" for an empty key, else the key quoted as a URL
/// form value; a binding with arguments adds "~" and a digest of them.
std::string properties_key(const BindingInfo& b) {
    std::string key;
    for (unsigned char c : b.routing_key) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') key += static_cast<char>(c);
        else key += fmt::format("%{:02X}", c);
    }
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

/// One request: who asks, and the path's segments after "/api".
class Call {
public:
    Call(Server& server, const HttpRequest& request, UserInfo user, std::vector<std::string> path,
         std::string query)
        : server_(server), broker_(server.broker()), request_(request), user_(std::move(user)),
          path_(std::move(path)), query_(std::move(query)) {}

    HttpResponse run();

private:
    bool administrator() const { return has_tag(user_, "administrator"); }
    /// Sees every vhost's objects (administrator, monitoring), or only those of the vhosts it
    /// has permissions in.
    bool sees_all() const { return administrator() || has_tag(user_, "monitoring"); }
    bool may_see(std::string_view vhost) const {
        if (sees_all()) return true;
        for (const PermissionInfo& p : broker_.permissions(vhost))
            if (p.user == user_.name) return true;
        return false;
    }
    bool vhost_exists(std::string_view v) const {
        const auto all = broker_.vhosts();
        return std::find(all.begin(), all.end(), v) != all.end();
    }
    /// Allow: for a 405.
    HttpResponse method_not_allowed(std::string_view allow) const {
        HttpResponse r{405, "", "", {}};
        r.headers["Allow"] = std::string(allow);
        return r;
    }
    bool is(std::string_view method) const { return request_.method == method; }

    template <class Info, class ToJson>
    HttpResponse list(const std::vector<Info>& items, ToJson to_json) const {
        json::array out;
        for (const Info& i : items)
            if (may_see(i.vhost)) out.push_back(to_json(i));
        return json_answer(200, out);
    }

    HttpResponse overview();
    HttpResponse vhosts();
    HttpResponse users();
    HttpResponse permissions();
    HttpResponse exchanges();
    HttpResponse queues();
    HttpResponse bindings();
    HttpResponse definitions();

    Server& server_;
    Broker& broker_;
    const HttpRequest& request_;
    UserInfo user_;
    std::vector<std::string> path_;
    std::string query_;
};

HttpResponse Call::run() {
    const std::string& what = path_[0];
    if (what == "overview") return overview();
    if (what == "whoami") {
        if (!is("GET")) return method_not_allowed("HEAD, GET, OPTIONS");
        return json_answer(200, json::object{{"name", user_.name}, {"tags", tags_json(user_.tags)}});
    }
    if (what == "healthchecks" && path_.size() == 2 && path_[1] == "node")
        return json_answer(200, json::object{{"status", "ok"}});
    if (what == "vhosts") return vhosts();
    if (what == "users") return users();
    if (what == "permissions") return permissions();
    if (what == "exchanges") return exchanges();
    if (what == "queues") return queues();
    if (what == "bindings") return bindings();
    if (what == "definitions") return definitions();
    return not_found();
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
    if (path_.size() > 2) return not_found();
    if (!is("GET")) return method_not_allowed("HEAD, GET, PUT, DELETE, OPTIONS");
    std::vector<VHostInfo> all = broker_.vhost_infos();
    if (path_.size() == 2) {
        for (const VHostInfo& v : all)
            if (v.name == path_[1] && may_see(v.name)) return json_answer(200, vhost_json(v));
        return not_found();
    }
    json::array out;
    for (const VHostInfo& v : all)
        if (may_see(v.name)) out.push_back(vhost_json(v));
    return json_answer(200, out);
}

HttpResponse Call::users() {
    if (!administrator()) return not_authorised("Not administrator user");
    if (path_.size() > 2) return not_found();
    if (!is("GET")) return method_not_allowed("HEAD, GET, PUT, DELETE, OPTIONS");
    json::array out;
    for (const UserInfo& u : broker_.users()) {
        if (path_.size() == 2 && u.name == path_[1]) return json_answer(200, user_json(u));
        out.push_back(user_json(u));
    }
    if (path_.size() == 2) return not_found();
    return json_answer(200, out);
}

HttpResponse Call::permissions() {
    if (!administrator()) return not_authorised("Not administrator user");
    if (path_.size() != 1 && path_.size() != 3) return not_found();
    if (!is("GET")) return method_not_allowed("HEAD, GET, PUT, DELETE, OPTIONS");
    std::vector<PermissionInfo> all = broker_.permissions();
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
        return std::tie(a.vhost, a.user) < std::tie(b.vhost, b.user);
    });
    json::array out;
    for (const PermissionInfo& p : all) {
        if (path_.size() == 3 && p.vhost == path_[1] && p.user == path_[2]) return json_answer(200, permission_json(p));
        out.push_back(permission_json(p));
    }
    if (path_.size() == 3) return not_found();
    return json_answer(200, out);
}

HttpResponse Call::exchanges() {
    if (path_.size() > 3) return not_found();
    if (!is("GET")) return path_.size() == 3 ? method_not_allowed("HEAD, GET, PUT, DELETE, OPTIONS") : not_found();
    if (path_.size() == 1) return list(broker_.exchanges(), exchange_json);
    if (!vhost_exists(path_[1])) return not_found();
    if (!may_see(path_[1])) return not_authorised("User not authorised to access virtual host");
    if (path_.size() == 2) return list(broker_.exchanges(path_[1]), exchange_json);
    auto x = broker_.exchange(path_[1], exchange_from_path(path_[2]));
    return x ? json_answer(200, exchange_json(*x)) : not_found();
}

HttpResponse Call::queues() {
    if (path_.size() > 3) return not_found();
    if (!is("GET")) return path_.size() == 3 ? method_not_allowed("HEAD, GET, PUT, DELETE, OPTIONS") : not_found();
    if (path_.size() == 1) return list(broker_.queues(), queue_json);
    if (!vhost_exists(path_[1])) return not_found();
    if (!may_see(path_[1])) return not_authorised("User not authorised to access virtual host");
    if (path_.size() == 2) return list(broker_.queues(path_[1]), queue_json);
    auto q = broker_.queue(path_[1], path_[2]);
    return q ? json_answer(200, queue_json(*q)) : not_found();
}

HttpResponse Call::bindings() {
    if (path_.size() > 2) return not_found();
    if (!is("GET")) return not_found();
    if (path_.size() == 2) {
        if (!vhost_exists(path_[1])) return not_found();
        if (!may_see(path_[1])) return not_authorised("User not authorised to access virtual host");
    }
    std::vector<BindingInfo> all = broker_.bindings(path_.size() == 2 ? std::string_view(path_[1]) : std::string_view{});
    std::stable_sort(all.begin(), all.end(), [](const BindingInfo& a, const BindingInfo& b) {
        return std::tie(a.vhost, a.source, a.destination, a.routing_key) <
               std::tie(b.vhost, b.source, b.destination, b.routing_key);
    });
    return list(all, binding_json);
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
            for (const std::string& w : broker_.import_definitions(request_.body, vhost))
                server_.log().log(LogLevel::warning, "", "definitions: {}", w);
        } catch (const DefinitionsError& e) {
            return error_answer(400, "bad_request", json::parse(e.reason()));
        }
        server_.broker_touched();
        return HttpResponse{204, "", "", {}};
    }
    return method_not_allowed("HEAD, GET, POST, OPTIONS");
}

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
    std::string decoded(boost::beast::detail::base64::decoded_size(encoded.size()), '\0');
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

HttpResponse console_file(std::string_view path) {
    if (path == "/" || path == "/index.html") return HttpResponse{200, "text/html", std::string(console_index_html), {}};
    if (path == "/console.js") return HttpResponse{200, "text/javascript", std::string(console_js), {}};
    if (path == "/console.css") return HttpResponse{200, "text/css", std::string(console_css), {}};
    return not_found();
}

}  // namespace

HttpResponse ManagementApi::handle(const HttpRequest& request) {
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
        if (!segment) return not_found();
        segments.push_back(std::move(*segment));
        at = slash + 1;
    }
    // "/api/exchanges/v/" is "/api/exchanges/v".
    if (segments.size() > 1 && segments.back().empty()) segments.pop_back();
    if (segments.empty() || segments[0].empty()) return not_found();
    HttpResponse refusal;
    auto user = authenticate(server_, request, refusal);
    if (!user) return refusal;
    const bool management = std::any_of(user->tags.begin(), user->tags.end(), [](const std::string& t) {
        return t == "administrator" || t == "monitoring" || t == "policymaker" || t == "management";
    });
    if (!management) return not_authorised("Not management user");
    return Call(server_, request, std::move(*user), std::move(segments), query).run();
}

}  // namespace warren::server
