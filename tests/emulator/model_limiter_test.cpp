// Acknowledgements and prefetch driven through Model alone, with no Broker and no lock: a
// BrokerState with one connection, one channel and one queue, and a sink that records what the
// model delivers. What limiter.cpp owns: collect_acks' tag rules, settle, the channel's global
// limit (rabbit_limiter) and a consumer's own prefetch.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "model.hpp"

using namespace warren;
using namespace warren::emulator;

namespace {

struct Delivered {
    std::string consumer_tag;
    std::uint64_t delivery_tag = 0;
    bool redelivered = false;
    std::string body;
};

class RecordingSink final : public ConnectionSink {
public:
    std::vector<Delivered> delivered;

    void on_deliver(ChannelId, const DeliverEvent& e) override {
        delivered.push_back({std::string(e.consumer_tag), e.delivery_tag, e.redelivered, e.message.body()});
    }
    void on_return(ChannelId, const ReturnEvent&) override {}
    void on_confirm(ChannelId, std::uint64_t, bool, bool) override {}
    void on_consumer_cancelled(ChannelId, std::string_view) override {}
    void on_connection_closed(const AmqpError&) override {}
    void on_connection_lost() override {}
};

/// One connection with channel 1 on vhost "/", and queue "q" in it.
struct ModelFixture {
    BrokerState state{BrokerOptions{}};
    RecordingSink sink;
    ChannelState* ch = nullptr;
    Queue* q = nullptr;

    ModelFixture() {
        VHost& v = *state.find_vhost("/");
        auto conn = std::make_unique<ConnectionState>();
        conn->id = 1;
        conn->vhost = &v;
        conn->sink = &sink;
        auto channel = std::make_unique<ChannelState>();
        channel->connection = conn.get();
        channel->id = 1;
        ch = channel.get();
        conn->channels.emplace(1, std::move(channel));
        state.connections.emplace(1, std::move(conn));
        auto queue = std::make_unique<Queue>("q", false, false, false, FieldTable{}, 0);
        queue->set_vhost(&v);
        q = queue.get();
        v.queues.emplace("q", std::move(queue));
    }

    Model model() { return Model(state); }

    void enqueue(std::initializer_list<const char*> bodies) {
        for (const char* b : bodies) q->enqueue(std::make_shared<const StoredMessage>("", "q", Message{b}));
    }

    /// What basic.consume does once its checks pass: the consumer takes the channel's
    /// consumer prefetch and joins the queue's rotation.
    Consumer& consume(std::string tag) {
        auto c = std::make_unique<Consumer>();
        c->tag = tag;
        c->channel = ch;
        c->queue = q;
        c->prefetch = ch->consumer_prefetch;
        c->credit = c->prefetch;
        Consumer& ref = *c;
        ch->consumers.emplace(std::move(tag), std::move(c));
        q->consumers().add(&ref);
        q->note_consumer_added();
        model().dispatch(*q);
        return ref;
    }

    /// basic.ack / basic.nack as the handlers run them: collect, then settle.
    void settle(std::uint64_t tag, bool multiple, Settle how) {
        auto acked = model().collect(*ch, tag, multiple, method::basic_ack);
        REQUIRE(acked);
        model().settle(*ch, std::move(acked.value()), how);
    }

    std::vector<std::string> bodies() const {
        std::vector<std::string> out;
        for (const auto& d : sink.delivered) out.push_back(d.body + (d.redelivered ? "*" : ""));
        return out;
    }
};

}  // namespace

TEST_CASE("Model: the channel's global prefetch holds deliveries until an ack frees room") {
    ModelFixture f;
    f.model().set_prefetch(*f.ch, 2, true);
    f.enqueue({"a", "b", "c", "d"});
    f.consume("c1");

    CHECK(f.bodies() == std::vector<std::string>{"a", "b"});
    CHECK(f.ch->limiter_volume == 2);
    CHECK(f.ch->limit_reached());
    CHECK(f.q->ready_count() == 2);

    f.settle(1, false, Settle::Ack);
    CHECK(f.bodies() == std::vector<std::string>{"a", "b", "c"});
    CHECK(f.ch->limiter_volume == 2);

    // multiple=true takes every tag up to the one named: both free their room at once.
    f.settle(3, true, Settle::Ack);
    CHECK(f.bodies() == std::vector<std::string>{"a", "b", "c", "d"});
    CHECK(f.ch->limiter_volume == 1);
    CHECK(f.ch->unacked.size() == 1);
    CHECK(f.ch->unacked.front().tag == 4);
}

TEST_CASE("Model: a requeued delivery goes back to its place and comes out redelivered") {
    ModelFixture f;
    f.model().set_prefetch(*f.ch, 1, false);
    f.enqueue({"a", "b"});
    Consumer& c = f.consume("c1");
    CHECK(c.prefetch == 1);
    CHECK(f.bodies() == std::vector<std::string>{"a"});

    f.settle(1, false, Settle::Requeue);
    // The requeued head is offered again before "b", with a fresh delivery tag.
    REQUIRE(f.sink.delivered.size() == 2);
    CHECK(f.sink.delivered[1].body == "a");
    CHECK(f.sink.delivered[1].redelivered);
    CHECK(f.sink.delivered[1].delivery_tag == 2);

    f.settle(2, false, Settle::Ack);
    CHECK(f.bodies() == std::vector<std::string>{"a", "a*", "b"});
    CHECK(f.q->ready_count() == 0);
}

TEST_CASE("Model: a rejected delivery without a dead-letter exchange is dropped") {
    ModelFixture f;
    f.model().set_prefetch(*f.ch, 1, false);
    f.enqueue({"a", "b"});
    f.consume("c1");
    f.settle(1, false, Settle::Reject);
    CHECK(f.bodies() == std::vector<std::string>{"a", "b"});
    CHECK(f.q->ready_count() == 0);
    CHECK(f.ch->unacked.size() == 1);
}

TEST_CASE("Model: collect refuses an unknown tag and leaves the outstanding deliveries alone") {
    ModelFixture f;
    f.enqueue({"a", "b"});
    f.consume("c1");
    REQUIRE(f.ch->unacked.size() == 2);

    auto unknown = f.model().collect(*f.ch, 7, false, method::basic_ack);
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().code() == ReplyCode::PreconditionFailed);
    CHECK(unknown.error().reply_text() == "PRECONDITION_FAILED - unknown delivery tag 7");
    CHECK(f.ch->unacked.size() == 2);

    // multiple with tag 0 takes everything outstanding.
    auto all = f.model().collect(*f.ch, 0, true, method::basic_ack);
    REQUIRE(all);
    CHECK(all.value().size() == 2);
    CHECK(f.ch->unacked.empty());
}
