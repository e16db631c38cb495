#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

#include "exchange_types/topic_trie.hpp"

using namespace warren::emulator;

namespace {

std::vector<std::string> words_of(std::string_view key) {
    std::vector<std::string_view> views;
    split_topic_key(key, views);
    return {views.begin(), views.end()};
}

std::vector<const Binding*> matches(const TopicTrie& trie, std::string_view key) {
    std::vector<const Binding*> out;
    trie.match(key, out);
    std::sort(out.begin(), out.end());
    return out;
}

using Pointers = std::vector<const Binding*>;

Pointers sorted(Pointers p) {
    std::sort(p.begin(), p.end());
    return p;
}

}  // namespace

TEST_CASE("split_topic_key keeps empty words", "[topic_trie]") {
    using Words = std::vector<std::string>;
    CHECK(words_of("").empty());
    CHECK(words_of("a") == Words{"a"});
    CHECK(words_of("a.b.c") == Words{"a", "b", "c"});
    CHECK(words_of("a..b") == Words{"a", "", "b"});
    CHECK(words_of(".") == Words{"", ""});
    CHECK(words_of("..") == Words{"", "", ""});
    CHECK(words_of("a.b.") == Words{"a", "b", ""});
    CHECK(words_of(".a") == Words{"", "a"});

    std::vector<std::string_view> reused{"stale", "words"};
    split_topic_key("x", reused);
    CHECK(reused == std::vector<std::string_view>{"x"});
}

TEST_CASE("TopicTrie matches literal words, '*' and '#'", "[topic_trie]") {
    std::deque<Binding> b(8);
    TopicTrie trie;
    trie.add("a.b", &b[0]);
    trie.add("a.*", &b[1]);
    trie.add("a.#", &b[2]);
    trie.add("#", &b[3]);
    trie.add("", &b[4]);
    trie.add("a*", &b[5]);
    trie.add("#.#.#.#", &b[6]);
    trie.add("*.#.*", &b[7]);

    CHECK(matches(trie, "a.b") == sorted({&b[0], &b[1], &b[2], &b[3], &b[6], &b[7]}));
    CHECK(matches(trie, "a") == sorted({&b[2], &b[3], &b[6]}));
    CHECK(matches(trie, "") == sorted({&b[3], &b[4], &b[6]}));
    CHECK(matches(trie, "a*") == sorted({&b[3], &b[5], &b[6]}));
    CHECK(matches(trie, "ab") == sorted({&b[3], &b[6]}));
    CHECK(matches(trie, "a.b.c.d.e.f.g") == sorted({&b[2], &b[3], &b[6], &b[7]}));
}

TEST_CASE("TopicTrie returns each binding once per match", "[topic_trie]") {
    // Many ways through "#.#.#.#" must not mean many copies, nor exponential work.
    std::deque<Binding> b(3);
    TopicTrie trie;
    trie.add("#.#.#.#.#.#", &b[0]);
    trie.add("#.a.#.a.#", &b[1]);
    trie.add("*.#.*.#.*", &b[2]);
    std::string key = "a";
    for (int i = 0; i < 60; ++i) key += ".a";
    CHECK(matches(trie, key) == sorted({&b[0], &b[1], &b[2]}));
}

TEST_CASE("TopicTrie appends to what is already in the output", "[topic_trie]") {
    Binding first, second;
    TopicTrie trie;
    trie.add("x", &second);
    std::vector<const Binding*> out{&first};
    trie.match("x", out);
    CHECK(out == std::vector<const Binding*>{&first, &second});
}

TEST_CASE("TopicTrie remove prunes the nodes it empties", "[topic_trie]") {
    std::deque<Binding> b(4);
    TopicTrie trie;
    CHECK(trie.empty());
    CHECK(trie.node_count() == 1);

    trie.add("a.b.c", &b[0]);
    CHECK(trie.node_count() == 4);
    trie.add("a.b.#", &b[1]);
    trie.add("a.*", &b[2]);
    trie.add("a.b.c", &b[3]);
    CHECK(trie.node_count() == 6);  // root, a, a.b, a.b.c, a.b.#, a.*

    CHECK(trie.remove("a.b.c", &b[0]));
    CHECK(trie.node_count() == 6);  // b[3] still holds a.b.c
    CHECK(trie.remove("a.b.c", &b[3]));
    CHECK(trie.node_count() == 5);
    CHECK(matches(trie, "a.b.c") == Pointers{&b[1]});

    CHECK(trie.remove("a.b.#", &b[1]));
    CHECK(trie.node_count() == 3);  // root, a, a.*
    CHECK(trie.remove("a.*", &b[2]));
    CHECK(trie.node_count() == 1);
    CHECK(trie.empty());
    CHECK(matches(trie, "a.b").empty());
}

TEST_CASE("TopicTrie remove of something not filed changes nothing", "[topic_trie]") {
    std::deque<Binding> b(2);
    TopicTrie trie;
    trie.add("a.b", &b[0]);
    CHECK_FALSE(trie.remove("a.b", &b[1]));
    CHECK_FALSE(trie.remove("a.c", &b[0]));
    CHECK_FALSE(trie.remove("a.b.c", &b[0]));
    CHECK_FALSE(trie.remove("a", &b[0]));
    CHECK(trie.node_count() == 3);
    CHECK(matches(trie, "a.b") == Pointers{&b[0]});
}

TEST_CASE("TopicTrie keeps one entry per add", "[topic_trie]") {
    Binding b;
    TopicTrie trie;
    trie.add("k", &b);
    trie.add("k", &b);
    CHECK(matches(trie, "k") == Pointers{&b, &b});
    CHECK(trie.remove("k", &b));
    CHECK(matches(trie, "k") == Pointers{&b});
    CHECK(trie.remove("k", &b));
    CHECK(trie.empty());
}

TEST_CASE("TopicTrie keys a word '*' or '#' only as a wildcard", "[topic_trie]") {
    std::deque<Binding> b(2);
    TopicTrie trie;
    trie.add("x.y", &b[0]);
    trie.add("x.*", &b[1]);
    // A routing key word "*" is literal text: only the wildcard binding takes it.
    CHECK(matches(trie, "x.*") == Pointers{&b[1]});
    CHECK(matches(trie, "x.#") == Pointers{&b[1]});
}

TEST_CASE("TopicTrie can be moved", "[topic_trie]") {
    Binding b;
    TopicTrie trie;
    trie.add("a.#", &b);
    TopicTrie moved = std::move(trie);
    CHECK(matches(moved, "a.b.c") == Pointers{&b});
}
