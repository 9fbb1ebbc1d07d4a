// Switching quorum SASL (auth.quorum) on a running local ensemble and back,
// end to end: the real zkpilot binary against real ZooKeeper 3.8.0 and 3.9.3
// (plan/quorum_auth_planner.h has the stages and why), with the write
// checker (tests/write_checker/) writing through every roll. Each direction
// must lose no acknowledged write and never lose quorum: no server LOOKING
// except while it starts (write_checker/server_log.h). A fresh ZKPILOT_HOME
// and free 127.0.0.1 ports per test, polls with deadlines, cleanup by PID.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "local_test_util.h"
#include "platform/local/paths.h"
#include "util/files.h"
#include "write_checker/server_log.h"
#include "write_checker/write_checker.h"

namespace zkpilot {
namespace {

using namespace std::chrono_literals;
using testing::ProcessResult;
using testing::WriteChecker;
using testing::WriteReport;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";
const std::string kName = "qa";
constexpr int kPortSpan = 40;  // 3 servers use base..base+24

// ZooKeeper's log lines of a successful quorum SASL exchange, in both
// versions: the dialling side (SaslQuorumAuthLearner.checkAuthStatus) and the
// answering side (SaslQuorumAuthServer.authenticate).
constexpr const char* kLearnerAuthenticated = "Successfully completed the authentication using SASL. server addr:";
constexpr const char* kServerAuthenticated = "Successfully completed the authentication using SASL. learner addr:";

std::string Text(const std::string& path) {
  auto text = ReadFile(path);
  return text.ok() ? *text : "";
}

int Count(const std::string& text, const std::string& part) {
  int n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

class QuorumAuthSwitchTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(world_.Create("zkpilot-quorum-auth", kPortSpan, &error)) << error;
  }
  void TearDown() override {
    checker_.reset();
    EXPECT_TRUE(world_.Cleanup(ZKPILOT_BINARY)) << "processes of " << world_.home() << " survived SIGKILL";
  }

  ProcessResult Zk(std::vector<std::string> args) {
    args.insert(args.begin(), ZKPILOT_BINARY);
    return testing::RunProcess(args, {world_.Env(), ZKPILOT_SOURCE_DIR, world_.capture(), 6min});
  }
  std::string NodePath(int id, const std::string& file) const {
    return NodeDir(ClusterHome(world_.home(), kName), id) + "/" + file;
  }
  // Server `id`'s log since its JVM last started ("Starting quorum peer",
  // QuorumPeerMain.runFromConfig).
  std::string LogOfRunningJvm(int id) const {
    const std::string log = Text(NodePath(id, "zookeeper.log"));
    const size_t start = log.rfind("Starting quorum peer");
    return start == std::string::npos ? log : log.substr(start);
  }

  void StartChecker() {
    log_offsets_.clear();
    for (int id = 1; id <= 3; ++id) log_offsets_[id] = Text(NodePath(id, "zookeeper.log")).size();
    testing::WriteCheckerOptions options;
    for (int id = 1; id <= 3; ++id)
      options.servers.push_back({id, Endpoint{"127.0.0.1", world_.base_port() + (id - 1) * 10}});
    checker_ = std::make_unique<WriteChecker>(options);
    auto started = checker_->Start();
    ASSERT_TRUE(started.ok()) << started.message();
    ASSERT_TRUE(testing::WaitUntil([&] { return checker_->acknowledged() >= 20; }, 30s, 10ms))
        << "the write checker cannot write: " << checker_->failed() << " failed";
  }

  // Stops the checker: nothing acknowledged was lost, and no server looked
  // for a leader but while starting.
  void StopCheckerExpectingNoLossAndNoElection(const std::string& scenario) {
    ASSERT_TRUE(checker_) << scenario;
    auto report = checker_->Stop();
    checker_.reset();
    ASSERT_TRUE(report.ok()) << scenario << ": " << report.status().message();
    std::cout << "[ checker  ] " << scenario << ": " << report->Summary() << std::endl;
    EXPECT_GT(report->acknowledged, 0) << scenario;
    EXPECT_EQ(report->lost, 0) << scenario << ": " << ::testing::PrintToString(report->lost_examples);
    for (const auto& [id, offset] : log_offsets_) {
      const std::string log = Text(NodePath(id, "zookeeper.log"));
      const auto looking = testing::CountLooking(log.size() > offset ? log.substr(offset) : "");
      EXPECT_EQ(looking.not_at_startup, 0) << scenario << ": server " << id << " lost its leader";
      EXPECT_GE(looking.jvm_starts, 3) << scenario << ": server " << id << " was not restarted by every roll";
    }
  }

