// Broker::export_definitions / import_definitions against files exported by RabbitMQ 3.10.8
// (tests/emulator/definitions/: GET /api/definitions and rabbitmqctl export_definitions of
// the topology record.py builds), and import's refusals as RabbitMQ's POST /api/definitions
// gives them (recorded on 3.10.8 with the management plugin).
#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "broker_harness.hpp"

using namespace warren;
using namespace warren::test;
namespace json = boost::json;

namespace {

std::string fixture(const std::string& name) {
    std::ifstream in(std::string(WARREN_DEFINITIONS_FIXTURES) + "/" + name);
    REQUIRE(in);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// A section's records as a set of their JSON texts, with the keys of each record sorted, so
/// that two exports compare whatever order their records and fields come in.
std::set<std::string> records(const json::value& doc, std::string_view section,
                              std::initializer_list<std::string_view> drop = {}) {
    std::set<std::string> out;
    const json::value* list = doc.as_object().if_contains(section);
    if (!list) return out;
    for (const json::value& item : list->as_array()) {
        std::vector<std::pair<std::string, std::string>> fields;
        for (const auto& [k, v] : item.as_object())
            if (std::find(drop.begin(), drop.end(), std::string_view(k)) == drop.end())
                fields.emplace_back(std::string(k), json::serialize(v));
        std::sort(fields.begin(), fields.end());
        std::string text;
        for (const auto& [k, v] : fields) text += k + "=" + v + ";";
        out.insert(text);
    }
    return out;
}

std::string reason_of(Broker& broker, std::string_view text, std::string_view vhost = {}) {
    try {
        broker.import_definitions(text, vhost);
    } catch (const DefinitionsError& e) {
        return e.reason();
    }
    return "imported";
}

}  // namespace

TEST_CASE("definitions exported by RabbitMQ 3.10.8 import and export back the same") {
    const std::string exported = fixture("rabbitmq-3.10.8.json");
    Broker broker;
    CHECK(broker.import_definitions(exported).empty());
    const json::value mine = json::parse(broker.export_definitions());
    const json::value theirs = json::parse(exported);
    for (std::string_view section : {"users", "vhosts", "permissions", "topic_permissions", "parameters",
                                     "global_parameters", "policies", "queues", "exchanges", "bindings"}) {
        INFO(section);
        CHECK(records(mine, section) == records(theirs, section));
    }
    for (std::string_view key : {"rabbit_version", "rabbitmq_version", "product_name", "product_version"})
        CHECK(mine.at(key) == theirs.at(key));
    // The password hashes came across: the users log in with their passwords.
    CHECK(broker.authenticate("orders-service", "s3cret"));
    CHECK_FALSE(broker.authenticate("orders-service", "guest"));
    CHECK(broker.authenticate("ops", "ops"));
    CHECK(broker.authenticate("guest", "guest"));
}

TEST_CASE("an imported topology routes as it did on RabbitMQ") {
    Broker broker;
    broker.import_definitions(fixture("rabbitmq-3.10.8.json"));
    auto q = broker.queue("shop", "payments");
    REQUIRE(q);
    CHECK(q->type == "quorum");
    CHECK(q->durable);
    CHECK(broker.queue("shop", "audit")->type == "stream");
    CHECK(broker.exchange("shop", "orders.internal")->internal);

    FieldTable invoice{{"kind", "invoice"}, {"priority", 2}};
    RouteTrace t = broker.trace_route("shop", "orders", "order.eu.created", invoice);
    CHECK(t.queues == std::vector<std::string>{"orders.created", "payments"});
    t = broker.trace_route("shop", "orders", "nothing.binds.this");
    CHECK(t.alternate_exchanges == std::vector<std::string>{"orders.unrouted"});
    CHECK(t.queues == std::vector<std::string>{"orders.unrouted"});
    CHECK(broker.trace_route("shop", "amq.topic", "x").queues == std::vector<std::string>{"audit"});

    // An AMQP client of the imported user works in the imported vhost, not in one it has no
    // permissions in.
    detail::BrokerMethods methods(broker);
    RecordingSink sink;
    CHECK(methods.open_connection("shop", "orders-service", sink).ok());
    auto root = methods.open_connection("/", "orders-service", sink);
    REQUIRE_FALSE(root.ok());
    CHECK(root.error().code() == ReplyCode::NotAllowed);
    CHECK(root.error().reply_text() == "NOT_ALLOWED - access to vhost '/' refused for user 'orders-service'");
}

TEST_CASE("rabbitmqctl's export format imports to the same broker as the HTTP API's") {
    Broker http, ctl;
    http.import_definitions(fixture("rabbitmq-3.10.8.json"));
    ctl.import_definitions(fixture("rabbitmqctl-3.10.8.json"));
    const json::value a = json::parse(http.export_definitions());
    const json::value b = json::parse(ctl.export_definitions());
    // rabbitmqctl's export leaves out the cluster id global parameter and internal exchanges
    // (so the binding from orders.internal has no source on import); all else is the same.
    for (std::string_view section : {"users", "vhosts", "permissions", "queues"}) {
        INFO(section);
        CHECK(records(a, section) == records(b, section));
    }
    CHECK(http.exchange("shop", "orders.internal"));
    CHECK_FALSE(ctl.exchange("shop", "orders.internal"));
    CHECK(records(a, "exchanges").size() == records(b, "exchanges").size() + 1);
    CHECK(records(a, "bindings").size() == records(b, "bindings").size() + 1);
    for (const VHostInfo& v : ctl.vhost_infos())
        if (v.name == "shop") {
            CHECK(v.description == "the shop");
            CHECK(v.tags == std::vector<std::string>{"production"});
        }
}

TEST_CASE("a vhost's definitions export and import without vhost fields") {
    Broker source;
    source.import_definitions(fixture("rabbitmq-3.10.8.json"));
    const std::string shop = source.export_definitions("shop");
    const json::value doc = json::parse(shop);
    CHECK(doc.as_object().size() == 6);
    CHECK(records(doc, "queues").size() == 7);
    CHECK_FALSE(doc.at("queues").as_array()[0].as_object().contains("vhost"));

    Broker target;
    target.add_vhost("staging");
    CHECK(target.import_definitions(shop, "staging").empty());
    CHECK(records(json::parse(target.export_definitions("staging")), "bindings") == records(doc, "bindings"));
    CHECK(target.queue("staging", "orders.created"));
    CHECK_THROWS_AS(target.export_definitions("nope"), std::invalid_argument);
    CHECK(reason_of(target, shop, "nope") == R"(["no_such_vhost","nope"])");
}

TEST_CASE("import refuses what RabbitMQ refuses, with its reason, and changes nothing") {
    Broker broker;
    const std::string before = broker.export_definitions();
    CHECK(reason_of(broker, R"({"queues":[)") == R"("failed_to_parse_json")");
    CHECK(reason_of(broker, "[1,2]") == R"("failed_to_parse_json")");
    // The first queue is valid; the second names a vhost that does not exist.
    CHECK(reason_of(broker, R"({"queues":[
        {"name":"p1","vhost":"/","durable":true,"auto_delete":false,"arguments":{}},
        {"name":"p2","vhost":"nope","durable":true,"auto_delete":false,"arguments":{}}]})") ==
          R"(["no_such_vhost","nope"])");
    CHECK(reason_of(broker, R"({"queues":[{"name":"q2","vhost":"/"}]})") == R"("function_clause")");
    CHECK(reason_of(broker, R"({"queues":[{"name":"q","durable":true,"auto_delete":false}]})") ==
          R"(["no_such_vhost","undefined"])");
    CHECK(reason_of(broker, R"({"permissions":[{"user":"zed","vhost":"/","configure":".*","write":".*","read":".*"}]})") ==
          R"(["no_such_user","zed"])");
    CHECK(reason_of(broker, R"({"users":[{"name":"dan"}]})") == R"("tags_not_present")");
    CHECK(reason_of(broker, R"({"users":[{"password":"x","tags":""}]})") == R"(["badkey","name"])");
    CHECK(reason_of(broker, R"({"users":[{"name":"eve","password_hash":"abc","tags":""}]})") ==
          R"(["not_base64","abc"])");
    CHECK(reason_of(broker, R"({"exchanges":[{"name":"e1","vhost":"/","type":"bogus","durable":true}]})") ==
          R"(["amqp_error","command_invalid",[117,110,107,110,111,119,110,32,101,120,99,104,97,110,103,101,32,116,121,112,101,32,39,98,111,103,117,115,39],"none"])");
    // A queue argument RabbitMQ's declare refuses, after a valid exchange in the same file.
    try {
        broker.import_definitions(R"({"exchanges":[{"name":"ea","vhost":"/","type":"direct","durable":true}],
            "queues":[{"name":"pb","vhost":"/","durable":true,"auto_delete":false,"arguments":{"x-max-length":"ten"}}]})");
        FAIL("imported");
    } catch (const DefinitionsError& e) {
        CHECK(std::string(e.what()) ==
              R"(PRECONDITION_FAILED - invalid arg 'x-max-length' for queue 'pb' in vhost '/': "expected integer, got longstr")");
        CHECK(e.reason().starts_with(R"(["amqp_error","precondition_failed",[105,110,118,97,108,105,100,32,)"));
    }
    CHECK(broker.export_definitions() == before);
    CHECK_FALSE(broker.exchange("/", "ea"));
}

