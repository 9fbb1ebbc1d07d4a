#include "state/state_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <thread>

#include "state/state_schema.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;

// Opens the database file directly, as an outside observer.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr);
  }
  ~RawDb() { sqlite3_close(db_); }
  // The first column of the first row as text ("" when there is none).
  std::string Text(const std::string& sql) {
    std::vector<std::string> rows = Column(sql);
    return rows.empty() ? "" : rows[0];
  }
  int64_t Int(const std::string& sql) { return std::stoll(Text(sql)); }
  std::vector<std::string> Column(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
    while (sqlite3_step(st) == SQLITE_ROW) {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      out.push_back(p ? p : "");
    }
    sqlite3_finalize(st);
    return out;
  }
  void Exec(const std::string& sql) {
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
  }

 private:
  sqlite3* db_ = nullptr;
};

ClusterRecord MakeCluster(const std::string& name) {
  ClusterRecord c;
  c.name = name;
  c.package_dir = "/pkgs/zookeeper";
  c.package_name = "zookeeper";
  c.platform = "local";
  c.status = "deploying";
  c.home = "/state/clusters/" + name;
  return c;
}

RevisionRecord MakeRevision(const std::string& cluster, const std::string& operation = "deploy") {
  RevisionRecord r;
  r.cluster = cluster;
  r.operation = operation;
  r.values_json = R"({"replicas":3})";
  r.package_version = "0.1.0";
  r.zk_version = "3.8.0";
  return r;
}

OperationRecord MakeOperation(const std::string& cluster, int steps,
                              const std::string& type = "deploy") {
  OperationRecord op;
  op.cluster = cluster;
  op.revision = 1;
  op.type = type;
  for (int i = 0; i < steps; ++i) {
    StepRecord s;
    s.name = "start node " + std::to_string(i + 1);
    s.spec_json = R"({"kind":"start","node":)" + std::to_string(i + 1) + "}";
    op.steps.push_back(s);
  }
  return op;
}

NodeRecord MakeNode(const std::string& cluster, int id) {
  NodeRecord n;
  n.cluster = cluster;
  n.id = id;
  n.client_port = 2180 + id, n.quorum_port = 2880 + id, n.election_port = 3880 + id,
  n.admin_port = 8080 + id;
  n.dir = "/state/clusters/" + cluster + "/node-" + std::to_string(id);
  n.data_dir = n.dir + "/data";
  n.distribution = "debian-3.8.0";
  n.desired = "running";
  return n;
}

const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}

// Asserts that a Status or Result is OK, printing its message otherwise.
#define ASSERT_OK(expr)                                   \
  do {                                                    \
    const auto& zk_r_ = (expr);                           \
    ASSERT_TRUE(zk_r_.ok()) << StatusOf(zk_r_).message(); \
  } while (0)

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "zkpilot-state-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/nested/dir/state.db";  // Open creates the parents
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<StateStore> OpenStore() {
    auto s = StateStore::Open(path_);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  std::string dir_, path_;
};

TEST(StateEnums, NamesParseBack) {
  for (auto s : {RevisionStatus::kPending, RevisionStatus::kDeployed, RevisionStatus::kFailed,
                 RevisionStatus::kSuperseded})
    EXPECT_EQ(ParseRevisionStatus(RevisionStatusName(s)), s);
  for (auto s : {StepStatus::kPending, StepStatus::kRunning, StepStatus::kDone, StepStatus::kFailed,
                 StepStatus::kSkipped})
    EXPECT_EQ(ParseStepStatus(StepStatusName(s)), s);
  EXPECT_EQ(ParseStepStatus("finished"), std::nullopt);
  EXPECT_EQ(ParseRevisionStatus(""), std::nullopt);
  EXPECT_STREQ(OperationStatusName(OperationStatus::kSucceeded), "succeeded");
}

TEST_F(StateStoreTest, OpenCreatesWalDatabaseWithSchemaVersionAndReopens) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(store);
    ASSERT_OK(store->CreateCluster(MakeCluster("demo")));
  }
  EXPECT_TRUE(fs::exists(path_));
  {
    RawDb raw(path_);
    EXPECT_EQ(raw.Int("PRAGMA user_version"), StateSchemaVersion());
    EXPECT_GE(StateSchemaVersion(), 1);
    EXPECT_EQ(raw.Text("PRAGMA journal_mode"), "wal");
  }
  auto again = OpenStore();
  ASSERT_TRUE(again);
  auto c = again->GetCluster("demo");
  ASSERT_OK(c);
  EXPECT_TRUE(c->has_value());
}

TEST_F(StateStoreTest, RefusesDatabaseFromNewerVersion) {
  { ASSERT_TRUE(OpenStore()); }
  { RawDb(path_).Exec("PRAGMA user_version = " + std::to_string(StateSchemaVersion() + 1)); }
  auto s = StateStore::Open(path_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("newer"), std::string::npos) << s.status().message();
}

