#include "session.hpp"

#include <iterator>
#include <thread>

namespace warren::conformance {
namespace {

// " durable auto_delete args={...}": the options a call was made with, for its label.
struct Flags {
    std::string text;
    Flags& add(bool on, std::string_view name) {
        if (on) fmt::format_to(std::back_inserter(text), " {}", name);
        return *this;
    }
    Flags& add(const FieldTable& arguments, std::string_view name = "args") {
        if (!arguments.empty()) fmt::format_to(std::back_inserter(text), " {}={}", name, describe(arguments));
        return *this;
    }
};

std::string binding_label(std::string_view method, std::string_view destination, std::string_view source,
                          std::string_view key, const FieldTable& arguments) {
    return fmt::format("{} {} <- {} key={}{}", method, quote(destination), quote(source), quote(key),
                       Flags{}.add(arguments).text);
}

}  // namespace

Session::Session(Target& target, std::string_view scenario, Transcript& transcript)
    : target_(target), prefix_(fmt::format("cf.{}.", scenario)), transcript_(transcript) {}

Session::~Session() {
    if (!finished_) {
        try {
            finish();
        } catch (...) {
        }
    }
}

std::string Session::queue_name(std::string_view suffix) {
    std::string name = prefix_ + std::string(suffix);
    queues_.push_back(name);
    if (target_.is_remote()) delete_names({name}, {});
    return name;
}

std::string Session::exchange_name(std::string_view suffix) {
    std::string name = prefix_ + std::string(suffix);
    exchanges_.push_back(name);
    if (target_.is_remote()) delete_names({}, {name});
    return name;
}

void Session::delete_names(const std::vector<std::string>& queues, const std::vector<std::string>& exchanges) {
    // Leftovers of an earlier run (or of this one) on a shared broker; nothing is written down.
    for (const auto& q : queues) on_admin_channel([&](Channel& c) { c.queue_delete(q); });
    for (const auto& x : exchanges) on_admin_channel([&](Channel& c) { c.exchange_delete(x); });
}

bool Session::on_admin_channel(const std::function<void(Channel&)>& fn) {
    // The connection is the session's own and never processes the scenario's events.
    try {
        if (!admin_ || !admin_->is_open()) {
            admin_.reset();
            admin_channel_.reset();
            admin_ = target_.connect();
        }
        if (!admin_channel_ || !admin_channel_->is_open()) admin_channel_ = admin_->channel();
        fn(*admin_channel_);
        return true;
    } catch (const std::exception&) {
        return false;
    }
}

Connection& Session::connect() { return connections_.emplace_back(target_.connect()); }

Connection& Session::connection() {
    if (connections_.empty()) return connect();
    return connections_.front();
}

Channel Session::channel() { return connection().channel(); }

void Session::note_failure(std::string_view label, std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const ChannelClosed& e) {
        note("{}: channel closed {}", label, describe(e));
    } catch (const ConnectionClosed& e) {
        note("{}: connection closed {}", label, describe(e));
    } catch (const AmqpError& e) {
        note("{}: {} {}", label, e.closes_connection() ? "connection error" : "channel error", describe(e));
    } catch (const ClientError& e) {
        note("{}: client error {}", label, e.what());
    } catch (const std::exception& e) {
        note("{}: exception {}", label, e.what());
    }
}

bool Session::exchange_declare(Channel& ch, std::string_view exchange, std::string_view type,
                               const ExchangeOptions& o) {
    const auto flags = Flags{}
                           .add(o.passive, "passive")
                           .add(o.durable, "durable")
                           .add(o.auto_delete, "auto_delete")
                           .add(o.internal, "internal")
                           .add(o.arguments)
                           .text;
    return attempt(fmt::format("exchange.declare {} type={}{}", quote(exchange), quote(type), flags),
                   [&] { ch.exchange_declare(exchange, type, o); });
}

bool Session::exchange_delete(Channel& ch, std::string_view exchange, const ExchangeDeleteOptions& o) {
    return attempt(fmt::format("exchange.delete {}{}", quote(exchange), Flags{}.add(o.if_unused, "if_unused").text),
                   [&] { ch.exchange_delete(exchange, o); });
}

