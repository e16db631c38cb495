// The data directory's journal as warren-server finds it at start: any bytes in
// DIR/warren.journal. Broker::open_data_dir must read it up to the first damage, rebuild the
// state, rewrite the journal and never crash; DataDirError (a file that is no journal) is the
// one refusal. The broker it restored must then serve: its queues, bindings and definitions are
// listed, each queue is read to the end, and what changed is synced.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "warren/emulator/broker.hpp"

namespace {

const std::filesystem::path& directory() {
    static const std::filesystem::path dir = [] {
        std::string pattern = (std::filesystem::temp_directory_path() / "warren-fuzz-journal-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) std::abort();
        return std::filesystem::path(pattern);
    }();
    return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::filesystem::path& dir = directory();
    // What the last input left (a rewritten journal, a damaged tail kept aside) goes first.
    for (const auto& entry : std::filesystem::directory_iterator(dir)) std::filesystem::remove(entry.path());
    {
        std::ofstream out(dir / "warren.journal", std::ios::binary);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    warren::Broker broker;
    try {
        (void)broker.open_data_dir(dir.string(), warren::DataDirOptions{.fsync = false});
    } catch (const warren::DataDirError&) {
        return 0;
    }
    (void)broker.export_definitions();
    (void)broker.bindings();
    for (const auto& q : broker.queues()) (void)broker.queue(q.vhost, q.name);
    broker.sync_data();
    return 0;
}
