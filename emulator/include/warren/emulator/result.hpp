// The model's way of answering: a value, or the AMQP error RabbitMQ would give.
// No exceptions cross the model's surface; the client facade turns errors into AmqpError
// throws.
#pragma once

#include <optional>
#include <utility>
#include <variant>

#include "warren/protocol/reply_code.hpp"

namespace warren {

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(AmqpError error) : v_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    const AmqpError& error() const& { return std::get<1>(v_); }
    AmqpError&& error() && { return std::get<1>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

private:
    std::variant<T, AmqpError> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(AmqpError error) : error_(std::move(error)) {}

    bool ok() const noexcept { return !error_; }
    explicit operator bool() const noexcept { return ok(); }
    const AmqpError& error() const { return *error_; }

private:
    std::optional<AmqpError> error_;
};

using Status = Result<void>;

}  // namespace warren