TEST_F(StateStoreTest, OpenErrorNamesThePath) {
  std::string blocker = dir_ + "/file";
  { std::ofstream(blocker) << "x"; }
  auto s = StateStore::Open(blocker + "/state.db");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), ErrorCode::kIOError);
  EXPECT_NE(s.status().message().find("state database " + blocker + "/state.db"), std::string::npos)
      << s.status().message();
}

TEST_F(StateStoreTest, ClusterRoundTripAndStatus) {
  auto store = OpenStore();
  ClusterRecord c = MakeCluster("zeta");
  c.current_revision = 0;
  c.created_at = 1000, c.updated_at = 2000;
  ASSERT_OK(store->CreateCluster(c));
  ASSERT_OK(store->CreateCluster(MakeCluster("alpha")));

  auto got = store->GetCluster("zeta");
  ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  const ClusterRecord& g = **got;
  EXPECT_EQ(g.name, "zeta");
  EXPECT_EQ(g.package_dir, c.package_dir);
  EXPECT_EQ(g.package_name, c.package_name);
  EXPECT_EQ(g.platform, c.platform);
  EXPECT_EQ(g.status, c.status);
  EXPECT_EQ(g.current_revision, 0);
  EXPECT_EQ(g.home, c.home);
  EXPECT_EQ(g.created_at, 1000);
  EXPECT_EQ(g.updated_at, 2000);

  auto alpha = store->GetCluster("alpha");
  ASSERT_OK(alpha);
  EXPECT_GT((*alpha)->created_at, 0) << "timestamps default to now";

  auto list = store->ListClusters();
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "alpha");
  EXPECT_EQ((*list)[1].name, "zeta");

  ASSERT_OK(store->SetClusterStatus("zeta", "deployed", 3));
  ASSERT_OK(store->SetClusterStatus("zeta", "upgrading"));  // -1: revision unchanged
  got = store->GetCluster("zeta");
  ASSERT_OK(got);
  EXPECT_EQ((*got)->status, "upgrading");
  EXPECT_EQ((*got)->current_revision, 3);
  EXPECT_GT((*got)->updated_at, 2000);
  EXPECT_EQ((*got)->created_at, 1000);

  auto missing = store->GetCluster("nope");
  ASSERT_OK(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST_F(StateStoreTest, DuplicateClusterIsInvalidInput) {
  auto store = OpenStore();
  ASSERT_OK(store->CreateCluster(MakeCluster("demo")));
  Status s = store->CreateCluster(MakeCluster("demo"));
  EXPECT_EQ(s.code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(s.message(), "cluster demo already exists");
}

TEST_F(StateStoreTest, ClustersGetUniqueIdsAndOldOnesOneOnFirstUse) {
  std::string first;
  {
    auto store = OpenStore();
    ASSERT_OK(store->CreateCluster(MakeCluster("demo")));
    auto uid = store->GetClusterUid("demo");
    ASSERT_OK(uid);
    ASSERT_TRUE(uid->has_value());
    first = **uid;
    EXPECT_EQ(first.size(), 32u) << first;
    auto ensured = store->EnsureClusterUid("demo");
    ASSERT_OK(ensured);
    EXPECT_EQ(*ensured, first) << "an assigned id never changes";
    // The same name created again (after a delete) is another cluster.
    ASSERT_OK(store->DeleteCluster("demo"));
    ASSERT_OK(store->CreateCluster(MakeCluster("demo")));
    auto again = store->GetClusterUid("demo");
    ASSERT_OK(again);
    EXPECT_NE(**again, first);
    auto none = store->GetClusterUid("other");
    ASSERT_OK(none);
    EXPECT_FALSE(none->has_value());
    EXPECT_EQ(store->EnsureClusterUid("other").status().code(), ErrorCode::kNotFound);
  }
  // A cluster recorded before ids existed has "" until first use.
  RawDb(path_).Exec("UPDATE clusters SET uid = ''");
  auto store = OpenStore();
  auto old = store->GetClusterUid("demo");
  ASSERT_OK(old);
  EXPECT_EQ(**old, "");
  auto assigned = store->EnsureClusterUid("demo");
  ASSERT_OK(assigned);
  EXPECT_EQ(assigned->size(), 32u);
  EXPECT_EQ(*store->EnsureClusterUid("demo"), *assigned);
}

TEST_F(StateStoreTest, MissingObjectsAreNotFound) {
  auto store = OpenStore();
  ASSERT_OK(store->CreateCluster(MakeCluster("demo")));
  auto op = store->BeginOperation(MakeOperation("demo", 2));
  ASSERT_OK(op);
  HookRunRecord hook;
  hook.operation_id = 999;

  struct Case {
    const char* name;
    std::function<Status()> call;
    const char* names;  // what the message must mention
  };
  const std::vector<Case> cases = {
      {"SetClusterStatus", [&] { return store->SetClusterStatus("ghost", "x"); }, "cluster ghost"},
      {"DeleteCluster", [&] { return store->DeleteCluster("ghost"); }, "cluster ghost"},
      {"AddRevision", [&] { return store->AddRevision(MakeRevision("ghost")).status(); },
       "cluster ghost"},
      {"FinishRevision",
       [&] { return store->FinishRevision("demo", 7, RevisionStatus::kFailed, ""); },
       "revision 7 of cluster demo"},
      {"ListRevisions", [&] { return store->ListRevisions("ghost").status(); }, "cluster ghost"},
      {"BeginOperation", [&] { return store->BeginOperation(MakeOperation("ghost", 1)).status(); },
       "cluster ghost"},
      {"MarkStep op", [&] { return store->MarkStep(999, 0, StepStatus::kDone, ""); },
       "operation 999"},
      {"MarkStep step", [&] { return store->MarkStep(*op, 5, StepStatus::kDone, ""); },
       "step 5 of operation"},
      {"FinishOperation", [&] { return store->FinishOperation(999, OperationStatus::kFailed, ""); },
       "operation 999"},
      {"UnfinishedOperation", [&] { return store->UnfinishedOperation("ghost").status(); },
       "cluster ghost"},
      {"ListOperations", [&] { return store->ListOperations("ghost").status(); }, "cluster ghost"},
      {"UpsertNode", [&] { return store->UpsertNode(MakeNode("ghost", 1)); }, "cluster ghost"},
      {"ListNodes", [&] { return store->ListNodes("ghost").status(); }, "cluster ghost"},
      {"DeleteNode", [&] { return store->DeleteNode("demo", 4); }, "node 4 of cluster demo"},
      {"SetNodeProcess", [&] { return store->SetNodeProcess("demo", 4, 123, 1, 1); },
       "node 4 of cluster demo"},
      {"RecordNodeExit", [&] { return store->RecordNodeExit("demo", 4, "exited", true); },
       "node 4 of cluster demo"},
      {"SetNodeDesired", [&] { return store->SetNodeDesired("demo", 4, "stopped"); },
       "node 4 of cluster demo"},
      {"BumpNodeGeneration", [&] { return store->BumpNodeGeneration("demo", 4); },
       "node 4 of cluster demo"},
      {"AddHookRun", [&] { return store->AddHookRun(hook); }, "operation 999"},
      {"ListHookRuns", [&] { return store->ListHookRuns(999).status(); }, "operation 999"},
  };
  for (const auto& c : cases) {
    Status s = c.call();
    EXPECT_EQ(s.code(), ErrorCode::kNotFound) << c.name << ": " << s.message();
    EXPECT_NE(s.message().find(c.names), std::string::npos) << c.name << ": " << s.message();
  }
  auto none = store->GetOperation(999);
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  auto no_rev = store->GetRevision("demo", 1);
  ASSERT_OK(no_rev);
  EXPECT_FALSE(no_rev->has_value());
}

TEST_F(StateStoreTest, RevisionsAreNumberedPerCluster) {
  auto store = OpenStore();
  ASSERT_OK(store->CreateCluster(MakeCluster("a")));
  ASSERT_OK(store->CreateCluster(MakeCluster("b")));
  for (int want = 1; want <= 3; ++want) {
    auto ra = store->AddRevision(MakeRevision("a"));
    ASSERT_OK(ra);
    EXPECT_EQ(*ra, want);
    auto rb = store->AddRevision(MakeRevision("b", "upgrade"));
    ASSERT_OK(rb);
    EXPECT_EQ(*rb, want);
  }

  RevisionRecord r = MakeRevision("a", "configure");
  r.status = RevisionStatus::kPending;
  r.message = "changing tickTime";
  r.started_at = 1234;
  auto n = store->AddRevision(r);
  ASSERT_OK(n);
  EXPECT_EQ(*n, 4);
  auto got = store->GetRevision("a", 4);
  ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->cluster, "a");
  EXPECT_EQ((*got)->revision, 4);
  EXPECT_EQ((*got)->operation, "configure");
  EXPECT_EQ((*got)->values_json, r.values_json);
  EXPECT_EQ((*got)->package_version, "0.1.0");
  EXPECT_EQ((*got)->zk_version, "3.8.0");
  EXPECT_EQ((*got)->status, RevisionStatus::kPending);
  EXPECT_EQ((*got)->message, "changing tickTime");
  EXPECT_EQ((*got)->started_at, 1234);
  EXPECT_EQ((*got)->finished_at, 0);

  ASSERT_OK(store->FinishRevision("a", 4, RevisionStatus::kFailed, "node 2 did not rejoin"));
  got = store->GetRevision("a", 4);
  ASSERT_OK(got);
  EXPECT_EQ((*got)->status, RevisionStatus::kFailed);
  EXPECT_EQ((*got)->message, "node 2 did not rejoin");
  EXPECT_GT((*got)->finished_at, 0);

  auto list = store->ListRevisions("a");
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ((*list)[i].revision, i + 1);
  EXPECT_EQ((*list)[0].operation, "deploy");
}

TEST_F(StateStoreTest, OperationJournalRecordsStepProgress) {
  auto store = OpenStore();
  ASSERT_OK(store->CreateCluster(MakeCluster("demo")));
  OperationRecord plan = MakeOperation("demo", 3, "upgrade");
  plan.revision = 2;
  plan.steps[1].status = StepStatus::kDone;  // ignored: every step starts pending
  plan.steps[1].index = 42;                  // ignored: steps are numbered by position
  auto id = store->BeginOperation(plan);
  ASSERT_OK(id);

  auto op = store->GetOperation(*id);
  ASSERT_OK(op);
  ASSERT_TRUE(op->has_value());
  EXPECT_EQ((*op)->id, *id);
  EXPECT_EQ((*op)->cluster, "demo");
  EXPECT_EQ((*op)->revision, 2);
  EXPECT_EQ((*op)->type, "upgrade");
  EXPECT_EQ((*op)->status, OperationStatus::kRunning);
  EXPECT_GT((*op)->started_at, 0);
  EXPECT_EQ((*op)->finished_at, 0);
  ASSERT_EQ((*op)->steps.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const StepRecord& s = (*op)->steps[i];
    EXPECT_EQ(s.index, i);
    EXPECT_EQ(s.name, plan.steps[i].name);
    EXPECT_EQ(s.spec_json, plan.steps[i].spec_json);
    EXPECT_EQ(s.status, StepStatus::kPending);
    EXPECT_EQ(s.started_at, 0);
  }

  ASSERT_OK(store->MarkStep(*id, 0, StepStatus::kRunning, ""));
  op = store->GetOperation(*id);
  ASSERT_OK(op);
  EXPECT_EQ((*op)->steps[0].status, StepStatus::kRunning);
  EXPECT_GT((*op)->steps[0].started_at, 0);
  EXPECT_EQ((*op)->steps[0].finished_at, 0);

  ASSERT_OK(store->MarkStep(*id, 0, StepStatus::kDone, "node 1 serving"));
  ASSERT_OK(store->MarkStep(*id, 1, StepStatus::kSkipped, "already at 3.8.0"));
  ASSERT_OK(store->MarkStep(*id, 2, StepStatus::kRunning, ""));
  ASSERT_OK(store->MarkStep(*id, 2, StepStatus::kFailed, "timed out"));
  ASSERT_OK(store->FinishOperation(*id, OperationStatus::kFailed, "step 2: timed out"));

  op = store->GetOperation(*id);
  ASSERT_OK(op);
  const auto& steps = (*op)->steps;
  EXPECT_EQ(steps[0].status, StepStatus::kDone);
  EXPECT_EQ(steps[0].detail, "node 1 serving");
  EXPECT_GE(steps[0].finished_at, steps[0].started_at);
  EXPECT_EQ(steps[1].status, StepStatus::kSkipped);
  EXPECT_GT(steps[1].started_at, 0) << "a step finished without running still gets a start time";
  EXPECT_GT(steps[1].finished_at, 0);
  EXPECT_EQ(steps[2].status, StepStatus::kFailed);
  EXPECT_EQ(steps[2].detail, "timed out");
  EXPECT_EQ((*op)->status, OperationStatus::kFailed);
  EXPECT_EQ((*op)->error, "step 2: timed out");
  EXPECT_GT((*op)->finished_at, 0);

  auto unfinished = store->UnfinishedOperation("demo");
  ASSERT_OK(unfinished);
  EXPECT_FALSE(unfinished->has_value());

  auto second = store->BeginOperation(MakeOperation("demo", 1, "restart"));
  ASSERT_OK(second);
  auto list = store->ListOperations("demo");
  ASSERT_OK(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, *id);
  EXPECT_EQ((*list)[1].id, *second);
  EXPECT_EQ((*list)[1].type, "restart");
  EXPECT_TRUE((*list)[0].steps.empty()) << "listed without steps";
}

TEST_F(StateStoreTest, UnfinishedOperationSurvivesACrash) {
  int64_t id = 0;
  {
    auto store = OpenStore();
    ASSERT_OK(store->CreateCluster(MakeCluster("demo")));
    auto old = store->BeginOperation(MakeOperation("demo", 2));
    ASSERT_OK(old);  // older and also unfinished: the newest one wins
    auto begun = store->BeginOperation(MakeOperation("demo", 4, "scale"));
    ASSERT_OK(begun);
    id = *begun;
    ASSERT_OK(store->MarkStep(id, 0, StepStatus::kRunning, ""));
    ASSERT_OK(store->MarkStep(id, 0, StepStatus::kDone, "ok"));
    ASSERT_OK(store->MarkStep(id, 1, StepStatus::kSkipped, ""));
    ASSERT_OK(store->MarkStep(id, 2, StepStatus::kRunning, ""));
    // The process dies here: the store is closed without finishing.
  }
  auto store = OpenStore();
  auto op = store->UnfinishedOperation("demo");
  ASSERT_OK(op);
  ASSERT_TRUE(op->has_value());
  EXPECT_EQ((*op)->id, id);
  EXPECT_EQ((*op)->type, "scale");
  EXPECT_EQ((*op)->status, OperationStatus::kRunning);
  ASSERT_EQ((*op)->steps.size(), 4u);
  EXPECT_EQ((*op)->steps[0].status, StepStatus::kDone);
  EXPECT_EQ((*op)->steps[1].status, StepStatus::kSkipped);
  EXPECT_EQ((*op)->steps[2].status, StepStatus::kRunning);
  EXPECT_EQ((*op)->steps[3].status, StepStatus::kPending);
}

TEST_F(StateStoreTest, NodesAndSupervisorUpdates) {
  auto store = OpenStore();
  ASSERT_OK(store->CreateCluster(MakeCluster("demo")));
  NodeRecord full = MakeNode("demo", 3);
  full.generation = 5, full.started_generation = 4, full.pid = 4242, full.restarts = 2;
  full.started_at = 777, full.last_exit = "killed by signal 9";
  ASSERT_OK(store->UpsertNode(full));
  ASSERT_OK(store->UpsertNode(MakeNode("demo", 1)));
  ASSERT_OK(store->UpsertNode(MakeNode("demo", 2)));

  auto nodes = store->ListNodes("demo");
  ASSERT_OK(nodes);
  ASSERT_EQ(nodes->size(), 3u);
  EXPECT_EQ((*nodes)[0].id, 1);
  EXPECT_EQ((*nodes)[1].id, 2);
  const NodeRecord& n = (*nodes)[2];
  EXPECT_EQ(n.cluster, "demo");
  EXPECT_EQ(n.id, 3);
  EXPECT_EQ(n.client_port, 2183);
  EXPECT_EQ(n.quorum_port, 2883);
  EXPECT_EQ(n.election_port, 3883);
  EXPECT_EQ(n.admin_port, 8083);
  EXPECT_EQ(n.dir, full.dir);
  EXPECT_EQ(n.data_dir, full.data_dir);
  EXPECT_EQ(n.distribution, "debian-3.8.0");
  EXPECT_EQ(n.desired, "running");
  EXPECT_EQ(n.generation, 5);
  EXPECT_EQ(n.started_generation, 4);
  EXPECT_EQ(n.pid, 4242);
  EXPECT_EQ(n.restarts, 2);
  EXPECT_EQ(n.started_at, 777);
  EXPECT_EQ(n.last_exit, "killed by signal 9");

  ASSERT_OK(store->SetNodeProcess("demo", 1, 1001, 0, 5000));
  ASSERT_OK(store->BumpNodeGeneration("demo", 1));
  ASSERT_OK(store->SetNodeDesired("demo", 1, "stopped"));
  ASSERT_OK(store->RecordNodeExit("demo", 1, "exited with 1", true));
  ASSERT_OK(store->SetNodeProcess("demo", 1, 1002, 1, 6000));
  ASSERT_OK(store->RecordNodeExit("demo", 1, "exited with 0", false));
  nodes = store->ListNodes("demo");
  ASSERT_OK(nodes);
  const NodeRecord& one = (*nodes)[0];
  EXPECT_EQ(one.pid, 0);
  EXPECT_EQ(one.last_exit, "exited with 0");
  EXPECT_EQ(one.restarts, 1) << "only the counted exit";
  EXPECT_EQ(one.generation, 1);
  EXPECT_EQ(one.started_generation, 1);
  EXPECT_EQ(one.started_at, 6000);
  EXPECT_EQ(one.desired, "stopped");

  // A command writing back a stale record changes the configuration but
  // neither the supervisor's process fields nor a newer generation.
  ASSERT_OK(store->SetNodeProcess("demo", 2, 2002, 0, 7000));
  ASSERT_OK(store->BumpNodeGeneration("demo", 2));
  NodeRecord stale = MakeNode("demo", 2);
  stale.client_port = 3333;
  stale.desired = "stopped";
  ASSERT_OK(store->UpsertNode(stale));
  nodes = store->ListNodes("demo");
  ASSERT_OK(nodes);
  const NodeRecord& two = (*nodes)[1];
  EXPECT_EQ(two.client_port, 3333);
  EXPECT_EQ(two.desired, "stopped");
  EXPECT_EQ(two.pid, 2002);
  EXPECT_EQ(two.started_at, 7000);
  EXPECT_EQ(two.generation, 1);

  ASSERT_OK(store->DeleteNode("demo", 2));
  nodes = store->ListNodes("demo");
  ASSERT_OK(nodes);
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[1].id, 3);
}

