// Permissions: a user's configure / write / read expressions in a vhost, checked on every
// AMQP method as RabbitMQ 3.10.8 checks them. The texts and the method -> permission table
// were recorded with pika against 3.10.8 (a user with configure '^own\.', write
// '^own\.|^amq\.default$', read '^own\.'); the same script played against warren-server gave
// the same answers.
#include <catch2/catch.hpp>

#include "broker_harness.hpp"

using namespace warren;
using namespace warren::test;

namespace {

struct Fixture {
    Harness h;
    Fixture() {
        h.broker.add_user({"u", "p", {}});
        h.broker.set_permissions({"u", "/", R"(^own\.)", R"(^own\.|^amq\.default$)", R"(^own\.)"});
        auto& guest = h.connect();
        const ChannelRef g = h.channel(guest);
        h.declare_queue(g, "other.q");
        REQUIRE(h.methods.exchange_declare(g, {.exchange = "other.x"}));
        REQUIRE(h.methods.exchange_declare(g, {.exchange = "own.x"}));
    }
    /// A fresh channel of user u (a refusal closes the channel it happens on).
    ChannelRef u() { return h.channel(h.connect("/", "u")); }
};

std::string refused(std::string_view what) {
    return fmt::format("ACCESS_REFUSED - access to {} in vhost '/' refused for user 'u'", what);
}

}  // namespace

TEST_CASE("permissions: configure covers declare and delete, of queues and exchanges") {
    Fixture f;
    REQUIRE(f.h.methods.queue_declare(f.u(), {.queue = "own.q"}));
    require_error(f.h.methods.queue_declare(f.u(), {.queue = "forbidden.q"}), ReplyCode::AccessRefused,
                  refused("queue 'forbidden.q'"));
    // A passive declare needs no permission.
    REQUIRE(f.h.methods.queue_declare(f.u(), {.queue = "other.q", .passive = true}));
    require_error(f.h.methods.queue_delete(f.u(), {.queue = "other.q"}), ReplyCode::AccessRefused,
                  refused("queue 'other.q'"));
    require_error(f.h.methods.exchange_delete(f.u(), {.exchange = "other.x"}), ReplyCode::AccessRefused,
                  refused("exchange 'other.x'"));
    require_error(f.h.methods.exchange_declare(f.u(), {.exchange = "other.x2"}), ReplyCode::AccessRefused,
                  refused("exchange 'other.x2'"));
    // Deleting a missing queue the user may configure is fine, as ever.
    REQUIRE(f.h.methods.queue_delete(f.u(), {.queue = "own.zz"}));
    // Nothing refused changed anything.
    REQUIRE(f.h.broker.queue("/", "other.q"));
    REQUIRE(f.h.broker.exchange("/", "other.x"));
    REQUIRE_FALSE(f.h.broker.queue("/", "forbidden.q"));
}

TEST_CASE("permissions: a server-named queue is checked under its generated name") {
    Fixture f;
    auto r = f.h.methods.queue_declare(f.u(), {.queue = ""});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == ReplyCode::AccessRefused);
    CHECK_THAT(r.error().reply_text(), Catch::StartsWith("ACCESS_REFUSED - access to queue 'amq.gen-"));
}

TEST_CASE("permissions: a binding needs write on its destination and read on its source") {
    Fixture f;
    REQUIRE(f.h.methods.queue_declare(f.u(), {.queue = "own.q"}));
    REQUIRE(f.h.methods.queue_bind(f.u(), {"own.q", "own.x", "k"}));
    require_error(f.h.methods.queue_bind(f.u(), {"own.q", "other.x", "k"}), ReplyCode::AccessRefused,
                  refused("exchange 'other.x'"));
    require_error(f.h.methods.queue_bind(f.u(), {"other.q", "own.x", "k"}), ReplyCode::AccessRefused,
                  refused("queue 'other.q'"));
    require_error(f.h.methods.queue_unbind(f.u(), {"own.q", "other.x", "k"}), ReplyCode::AccessRefused,
                  refused("exchange 'other.x'"));
    require_error(f.h.methods.exchange_bind(f.u(), {"own.x", "other.x", "k"}), ReplyCode::AccessRefused,
                  refused("exchange 'other.x'"));
    require_error(f.h.methods.exchange_bind(f.u(), {"other.x", "own.x", "k"}), ReplyCode::AccessRefused,
                  refused("exchange 'other.x'"));
}

