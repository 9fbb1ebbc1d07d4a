// The state directory is the source of truth, and its loss is noticed: the
// real zkpilot binary against real ZooKeeper servers, each test in its own
// ZKPILOT_HOME and port block. state.db is deleted or replaced under a
// running cluster; the supervisor must stop acting on the database it had
// open (a killed server stays down) and exit, leaving the servers running;
// `list` and `status` must show those servers as orphans, and
// `delete --orphans` must stop them by PID, keeping the data unless
// --purge-data. Polls with deadlines; no fixed sleeps.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "local_test_util.h"
#include "platform/local/paths.h"
#include "platform/local/process.h"
#include "state/state_store.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::PidAlive;
using testing::PidsWithCmdline;
using testing::ProcessResult;
using testing::WaitUntil;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in:\n" << text;
}

class OrphansTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(world_.Create("zkpilot-orphans", 40, &error)) << error;
    home_ = world_.home();
  }
  void TearDown() override {
    EXPECT_TRUE(world_.Cleanup(ZKPILOT_BINARY)) << "processes of " << home_ << " survived SIGKILL";
  }

  ProcessResult Zk(std::vector<std::string> args) {
    args.insert(args.begin(), ZKPILOT_BINARY);
    return testing::RunProcess(args, {world_.Env(), ZKPILOT_SOURCE_DIR, world_.capture(), 3min});
  }
  void Deploy(int replicas, const std::vector<std::string>& sets = {}) {
    std::vector<std::string> args = {"deploy", "demo", kPackage, "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--set", "clientPort=" + std::to_string(world_.base_port()),
                                     "--set", "replicas=" + std::to_string(replicas), "--timeout", "90"};
    for (const auto& s : sets) args.insert(args.end(), {"--set", s});
    ProcessResult r = Zk(args);
    ASSERT_EQ(r.exit_code, 0) << r.All();
  }
  std::vector<NodeRecord> Nodes() {
    auto store = StateStore::Open(StateDbPath(home_));
    auto nodes = store.ok() ? (*store)->ListNodes("demo") : Result<std::vector<NodeRecord>>(store.status());
    EXPECT_TRUE(nodes.ok()) << nodes.status().message();
    return nodes.ok() ? *nodes : std::vector<NodeRecord>{};
  }
  std::string ClusterDir() const { return ClusterHome(home_, "demo"); }
  std::string Marker(int id) const { return "-Dzkpilot.node=" + NodeDir(ClusterDir(), id); }
  std::string SupervisorNeedle() const { return " supervise demo --home " + home_; }
  std::string SupervisorLog() const { return TailFile(ClusterDir() + "/supervisor.log", 30); }
  // The line `list` and `status` print for an orphaned server.
  std::string OrphanLine(int id, int pid) const {
    return "server " + std::to_string(id) + " of cluster demo from " + home_ + ": pid " + std::to_string(pid) +
           ", no record";
  }
  // The supervisor exits by itself, without having started anything again.
  void ExpectSupervisorGivesUp(const std::string& why) {
    EXPECT_TRUE(WaitUntil([&] { return PidsWithCmdline(SupervisorNeedle()).empty(); }, 20s))
        << "the supervisor still runs on a database that is not its own:\n" << SupervisorLog();
    EXPECT_TRUE(Contains(SupervisorLog(), why));
    EXPECT_TRUE(Contains(SupervisorLog(), "stops acting on it and exits"));
  }
  void ExpectNoProcessLeft() {
    EXPECT_TRUE(WaitUntil([&] { return PidsWithCmdline(home_).empty(); }, 30s))
        << "still running from " << home_ << ": " << PidsWithCmdline(home_).size() << " processes";
  }

  testing::TestHome world_;
  std::string home_;
};

