// Monitoring on the local platform, end to end: the real zkpilot binary, real
// ZooKeeper, real Prometheus and Alertmanager, the package's own alert rules.
// A stopped server (SIGSTOP: alive to the supervisor, silent to everyone)
// makes ZooKeeperNodeDown go pending, then firing, for that server, and
// `zkpilot alerts` report it with exit code 3; SIGCONT resolves it. A killed
// leader makes ZooKeeperLeaderElection fire. Each test has its own
// ZKPILOT_HOME and port block and cleans up what it started.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "local_test_util.h"
#include "observe/alerts.h"
#include "platform/local/paths.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";
// ZooKeeperNodeDown fires after `for: 2m`; allow two scrape intervals,
// evaluation and a loaded machine on top.
constexpr auto kNodeDownFiring = 2min + 60s;

class MonitoringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(world_.Create("zkpilot-mon", 60, &error)) << error;
    home_ = world_.home();
    root_ = world_.root();
    base_ = world_.base_port();
  }

  void TearDown() override {
    for (int pid : stopped_) ::kill(pid, SIGCONT);
    EXPECT_TRUE(world_.Cleanup(ZKPILOT_BINARY)) << "processes of " << home_ << " survived SIGKILL";
  }

  testing::ProcessResult Zk(std::vector<std::string> args, std::vector<std::string> env = {}) {
    testing::RunOptions options;
    options.capture_dir = world_.capture();
    options.env = world_.Env();
    for (auto& e : env) options.env.push_back(e);
    std::vector<std::string> argv = {ZKPILOT_BINARY};
    for (auto& a : args) argv.push_back(a);
    return testing::RunProcess(argv, options);
  }

  json Status() {
    auto r = Zk({"status", "mon", "-o", "json"});
    auto j = json::parse(r.out, nullptr, false);
    return j.is_discarded() ? json() : j;
  }

  void DeployWithMonitoring() {
    auto r = Zk({"deploy", "mon", kPackage, "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--set", "clientPort=" + std::to_string(base_), "--set",
                 "prometheus.enabled=true", "--set", "alertmanager.enabled=true", "--set", "prometheus.scrapeInterval=1s",
                 // The stopped server must stay stopped past the alert's `for`,
                 // not be restarted by the supervisor's liveness check first.
                 "--set", "liveness.timeoutSeconds=600", "--timeout", "90"});
    ASSERT_EQ(r.exit_code, 0) << r.All();
    // Prometheus scrapes every server before the scenario starts.
    ASSERT_TRUE(testing::WaitUntil([&] { return UpSeries() == 3; }, 60s)) << "Prometheus never saw 3 servers up";
  }

  Endpoint Prometheus() const { return Endpoint{"127.0.0.1", base_ + 6}; }

  int UpSeries() {
    auto reply = TcpExchange(Prometheus(), "GET /api/v1/query?query=up%3D%3D1 HTTP/1.0\r\nHost: x\r\n\r\n", 2s);
    if (!reply.ok()) return 0;
    auto body = reply->substr(reply->find("\r\n\r\n") + 4);
    auto j = json::parse(body, nullptr, false);
    if (j.is_discarded()) return 0;
    return static_cast<int>(j["data"]["result"].size());
  }

  std::optional<zkpilot::Alert> FindAlert(const std::string& name, const std::string& node) {
    auto alerts = FetchAlerts(Prometheus(), "mon", 2s);
    if (!alerts.ok()) return std::nullopt;
    for (const auto& a : *alerts)
      if (a.name == name && (node.empty() || a.node == node)) return a;
    return std::nullopt;
  }

  testing::TestHome world_;
  std::string root_, home_;
  int base_ = 0;
  std::vector<int> stopped_;
};

