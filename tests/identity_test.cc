// End-to-end tests of who the local platform trusts, and of what it says
// about a server that is down: the real zkpilot binary against real
// ZooKeeper servers on free 127.0.0.1 ports, each zkpilot world in its own
// temporary ZKPILOT_HOME (local_test_util.h), cleaned up even after a
// failure.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "local_test_util.h"
#include "platform/local/paths.h"
#include "platform/local/port_owner.h"
#include "zk/four_letter.h"

namespace zkpilot {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::PidAlive;
using testing::ProcessResult;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";
constexpr int kPortSpan = 60;  // 3 servers use base..base+23
constexpr int kServers = 3;

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in:\n" << text;
}

class IdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(a_.Create("zkpilot-ident-a", kPortSpan, &error)) << error;
    ASSERT_TRUE(b_.Create("zkpilot-ident-b", kPortSpan, &error)) << error;
  }
  void TearDown() override {
    EXPECT_TRUE(b_.Cleanup(ZKPILOT_BINARY)) << "processes of " << b_.home() << " survived SIGKILL";
    EXPECT_TRUE(a_.Cleanup(ZKPILOT_BINARY)) << "processes of " << a_.home() << " survived SIGKILL";
  }

  // `zkpilot args...` with `world`'s ZKPILOT_HOME. Each world has a port
  // registry of its own, as two users of one machine have (port_registry.h):
  // the registry would otherwise refuse alpha beta's ports, and what these
  // tests check is what happens when another user's servers hold them.
  static ProcessResult Zk(const testing::TestHome& world, std::vector<std::string> args) {
    args.insert(args.begin(), ZKPILOT_BINARY);
    std::vector<std::string> env = world.Env();
    env.push_back("ZKPILOT_PORTS_DIR=" + world.root() + "/ports");
    return testing::RunProcess(args, {env, ZKPILOT_SOURCE_DIR, world.capture(), 3min});
  }
  // Deploys `name` in `world` on the ports of world A's block.
  ProcessResult Deploy(const testing::TestHome& world, const std::string& name) {
    return Zk(world, {"deploy", name, kPackage, "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--set",
                      "clientPort=" + std::to_string(a_.base_port()), "--timeout", "60"});
  }
  static json StatusJson(const testing::TestHome& world, const std::string& name,
                         int* code = nullptr) {
    ProcessResult r = Zk(world, {"status", name, "-o", "json"});
    if (code) *code = r.exit_code;
    json j = json::parse(r.out, nullptr, false);
    if (j.is_discarded()) ADD_FAILURE() << "status " << name << " is not JSON:\n" << r.All();
    return j;
  }
  int ClientPort(int id) const { return a_.base_port() + (id - 1) * 10; }

  testing::TestHome a_, b_;
};