// Schema 3: the stages the supervisor classified at spawn. A database of
// before has none: its nodes read -1 (unknown) until their next start.
TEST_F(StateStoreTest, NodesOfAVersion2DatabaseGetUnknownStagesUntilStarted) {
  {
    auto store = OpenStore();
    ASSERT_OK(store->CreateCluster(MakeCluster("demo")));
    ASSERT_OK(store->UpsertNode(MakeNode("demo", 1)));
    ASSERT_OK(store->SetNodeProcess("demo", 1, 1001, 3, 5000, 2, 3));
  }
  {
    RawDb raw(path_);  // what zkpilot of schema 2 left
    raw.Exec("ALTER TABLE nodes DROP COLUMN tls_stage");
    raw.Exec("ALTER TABLE nodes DROP COLUMN quorum_auth_stage");
    raw.Exec("PRAGMA user_version = 2");
  }
  auto store = OpenStore();
  EXPECT_EQ(RawDb(path_).Int("PRAGMA user_version"), StateSchemaVersion());
  auto nodes = store->ListNodes("demo");
  ASSERT_OK(nodes);
  ASSERT_EQ(nodes->size(), 1u);
  EXPECT_EQ((*nodes)[0].pid, 1001);
  EXPECT_EQ((*nodes)[0].started_generation, 3);
  EXPECT_EQ((*nodes)[0].tls_stage, -1);
  EXPECT_EQ((*nodes)[0].quorum_auth_stage, -1);
  // The supervisor's next start records them; a command's stale record
  // does not undo them (they are the supervisor's, like pid).
  ASSERT_OK(store->SetNodeProcess("demo", 1, 1002, 4, 6000, 1, 0));
  ASSERT_OK(store->UpsertNode(MakeNode("demo", 1)));
  nodes = store->ListNodes("demo");
  ASSERT_OK(nodes);
  EXPECT_EQ((*nodes)[0].tls_stage, 1);
  EXPECT_EQ((*nodes)[0].quorum_auth_stage, 0);
  ASSERT_OK(store->SetNodeProcess("demo", 1, 1003, 5, 7000));
  nodes = store->ListNodes("demo");
  ASSERT_OK(nodes);
  EXPECT_EQ((*nodes)[0].tls_stage, -1) << "a start without a classification is unknown";
}

