#include "platform/kubernetes/reconciler.h"

#include <gtest/gtest.h>

#include "../../../tests/test_package.h"
#include "package/package_loader.h"

namespace zkpilot {
namespace {

using nlohmann::json;
using Flat = std::map<std::string, json>;

// ---------------------------------------------------------------- kind of change

Flat Defaults() {
  return {{"replicas", 3}, {"version", "3.8.0"}, {"tickTime", 2000}, {"clientPort", 2181}};
}

RevisionRecord Revision(int n, const Flat& values, RevisionStatus status) {
  RevisionRecord r;
  r.cluster = "demo";
  r.revision = n;
  json flat = json::object();
  for (const auto& [k, v] : values) flat[k] = v;
  r.values_json = flat.dump();
  r.package_version = "1.0.0";
  r.status = status;
  return r;
}

ReleaseState Deployed(const Flat& values, int revision = 1) {
  ReleaseState r;
  r.current_revision = revision;
  r.current_values = values;
  r.current_package_version = "1.0.0";
  for (int i = 1; i < revision; ++i)
    r.revisions.push_back(Revision(i, values, RevisionStatus::kSuperseded));
  r.revisions.push_back(Revision(revision, values, RevisionStatus::kDeployed));
  return r;
}

DesiredState Want(const Flat& values, const std::string& restart = "",
                  const std::string& last_restart = "") {
  return DesiredState{values, "1.0.0", restart, last_restart};
}

struct InferCase {
  const char* name;
  std::function<Flat(Flat)> edit;  // applied to the current values
  ReconcileOp want;
};

TEST(ReconcileDecision, KindOfChangeFromTheValues) {
  const std::vector<InferCase> cases = {
      {"nothing", [](Flat v) { return v; }, ReconcileOp::kNone},
      {"version",
       [](Flat v) {
         v["version"] = "3.9.3";
         return v;
       },
       ReconcileOp::kUpgrade},
      {"version and tickTime",
       [](Flat v) {
         v["version"] = "3.9.3";
         v["tickTime"] = 3000;
         return v;
       },
       ReconcileOp::kUpgrade},
      {"replicas",
       [](Flat v) {
         v["replicas"] = 5;
         return v;
       },
       ReconcileOp::kScale},
      {"replicas and tickTime",
       [](Flat v) {
         v["replicas"] = 5;
         v["tickTime"] = 3000;
         return v;
       },
       ReconcileOp::kConfigure},
      {"tickTime",
       [](Flat v) {
         v["tickTime"] = 3000;
         return v;
       },
       ReconcileOp::kConfigure},
      {"a parameter set that was unset",
       [](Flat v) {
         v["labels"] = json::object();
         return v;
       },
       ReconcileOp::kConfigure},
  };
  for (const auto& c : cases) {
    const ReconcileDecision d =
        DecideOperation(Deployed(Defaults()), Want(c.edit(Defaults())), "version");
    EXPECT_EQ(d.op, c.want) << c.name << ": " << ReconcileOpName(d.op) << " (" << d.why << ")";
  }
}

TEST(ReconcileDecision, DescribesWhatChanged) {
  Flat target = Defaults();
  target["tickTime"] = 3000;
  const ReconcileDecision d = DecideOperation(Deployed(Defaults()), Want(target), "version");
  EXPECT_EQ(d.why, "tickTime: 2000 -> 3000");
}

TEST(ReconcileDecision, ValuesOfAnEarlierRevisionAreARollback) {
  Flat v1 = Defaults();
  Flat v2 = Defaults();
  v2["version"] = "3.9.3";
  ReleaseState release = Deployed(v2, 2);
  release.revisions[0] = Revision(1, v1, RevisionStatus::kSuperseded);
  const ReconcileDecision d = DecideOperation(release, Want(v1), "version");
  EXPECT_EQ(d.op, ReconcileOp::kRollback);
  EXPECT_EQ(d.rollback_to, 1);
}

TEST(ReconcileDecision, ValuesOfAFailedRevisionAreNoRollback) {
  Flat v1 = Defaults();
  Flat failed = Defaults();
  failed["tickTime"] = 3000;
  ReleaseState release = Deployed(v1, 1);
  release.revisions.push_back(Revision(2, failed, RevisionStatus::kFailed));
  const ReconcileDecision d = DecideOperation(release, Want(failed), "version");
  EXPECT_EQ(d.op, ReconcileOp::kConfigure) << "retrying a failed change is that change again";
}

TEST(ReconcileDecision, UnfinishedOperationIsResumedBeforeAnythingElse) {
  ReleaseState release = Deployed(Defaults());
  OperationRecord op;
  op.id = 7;
  op.type = "upgrade";
  op.revision = 2;
  release.unfinished = op;
  Flat other = Defaults();
  other["tickTime"] = 5000;
  const ReconcileDecision d = DecideOperation(release, Want(other, "r1"), "version");
  EXPECT_EQ(d.op, ReconcileOp::kResume);
}

TEST(ReconcileDecision, NothingDeployedIsADeploy) {
  const ReconcileDecision d = DecideOperation(ReleaseState{}, Want(Defaults()), "version");
  EXPECT_EQ(d.op, ReconcileOp::kDeploy);
}

TEST(ReconcileDecision, NewPackageVersionAloneIsAConfigure) {
  DesiredState want = Want(Defaults());
  want.package_version = "1.1.0";
  const ReconcileDecision d = DecideOperation(Deployed(Defaults()), want, "version");
  EXPECT_EQ(d.op, ReconcileOp::kConfigure);
  EXPECT_EQ(d.why, "package 1.0.0 -> 1.1.0");
  want.new_generation = false;  // a resync of the same spec
  EXPECT_EQ(DecideOperation(Deployed(Defaults()), want, "version").op, ReconcileOp::kNone);
}

TEST(ReconcileDecision, RestartRequestIsCarriedOutOnce) {
  const ReleaseState release = Deployed(Defaults());
  EXPECT_EQ(DecideOperation(release, Want(Defaults(), "r1", ""), "version").op,
            ReconcileOp::kRestart);
  EXPECT_EQ(DecideOperation(release, Want(Defaults(), "r2", "r1"), "version").op,
            ReconcileOp::kRestart);
  EXPECT_EQ(DecideOperation(release, Want(Defaults(), "r1", "r1"), "version").op,
            ReconcileOp::kNone);
  EXPECT_EQ(DecideOperation(release, Want(Defaults(), "", "r1"), "version").op, ReconcileOp::kNone)
      << "clearing the request asks for nothing";
}

TEST(ReconcileDecision, AValuesChangeGoesBeforeARestartRequest) {
  Flat target = Defaults();
  target["tickTime"] = 3000;
  EXPECT_EQ(DecideOperation(Deployed(Defaults()), Want(target, "r1"), "version").op,
            ReconcileOp::kConfigure);
}

TEST(ReconcileDecision, ProgressingReasons) {
  EXPECT_EQ(ProgressingReason(ReconcileOp::kDeploy), "Deploying");
  EXPECT_EQ(ProgressingReason(ReconcileOp::kUpgrade), "Upgrading");
  EXPECT_EQ(ProgressingReason(ReconcileOp::kRestart), "RollingRestart");
  EXPECT_EQ(ProgressingReason(ReconcileOp::kScale), "Scaling");
  EXPECT_EQ(ProgressingReason(ReconcileOp::kResume, "upgrade"), "Upgrading");
  EXPECT_EQ(ProgressingReason(ReconcileOp::kResume, "restart"), "RollingRestart");
  EXPECT_EQ(ProgressingReason(ReconcileOp::kResume, "something"), "Resuming");
}

// ---------------------------------------------------------------- conditions

const ClusterCondition& Cond(const ClusterStatus& s, const char* type) {
  const ClusterCondition* c = FindCondition(s.conditions, type);
  EXPECT_NE(c, nullptr) << type;
  static const ClusterCondition kNone;
  return c ? *c : kNone;
}

TEST(ClusterConditions, TransitionTimeChangesOnlyWithTheStatus) {
  ClusterStatus s;
  MarkValid(s, 1, 1000);
  EXPECT_EQ(Cond(s, kConditionValid).status, "True");
  EXPECT_EQ(Cond(s, kConditionValid).last_transition_time, 1000);
  MarkValid(s, 2, 2000);
  EXPECT_EQ(Cond(s, kConditionValid).last_transition_time, 1000);
  EXPECT_EQ(Cond(s, kConditionValid).observed_generation, 2);
  MarkInvalid(s, "InvalidValues", "spec.values.tickTime: bad", 3, 3000);
  EXPECT_EQ(Cond(s, kConditionValid).status, "False");
  EXPECT_EQ(Cond(s, kConditionValid).reason, "InvalidValues");
  EXPECT_EQ(Cond(s, kConditionValid).message, "spec.values.tickTime: bad");
  EXPECT_EQ(Cond(s, kConditionValid).last_transition_time, 3000);
  MarkInvalid(s, "InvalidValues", "spec.values.tickTime: still bad", 4, 4000);
  EXPECT_EQ(Cond(s, kConditionValid).last_transition_time, 3000);
}

TEST(ClusterConditions, InvalidSpecFailsOnlyAClusterThatNeverRan) {
  ClusterStatus fresh;
  MarkInvalid(fresh, "InvalidValues", "x", 1, 1);
  EXPECT_EQ(fresh.phase, ClusterPhase::kFailed);
  ClusterStatus running;
  running.current_revision = 2;
  running.phase = ClusterPhase::kRunning;
  MarkInvalid(running, "InvalidValues", "x", 1, 1);
  EXPECT_EQ(running.phase, ClusterPhase::kRunning) << "it still runs its current revision";
  EXPECT_EQ(Cond(running, kConditionProgressing).status, "False");
}

TEST(ClusterConditions, OperationLifecycle) {
  ClusterStatus s;
  MarkProgressing(s, ReconcileOp::kDeploy, "Deploying", "no revision yet", 1, 10);
  EXPECT_EQ(s.phase, ClusterPhase::kDeploying);
  EXPECT_EQ(Cond(s, kConditionProgressing).status, "True");
  EXPECT_EQ(Cond(s, kConditionProgressing).reason, "Deploying");
  MarkFinished(s, Status::Ok(), 1, 20);
  EXPECT_EQ(s.phase, ClusterPhase::kRunning);
  EXPECT_EQ(Cond(s, kConditionProgressing).status, "False");
  EXPECT_EQ(Cond(s, kConditionProgressing).reason, "Idle");
  EXPECT_EQ(Cond(s, kConditionProgressing).last_transition_time, 20);

  MarkProgressing(s, ReconcileOp::kUpgrade, "Upgrading", "version: 3.8.0 -> 3.9.3", 2, 30);
  EXPECT_EQ(s.phase, ClusterPhase::kUpdating);
  MarkFinished(s, Status::IOError("server 2 did not come back"), 2, 40);
  EXPECT_EQ(s.phase, ClusterPhase::kFailed);
  EXPECT_EQ(Cond(s, kConditionProgressing).reason, "OperationFailed");
  EXPECT_EQ(Cond(s, kConditionProgressing).message, "server 2 did not come back");

  MarkProgressing(s, ReconcileOp::kResume, "Deleting", "", 3, 50);
  EXPECT_EQ(s.phase, ClusterPhase::kDeleting);
}

TEST(ClusterConditions, ObservationSetsMembersReadyAndDegraded) {
  ClusterStatus s;
  ClusterObservation o;
  for (int id = 1; id <= 3; ++id) {
    ObservedServer m;
    m.id = id;
    m.pod = "demo-" + std::to_string(id) + "-0";
    m.role = id == 2 ? "leader" : "follower";
    m.ready = id != 3;
    o.servers.push_back(m);
  }
  o.leader = 2;
  o.quorum = true;
  o.healthy = false;
  o.ready_reason = "QuorumAvailable";
  o.degraded_reason = "ServersUnhealthy";
  o.degraded_message = "server 3: not serving";
  ApplyObservation(s, o, 4, 100);
  EXPECT_EQ(s.replicas, 3);
  EXPECT_EQ(s.ready_replicas, 2);
  EXPECT_EQ(s.leader, 2);
  ASSERT_EQ(s.members.size(), 3u);
  EXPECT_EQ(s.members[1].role, "leader");
  EXPECT_EQ(s.members[2].pod, "demo-3-0");
  EXPECT_EQ(Cond(s, kConditionReady).status, "True");
  EXPECT_EQ(Cond(s, kConditionReady).reason, "QuorumAvailable");
  EXPECT_EQ(Cond(s, kConditionDegraded).status, "True");
  EXPECT_EQ(Cond(s, kConditionDegraded).message, "server 3: not serving");
  EXPECT_EQ(Cond(s, kConditionDegraded).observed_generation, 4);

  MarkNotDeployed(s, 5, 200);
  EXPECT_TRUE(s.members.empty());
  EXPECT_EQ(Cond(s, kConditionReady).status, "False");
  EXPECT_EQ(Cond(s, kConditionReady).reason, "NotDeployed");
}

TEST(ClusterConditions, StatusPatchLeavesTheJournalAlone) {
  ClusterStatus s;
  s.current_revision = 3;
  s.operation = ClusterOperation{};
  s.operations.push_back(ClusterOperation{});
  s.last_restart_request = "r1";
  MarkValid(s, 1, 1);
  const json patch = OperatorStatusPatch(s)["status"];
  EXPECT_FALSE(patch.contains("operation"));
  EXPECT_FALSE(patch.contains("operations"));
  EXPECT_FALSE(patch.contains("currentRevision"));
  EXPECT_EQ(patch["lastRestartRequest"], "r1");
  EXPECT_TRUE(patch["phase"].is_null()) << "no phase yet: removed, not \"\"";
  EXPECT_EQ(patch["conditions"].size(), 1u);
  EXPECT_EQ(patch["ready"], "0/0");
}

// ---------------------------------------------------------------- the reconciler, against fakes

class FakeApi : public ClusterApi {
 public:
  std::map<std::string, ZooKeeperCluster> clusters;
  std::vector<std::string> events;  // "Type Reason: message"
  int status_writes = 0;

