// Self-healing of a local cluster without any zkpilot command: the real
// binary against real ZooKeeper, each test in its own ZKPILOT_HOME and port
// block. While a test waits for the repair it runs no zkpilot command (a
// command would itself start a missing supervisor); it looks at processes
// and the state database directly, with deadlines, no fixed sleeps.
#include <gtest/gtest.h>
#include <signal.h>

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "local_test_util.h"
#include "platform/local/paths.h"
#include "platform/local/process.h"
#include "state/state_store.h"
#include "util/files.h"
#include "zk/four_letter.h"

namespace zkpilot {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::PidAlive;
using testing::ProcessResult;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";
constexpr auto kComeBack = 15s;   // the guardian polls every 200 ms; a loaded machine on top
constexpr auto kRecovery = 90s;   // a server restarted and back in the quorum

class SelfHealTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(world_.Create("zkpilot-heal", 60, &error)) << error;
    home_ = world_.home();
    base_ = world_.base_port();
  }

  void TearDown() override {
    for (int pid : stopped_) ::kill(pid, SIGCONT);
    EXPECT_TRUE(world_.Cleanup(ZKPILOT_BINARY)) << "processes of " << home_ << " survived SIGKILL";
  }

  ProcessResult Zk(std::vector<std::string> args) {
    args.insert(args.begin(), ZKPILOT_BINARY);
    return testing::RunProcess(args, {world_.Env(), ZKPILOT_SOURCE_DIR, world_.capture(), 3min});
  }

  void Deploy(const std::vector<std::string>& sets) {
    std::vector<std::string> args = {"deploy", "alpha", kPackage, "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--set", "clientPort=" + std::to_string(base_),
                                     "--timeout", "90"};
    for (const auto& s : sets) args.insert(args.end(), {"--set", s});
    ProcessResult r = Zk(args);
    ASSERT_EQ(r.exit_code, 0) << r.All();
  }

  json Status() {
    ProcessResult r = Zk({"status", "alpha", "-o", "json"});
    json j = json::parse(r.out, nullptr, false);
    if (j.is_discarded()) ADD_FAILURE() << "status is not JSON:\n" << r.All();
    return j.is_discarded() ? json::object() : j;
  }

  std::vector<NodeRecord> Nodes() {
    auto store = StateStore::Open(StateDbPath(home_));
    auto nodes = store.ok() ? (*store)->ListNodes("alpha") : Result<std::vector<NodeRecord>>(store.status());
    return nodes.ok() ? *nodes : std::vector<NodeRecord>{};
  }
  NodeRecord Node(int id) {
    for (const auto& n : Nodes())
      if (n.id == id) return n;
    return {};
  }

  // Processes of this home running `zkpilot <verb> alpha`.
  std::vector<int> Running(const std::string& verb) {
    return testing::PidsWithCmdline(" " + verb + " alpha --home " + home_);
  }

  std::string Logs() {
    const std::string dir = ClusterHome(home_, "alpha");
    return "supervisor.log:\n" + TailFile(dir + "/supervisor.log", 15) + "guardian.log:\n" +
           TailFile(dir + "/guardian.log", 15);
  }

  Endpoint Client(int id) const { return {"127.0.0.1", base_ + (id - 1) * 10}; }

  testing::TestHome world_;
  std::string home_;
  int base_ = 0;
  std::vector<int> stopped_;
};

TEST_F(SelfHealTest, KilledSupervisorComesBackWithoutACommand) {
  Deploy({"replicas=1"});
  json before = Status();
  const int supervisor = before["supervisor"]["pid"].get<int>();
  ASSERT_TRUE(PidAlive(supervisor)) << before.dump(2);
  const int server = Node(1).pid;
  ASSERT_GT(server, 0);

  ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
  int again = 0;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        auto pids = Running("supervise");
        again = pids.size() == 1 && pids[0] != supervisor ? pids[0] : 0;
        return again != 0;
      },
      kComeBack))
      << "no supervisor came back within " << kComeBack.count() << "s\n"
      << Logs();
  EXPECT_EQ(Node(1).pid, server) << "the server was restarted, not adopted";

  // The new supervisor supervises: a killed server is started again.
  ASSERT_EQ(::kill(server, SIGKILL), 0);
  AdminClient admin(1000ms);
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        const NodeRecord n = Node(1);
        auto s = admin.Srvr(Client(1));
        return n.pid != server && n.pid != 0 && s.ok() && s->IsServing();
      },
      kRecovery))
      << Logs();
  EXPECT_EQ(Running("supervise"), std::vector<int>{again});
}

