// warren-conformance: plays every scenario on each target and compares what a client observed.
// See conformance/README.md.
#include <fnmatch.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "diff.hpp"
#include "scenario.hpp"

#ifndef WARREN_CONFORMANCE_GOLDEN_DIR
#define WARREN_CONFORMANCE_GOLDEN_DIR "conformance/golden"
#endif

namespace warren::conformance {

Scenarios all_scenarios() {
    Scenarios out;
    add_direct_fanout_scenarios(out);
    add_topic_scenarios(out);
    add_headers_scenarios(out);
    add_exchange_graph_scenarios(out);
    add_declare_scenarios(out);
    add_queue_lifecycle_scenarios(out);
    add_consume_scenarios(out);
    add_single_active_consumer_scenarios(out);
    add_quorum_scenarios(out);
    add_stream_scenarios(out);
    add_publish_scenarios(out);
    add_ttl_expiry_scenarios(out);
    add_limits_scenarios(out);
    add_dead_letter_scenarios(out);
    add_confirms_scenarios(out);
    add_tx_scenarios(out);
    add_direct_reply_to_scenarios(out);
    std::sort(out.begin(), out.end(), [](const Scenario& a, const Scenario& b) { return a.name < b.name; });
    return out;
}

namespace {

namespace fs = std::filesystem;

constexpr std::string_view usage = R"(usage: warren-conformance [options]

Plays the conformance scenarios on each target and compares what a client observed.

  --target T       inproc (the in-process emulator, a fresh Broker per scenario) or an AMQP URI
                   such as amqp://guest:guest@127.0.0.1:5672/%2f; repeatable. Default: inproc.
                   With several targets, each is compared with the first.
  --golden DIR     also compare each target with the transcripts recorded in DIR.
  --record DIR     write the first target's transcripts to DIR/<scenario>.txt.
  --scenario GLOB  play only scenarios whose name matches GLOB (shell pattern); repeatable.
  --list           list the selected scenarios and exit.
  --show           print every transcript played.
  --help           this text.

With one target and neither --golden nor --record, the target is compared with the recorded
RabbitMQ 3.10.8 goldens in )" WARREN_CONFORMANCE_GOLDEN_DIR R"(.
Exit status: 0 when every comparison is identical, 1 when any differs, 2 for a usage error or
a target that cannot be reached.
)";

struct Options {
    std::vector<std::string> targets;
    std::optional<fs::path> golden;
    std::optional<fs::path> record;
    std::vector<std::string> globs;
    bool list = false;
    bool show = false;
};

std::optional<Options> parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::optional<std::string> {
            if (i + 1 >= argc) {
                std::cerr << "warren-conformance: " << arg << " needs a value\n";
                return std::nullopt;
            }
            return std::string(argv[++i]);
        };
        if (arg == "--target" || arg == "--golden" || arg == "--record" || arg == "--scenario") {
            auto v = value();
            if (!v) return std::nullopt;
            if (arg == "--target") o.targets.push_back(*v);
            else if (arg == "--golden") o.golden = *v;
            else if (arg == "--record") o.record = *v;
            else o.globs.push_back(*v);
        } else if (arg == "--list") {
            o.list = true;
        } else if (arg == "--show") {
            o.show = true;
        } else if (arg == "--help" || arg == "-h") {
            std::cout << usage;
            std::exit(0);
        } else {
            std::cerr << "warren-conformance: unknown option '" << arg << "'\n" << usage;
            return std::nullopt;
        }
    }
    if (o.targets.empty()) o.targets.push_back("inproc");
    return o;
}

bool selected(const Scenario& s, const std::vector<std::string>& globs) {
    if (globs.empty()) return true;
    return std::any_of(globs.begin(), globs.end(),
                       [&](const std::string& g) { return fnmatch(g.c_str(), s.name.c_str(), 0) == 0; });
}

Transcript play(Target& target, const Scenario& scenario) {
    Transcript transcript;
    target.begin_scenario();
    {
        Session session(target, scenario.name, transcript);
        try {
            scenario.play(session);
        } catch (const std::exception& e) {
            transcript.add(fmt::format("aborted: {}", e.what()));
        }
        try {
            session.finish();
        } catch (const std::exception& e) {
            transcript.add(fmt::format("cleanup failed: {}", e.what()));
        }
    }
    target.end_scenario();
    return transcript;
}