TEST_CASE("permissions: an alternate or dead-letter exchange needs write on it") {
    Fixture f;
    require_error(f.h.methods.exchange_declare(f.u(), {.exchange = "own.ae", .arguments = {{"alternate-exchange", "other.x"}}}),
                  ReplyCode::AccessRefused, refused("exchange 'other.x'"));
    require_error(f.h.methods.queue_declare(f.u(), {.queue = "own.dlq", .arguments = {{"x-dead-letter-exchange", "other.x"}}}),
                  ReplyCode::AccessRefused, refused("exchange 'other.x'"));
    REQUIRE_FALSE(f.h.broker.exchange("/", "own.ae"));
    REQUIRE_FALSE(f.h.broker.queue("/", "own.dlq"));
}

TEST_CASE("permissions: publish needs write on the exchange (the default one is 'amq.default')") {
    Fixture f;
    REQUIRE(f.h.methods.queue_declare(f.u(), {.queue = "own.q"}));
    const ChannelRef ch = f.u();
    REQUIRE(f.h.methods.basic_publish(ch, {"", "own.q"}, Message{"x", {}}));
    REQUIRE(f.h.broker.queue("/", "own.q")->messages == 1);
    require_error(f.h.methods.basic_publish(f.u(), {"other.x", "k"}, Message{"x", {}}), ReplyCode::AccessRefused,
                  refused("exchange 'other.x'"));

    // Without amq.default in its write expression, the default exchange is refused by that name.
    f.h.broker.set_permissions({"u", "/", ".*", R"(^own\.)", ".*"});
    require_error(f.h.methods.basic_publish(f.u(), {"", "own.q"}, Message{"x", {}}), ReplyCode::AccessRefused,
                  refused("exchange 'amq.default'"));
}

TEST_CASE("permissions: get, consume and purge need read on the queue, checked before it is looked up") {
    Fixture f;
    require_error(f.h.methods.basic_get(f.u(), "other.q", false), ReplyCode::AccessRefused, refused("queue 'other.q'"));
    require_error(f.h.methods.basic_consume(f.u(), {.queue = "other.q"}), ReplyCode::AccessRefused,
                  refused("queue 'other.q'"));
    require_error(f.h.methods.queue_purge(f.u(), "other.q"), ReplyCode::AccessRefused, refused("queue 'other.q'"));
    require_error(f.h.methods.basic_get(f.u(), "other.zz", false), ReplyCode::AccessRefused, refused("queue 'other.zz'"));
}

TEST_CASE("permissions: an empty expression allows nothing; losing the vhost's permissions refuses everything") {
    Fixture f;
    f.h.broker.set_permissions({"u", "/", "", "", ""});
    require_error(f.h.methods.queue_declare(f.u(), {.queue = "own.q"}), ReplyCode::AccessRefused, refused("queue 'own.q'"));
    const ChannelRef open = f.u();
    REQUIRE(f.h.broker.clear_permissions("/", "u"));
    require_error(f.h.methods.basic_publish(open, {"", "own.q"}, Message{"x", {}}), ReplyCode::AccessRefused,
                  refused("exchange 'amq.default'"));
}

TEST_CASE("vhosts and users: deleting one closes its connections with 320 and takes its permissions") {
    // Recorded on 3.10.8 with pika, deleting through the management API.
    Harness h;
    h.broker.add_user({"u", "p", {}});
    h.broker.set_permissions({"u", "/"});
    REQUIRE(h.broker.add_vhost(VHostInfo{"v", "a vhost", {"t"}}, "u"));
    REQUIRE_FALSE(h.broker.add_vhost(VHostInfo{"v", "described again", {}}, "u"));
    CHECK(h.broker.permissions("v").size() == 1);  // its creator's, not every user's
    auto& in_v = h.connect("v", "u");
    auto& in_root = h.connect("/", "u");
    REQUIRE(h.broker.delete_vhost("v"));
    REQUIRE(in_v.sink.events.size() == 1);
    CHECK(in_v.sink.events[0].reply_code == 320);
    CHECK(in_v.sink.events[0].reply_text == "CONNECTION_FORCED - vhost 'v' is deleted");
    CHECK(in_root.sink.events.empty());
    CHECK(h.broker.permissions("v").empty());
    CHECK_FALSE(h.broker.delete_vhost("v"));

    REQUIRE(h.broker.delete_user("u"));
    REQUIRE(in_root.sink.events.size() == 1);
    CHECK(in_root.sink.events[0].reply_text == "CONNECTION_FORCED - user 'u' is deleted");
    CHECK(h.broker.connections().size() == 0);
    CHECK_FALSE(h.broker.authenticate("u", "p"));
    CHECK_FALSE(h.broker.delete_user("u"));
}
