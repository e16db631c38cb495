// The topic exchange through the ExchangeType interface. Every expectation here was checked
// against RabbitMQ 3.10.8.
#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "exchange_type.hpp"

using namespace warren;
using namespace warren::emulator;

namespace {

Binding binding_with_key(std::string key, FieldTable arguments = {}) {
    Binding b;
    b.key = std::move(key);
    b.arguments = std::move(arguments);
    return b;
}

std::vector<const Binding*> route(const ExchangeType& type, std::string_view routing_key,
                                  const FieldTable& headers = {}) {
    std::vector<const Binding*> out;
    type.route(RoutingInput{routing_key, headers}, out);
    return out;
}

/// A topic exchange with one binding per pattern, answering with the patterns that matched.
class PatternExchange {
public:
    explicit PatternExchange(const std::vector<std::string>& patterns)
        : type_(make_exchange_type("topic")) {
        for (const std::string& p : patterns) {
            bindings_.push_back(binding_with_key(p));
            type_->add_binding(bindings_.back());
        }
    }

    std::set<std::string> matching(std::string_view routing_key,
                                   const FieldTable& headers = {}) const {
        std::set<std::string> keys;
        for (const Binding* b : route(*type_, routing_key, headers)) keys.insert(b->key);
        return keys;
    }

    ExchangeType& type() { return *type_; }
    const Binding& binding(std::size_t i) const { return bindings_[i]; }

private:
    std::unique_ptr<ExchangeType> type_;
    std::deque<Binding> bindings_;
};

}  // namespace

TEST_CASE("topic: RabbitMQ's topic_matching1 table", "[topic]") {
    // rabbitmq-server deps/rabbit/test/unit_access_control_SUITE.erl, topic_matching1.
    const std::vector<std::string> patterns = {
        "a.b.c",   "a.*.c",  "a.#.b", "a.b.b.c", "#",     "#.#",   "#.b",
        "*.*",     "a.*",    "*.b.c", "a.#",     "a.#.#", "b.b.c", "a.b.b",
        "a.b",     "b.c",    "",      "*.*.*",   "vodka.martini",  "a.b.c",
        "*.#",     "#.*.#",  "*.#.#", "#.#.#",   "*",     "#.b.#", "args-test"};
    auto type = make_exchange_type("topic");
    std::deque<Binding> bindings;
    std::map<const Binding*, int> number;
    for (std::size_t i = 0; i < patterns.size(); ++i) {
        bindings.push_back(binding_with_key(patterns[i]));
        number[&bindings.back()] = static_cast<int>(i + 1);
    }
    // t27 is bound a second time with other arguments: a distinct binding.
    bindings.push_back(binding_with_key("args-test", FieldTable{{"foo", "bar"}}));
    number[&bindings.back()] = 27;
    for (const Binding& b : bindings) type->add_binding(b);

    const std::vector<std::pair<std::string, std::vector<int>>> table = {
        {"a.b.c", {1, 2, 5, 6, 10, 11, 12, 18, 20, 21, 22, 23, 24, 26}},
        {"a.b", {3, 5, 6, 7, 8, 9, 11, 12, 15, 21, 22, 23, 24, 26}},
        {"a.b.b", {3, 5, 6, 7, 11, 12, 14, 18, 21, 22, 23, 24, 26}},
        {"", {5, 6, 17, 24}},
        {"b.c.c", {5, 6, 18, 21, 22, 23, 24, 26}},
        {"a.a.a.a.a", {5, 6, 11, 12, 21, 22, 23, 24}},
        {"vodka.gin", {5, 6, 8, 21, 22, 23, 24}},
        {"vodka.martini", {5, 6, 8, 19, 21, 22, 23, 24}},
        {"b.b.c", {5, 6, 10, 13, 18, 21, 22, 23, 24, 26}},
        {"nothing.here.at.all", {5, 6, 21, 22, 23, 24}},
        {"oneword", {5, 6, 21, 22, 23, 24, 25}},
        {"args-test", {5, 6, 21, 22, 23, 24, 25, 27}},
    };
    for (const auto& [key, expected] : table) {
        INFO("routing key '" << key << "'");
        std::vector<int> got;
        for (const Binding* b : route(*type, key)) got.push_back(number.at(b));
        std::sort(got.begin(), got.end());
        got.erase(std::unique(got.begin(), got.end()), got.end());
        CHECK(got == expected);
    }

    SECTION("both args-test bindings are returned") {
        const auto out = route(*type, "args-test");
        CHECK(std::count_if(out.begin(), out.end(),
                            [&](const Binding* b) { return number.at(b) == 27; }) == 2);
    }
}