bool Session::exchange_bind(Channel& ch, std::string_view destination, std::string_view source,
                            std::string_view key, const FieldTable& arguments) {
    return attempt(binding_label("exchange.bind", destination, source, key, arguments),
                   [&] { ch.exchange_bind(destination, source, key, arguments); });
}

bool Session::exchange_unbind(Channel& ch, std::string_view destination, std::string_view source,
                              std::string_view key, const FieldTable& arguments) {
    return attempt(binding_label("exchange.unbind", destination, source, key, arguments),
                   [&] { ch.exchange_unbind(destination, source, key, arguments); });
}

std::optional<QueueDeclareOk> Session::queue_declare(Channel& ch, std::string_view queue, const QueueOptions& o) {
    const auto flags = Flags{}
                           .add(o.passive, "passive")
                           .add(o.durable, "durable")
                           .add(o.exclusive, "exclusive")
                           .add(o.auto_delete, "auto_delete")
                           .add(o.arguments)
                           .text;
    std::optional<QueueDeclareOk> ok;
    attempt(fmt::format("queue.declare {}{}", quote(queue), flags), [&] {
        ok = ch.queue_declare(queue, o);
        return describe(*ok);
    });
    return ok;
}

std::optional<QueueDeclareOk> Session::count(Channel& ch, std::string_view queue) {
    return queue_declare(ch, queue, {.passive = true});
}

bool Session::queue_bind(Channel& ch, std::string_view queue, std::string_view exchange, std::string_view key,
                         const FieldTable& arguments) {
    return attempt(binding_label("queue.bind", queue, exchange, key, arguments),
                   [&] { ch.queue_bind(queue, exchange, key, arguments); });
}

bool Session::queue_unbind(Channel& ch, std::string_view queue, std::string_view exchange, std::string_view key,
                           const FieldTable& arguments) {
    return attempt(binding_label("queue.unbind", queue, exchange, key, arguments),
                   [&] { ch.queue_unbind(queue, exchange, key, arguments); });
}

bool Session::queue_purge(Channel& ch, std::string_view queue) {
    return attempt(fmt::format("queue.purge {}", quote(queue)),
                   [&] { return fmt::format("purged {}", ch.queue_purge(queue)); });
}

bool Session::queue_delete(Channel& ch, std::string_view queue, const QueueDeleteOptions& o) {
    const auto flags = Flags{}.add(o.if_unused, "if_unused").add(o.if_empty, "if_empty").text;
    return attempt(fmt::format("queue.delete {}{}", quote(queue), flags),
                   [&] { return fmt::format("deleted with {} messages", ch.queue_delete(queue, o)); });
}

bool Session::basic_qos(Channel& ch, std::uint16_t prefetch_count, bool global) {
    return attempt(fmt::format("basic.qos prefetch_count={}{}", prefetch_count, global ? " global" : ""),
                   [&] { ch.basic_qos(prefetch_count, global); });
}

void Session::publish(Channel& ch, std::string_view exchange, std::string_view key, std::string body,
                      BasicProperties properties, PublishOptions options) {
    const std::string label =
        fmt::format("basic.publish exchange={} routing_key={} body={}{}{}", quote(exchange), quote(key),
                    quote(body), properties.empty() ? "" : " " + describe(properties),
                    options.mandatory ? " mandatory" : "");
    attempt(label, [&] { ch.basic_publish(exchange, key, Message{std::move(body), std::move(properties)}, options); });
}

std::optional<Delivery> Session::get(Channel& ch, std::string_view queue, bool no_ack) {
    std::optional<Delivery> got;
    attempt(fmt::format("basic.get {}{}", quote(queue), no_ack ? " no_ack" : ""), [&] {
        got = ch.basic_get(queue, no_ack);
        return got ? describe(*got) : std::string("empty");
    });
    return got;
}

void Session::drain(Channel& ch, std::string_view queue) {
    for (int i = 0; i < 100; ++i) {
        bool failed = false;
        std::optional<Delivery> got;
        failed = !attempt(fmt::format("basic.get {} no_ack", quote(queue)), [&] {
            got = ch.basic_get(queue, true);
            return got ? describe(*got) : std::string("empty");
        });
        if (failed || !got) return;
    }
    note("drain {}: stopped after 100 messages", quote(queue));
}

