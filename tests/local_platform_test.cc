// End-to-end tests of the local platform: the real zkpilot binary against
// real ZooKeeper servers on free 127.0.0.1 ports, with a fresh ZKPILOT_HOME
// per test. Tests poll with deadlines (no fixed sleeps) and clean up in
// TearDown even when they fail: `delete --purge-data`, then SIGKILL whatever
// still runs from the test's home (node JVMs carry it in their marker,
// supervisors in --home), then the home itself.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "local_test_util.h"
#include "package/package_loader.h"
#include "platform/local/distribution.h"
#include "platform/local/file_actions.h"
#include "platform/local/operation_lock.h"
#include "platform/local/paths.h"
#include "platform/local/process.h"
#include "state/state_store.h"
#include "util/files.h"
#include "zk/four_letter.h"
#include "zk/zk_client.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::PidAlive;
using testing::ProcessResult;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";
constexpr int kPortSpan = 60;    // base..base+60 must bind; 3 servers use base..base+23
constexpr int kServers = 3;      // the package's default replicas
constexpr auto kRecovery = 90s;  // failover, restart with backoff, catch-up (slow, shared machines)

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in:\n" << text;
}

class LocalPlatformTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(world_.Create("zkpilot-local", kPortSpan, &error)) << error;
    root_ = world_.root();
    home_ = world_.home();
    capture_ = world_.capture();
    base_ = world_.base_port();
  }

  void TearDown() override {
    EXPECT_TRUE(world_.Cleanup(ZKPILOT_BINARY)) << "processes of " << home_ << " survived SIGKILL";
  }

  // `zkpilot args...` from the source directory, with ZKPILOT_HOME (and `env`).
  ProcessResult Zk(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), ZKPILOT_BINARY);
    env.push_back("ZKPILOT_HOME=" + home_);
    return testing::RunProcess(args, {env, ZKPILOT_SOURCE_DIR, capture_, 3min});
  }

  // `zkpilot deploy NAME <package> --set clientPort=<base> --timeout 60 --set ...`.
  ProcessResult Deploy(const std::string& name, const std::vector<std::string>& sets = {},
                       const std::vector<std::string>& env = {}) {
    const std::string port = "clientPort=" + std::to_string(base_);
    // 3.8.0, not the default 3.9.3: this home's distribution store (none set)
    // has only Debian's built-in 3.8.0.
    std::vector<std::string> args = {"deploy",        name,        kPackage, "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--set", port, "--set",
                                     "version=3.8.0", "--timeout", "60"};
    for (const auto& s : sets) args.insert(args.end(), {"--set", s});
    return Zk(args, env);
  }

  // Parses the stdout of `zkpilot VERB [NAME] -o json`; `exit_code` gets its code.
  json JsonOf(const std::vector<std::string>& args, int* exit_code = nullptr) {
    ProcessResult r = Zk(args);
    if (exit_code) *exit_code = r.exit_code;
    json j = json::parse(r.out, nullptr, false);
    if (j.is_discarded()) ADD_FAILURE() << "not JSON from zkpilot " << args[0] << ":\n" << r.All();
    return j;
  }
  json StatusJson(const std::string& name, int* exit_code = nullptr) {
    return JsonOf({"status", name, "-o", "json"}, exit_code);
  }
  json ListJson() { return JsonOf({"list", "-o", "json"}); }

  std::vector<NodeRecord> Nodes(const std::string& name) {
    auto store = StateStore::Open(StateDbPath(home_));
    auto nodes =
        store.ok() ? (*store)->ListNodes(name) : Result<std::vector<NodeRecord>>(store.status());
    if (!nodes.ok()) ADD_FAILURE() << nodes.status().message();
    return nodes.ok() ? *nodes : std::vector<NodeRecord>{};
  }
  NodeRecord Node(const std::string& name, int id) {
    for (const auto& n : Nodes(name))
      if (n.id == id) return n;
    ADD_FAILURE() << "no node " << id << " recorded for " << name;
    return {};
  }

  Endpoint ClientEndpoint(int id) const { return {"127.0.0.1", base_ + (id - 1) * 10}; }
  std::string ConnectString(int id) const { return ClientEndpoint(id).ToString(); }
  std::string ClusterDir(const std::string& name) const { return ClusterHome(home_, name); }
  std::string Marker(const std::string& name, int id) const {
    return "-Dzkpilot.node=" + NodeDir(ClusterDir(name), id);
  }
  // A process of this node runs under `pid`.
  bool NodeRuns(const std::string& name, int id, int pid) const {
    return PidAlive(pid) && testing::Cmdline(pid).find(Marker(name, id)) != std::string::npos;
  }

  // What the state and the supervisor say, for failure messages.
  std::string Describe(const std::string& name) {
    std::string out = "nodes:\n";
    for (const auto& n : Nodes(name))
      out += "  " + std::to_string(n.id) + " pid " + std::to_string(n.pid) + " desired " +
             n.desired + " restarts " + std::to_string(n.restarts) + " last_exit '" + n.last_exit +
             "'\n";
    return out + "supervisor.log:\n" + TailFile(ClusterDir(name) + "/supervisor.log", 20);
  }

  // Nothing recorded, no process, no port taken (except `held`, ours), no
  // files: what cluster_actions.h promises when input is rejected.
  void ExpectNothingLeft(const std::string& name, const std::set<int>& held = {}) {
    EXPECT_EQ(ListJson(), json::array())
        << "a cluster was recorded although the command was rejected";
    EXPECT_EQ(testing::PidsWithCmdline("-Dzkpilot.node=" + home_), std::vector<int>{})
        << "a server runs";
    EXPECT_EQ(testing::PidsWithCmdline(home_), std::vector<int>{}) << "a process of this home runs";
    for (int port = base_; port < base_ + kServers * 10; ++port)
      EXPECT_TRUE(held.count(port) || testing::PortBindable(port)) << "port " << port << " taken";
    EXPECT_FALSE(fs::exists(ClusterDir(name))) << ClusterDir(name) << " was created";
  }

  testing::TestHome world_;
  std::string root_, home_, capture_;
  int base_ = 0;
};

