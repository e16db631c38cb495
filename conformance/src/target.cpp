#include "target.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace warren::conformance {
namespace {

class InprocTarget final : public Target {
public:
    const std::string& name() const override { return name_; }
    bool is_remote() const override { return false; }
    void begin_scenario() override { broker_ = std::make_unique<Broker>(); }
    void end_scenario() override { broker_.reset(); }
    Connection connect() override {
        if (!broker_) broker_ = std::make_unique<Broker>();
        return warren::connect(*broker_);
    }
    void advance(std::chrono::milliseconds d) override { broker_->advance(d); }

private:
    std::string name_ = "inproc";
    std::unique_ptr<Broker> broker_;
};

#ifndef WARREN_CONFORMANCE_NO_AMQP
// "amqp://user:secret@host/" -> "amqp://user:***@host/": output never shows a password.
std::string hide_password(std::string_view uri) {
    const auto scheme = uri.find("://");
    const auto at = uri.find('@');
    if (scheme == std::string_view::npos || at == std::string_view::npos) return std::string(uri);
    const auto colon = uri.find(':', scheme + 3);
    if (colon == std::string_view::npos || colon > at) return std::string(uri);
    return fmt::format("{}:***{}", uri.substr(0, colon), uri.substr(at));
}

class AmqpTarget final : public Target {
public:
    explicit AmqpTarget(std::string_view uri) : uri_(uri), name_(hide_password(uri)) {}

    const std::string& name() const override { return name_; }
    bool is_remote() const override { return true; }
    void begin_scenario() override {}
    void end_scenario() override {}
    Connection connect() override { return warren::connect(uri_); }
    void advance(std::chrono::milliseconds) override {}

private:
    std::string uri_;
    std::string name_;
};
#endif

}  // namespace

std::unique_ptr<Target> make_target(std::string_view spec) {
    if (spec == "inproc") return std::make_unique<InprocTarget>();
    if (spec.starts_with("amqp://") || spec.starts_with("amqps://")) {
#ifdef WARREN_CONFORMANCE_NO_AMQP
        throw std::invalid_argument(
            fmt::format("{}: this build has no rabbitmq-c backend (WARREN_CONFORMANCE_NO_AMQP)", spec));
#else
        return std::make_unique<AmqpTarget>(spec);
#endif
    }
    throw std::invalid_argument(fmt::format("unknown target '{}': use inproc or an amqp:// URI", spec));
}

}  // namespace warren::conformance
