// Where a scenario is played: the in-process emulator or a broker behind an AMQP URI.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "warren/warren.hpp"

namespace warren::conformance {

class Target {
public:
    virtual ~Target() = default;

    /// How the target is named in output: "inproc", or the URI with its password hidden.
    virtual const std::string& name() const = 0;
    /// True when the broker runs on its own: deliveries arrive asynchronously, time is real and
    /// state survives between scenarios (so names are deleted before and after each one).
    virtual bool is_remote() const = 0;
    /// Called before each scenario: the in-process target starts a fresh Broker.
    virtual void begin_scenario() = 0;
    /// Called after each scenario, once every connection of the scenario is gone.
    virtual void end_scenario() = 0;
    virtual Connection connect() = 0;
    /// Lets `d` of broker time pass: ManualClock::advance in-process, a sleep on a real broker
    /// (the caller keeps processing events meanwhile).
    virtual void advance(std::chrono::milliseconds d) = 0;
};

/// "inproc", or an "amqp://..." URI. Throws std::invalid_argument for anything else, and for a
/// URI when the suite was built without the rabbitmq-c backend.
std::unique_ptr<Target> make_target(std::string_view spec);

}  // namespace warren::conformance