// Cluster beta (home B) stopped behind zkpilot's back; cluster alpha (home
// A) then took the same ports. beta's record still names those ports: its
// status must not show alpha's servers as its own, and its delete must stop
// what is beta's and finish, naming the ports another cluster holds.
TEST_F(IdentityTest, AnotherClustersServersOnOurPortsAreNamedNotTrustedAndDeleteFinishes) {
  ProcessResult r = Deploy(b_, "beta");
  ASSERT_EQ(r.exit_code, 0) << r.All();
  json beta = StatusJson(b_, "beta");
  // The guardian first: it would start the supervisor again (guardian.h).
  std::vector<int> beta_pids = {beta["supervisor"].value("guardian_pid", 0), beta["supervisor"]["pid"].get<int>()};
  for (const auto& n : beta["nodes"]) beta_pids.push_back(n["pid"].get<int>());
  for (int pid : beta_pids) ASSERT_TRUE(pid > 0 && ::kill(pid, SIGKILL) == 0) << pid;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        for (int pid : beta_pids)
          if (PidAlive(pid)) return false;
        for (int id = 1; id <= kServers; ++id)
          if (!testing::PortBindable(ClientPort(id))) return false;
        return true;
      },
      30s))
      << "beta's processes or ports outlived SIGKILL";

  r = Deploy(a_, "alpha");
  ASSERT_EQ(r.exit_code, 0) << r.All();
  json alpha = StatusJson(a_, "alpha");
  ASSERT_EQ(alpha["healthy"], true) << alpha.dump(2);
  std::map<int, int> alpha_pids;
  for (const auto& n : alpha["nodes"]) alpha_pids[n["id"].get<int>()] = n["pid"].get<int>();

  // beta's servers are down (restarted by status, they cannot bind);
  // alpha's answer on their ports, and are named as not beta's.
  int code = -1;
  beta = StatusJson(b_, "beta", &code);
  EXPECT_NE(code, 0) << beta.dump(2);
  EXPECT_EQ(beta["healthy"], false) << beta.dump(2);
  EXPECT_EQ(beta["quorum"], false) << beta.dump(2);
  EXPECT_EQ(beta["leader"], 0) << beta.dump(2);
  ASSERT_EQ(beta["nodes"].size(), size_t{kServers}) << beta.dump(2);
  for (const auto& n : beta["nodes"]) {
    const int id = n["id"].get<int>();
    const std::string alpha_data = NodeDir(ClusterHome(a_.home(), "alpha"), id) + "/data";
    EXPECT_EQ(n["healthy"], false) << n.dump();
    EXPECT_EQ(n["role"], "down") << n.dump();
    EXPECT_EQ(n["zxid"], "") << "a reading of alpha's server counted as beta's: " << n.dump();
    EXPECT_TRUE(Contains(n["problem"].get<std::string>(),
                         "port " + std::to_string(ClientPort(id)) +
                             " is served by another ZooKeeper (dataDir " + alpha_data +
                             ", serverId " + std::to_string(id) + "), not this cluster's server " +
                             std::to_string(id)));
  }
  r = Zk(b_, {"status", "beta"});
  EXPECT_TRUE(Contains(r.out, "not this cluster's server 1")) << r.All();

  // delete stops beta's own (its supervisor, restarted by status, and any
  // server it started) and finishes, naming alpha's ports.
  const auto started = std::chrono::steady_clock::now();
  r = Zk(b_, {"delete", "beta"});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.exit_code, 0) << r.All();
  EXPECT_LT(took, 25s) << "delete waited for ports beta does not hold";
  EXPECT_TRUE(Contains(r.All(), "deleted beta"));
  EXPECT_TRUE(Contains(r.All(), "port " + std::to_string(ClientPort(1)) +
                                    " is served by another ZooKeeper (dataDir " +
                                    NodeDir(ClusterHome(a_.home(), "alpha"), 1) +
                                    "/data, serverId 1)"));
  EXPECT_TRUE(Contains(r.All(), "left alone"));
  EXPECT_EQ(testing::PidsWithCmdline(b_.home()), std::vector<int>{})
      << "a process of beta's home runs";
  ProcessResult list = Zk(b_, {"list", "-o", "json"});
  EXPECT_EQ(json::parse(list.out, nullptr, false), json::array()) << list.All();

  // alpha was not touched.
  alpha = StatusJson(a_, "alpha", &code);
  EXPECT_EQ(code, 0) << alpha.dump(2);
  EXPECT_EQ(alpha["healthy"], true) << alpha.dump(2);
  for (const auto& n : alpha["nodes"])
    EXPECT_EQ(n["pid"].get<int>(), alpha_pids[n["id"].get<int>()]) << n.dump();
}

// Not a ZooKeeper at all: a program that took a stopped server's client
// port. status names it instead of a bare timeout, says why the server
// cannot start, and delete finishes without waiting for that port.
TEST_F(IdentityTest, AProgramOnAStoppedServersPortIsNamedAndItsBindFailureShown) {
  ProcessResult r = Deploy(a_, "alpha");
  ASSERT_EQ(r.exit_code, 0) << r.All();
  json s = StatusJson(a_, "alpha");
  int follower = 0, pid = 0;
  for (const auto& n : s["nodes"])
    if (n["role"] == "follower") follower = n["id"].get<int>(), pid = n["pid"].get<int>();
  ASSERT_NE(follower, 0) << s.dump(2);
  const int supervisor = s["supervisor"]["pid"].get<int>();
  for (int p : {supervisor, pid}) ASSERT_EQ(::kill(p, SIGKILL), 0);
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        return !PidAlive(supervisor) && !PidAlive(pid) &&
               testing::PortBindable(ClientPort(follower));
      },
      30s));
  testing::Listener squatter(ClientPort(follower));
  ASSERT_TRUE(squatter.ok());

  const std::string held =
      "port " + std::to_string(ClientPort(follower)) + " is held by another process (";
  json down;
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        down = StatusJson(a_, "alpha");
        for (const auto& n : down["nodes"])
          if (n["id"] == follower)
            return n["problem"].get<std::string>().find(held) != std::string::npos &&
                   n.value("cause", "").find("Address already in use") != std::string::npos;
        return false;
      },
      60s))
      << down.dump(2);
  EXPECT_EQ(down["quorum"], true) << down.dump(2);
  for (const auto& n : down["nodes"]) {
    if (n["id"] != follower) continue;
    EXPECT_TRUE(Contains(n["problem"].get<std::string>(),
                         "not this cluster's server " + std::to_string(follower)));
  }

  const auto started = std::chrono::steady_clock::now();
  r = Zk(a_, {"delete", "alpha", "--purge-data"});
  EXPECT_EQ(r.exit_code, 0) << r.All();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 25s)
      << "delete waited for a port alpha does not hold";
  EXPECT_TRUE(Contains(
      r.All(), "port " + std::to_string(ClientPort(follower)) + " is served by another process"));
  EXPECT_TRUE(Contains(r.All(), "left alone"));
  EXPECT_EQ(testing::PidsWithCmdline(a_.home()), std::vector<int>{})
      << "a process of alpha's home runs";
}

