#include "warren/server/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace warren::server {

std::string_view log_level_name(LogLevel level) noexcept {
    switch (level) {
        case LogLevel::debug: return "debug";
        case LogLevel::info: return "info";
        case LogLevel::warning: return "warning";
        case LogLevel::error: return "error";
        case LogLevel::none: return "none";
    }
    return "none";
}

std::optional<LogLevel> parse_log_level(std::string_view name) noexcept {
    for (LogLevel l : {LogLevel::debug, LogLevel::info, LogLevel::warning, LogLevel::error, LogLevel::none})
        if (name == log_level_name(l)) return l;
    if (name == "warn") return LogLevel::warning;
    return std::nullopt;
}

Logger::Logger(LogLevel min, Sink sink) : min_(min), sink_(std::move(sink)) {}

void Logger::write(LogLevel level, std::string_view context, std::string_view message) const {
    if (!enabled(level)) return;
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm local{};
    localtime_r(&seconds, &local);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &local);
    std::string line = context.empty()
                           ? fmt::format("{}.{:03} [{}] {}", stamp, millis, log_level_name(level), message)
                           : fmt::format("{}.{:03} [{}] {} {}", stamp, millis, log_level_name(level),
                                         context, message);
    if (sink_) {
        sink_(line);
        return;
    }
    line.push_back('\n');
    // One write per line, so that lines from a crashing process are still whole.
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}

}  // namespace warren::server