TEST_F(LocalPlatformTest, DeployStartsAHealthyEnsembleAndRecordsIt) {
  ProcessResult r = Deploy("alpha");
  ASSERT_EQ(r.exit_code, 0) << r.All();
  EXPECT_TRUE(Contains(r.err, "] prepare server 1 (127.0.0.1:" + std::to_string(base_) + ") ..."));
  EXPECT_TRUE(Contains(r.err, "] start server 3 ..."));
  EXPECT_TRUE(Contains(r.err, "] wait until healthy"));
  EXPECT_TRUE(Contains(r.err, "] done in "));
  EXPECT_TRUE(Contains(r.out, "deployed alpha (revision 1)"));
  EXPECT_TRUE(Contains(r.out, "time to healthy: "));

  int code = -1;
  json s = StatusJson("alpha", &code);
  EXPECT_EQ(code, 0) << s.dump(2);
  EXPECT_EQ(s["healthy"], true);
  std::vector<int> leaders;
  ASSERT_EQ(s["nodes"].size(), static_cast<size_t>(kServers)) << s.dump(2);
  for (const auto& n : s["nodes"]) {
    const int id = n["id"].get<int>();
    if (n["role"] == "leader") leaders.push_back(id);
    EXPECT_GT(n["pid"].get<int>(), 0) << n.dump();
    EXPECT_TRUE(NodeRuns("alpha", id, n["pid"].get<int>())) << n.dump();
    EXPECT_EQ(n["version"], "3.8.0") << n.dump();
  }
  ASSERT_EQ(leaders.size(), 1u) << s.dump(2);
  EXPECT_EQ(s["leader"].get<int>(), leaders[0]);

  json list = ListJson();
  ASSERT_EQ(list.size(), 1u) << list.dump(2);
  EXPECT_EQ(list[0]["name"], "alpha");
  EXPECT_EQ(list[0]["status"], "deployed");
  EXPECT_EQ(list[0]["running"], kServers);
  EXPECT_TRUE(Contains(Zk({"list"}).out, "alpha"));

  json history = JsonOf({"history", "alpha", "-o", "json"});
  ASSERT_EQ(history.size(), 1u) << history.dump(2);
  EXPECT_EQ(history[0]["revision"], 1);
  EXPECT_EQ(history[0]["operation"], "deploy");
  EXPECT_EQ(history[0]["status"], "deployed");
  EXPECT_EQ(history[0]["current"], true);
}

TEST_F(LocalPlatformTest, WriteThroughOneServerIsReadThroughTheOthers) {
  ASSERT_EQ(Deploy("alpha").exit_code, 0);
  const std::string data = "written through server 1";
  {
    auto writer = ZkClient::Connect(ConnectString(1), 15s);
    ASSERT_TRUE(writer.ok()) << writer.status().message();
    ASSERT_TRUE((*writer)->Create("/replicated", data).ok());
  }
  for (int id : {2, 3}) {
    auto reader = ZkClient::Connect(ConnectString(id), 15s);
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    ASSERT_TRUE((*reader)->Sync("/replicated").ok()) << "server " << id;
    auto got = (*reader)->Get("/replicated");
    ASSERT_TRUE(got.ok()) << "server " << id << ": " << got.status().message();
    EXPECT_EQ(*got, data) << "server " << id;
  }
}