TEST_CASE("topic: empty words, lone dots and literal wildcards", "[topic]") {
    // Observed on RabbitMQ 3.10.8: one queue bound per pattern, one publish per key.
    const std::vector<std::string> patterns = {
        "",  ".",   "a..b", "a.b.", ".a",  "#.#", "*.#.*", "#.*",   "*",   "a.*.#",
        "a#b", "#", "*.*",  "a.*",  "*.a", "#.a", "a.#",   "a.b",   "..",  "#.",
        ".#", "*.", ".*",   "a.#.b", "#.#.#", "a*", "*b",  "#.b.#"};
    PatternExchange exchange(patterns);
    using Keys = std::set<std::string>;
    const std::vector<std::pair<std::string, Keys>> observed = {
        {"", {"", "#.#", "#", "#.#.#"}},
        {".", {".", "#.#", "*.#.*", "#.*", "#", "*.*", "#.", ".#", "*.", ".*", "#.#.#"}},
        {"a..b", {"a..b", "#.#", "*.#.*", "#.*", "a.*.#", "#", "a.#", "a.#.b", "#.#.#", "#.b.#"}},
        {"a.b.", {"a.b.", "#.#", "*.#.*", "#.*", "a.*.#", "#", "a.#", "#.", "#.#.#", "#.b.#"}},
        {".a", {".a", "#.#", "*.#.*", "#.*", "#", "*.*", "*.a", "#.a", ".#", ".*", "#.#.#"}},
        {"a", {"#.#", "#.*", "*", "#", "#.a", "a.#", "#.#.#"}},
        {"a.b", {"#.#", "*.#.*", "#.*", "a.*.#", "#", "*.*", "a.*", "a.#", "a.b", "a.#.b",
                 "#.#.#", "#.b.#"}},
        {"a#b", {"#.#", "#.*", "*", "a#b", "#", "#.#.#"}},
        {"a.b.c", {"#.#", "*.#.*", "#.*", "a.*.#", "#", "a.#", "#.#.#", "#.b.#"}},
        {"..", {"#.#", "*.#.*", "#.*", "#", "..", "#.", ".#", "#.#.#"}},
        {"a.", {"#.#", "*.#.*", "#.*", "a.*.#", "#", "*.*", "a.*", "a.#", "#.", "*.", "#.#.#"}},
        {"b", {"#.#", "#.*", "*", "#", "#.#.#", "#.b.#"}},
        {"a.x.b", {"#.#", "*.#.*", "#.*", "a.*.#", "#", "a.#", "a.#.b", "#.#.#", "#.b.#"}},
        {"*", {"#.#", "#.*", "*", "#", "#.#.#"}},
        {"#", {"#.#", "#.*", "*", "#", "#.#.#"}},
        {"a.*", {"#.#", "*.#.*", "#.*", "a.*.#", "#", "*.*", "a.*", "a.#", "#.#.#"}},
        {"a.b.b", {"#.#", "*.#.*", "#.*", "a.*.#", "#", "a.#", "a.#.b", "#.#.#", "#.b.#"}},
        {"x.a", {"#.#", "*.#.*", "#.*", "#", "*.*", "*.a", "#.a", "#.#.#"}},
    };
    for (const auto& [key, expected] : observed) {
        INFO("routing key '" << key << "'");
        CHECK(exchange.matching(key) == expected);
    }
}

