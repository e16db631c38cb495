// Where the model's time comes from.
//
// The in-process Broker defaults to a ManualClock: time stands still until a test calls
// Broker::advance, so TTL and expiry logic run deterministically and in microseconds.
// SystemClock reads real time, for warren-server.
#pragma once

#include <chrono>

namespace warren {

using Duration = std::chrono::milliseconds;
/// Milliseconds since the Unix epoch: RabbitMQ's resolution for TTLs and expiry.
using TimePoint = std::chrono::time_point<std::chrono::system_clock, Duration>;

class Clock {
public:
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
};

/// A clock that moves only when told to. Starts at 2024-01-01T00:00:00Z unless given a start.
class ManualClock final : public Clock {
public:
    static constexpr TimePoint default_start{Duration{1'704'067'200'000}};

    explicit ManualClock(TimePoint start = default_start) : now_(start) {}
    TimePoint now() const override { return now_; }
    /// Moves time forward to `t`; never backwards.
    void set(TimePoint t) {
        if (t > now_) now_ = t;
    }

private:
    TimePoint now_;
};

class SystemClock final : public Clock {
public:
    TimePoint now() const override {
        return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
    }
};

}  // namespace warren