TEST_F(SelfHealTest, KilledGuardianIsReplacedAndDeleteLeavesNothing) {
  Deploy({"replicas=1"});
  json before = Status();
  const int guardian = before["supervisor"].value("guardian_pid", 0);
  ASSERT_GT(guardian, 0) << before.dump(2);
  ASSERT_EQ(Running("guard"), std::vector<int>{guardian});

  // The supervisor starts a new guardian, and only one.
  ASSERT_EQ(::kill(guardian, SIGKILL), 0);
  int replaced = 0;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        auto pids = Running("guard");
        replaced = pids.size() == 1 && pids[0] != guardian ? pids[0] : 0;
        return replaced != 0;
      },
      kComeBack))
      << Logs();

  // The new guardian does its job.
  const int supervisor = Running("supervise").at(0);
  ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        auto pids = Running("supervise");
        return pids.size() == 1 && pids[0] != supervisor;
      },
      kComeBack))
      << Logs();
  EXPECT_EQ(Running("guard"), std::vector<int>{replaced});

  // delete ends the servers, the supervisor and the guardian before it returns.
  ProcessResult deleted = Zk({"delete", "alpha"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.All();
  EXPECT_EQ(testing::PidsWithCmdline(home_), std::vector<int>{}) << "a process of this home outlived delete";
  for (int port = base_; port <= base_ + 4; ++port) EXPECT_TRUE(testing::PortBindable(port)) << port;
}

TEST_F(SelfHealTest, HungServerIsKilledAndRestartedWithTheReasonInStatus) {
  constexpr int kTimeout = 8;  // the probe round takes ~2 s with one server hung: margin for the others
  // Deployed with a long timeout and shortened on the running cluster: a
  // change of the (dynamic) parameter reaches the supervisor, no restart.
  Deploy({"liveness.timeoutSeconds=600"});
  ProcessResult configured = Zk({"configure", "alpha", "--set", "liveness.timeoutSeconds=" + std::to_string(kTimeout)});
  ASSERT_EQ(configured.exit_code, 0) << configured.All();
  json before = Status();
  int victim = 0, pid = 0;
  for (const auto& n : before["nodes"])
    if (n["role"] == "follower") victim = n["id"].get<int>(), pid = n["pid"].get<int>();
  ASSERT_GT(pid, 0) << before.dump(2);

  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  stopped_.push_back(pid);
  const auto stopped_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(testing::WaitUntil([&] { return !PidAlive(pid); }, 60s))
      << "server " << victim << " (stopped) was never killed\n"
      << Logs();
  stopped_.clear();
  // Counted from the last answer, which came up to one probe period (1 s)
  // before the SIGSTOP.
  EXPECT_GE(std::chrono::steady_clock::now() - stopped_at, std::chrono::seconds(kTimeout - 1))
      << "killed before liveness.timeoutSeconds had passed";

  // Restarted, back in the quorum, with no command run meanwhile.
  AdminClient admin(1000ms);
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        const NodeRecord n = Node(victim);
        auto s = admin.Srvr(Client(victim));
        return n.pid != pid && n.pid != 0 && s.ok() && s->IsServing();
      },
      kRecovery))
      << Logs();
  const NodeRecord record = Node(victim);
  EXPECT_EQ(record.last_exit.rfind("liveness: did not answer ruok for ", 0), 0u) << record.last_exit;
  EXPECT_NE(record.last_exit.find("killed at "), std::string::npos) << record.last_exit;
  EXPECT_EQ(record.restarts, 1);
  for (const auto& n : Nodes()) {
    if (n.id == victim) continue;
    EXPECT_EQ(n.restarts, 0) << "server " << n.id << " answering was killed: " << n.last_exit;
  }

  json after;
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        after = Status();
        return after.value("healthy", false);
      },
      30s, 500ms))
      << after.dump(2);
  bool shown = false;
  for (const auto& c : after["conditions"])
    if (c["type"] == "LivenessRestart")
      shown = c["message"].get<std::string>().find("server " + std::to_string(victim) + " did not answer ruok for") !=
              std::string::npos;
  EXPECT_TRUE(shown) << after.dump(2);
  ProcessResult table = Zk({"status", "alpha"});
  EXPECT_NE(table.out.find("LivenessRestart"), std::string::npos) << table.out;
}

// A server killed while writing a snapshot leaves snapshot.<zxid>.tmp, which
// ZooKeeper would load at its next start (file_actions.h). Here the file names
// the next epoch, as the snapshot a follower takes when it syncs with a new
// leader does before its currentEpoch is written: loaded, it makes the server
// refuse to start ("The current epoch ... is older than the last zxid") and
// crash-loop. The supervisor removes it before the restart.
TEST_F(SelfHealTest, AnUnfinishedSnapshotOfAKilledServerDoesNotKeepItDown) {
  Deploy({});
  json before = Status();
  int victim = 0, pid = 0;
  for (const auto& n : before["nodes"])
    if (n["role"] == "follower") victim = n["id"].get<int>(), pid = n["pid"].get<int>();
  ASSERT_GT(pid, 0) << before.dump(2);
  const std::string version2 = NodeDir(ClusterHome(home_, "alpha"), victim) + "/data/version-2";
  auto epoch_text = ReadFile(version2 + "/currentEpoch");
  ASSERT_TRUE(epoch_text.ok()) << epoch_text.status().message();
  const int64_t epoch = std::stoll(*epoch_text);
  std::string newest;
  for (const auto& e : std::filesystem::directory_iterator(version2))
    if (e.path().filename().string().rfind("snapshot.", 0) == 0) newest = e.path().string();
  ASSERT_FALSE(newest.empty()) << "no snapshot in " << version2;
  const std::string unfinished = version2 + "/snapshot." + fmt::format("{:x}", ((epoch + 1) << 32) | 1) + ".tmp";
  std::filesystem::copy_file(newest, unfinished);

  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  AdminClient admin(1000ms);
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        const NodeRecord n = Node(victim);
        auto s = admin.Srvr(Client(victim));
        return n.pid != pid && n.pid != 0 && s.ok() && s->IsServing();
      },
      kRecovery))
      << "server " << victim << " did not come back\n"
      << Logs() << TailFile(NodeDir(ClusterHome(home_, "alpha"), victim) + "/zookeeper.log", 10);
  EXPECT_FALSE(std::filesystem::exists(unfinished));
  EXPECT_NE(Logs().find("removed an unfinished snapshot: " + unfinished), std::string::npos) << Logs();
  EXPECT_EQ(Node(victim).restarts, 1);
}

}  // namespace
}  // namespace zkpilot