bool Session::ack(Channel& ch, std::uint64_t tag, bool multiple) {
    return attempt(fmt::format("basic.ack {}{}", tag, multiple ? " multiple" : ""),
                   [&] { ch.basic_ack(tag, multiple); });
}

bool Session::nack(Channel& ch, std::uint64_t tag, bool multiple, bool requeue) {
    return attempt(fmt::format("basic.nack {}{} requeue={}", tag, multiple ? " multiple" : "", requeue),
                   [&] { ch.basic_nack(tag, multiple, requeue); });
}

bool Session::reject(Channel& ch, std::uint64_t tag, bool requeue) {
    return attempt(fmt::format("basic.reject {} requeue={}", tag, requeue), [&] { ch.basic_reject(tag, requeue); });
}

bool Session::recover(Channel& ch, bool requeue) {
    return attempt(fmt::format("basic.recover requeue={}", requeue), [&] { ch.basic_recover(requeue); });
}

bool Session::cancel(Channel& ch, const Inbox& inbox) {
    return attempt(fmt::format("basic.cancel {}", inbox.label), [&] { ch.basic_cancel(inbox.consumer_tag); });
}

bool Session::close(Channel& ch) {
    return attempt("channel.close", [&] { ch.close(); });
}

Inbox& Session::consume(Channel& ch, std::string_view queue, std::string_view label, const ConsumeOptions& o,
                        OnDelivery on_delivery) {
    Inbox& inbox = inboxes_.emplace_back();
    inbox.label = std::string(label);
    // The callback lives in the channel's backend: it holds pointers into this session, never
    // a Channel, so that no channel keeps itself alive.
    Channel* kept = &consumer_channels_.emplace_back(ch);
    Inbox* in = &inbox;
    auto callback = [this, in, kept, on_delivery = std::move(on_delivery)](const Delivery& d) {
        in->deliveries.push_back(d);
        if (!on_delivery) return;
        try {
            on_delivery(*kept, d);
        } catch (...) {
            note_failure(fmt::format("{}: on delivery {}", in->label, d.delivery_tag), std::current_exception());
        }
    };
    const auto flags = Flags{}
                           .add(!o.consumer_tag.empty(), "consumer_tag=" + quote(o.consumer_tag))
                           .add(o.no_ack, "no_ack")
                           .add(o.exclusive, "exclusive")
                           .add(o.arguments)
                           .text;
    attempt(fmt::format("basic.consume {} as {}{}", quote(queue), label, flags), [&] {
        inbox.consumer_tag = ch.basic_consume(queue, callback, o);
        return fmt::format("consumer_tag={}", quote(inbox.consumer_tag));
    });
    return inbox;
}

bool Session::await(Inbox& inbox, std::size_t n, std::chrono::milliseconds timeout) {
    const bool arrived = eventually([&] { return inbox.deliveries.size() >= n; }, timeout);
    if (!arrived) note("{}: {} of {} deliveries arrived", inbox.label, inbox.deliveries.size(), n);
    for (; inbox.written < inbox.deliveries.size(); ++inbox.written)
        note("{}: {}", inbox.label, describe(inbox.deliveries[inbox.written]));
    return arrived;
}

void Session::settle(Inbox& inbox) {
    if (target_.is_remote()) {
        const auto until = std::chrono::steady_clock::now() + 300ms;
        while (std::chrono::steady_clock::now() < until) pump(10ms);
    } else {
        pump(0ms);
    }
    if (inbox.written == inbox.deliveries.size()) note("{}: nothing more", inbox.label);
    for (; inbox.written < inbox.deliveries.size(); ++inbox.written)
        note("{}: {}", inbox.label, describe(inbox.deliveries[inbox.written]));
}

ReturnLog& Session::watch_returns(Channel& ch) {
    ReturnLog& log = return_logs_.emplace_back();
    ch.on_return([log = &log](const Returned& r) { log->returns.push_back(r); });
    return log;
}

