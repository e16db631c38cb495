#include "transcript.hpp"

#include <fmt/format.h>

namespace warren::conformance {
namespace {

// Direct reply-to's rewritten reply_to: the prefix, then an opaque suffix that has dots in it.
constexpr std::string_view reply_to_prefix = "amq.rabbitmq.reply-to.";
constexpr std::string_view generated_prefixes[] = {"amq.gen-", "amq.ctag-", reply_to_prefix};

bool is_generated_char(char c, bool dots) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '+' || c == '/' || c == '=' || (dots && c == '.');
}

std::string_view type_tag(FieldValue::Type t) {
    using T = FieldValue::Type;
    switch (t) {
    case T::Void: return "void";
    case T::Bool: return "bool";
    case T::Int8: return "int8";
    case T::UInt8: return "uint8";
    case T::Int16: return "int16";
    case T::UInt16: return "uint16";
    case T::Int32: return "int32";
    case T::UInt32: return "uint32";
    case T::Int64: return "int64";
    case T::UInt64: return "uint64";
    case T::Float: return "float";
    case T::Double: return "double";
    case T::Decimal: return "decimal";
    case T::String: return "str";
    case T::Bytes: return "bytes";
    case T::Timestamp: return "timestamp";
    case T::Table: return "table";
    case T::Array: return "array";
    }
    return "?";
}

// `in_x_death`: inside the x-death header, whose "time" entries RabbitMQ stamps with its clock.
std::string describe_value(const FieldValue& v, bool in_x_death);

std::string describe_table(const FieldTable& t, bool in_x_death) {
    std::string out = "{";
    bool first = true;
    for (const auto& [key, value] : t) {
        if (!first) out += ", ";
        first = false;
        out += quote(key);
        out += '=';
        if (in_x_death && key == "time" && value.type() == FieldValue::Type::Timestamp)
            out += "timestamp:<masked>";
        else
            out += describe_value(value, in_x_death || key == "x-death");
    }
    return out + "}";
}

std::string describe_value(const FieldValue& v, bool in_x_death) {
    using T = FieldValue::Type;
    const auto tag = type_tag(v.type());
    switch (v.type()) {
    case T::Void: return "void";
    case T::Bool: return fmt::format("bool:{}", v.as_bool());
    case T::Int8: case T::UInt8: case T::Int16: case T::UInt16: case T::Int32: case T::UInt32:
    case T::Int64: return fmt::format("{}:{}", tag, v.as_int());
    case T::UInt64: return fmt::format("uint64:{}", std::get<std::uint64_t>(v.storage()));
    case T::Float: return fmt::format("float:{}", std::get<float>(v.storage()));
    case T::Double: return fmt::format("double:{}", std::get<double>(v.storage()));
    case T::Decimal: {
        const Decimal d = v.as_decimal();
        return fmt::format("decimal:{}e-{}", d.value, d.scale);
    }
    case T::String: return fmt::format("str:{}", quote(v.as_string()));
    case T::Bytes: return fmt::format("bytes:{}", quote(v.as_bytes().bytes));
    case T::Timestamp: return fmt::format("timestamp:{}", v.as_timestamp().seconds);
    case T::Table: return describe_table(v.as_table(), in_x_death);
    case T::Array: {
        std::string out = "[";
        bool first = true;
        for (const auto& item : v.as_array()) {
            if (!first) out += ", ";
            first = false;
            out += describe_value(item, in_x_death);
        }
        return out + "]";
    }
    }
    return "?";
}

}  // namespace

std::string quote(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c >= 0x7f) out += fmt::format("\\x{:02x}", c);
            else out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::string describe(const FieldValue& v) { return describe_value(v, false); }
std::string describe(const FieldTable& t) { return describe_table(t, false); }

std::string describe(const BasicProperties& p) {
    std::vector<std::string> parts;
    auto text = [&](std::string_view name, const std::optional<std::string>& v) {
        if (v) parts.push_back(fmt::format("{}={}", name, quote(*v)));
    };
    auto octet = [&](std::string_view name, const std::optional<std::uint8_t>& v) {
        if (v) parts.push_back(fmt::format("{}={}", name, *v));
    };
    text("content_type", p.content_type);
    text("content_encoding", p.content_encoding);
    if (!p.headers.empty()) parts.push_back(fmt::format("headers={}", describe(p.headers)));
    octet("delivery_mode", p.delivery_mode);
    octet("priority", p.priority);
    text("correlation_id", p.correlation_id);
    text("reply_to", p.reply_to);
    text("expiration", p.expiration);
    text("message_id", p.message_id);
    if (p.timestamp) parts.push_back(fmt::format("timestamp={}", p.timestamp->seconds));
    text("type", p.type);
    text("user_id", p.user_id);
    text("app_id", p.app_id);
    text("cluster_id", p.cluster_id);
    return fmt::format("props{{{}}}", fmt::join(parts, ", "));
}

std::string describe(const Delivery& d) {
    if (!d.consumer_tag.empty())
        return fmt::format("deliver tag={} redelivered={} exchange={} routing_key={} consumer_tag={} "
                           "body={} {}",
                           d.delivery_tag, d.redelivered, quote(d.exchange), quote(d.routing_key),
                           quote(d.consumer_tag), quote(d.message.body), describe(d.message.properties));
    return fmt::format("get-ok tag={} redelivered={} exchange={} routing_key={} message_count={} body={} {}",
                       d.delivery_tag, d.redelivered, quote(d.exchange), quote(d.routing_key),
                       d.message_count, quote(d.message.body), describe(d.message.properties));
}

std::string describe(const Returned& r) {
    return fmt::format("return {} {} exchange={} routing_key={} body={} {}", r.reply_code,
                       quote(r.reply_text), quote(r.exchange), quote(r.routing_key), quote(r.message.body),
                       describe(r.message.properties));
}

std::string describe(const QueueDeclareOk& ok) {
    return fmt::format("declare-ok queue={} messages={} consumers={}", quote(ok.queue), ok.message_count,
                       ok.consumer_count);
}

std::string describe(const AmqpError& e) {
    return fmt::format("{} {} (class {}, method {})", e.reply_code(), quote(e.reply_text()), e.class_id(),
                       e.method_id());
}

std::string Transcript::mask(std::string_view line) {
    std::string out;
    std::size_t i = 0;
    while (i < line.size()) {
        std::string_view prefix;
        for (auto p : generated_prefixes)
            if (line.substr(i, p.size()) == p) prefix = p;
        if (prefix.empty()) {
            out += line[i++];
            continue;
        }
        std::size_t end = i + prefix.size();
        while (end < line.size() && is_generated_char(line[end], prefix == reply_to_prefix)) ++end;
        const std::string_view name = line.substr(i, end - i);
        auto it = generated_.find(name);
        if (it == generated_.end())
            it = generated_.emplace(std::string(name), fmt::format("{}<{}>", prefix, ++generated_count_)).first;
        out += it->second;
        i = end;
    }
    return out;
}

void Transcript::add(std::string_view line) { lines_.push_back(mask(line)); }

std::string Transcript::text() const {
    std::string out;
    for (const auto& l : lines_) {
        out += l;
        out += '\n';
    }
    return out;
}

Transcript Transcript::parse(std::string_view text) {
    Transcript t;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        t.lines_.emplace_back(text.substr(0, nl));
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return t;
}

}  // namespace warren::conformance
