// The management API's message routes: POST /api/exchanges/{v}/{x}/publish and
// /api/queues/{v}/{q}/get (rabbit_mgmt_wm_exchange_publish, rabbit_mgmt_wm_queue_get), the
// aliveness test, and warren's own route trace for the console.
#include <boost/beast/core/detail/base64.hpp>
#include <boost/json/serialize.hpp>

#include "management_call.hpp"
#include "warren/emulator/detail/json.hpp"
#include "warren/protocol/content_header.hpp"
#include "warren/server/server.hpp"

namespace warren::server::management {

namespace {

/// "[{key_missing,a},{key_missing,b}]" for the members of `keys` that `o` lacks, as
/// rabbit_mgmt_util:with_decode reports them; empty when none is missing.
std::string missing_keys(const json::object& o, std::initializer_list<std::string_view> keys) {
    std::string missing;
    for (std::string_view key : keys)
        if (!o.contains(key)) missing += fmt::format("{}{{key_missing,{}}}", missing.empty() ? "" : ",", key);
    return missing.empty() ? missing : "[" + missing + "]";
}

HttpResponse bad_request(json::value reason) { return error_answer(400, "bad_request", std::move(reason)); }

struct Refusal {
    json::value reason;
};

bool has_null(const json::value& v) {
    if (v.is_null()) return true;
    if (v.is_object())
        for (const auto& [k, m] : v.get_object())
            if (has_null(m)) return true;
    if (v.is_array())
        for (const json::value& m : v.get_array())
            if (has_null(m)) return true;
    return false;
}

/// rabbit_mgmt_format:to_basic_properties: the JSON "properties" as AMQP basic properties.
BasicProperties to_properties(const json::object& o) {
    BasicProperties p;
    auto text = [&](std::string_view key) -> std::optional<std::string> {
        const json::value* v = o.if_contains(key);
        if (!v) return std::nullopt;
        if (v->is_string()) return std::string(v->get_string());
        return json::serialize(*v);
    };
    auto integer = [&](std::string_view key) -> std::optional<std::int64_t> {
        const json::value* v = o.if_contains(key);
        if (!v) return std::nullopt;
        if (!v->is_int64() && !v->is_uint64()) throw Refusal{json::array{"not_int", json::string(key)}};
        return v->to_number<std::int64_t>();
    };
    p.content_type = text("content_type");
    p.content_encoding = text("content_encoding");
    if (const json::value* h = o.if_contains("headers")) {
        if (has_null(*h)) throw Refusal{"null_not_allowed"};
        if (h->is_object()) p.headers = detail::table_from_json(h->get_object());
    }
    if (auto v = integer("delivery_mode")) p.delivery_mode = static_cast<std::uint8_t>(*v);
    if (auto v = integer("priority")) p.priority = static_cast<std::uint8_t>(*v);
    p.correlation_id = text("correlation_id");
    p.reply_to = text("reply_to");
    p.expiration = text("expiration");
    p.message_id = text("message_id");
    if (auto v = integer("timestamp")) p.timestamp = Timestamp{static_cast<std::uint64_t>(*v)};
    p.type = text("type");
    p.user_id = text("user_id");
    p.app_id = text("app_id");
    p.cluster_id = text("cluster_id");
    return p;
}

/// The properties as a content header carries them, with a `headers` table even when it is
/// empty (a publisher that gave "headers": {} gets it back from a get).
std::string encode_properties(const BasicProperties& p, bool empty_headers) {
    protocol::Bytes bytes;
    if (protocol::encode_basic_properties(p, bytes)) return {};
    if (empty_headers && p.headers.empty() && bytes.size() >= 2) {
        bytes[0] |= static_cast<std::uint8_t>(protocol::property_flag::headers >> 8);
        std::size_t at = 2;
        if (p.content_type) at += 1 + p.content_type->size();
        if (p.content_encoding) at += 1 + p.content_encoding->size();
        bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at), 4, 0);
    }
    return std::string(bytes.begin(), bytes.end());
}