// A server that cannot start: status says why, from its log, not only that
// its port refuses connections.
TEST_F(IdentityTest, StatusOfACrashLoopingServerShowsTheCauseFromItsLog) {
  ProcessResult r = Deploy(a_, "alpha");
  ASSERT_EQ(r.exit_code, 0) << r.All();
  r = Zk(a_, {"configure", "alpha", "--set", "jvmFlags=-XX:+NoSuchJvmOption", "--timeout", "60"});
  ASSERT_NE(r.exit_code, 0) << r.All();

  int code = -1;
  json s = StatusJson(a_, "alpha", &code);
  EXPECT_EQ(code, 3) << s.dump(2);
  int broken = 0;
  for (const auto& n : s["nodes"]) {
    if (n["healthy"] == true) {
      EXPECT_EQ(n.value("cause", ""), "") << n.dump();
      continue;
    }
    broken = n["id"].get<int>();
    EXPECT_EQ(n.value("cause", ""), "Unrecognized VM option 'NoSuchJvmOption'") << n.dump();
  }
  EXPECT_NE(broken, 0) << s.dump(2);
  r = Zk(a_, {"status", "alpha"});
  EXPECT_TRUE(Contains(r.out, "server " + std::to_string(broken) + ": ")) << r.All();
  EXPECT_TRUE(Contains(r.out, "cause, from its log: Unrecognized VM option 'NoSuchJvmOption'"))
      << r.All();
}

// ZooKeeper itself refuses to start (a data directory whose myid is not a
// number): the cause is ZooKeeper's error and the exception's deepest cause.
TEST_F(IdentityTest, StatusShowsZooKeepersOwnStartFailureFromItsLog) {
  ProcessResult r = Deploy(a_, "alpha");
  ASSERT_EQ(r.exit_code, 0) << r.All();
  json s = StatusJson(a_, "alpha");
  int follower = 0, pid = 0;
  for (const auto& n : s["nodes"])
    if (n["role"] == "follower") follower = n["id"].get<int>(), pid = n["pid"].get<int>();
  ASSERT_NE(follower, 0) << s.dump(2);
  const std::string data = NodeDir(ClusterHome(a_.home(), "alpha"), follower) + "/data";
  {
    std::ofstream myid(data + "/myid", std::ios::trunc);
    myid << "not-a-number\n";
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);

  json down;
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        down = StatusJson(a_, "alpha");
        for (const auto& n : down["nodes"])
          if (n["id"] == follower)
            return n["restarts"].get<int>() >= 2 && n.value("cause", "") != "";
        return false;
      },
      60s))
      << down.dump(2);
  for (const auto& n : down["nodes"])
    if (n["id"] == follower) {
      const std::string cause = n.value("cause", "");
      EXPECT_TRUE(Contains(cause, "ERROR [main:QuorumPeerMain@")) << n.dump();
      EXPECT_TRUE(
          Contains(cause,
                   "] - Invalid config, exiting abnormally — Caused by: "
                   "java.lang.IllegalArgumentException: serverid not-a-number is not a number"))
          << n.dump();
    }
  r = Zk(a_, {"status", "alpha"});
  EXPECT_TRUE(Contains(r.out, "cause, from its log: ERROR [main:QuorumPeerMain@")) << r.All();
}

// Who listens, without a JVM: this test process's own listening socket is
// told from one another process would hold (the JVMs' IPv6 sockets are the
// tests above).
TEST(PortOwnerTest, TellsTheListeningProcessFromAnyOther) {
  const int port = testing::FindFreePortBlock(1);
  ASSERT_GT(port, 0);
  EXPECT_EQ(WhoListens(port, ::getpid()), PortListener::kNone);
  {
    testing::Listener listener(port);
    ASSERT_TRUE(listener.ok());
    EXPECT_EQ(ListeningSocketInodes(port).size(), 1u);
    EXPECT_EQ(WhoListens(port, ::getpid()), PortListener::kProcess);
    EXPECT_EQ(WhoListens(port, 0), PortListener::kOther);
    EXPECT_EQ(WhoListens(port, ::getppid()), PortListener::kOther);
  }
  EXPECT_EQ(WhoListens(port, ::getpid()), PortListener::kNone);
}

}  // namespace
}  // namespace zkpilot
