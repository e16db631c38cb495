// What a scenario holds while it plays on one target: connections, the transcript, and
// helpers that run an AMQP call and write down what a client observed.
//
// Scenarios are written once and run on every target, so they never rely on timing: anything
// that arrives asynchronously on a real broker (consumer deliveries, returns) is collected and
// written down only after an explicit wait for it (await, eventually, wait_for_confirms), which
// on the in-process target, where nothing is asynchronous, just processes the pending events.
#pragma once

#include <chrono>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "target.hpp"
#include "transcript.hpp"

namespace warren::conformance {

using namespace std::chrono_literals;

/// A consumer that keeps what it receives, to be written down by Session::await.
struct Inbox {
    std::string label;
    std::string consumer_tag;
    std::vector<Delivery> deliveries;
    std::size_t written = 0;
};

/// The basic.return messages of one channel, written down by Session::write_returns.
struct ReturnLog {
    std::vector<Returned> returns;
    std::size_t written = 0;
};

/// The basic.return messages and publisher confirms of one channel, in the order the client
/// received them, written down by Session::write_events. A confirm with `multiple` set stands
/// for every sequence number up to its tag not confirmed before, written one per line ("ack 3"),
/// so what RabbitMQ chooses to coalesce does not show.
struct EventLog {
    std::vector<std::string> events;
    std::map<std::uint64_t, bool> outcomes;  // sequence number -> acked
    std::size_t written = 0;
};

/// Runs inside Connection::process_events for every delivery, after it is kept in the inbox:
/// acks, rejects, cancels.
using OnDelivery = std::function<void(Channel&, const Delivery&)>;

class Session {
public:
    /// How long eventually() and await() wait on a real broker before giving up.
    static constexpr std::chrono::milliseconds default_timeout = 5s;

    Session(Target& target, std::string_view scenario, Transcript& transcript);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    bool is_remote() const { return target_.is_remote(); }

    // ---- names: "cf.<scenario>.<suffix>", deleted on a real broker now and when done ----
    std::string queue_name(std::string_view suffix);
    std::string exchange_name(std::string_view suffix);

    // ---- connections ----
    /// A new connection, open until the scenario ends.
    Connection& connect();
    /// The first connection (opened on first use).
    Connection& connection();
    /// A new channel on the first connection.
    Channel channel();

    // ---- the transcript ----
    void note(std::string_view line) { transcript_.add(line); }
    template <class... A>
    void note(fmt::format_string<A...> f, A&&... args) {
        transcript_.add(fmt::format(f, std::forward<A>(args)...));
    }

    /// Runs `fn` and writes "label: ok" (or "label: <what fn returned>" when it returns a
    /// string), or the error it raised: AmqpError, ChannelClosed, ConnectionClosed with code,
    /// text, class and method; ClientError with its text. Returns whether `fn` succeeded.
    template <class F>
    bool attempt(std::string_view label, F&& fn) {
        try {
            if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
                fn();
                note("{}: ok", label);
            } else {
                note("{}: {}", label, fn());
            }
            return true;
        } catch (...) {
            note_failure(label, std::current_exception());
            return false;
        }
    }

    // ---- AMQP calls that write down their outcome ----
    bool exchange_declare(Channel& ch, std::string_view exchange, std::string_view type,
                          const ExchangeOptions& options = {});
    bool exchange_delete(Channel& ch, std::string_view exchange, const ExchangeDeleteOptions& options = {});
    bool exchange_bind(Channel& ch, std::string_view destination, std::string_view source,
                       std::string_view key = "", const FieldTable& arguments = {});
    bool exchange_unbind(Channel& ch, std::string_view destination, std::string_view source,
                         std::string_view key = "", const FieldTable& arguments = {});
    std::optional<QueueDeclareOk> queue_declare(Channel& ch, std::string_view queue,
                                                const QueueOptions& options = {});
    /// A passive queue.declare: the queue's ready message and consumer counts.
    std::optional<QueueDeclareOk> count(Channel& ch, std::string_view queue);
    bool queue_bind(Channel& ch, std::string_view queue, std::string_view exchange,
                    std::string_view key = "", const FieldTable& arguments = {});
    bool queue_unbind(Channel& ch, std::string_view queue, std::string_view exchange,
                      std::string_view key = "", const FieldTable& arguments = {});
    bool queue_purge(Channel& ch, std::string_view queue);
    bool queue_delete(Channel& ch, std::string_view queue, const QueueDeleteOptions& options = {});
    bool basic_qos(Channel& ch, std::uint16_t prefetch_count, bool global = false);