/// rabbit_mgmt_format:basic_properties: the set properties, `[]` when there are none.
json::value properties_json(const emulator::StoredMessage& m) {
    const BasicProperties& p = m.properties();
    const std::string_view encoded = m.encoded_properties();
    const bool headers = !p.headers.empty() ||
                         (encoded.size() >= 2 && (static_cast<std::uint8_t>(encoded[0]) << 8 & protocol::property_flag::headers));
    json::object o;
    auto put = [&](std::string_view key, const std::optional<std::string>& v) {
        if (v) o[key] = *v;
    };
    put("content_type", p.content_type);
    put("content_encoding", p.content_encoding);
    if (headers) o["headers"] = detail::to_json(p.headers);
    if (p.delivery_mode) o["delivery_mode"] = *p.delivery_mode;
    if (p.priority) o["priority"] = *p.priority;
    put("correlation_id", p.correlation_id);
    put("reply_to", p.reply_to);
    put("expiration", p.expiration);
    put("message_id", p.message_id);
    if (p.timestamp) o["timestamp"] = p.timestamp->seconds;
    put("type", p.type);
    put("user_id", p.user_id);
    put("app_id", p.app_id);
    put("cluster_id", p.cluster_id);
    if (o.empty()) return json::array{};
    return o;
}

bool is_utf8(std::string_view s) {
    static constexpr std::uint32_t least[] = {0, 0x80, 0x800, 0x10000};
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 4;
        if (n == 4 || i + n >= s.size()) return false;
        std::uint32_t cp = n == 0 ? c : c & (0x3fu >> n);
        for (std::size_t k = 1; k <= n; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc >> 6) != 2) return false;
            cp = cp << 6 | (cc & 0x3fu);
        }
        // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
        if (cp < least[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return false;
        i += n + 1;
    }
    return true;
}

std::optional<std::string> base64_decode(std::string_view text) {
    namespace b64 = boost::beast::detail::base64;
    if (text.size() % 4 != 0) return std::nullopt;
    const std::size_t data = text.find_last_not_of('=') + 1;
    if (text.size() - data > 2) return std::nullopt;
    for (std::size_t i = 0; i < data; ++i)
        if (!std::isalnum(static_cast<unsigned char>(text[i])) && text[i] != '+' && text[i] != '/') return std::nullopt;
    std::string out(b64::decoded_size(text.size()) + 3, '\0');  // see authenticate()
    out.resize(b64::decode(out.data(), text.data(), text.size()).first);
    return out;
}

std::string base64_encode(std::string_view bytes) {
    namespace b64 = boost::beast::detail::base64;
    std::string out(b64::encoded_size(bytes.size()), '\0');
    out.resize(b64::encode(out.data(), bytes.data(), bytes.size()));
    return out;
}

}  // namespace