TEST_F(MonitoringTest, StoppedServerRaisesNodeDownUntilItIsBack) {
  DeployWithMonitoring();
  json s = Status();
  ASSERT_TRUE(s["monitoring"].contains("prometheus")) << s.dump(2);
  ASSERT_TRUE(s["monitoring"].contains("alertmanager")) << s.dump(2);
  int victim = 0, pid = 0;
  for (const auto& n : s["nodes"])
    if (n["role"] == "follower") victim = n["id"], pid = n["pid"];
  ASSERT_GT(pid, 0);
  auto quiet = Zk({"alerts", "mon"});
  EXPECT_EQ(quiet.exit_code, 0) << quiet.All();

  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  stopped_.push_back(pid);
  const std::string node = std::to_string(victim);
  ASSERT_TRUE(testing::WaitUntil([&] { return FindAlert("ZooKeeperNodeDown", node).has_value(); }, 60s))
      << "ZooKeeperNodeDown never went pending for server " << node;
  auto pending = FindAlert("ZooKeeperNodeDown", node);
  EXPECT_EQ(pending->state, "pending");
  EXPECT_EQ(pending->severity, "critical");
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        auto a = FindAlert("ZooKeeperNodeDown", node);
        return a && a->state == "firing";
      },
      kNodeDownFiring))
      << "ZooKeeperNodeDown did not fire within its `for` plus two scrape intervals";
  auto firing = Zk({"alerts", "mon"});
  EXPECT_EQ(firing.exit_code, 3) << firing.All();
  EXPECT_NE(firing.out.find("ZooKeeperNodeDown"), std::string::npos) << firing.out;
  auto as_json = json::parse(Zk({"alerts", "mon", "-o", "json"}).out, nullptr, false);
  ASSERT_TRUE(as_json.is_array()) << as_json.dump();
  bool reported = false;
  for (const auto& a : as_json) reported = reported || (a.value("name", "") == "ZooKeeperNodeDown" && a.value("node", "") == node);
  EXPECT_TRUE(reported) << as_json.dump(2);

  ASSERT_EQ(::kill(pid, SIGCONT), 0);
  stopped_.clear();
  EXPECT_TRUE(testing::WaitUntil([&] { return !FindAlert("ZooKeeperNodeDown", node).has_value(); }, 60s))
      << "ZooKeeperNodeDown did not resolve once the server was back";
}

TEST_F(MonitoringTest, KilledLeaderRaisesLeaderElection) {
  DeployWithMonitoring();
  json s = Status();
  int leader_pid = 0;
  for (const auto& n : s["nodes"])
    if (n["role"] == "leader") leader_pid = n["pid"];
  ASSERT_GT(leader_pid, 0);
  ASSERT_FALSE(FindAlert("ZooKeeperLeaderElection", "").has_value()) << "an election alert before any election";
  ASSERT_EQ(::kill(leader_pid, SIGKILL), 0);
  ASSERT_TRUE(testing::WaitUntil([&] { return FindAlert("ZooKeeperLeaderElection", "").has_value(); }, 90s))
      << "no ZooKeeperLeaderElection alert after the leader was killed";
  EXPECT_EQ(FindAlert("ZooKeeperLeaderElection", "")->severity, "info");
}

TEST_F(MonitoringTest, MissingPrometheusIsRefusedBeforeAnythingStarts) {
  // A PATH with java but without prometheus.
  const std::string bin = root_ + "/bin";
  fs::create_directories(bin);
  fs::create_symlink("/usr/bin/java", bin + "/java");
  auto r = Zk({"deploy", "mon", kPackage, "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--set", "clientPort=" + std::to_string(base_), "--set",
               "prometheus.enabled=true"},
              {"PATH=" + bin});
  EXPECT_EQ(r.exit_code, 1) << r.All();
  EXPECT_NE(r.All().find("prometheus is not installed"), std::string::npos) << r.All();
  EXPECT_TRUE(testing::PidsWithCmdline(home_).empty());
  auto list = Zk({"list"});
  EXPECT_NE(list.out.find("no clusters"), std::string::npos) << list.All();
}

}  // namespace
}  // namespace zkpilot