  Result<std::optional<ZooKeeperCluster>> Get(const std::string& ns,
                                              const std::string& name) override {
    auto it = clusters.find(ns + "/" + name);
    if (it == clusters.end()) return std::optional<ZooKeeperCluster>();
    return std::optional<ZooKeeperCluster>(it->second);
  }
  Result<ZooKeeperCluster> SetFinalizer(const ZooKeeperCluster& c, bool present) override {
    ZooKeeperCluster& stored = clusters.at(c.Namespace() + "/" + c.Name());
    json finalizers = json::array();
    if (present) finalizers.push_back(kClusterFinalizer);
    stored.metadata["finalizers"] = finalizers;
    if (!present && stored.Deleting()) {
      ZooKeeperCluster gone = stored;
      clusters.erase(c.Namespace() + "/" + c.Name());
      return gone;
    }
    return stored;
  }
  Status WriteStatus(const ZooKeeperCluster& c, const ClusterStatus& status) override {
    ++status_writes;
    ClusterStatus& stored = clusters.at(c.Namespace() + "/" + c.Name()).status;
    const int revision = stored.current_revision;  // the store's field
    stored = status;
    stored.current_revision = revision;
    return Status::Ok();
  }
  Status Emit(const ZooKeeperCluster&, EventType type, const std::string& reason,
              const std::string& message) override {
    events.push_back(std::string(type == EventType::kWarning ? "Warning " : "Normal ") + reason +
                     ": " + message);
    return Status::Ok();
  }
};

class FakeBackend : public ClusterBackend {
 public:
  std::optional<Package> package;
  ReleaseState release;
  std::vector<std::string> calls;
  Status fail_next;               // returned by the next operation
  bool journal_failures = false;  // a failing operation was journaled first
  bool healthy = true;
  std::function<void()> on_end;  // when the journal records an operation's end

