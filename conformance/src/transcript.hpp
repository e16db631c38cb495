// What a scenario observed, as text lines, and how each observation is written.
//
// Every value is written with its AMQP type, so a header that comes back as a long where a
// signed int went in is a difference. The only things masked are what the broker makes up:
// generated names (amq.gen-..., amq.ctag-..., numbered in order of first appearance, so two
// different generated names stay different) and the time stamps RabbitMQ writes into x-death.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warren/warren.hpp"

namespace warren::conformance {

class Transcript {
public:
    /// Appends one line with generated names masked.
    void add(std::string_view line);
    const std::vector<std::string>& lines() const { return lines_; }
    /// The lines, each ended by '\n': the golden file's content.
    std::string text() const;
    static Transcript parse(std::string_view text);

    friend bool operator==(const Transcript& a, const Transcript& b) { return a.lines_ == b.lines_; }

private:
    std::string mask(std::string_view line);

    std::vector<std::string> lines_;
    std::map<std::string, std::string, std::less<>> generated_;  // real name -> masked name
    int generated_count_ = 0;
};

/// A string as a quoted literal with C-style escapes for anything not printable ASCII.
std::string quote(std::string_view s);

std::string describe(const FieldValue& v);
std::string describe(const FieldTable& t);
std::string describe(const BasicProperties& p);
/// basic.deliver (consumer_tag set) or basic.get-ok.
std::string describe(const Delivery& d);
std::string describe(const Returned& r);
std::string describe(const QueueDeclareOk& ok);
/// "406 PRECONDITION_FAILED - ... (class 50, method 10)".
std::string describe(const AmqpError& e);

}  // namespace warren::conformance