TEST_F(LocalPlatformTest, KilledLeaderIsRestartedAndRejoinsWithoutAnyCommand) {
  ASSERT_EQ(Deploy("alpha").exit_code, 0);
  json before = StatusJson("alpha");
  const int killed = before["leader"].get<int>();
  const int old_pid = Node("alpha", killed).pid;
  ASSERT_TRUE(NodeRuns("alpha", killed, old_pid));
  ASSERT_EQ(::kill(old_pid, SIGKILL), 0);

  // From here on only the servers and the state are looked at: no zkpilot command.
  AdminClient admin(1000ms);
  auto leader_now = [&] {
    for (int id = 1; id <= kServers; ++id) {
      auto s = admin.Srvr(ClientEndpoint(id));
      if (s.ok() && s->mode == "leader") return id;
    }
    return 0;
  };
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        const int leader = leader_now();
        const NodeRecord n = Node("alpha", killed);
        auto s = admin.Srvr(ClientEndpoint(killed));
        return leader != 0 && leader != killed && n.pid != old_pid &&
               NodeRuns("alpha", killed, n.pid) && s.ok() && s->mode == "follower";
      },
      kRecovery))
      << "no new leader with server " << killed << " back as a follower\n"
      << Describe("alpha");
  EXPECT_FALSE(PidAlive(old_pid));

  // After a write, every server reaches the leader's zxid.
  auto client =
      ZkClient::Connect(ConnectString(1) + "," + ConnectString(2) + "," + ConnectString(3), 15s);
  ASSERT_TRUE(client.ok()) << client.status().message();
  ASSERT_TRUE((*client)->Create("/after-failover", "x").ok());
  std::string zxids;
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        std::set<int64_t> seen;
        zxids.clear();
        for (int id = 1; id <= kServers; ++id) {
          auto s = admin.Srvr(ClientEndpoint(id));
          if (!s.ok()) return false;
          seen.insert(s->zxid);
          zxids += std::to_string(id) + ":" + s->mode + ":" + std::to_string(s->zxid) + " ";
        }
        return seen.size() == 1;
      },
      30s))
      << "servers not in sync after a write: " << zxids;

  for (const auto& n : Nodes("alpha"))
    EXPECT_EQ(n.restarts, n.id == killed ? 1 : 0) << Describe("alpha");
}

// Servers start with the class-data archive (docs/server-start.md) and a
// restart ends each server with SIGKILL, not SIGTERM and a wait
// (docs/stopping-servers.md): what ended the process is the supervisor's
// waitpid status, recorded as the node's last exit.
TEST_F(LocalPlatformTest, ServersStartWithTheClassDataArchiveAndRestartsKillThem) {
  ProcessResult deployed = Deploy("alpha");
  ASSERT_EQ(deployed.exit_code, 0) << deployed.All();
  // This home's archive directory is new: the archive is made once, while
  // server 1's configuration is prepared (before any server starts), and
  // every server then starts with it.
  const std::string made = "class-data archive made in";
  const auto first = deployed.All().find(made);
  EXPECT_NE(first, std::string::npos) << deployed.All();
  EXPECT_EQ(deployed.All().find(made, first + 1), std::string::npos) << "made more than once:\n" << deployed.All();
  EXPECT_LT(first, deployed.All().find("start server 1")) << deployed.All();
  const std::string flag = "-XX:SharedArchiveFile=";
  for (const auto& n : Nodes("alpha")) {
    const std::string cmdline = testing::Cmdline(n.pid);
    const auto at = cmdline.find(flag);
    ASSERT_NE(at, std::string::npos) << "server " << n.id << " started without an archive: " << cmdline << "\n"
                                     << Describe("alpha");
    const std::string archive = cmdline.substr(at + flag.size(), cmdline.find(' ', at) - at - flag.size());
    auto maps = ReadFile("/proc/" + std::to_string(n.pid) + "/maps");
    ASSERT_TRUE(maps.ok()) << maps.status().message();
    EXPECT_NE(maps->find(archive), std::string::npos) << "server " << n.id << " does not map " << archive;
  }

  ProcessResult r = Zk({"restart", "alpha", "--timeout", "90"});
  ASSERT_EQ(r.exit_code, 0) << r.All() << Describe("alpha");
  for (const auto& n : Nodes("alpha")) {
    EXPECT_EQ(n.last_exit, "restarted on request (killed by signal 9)") << Describe("alpha");
    EXPECT_NE(testing::Cmdline(n.pid).find(flag), std::string::npos) << "server " << n.id;
  }
}

// A file's text ("" when it cannot be read), for failure messages.
std::string TextOf(const std::string& path) {
  auto text = ReadFile(path);
  return text.ok() ? *text : std::string();
}