  Result<Package> LoadPackage(const ZooKeeperCluster&) override {
    if (!package)
      return Status::NotFound("package mini 1.0.0: ConfigMap default/zkpilot-pkg-mini-0 not found");
    return *package;
  }
  Result<ReleaseState> Release(const ZooKeeperCluster&) override { return release; }
  Status Deploy(const ZooKeeperCluster&, const Package&, const Values& values,
                const OperationSettled& settled) override {
    calls.push_back("deploy");
    return Run("deploy", values, settled);
  }
  Status Change(const ZooKeeperCluster&, const Package&, const Values& target,
                const ReconcileDecision& d, const OperationSettled& settled) override {
    calls.push_back(ReconcileOpName(d.op));
    return Run(ReconcileOpName(d.op), target, settled);
  }
  Status Resume(const ZooKeeperCluster&, const Package&, const OperationSettled& settled) override {
    calls.push_back("resume");
    if (Status s = Take(); !s.ok()) return s;
    release.unfinished.reset();
    settled(Status::Ok());
    if (on_end) on_end();
    return Status::Ok();
  }
  Status Delete(const ZooKeeperCluster&, const Package* p, bool purge) override {
    calls.push_back(std::string("delete") + (purge ? " purge" : "") +
                    (p ? "" : " without package"));
    return Take();
  }
  Result<ClusterObservation> Observe(const ZooKeeperCluster&, const Package&,
                                     const Values&) override {
    calls.push_back("observe");
    ClusterObservation o;
    for (int id = 1; id <= 3; ++id)
      o.servers.push_back(ObservedServer{id, id == 1 ? "leader" : "follower", "3.8.0",
                                         "0x100000001", healthy,
                                         "demo-" + std::to_string(id) + "-0", "uid", 0});
    o.leader = 1;
    o.quorum = true;
    o.healthy = healthy;
    o.ready_reason = "QuorumAvailable";
    o.degraded_reason = healthy ? "AllServersInSync" : "ServersUnhealthy";
    return o;
  }