TEST_CASE("import leaves existing objects alone and skips bindings it cannot make") {
    Broker broker;
    broker.import_definitions(R"({"queues":[{"name":"q","vhost":"/","durable":true,"auto_delete":false,
                                             "arguments":{"x-message-ttl":60000}}],
                                  "exchanges":[{"name":"x","vhost":"/","type":"topic","durable":true}]})");
    // Different arguments, durability and type: RabbitMQ answers 204 and keeps what it has.
    const auto warnings = broker.import_definitions(R"({
        "queues":[{"name":"q","vhost":"/","durable":false,"auto_delete":false,"arguments":{"x-message-ttl":5}},
                  {"name":"amq.q","vhost":"/","durable":true,"auto_delete":false},
                  {"name":"qq","vhost":"/","durable":false,"auto_delete":false,"arguments":{"x-queue-type":"quorum"}}],
        "exchanges":[{"name":"x","vhost":"/","type":"fanout","durable":true},
                     {"name":"amq.direct","vhost":"/","type":"fanout","durable":true}],
        "bindings":[{"source":"nosuch","vhost":"/","destination":"q","destination_type":"queue","routing_key":"k"},
                    {"source":"x","vhost":"/","destination":"nosuchq","destination_type":"queue","routing_key":"k"},
                    {"source":"amq.headers","vhost":"/","destination":"q","destination_type":"queue","routing_key":"",
                     "arguments":{"x-match":"bogus"}},
                    {"source":"x","vhost":"/","destination":"q","destination_type":"queue","routing_key":"a.*"}],
        "policies":[{"vhost":"/","name":"p","pattern":".*","apply-to":"queues","definition":{"message-ttl":1}}]})");
    CHECK(broker.queue("/", "q")->durable);
    CHECK(broker.queue("/", "q")->arguments == FieldTable{{"x-message-ttl", std::int64_t{60000}}});
    CHECK(broker.exchange("/", "x")->type == "topic");
    CHECK(broker.exchange("/", "amq.direct")->type == "direct");
    CHECK_FALSE(broker.queue("/", "amq.q"));
    CHECK_FALSE(broker.queue("/", "qq"));
    auto bindings = broker.bindings("/");
    CHECK(std::count_if(bindings.begin(), bindings.end(), [](const BindingInfo& b) { return !b.source.empty(); }) == 1);
    REQUIRE(warnings.size() == 2);
    CHECK(warnings[0] == "1 policies not imported: warren does not emulate them");
    CHECK(warnings[1] ==
          "queue 'qq' in vhost '/' not imported: invalid property 'non-durable' for queue 'qq' in vhost '/'");
}