// Two configure commands released at the same instant (each says it is ready,
// then waits to read a line from a FIFO; once both are ready the test writes
// both lines at once): one changes the cluster, the other is refused naming
// it, and every server ends with the winner's zoo.cfg. Three rounds.
TEST_F(LocalPlatformTest, TwoChangesStartedTogetherRunOneAtATime) {
  ASSERT_EQ(Deploy("alpha").exit_code, 0);
  for (int round = 0; round < 3; ++round) {
    const std::string fifo = root_ + "/go-" + std::to_string(round);
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    // Read-write: opening does not wait for a reader, and the lines stay in
    // the pipe for a reader that opens it late.
    const int barrier = ::open(fifo.c_str(), O_RDWR);
    ASSERT_GE(barrier, 0);
    std::vector<pid_t> pids;
    std::vector<std::string> logs;
    for (int who = 0; who < 2; ++who) {
      const std::string value = std::to_string(100 + round * 10 + who);
      logs.push_back(capture_ + "/configure-" + std::to_string(round) + "-" + std::to_string(who) + ".log");
      SpawnOptions spawn;
      spawn.argv = {"/bin/sh", "-c", "touch \"$0.ready.$1\"; read go < \"$0\"; shift; exec \"$@\"", fifo,
                    std::to_string(who), ZKPILOT_BINARY, "configure", "alpha", "--set", "maxClientCnxns=" + value,
                    "--timeout", "90"};
      spawn.working_dir = ZKPILOT_SOURCE_DIR;
      spawn.log_path = logs.back();
      spawn.extra_env = {"ZKPILOT_HOME=" + home_};
      auto pid = Spawn(spawn);
      ASSERT_TRUE(pid.ok()) << pid.status().message();
      pids.push_back(*pid);
    }
    ASSERT_TRUE(testing::WaitUntil(
        [&] { return fs::exists(fifo + ".ready.0") && fs::exists(fifo + ".ready.1"); }, 1min, 1ms));
    ASSERT_EQ(::write(barrier, "go\ngo\n", 6), 6);  // the barrier: both lines at once
    std::vector<int> codes;
    for (pid_t pid : pids) {  // each run takes well under its --timeout of 90s
      int status = 0;
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
      codes.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    ::close(barrier);
    const int winner = codes[0] == 0 ? 0 : 1;
    ASSERT_EQ(codes[winner], 0) << TextOf(logs[0]) << TextOf(logs[1]);
    EXPECT_EQ(codes[1 - winner], 1) << "round " << round << ": both ran:\n" << TextOf(logs[1 - winner]);
    const std::string refused = TextOf(logs[1 - winner]);
    EXPECT_NE(refused.find("alpha is being changed by `configure` (zkpilot pid " + std::to_string(pids[winner])),
              std::string::npos)
        << refused;
    const std::string value = "maxClientCnxns=" + std::to_string(100 + round * 10 + winner);
    for (int id = 1; id <= kServers; ++id) {
      auto cfg = ReadFile(NodeDir(ClusterDir("alpha"), id) + "/conf/zoo.cfg");
      ASSERT_TRUE(cfg.ok());
      EXPECT_NE(cfg->find(value), std::string::npos) << "server " << id << " round " << round << ":\n" << *cfg;
    }
  }
  int code = 0;
  json s = StatusJson("alpha", &code);
  EXPECT_EQ(code, 0) << s.dump(2);
}

// While a command changes the cluster, `resume` and `delete` are refused
// naming it, and `status` says who runs the operation; once it is killed,
// `status` calls it interrupted and `resume` takes it over at once.
TEST_F(LocalPlatformTest, AnOperationWhoseOwnerRunsIsNotInterrupted) {
  ASSERT_EQ(Deploy("alpha").exit_code, 0);
  const std::string log = capture_ + "/restart.log";
  SpawnOptions spawn;
  spawn.argv = {ZKPILOT_BINARY, "restart", "alpha", "--timeout", "90"};
  spawn.working_dir = ZKPILOT_SOURCE_DIR;
  spawn.log_path = log;
  spawn.extra_env = {"ZKPILOT_HOME=" + home_};
  auto pid = Spawn(spawn);
  ASSERT_TRUE(pid.ok());
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return TextOf(log).find("restart server 1") != std::string::npos; }, 2min, 5ms))
      << TextOf(log);
  const std::string owner = "`restart` (zkpilot pid " + std::to_string(*pid) + ")";
  ProcessResult resume = Zk({"resume", "alpha"});
  EXPECT_EQ(resume.exit_code, 1) << resume.All();
  EXPECT_NE(resume.err.find("alpha is being changed by " + owner), std::string::npos) << resume.All();
  ProcessResult del = Zk({"delete", "alpha"});
  EXPECT_EQ(del.exit_code, 1) << del.All();
  EXPECT_NE(del.err.find("alpha is being changed by " + owner), std::string::npos) << del.All();
  json s = StatusJson("alpha");
  bool running = false;
  for (const auto& c : s["conditions"])
    running = running || (c["reason"] == "OperationInProgress" &&
                          c["message"].get<std::string>().find("run by " + owner) != std::string::npos);
  EXPECT_TRUE(running) << s.dump(2);

  ASSERT_EQ(::kill(*pid, SIGKILL), 0);
  ASSERT_EQ(::waitpid(*pid, nullptr, 0), *pid);
  s = StatusJson("alpha");
  bool interrupted = false;
  for (const auto& c : s["conditions"]) interrupted = interrupted || c["reason"] == "OperationInterrupted";
  EXPECT_TRUE(interrupted) << s.dump(2);
  ProcessResult resumed = Zk({"resume", "alpha", "--timeout", "90"});
  EXPECT_EQ(resumed.exit_code, 0) << TextOf(log) << resumed.All();
  EXPECT_EQ(StatusJson("alpha")["status"], "deployed");
}