HttpResponse Call::publish(const std::string& vhost, const std::string& exchange) {
    if (auto refused = check_vhost(vhost)) return *refused;
    auto body = object_body(request_.body);
    if (!body) return not_json();
    if (auto missing = missing_keys(*body, {"routing_key", "properties", "payload", "payload_encoding"}); !missing.empty())
        return bad_request(json::string(missing));
    Message message;
    bool empty_headers = false;
    try {
        const json::value& props = body->at("properties");
        if (props.is_object()) {
            message.properties = to_properties(props.get_object());
            const json::value* h = props.get_object().if_contains("headers");
            empty_headers = h && h->is_object() && h->get_object().empty();
        }
    } catch (const Refusal& r) {
        return bad_request(r.reason);
    }
    const json::value& payload = body->at("payload");
    const std::string text = payload.is_string() ? std::string(payload.get_string()) : json::serialize(payload);
    const json::value& encoding = body->at("payload_encoding");
    const std::string enc = encoding.is_string() ? std::string(encoding.get_string()) : json::serialize(encoding);
    if (enc == "string") {
        message.body = text;
    } else if (enc == "base64") {
        auto decoded = base64_decode(text);
        if (!decoded) return bad_request(json::array{"not_base64", json::string(text)});
        message.body = std::move(*decoded);
    } else {
        return bad_request(json::array{"unsupported_encoding", json::string(enc)});
    }
    const json::value* key = body->if_contains("routing_key");
    emulator::BasicPublish m;
    m.exchange = exchange;
    m.routing_key = key->is_string() ? std::string(key->get_string()) : json::serialize(*key);
    // rabbit_mgmt_wm_exchange_publish publishes mandatory and reports whether it came back.
    m.mandatory = true;
    const std::string encoded = encode_properties(message.properties, empty_headers);
    DirectChannel ch(broker_, vhost, user_.name);
    Status done = ch.open_error() ? Status(*ch.open_error())
                                  : ch.methods().basic_publish(ch.ref(), m, std::move(message), encoded);
    if (!done) return bad_request(json::string(fmt::format("{} {}", done.error().reply_code(), done.error().reply_text())));
    server_.broker_touched();
    return json_answer(200, json::object{{"routed", !ch.returned()}});
}

HttpResponse Call::get(const std::string& vhost, const std::string& queue) {
    if (auto refused = check_vhost(vhost)) return *refused;
    auto body = object_body(request_.body);
    if (!body) return not_json();
    if (auto missing = missing_keys(*body, {"ackmode", "count", "encoding"}); !missing.empty())
        return bad_request(json::string(missing));
    auto string_of = [](const json::value& v) { return v.is_string() ? std::string(v.get_string()) : json::serialize(v); };
    auto int_of = [&](const json::value& v) -> std::optional<std::int64_t> {
        if (v.is_int64() || v.is_uint64()) return v.to_number<std::int64_t>();
        try {
            return std::stoll(string_of(v));
        } catch (const std::exception&) {
            return std::nullopt;
        }
    };
    const std::string ackmode = string_of(body->at("ackmode"));
    if (ackmode != "ack_requeue_true" && ackmode != "ack_requeue_false" && ackmode != "reject_requeue_true" &&
        ackmode != "reject_requeue_false")
        return bad_request(json::string(fmt::format("unknown ackmode '{}'", ackmode)));
    // rabbit_mgmt_util:parse_int/1 names the value it could not read.
    auto count = int_of(body->at("count"));
    if (!count) return bad_request(json::array{"not_integer", body->at("count")});
    const std::string encoding = string_of(body->at("encoding"));
    if (encoding != "auto" && encoding != "base64")
        return bad_request("Unsupported encoding. Please use auto or base64.");
    std::optional<std::int64_t> truncate;
    if (const json::value* t = body->if_contains("truncate")) {
        truncate = int_of(*t);
        if (!truncate) return bad_request(json::array{"not_integer", *t});
    }
    auto failure = [](const AmqpError& e) {
        switch (e.code()) {
            case ReplyCode::AccessRefused: return not_authorised(e.reply_text());
            case ReplyCode::NotFound: return error_answer(404, "not_found", json::string(e.reply_text()));
            default: return bad_request(json::string(fmt::format("{} {}", e.reply_code(), explanation(e))));
        }
    };
    DirectChannel ch(broker_, vhost, user_.name);
    if (ch.open_error()) return failure(*ch.open_error());
    // rabbit_mgmt_wm_queue_get: gets first, rejects after (a requeued message would come back
    // at once); ack_requeue_true leaves its messages unacknowledged until the channel closes.
    const bool no_ack = ackmode == "ack_requeue_false";
    std::vector<std::uint64_t> tags;
    json::array out;
    for (std::int64_t i = 0; i < *count; ++i) {
        auto got = ch.methods().basic_get(ch.ref(), queue, no_ack);
        if (!got) return failure(got.error());
        if (!got.value()) break;
        const emulator::GetOk& ok = *got.value();
        const emulator::StoredMessage& msg = *ok.message;
        std::string payload = msg.body();
        if (truncate && *truncate >= 0 && static_cast<std::size_t>(*truncate) < payload.size())
            payload.resize(static_cast<std::size_t>(*truncate));
        const bool as_string = encoding == "auto" && is_utf8(payload);
        out.push_back(json::object{{"payload_bytes", msg.body_size()},
                                   {"redelivered", ok.redelivered},
                                   {"exchange", msg.exchange()},
                                   {"routing_key", msg.routing_key()},
                                   {"message_count", ok.message_count},
                                   {"properties", properties_json(msg)},
                                   {"payload", as_string ? payload : base64_encode(payload)},
                                   {"payload_encoding", as_string ? "string" : "base64"}});
        tags.push_back(ok.delivery_tag);
    }
    if (ackmode.starts_with("reject"))
        for (std::uint64_t tag : tags)
            if (auto done = ch.methods().basic_reject(ch.ref(), tag, ackmode == "reject_requeue_true"); !done)
                return failure(done.error());
    server_.broker_touched();
    return json_answer(200, out);
}