 private:
  Status Take() {
    Status s = fail_next;
    fail_next = Status::Ok();
    return s;
  }
  // As the action cores do: journal, run, record the revision, settle, and
  // record the operation's end last.
  Status Run(const std::string& op, const Values& values, const OperationSettled& settled) {
    if (Status s = Take(); !s.ok()) {
      if (journal_failures) {
        ++release.last_operation_id;
        release.last_operation_type = op;
        settled(s);
        if (on_end) on_end();
      }
      return s;
    }
    Record(op, values);
    settled(Status::Ok());
    if (on_end) on_end();
    return Status::Ok();
  }
  void Record(const std::string& op, const Values& values) {
    ++release.last_operation_id;
    release.last_operation_type = op;
    release.current_revision += 1;
    release.current_values = values.Flat();
    release.current_package_version = "1.0.0";
    release.current_version = values.Get("version").get<std::string>();
  }
};

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto package = ParsePackage(testing::MinimalPackageFiles());
    ASSERT_TRUE(package.ok()) << package.status().message();
    backend.package = *package;
    ZooKeeperCluster c;
    c.metadata = {{"name", "demo"}, {"namespace", "default"}, {"uid", "u-1"}, {"generation", 1}};
    c.spec.package =
        PackageRef{"mini", "1.0.0", "zkpilot-pkg-mini-0123456789ab", std::string(64, 'a')};
    api.clusters["default/demo"] = c;
  }
  ZooKeeperCluster& Stored() { return api.clusters.at("default/demo"); }
  Result<ReconcileResult> Reconcile() { return reconciler.Reconcile("default", "demo"); }
  void SetValues(json values) {
    Stored().spec.values = std::move(values);
    Stored().metadata["generation"] = Stored().Generation() + 1;
  }
  bool HasEvent(const std::string& prefix) const {
    for (const auto& e : api.events)
      if (e.rfind(prefix, 0) == 0) return true;
    return false;
  }