TEST_F(OrphansTest, DeletedStateDbStopsTheSupervisorAndListsTheServersUntilDeleteOrphans) {
  Deploy(3);
  std::vector<NodeRecord> nodes = Nodes();
  ASSERT_EQ(nodes.size(), 3u);
  for (const auto& n : nodes) ASSERT_TRUE(PidAlive(n.pid)) << "server " << n.id;
  ASSERT_FALSE(PidsWithCmdline(SupervisorNeedle()).empty()) << "no supervisor runs";

  // The state directory's database is deleted (with its WAL), then a server dies.
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(StateDbPath(home_) + suffix);
  ASSERT_EQ(::kill(nodes[0].pid, SIGKILL), 0);

  ExpectSupervisorGivesUp("was deleted");
  // Nothing started server 1 again; the others run on (no data lost).
  EXPECT_TRUE(PidsWithCmdline(Marker(1)).empty()) << "server 1 was restarted from a deleted database";
  EXPECT_TRUE(PidAlive(nodes[1].pid) && PidAlive(nodes[2].pid));

  // list and status show them.
  ProcessResult list = Zk({"list"});
  EXPECT_EQ(list.exit_code, 0) << list.All();
  EXPECT_TRUE(Contains(list.out, OrphanLine(2, nodes[1].pid)));
  EXPECT_TRUE(Contains(list.out, OrphanLine(3, nodes[2].pid)));
  EXPECT_TRUE(Contains(list.out, "zkpilot delete --orphans"));
  ProcessResult list_json = Zk({"list", "-o", "json"});
  json entries = json::parse(list_json.out, nullptr, false);
  ASSERT_TRUE(entries.is_array()) << list_json.All();
  ASSERT_EQ(entries.size(), 1u) << entries.dump(2);
  EXPECT_EQ(entries[0]["name"], "demo");
  EXPECT_EQ(entries[0]["status"], "orphaned");
  EXPECT_EQ(entries[0]["running"], 2);
  ProcessResult status = Zk({"status", "demo"});
  EXPECT_NE(status.exit_code, 0);
  EXPECT_TRUE(Contains(status.All(), OrphanLine(2, nodes[1].pid)));

  // A cluster deployed in the new database: its status names the orphans
  // too, and its own processes are never taken for orphans.
  ProcessResult other = Zk({"deploy", "other", kPackage, "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--set", "clientPort=" + std::to_string(world_.base_port() + 30),
                            "--set", "replicas=1", "--timeout", "90"});
  ASSERT_EQ(other.exit_code, 0) << other.All();
  ProcessResult other_status = Zk({"status", "other"});
  EXPECT_EQ(other_status.exit_code, 0) << other_status.All();
  EXPECT_TRUE(Contains(other_status.out, OrphanLine(2, nodes[1].pid)));
  json other_json = json::parse(Zk({"status", "other", "-o", "json"}).out, nullptr, false);
  EXPECT_TRUE(other_json.contains("orphans") && other_json["orphans"].size() == 2u) << other_json.dump(2);
  const std::string other_marker = "-Dzkpilot.node=" + NodeDir(ClusterHome(home_, "other"), 1);
  ASSERT_EQ(PidsWithCmdline(other_marker).size(), 1u);
  const int other_pid = PidsWithCmdline(other_marker)[0];

  ProcessResult plain_delete = Zk({"delete", "demo"});
  EXPECT_EQ(plain_delete.exit_code, 2) << plain_delete.All();
  EXPECT_TRUE(Contains(plain_delete.err, OrphanLine(3, nodes[2].pid)));
  EXPECT_TRUE(Contains(plain_delete.err, "zkpilot delete --orphans"));

  // A dry run stops nothing.
  ProcessResult dry = Zk({"delete", "--orphans", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.All();
  EXPECT_TRUE(Contains(dry.out, "would stop " + OrphanLine(2, nodes[1].pid)));
  EXPECT_TRUE(PidAlive(nodes[1].pid) && PidAlive(nodes[2].pid));

  ProcessResult del = Zk({"delete", "--orphans"});
  EXPECT_EQ(del.exit_code, 0) << del.All();
  EXPECT_TRUE(Contains(del.out, "stopped " + OrphanLine(3, nodes[2].pid)));
  EXPECT_TRUE(Contains(del.out, "data kept under " + ClusterDir()));
  EXPECT_TRUE(PidAlive(other_pid)) << "delete --orphans stopped a recorded cluster's server";
  EXPECT_FALSE(Contains(del.out, "cluster other"));
  ProcessResult other_delete = Zk({"delete", "other", "--purge-data"});
  EXPECT_EQ(other_delete.exit_code, 0) << other_delete.All();
  ExpectNoProcessLeft();
  for (const auto& n : nodes)
    for (int port : {n.client_port, n.quorum_port, n.election_port, n.admin_port})
      EXPECT_TRUE(WaitUntil([&] { return testing::PortBindable(port); }, 10s)) << "port " << port;
  EXPECT_TRUE(fs::exists(nodes[1].data_dir)) << "the data was removed without --purge-data";
  ProcessResult after = Zk({"list", "-o", "json"});
  EXPECT_EQ(json::parse(after.out, nullptr, false), json::array()) << after.All();
}

TEST_F(OrphansTest, ReplacedStateDbIsNotTheSupervisorsOwnAndDeleteOrphansPurges) {
  // With the monitoring add-ons: processes of the cluster's too.
  Deploy(1, {"prometheus.enabled=true", "alertmanager.enabled=true"});
  std::vector<NodeRecord> nodes = Nodes();
  ASSERT_EQ(nodes.size(), 1u);
  const int pid = nodes[0].pid;
  const std::string prometheus_marker = "--config.file=" + ClusterDir() + "/monitoring/prometheus/prometheus.yml";
  ASSERT_EQ(PidsWithCmdline(prometheus_marker).size(), 1u) << "Prometheus does not run";
  const int prometheus = PidsWithCmdline(prometheus_marker)[0];

  // Another state directory's (empty) database is moved over this one.
  const std::string other = world_.root() + "/other";
  {
    auto store = StateStore::OpenInDirectory(other);
    ASSERT_TRUE(store.ok()) << store.status().message();
  }
  ASSERT_EQ(::rename(StateDbPath(other).c_str(), StateDbPath(home_).c_str()), 0);

  ExpectSupervisorGivesUp("was replaced by another file");
  EXPECT_TRUE(PidAlive(pid)) << "the supervisor stopped a server of a database that is not its own";

  ProcessResult list = Zk({"list"});
  EXPECT_TRUE(Contains(list.out, OrphanLine(1, pid))) << list.All();
  EXPECT_TRUE(Contains(list.out, "prometheus of cluster demo from " + home_ + ": pid " + std::to_string(prometheus)));
  EXPECT_TRUE(Contains(list.out, "alertmanager of cluster demo from " + home_));
  // Orphans of another name are left alone.
  ProcessResult recorded = Zk({"delete", "nosuch", "--orphans"});
  EXPECT_EQ(recorded.exit_code, 0) << recorded.All();
  EXPECT_TRUE(Contains(recorded.out, "no orphans of cluster nosuch"));
  EXPECT_TRUE(PidAlive(pid));

  ProcessResult del = Zk({"delete", "demo", "--orphans", "--purge-data"});
  EXPECT_EQ(del.exit_code, 0) << del.All();
  EXPECT_TRUE(Contains(del.out, "stopped " + OrphanLine(1, pid)));
  EXPECT_TRUE(Contains(del.out, "stopped prometheus of cluster demo"));
  EXPECT_TRUE(Contains(del.out, "removed " + ClusterDir()));
  ExpectNoProcessLeft();
  EXPECT_FALSE(fs::exists(ClusterDir()));
}

TEST_F(OrphansTest, DeleteWithoutNameNeedsOrphans) {
  ProcessResult r = Zk({"delete"});
  EXPECT_EQ(r.exit_code, 2) << r.All();
  EXPECT_TRUE(Contains(r.err, "a cluster name is required (or --orphans)"));
  ProcessResult none = Zk({"delete", "--orphans"});
  EXPECT_EQ(none.exit_code, 0) << none.All();
  EXPECT_TRUE(Contains(none.out, "no orphans in " + home_));
}

}  // namespace
}  // namespace zkpilot
