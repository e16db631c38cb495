#include "warren/amqp/uri.hpp"

#include <charconv>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "warren/errors.hpp"

namespace warren::amqp {
namespace {

/// `uri` with its password replaced by "***", so that an error message can show it.
std::string redacted(std::string_view uri) {
    std::size_t start = uri.find("://");
    if (start == std::string_view::npos) return std::string(uri);
    start += 3;
    std::size_t at = uri.find('@', start);
    std::size_t colon = uri.find(':', start);
    if (at == std::string_view::npos || colon > at || uri.substr(start, at - start).find('/') !=
                                                          std::string_view::npos)
        return std::string(uri);
    return fmt::format("{}***{}", uri.substr(0, colon + 1), uri.substr(at));
}

[[noreturn]] void reject(std::string_view uri, std::string_view why) {
    throw ClientError(fmt::format("invalid AMQP URI '{}': {}", redacted(uri), why));
}

bool is_unreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

bool is_sub_delim(char c) {
    return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}

std::optional<int> hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return std::nullopt;
}

/// Percent-decodes `part`, the URI's `what`; besides unreserved characters and
/// percent-escapes it may hold sub-delims and the characters in `also`.
std::string decode(std::string_view uri, std::string_view part, std::string_view what,
                   std::string_view also = "") {
    std::string out;
    out.reserve(part.size());
    for (std::size_t i = 0; i < part.size(); ++i) {
        const char c = part[i];
        if (c == '%') {
            std::optional<int> hi = i + 1 < part.size() ? hex_value(part[i + 1]) : std::nullopt;
            std::optional<int> lo = i + 2 < part.size() ? hex_value(part[i + 2]) : std::nullopt;
            if (!hi || !lo)
                reject(uri, fmt::format("bad percent-escape in the {}: a '%' must be followed "
                                        "by two hexadecimal digits",
                                        what));
            out.push_back(static_cast<char>(*hi * 16 + *lo));
            i += 2;
        } else if (is_unreserved(c) || is_sub_delim(c) ||
                   also.find(c) != std::string_view::npos) {
            out.push_back(c);
        } else {
            reject(uri, fmt::format("the {} may not contain '{}' unencoded", what, c));
        }
    }
    return out;
}

template <class Int>
Int parse_number(std::string_view uri, std::string_view digits, std::string_view what,
                 Int min, Int max) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        value < min || value > max)
        reject(uri, fmt::format("the {} must be a number from {} to {}, not '{}'", what, min,
                                max, digits));
    return static_cast<Int>(value);
}

void parse_authority(std::string_view uri, std::string_view authority, Uri& out) {
    std::string_view hostport = authority;
    if (std::size_t at = authority.find('@'); at != std::string_view::npos) {
        std::string_view userinfo = authority.substr(0, at);
        hostport = authority.substr(at + 1);
        std::size_t colon = userinfo.find(':');
        out.user = decode(uri, userinfo.substr(0, colon), "user name");
        if (colon != std::string_view::npos)
            out.password = decode(uri, userinfo.substr(colon + 1), "password", ":");
    }

    std::string_view host = hostport;
    std::optional<std::string_view> port;
    if (hostport.starts_with('[')) {
        std::size_t close = hostport.find(']');
        if (close == std::string_view::npos) reject(uri, "an IPv6 address lacks its ']'");
        host = hostport.substr(1, close - 1);
        std::string_view rest = hostport.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') reject(uri, "expected ':port' after the IPv6 address");
            port = rest.substr(1);
        }
        for (char c : host)
            if (!hex_value(c) && c != ':' && c != '.')
                reject(uri, fmt::format("'{}' is not an IPv6 address", host));
        if (host.empty()) reject(uri, "the IPv6 address is empty");
        out.host = std::string(host);
    } else {
        if (std::size_t colon = hostport.find(':'); colon != std::string_view::npos) {
            host = hostport.substr(0, colon);
            port = hostport.substr(colon + 1);
        }
        if (!host.empty()) out.host = decode(uri, host, "host");
    }
    // RFC 3986: an empty port, as in "host:", is the same as no port.
    if (port && !port->empty())
        out.port = parse_number<std::uint16_t>(uri, *port, "port", 1, 65535);
}

void parse_query(std::string_view uri, std::string_view query, Uri& out) {
    while (!query.empty()) {
        std::size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (pair.empty()) continue;

        std::size_t eq = pair.find('=');
        std::string key = decode(uri, pair.substr(0, eq), "query", "/?:@");
        std::string value =
            eq == std::string_view::npos ? "" : decode(uri, pair.substr(eq + 1), "query", "/?:@");
        if (key == "heartbeat") {
            out.heartbeat = parse_number<std::uint16_t>(uri, value, "heartbeat", 0, 65535);
        } else if (key == "channel_max") {
            out.channel_max = parse_number<std::uint16_t>(uri, value, "channel_max", 0, 65535);
        } else if (key == "frame_max") {
            out.frame_max = parse_number<std::uint32_t>(
                uri, value, "frame_max", 4096, std::numeric_limits<std::int32_t>::max());
        } else if (key == "connection_timeout") {
            out.connection_timeout = std::chrono::milliseconds(parse_number<std::uint32_t>(
                uri, value, "connection_timeout", 1, std::numeric_limits<std::int32_t>::max()));
        } else {
            reject(uri, fmt::format("unsupported query parameter '{}' (supported: heartbeat, "
                                    "channel_max, frame_max, connection_timeout)",
                                    key));
        }
    }
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

}  // namespace

std::string Uri::endpoint() const {
    if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
    return fmt::format("{}:{}", host, port);
}

Uri parse_uri(std::string_view text) {
    std::size_t scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos)
        reject(text, "expected amqp://[user[:password]@][host][:port][/vhost]");
    std::string_view scheme = text.substr(0, scheme_end);
    if (iequals(scheme, "amqps"))
        reject(text, "amqps (AMQP over TLS) is not supported; use amqp://");
    if (!iequals(scheme, "amqp"))
        reject(text, fmt::format("the scheme must be amqp, not '{}'", scheme));

    std::string_view rest = text.substr(scheme_end + 3);
    if (rest.find('#') != std::string_view::npos)
        reject(text, "an AMQP URI has no fragment ('#'); encode it as %23");

    std::optional<std::string_view> query;
    if (std::size_t q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    std::optional<std::string_view> path;
    if (std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
        path = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
    }

    Uri out;
    parse_authority(text, rest, out);
    if (path) {
        if (path->find('/') != std::string_view::npos)
            reject(text, "the vhost is a single path segment: write a '/' in it as %2f");
        out.vhost = decode(text, *path, "vhost", ":@");
    }
    if (query) parse_query(text, *query, out);
    return out;
}

}  // namespace warren::amqp