// A command stuck mid-operation (here stopped with SIGSTOP) keeps the
// cluster's lock: `delete` refuses and points at --force, which kills that
// command (after checking its PID and start time) and deletes the cluster.
// A lock whose recorded PID is now another process is never "forced".
TEST_F(LocalPlatformTest, DeleteForceKillsAStuckCommandButNeverAStranger) {
  ASSERT_EQ(Deploy("alpha").exit_code, 0);
  std::vector<int> servers;
  for (const auto& n : Nodes("alpha")) servers.push_back(n.pid);
  const std::string log = capture_ + "/restart.log";
  SpawnOptions spawn;
  spawn.argv = {ZKPILOT_BINARY, "restart", "alpha", "--timeout", "90"};
  spawn.working_dir = ZKPILOT_SOURCE_DIR;
  spawn.log_path = log;
  spawn.extra_env = {"ZKPILOT_HOME=" + home_};
  auto pid = Spawn(spawn);
  ASSERT_TRUE(pid.ok());
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return TextOf(log).find("restart server 1") != std::string::npos; }, 2min, 5ms))
      << TextOf(log);
  ASSERT_EQ(::kill(*pid, SIGSTOP), 0);
  const std::string owner = "`restart` (zkpilot pid " + std::to_string(*pid) + ")";

  ProcessResult refused = Zk({"delete", "alpha"});
  EXPECT_EQ(refused.exit_code, 1) << refused.All();
  EXPECT_TRUE(Contains(refused.err, "alpha is being changed by " + owner));
  EXPECT_TRUE(Contains(refused.err, "`zkpilot delete alpha --force` kills a stuck one"));
  EXPECT_TRUE(PidAlive(*pid));

  ProcessResult forced = Zk({"delete", "alpha", "--force", "--purge-data"});
  EXPECT_EQ(forced.exit_code, 0) << forced.All();
  EXPECT_TRUE(Contains(forced.out, "killed the stuck " + owner));
  int wait_status = 0;
  ASSERT_EQ(::waitpid(*pid, &wait_status, 0), *pid);
  EXPECT_TRUE(WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGKILL) << wait_status;
  EXPECT_EQ(ListJson(), json::array());
  for (int server : servers) EXPECT_FALSE(PidAlive(server)) << "server pid " << server;

  // A lock held by a process whose start time is not the recorded one: the
  // recorded command is gone and its PID reused. --force must not kill it.
  ASSERT_EQ(Deploy("beta").exit_code, 0);
  const std::string lock = home_ + "/locks/beta.lock";
  SpawnOptions holder;
  holder.argv = {"flock", lock, "sleep", "300"};
  holder.log_path = capture_ + "/flock.log";
  auto stranger = Spawn(holder);  // its own process group (setsid)
  ASSERT_TRUE(stranger.ok());
  ASSERT_TRUE(testing::WaitUntil([&] { return HeldOperationLock(home_, "beta").has_value(); }, 10s));
  {
    std::ofstream rewrite(lock, std::ios::trunc);  // in place: the flock is on this inode
    rewrite << *stranger << " upgrade 1 1\n";
  }
  ProcessResult not_forced = Zk({"delete", "beta", "--force"});
  EXPECT_EQ(not_forced.exit_code, 1) << not_forced.All();
  EXPECT_TRUE(Contains(not_forced.err, "cannot force: pid " + std::to_string(*stranger) +
                                           " is not the command that took"));
  EXPECT_TRUE(PidAlive(*stranger));
  EXPECT_EQ(ListJson().size(), 1u);
  ::kill(-*stranger, SIGKILL);
  ::waitpid(*stranger, nullptr, 0);
}