TEST_F(StateStoreTest, HookRunsRoundTripInOrder) {
  auto store = OpenStore();
  ASSERT_OK(store->CreateCluster(MakeCluster("demo")));
  auto id = store->BeginOperation(MakeOperation("demo", 1));
  ASSERT_OK(id);
  for (int i = 0; i < 3; ++i) {
    HookRunRecord h;
    h.operation_id = *id;
    h.event = "upgrade", h.phase = i == 2 ? "post" : "pre", h.step = "node " + std::to_string(i);
    h.action = "exec ./check.sh", h.status = i == 1 ? "failed" : "ok",
    h.message = "run " + std::to_string(i);
    h.at = 100 + i;
    ASSERT_OK(store->AddHookRun(h));
  }
  auto runs = store->ListHookRuns(*id);
  ASSERT_OK(runs);
  ASSERT_EQ(runs->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const HookRunRecord& h = (*runs)[i];
    EXPECT_EQ(h.operation_id, *id);
    EXPECT_EQ(h.event, "upgrade");
    EXPECT_EQ(h.phase, i == 2 ? "post" : "pre");
    EXPECT_EQ(h.step, "node " + std::to_string(i));
    EXPECT_EQ(h.action, "exec ./check.sh");
    EXPECT_EQ(h.status, i == 1 ? "failed" : "ok");
    EXPECT_EQ(h.message, "run " + std::to_string(i));
    EXPECT_EQ(h.at, 100 + i);
  }
}