TEST_CASE("users, tags and permissions") {
    Broker broker;
    broker.import_definitions(R"({"users":[{"name":"gus","password":"x","tags":"a, b,"},
                                           {"name":"nopw","tags":[]}],
                                  "vhosts":[{"name":"v"}],
                                  "permissions":[{"user":"gus","vhost":"v","configure":"^gus","write":".*","read":""}]})");
    auto users = broker.users();
    REQUIRE(users.size() == 3);
    CHECK(users[0].name == "guest");
    CHECK(users[0].tags == std::vector<std::string>{"administrator"});
    CHECK(users[1].name == "gus");
    CHECK(users[1].tags == std::vector<std::string>{"a", "b"});
    CHECK(broker.authenticate("gus", "x"));
    // A user imported with no password cannot log in with any.
    CHECK_FALSE(broker.authenticate("nopw", ""));
    auto perms = broker.permissions("v");
    REQUIRE(perms.size() == 1);
    CHECK(perms[0].configure == "^gus");
    CHECK(perms[0].read == "");
    // add_vhost lets every user in.
    broker.add_vhost("w");
    CHECK(broker.permissions("w").size() == 3);
    CHECK_THROWS_AS(broker.set_permissions(PermissionInfo{"nobody", "w"}), std::invalid_argument);
}

TEST_CASE("definitions: a vhost an import creates gives the importing user full permissions, unless the file says otherwise") {
    // Recorded on 3.10.8: POST /api/definitions as guest.
    Broker broker;
    broker.import_definitions(R"({"vhosts":[{"name":"a"},{"name":"b"},{"name":"c"}],
        "permissions":[{"user":"guest","vhost":"b","configure":"^a","write":"^b","read":"^c"}]})",
                              {}, "guest");
    auto a = broker.permissions("a");
    REQUIRE(a.size() == 1);
    CHECK((a[0].user == "guest" && a[0].configure == ".*" && a[0].write == ".*" && a[0].read == ".*"));
    auto b = broker.permissions("b");
    REQUIRE(b.size() == 1);
    CHECK((b[0].configure == "^a" && b[0].write == "^b" && b[0].read == "^c"));
    // Without an importing user (a file loaded at start), nobody gets permissions it does not list.
    broker.import_definitions(R"({"vhosts":[{"name":"d"}]})");
    CHECK(broker.permissions("d").empty());
}