  FakeApi api;
  FakeBackend backend;
  int64_t now = 1000;
  Reconciler reconciler{api, backend, ReconcilerOptions{[this] { return now++; }}};
};

TEST_F(ReconcilerTest, NewClusterGetsTheFinalizerAndIsDeployed) {
  std::optional<ClusterStatus> at_end;
  backend.on_end = [&] { at_end = Stored().status; };
  auto r = Reconcile();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->op, ReconcileOp::kDeploy);
  EXPECT_TRUE(Stored().HasFinalizer(kClusterFinalizer));
  EXPECT_EQ(backend.calls, (std::vector<std::string>{"deploy", "observe"}));
  const ClusterStatus& s = Stored().status;
  EXPECT_EQ(s.phase, ClusterPhase::kRunning);
  EXPECT_EQ(s.observed_generation, 1);
  EXPECT_EQ(s.current_version, "3.8.0");
  EXPECT_EQ(s.target_version, "3.8.0");
  EXPECT_EQ(s.ready_replicas, 3);
  EXPECT_TRUE(IsConditionTrue(s.conditions, kConditionReady));
  EXPECT_TRUE(IsConditionTrue(s.conditions, kConditionValid));
  EXPECT_EQ(Cond(s, kConditionProgressing).reason, "Idle");
  ASSERT_TRUE(at_end.has_value());
  EXPECT_EQ(at_end->phase, ClusterPhase::kRunning)
      << "the status says how it ended before the journal does";
  EXPECT_EQ(at_end->ready_replicas, 3);
  EXPECT_EQ(at_end->current_version, "3.8.0");
  EXPECT_TRUE(HasEvent("Normal Deploying: deploy started"));
  EXPECT_TRUE(HasEvent("Normal OperationSucceeded: deploy succeeded"));

  backend.calls.clear();
  r = Reconcile();  // a resync: nothing to do but look
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->op, ReconcileOp::kNone);
  EXPECT_EQ(backend.calls, (std::vector<std::string>{"observe"}));
}

