// The port registry end to end (src/platform/local/port_registry.h): the
// real zkpilot binary, real ZooKeeper, two ZKPILOT_HOMEs sharing one registry
// ($ZKPILOT_PORTS_DIR, under the test's directory). Two deploys released at
// the same instant over one port block: exactly one wins. A port another
// home's cluster reserved is refused even while nothing listens on it, and
// taken over once that cluster is gone. Ports below 1024 need asking for. An
// add-on switched on over a taken port is refused; one that a failed change
// left crash-looping is stopped by `configure` back or `rollback`.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "local_test_util.h"
#include "platform/local/paths.h"
#include "platform/local/process.h"
#include "util/files.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::ProcessResult;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";

std::string TextOf(const std::string& path) {
  auto text = ReadFile(path);
  return text.ok() ? *text : "";
}

class PortRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    for (auto* w : {&one_, &two_}) ASSERT_TRUE(w->Create("zkpilot-ports", 40, &error)) << error;
    ports_dir_ = one_.root() + "/ports";
    base_ = one_.base_port();
  }
  void TearDown() override {
    for (auto* w : {&one_, &two_})
      EXPECT_TRUE(w->Cleanup(ZKPILOT_BINARY)) << "processes of " << w->home() << " survived SIGKILL";
  }

  // `zkpilot args...` in `world`'s home, with the shared registry.
  ProcessResult Zk(const testing::TestHome& world, std::vector<std::string> args) {
    args.insert(args.begin(), ZKPILOT_BINARY);
    testing::RunOptions options;
    options.env = world.Env();
    options.env.push_back("ZKPILOT_PORTS_DIR=" + ports_dir_);
    options.working_dir = ZKPILOT_SOURCE_DIR;
    options.capture_dir = world.capture();
    return testing::RunProcess(args, options);
  }
  ProcessResult Deploy(const testing::TestHome& world, const std::string& name, int client_port,
                       const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"deploy", name, kPackage, "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--set", "clientPort=" + std::to_string(client_port),
                                     "--set", "replicas=1", "--timeout", "60"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Zk(world, args);
  }
  json Status(const testing::TestHome& world, const std::string& name, int* code) {
    ProcessResult r = Zk(world, {"status", name, "-o", "json"});
    *code = r.exit_code;
    json j = json::parse(r.out, nullptr, false);
    if (j.is_discarded()) ADD_FAILURE() << r.All();
    return j;
  }
  std::vector<int> PrometheusPids(const testing::TestHome& world, const std::string& name) {
    return testing::PidsWithCmdline("--config.file=" + ClusterHome(world.home(), name) +
                                    "/monitoring/prometheus/prometheus.yml");
  }

  testing::TestHome one_, two_;
  std::string ports_dir_;
  int base_ = 0;
};