bool Session::confirm_select(Channel& ch) {
    return attempt("confirm.select", [&] { ch.confirm_select(); });
}

bool Session::wait_for_confirms(Channel& ch) {
    return attempt("wait_for_confirms", [&] {
        return std::string(ch.wait_for_confirms(default_timeout) ? "all acked" : "some nacked");
    });
}

void Session::write_returns(ReturnLog& log) {
    if (log.written == log.returns.size()) note("returns: none");
    for (; log.written < log.returns.size(); ++log.written) note("{}", describe(log.returns[log.written]));
}

EventLog& Session::watch_events(Channel& ch) {
    EventLog& log = event_logs_.emplace_back();
    ch.on_return([log = &log](const Returned& r) { log->events.push_back(describe(r)); });
    ch.on_confirm([log = &log](const Confirm& c) {
        const std::uint64_t first = c.multiple ? 1 : c.delivery_tag;
        for (std::uint64_t seq = first; seq <= c.delivery_tag; ++seq) {
            if (log->outcomes.contains(seq)) continue;
            log->outcomes.emplace(seq, c.ack);
            log->events.push_back(fmt::format("{} {}", c.ack ? "ack" : "nack", seq));
        }
    });
    return log;
}

void Session::write_events(EventLog& log) {
    if (log.written == log.events.size()) note("events: none");
    for (; log.written < log.events.size(); ++log.written) note("event: {}", log.events[log.written]);
}

void Session::write_outcomes(const EventLog& log) {
    for (const auto& e : log.events)
        if (e.starts_with("return ")) note("event: {}", e);
    if (log.outcomes.empty()) note("confirms: none");
    for (const auto& [seq, acked] : log.outcomes) note("confirm {}: {}", seq, acked ? "ack" : "nack");
}

void Session::pump(std::chrono::milliseconds block) {
    bool blocked = false;
    for (auto& c : connections_) {
        if (!c.is_open()) continue;
        try {
            c.process_events(blocked ? 0ms : block);
            blocked = true;
        } catch (const std::exception&) {
            // A connection the broker closed: the scenario sees that at its next call.
        }
    }
    if (!blocked && block.count() > 0) std::this_thread::sleep_for(block);
}

bool Session::eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
    pump(0ms);
    if (!target_.is_remote()) return condition();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        pump(5ms);
    }
    return true;
}

void Session::wait(std::chrono::milliseconds d) {
    if (!target_.is_remote()) {
        target_.advance(d);
        pump(0ms);
        return;
    }
    const auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) pump(5ms);
}

std::optional<std::int64_t> Session::first_stream_offset(std::string_view stream) {
    try {
        Connection probe = target_.connect();
        Channel ch = probe.channel();
        ch.basic_qos(1);
        std::optional<std::int64_t> first;
        bool delivered = false;
        ch.basic_consume(
            stream,
            [&](const Delivery& d) {
                if (delivered) return;
                delivered = true;
                if (const FieldValue* o = d.message.properties.headers.find("x-stream-offset"); o && o->is_integer())
                    first = o->as_int();
            },
            {.arguments = {{"x-stream-offset", "first"}}});
        const auto deadline = std::chrono::steady_clock::now() + 1s;
        probe.process_events();
        while (!delivered && target_.is_remote() && std::chrono::steady_clock::now() < deadline)
            probe.process_events(10ms);
        probe.close();
        return first;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::optional<QueueDeclareOk> Session::peek_counts(std::string_view queue) {
    std::optional<QueueDeclareOk> ok;
    on_admin_channel([&](Channel& c) { ok = c.queue_declare(queue, {.passive = true}); });
    return ok;
}

void Session::finish() {
    finished_ = true;
    for (auto& c : connections_) {
        try {
            c.close();
        } catch (const std::exception&) {
        }
    }
    if (target_.is_remote() && (!queues_.empty() || !exchanges_.empty())) delete_names(queues_, exchanges_);
    admin_channel_.reset();
    if (admin_) {
        try {
            admin_->close();
        } catch (const std::exception&) {
        }
        admin_.reset();
    }
}

}  // namespace warren::conformance