  testing::TestHome world_;
  std::unique_ptr<WriteChecker> checker_;
  std::map<int, size_t> log_offsets_;
};

TEST_P(QuorumAuthSwitchTest, SwitchedOnAndOffByThreeRollsEachWithoutLosingWritesOrQuorum) {
  const std::string version = GetParam();
  ProcessResult deploy = Zk({"deploy", kName, kPackage, "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--set", "clientPort=" + std::to_string(world_.base_port()),
                             "--set", "version=" + version, "--timeout", "120"});
  ASSERT_EQ(deploy.exit_code, 0) << deploy.All();

  // The plan: three rolls, none of which asks anything of clients.
  ProcessResult dry = Zk({"configure", kName, "--set", "auth.quorum=true", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.All();
  EXPECT_EQ(Count(dry.out, "Clients: nothing to do"), 3) << dry.out;
  EXPECT_FALSE(std::filesystem::exists(ClusterHome(world_.home(), kName) + "/auth/quorum.credential"))
      << "a dry run made the quorum credential";

  ASSERT_NO_FATAL_FAILURE(StartChecker());
  ProcessResult on = Zk({"configure", kName, "--set", "auth.quorum=true", "--timeout", "120"});
  ASSERT_EQ(on.exit_code, 0) << on.All();
  StopCheckerExpectingNoLossAndNoElection("auth.quorum on (" + version + ")");
  // Which side of an exchange a server logs depends on who dialled: an
  // election connection is kept only when dialled by the larger sid
  // (QuorumCnxManager.startConnection drops it otherwise; handleConnection
  // authenticates first, then dials back), so server 3 may never answer one.
  // What is certain: every server's JVM joined a leader as a learner after its
  // restart (Learner.connectToLeader authenticates), the last leader took over
  // as a follower restarted earlier in the roll, and the leader answered its
  // learners (LearnerHandler's constructor calls authServer.authenticate).
  int answered = 0;
  for (int id = 1; id <= 3; ++id) {
    const std::string cfg = Text(NodePath(id, "conf/zoo.cfg"));
    EXPECT_NE(cfg.find("\nquorum.auth.serverRequireSasl=true\n"), std::string::npos) << "server " << id << ":\n" << cfg;
    const std::string log = LogOfRunningJvm(id);
    EXPECT_NE(log.find(kLearnerAuthenticated), std::string::npos) << "server " << id;
    if (log.find(kServerAuthenticated) != std::string::npos) ++answered;
  }
  EXPECT_GE(answered, 1) << "no server answered a quorum SASL exchange";
  ProcessResult status = Zk({"status", kName});
  EXPECT_EQ(status.exit_code, 0) << status.All();

  // And back: three rolls in the reverse order.
  ProcessResult dry_off = Zk({"configure", kName, "--set", "auth.quorum=false", "--dry-run"});
  ASSERT_EQ(dry_off.exit_code, 0) << dry_off.All();
  EXPECT_EQ(Count(dry_off.out, "Clients: nothing to do"), 3) << dry_off.out;
  ASSERT_NO_FATAL_FAILURE(StartChecker());
  ProcessResult off = Zk({"configure", kName, "--set", "auth.quorum=false", "--timeout", "120"});
  ASSERT_EQ(off.exit_code, 0) << off.All();
  StopCheckerExpectingNoLossAndNoElection("auth.quorum off (" + version + ")");
  for (int id = 1; id <= 3; ++id) {
    const std::string cfg = Text(NodePath(id, "conf/zoo.cfg"));
    EXPECT_EQ(cfg.find("quorum.auth"), std::string::npos) << "server " << id << ":\n" << cfg;
    EXPECT_EQ(LogOfRunningJvm(id).find("using SASL"), std::string::npos) << "server " << id;
  }
  status = Zk({"status", kName});
  EXPECT_EQ(status.exit_code, 0) << status.All();
}

INSTANTIATE_TEST_SUITE_P(Versions, QuorumAuthSwitchTest, ::testing::Values("3.8.0", "3.9.3"),
                         [](const auto& info) { return "ZooKeeper" + std::string(info.param == "3.8.0" ? "380" : "393"); });

}  // namespace
}  // namespace zkpilot