// Two deploys in two homes over the same ports, released at the same instant
// (each says it is ready, then waits to read a line from a FIFO; once both
// are ready the test writes both lines at once): one deploys, the other is
// refused naming the port and the winner. Five rounds.
TEST_F(PortRegistryTest, TwoDeploysStartedTogetherInTwoHomesCannotBothTakeAPort) {
  const testing::TestHome* worlds[2] = {&one_, &two_};
  for (int round = 0; round < 5; ++round) {
    const std::string fifo = one_.root() + "/go-" + std::to_string(round);
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const int barrier = ::open(fifo.c_str(), O_RDWR);  // lines stay for a late reader
    ASSERT_GE(barrier, 0);
    std::vector<pid_t> pids;
    std::vector<std::string> logs, names;
    for (int who = 0; who < 2; ++who) {
      names.push_back("r" + std::to_string(round) + (who == 0 ? "a" : "b"));
      logs.push_back(one_.capture() + "/deploy-" + names.back() + ".log");
      SpawnOptions spawn;
      spawn.argv = {"/bin/sh", "-c", "touch \"$0.ready.$1\"; read go < \"$0\"; shift; exec \"$@\"", fifo,
                    std::to_string(who), ZKPILOT_BINARY, "deploy", names.back(), kPackage, "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--set",
                    "clientPort=" + std::to_string(base_), "--set", "replicas=1", "--timeout", "60"};
      spawn.working_dir = ZKPILOT_SOURCE_DIR;
      spawn.log_path = logs.back();
      spawn.extra_env = worlds[who]->Env();
      spawn.extra_env.push_back("ZKPILOT_PORTS_DIR=" + ports_dir_);
      auto pid = Spawn(spawn);
      ASSERT_TRUE(pid.ok()) << pid.status().message();
      pids.push_back(*pid);
    }
    ASSERT_TRUE(testing::WaitUntil(
        [&] { return fs::exists(fifo + ".ready.0") && fs::exists(fifo + ".ready.1"); }, 1min, 1ms));
    ASSERT_EQ(::write(barrier, "go\ngo\n", 6), 6);
    std::vector<int> codes;
    for (pid_t pid : pids) {
      int status = 0;
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
      codes.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    ::close(barrier);
    const int winner = codes[0] == 0 ? 0 : 1;
    ASSERT_EQ(codes[winner], 0) << TextOf(logs[0]) << TextOf(logs[1]);
    EXPECT_EQ(codes[1 - winner], 2) << "round " << round << ": both deployed:\n" << TextOf(logs[1 - winner]);
    const std::string refused = TextOf(logs[1 - winner]);
    EXPECT_NE(refused.find("port " + std::to_string(base_) + " (server 1 client port) is reserved by cluster " +
                           names[winner] + " of ZKPILOT_HOME " + worlds[winner]->home()),
              std::string::npos)
        << refused;
    ProcessResult listed = Zk(*worlds[1 - winner], {"list", "-o", "json"});
    EXPECT_EQ(json::parse(listed.out, nullptr, false), json::array()) << "the refused deploy recorded a cluster";
    ProcessResult del = Zk(*worlds[winner], {"delete", names[winner], "--purge-data"});
    ASSERT_EQ(del.exit_code, 0) << del.All();
  }
}

// A port of another home's cluster is refused although nothing listens on it
// (its Prometheus is off); once that cluster is gone — deleted, or its
// reservation left behind by a lost home — the port can be taken.
TEST_F(PortRegistryTest, AnotherHomesReservedPortIsRefusedUntilThatClusterIsGone) {
  ProcessResult a = Deploy(one_, "a", base_);
  ASSERT_EQ(a.exit_code, 0) << a.All();
  const int prometheus = base_ + 6;  // a's, switched off: free to bind
  ASSERT_TRUE(testing::PortBindable(prometheus));
  ProcessResult b = Deploy(two_, "b", prometheus);
  EXPECT_EQ(b.exit_code, 2) << b.All();  // bad input: choose other ports
  EXPECT_NE(b.err.find("port " + std::to_string(prometheus) + " (server 1 client port) is reserved by cluster a of "
                       "ZKPILOT_HOME " + one_.home() + " (its Prometheus)"),
            std::string::npos)
      << b.All();
  EXPECT_EQ(json::parse(Zk(two_, {"list", "-o", "json"}).out, nullptr, false), json::array());

  // A reservation whose cluster is no longer recorded anywhere is stale.
  auto registry = ReadFile(ports_dir_ + "/reservations.json");
  ASSERT_TRUE(registry.ok()) << registry.status().message();
  ProcessResult del = Zk(one_, {"delete", "a", "--purge-data"});
  ASSERT_EQ(del.exit_code, 0) << del.All();
  EXPECT_EQ(TextOf(ports_dir_ + "/reservations.json").find("\"cluster\": \"a\""), std::string::npos)
      << "delete left a's reservation";
  {
    std::ofstream(ports_dir_ + "/reservations.json", std::ios::trunc) << *registry;  // as a lost home leaves it
  }
  b = Deploy(two_, "b", prometheus);
  EXPECT_EQ(b.exit_code, 0) << b.All();
}

// A port below 1024 is refused unless asked for, dry run or not.
TEST_F(PortRegistryTest, PortsBelow1024NeedAskingFor) {
  for (bool dry_run : {true, false}) {
    std::vector<std::string> extra;
    if (dry_run) extra.push_back("--dry-run");
    ProcessResult r = Deploy(one_, "low", 900, extra);
    EXPECT_EQ(r.exit_code, 2) << r.All();
    EXPECT_NE(r.err.find("port 900 (server 1 client port) is below 1024"), std::string::npos) << r.All();
    EXPECT_NE(r.err.find("--allow-privileged-ports"), std::string::npos) << r.All();
    EXPECT_FALSE(fs::exists(ClusterHome(one_.home(), "low")));
  }
  ProcessResult asked = Deploy(one_, "low", 900, {"--dry-run", "--allow-privileged-ports"});
  EXPECT_EQ(asked.All().find("below 1024"), std::string::npos) << asked.All();
  if (::geteuid() == 0) {
    EXPECT_EQ(asked.exit_code, 0) << asked.All();
  }
}

// Monitoring switched on over a port a stranger listens on (the exporter's,
// Prometheus's) is refused naming it, and whether the way back is
// `configure` or `rollback`, nothing of it is left running and the cluster is
// healthy and deployed again.
TEST_F(PortRegistryTest, AFailedAddonChangeIsUndoneByConfigureOrRollback) {
  ASSERT_EQ(Deploy(one_, "m", base_).exit_code, 0);
  for (const auto& [port, what] : {std::pair{base_ + 5, "exporter"}, {base_ + 6, "Prometheus"}}) {
    testing::Listener stranger(port);
    ASSERT_TRUE(stranger.ok());
    for (const std::vector<std::string>& undo :
         {std::vector<std::string>{"configure", "m", "--set", "prometheus.enabled=false"},
          std::vector<std::string>{"rollback", "m"}}) {
      ProcessResult on = Zk(one_, {"configure", "m", "--set", "prometheus.enabled=true", "--timeout", "60"});
      EXPECT_NE(on.exit_code, 0) << on.All();
      EXPECT_NE(on.err.find("port " + std::to_string(port) + " (" + what + " of m) is in use"), std::string::npos)
          << on.All();
      ProcessResult back = Zk(one_, undo);
      EXPECT_EQ(back.exit_code, 0) << undo[0] << ":\n" << back.All();
      EXPECT_TRUE(testing::WaitUntil([&] { return PrometheusPids(one_, "m").empty(); }, 30s))
          << undo[0] << ": Prometheus still runs";
      int code = 0;
      json s = Status(one_, "m", &code);
      EXPECT_EQ(code, 0) << undo[0] << ":\n" << s.dump(2);
      EXPECT_EQ(s.value("status", ""), "deployed") << undo[0] << ":\n" << s.dump(2);
      EXPECT_FALSE(s.value("monitoring", json::object()).contains("prometheus"))
          << undo[0] << ": Prometheus still switched on:\n" << s.dump(2);
    }
  }
}

// An add-on that a failed change left crash-looping — here Prometheus, whose
// storage cannot be opened (a regular file where its write-ahead log
// directory goes), so it exits at once and is started again — is stopped by
// the change that follows: `configure` back to the recorded values, or
// `rollback`.
TEST_F(PortRegistryTest, ACrashLoopingAddonOfAFailedChangeIsStoppedByConfigureOrRollback) {
  ASSERT_EQ(Deploy(one_, "m", base_).exit_code, 0);
  const std::string data = ClusterHome(one_.home(), "m") + "/monitoring/prometheus/data";
  fs::create_directories(data);
  { std::ofstream(data + "/wal") << "not a directory\n"; }
  for (const std::vector<std::string>& undo :
       {std::vector<std::string>{"configure", "m", "--set", "prometheus.enabled=false"},
        std::vector<std::string>{"rollback", "m"}}) {
    ProcessResult on = Zk(one_, {"configure", "m", "--set", "prometheus.enabled=true", "--timeout", "60"});
    EXPECT_NE(on.exit_code, 0) << on.All();
    EXPECT_NE(on.err.find("prometheus did not become ready"), std::string::npos) << on.All();
    ProcessResult back = Zk(one_, undo);
    EXPECT_EQ(back.exit_code, 0) << undo[0] << ":\n" << back.All();
    EXPECT_TRUE(testing::WaitUntil([&] { return PrometheusPids(one_, "m").empty(); }, 30s))
        << undo[0] << ": Prometheus still runs";
    int code = 0;
    json s = Status(one_, "m", &code);
    EXPECT_EQ(code, 0) << undo[0] << ":\n" << s.dump(2);
    EXPECT_EQ(s.value("status", ""), "deployed") << undo[0] << ":\n" << s.dump(2);
    EXPECT_FALSE(s.value("monitoring", json::object()).contains("prometheus"))
        << undo[0] << ": Prometheus still switched on:\n" << s.dump(2);
  }
}

}  // namespace
}  // namespace zkpilot