HttpResponse Call::aliveness_test(const std::string& vhost) {
    if (auto refused = check_vhost(vhost)) return *refused;
    // rabbit_mgmt_wm_aliveness_test: declare "aliveness-test", publish to it, get it back.
    DirectChannel ch(broker_, vhost, user_.name);
    auto failure = [](const AmqpError& e) {
        return e.code() == ReplyCode::AccessRefused ? not_authorised(e.reply_text())
                                                     : error_answer(400, "bad_request", json::string(e.reply_text()));
    };
    if (ch.open_error()) return failure(*ch.open_error());
    const std::string queue = "aliveness-test";
    if (auto q = ch.methods().queue_declare(ch.ref(), {queue}); !q) return failure(q.error());
    emulator::BasicPublish m;
    m.routing_key = queue;
    if (auto p = ch.methods().basic_publish(ch.ref(), m, Message{"test_message", {}}); !p) return failure(p.error());
    auto got = ch.methods().basic_get(ch.ref(), queue, true);
    if (!got) return failure(got.error());
    if (!got.value() || got.value()->message->body() != "test_message")
        return error_answer(500, "failed", "aliveness test failed");
    return json_answer(200, json::object{{"status", "ok"}});
}

HttpResponse Call::trace_route(const std::string& vhost, const std::string& exchange) {
    if (auto refused = check_vhost(vhost)) return *refused;
    auto body = object_body(request_.body);
    if (!body) return not_json();
    std::string key;
    if (const json::value* k = body->if_contains("routing_key"); k && k->is_string()) key = k->get_string();
    FieldTable headers;
    if (const json::value* h = body->if_contains("headers"); h && h->is_object())
        headers = detail::table_from_json(h->get_object());
    const RouteTrace t = broker_.trace_route(vhost, exchange, key, headers);
    json::array bindings;
    for (const BindingVerdict& b : t.bindings)
        bindings.push_back(json::object{{"source", b.source},
                                        {"destination", b.destination},
                                        {"destination_type", b.destination_is_queue ? "queue" : "exchange"},
                                        {"routing_key", b.binding_key},
                                        {"arguments", detail::to_json(b.arguments)},
                                        {"matched", b.matched},
                                        {"reason", b.reason}});
    json::array queues, alternates;
    for (const std::string& q : t.queues) queues.emplace_back(q);
    for (const std::string& a : t.alternate_exchanges) alternates.emplace_back(a);
    json::value error = nullptr;
    if (t.error) error = json::object{{"code", t.error->reply_code()}, {"text", t.error->reply_text()}};
    return json_answer(200, json::object{{"exchange", t.exchange},
                                         {"routing_key", t.routing_key},
                                         {"queues", std::move(queues)},
                                         {"alternate_exchanges", std::move(alternates)},
                                         {"bindings", std::move(bindings)},
                                         {"error", std::move(error)}});
}

}  // namespace warren::server::management