TEST_F(StateStoreTest, DeleteClusterRemovesEverythingRecordedAboutIt) {
  auto store = OpenStore();
  for (const char* name : {"doomed", "kept"}) {
    ASSERT_OK(store->CreateCluster(MakeCluster(name)));
    ASSERT_OK(store->AddRevision(MakeRevision(name)));
    ASSERT_OK(store->AddRevision(MakeRevision(name, "upgrade")));
    auto id = store->BeginOperation(MakeOperation(name, 3));
    ASSERT_OK(id);
    HookRunRecord h;
    h.operation_id = *id;
    h.status = "ok";
    ASSERT_OK(store->AddHookRun(h));
    ASSERT_OK(store->UpsertNode(MakeNode(name, 1)));
    ASSERT_OK(store->UpsertNode(MakeNode(name, 2)));
  }
  ASSERT_OK(store->DeleteCluster("doomed"));

  auto gone = store->GetCluster("doomed");
  ASSERT_OK(gone);
  EXPECT_FALSE(gone->has_value());
  RawDb raw(path_);
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM revisions WHERE cluster = 'doomed'"), 0);
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM operations WHERE cluster = 'doomed'"), 0);
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM nodes WHERE cluster = 'doomed'"), 0);
  // Only the kept cluster's steps and hook runs remain.
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM steps"), 3);
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM hook_runs"), 1);
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM revisions"), 2);
  EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM nodes"), 2);
  EXPECT_TRUE(raw.Column("PRAGMA foreign_key_check").empty());

  // The name is free again, and numbering starts over.
  ASSERT_OK(store->CreateCluster(MakeCluster("doomed")));
  auto rev = store->AddRevision(MakeRevision("doomed"));
  ASSERT_OK(rev);
  EXPECT_EQ(*rev, 1);
}