TEST_F(LocalPlatformTest, ServersOutliveAKilledSupervisorAndStatusRestartsIt) {
  ASSERT_EQ(Deploy("alpha").exit_code, 0);
  json before = StatusJson("alpha");
  const int supervisor = before["supervisor"]["pid"].get<int>();
  ASSERT_TRUE(PidAlive(supervisor)) << before.dump(2);
  std::map<int, int> pids;
  for (const auto& n : before["nodes"]) pids[n["id"].get<int>()] = n["pid"].get<int>();

  // The supervisor and its guardian, which would otherwise start it again
  // (self_heal_test.cc), killed together: the next command repairs it.
  const int guardian = before["supervisor"].value("guardian_pid", 0);
  ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
  if (guardian > 0) {
    ASSERT_EQ(::kill(guardian, SIGKILL), 0);
  }
  ASSERT_TRUE(testing::WaitUntil([&] { return !PidAlive(supervisor) && !PidAlive(guardian); }, 10s));
  AdminClient admin(1000ms);
  for (const auto& n : Nodes("alpha")) {
    EXPECT_EQ(n.pid, pids[n.id]) << "server " << n.id;
    EXPECT_TRUE(NodeRuns("alpha", n.id, n.pid)) << "server " << n.id << " died with the supervisor";
    auto s = admin.Srvr(ClientEndpoint(n.id));
    EXPECT_TRUE(s.ok() && s->IsServing()) << "server " << n.id;
  }

  int code = -1;
  json after = StatusJson("alpha", &code);
  EXPECT_EQ(code, 0) << after.dump(2);
  const int new_supervisor = after["supervisor"]["pid"].get<int>();
  EXPECT_GT(new_supervisor, 0);
  EXPECT_NE(new_supervisor, supervisor);
  EXPECT_TRUE(PidAlive(new_supervisor));
  EXPECT_EQ(after["supervisor"].value("restarted", false), true) << after["supervisor"].dump();
  for (const auto& n : after["nodes"])
    EXPECT_EQ(n["pid"].get<int>(), pids[n["id"].get<int>()]) << n.dump();

  // The new supervisor adopted the servers: it restarts a killed follower.
  int follower = 0;
  for (const auto& n : after["nodes"])
    if (n["role"] == "follower") follower = n["id"].get<int>();
  ASSERT_NE(follower, 0) << after.dump(2);
  const int old_pid = pids[follower];
  ASSERT_EQ(::kill(old_pid, SIGKILL), 0);
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        const NodeRecord n = Node("alpha", follower);
        auto s = admin.Srvr(ClientEndpoint(follower));
        return n.pid != old_pid && NodeRuns("alpha", follower, n.pid) && s.ok() &&
               s->mode == "follower";
      },
      kRecovery))
      << "follower " << follower << " not restarted\n"
      << Describe("alpha");
  EXPECT_EQ(Node("alpha", follower).restarts, 1);
}

TEST_F(LocalPlatformTest, DeployInitHooksCreateTheirZnodesWithTheirAcl) {
  ASSERT_EQ(Deploy("alpha").exit_code, 0);
  auto package = LoadPackage(kPackage);
  ASSERT_TRUE(package.ok()) << package.status().message();
  std::vector<HookStep> creates;  // the znodes packages/zookeeper/hooks.yaml creates on deploy
  for (const auto& hook : package->hooks)
    if (hook.event == HookEvent::kDeploy && hook.phase == HookPhase::kInit)
      for (const auto& step : hook.steps)
        if (step.action == "create-znode") creates.push_back(step);
  ASSERT_GE(creates.size(), 2u) << "hooks.yaml creates /zkpilot and /apps on deploy";

  auto store = StateStore::Open(StateDbPath(home_));
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto ops = (*store)->ListOperations("alpha");
  ASSERT_TRUE(ops.ok() && !ops->empty());
  auto runs = (*store)->ListHookRuns(ops->front().id);
  ASSERT_TRUE(runs.ok()) << runs.status().message();

  for (const auto& step : creates) {
    const std::string path = step.args.at("path").get<std::string>();
    const std::string acl = step.args.value("acl", std::string("world:anyone:cdrwa"));
    auto got = testing::ZnodeAcl(ConnectString(2), path);
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(*got, acl) << path;
    int ok_runs = 0;
    for (const auto& run : *runs)
      if (run.step == step.name && run.event == "deploy" && run.phase == "init" &&
          run.action == "create-znode")
        ok_runs += run.status == "ok";
    EXPECT_EQ(ok_runs, 1) << "hook run of " << step.name;
  }
  for (const auto& run : *runs) EXPECT_EQ(run.status, "ok") << run.step << ": " << run.message;
}

TEST_F(LocalPlatformTest, DeleteStopsEverythingFreesPortsAndKeepsDataUnlessPurged) {
  ASSERT_EQ(Deploy("alpha").exit_code, 0);
  json s = StatusJson("alpha");
  std::vector<int> pids = {s["supervisor"]["pid"].get<int>()};
  for (const auto& n : s["nodes"]) pids.push_back(n["pid"].get<int>());

  ProcessResult r = Zk({"delete", "alpha"});
  ASSERT_EQ(r.exit_code, 0) << r.All();
  EXPECT_TRUE(Contains(r.out, "deleted alpha"));
  for (int pid : pids)
    EXPECT_FALSE(PidAlive(pid) && testing::Cmdline(pid).find(home_) != std::string::npos) << pid;
  for (int id = 1; id <= kServers; ++id)
    for (int port = ClientEndpoint(id).port; port <= ClientEndpoint(id).port + 3; ++port)
      EXPECT_TRUE(testing::PortBindable(port)) << "port " << port;
  EXPECT_EQ(ListJson(), json::array());
  for (int id = 1; id <= kServers; ++id)
    EXPECT_TRUE(fs::exists(NodeDir(ClusterDir("alpha"), id) + "/data/version-2"))
        << "data of server " << id;

  ProcessResult again = Deploy("alpha");
  ASSERT_EQ(again.exit_code, 0) << again.All();
  r = Zk({"delete", "alpha", "--purge-data"});
  ASSERT_EQ(r.exit_code, 0) << r.All();
  EXPECT_FALSE(fs::exists(ClusterDir("alpha")));
  EXPECT_EQ(ListJson(), json::array());
  EXPECT_EQ(testing::PidsWithCmdline(home_), std::vector<int>{});
}

