// ConsumerRotation: the order in which a queue offers messages to its consumers
// (rabbit_queue_consumers): priority first, round-robin within a priority, blocked consumers
// rejoining at the back of their priority in the order they left.
#include <catch2/catch.hpp>

#include <string>

#include "consumer.hpp"

using namespace warren::emulator;

namespace {

// The rotation only compares channel pointers; these stand in for two channels.
struct FakeChannels {
    int a = 0, b = 0;
    const ChannelState* first() const { return reinterpret_cast<const ChannelState*>(&a); }
    const ChannelState* second() const { return reinterpret_cast<const ChannelState*>(&b); }
};

Consumer make(std::string tag, std::int64_t priority = 0, const ChannelState* ch = nullptr) {
    Consumer c;
    c.tag = std::move(tag);
    c.priority = priority;
    c.channel = const_cast<ChannelState*>(ch);
    return c;
}

/// Takes `n` turns: each consumer at the front takes one message and goes to the back.
std::string turns(ConsumerRotation& r, int n) {
    std::string out;
    for (int i = 0; i < n && r.has_active(); ++i) {
        Consumer* c = r.pop_front();
        out += c->tag;
        r.push_back(c);
    }
    return out;
}

}  // namespace

TEST_CASE("consumers of one priority take turns in the order they came") {
    Consumer a = make("A"), b = make("B"), c = make("C");
    ConsumerRotation r;
    r.add(&a);
    r.add(&b);
    r.add(&c);
    CHECK(r.size() == 3);
    CHECK(turns(r, 7) == "ABCABCA");
    r.remove(&b);
    CHECK(turns(r, 4) == "CACA");
}

TEST_CASE("higher priorities are served first, whenever they arrive") {
    Consumer lo = make("l"), hi = make("H", 5), hi2 = make("I", 5), mid = make("m", 1);
    ConsumerRotation r;
    r.add(&lo);
    r.add(&hi);
    r.add(&mid);
    r.add(&hi2);
    CHECK(turns(r, 4) == "HIHI");
    // With the high ones away, the next priority down takes its turn.
    r.remove(&hi);
    r.remove(&hi2);
    CHECK(turns(r, 2) == "mm");
    r.remove(&mid);
    CHECK(turns(r, 1) == "l");
}

TEST_CASE("blocked consumers rejoin at the back of their priority, per channel, in the order they left") {
    FakeChannels chans;
    Consumer a = make("A", 0, chans.first()), b = make("B", 0, chans.second()),
             c = make("C", 0, chans.first()), d = make("D", 0, chans.second());
    ConsumerRotation r;
    for (Consumer* x : {&a, &b, &c, &d}) r.add(x);
    // A and C find their channel full; B and D carry on.
    r.block(r.pop_front());  // A
    CHECK(turns(r, 1) == "B");
    r.block(r.pop_front());  // C
    CHECK(r.size() == 4);
    CHECK(turns(r, 4) == "DBDB");
    // Only channel one's consumers that are no longer held back come back.
    bool moved = r.unblock(chans.first(), [&](const Consumer* x) { return x == &c; });
    CHECK(moved);
    CHECK(turns(r, 3) == "DBA");
    CHECK_FALSE(r.unblock(chans.second(), [](const Consumer*) { return false; }));
    CHECK(r.unblock(chans.first(), [](const Consumer*) { return false; }));
    CHECK(turns(r, 4) == "DBAC");
    // A removed consumer leaves the blocked list too.
    r.block(r.pop_front());
    r.remove(&d);
    CHECK(r.size() == 3);
    CHECK_FALSE(r.unblock(chans.second(), [](const Consumer*) { return false; }));
}

TEST_CASE("front is the consumer a single-active-consumer queue hands over to; block_in_place sets one aside") {
    FakeChannels chs;
    ConsumerRotation r;
    CHECK(r.front() == nullptr);
    Consumer a = make("a", 0, chs.first()), b = make("b", 0, chs.second()), c = make("c", 5, chs.second());
    r.add(&a);
    r.add(&b);
    r.add(&c);
    CHECK(r.front() == &c);
    // The active consumer, wherever it stands, can be blocked without being popped.
    r.block_in_place(&a);
    CHECK(r.is_blocked(&a));
    CHECK_FALSE(r.is_blocked(&b));
    CHECK(r.size() == 3);
    CHECK(turns(r, 2) == "cc");
    r.remove(&c);
    CHECK(r.front() == &b);
    // Unblocked, it rejoins at the back of its priority.
    CHECK(r.unblock(chs.first(), [](const Consumer*) { return false; }));
    CHECK_FALSE(r.is_blocked(&a));
    CHECK(turns(r, 2) == "ba");
}