TEST_F(ReconcilerTest, InvalidValuesApplyNothingAndSayWhy) {
  SetValues({{"tickTime", "often"}});
  auto r = Reconcile();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->op, ReconcileOp::kNone);
  EXPECT_TRUE(backend.calls.empty()) << "nothing deployed, nothing observed";
  const ClusterCondition& valid = Cond(Stored().status, kConditionValid);
  EXPECT_EQ(valid.status, "False");
  EXPECT_EQ(valid.reason, "InvalidValues");
  EXPECT_NE(valid.message.find("tickTime"), std::string::npos) << valid.message;
  EXPECT_EQ(Stored().status.phase, ClusterPhase::kFailed);
  EXPECT_EQ(api.events.size(), 1u);
  EXPECT_TRUE(HasEvent("Warning InvalidValues"));

  ASSERT_TRUE(Reconcile().ok());  // a resync repeats no Event
  EXPECT_EQ(api.events.size(), 1u);

  SetValues({{"tickTime", 3000}});  // fixed
  r = Reconcile();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->op, ReconcileOp::kDeploy);
  EXPECT_TRUE(IsConditionTrue(Stored().status.conditions, kConditionValid));
}

TEST_F(ReconcilerTest, InvalidValuesLeaveARunningClusterRunning) {
  ASSERT_TRUE(Reconcile().ok());
  backend.calls.clear();
  SetValues({{"replicas", 100}});
  auto r = Reconcile();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(backend.calls, (std::vector<std::string>{"observe"}));
  EXPECT_EQ(Stored().status.phase, ClusterPhase::kRunning);
  EXPECT_EQ(Cond(Stored().status, kConditionValid).reason, "InvalidValues");
  EXPECT_TRUE(IsConditionTrue(Stored().status.conditions, kConditionReady));
}

TEST_F(ReconcilerTest, MissingPackageIsACondition) {
  backend.package.reset();
  auto r = Reconcile();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(backend.calls.empty());
  const ClusterCondition& valid = Cond(Stored().status, kConditionValid);
  EXPECT_EQ(valid.reason, "PackageNotFound");
  EXPECT_NE(valid.message.find("ConfigMap"), std::string::npos);
}

TEST_F(ReconcilerTest, ValuesChangeIsAnUpgradeAndFailuresAreRetried) {
  ASSERT_TRUE(Reconcile().ok());
  SetValues({{"version", "3.9.3"}});
  backend.fail_next = Status::IOError("server 2 did not come back in sync");
  auto r = Reconcile();
  ASSERT_FALSE(r.ok()) << "a failed operation is retried with backoff";
  EXPECT_NE(r.status().message().find("upgrade default/demo: server 2"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(Stored().status.phase, ClusterPhase::kFailed);
  EXPECT_EQ(Cond(Stored().status, kConditionProgressing).reason, "OperationFailed");
  EXPECT_TRUE(HasEvent("Warning OperationFailed"));

  r = Reconcile();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->op, ReconcileOp::kUpgrade);
  EXPECT_EQ(Stored().status.phase, ClusterPhase::kRunning);
  EXPECT_EQ(Stored().status.current_version, "3.9.3");
}

TEST_F(ReconcilerTest, RefusedChangeIsNotRetried) {
  ASSERT_TRUE(Reconcile().ok());
  SetValues({{"controller", "deployment"}});
  backend.fail_next =
      Status::InvalidInput("controller is immutable: fixed when the cluster was deployed");
  auto r = Reconcile();
  ASSERT_TRUE(r.ok()) << "the user's to fix: " << r.status().message();
  const ClusterCondition& valid = Cond(Stored().status, kConditionValid);
  EXPECT_EQ(valid.status, "False");
  EXPECT_EQ(valid.reason, "ChangeNotAllowed");
  EXPECT_NE(valid.message.find("immutable"), std::string::npos);
  EXPECT_EQ(Stored().status.phase, ClusterPhase::kRunning);
}

TEST_F(ReconcilerTest, RestartRequestRollsOnce) {
  ASSERT_TRUE(Reconcile().ok());
  Stored().spec.restart_request = "2024-05-01T10:00:00Z";
  backend.calls.clear();
  auto r = Reconcile();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->op, ReconcileOp::kRestart);
  EXPECT_EQ(Stored().status.last_restart_request, "2024-05-01T10:00:00Z");
  r = Reconcile();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->op, ReconcileOp::kNone);
}

