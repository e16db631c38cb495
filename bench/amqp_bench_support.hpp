// What warren's rabbitmq-c benchmarks (amqp_throughput.cpp, soak.cpp) share: the text of a
// reply, and a process's resident memory.
#pragma once

#include <amqp.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <fmt/format.h>

namespace warren::bench {

/// What an RPC reply says: "ok", a library error, or the server's close with its code and text.
inline std::string reply_text(const amqp_rpc_reply_t& reply) {
    const auto closed = [](const char* what, std::uint16_t code, const amqp_bytes_t& text) {
        return fmt::format("{} closed: {} {}", what, code, std::string(static_cast<char*>(text.bytes), text.len));
    };
    switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return "ok";
    case AMQP_RESPONSE_NONE:
        return "no reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        return amqp_error_string2(reply.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            auto* m = static_cast<amqp_connection_close_t*>(reply.reply.decoded);
            return closed("connection", m->reply_code, m->reply_text);
        }
        if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            auto* m = static_cast<amqp_channel_close_t*>(reply.reply.decoded);
            return closed("channel", m->reply_code, m->reply_text);
        }
        return "server exception";
    }
    return "unknown reply";
}

/// VmRSS of process `pid` in kB, or -1.
inline long rss_kb(long pid) {
    std::ifstream status(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    return -1;
}

}  // namespace warren::bench
