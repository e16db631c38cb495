// The 14 AMQP basic-class content properties, and the message they travel with.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "warren/protocol/field_value.hpp"

namespace warren {

/// AMQP 0-9-1 basic properties. Every property is optional; `headers` is a table whose
/// emptiness means "absent" (RabbitMQ adds headers only when it has entries to add).
struct BasicProperties {
    std::optional<std::string> content_type = std::nullopt;
    std::optional<std::string> content_encoding = std::nullopt;
    FieldTable headers = {};
    std::optional<std::uint8_t> delivery_mode = std::nullopt;  // 1 transient, 2 persistent
    std::optional<std::uint8_t> priority = std::nullopt;
    std::optional<std::string> correlation_id = std::nullopt;
    std::optional<std::string> reply_to = std::nullopt;
    std::optional<std::string> expiration = std::nullopt;  // milliseconds, as a decimal string
    std::optional<std::string> message_id = std::nullopt;
    std::optional<Timestamp> timestamp = std::nullopt;
    std::optional<std::string> type = std::nullopt;
    std::optional<std::string> user_id = std::nullopt;
    std::optional<std::string> app_id = std::nullopt;
    std::optional<std::string> cluster_id = std::nullopt;

    /// True when no property is set.
    bool empty() const noexcept;
    bool persistent() const noexcept { return delivery_mode == 2; }

    friend bool operator==(const BasicProperties&, const BasicProperties&) = default;
};

/// A message as a publisher gives it and a consumer receives it.
struct Message {
    std::string body = {};
    BasicProperties properties = {};

    friend bool operator==(const Message&, const Message&) = default;
};

std::ostream& operator<<(std::ostream& os, const BasicProperties& p);
std::ostream& operator<<(std::ostream& os, const Message& m);

}  // namespace warren

template <> struct fmt::formatter<warren::BasicProperties> : fmt::ostream_formatter {};
template <> struct fmt::formatter<warren::Message> : fmt::ostream_formatter {};