TEST_F(ReconcilerTest, FailedRestartIsRetriedUntilJournaledThenReported) {
  ASSERT_TRUE(Reconcile().ok());
  Stored().spec.restart_request = "r1";
  // Failed before any plan was journaled: the request is still open.
  backend.fail_next = Status::IOError("the ensemble is not healthy");
  EXPECT_FALSE(Reconcile().ok());
  EXPECT_EQ(Stored().status.last_restart_request, "");
  // Failed after its plan was journaled: reported, not repeated (some
  // servers restarted already; a new request value asks again).
  backend.fail_next = Status::IOError("server 3 did not come back");
  backend.journal_failures = true;
  auto r = Reconcile();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(Stored().status.last_restart_request, "r1");
  EXPECT_EQ(Stored().status.phase, ClusterPhase::kFailed);
  EXPECT_TRUE(HasEvent("Warning OperationFailed"));
  backend.calls.clear();
  r = Reconcile();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->op, ReconcileOp::kNone);
  EXPECT_EQ(Stored().status.phase, ClusterPhase::kFailed)
      << "the failure stays visible until the next operation";
  EXPECT_EQ(Cond(Stored().status, kConditionProgressing).reason, "OperationFailed");
}

TEST_F(ReconcilerTest, UnfinishedOperationIsResumedFirst) {
  ASSERT_TRUE(Reconcile().ok());
  OperationRecord op;
  op.id = 5;
  op.type = "restart";
  op.revision = 1;
  backend.release.unfinished = op;
  Stored().spec.restart_request = "r9";
  backend.calls.clear();
  auto r = Reconcile();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->op, ReconcileOp::kResume);
  EXPECT_EQ(backend.calls.front(), "resume");
  EXPECT_EQ(Stored().status.last_restart_request, "r9")
      << "the resumed restart carried out the request";
  EXPECT_TRUE(HasEvent("Normal RollingRestart: resume restart started"));
}

TEST_F(ReconcilerTest, UnhealthyClusterIsLookedAtAgainSoon) {
  ASSERT_TRUE(Reconcile().ok());
  backend.healthy = false;
  auto r = Reconcile();
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->requeue_after.has_value());
  EXPECT_TRUE(IsConditionTrue(Stored().status.conditions, kConditionDegraded));
}

TEST_F(ReconcilerTest, DeletionRunsTheDeleteAndDropsTheFinalizer) {
  ASSERT_TRUE(Reconcile().ok());
  Stored().spec.purge_data_on_delete = true;
  Stored().metadata["deletionTimestamp"] = "2024-05-01T10:00:00Z";
  backend.calls.clear();
  auto r = Reconcile();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->op, ReconcileOp::kDelete);
  EXPECT_EQ(backend.calls, (std::vector<std::string>{"delete purge"}));
  EXPECT_EQ(api.clusters.count("default/demo"), 0u) << "the finalizer went, so did the object";
  EXPECT_TRUE(HasEvent("Normal OperationSucceeded: delete succeeded"));
}

TEST_F(ReconcilerTest, FailedDeletionKeepsTheFinalizerAndRetries) {
  ASSERT_TRUE(Reconcile().ok());
  Stored().metadata["deletionTimestamp"] = "2024-05-01T10:00:00Z";
  backend.fail_next = Status::Unavailable("kubernetes API: 503");
  EXPECT_FALSE(Reconcile().ok());
  ASSERT_EQ(api.clusters.count("default/demo"), 1u);
  EXPECT_TRUE(Stored().HasFinalizer(kClusterFinalizer));
  EXPECT_EQ(Stored().status.phase, ClusterPhase::kDeleting);
  backend.package.reset();  // the package's ConfigMaps went meanwhile
  auto r = Reconcile();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(backend.calls.back(), "delete without package");
  EXPECT_EQ(api.clusters.count("default/demo"), 0u);
}

TEST_F(ReconcilerTest, GoneClusterIsNothingToDo) {
  api.clusters.clear();
  auto r = reconciler.Reconcile("default", "demo");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->op, ReconcileOp::kNone);
  EXPECT_TRUE(backend.calls.empty());
}

}  // namespace
}  // namespace zkpilot