TEST_F(LocalPlatformTest, DryRunPrintsThePlanAndChangesNothing) {
  ProcessResult r =
      Zk({"deploy", "plan-only", kPackage, "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--set", "clientPort=" + std::to_string(base_), "--set",
          "version=3.8.0", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.All();
  for (const std::string& line : std::vector<std::string>{
           "Plan: deploy plan-only", "prepare server 1 (127.0.0.1:" + std::to_string(base_) + ")",
           "start server 3", "wait until healthy", "run the deploy init hooks",
           "(dry run: nothing was changed)"})
    EXPECT_TRUE(Contains(r.out, line));
  ExpectNothingLeft("plan-only");
}

// --- bad input ----------------------------------------------------------

struct BadDeploy {
  const char* name;
  enum Setup { kNothing, kTakeServer2QuorumPort, kNoJavaInPath } setup;
  std::vector<std::string> sets;
  int exit_code;
  std::vector<std::string> messages;  // "{port}" stands for the port taken by the setup
};

void PrintTo(const BadDeploy& c, std::ostream* os) { *os << c.name; }

class BadDeployTest : public LocalPlatformTest, public ::testing::WithParamInterface<BadDeploy> {};

TEST_P(BadDeployTest, FailsNamingTheFaultAndLeavesNothing) {
  const BadDeploy& c = GetParam();
  const int port = ClientEndpoint(2).port + 1;
  std::unique_ptr<testing::Listener> listener;
  std::vector<std::string> env;
  if (c.setup == BadDeploy::kTakeServer2QuorumPort) {
    listener = std::make_unique<testing::Listener>(port);
    ASSERT_TRUE(listener->ok());
  }
  if (c.setup == BadDeploy::kNoJavaInPath) {
    fs::create_directories(root_ + "/empty-bin");
    env.push_back("PATH=" + root_ + "/empty-bin");
  }
  ProcessResult r = Deploy("bad", c.sets, env);
  EXPECT_EQ(r.exit_code, c.exit_code) << r.All();
  for (std::string m : c.messages) {
    if (auto at = m.find("{port}"); at != std::string::npos) m.replace(at, 6, std::to_string(port));
    EXPECT_TRUE(Contains(r.err, m));
  }
  ExpectNothingLeft("bad", listener ? std::set<int>{port} : std::set<int>{});
}

INSTANTIATE_TEST_SUITE_P(
    LocalPlatform, BadDeployTest,
    ::testing::Values(
        BadDeploy{"PortInUse",
                  BadDeploy::kTakeServer2QuorumPort,
                  {},
                  2,
                  {"port {port}", "already in use"}},
        BadDeploy{"JavaMissing", BadDeploy::kNoJavaInPath, {}, 1, {"java is not installed"}},
        // /proc/zkpilot-test cannot be created even by root, for whom access(2)
        // reports every directory writable: the check must not rely on it alone.
        BadDeploy{"DataDirNotWritable",
                  BadDeploy::kNothing,
                  {"dataDir=/proc/zkpilot-test"},
                  2,
                  {"dataDir", "/proc/zkpilot-test"}},
        BadDeploy{"VersionWithoutDistribution",
                  BadDeploy::kNothing,
                  {"version=3.8.4"},
                  1,
                  {"version 3.8.4", "apache-3.8.4", "fetch-zookeeper.sh"}}),
    [](const ::testing::TestParamInfo<BadDeploy>& info) { return std::string(info.param.name); });

TEST_F(LocalPlatformTest, DeployOfAnExistingNameFailsAndLeavesTheFirstClusterAlone) {
  ASSERT_EQ(Deploy("alpha").exit_code, 0);
  json before = StatusJson("alpha");
  // Other ports, so only the name is at fault.
  ProcessResult r = Deploy("alpha", {"clientPort=" + std::to_string(base_ + 30)});
  EXPECT_EQ(r.exit_code, 2) << r.All();
  EXPECT_TRUE(Contains(r.err, "cluster alpha already exists"));

  int code = -1;
  json after = StatusJson("alpha", &code);
  EXPECT_EQ(code, 0) << after.dump(2);
  EXPECT_EQ(after["healthy"], true);
  for (size_t i = 0; i < before["nodes"].size(); ++i)
    EXPECT_EQ(after["nodes"][i]["pid"], before["nodes"][i]["pid"]);
  EXPECT_EQ(ListJson().size(), 1u);
  EXPECT_EQ(JsonOf({"history", "alpha", "-o", "json"}).size(), 1u);
  for (int port = base_ + 30; port < base_ + 30 + kServers * 10; ++port)
    EXPECT_TRUE(testing::PortBindable(port)) << "port " << port;
}

TEST_F(LocalPlatformTest, UnknownClusterIsInvalidInputForEveryVerb) {
  for (const auto& verb : std::vector<std::vector<std::string>>{
           {"status", "ghost"}, {"delete", "ghost"}, {"logs", "ghost"}, {"history", "ghost"}}) {
    ProcessResult r = Zk(verb);
    EXPECT_EQ(r.exit_code, 2) << verb[0] << ": " << r.All();
    EXPECT_TRUE(Contains(r.err, "no cluster named ghost")) << verb[0];
  }
  ExpectNothingLeft("ghost");
}

TEST_F(LocalPlatformTest, ServerThatCannotStartFailsTheDeployWithItsLog) {
  ProcessResult r = Deploy("broken", {"jvmFlags=-XX:+NoSuchJvmOption"});
  EXPECT_NE(r.exit_code, 0) << r.All();
  EXPECT_TRUE(Contains(r.err, "Unrecognized VM option 'NoSuchJvmOption'"));
  EXPECT_TRUE(Contains(r.err, "zookeeper.log"));

  json list = ListJson();
  ASSERT_EQ(list.size(), 1u) << list.dump(2);
  EXPECT_EQ(list[0]["status"], "failed");
  EXPECT_EQ(list[0]["running"], 0);
  json history = JsonOf({"history", "broken", "-o", "json"});
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0]["status"], "failed");
  EXPECT_EQ(testing::PidsWithCmdline(home_), std::vector<int>{})
      << "a server or the supervisor still runs";
  for (int port = base_; port < base_ + kServers * 10; ++port)
    EXPECT_TRUE(testing::PortBindable(port)) << "port " << port;
}

}  // namespace
}  // namespace zkpilot

