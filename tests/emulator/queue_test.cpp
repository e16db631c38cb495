// Queue: ready messages in order, requeue to the original place, and the byte count.
#include <catch2/catch.hpp>

#include "queue.hpp"

using namespace warren;
using namespace warren::emulator;

namespace {

MessagePtr message(std::string body) {
    return std::make_shared<const StoredMessage>("", "q", Message{std::move(body)});
}

std::vector<std::string> bodies(Queue& q) {
    std::vector<std::string> out;
    while (q.has_ready()) {
        auto m = q.pop();
        out.push_back(m.message->body() + (m.redelivered ? "*" : ""));
    }
    return out;
}

}  // namespace

TEST_CASE("a queue hands out messages in order and takes requeued ones back to their place") {
    Queue q("q", false, false, false, {}, 0);
    for (const char* b : {"a", "bb", "ccc", "dddd"}) q.enqueue(message(b));
    CHECK(q.ready_count() == 4);
    CHECK(q.ready_bytes() == 10);

    auto a = q.pop();
    auto b = q.pop();
    auto c = q.pop();
    CHECK_FALSE(a.redelivered);
    CHECK(q.ready_bytes() == 4);
    // Requeued out of order, they still line up as they were published.
    q.requeue(std::move(c));
    q.requeue(std::move(a));
    q.enqueue(message("e"));
    q.requeue(std::move(b));
    CHECK(q.ready_bytes() == 1 + 2 + 3 + 4 + 1);
    CHECK(bodies(q) == std::vector<std::string>{"a*", "bb*", "ccc*", "dddd", "e"});
    CHECK(q.ready_bytes() == 0);
}

TEST_CASE("purge drops ready messages and says how many") {
    Queue q("q", true, false, true, {{"x-max-length", 3}}, 0);
    CHECK(q.durable());
    CHECK(q.auto_delete());
    CHECK_FALSE(q.exclusive());
    CHECK(q.arguments().at("x-max-length").as_int() == 3);
    q.enqueue(message("a"));
    q.enqueue(message("b"));
    auto held = q.pop();
    CHECK(q.purge() == 1);
    CHECK(q.ready_bytes() == 0);
    q.requeue(std::move(held));
    CHECK(bodies(q) == std::vector<std::string>{"a*"});
}

TEST_CASE("an exclusive queue records its owner; a shared one has none") {
    Queue owned("q", false, true, false, {}, 7);
    CHECK(owned.exclusive());
    CHECK(owned.owner() == 7);
    Queue shared("q", false, false, false, {}, 7);
    CHECK_FALSE(shared.exclusive());
    CHECK(shared.owner() == 0);
}