TEST_F(StateStoreTest, TwoStoresOnOneFileInterleave) {
  auto cli = OpenStore();
  auto supervisor = OpenStore();
  ASSERT_OK(cli->CreateCluster(MakeCluster("demo")));
  ASSERT_OK(supervisor->UpsertNode(MakeNode("demo", 1)));
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK(cli->BumpNodeGeneration("demo", 1));
    ASSERT_OK(supervisor->SetNodeProcess("demo", 1, 100 + i, i + 1, i));
    auto rev = supervisor->AddRevision(MakeRevision("demo"));
    ASSERT_OK(rev);
    EXPECT_EQ(*rev, 2 * i + 1);
    rev = cli->AddRevision(MakeRevision("demo"));
    ASSERT_OK(rev);
    EXPECT_EQ(*rev, 2 * i + 2);
  }
  auto nodes = cli->ListNodes("demo");
  ASSERT_OK(nodes);
  EXPECT_EQ((*nodes)[0].generation, 20);
  EXPECT_EQ((*nodes)[0].pid, 119);
}

// Runs `writes` write calls against `path` in this process; returns the
// first error, if any.
Status WriteBurst(const std::string& path, const std::string& cluster, int writes) {
  auto store = StateStore::Open(path);
  if (!store.ok()) return store.status();
  for (int i = 0; i < writes; ++i) {
    auto rev = (*store)->AddRevision(MakeRevision(cluster));
    if (!rev.ok()) return rev.status();
    auto id = (*store)->BeginOperation(MakeOperation(cluster, 3));
    if (!id.ok()) return id.status();
    ZK_RETURN_IF_ERROR((*store)->MarkStep(*id, 0, StepStatus::kDone, ""));
    ZK_RETURN_IF_ERROR((*store)->FinishOperation(*id, OperationStatus::kSucceeded, ""));
  }
  return Status::Ok();
}