TEST_CASE("topic: CC and BCC keys are routed too", "[topic]") {
    PatternExchange exchange({"a.b", ".a", "zzz", "c.*"});
    // Only the long-string entries of the arrays are keys.
    const FieldTable headers{{"CC", FieldArray{"a.b", 5}}, {"BCC", FieldArray{".a"}}};
    CHECK(exchange.matching("zzz", headers) == std::set<std::string>{"a.b", ".a", "zzz"});
    CHECK(exchange.matching("nothing", headers) == std::set<std::string>{"a.b", ".a"});
}

TEST_CASE("topic: removing a binding stops its routing only", "[topic]") {
    PatternExchange exchange({"a.*", "a.*", "#"});
    exchange.type().remove_binding(exchange.binding(0));
    const auto out = route(exchange.type(), "a.b");
    CHECK(out.size() == 2);
    CHECK(std::find(out.begin(), out.end(), &exchange.binding(0)) == out.end());
    exchange.type().remove_binding(exchange.binding(1));
    exchange.type().remove_binding(exchange.binding(2));
    CHECK(route(exchange.type(), "a.b").empty());
}

TEST_CASE("topic: explain says why a pattern misses", "[topic]") {
    auto type = make_exchange_type("topic");
    const FieldTable no_headers;
    auto explain = [&](std::string pattern, std::string_view key,
                       const FieldTable& headers = FieldTable{}) {
        const Binding b = binding_with_key(std::move(pattern));
        return type->explain(b, RoutingInput{key, headers});
    };

    CHECK(explain("a.*.c", "a.b.c") == std::nullopt);
    CHECK(explain("#", "") == std::nullopt);
    CHECK(explain("a.b.c", "a.x.c") == "word 2 'x' != pattern word 2 'b'");
    CHECK(explain("a.b.*", "a.b") == "pattern word 3 '*' had no word to take");
    CHECK(explain("*", "") == "pattern word 1 '*' had no word to take");
    CHECK(explain("a.b", "a.b.c") == "word 3 'c' is past the end of the pattern (2 words)");
    CHECK(explain("", "a") ==
          "the empty pattern matches only the empty key, and word 1 is 'a'");
    // '#' may take any number of words: the report is the most telling dead end.
    CHECK(explain("a.#.b", "a.c.d") == "word 3 'd' != pattern word 3 'b'");
    CHECK(explain("a.#.c", "a.b.c.d") == "word 4 'd' != pattern word 3 'c'");
    CHECK(explain("#.a", "a.b") == "word 2 'b' != pattern word 2 'a'");
    CHECK(explain("a#b", "axb") == "word 1 'axb' != pattern word 1 'a#b'");
    CHECK(explain("a..b", "a.b") == "word 2 'b' != pattern word 2 ''");

    SECTION("a CC key that matches is enough") {
        const FieldTable headers{{"CC", FieldArray{"a.b"}}};
        CHECK(explain("a.*", "x", headers) == std::nullopt);
    }
    SECTION("each routed key's miss is listed") {
        const FieldTable headers{{"CC", FieldArray{"a"}}};
        CHECK(explain("a.*", "x.y", headers) ==
              "routing key 'x.y': word 1 'x' != pattern word 1 'a'; "
              "CC/BCC key 'a': pattern word 2 '*' had no word to take");
    }
}

TEST_CASE("topic: name and binding validation", "[topic]") {
    auto type = make_exchange_type("topic");
    CHECK(type->name() == "topic");
    // RabbitMQ 3.10 accepts any binding key, however odd.
    CHECK(type->validate_binding("#.#.#", {}) == std::nullopt);
    CHECK(type->validate_binding("a#b.*x", {}) == std::nullopt);
}
