// warren-server's log: one line per event on stderr, for a person to read.
//
//   2026-11-26 12:00:00.123 [info] <conn 3 127.0.0.1:40000 -> 127.0.0.1:5672> accepted
//   2026-11-26 12:00:00.456 [error] <conn 3 127.0.0.1:40000 -> 127.0.0.1:5672 ch 1> queue.declare: ...
//
// Time stamps are local time with milliseconds, as RabbitMQ writes them. A Logger is used from
// the server's one thread; the sink receives whole lines (without the newline).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace warren::server {

enum class LogLevel { debug, info, warning, error, none };

/// "debug", "info", "warning", "error", "none".
std::string_view log_level_name(LogLevel level) noexcept;
/// The level named `name` (the names above, and "warn"); nullopt for another word.
std::optional<LogLevel> parse_log_level(std::string_view name) noexcept;

class Logger {
public:
    using Sink = std::function<void(std::string_view line)>;

    /// Lines below `min` are dropped. Without a sink, lines go to stderr.
    explicit Logger(LogLevel min = LogLevel::info, Sink sink = {});

    bool enabled(LogLevel level) const noexcept { return level >= min_ && min_ != LogLevel::none; }

    /// `context` names the connection (and channel) the line is about, or is empty.
    void write(LogLevel level, std::string_view context, std::string_view message) const;

    template <class... Args>
    void log(LogLevel level, std::string_view context, fmt::format_string<Args...> f,
             Args&&... args) const {
        if (enabled(level)) write(level, context, fmt::format(f, std::forward<Args>(args)...));
    }

private:
    LogLevel min_;
    Sink sink_;
};

}  // namespace warren::server