TEST_F(StateStoreTest, TwoProcessesWriteConcurrentlyWithoutLockErrors) {
  {
    auto store = OpenStore();
    ASSERT_OK(store->CreateCluster(MakeCluster("demo")));
  }
  constexpr int kWrites = 60;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Status s = WriteBurst(path_, "demo", kWrites);
    if (!s.ok()) std::fprintf(stderr, "child: %s\n", s.message().c_str());
    _exit(s.ok() ? 0 : 1);
  }
  Status s = WriteBurst(path_, "demo", kWrites);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  EXPECT_TRUE(s.ok()) << s.message();
  ASSERT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << "child failed (see stderr)";

  auto store = OpenStore();
  auto revs = store->ListRevisions("demo");
  ASSERT_OK(revs);
  ASSERT_EQ(revs->size(), 2u * kWrites);
  for (size_t i = 0; i < revs->size(); ++i) EXPECT_EQ((*revs)[i].revision, static_cast<int>(i + 1));
  auto ops = store->ListOperations("demo");
  ASSERT_OK(ops);
  EXPECT_EQ(ops->size(), 2u * kWrites);
}

TEST_F(StateStoreTest, ProcessesOpeningANewDatabaseAtOnceAllSucceed) {
  constexpr int kProcesses = 6;
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto store = StateStore::Open(path_);
      Status s = store.ok() ? (*store)->CreateCluster(MakeCluster("c" + std::to_string(i)))
                            : store.status();
      if (!s.ok()) std::fprintf(stderr, "child %d: %s\n", i, s.message().c_str());
      _exit(s.ok() ? 0 : 1);
    }
    children.push_back(child);
  }
  for (pid_t child : children) {
    int wstatus = 0;
    ASSERT_EQ(waitpid(child, &wstatus, 0), child);
    EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) << "see stderr";
  }
  auto store = OpenStore();
  auto clusters = store->ListClusters();
  ASSERT_OK(clusters);
  EXPECT_EQ(clusters->size(), static_cast<size_t>(kProcesses));
}

