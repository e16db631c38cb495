// Permissions: a user's configure, write and read expressions in a vhost, checked as
// rabbit_access_control:check_resource_access/4 and rabbit_auth_backend_internal check them.
#include "model.hpp"

namespace warren::emulator {

namespace {

/// re:run/3 semantics for the expressions users write: unanchored search; an empty
/// expression allows nothing; one that does not compile allows nothing either.
bool matches(BrokerState& s, const std::string& pattern, std::string_view name) {
    if (pattern.empty()) return false;
    if (pattern == ".*") return true;  // the usual case, and what every default user has
    auto it = s.permission_patterns.find(pattern);
    if (it == s.permission_patterns.end()) {
        std::optional<std::regex> compiled;
        try {
            compiled.emplace(pattern, std::regex::ECMAScript);
        } catch (const std::regex_error&) {
        }
        it = s.permission_patterns.emplace(pattern, std::move(compiled)).first;
    }
    return it->second && std::regex_search(name.begin(), name.end(), *it->second);
}

}  // namespace

std::optional<AmqpError> Model::check_access(const ChannelState& ch, Access access, std::string_view kind,
                                             std::string_view name, MethodId m) {
    const ConnectionState& conn = *ch.connection;
    const std::string_view resource = kind == "exchange" && name.empty() ? std::string_view("amq.default") : name;
    if (const PermissionInfo* p = s_.find_permission(conn.user, conn.vhost->name)) {
        const std::string& pattern = access == Access::Configure ? p->configure
                                     : access == Access::Write   ? p->write
                                                                 : p->read;
        if (matches(s_, pattern, resource)) return std::nullopt;
    }
    return AmqpError::format(ReplyCode::AccessRefused, m, "access to {} refused for user '{}'",
                             rs(kind, resource, *conn.vhost), conn.user);
}

}  // namespace warren::emulator