    void publish(Channel& ch, std::string_view exchange, std::string_view key, std::string body,
                 BasicProperties properties = {}, PublishOptions options = {});
    /// basic.get; writes the get-ok or "empty".
    std::optional<Delivery> get(Channel& ch, std::string_view queue, bool no_ack = true);
    /// basic.get with no_ack until the queue is empty (at most 100 messages).
    void drain(Channel& ch, std::string_view queue);

    bool ack(Channel& ch, std::uint64_t tag, bool multiple = false);
    bool nack(Channel& ch, std::uint64_t tag, bool multiple = false, bool requeue = true);
    bool reject(Channel& ch, std::uint64_t tag, bool requeue = true);
    bool recover(Channel& ch, bool requeue = true);
    bool cancel(Channel& ch, const Inbox& inbox);
    bool close(Channel& ch);

    /// basic.consume into a new inbox named `label`; writes the consumer tag.
    Inbox& consume(Channel& ch, std::string_view queue, std::string_view label,
                   const ConsumeOptions& options = {}, OnDelivery on_delivery = {});
    /// Processes events until `inbox` holds at least `n` deliveries (bounded by the timeout),
    /// then writes down every delivery not written yet.
    bool await(Inbox& inbox, std::size_t n, std::chrono::milliseconds timeout = default_timeout);
    /// Lets stray deliveries arrive (a short quiet period on a real broker), then writes down
    /// what the inbox got beyond what was written. Only ever used to show that nothing more came.
    void settle(Inbox& inbox);

    /// Keeps the channel's basic.return messages.
    ReturnLog& watch_returns(Channel& ch);
    /// confirm.select on `ch`.
    bool confirm_select(Channel& ch);
    /// wait_for_confirms (which also runs the return callbacks sent before the confirms) and
    /// writes "all acked" or "some nacked". Individual confirms are not written: RabbitMQ may
    /// coalesce them into "multiple" acks as it likes.
    bool wait_for_confirms(Channel& ch);
    void write_returns(ReturnLog& log);
    /// Keeps the channel's returns and confirms in arrival order (instead of watch_returns).
    EventLog& watch_events(Channel& ch);
    /// Writes the events not written yet, in arrival order ("events: none" when there are none).
    /// Deterministic only where at most one publish is unconfirmed at a time.
    void write_events(EventLog& log);
    /// Writes the returns in arrival order, then each sequence number's outcome in sequence order
    /// ("confirm 1: ack"), whatever the order and grouping the broker sent the confirms in.
    void write_outcomes(const EventLog& log);

    // ---- time and asynchrony ----
    /// Processes events on every connection until `condition` holds or the timeout passes; on
    /// the in-process target processes the pending events and checks once.
    bool eventually(const std::function<bool()>& condition,
                    std::chrono::milliseconds timeout = default_timeout);
    /// Lets `d` of broker time pass (ManualClock in-process, a sleep on a real broker).
    void wait(std::chrono::milliseconds d);
    /// The x-stream-offset of the first message a reader attaching to the stream at "first"
    /// is given now (nullopt when none arrives within a second), read on a connection of the
    /// session's own that writes nothing down. For waiting on what a real broker does in the
    /// background (stream retention), not for what a scenario observes.
    std::optional<std::int64_t> first_stream_offset(std::string_view stream);
    /// A passive declare's counts, on a connection of the session's own that writes nothing
    /// down (nullopt when the declare fails). For waiting on what a real broker does in the
    /// background (dead-lettering, a closed channel's deliveries coming back).
    std::optional<QueueDeclareOk> peek_counts(std::string_view queue);

    /// Closes the scenario's connections and deletes its names on a real broker.
    void finish();

private:
    void note_failure(std::string_view label, std::exception_ptr error);
    /// Runs `fn` on the session's own admin channel, (re)opening it as needed; false when it threw.
    bool on_admin_channel(const std::function<void(Channel&)>& fn);
    void pump(std::chrono::milliseconds block);
    void delete_names(const std::vector<std::string>& queues, const std::vector<std::string>& exchanges);

    Target& target_;
    std::string prefix_;
    Transcript& transcript_;
    std::deque<Connection> connections_;
    std::optional<Connection> admin_;
    std::optional<Channel> admin_channel_;
    std::deque<Channel> consumer_channels_;
    std::deque<Inbox> inboxes_;
    std::deque<ReturnLog> return_logs_;
    std::deque<EventLog> event_logs_;
    std::vector<std::string> queues_;
    std::vector<std::string> exchanges_;
    bool finished_ = false;
};

}  // namespace warren::conformance
