// The warren-server executable: it says where it listens, serves, and exits cleanly with 0 on
// SIGTERM and SIGINT after closing every connection with 320 CONNECTION_FORCED.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>

#include "raw_client.hpp"

namespace warren::test {
namespace {

/// build/tests/warren-tests-server -> build/server/warren-server.
std::filesystem::path server_executable() {
    const auto self = std::filesystem::read_symlink("/proc/self/exe");
    return self.parent_path().parent_path() / "server" / "warren-server";
}

/// warren-server as a child process, its stdout read through a pipe.
class ServerProcess {
public:
    explicit ServerProcess(std::vector<std::string> args) {
        int out[2];
        REQUIRE(::pipe(out) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            if (int null = ::open("/dev/null", O_WRONLY); null >= 0) ::dup2(null, STDERR_FILENO);
            ::close(out[0]);
            ::close(out[1]);
            const std::string exe = server_executable().string();
            std::vector<char*> argv{const_cast<char*>(exe.c_str())};
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(exe.c_str(), argv.data());
            ::_exit(127);
        }
        ::close(out[1]);
        stdout_ = out[0];
    }
    ~ServerProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        if (stdout_ >= 0) ::close(stdout_);
    }

    /// The first line of stdout, within `timeout`.
    std::string first_line(std::chrono::milliseconds timeout = 5000ms) {
        std::string line;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (line.find('\n') == std::string::npos) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd pfd{stdout_, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
            char buf[256];
            const ssize_t n = ::read(stdout_, buf, sizeof buf);
            if (n <= 0) break;
            line.append(buf, static_cast<std::size_t>(n));
        }
        return line.substr(0, line.find('\n'));
    }
    void signal(int sig) { ::kill(pid_, sig); }
    /// The exit status, or -1 when it has not exited within `timeout`.
    int wait(std::chrono::milliseconds timeout = 5000ms) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            std::this_thread::yield();
        }
        return -1;
    }

private:
    pid_t pid_ = -1;
    int stdout_ = -1;
};

std::uint16_t port_of(const std::string& listening_line) {
    const auto colon = listening_line.rfind(':');
    REQUIRE(colon != std::string::npos);
    return static_cast<std::uint16_t>(std::stoi(listening_line.substr(colon + 1)));
}

}  // namespace

TEST_CASE("process: warren-server says where it listens and shuts down cleanly on a signal") {
    if (!std::filesystem::exists(server_executable())) {
        WARN("warren-server not found next to the tests: skipped");
        return;
    }
    for (int sig : {SIGTERM, SIGINT}) {
        ServerProcess server({"--port", "0", "--log-level", "none"});
        const std::string line = server.first_line();
        INFO(line);
        REQUIRE(line.rfind("warren-server: listening on 127.0.0.1:", 0) == 0);
        RawClient c(port_of(line));
        c.handshake();
        c.open_channel(1);
        server.signal(sig);
        c.expect_close(320, "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'");
        CHECK(server.wait() == 0);
    }
}

TEST_CASE("process: a port in use, or a bad argument, is an error exit") {
    if (!std::filesystem::exists(server_executable())) {
        WARN("warren-server not found next to the tests: skipped");
        return;
    }
    RunningServer taken;
    ServerProcess clash({"--port", std::to_string(taken.port()), "--log-level", "none"});
    CHECK(clash.wait() == 1);
    ServerProcess wrong({"--no-such-flag"});
    CHECK(wrong.wait() == 2);
}

}  // namespace warren::test
