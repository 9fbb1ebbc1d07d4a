// LivenessMonitor's verdicts against real sockets on 127.0.0.1: a fake
// server that answers ruok, and a port where nothing listens. The waits are
// the behaviour under test (grace periods), polled with deadlines.
#include "platform/local/liveness.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "platform/local/process.h"

namespace zkpilot {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// Answers "imok" to every connection on 127.0.0.1 until Stop().
class FakeRuokServer {
 public:
  FakeRuokServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      return;
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) continue;
        char buf[4];
        if (::read(c, buf, sizeof buf) > 0) (void)!::write(c, "imok", 4);
        ::close(c);
      }
    });
  }
  ~FakeRuokServer() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Polls Check until it gives a verdict or `within` has passed.
std::string VerdictWithin(LivenessMonitor& monitor, int pid, const Endpoint& client, int64_t started,
                          const LivenessSettings& settings, std::chrono::milliseconds within) {
  const auto deadline = SteadyClock::now() + within;
  while (SteadyClock::now() < deadline) {
    monitor.BeginPass();
    std::string why = monitor.Check(1, pid, client, started, settings);
    monitor.EndPass();
    if (!why.empty()) return why;
    std::this_thread::sleep_for(50ms);
  }
  return "";
}

TEST(LivenessSettings, ComeFromTheRevisionValuesWithDefaultsForWhatIsMissing) {
  LivenessSettings s = LivenessSettings::FromValuesJson(R"({"liveness.timeoutSeconds": 7, "startupTimeoutSeconds": 42})");
  EXPECT_EQ(s.timeout, 7s);
  EXPECT_EQ(s.startup_timeout, 42s);
  LivenessSettings d = LivenessSettings::FromValuesJson(R"({"tickTime": 2000})");
  EXPECT_EQ(d.timeout, LivenessSettings{}.timeout);
  EXPECT_EQ(d.startup_timeout, LivenessSettings{}.startup_timeout);
  EXPECT_EQ(LivenessSettings::FromValuesJson("not json").timeout, LivenessSettings{}.timeout);
}

TEST(LivenessMonitor, AStartingServerHasItsStartupGraceNotTheLivenessTimeout) {
  auto port = FreeLoopbackPort();  // nothing listens: every probe fails
  ASSERT_TRUE(port.ok());
  LivenessMonitor monitor(200ms);
  const LivenessSettings settings{1s, 3s};
  const auto start = SteadyClock::now();
  const std::string why = VerdictWithin(monitor, 100, {"127.0.0.1", *port}, NowMillis(), settings, 10s);
  EXPECT_GE(SteadyClock::now() - start, 3s - 100ms) << "killed within its startup grace: " << why;
  EXPECT_EQ(why.rfind(kLivenessExitPrefix, 0), 0u) << why;
  EXPECT_NE(why.find("of its start (startupTimeoutSeconds=3)"), std::string::npos) << why;
}

TEST(LivenessMonitor, AServerAdoptedPastItsGraceGetsOnlyTheLivenessTimeout) {
  auto port = FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  LivenessMonitor monitor(200ms);
  const LivenessSettings settings{1s, 600s};
  const auto start = SteadyClock::now();
  const int64_t an_hour_ago = NowMillis() - 3600 * 1000;
  const std::string why = VerdictWithin(monitor, 100, {"127.0.0.1", *port}, an_hour_ago, settings, 10s);
  EXPECT_FALSE(why.empty());
  EXPECT_GE(SteadyClock::now() - start, 1s - 100ms);
  EXPECT_LT(SteadyClock::now() - start, 5s) << "waited for a startup grace that had long passed";
}

// Adopted within its startup window (a supervisor started again a minute
// after the server): it may have served and hung since, so it gets the
// liveness timeout from the adoption, not the rest of the startup grace.
TEST(LivenessMonitor, AServerAdoptedWithinItsGraceGetsOnlyTheLivenessTimeout) {
  auto port = FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  LivenessMonitor monitor(200ms);
  const LivenessSettings settings{1s, 600s};
  const auto start = SteadyClock::now();
  const int64_t a_minute_ago = NowMillis() - 60 * 1000;
  const std::string why = VerdictWithin(monitor, 100, {"127.0.0.1", *port}, a_minute_ago, settings, 10s);
  EXPECT_FALSE(why.empty()) << "an adopted server that never answered was left for its startup grace";
  EXPECT_GE(SteadyClock::now() - start, 1s - 100ms);
}

TEST(LivenessMonitor, AnAnsweringServerIsAliveAndSilenceCountsFromItsLastAnswer) {
  FakeRuokServer server;
  ASSERT_GT(server.port(), 0);
  LivenessMonitor monitor(200ms);
  const LivenessSettings settings{1s, 1s};
  const Endpoint client{"127.0.0.1", server.port()};
  // Well past both the startup grace and the timeout: it answers, so no verdict.
  EXPECT_EQ(VerdictWithin(monitor, 100, client, NowMillis(), settings, 3s), "");

  server.Stop();
  const auto silent = SteadyClock::now();
  const std::string why = VerdictWithin(monitor, 100, client, NowMillis(), settings, 10s);
  EXPECT_EQ(why.rfind("liveness: did not answer ruok for ", 0), 0u) << why;
  EXPECT_NE(why.find("(liveness.timeoutSeconds=1)"), std::string::npos) << why;
  EXPECT_LT(SteadyClock::now() - silent, 3s);
}

// zkpilot's own TLS files missing: the probe cannot be made, which says
// nothing about the server, so it is never killed for it (on a TLS cluster
// that would kill every server at once).
TEST(LivenessMonitor, AProbeZkpilotCannotMakeForItsOwnFilesCountsAsAnAnswer) {
  FakeRuokServer server;
  ASSERT_GT(server.port(), 0);
  LivenessMonitor monitor(200ms);
  LivenessSettings settings{1s, 1s};
  settings.tls = TlsClientFiles{"/nonexistent/pki/ca.crt", "/nonexistent/pki/zkpilot.crt",
                                "/nonexistent/pki/zkpilot.key"};
  const Endpoint client{"127.0.0.1", server.port()};
  EXPECT_EQ(VerdictWithin(monitor, 100, client, NowMillis(), settings, 3s), "");
  EXPECT_TRUE(monitor.TakeCredentialProblem());
}

TEST(LivenessMonitor, ANewProcessStartsANewWatch) {
  FakeRuokServer server;
  ASSERT_GT(server.port(), 0);
  LivenessMonitor monitor(200ms);
  const LivenessSettings settings{1s, 60s};
  const Endpoint client{"127.0.0.1", server.port()};
  EXPECT_EQ(VerdictWithin(monitor, 100, client, NowMillis(), settings, 1500ms), "");
  server.Stop();
  // Process 101 (a restart) has not answered yet, but is within its grace.
  EXPECT_EQ(VerdictWithin(monitor, 101, client, NowMillis(), settings, 2500ms), "");
}

}  // namespace
}  // namespace zkpilot