std::optional<Transcript> read_transcript(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return Transcript::parse(text.str());
}

void write_transcript(const fs::path& path, const Transcript& t) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << t.text();
    if (!out) throw std::runtime_error(fmt::format("cannot write {}", path.string()));
}

// A target that cannot be reached is a setup problem, said once before any scenario runs.
bool reachable(Target& target) {
    try {
        target.begin_scenario();
        Connection c = target.connect();
        c.close();
        target.end_scenario();
        return true;
    } catch (const std::exception& e) {
        std::cerr << "warren-conformance: cannot reach target " << target.name() << ": " << e.what() << "\n";
        return false;
    }
}

int run(int argc, char** argv) {
    const auto options = parse(argc, argv);
    if (!options) return 2;

    Scenarios scenarios;
    for (auto& s : all_scenarios())
        if (selected(s, options->globs)) scenarios.push_back(s);
    if (options->list) {
        for (const auto& s : scenarios) std::cout << s.name << "\n";
        return 0;
    }
    if (scenarios.empty()) {
        std::cerr << "warren-conformance: no scenario matches\n";
        return 2;
    }

    std::vector<std::unique_ptr<Target>> targets;
    for (const auto& spec : options->targets) {
        try {
            targets.push_back(make_target(spec));
        } catch (const std::exception& e) {
            std::cerr << "warren-conformance: " << e.what() << "\n";
            return 2;
        }
    }
    for (auto& t : targets)
        if (!reachable(*t)) return 2;

    // What each target is compared with: the first target, a golden directory, or (recording
    // one target) the transcript previously recorded there.
    std::optional<fs::path> golden = options->golden;
    const bool compare_previous = targets.size() == 1 && !golden && options->record;
    if (targets.size() == 1 && !golden && !options->record) golden = fs::path(WARREN_CONFORMANCE_GOLDEN_DIR);
    if (options->record) fs::create_directories(*options->record);

    std::size_t identical = 0, differ = 0;
    for (const auto& scenario : scenarios) {
        std::vector<Transcript> played;
        for (auto& t : targets) {
            played.push_back(play(*t, scenario));
            if (options->show)
                std::cout << "=== " << scenario.name << " on " << t->name() << "\n" << played.back().text();
        }
        std::vector<std::string> problems;  // one entry per failed comparison: header + diff
        for (std::size_t i = 1; i < targets.size(); ++i)
            if (!(played[0] == played[i]))
                problems.push_back(unified_diff(played[0].lines(), played[i].lines(), targets[0]->name(),
                                                targets[i]->name()));
        std::string status;
        if (golden) {
            const fs::path path = *golden / (scenario.name + ".txt");
            if (auto expected = read_transcript(path)) {
                for (std::size_t i = 0; i < targets.size(); ++i)
                    if (!(*expected == played[i]))
                        problems.push_back(
                            unified_diff(expected->lines(), played[i].lines(), path.string(), targets[i]->name()));
            } else {
                problems.push_back(fmt::format("no golden transcript {}\n", path.string()));
            }
        }
        if (options->record) {
            const fs::path path = *options->record / (scenario.name + ".txt");
            if (compare_previous) {
                if (auto previous = read_transcript(path)) {
                    if (!(*previous == played[0]))
                        problems.push_back(unified_diff(previous->lines(), played[0].lines(),
                                                        path.string() + " (previous)", targets[0]->name()));
                    status = " (recorded)";
                } else {
                    status = " (recorded, new)";
                }
            } else {
                status = " (recorded)";
            }
            write_transcript(path, played[0]);
        }
        if (problems.empty()) {
            ++identical;
            std::cout << scenario.name << ": identical" << status << "\n";
        } else {
            ++differ;
            std::cout << scenario.name << ": differs" << status << "\n";
            for (const auto& p : problems) std::cout << p;
        }
        std::cout.flush();
    }
    std::cout << scenarios.size() << " scenarios: " << identical << " identical, " << differ << " differ\n";
    return differ == 0 ? 0 : 1;
}

}  // namespace
}  // namespace warren::conformance

int main(int argc, char** argv) {
    try {
        return warren::conformance::run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "warren-conformance: " << e.what() << "\n";
        return 2;
    }
}
