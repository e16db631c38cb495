// The state behind a Broker: vhosts with their predeclared exchanges, and generated names.
#include "broker_state.hpp"

#include "password.hpp"

#include <array>

namespace warren::emulator {

BrokerState::BrokerState(BrokerOptions opts) : options(std::move(opts)), random(0x5eed) {
    clock = options.clock;
    if (!clock) {
        auto manual = std::make_shared<ManualClock>();
        manual_clock = manual.get();
        clock = std::move(manual);
    } else {
        manual_clock = dynamic_cast<ManualClock*>(clock.get());
    }
    for (const auto& v : options.vhosts) add_vhost(v);
    // rabbit_vhost:add_default... at a node's first boot.
    if (VHost* v = find_vhost("/")) v->description = "Default virtual host";
    // Every configured user may use every configured vhost, as RabbitMQ's default user may
    // use the default vhost.
    for (const auto& u : options.users) {
        set_user(u.name, u.password, u.tags);
        for (const auto& v : options.vhosts) set_permission(PermissionInfo{u.name, v});
    }
}

BrokerState::~BrokerState() {
    if (journal) journal->set_recording(false);
}

User* BrokerState::find_user(std::string_view name) {
    for (User& u : users)
        if (u.name == name) return &u;
    return nullptr;
}

const PermissionInfo* BrokerState::find_permission(std::string_view user, std::string_view vhost) const {
    for (const PermissionInfo& p : permissions)
        if (p.user == user && p.vhost == vhost) return &p;
    return nullptr;
}

User& BrokerState::set_user(std::string name, std::string_view password, std::vector<std::string> tags) {
    // rabbit_password:generate_salt/0: four random bytes.
    static thread_local std::mt19937 salt_random{std::random_device{}()};
    std::string salt(4, '\0');
    for (char& c : salt) c = static_cast<char>(salt_random() & 0xff);
    User* u = find_user(name);
    if (!u) u = &users.emplace_back(User{std::move(name), {}, {}});
    u->password_hash = salted_hash(salt, password);
    u->tags = std::move(tags);
    return *u;
}

void BrokerState::set_permission(PermissionInfo p) {
    for (PermissionInfo& existing : permissions)
        if (existing.user == p.user && existing.vhost == p.vhost) {
            existing = std::move(p);
            return;
        }
    permissions.push_back(std::move(p));
}

VHost& BrokerState::add_vhost(std::string name) {
    if (VHost* v = find_vhost(name)) return *v;
    auto vhost = std::make_unique<VHost>();
    vhost->name = name;
    // The exchanges every vhost is created with (rabbit_vhost:declare_default_exchanges).
    struct Predeclared {
        const char* name;
        const char* type;
        bool internal;
    };
    static constexpr std::array<Predeclared, 7> predeclared{{
        {"", "direct", false},
        {"amq.direct", "direct", false},
        {"amq.fanout", "fanout", false},
        {"amq.headers", "headers", false},
        {"amq.match", "headers", false},
        {"amq.rabbitmq.trace", "topic", true},
        {"amq.topic", "topic", false},
    }};
    for (const auto& p : predeclared) {
        vhost->exchanges.emplace(
            p.name, std::make_unique<Exchange>(p.name, make_exchange_type(p.type), true, false,
                                               p.internal, FieldTable{}));
    }
    VHost& ref = *vhost;
    vhosts.emplace(std::move(name), std::move(vhost));
    return ref;
}

VHost* BrokerState::find_vhost(std::string_view name) {
    auto it = vhosts.find(name);
    return it == vhosts.end() ? nullptr : it->second.get();
}

ChannelState* BrokerState::find_channel(ChannelRef ref) {
    auto c = connections.find(ref.connection);
    if (c == connections.end()) return nullptr;
    auto ch = c->second->channels.find(ref.channel);
    return ch == c->second->channels.end() ? nullptr : ch->second.get();
}

std::string BrokerState::generate_name(std::string_view prefix) {
    // rabbit_guid:binary/2: the prefix, '-', and 16 random bytes in URL-safe base64 without
    // padding (22 characters).
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::array<unsigned char, 16> bytes{};
    for (std::size_t i = 0; i < bytes.size(); i += 8) {
        const std::uint64_t r = random();
        for (std::size_t j = 0; j < 8; ++j) bytes[i + j] = static_cast<unsigned char>(r >> (8 * j));
    }
    std::string out(prefix);
    out.push_back('-');
    std::uint32_t acc = 0;
    int bits = 0;
    for (unsigned char b : bytes) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(alphabet[(acc >> bits) & 0x3f]);
        }
    }
    if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 0x3f]);
    return out;
}

}  // namespace warren::emulator