// The crash test's writer: loops over every kind of write until killed.
// Each operation's type records how many steps BeginOperation wrote.
[[noreturn]] void WriteUntilKilled(const std::string& path, int round) {
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "writer: %s\n", s.message().c_str());
    _exit(1);
  };
  auto store = StateStore::Open(path);
  if (!store.ok()) fail(store.status());
  StateStore& st = **store;
  const std::string cluster = "crash-" + std::to_string(round);
  if (Status s = st.CreateCluster(MakeCluster(cluster)); !s.ok()) fail(s);
  // Every tenth round trip goes to a cluster that is created and deleted again
  // (a kill may leave it behind; the next round uses another name).
  const std::string scratch = "scratch-" + std::to_string(round);
  const std::string padding(1500, 'x');  // steps spanning several pages
  for (int i = 0;; ++i) {
    const std::string target = i % 10 == 9 ? scratch : cluster;
    if (target == scratch) {
      if (Status s = st.CreateCluster(MakeCluster(target)); !s.ok()) fail(s);
    }
    int steps = 1 + i % 23;
    OperationRecord op = MakeOperation(target, steps, "steps=" + std::to_string(steps));
    for (auto& s : op.steps) s.spec_json += padding;
    auto rev = st.AddRevision(MakeRevision(target));
    if (!rev.ok()) fail(rev.status());
    auto id = st.BeginOperation(op);
    if (!id.ok()) fail(id.status());
    for (int k = 0; k < steps; k += 3)
      if (Status s = st.MarkStep(*id, k, StepStatus::kDone, padding); !s.ok()) fail(s);
    if (Status s = st.UpsertNode(MakeNode(target, 1 + i % 5)); !s.ok()) fail(s);
    if (Status s = st.RecordNodeExit(target, 1 + i % 5, "exited with 1", true); !s.ok()) fail(s);
    HookRunRecord h;
    h.operation_id = *id;
    h.status = "ok";
    if (Status s = st.AddHookRun(h); !s.ok()) fail(s);
    if (i % 2 == 0) {
      if (Status s = st.FinishOperation(*id, OperationStatus::kSucceeded, ""); !s.ok()) fail(s);
    }
    if (target == scratch) {
      if (Status s = st.DeleteCluster(target); !s.ok()) fail(s);
    }
  }
}

TEST_F(StateStoreTest, SurvivesSigkillAtARandomMoment) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(20, 400);
  for (int round = 0; round < 6; ++round) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) WriteUntilKilled(path_, round);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(waitpid(child, &wstatus, 0), child);
    ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
        << "the writer stopped by itself (see stderr)";

    // Reopening recovers the WAL; everything read back parses.
    auto store = OpenStore();
    ASSERT_TRUE(store);
    auto clusters = store->ListClusters();
    ASSERT_OK(clusters);
    for (const auto& c : *clusters) {
      ASSERT_OK(store->ListRevisions(c.name));
      ASSERT_OK(store->ListNodes(c.name));
      ASSERT_OK(store->UnfinishedOperation(c.name));
      auto ops = store->ListOperations(c.name);
      ASSERT_OK(ops);
      for (const auto& op : *ops) ASSERT_OK(store->GetOperation(op.id));
    }

    RawDb raw(path_);
    EXPECT_EQ(raw.Text("PRAGMA integrity_check"), "ok") << "round " << round;
    EXPECT_TRUE(raw.Column("PRAGMA foreign_key_check").empty()) << "round " << round;
    // Every operation has exactly the steps BeginOperation wrote, numbered 0..n-1.
    EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM operations o WHERE "
                      "(SELECT COUNT(*) FROM steps s WHERE s.operation_id = o.id) != "
                      "CAST(substr(o.type, 7) AS INTEGER) "
                      "OR (SELECT MAX(idx) FROM steps s WHERE s.operation_id = o.id) != "
                      "CAST(substr(o.type, 7) AS INTEGER) - 1"),
              0)
        << "round " << round;
    // Revision numbers have no gaps.
    EXPECT_EQ(raw.Int("SELECT COUNT(*) FROM (SELECT cluster FROM revisions GROUP BY cluster "
                      "HAVING COUNT(*) != MAX(revision))"),
              0)
        << "round " << round;
  }
  RawDb raw(path_);
  EXPECT_GT(raw.Int("SELECT COUNT(*) FROM operations"), 0)
      << "the writers got nothing done before being killed";
}

}  // namespace
}  // namespace zkpilot
