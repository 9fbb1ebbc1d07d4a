// Every verb against the fake platform: what each asks of the platform, in
// which order, and what it records. The same cores run locally and on
// Kubernetes; the end-to-end tests (tests/local_platform_test.cc,
// tests/day2_test.cc) prove them against real ZooKeeper.
#include "actions/cluster_actions.h"

#include <gtest/gtest.h>

#include "actions/action_test_util.h"

namespace zkpilot {
namespace {

using std::chrono::seconds;

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The calls of the given methods, in order.
std::vector<std::string> Only(const std::vector<std::string>& calls, const std::vector<std::string>& methods) {
  std::vector<std::string> out;
  for (const auto& c : calls)
    for (const auto& m : methods)
      if (c.rfind(m + "(", 0) == 0) out.push_back(c);
  return out;
}

class ClusterActionsTest : public testing::ActionTest {
 protected:
  Result<DeployResult> DeployWith(const std::vector<std::string>& sets, bool dry_run = false) {
    DeploySpec spec;
    spec.name = "demo";
    spec.package = package_;
    spec.values = With(sets);
    spec.package_source = "/packages/mini";
    spec.dry_run = dry_run;
    spec.timeout = seconds(30);
    ActionContext ctx = Context(PlatformFor(spec.values));
    return Deploy(ctx, spec);
  }
  void Deployed(const std::vector<std::string>& sets = {}) {
    auto r = DeployWith(sets);
    ASSERT_TRUE(r.ok()) << r.status().message();
    calls_before_ = world_.Calls().size();
    elections_before_ = world_.elections;
  }
  // The calls since Deployed().
  std::vector<std::string> CallsSince(const std::vector<std::string>& methods) {
    auto all = world_.Calls();
    return Only(std::vector<std::string>(all.begin() + static_cast<long>(calls_before_), all.end()), methods);
  }

  Result<ChangeResult> Change(ChangeKind kind, const Values& target, bool dry_run = false) {
    ChangeSpec spec;
    spec.name = "demo";
    spec.kind = kind;
    spec.package = package_;
    spec.target = target;
    spec.dry_run = dry_run;
    spec.timeout = seconds(30);
    ActionContext ctx = Context(PlatformFor(target));
    return ApplyChange(ctx, spec);
  }
  Result<ChangeResult> Request(const ChangeRequest& request) {
    auto target = TargetValues(*store_, package_, request);
    if (!target.ok()) return target.status();
    return Change(request.kind, *target, request.dry_run);
  }
  Result<ChangeResult> ResumeDemo() {
    auto values = ResumeValues(*store_, "demo", package_);
    if (!values.ok()) return values.status();
    ActionContext ctx = Context(PlatformFor(*values));
    return Resume(ctx, "demo", package_);
  }
  Result<std::string> DeleteDemo(bool purge, bool with_package = true) {
    auto values = RevisionValues(*store_, "demo", package_);
    if (!values.ok()) return values.status();
    ActionContext ctx = Context(PlatformFor(*values));
    DeleteSpec spec;
    spec.name = "demo";
    spec.package = with_package ? &package_ : nullptr;
    spec.purge_data = purge;
    spec.timeout = seconds(30);
    return Delete(ctx, spec);
  }
  Result<nlohmann::ordered_json> StatusOfDemo() {
    auto values = RevisionValues(*store_, "demo", package_);
    if (!values.ok()) return values.status();
    ActionContext ctx = Context(PlatformFor(*values));
    return DescribeCluster(ctx, "demo", package_);
  }

  ClusterRecord Record() {
    auto r = store_->GetCluster("demo");
    EXPECT_TRUE(r.ok() && *r);
    return r.ok() && *r ? **r : ClusterRecord{};
  }
  std::vector<RevisionRecord> Revisions() {
    auto r = store_->ListRevisions("demo");
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<RevisionRecord>{};
  }

  size_t calls_before_ = 0;
  int elections_before_ = 0;
};

// ---------------------------------------------------------------- deploy

TEST_F(ClusterActionsTest, DeployConfiguresStartsWaitsRunsHooksAndRecords) {
  auto r = DeployWith({});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->revision, 1);
  EXPECT_EQ(r->health, "healthy: leader 2, 3/3 servers in sync");
  EXPECT_EQ(Only(world_.Calls(), {"Preflight", "ApplyServerConfig", "StartServer", "ApplyAddons"}),
            (std::vector<std::string>{"Preflight()", "ApplyServerConfig(1, [])", "ApplyServerConfig(2, [])",
                                      "ApplyServerConfig(3, [])", "StartServer(1)", "StartServer(2)", "StartServer(3)"}))
      << "no add-on is enabled: none applied";
  EXPECT_TRUE(world_.znodes.count("/app")) << "the deploy init hook ran";