namespace zkpilot {
namespace {

// purge-snapshots without a JVM removes exactly what ZooKeeper's own
// PurgeTxnLog removes, run on a copy of the same files: snapshots (one of
// them truncated, so not valid) and transaction logs, in one directory or
// with a separate log directory, keeping 3 and 4.
TEST(PurgeSnapshotsTest, RemovesWhatZooKeepersPurgeTxnLogRemoves) {
  auto distribution = DistributionStore(testing::DistributionStore()).Find("debian-3.8.0");
  ASSERT_TRUE(distribution.ok()) << distribution.status().message();
  const fs::path root = fs::temp_directory_path() / ("zkpilot-purge-" + std::to_string(::getpid()));
  struct RemoveAtEnd {
    fs::path dir;
    ~RemoveAtEnd() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } remove_at_end{root};
  fs::remove_all(root);
  auto write = [](const fs::path& p, bool valid_snapshot) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out << std::string(64, 'x');
    if (valid_snapshot) out << std::string("\0\0\0\1/", 5);
  };
  auto names = [](const fs::path& dir) {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file()) out.insert(fs::relative(e.path(), dir).string());
    return out;
  };
  for (bool separate_logs : {false, true}) {
    for (int retain : {3, 4}) {
      SCOPED_TRACE("separate log dir " + std::to_string(separate_logs) + ", retain " + std::to_string(retain));
      const fs::path base = root / "base";
      fs::remove_all(root);
      const fs::path snaps = base / "data" / "version-2";
      const fs::path logs = base / (separate_logs ? "log" : "data") / "version-2";
      for (const char* z : {"100", "200", "250", "300", "380"}) write(snaps / ("snapshot." + std::string(z)), true);
      write(snaps / "snapshot.400", false);  // truncated: not a valid snapshot
      for (const char* z : {"50", "101", "180", "1f0", "260", "301", "500"}) write(logs / ("log." + std::string(z)), false);
      write(snaps / "acceptedEpoch", false);
      fs::copy(base, root / "java", fs::copy_options::recursive);
      fs::copy(base, root / "native", fs::copy_options::recursive);

      const fs::path jdata = root / "java" / "data", jlog = root / "java" / (separate_logs ? "log" : "data");
      auto java = RunCommand({FindInPath("java"), "-cp", distribution->ClasspathString(""),
                              "org.apache.zookeeper.server.PurgeTxnLog", jlog.string(), jdata.string(), "-n",
                              std::to_string(retain)},
                             std::chrono::seconds(60));
      ASSERT_TRUE(java.ok()) << java.status().message();
      ASSERT_EQ(java->exit_code, 0) << java->output;
      const fs::path ndata = root / "native" / "data", nlog = root / "native" / (separate_logs ? "log" : "data");
      auto native = PurgeSnapshotDirs(ndata.string(), nlog.string(), retain);
      ASSERT_TRUE(native.ok()) << native.status().message();

      EXPECT_EQ(names(root / "native"), names(root / "java")) << *native;
      EXPECT_LT(names(root / "native").size(), names(base).size()) << "something was purged";
    }
  }
  EXPECT_FALSE(PurgeSnapshotDirs((root / "native" / "data").string(), (root / "native" / "data").string(), 2).ok())
      << "fewer than 3 is refused, as by PurgeTxnLog";
}

}  // namespace
}  // namespace zkpilot
