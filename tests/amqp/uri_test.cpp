#include "warren/amqp/uri.hpp"

#include <catch2/catch.hpp>

#include "warren/errors.hpp"

using warren::amqp::parse_uri;
using warren::amqp::Uri;

namespace {

/// The message parse_uri throws for `text`.
std::string rejection(std::string_view text) {
    try {
        parse_uri(text);
    } catch (const warren::ClientError& e) {
        return e.what();
    }
    FAIL("parse_uri accepted " << text);
    return {};
}

}  // namespace

TEST_CASE("parse_uri: every part given") {
    const Uri uri = parse_uri("amqp://user:pass@host:10000/vhost");
    CHECK(uri.user == "user");
    CHECK(uri.password == "pass");
    CHECK(uri.host == "host");
    CHECK(uri.port == 10000);
    CHECK(uri.vhost == "vhost");
}

TEST_CASE("parse_uri: the examples of RabbitMQ's URI specification") {
    // https://www.rabbitmq.com/uri-spec.html, appendix A; an absent part keeps its default.
    SECTION("percent-encoding everywhere") {
        const Uri uri = parse_uri("amqp://user%61:%61pass@ho%61st:10000/v%2fhost");
        CHECK(uri.user == "usera");
        CHECK(uri.password == "apass");
        CHECK(uri.host == "hoast");
        CHECK(uri.vhost == "v/host");
    }
    SECTION("nothing at all") { CHECK(parse_uri("amqp://") == Uri{}); }
    SECTION("empty user, password and vhost") {
        const Uri uri = parse_uri("amqp://:@/");
        CHECK(uri.user.empty());
        CHECK(uri.password.empty());
        CHECK(uri.host == "localhost");
        CHECK(uri.vhost.empty());
    }
    SECTION("user without password") {
        const Uri uri = parse_uri("amqp://user@");
        CHECK(uri.user == "user");
        CHECK(uri.password == "guest");
    }
    SECTION("user and password, no host") {
        const Uri uri = parse_uri("amqp://user:pass@");
        CHECK(uri.user == "user");
        CHECK(uri.password == "pass");
        CHECK(uri.host == "localhost");
    }
    SECTION("host only") {
        Uri expected;
        expected.host = "host";
        CHECK(parse_uri("amqp://host") == expected);
    }
    SECTION("port only") {
        Uri expected;
        expected.port = 10000;
        CHECK(parse_uri("amqp://:10000") == expected);
    }
    SECTION("vhost only") {
        Uri expected;
        expected.vhost = "vhost";
        CHECK(parse_uri("amqp:///vhost") == expected);
    }
    SECTION("an empty path is the empty vhost") {
        const Uri uri = parse_uri("amqp://host/");
        CHECK(uri.host == "host");
        CHECK(uri.vhost.empty());
    }
    SECTION("%2f is the vhost /") { CHECK(parse_uri("amqp://host/%2f").vhost == "/"); }
    SECTION("%2F works as well as %2f") { CHECK(parse_uri("amqp://host/%2F").vhost == "/"); }
    SECTION("IPv6 address") {
        const Uri uri = parse_uri("amqp://[::1]");
        CHECK(uri.host == "::1");
        CHECK(uri.port == 5672);
    }
}

TEST_CASE("parse_uri: details") {
    CHECK(parse_uri("amqp://guest:guest@127.0.0.1:5672/%2f") ==
          Uri{.host = "127.0.0.1", .vhost = "/"});
    CHECK(parse_uri("AMQP://host").host == "host");
    CHECK(parse_uri("amqp://host:").port == 5672);
    CHECK(parse_uri("amqp://[::1]:5673/x").port == 5673);
    CHECK(parse_uri("amqp://u:a:b@h").password == "a:b");
    CHECK(parse_uri("amqp://u:p%40ss%3Aw0rd@h").password == "p@ss:w0rd");
    CHECK(parse_uri("amqp://h/my%20vhost").vhost == "my vhost");
    CHECK(parse_uri("amqp://h/a:b@c").vhost == "a:b@c");
}

TEST_CASE("parse_uri: query parameters") {
    const Uri uri = parse_uri(
        "amqp://h/v?heartbeat=30&channel_max=100&frame_max=8192&connection_timeout=2500");
    CHECK(uri.vhost == "v");
    CHECK(uri.heartbeat == 30);
    CHECK(uri.channel_max == 100);
    CHECK(uri.frame_max == 8192);
    CHECK(uri.connection_timeout == std::chrono::milliseconds(2500));
    CHECK(parse_uri("amqp://h?heartbeat=5").vhost == "/");
    CHECK(parse_uri("amqp://h?").heartbeat == 0);
}

TEST_CASE("parse_uri: rejections say what is wrong") {
    using Catch::Matchers::Contains;
    CHECK_THAT(rejection("amqps://host"), Contains("amqps") && Contains("not supported"));
    CHECK_THAT(rejection("http://host"), Contains("scheme must be amqp"));
    CHECK_THAT(rejection("host:5672"), Contains("expected amqp://"));
    CHECK_THAT(rejection("amqp://host/a/b"), Contains("%2f"));
    CHECK_THAT(rejection("amqp://host:99999"), Contains("port"));
    CHECK_THAT(rejection("amqp://host:0"), Contains("port"));
    CHECK_THAT(rejection("amqp://host:56x"), Contains("port"));
    CHECK_THAT(rejection("amqp://host/%2"), Contains("percent-escape"));
    CHECK_THAT(rejection("amqp://host/%zz"), Contains("percent-escape"));
    CHECK_THAT(rejection("amqp://us er@host"), Contains("user name"));
    CHECK_THAT(rejection("amqp://[::1"), Contains("]"));
    CHECK_THAT(rejection("amqp://[::1]x"), Contains("port"));
    CHECK_THAT(rejection("amqp://host#frag"), Contains("fragment"));
    CHECK_THAT(rejection("amqp://host?tls=1"), Contains("unsupported query parameter 'tls'"));
    CHECK_THAT(rejection("amqp://host?heartbeat=-1"), Contains("heartbeat"));
    CHECK_THAT(rejection("amqp://host?frame_max=100"), Contains("frame_max"));
}

TEST_CASE("parse_uri: a rejection does not show the password") {
    const std::string message = rejection("amqp://user:s3cret@host:99999/");
    CHECK(message.find("s3cret") == std::string::npos);
    CHECK(message.find("user:***@host") != std::string::npos);
}

TEST_CASE("Uri::endpoint names host and port") {
    CHECK(parse_uri("amqp://rabbit:5673").endpoint() == "rabbit:5673");
    CHECK(parse_uri("amqp://").endpoint() == "localhost:5672");
    CHECK(parse_uri("amqp://[::1]").endpoint() == "[::1]:5672");
}