  ClusterRecord c = Record();
  EXPECT_EQ(c.status, "deployed");
  EXPECT_EQ(c.platform, "fake");
  EXPECT_EQ(c.package_dir, "/packages/mini");
  EXPECT_EQ(c.current_revision, 1);
  auto revisions = Revisions();
  ASSERT_EQ(revisions.size(), 1u);
  EXPECT_EQ(revisions[0].status, RevisionStatus::kDeployed);
  EXPECT_EQ(revisions[0].zk_version, "3.8.0");
  auto ops = store_->ListOperations("demo");
  ASSERT_TRUE(ops.ok() && ops->size() == 1);
  EXPECT_EQ((*ops)[0].status, OperationStatus::kSucceeded);
}

TEST_F(ClusterActionsTest, DeployAppliesTheEnabledAddons) {
  auto r = DeployWith({"extra.enabled=true"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(world_.addons_applied, 1);
  EXPECT_TRUE(Has(r->plan_text, "apply the add-ons (extra)")) << r->plan_text;
  EXPECT_TRUE(world_.znodes.count("/extra")) << "the hook step gated by extra.enabled ran";
}

TEST_F(ClusterActionsTest, DeployDryRunPlansAndChangesNothing) {
  auto r = DeployWith({}, /*dry_run=*/true);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->dry_run);
  EXPECT_TRUE(Has(r->plan_text, "Plan: deploy demo (9 steps)")) << r->plan_text;
  EXPECT_TRUE(Has(r->plan_text, "1. prepare server 1 (fake-1:2181)")) << r->plan_text;
  EXPECT_TRUE(Has(r->plan_text, "wait until healthy: 3 servers in quorum")) << r->plan_text;
  EXPECT_EQ(world_.Calls(), (std::vector<std::string>{"Preflight()"}));
  auto clusters = store_->ListClusters();
  ASSERT_TRUE(clusters.ok());
  EXPECT_TRUE(clusters->empty());
}

TEST_F(ClusterActionsTest, DeployRefusedByPreflightRecordsNothing) {
  world_.FailNext("Preflight", Status::InvalidInput("port 2182 is already in use"));
  auto r = DeployWith({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(world_.Calls(), (std::vector<std::string>{"Preflight()"}));
  auto clusters = store_->ListClusters();
  ASSERT_TRUE(clusters.ok());
  EXPECT_TRUE(clusters->empty());
}

TEST_F(ClusterActionsTest, DeployOfAnExistingNameIsRefusedBeforeThePlatformIsAsked) {
  Deployed();
  auto r = DeployWith({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(Has(r.status().message(), "cluster demo already exists (status deployed)")) << r.status().message();
  EXPECT_TRUE(CallsSince({"Preflight", "ApplyServerConfig", "StartServer"}).empty());
}

TEST_F(ClusterActionsTest, FailedDeployLeavesNothingRunningAndIsRecordedFailed) {
  world_.NeverComesBack(2);
  auto r = DeployWith({});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(r.status().message(), "deploy demo: step 7/9 (wait until healthy: 3 servers in quorum): "
                                        "server 2 keeps exiting"))
      << r.status().message();
  EXPECT_EQ(world_.Calls("TearDown"), (std::vector<std::string>{"TearDown(keep data)"}));
  for (const auto& [id, s] : world_.servers) EXPECT_FALSE(s.running) << "server " << id;
  EXPECT_EQ(Record().status, "failed");
  ASSERT_EQ(Revisions().size(), 1u);
  EXPECT_EQ(Revisions()[0].status, RevisionStatus::kFailed);
}

TEST_F(ClusterActionsTest, APlatformThatFailsMidDeployStopsThePlanThere) {
  world_.FailAfter("StartServer", 1, Status::Unavailable("the API server answered 503"));
  auto r = DeployWith({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "deploy demo: step 5/9 (start server 2): the API server answered 503");
  EXPECT_EQ(world_.Calls("StartServer"), (std::vector<std::string>{"StartServer(1)", "StartServer(2)"}));
  EXPECT_EQ(world_.Calls("TearDown").size(), 1u);
  auto ops = store_->ListOperations("demo");
  ASSERT_TRUE(ops.ok() && ops->size() == 1);
  auto op = store_->GetOperation((*ops)[0].id);
  ASSERT_TRUE(op.ok() && *op);
  EXPECT_EQ((*op)->status, OperationStatus::kFailed);
  EXPECT_EQ((*op)->steps[4].status, StepStatus::kFailed);
  EXPECT_EQ((*op)->steps[5].status, StepStatus::kPending);
}

// ---------------------------------------------------------------- delete

TEST_F(ClusterActionsTest, DeleteRunsItsHooksStopsTearsDownKeepingDataAndForgetsTheCluster) {
  Deployed();
  auto r = DeleteDemo(/*purge=*/false);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "deleted demo; data kept");
  EXPECT_EQ(CallsSince({"StopServer", "RunFileAction", "TearDown"}),
            (std::vector<std::string>{"StopServer(1)", "StopServer(2)", "StopServer(3)", "TearDown(keep data)"}))
      << "remove-node-data removes nothing without --purge-data";
  auto c = store_->GetCluster("demo");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(*c);
}

TEST_F(ClusterActionsTest, DeleteWithPurgeRemovesEveryServersData) {
  Deployed();
  auto r = DeleteDemo(/*purge=*/true);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "deleted demo");
  EXPECT_EQ(CallsSince({"RunFileAction", "TearDown"}),
            (std::vector<std::string>{"RunFileAction(1, remove-node-data)", "RunFileAction(2, remove-node-data)",
                                      "RunFileAction(3, remove-node-data)", "TearDown(purge)"}));
  EXPECT_TRUE(world_.servers.empty());
}

TEST_F(ClusterActionsTest, DeleteWithoutItsPackageTearsDownWithoutHooks) {
  Deployed();
  auto r = DeleteDemo(/*purge=*/false, /*with_package=*/false);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(CallsSince({"RunFileAction", "OpenZkSession"}).empty());
  EXPECT_EQ(CallsSince({"TearDown"}).size(), 1u);
}

TEST_F(ClusterActionsTest, FailedDeleteKeepsTheClusterMarkedDeleteFailed) {
  Deployed();
  world_.FailNext("TearDown", Status::Unavailable("the API server answered 503"));
  auto r = DeleteDemo(false);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(r.status().message(), "delete demo: step")) << r.status().message();
  EXPECT_EQ(Record().status, "delete-failed");
  ASSERT_TRUE(DeleteDemo(false).ok()) << "deleting again finishes it";
}

// ---------------------------------------------------------------- configure, upgrade, rollback, restart

TEST_F(ClusterActionsTest, RollingConfigureRestartsEachServerOnceLeaderLast) {
  Deployed();
  auto r = Change(ChangeKind::kConfigure, With({"tickTime=3000"}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->changes, "tickTime: 2000 -> 3000");
  EXPECT_EQ(r->revision, 2);
  EXPECT_EQ(CallsSince({"ApplyServerConfig", "RestartServer"}),
            (std::vector<std::string>{"ApplyServerConfig(1, [1,2,3])", "RestartServer(1, 1)",
                                      "ApplyServerConfig(3, [1,2,3])", "RestartServer(3, 1)",
                                      "ApplyServerConfig(2, [1,2,3])", "RestartServer(2, 1)"}))
      << "followers by id, then the leader (2)";
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(world_.Restarts(id), 1) << "server " << id;
  EXPECT_EQ(world_.elections, elections_before_) << "no election: the leader handed over by reconfig";
  EXPECT_EQ(world_.handoffs, 1);
  EXPECT_TRUE(world_.quorum_ports.empty() || world_.quorum_ports[2] == 2888) << "its quorum port is back";
  auto revisions = Revisions();
  ASSERT_EQ(revisions.size(), 2u);
  EXPECT_EQ(revisions[0].status, RevisionStatus::kSuperseded);
  EXPECT_EQ(revisions[1].status, RevisionStatus::kDeployed);
  EXPECT_EQ(Record().current_revision, 2);
}

TEST_F(ClusterActionsTest, DynamicConfigureRestartsNothingAndAppliesTheAddons) {
  Deployed();
  auto r = Change(ChangeKind::kConfigure, With({"extra.enabled=true"}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(CallsSince({"RestartServer", "ApplyServerConfig"}).empty());
  EXPECT_EQ(CallsSince({"ApplyAddons"}), (std::vector<std::string>{"ApplyAddons()"}));
  EXPECT_EQ(world_.elections, elections_before_);
  EXPECT_EQ(Record().current_revision, 2);
}

TEST_F(ClusterActionsTest, NoChangeIsNothingToDo) {
  Deployed();
  auto r = Change(ChangeKind::kConfigure, With({}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->nothing_to_do);
  EXPECT_EQ(Revisions().size(), 1u);
}

TEST_F(ClusterActionsTest, UpgradeRunsItsHooksAroundARollWithTheLeaderLast) {
  Deployed();
  ChangeRequest request;
  request.name = "demo";
  request.kind = ChangeKind::kUpgrade;
  request.version = "3.9.3";
  auto r = Request(request);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->changes, "version: 3.8.0 -> 3.9.3");
  auto restarts = CallsSince({"RestartServer"});
  ASSERT_EQ(restarts.size(), 3u);
  EXPECT_EQ(restarts.back(), "RestartServer(2, 1)") << "the leader last";
  EXPECT_TRUE(world_.znodes.count("/upgraded")) << "upgrade init hook";
  EXPECT_EQ(CallsSince({"RunFileAction"}).size(), 3u) << "upgrade cleanup purges snapshots on every server";
  for (const auto& [id, s] : world_.servers) EXPECT_EQ(s.version, "3.9.3") << "server " << id;
  EXPECT_EQ(world_.elections, elections_before_) << "the leader handed over by reconfig";
  EXPECT_EQ(world_.handoffs, 1);
  EXPECT_EQ(Revisions().back().zk_version, "3.9.3");
}

TEST_F(ClusterActionsTest, AVersionSwitchThePackageForbidsIsRefusedBeforeAnything) {
  Deployed({"version=3.9.3"});
  auto r = Change(ChangeKind::kUpgrade, With({"version=3.8.0"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(Has(r.status().message(), "does not allow switching from 3.9.3 to 3.8.0")) << r.status().message();
  EXPECT_TRUE(CallsSince({"Preflight", "RestartServer", "ApplyServerConfig"}).empty());
  EXPECT_EQ(Revisions().size(), 1u);
}

TEST_F(ClusterActionsTest, ImmutableParametersAreRefused) {
  Deployed();
  auto r = Change(ChangeKind::kConfigure, With({"controller=deployment"}));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(r.status().message(), "controller is immutable")) << r.status().message();
}

TEST_F(ClusterActionsTest, RollbackReturnsToThePreviousRevisionsValues) {
  Deployed();
  ASSERT_TRUE(Change(ChangeKind::kConfigure, With({"tickTime=3000"})).ok());
  ChangeRequest request;
  request.name = "demo";
  request.kind = ChangeKind::kRollback;
  auto r = Request(request);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->changes, "tickTime: 3000 -> 2000");
  auto revisions = Revisions();
  ASSERT_EQ(revisions.size(), 3u);
  EXPECT_EQ(revisions[2].operation, "rollback");
  EXPECT_EQ(nlohmann::json::parse(revisions[2].values_json)["tickTime"], 2000);
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(world_.Restarts(id), 2) << "server " << id;
}

TEST_F(ClusterActionsTest, RestartRollsEveryServerOnceWithoutANewConfiguration) {
  Deployed();
  ChangeRequest request;
  request.name = "demo";
  request.kind = ChangeKind::kRestart;
  auto r = Request(request);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(CallsSince({"ApplyServerConfig", "RestartServer"}),
            (std::vector<std::string>{"RestartServer(1, 1)", "RestartServer(3, 1)", "RestartServer(2, 1)"}));
  EXPECT_EQ(Revisions().back().operation, "restart");
}

TEST_F(ClusterActionsTest, AChangeOfAnUnhealthyEnsembleIsRefused) {
  Deployed();
  ASSERT_TRUE(PlatformFor(With({})).StopServer(1, seconds(1)).ok());
  // (A rolling change would restart server 1 anyway: repairing it is allowed.)
  auto r = Change(ChangeKind::kConfigure, With({"extra.enabled=true"}));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(r.status().message(), "not changing demo: the ensemble is not healthy")) << r.status().message();
  EXPECT_EQ(Revisions().size(), 1u);
}

TEST_F(ClusterActionsTest, AFailedRollStopsAtTheBrokenServerAndARepairRestartsOnlyIt) {
  Deployed();
  world_.NeverComesBack(1);
  auto r = Change(ChangeKind::kConfigure, With({"tickTime=3000"}));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(r.status().message(), "server 1 keeps exiting after its restart")) << r.status().message();
  EXPECT_EQ(CallsSince({"RestartServer"}), (std::vector<std::string>{"RestartServer(1, 1)"}));
  EXPECT_EQ(Record().status, "update-failed");
  EXPECT_EQ(Revisions().back().status, RevisionStatus::kFailed);

  // Fixed: configured back, only server 1 (which runs neither) restarts.
  world_.servers[1].broken = false;
  auto repaired = Change(ChangeKind::kConfigure, With({}));
  ASSERT_TRUE(repaired.ok()) << repaired.status().message();
  EXPECT_EQ(repaired->changes, "repair: server 1 back to revision 1's configuration");
  EXPECT_EQ(CallsSince({"RestartServer"}), (std::vector<std::string>{"RestartServer(1, 1)", "RestartServer(1, 2)"}));
  EXPECT_EQ(Record().status, "deployed");
}

// An add-on the failed change switched on may still run (crash-looping on
// a taken port): the change after a failed one applies its target's add-ons.
TEST_F(ClusterActionsTest, TheChangeAfterAFailedOneAppliesTheAddonsAgain) {
  Deployed();
  world_.NeverComesBack(1);
  ASSERT_FALSE(Change(ChangeKind::kConfigure, With({"tickTime=3000"})).ok());
  world_.servers[1].broken = false;
  auto repaired = Change(ChangeKind::kConfigure, With({}));
  ASSERT_TRUE(repaired.ok()) << repaired.status().message();
  EXPECT_EQ(CallsSince({"ApplyAddons"}), (std::vector<std::string>{"ApplyAddons()"}));
  EXPECT_EQ(Record().status, "deployed");
}

// ---------------------------------------------------------------- scale

TEST_F(ClusterActionsTest, ScaleAddsAndRemovesOneVoterAtATimeRestartingNoMember) {
  Deployed();
  ChangeRequest up;
  up.name = "demo";
  up.kind = ChangeKind::kScale;
  up.replicas = 5;
  auto r = Request(up);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(CallsSince({"ApplyServerConfig", "StartServer", "Reconfig", "RestartServer"}),
            (std::vector<std::string>{
                "ApplyServerConfig(4, [1,2,3,4])", "StartServer(4)",
                "Reconfig(+server.4=fake-4:2888:3888:participant;0.0.0.0:2181, -)",
                "ApplyServerConfig(5, [1,2,3,4,5])", "StartServer(5)",
                "Reconfig(+server.5=fake-5:2888:3888:participant;0.0.0.0:2181, -)"}));
  EXPECT_EQ(world_.voters, (std::set<int>{1, 2, 3, 4, 5}));

  calls_before_ = world_.Calls().size();
  ChangeRequest down = up;
  down.replicas = 3;
  r = Request(down);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(CallsSince({"Reconfig", "StopServer", "RunFileAction", "ForgetServer", "RestartServer"}),
            (std::vector<std::string>{"Reconfig(+, -5)", "StopServer(5)", "RunFileAction(5, remove-node-data)",
                                      "ForgetServer(5)", "Reconfig(+, -4)", "StopServer(4)",
                                      "RunFileAction(4, remove-node-data)", "ForgetServer(4)"}))
      << "the highest id first; stopped only after the reconfig; its data removed";
  EXPECT_EQ(world_.voters, (std::set<int>{1, 2, 3}));
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(world_.Restarts(id), 0) << "server " << id;
  EXPECT_EQ(world_.servers.size(), 3u);
}

TEST_F(ClusterActionsTest, ScaleWarnsAboutAnEvenSize) {
  Deployed();
  auto r = Change(ChangeKind::kScale, With({"replicas=4"}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_TRUE(Has(r->warnings[0], "replicas=4 is even"));
}

// ---------------------------------------------------------------- resume

TEST_F(ClusterActionsTest, ResumeAfterACrashMidRestartFinishesRestartingEachServerOnce) {
  Deployed();
  world_.CrashAfter("RestartServer");  // the first restart happens, then zkpilot dies
  EXPECT_THROW((void)Change(ChangeKind::kConfigure, With({"tickTime=3000"})), FakeCrash);
  auto unfinished = store_->UnfinishedOperation("demo");
  ASSERT_TRUE(unfinished.ok() && *unfinished);
  ASSERT_GE((*unfinished)->steps.size(), 3u);
  EXPECT_EQ((*unfinished)->steps[2].status, StepStatus::kRunning) << "restart server 1 was running";
  EXPECT_EQ(Record().status, "updating");

  auto r = ResumeDemo();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->resumed);
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(world_.Restarts(id), 1) << "server " << id << " restarted once";
  EXPECT_EQ(CallsSince({"RestartServer"}),
            (std::vector<std::string>{"RestartServer(1, 1)", "RestartServer(3, 1)", "RestartServer(2, 1)"}))
      << "the resumed step saw generation 1 running and did not ask again";
  EXPECT_EQ(Record().status, "deployed");
  EXPECT_EQ(Record().current_revision, 2);
}

TEST_F(ClusterActionsTest, TheSameChangeAgainCarriesOnAnInterruptedOne) {
  Deployed();
  world_.CrashAfter("RestartServer");
  EXPECT_THROW((void)Change(ChangeKind::kConfigure, With({"tickTime=3000"})), FakeCrash);
  auto r = Change(ChangeKind::kConfigure, With({"tickTime=3000"}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->resumed);
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(world_.Restarts(id), 1) << "server " << id;
}

TEST_F(ClusterActionsTest, AnotherChangeWhileOneIsInterruptedIsRefused) {
  Deployed();
  world_.CrashAfter("RestartServer");
  EXPECT_THROW((void)Change(ChangeKind::kConfigure, With({"tickTime=3000"})), FakeCrash);
  auto r = Change(ChangeKind::kConfigure, With({"tickTime=4000"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(Has(r.status().message(), "an earlier configure of demo was interrupted after 2/8 steps; "
                                        "finish it first with `zkpilot resume demo`"))
      << r.status().message();
}

TEST_F(ClusterActionsTest, ResumeWithoutAnInterruptedOperationIsInvalidInput) {
  Deployed();
  auto r = ResumeDemo();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "demo has no interrupted operation to resume");
}

TEST_F(ClusterActionsTest, ResumeAfterACrashRightAfterTheHandOffFinishesTheRollWithEveryPortBack) {
  Deployed();
  world_.CrashAfter("Reconfig");  // the hand-off's reconfig commits, then zkpilot dies
  EXPECT_THROW((void)Change(ChangeKind::kRestart, With({})), FakeCrash);
  EXPECT_EQ(world_.handoffs, 1);
  EXPECT_NE(world_.leader, 2) << "server 2 handed over";
  EXPECT_EQ(world_.QuorumPort(2), 2889) << "left on its hand-off port";
  auto r = ResumeDemo();
  ASSERT_TRUE(r.ok()) << r.status().message();
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(world_.Restarts(id), 1) << "server " << id << " restarted once";
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(world_.QuorumPort(id), 2888) << "server " << id << "'s quorum port";
  EXPECT_EQ(world_.voters, (std::set<int>{1, 2, 3}));
  EXPECT_EQ(world_.elections, elections_before_) << "no election at any point";
  EXPECT_EQ(world_.handoffs, 1) << "the resumed step saw server 2 follow and restarted it as a follower";
}

TEST_F(ClusterActionsTest, ResumeAfterACrashBetweenTheTwoReconfigsMovesThePortBack) {
  Deployed();
  // Restarts of 1 and 3, then the old leader's: it is back on the target
  // generation, its quorum port still the hand-off one, when zkpilot dies.
  world_.CrashAfter("RestartServer", 2);
  EXPECT_THROW((void)Change(ChangeKind::kRestart, With({})), FakeCrash);
  EXPECT_EQ(world_.QuorumPort(2), 2889);
  auto r = ResumeDemo();
  ASSERT_TRUE(r.ok()) << r.status().message();
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(world_.Restarts(id), 1) << "server " << id << " restarted once";
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(world_.QuorumPort(id), 2888) << "server " << id << "'s quorum port";
  EXPECT_EQ(CallsSince({"Reconfig"}).size(), 2u) << "the hand-off and the move back, once each";
  EXPECT_EQ(world_.elections, elections_before_);
}

TEST_F(ClusterActionsTest, ResumeOfAScaleAfterACrashMidReconfigAddsEachServerOnce) {
  Deployed();
  world_.CrashAfter("Reconfig");
  EXPECT_THROW((void)Change(ChangeKind::kScale, With({"replicas=5"})), FakeCrash);
  auto r = ResumeDemo();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(CallsSince({"Reconfig"}).size(), 2u) << "server 4 was a member already: no second reconfig";
  EXPECT_EQ(world_.voters, (std::set<int>{1, 2, 3, 4, 5}));
}

// ---------------------------------------------------------------- status, history, list

TEST_F(ClusterActionsTest, StatusShowsEachServersRoleAndTheConditions) {
  Deployed();
  auto s = StatusOfDemo();
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ((*s)["status"], "deployed");
  EXPECT_EQ((*s)["healthy"], true);
  EXPECT_EQ((*s)["leader"], 2);
  EXPECT_EQ((*s)["version"], "3.8.0");
  EXPECT_EQ((*s)["package"], "mini 1.0.0");
  ASSERT_EQ((*s)["nodes"].size(), 3u);
  EXPECT_EQ((*s)["nodes"][0]["role"], "follower");
  EXPECT_EQ((*s)["nodes"][1]["role"], "leader");
  EXPECT_EQ((*s)["nodes"][0]["state"], "running");
  EXPECT_EQ((*s)["nodes"][0]["client"], "fake-1:2181");
  EXPECT_EQ((*s)["conditions"][2]["type"], "Progressing");
  EXPECT_EQ((*s)["conditions"][2]["reason"], "Idle");
  const std::string table = FormatStatus(*s, Format::kTable);
  EXPECT_TRUE(Has(table, "Cluster demo (fake, mini 1.0.0, ZooKeeper 3.8.0, revision 1, deployed)")) << table;
  EXPECT_FALSE(Has(table, "supervisor:")) << "no platform field, no line";
}

TEST_F(ClusterActionsTest, StatusShowsAnInterruptedOperationAsProgressing) {
  Deployed();
  world_.CrashAfter("RestartServer");
  EXPECT_THROW((void)Change(ChangeKind::kRestart, With({})), FakeCrash);
  auto s = StatusOfDemo();
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ((*s)["conditions"][2]["reason"], "OperationInProgress");
  EXPECT_EQ((*s)["conditions"][2]["message"], "restart: 1/5 steps done");
}

TEST_F(ClusterActionsTest, HistoryListsEachRevisionWithWhatItChanged) {
  Deployed();
  ASSERT_TRUE(Change(ChangeKind::kConfigure, With({"tickTime=3000"})).ok());
  auto h = History(*store_, "demo", Format::kJson);
  ASSERT_TRUE(h.ok()) << h.status().message();
  auto j = nlohmann::json::parse(*h);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["operation"], "deploy");
  EXPECT_EQ(j[1]["operation"], "configure");
  EXPECT_EQ(j[1]["changes"]["tickTime"]["from"], 2000);
  EXPECT_EQ(j[1]["changes"]["tickTime"]["to"], 3000);
  EXPECT_EQ(j[1]["current"], true);
  auto missing = History(*store_, "ghost", Format::kTable);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(Has(missing.status().message(), "no cluster named ghost (clusters: demo)"));
}

TEST_F(ClusterActionsTest, ListCountsEachClustersRunningServers) {
  Deployed();
  ASSERT_TRUE(PlatformFor(With({})).StopServer(2, seconds(1)).ok());
  FakePlatform& platform = PlatformFor(With({}));
  auto text = ListClusters(*store_, [&](const ClusterRecord&) { return platform.Servers(); }, Format::kJson);
  ASSERT_TRUE(text.ok()) << text.status().message();
  auto j = nlohmann::json::parse(*text);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["name"], "demo");
  EXPECT_EQ(j[0]["servers"], 3);
  EXPECT_EQ(j[0]["running"], 2);
  EXPECT_EQ(j[0]["platform"], "fake");
  EXPECT_EQ(j[0]["version"], "3.8.0");
}

}  // namespace
}  // namespace zkpilot
