#include "actions/step_runner.h"

#include <gtest/gtest.h>

#include "actions/action_test_util.h"
#include "actions/observe.h"
#include "plan/steps.h"

namespace zkpilot {
namespace {

using std::chrono::seconds;

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class StepRunnerTest : public testing::ActionTest {
 protected:
  void SetUp() override {
    testing::ActionTest::SetUp();
    values_ = With({});
    platform_ = &PlatformFor(values_);
    ctx_ = std::make_unique<ActionContext>(Context(*platform_));
    ClusterRecord c;
    c.name = "demo";
    c.status = ClusterStateName(ClusterState::kDeployed);
    ASSERT_TRUE(store_->CreateCluster(c).ok());
    auto op = JournalPlan(*store_, Plan{"test", "demo", {}}, 0);  // hook runs belong to an operation
    ASSERT_TRUE(op.ok()) << op.status().message();
    op_ = *op;
    runner_ = std::make_unique<PlatformStepRunner>(*ctx_, package_, values_, op_);
  }

  Result<std::string> Run(const Step& step) { return runner_->RunStep(step); }

  // Servers 1..3 configured and running; server 2 leads (elected once 1 and 2 ran).
  void StartEnsemble() {
    for (int id = 1; id <= 3; ++id) ASSERT_TRUE(Run(PrepareNodeStep(id)).ok());
    for (int id = 1; id <= 3; ++id) ASSERT_TRUE(Run(StartNodeStep(id)).ok());
    ASSERT_EQ(world_.leader, 2);
  }

  Values values_;
  FakePlatform* platform_ = nullptr;
  std::unique_ptr<ActionContext> ctx_;
  std::unique_ptr<PlatformStepRunner> runner_;
  int64_t op_ = 0;
};

TEST_F(StepRunnerTest, WaitHealthyReturnsTheSummaryOnceEveryServerFollowsOneLeader) {
  StartEnsemble();
  auto r = Run(WaitHealthyStep(seconds(10), "3 servers"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(*r, "healthy: leader 2, 3/3 servers in sync");
}

TEST_F(StepRunnerTest, WaitHealthyGivesUpAtItsDeadlineOnTheClockWithTheLogs) {
  StartEnsemble();
  ASSERT_TRUE(platform_->StopServer(1, seconds(1)).ok());
  const auto before = clock_.Now();
  auto r = Run(WaitHealthyStep(seconds(120), "3 servers"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(r.status().message(), "not healthy after 120s: degraded: leader 2, 2/3 servers in sync"))
      << r.status().message();
  EXPECT_TRUE(Has(r.status().message(), "the end of server 1's log:\nthe last lines of server 1's log"));
  EXPECT_GE(clock_.Now() - before, seconds(120)) << "the wait is measured on the context's clock";
}

TEST_F(StepRunnerTest, WaitHealthyFailsFastWhenAServerKeepsExiting) {
  for (int id = 1; id <= 3; ++id) ASSERT_TRUE(Run(PrepareNodeStep(id)).ok());
  world_.NeverComesBack(2);
  for (int id = 1; id <= 3; ++id) ASSERT_TRUE(Run(StartNodeStep(id)).ok());
  const auto before = clock_.Now();
  auto r = Run(WaitHealthyStep(seconds(120), "3 servers"));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(r.status().message(), "server 2 keeps exiting (exited with 1, 2 times); the end of its log "
                                        "fake log of server 2:\nthe last lines of server 2's log"))
      << r.status().message();
  EXPECT_LT(clock_.Now() - before, seconds(120)) << "a crash loop is not waited out";
}

TEST_F(StepRunnerTest, WaitHealthyAcceptsTheServersAboutToBeRepairedWhenTheOthersHaveQuorum) {
  StartEnsemble();
  ASSERT_TRUE(platform_->StopServer(1, seconds(1)).ok());
  auto r = Run(WaitHealthyStep(seconds(10), "gate", {}, {1}));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(Has(*r, "(enough: the others are about to restart)")) << *r;
}

TEST_F(StepRunnerTest, RestartAsksForTheGenerationOnceAndWaitsUntilBackInSync) {
  StartEnsemble();
  const Step restart = RestartNodeStep(1, 1, "follower", seconds(10));
  auto first = Run(restart);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(*first, "instance 2; healthy: leader 2, 3/3 servers in sync");
  // The same step again (a resumed plan): the server runs generation 1 already.
  auto again = Run(restart);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(world_.Calls("RestartServer"), (std::vector<std::string>{"RestartServer(1, 1)"}));
  EXPECT_EQ(world_.Restarts(1), 1);
  EXPECT_EQ(world_.Restarts(2), 0);
}

TEST_F(StepRunnerTest, RestartEndsOnlyOnceTheLeaderCountsEveryFollowerInSync) {
  StartEnsemble();
  world_.unsynced_polls = 3;  // srvr says in sync; the leader's mntr lags three readings
  auto r = Run(RestartNodeStep(1, 1, "follower", seconds(10)));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(world_.unsynced_polls, 0);
  EXPECT_EQ(world_.Calls("SyncedFollowers").size(), 4u);
  EXPECT_EQ(world_.Calls("SyncedFollowers").back(), "SyncedFollowers(2)") << "asked of the leader";

  // A leader that never counts it: the step fails at its deadline, saying so.
  world_.unsynced_polls = 1000000;
  auto stuck = Run(RestartNodeStep(3, 1, "follower", seconds(10)));
  ASSERT_FALSE(stuck.ok());
  EXPECT_TRUE(Has(stuck.status().message(), "not every follower in sync with the leader after 10s: "
                                            "the leader counts 1 of its 2 followers in sync"))
      << stuck.status().message();
}

TEST_F(StepRunnerTest, WithoutTheLeadersCountARestartSaysSoAndEnds) {
  StartEnsemble();
  world_.FailAfter("SyncedFollowers", 0,
                   Status::IOError("127.0.0.1:2181: mntr: refused: the command is not in the server's "
                                   "4lw.commands.whitelist"));
  auto r = Run(RestartNodeStep(1, 1, "follower", seconds(10)));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(Has(*r, "the leader's count of synced followers is unknown")) << *r;
}

TEST_F(StepRunnerTest, AFailedReadingOfTheLeadersCountIsTriedAgainNotTakenAsAnAnswer) {
  StartEnsemble();
  world_.FailNext("SyncedFollowers", Status::IOError("127.0.0.1:2181: could not connect (refused or unreachable)"));
  world_.FailNext("SyncedFollowers", Status::NotFound("server 2 does not lead"));
  auto r = Run(RestartNodeStep(1, 1, "follower", seconds(10)));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(Has(*r, "unknown")) << *r;
  EXPECT_EQ(world_.Calls("SyncedFollowers").size(), 3u);
}

TEST_F(StepRunnerTest, RestartNeverTakesAServerDownWhileAnotherIsUnhealthy) {
  StartEnsemble();
  ASSERT_TRUE(platform_->StopServer(3, seconds(1)).ok());
  auto r = Run(RestartNodeStep(1, 1, "follower", seconds(10)));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(r.status().message(), "not restarting server 1: the ensemble is not healthy")) << r.status().message();
  EXPECT_TRUE(world_.Calls("RestartServer").empty());
}

TEST_F(StepRunnerTest, RestartOfAServerThatCannotStartFailsWithItsLog) {
  StartEnsemble();
  world_.NeverComesBack(1);
  auto r = Run(RestartNodeStep(1, 1, "follower", seconds(10)));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(r.status().message(), "server 1 keeps exiting after its restart (exited with 1); the end of its log"))
      << r.status().message();
}

TEST_F(StepRunnerTest, HandOffNamesASuccessorWithoutAnElectionThenRestartsTheOldLeader) {
  StartEnsemble();
  const int elections = world_.elections;
  auto r = Run(HandOffLeaderStep(2, 1, seconds(30)));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(Has(*r, "server 3 leads (hand-off in")) << *r;
  EXPECT_EQ(world_.handoffs, 1);
  EXPECT_EQ(world_.elections, elections) << "no election";
  EXPECT_EQ(world_.leader, 3);
  EXPECT_EQ(world_.Restarts(2), 1);
  // While the old leader restarts, its quorum port moves back, through the
  // other servers (it is down).
  EXPECT_TRUE(Has(*r, "quorum port 2889 -> 2888")) << *r;
  EXPECT_EQ(world_.QuorumPort(2), 2888);
  EXPECT_EQ(world_.leader, 3) << "moving a follower's quorum port changes no leader";
  EXPECT_EQ(world_.Calls("Reconfig"),
            (std::vector<std::string>{"Reconfig(+server.2=fake-2:2889:3888:participant;0.0.0.0:2181, -)",
                                      "Reconfig(+server.2=fake-2:2888:3888:participant;0.0.0.0:2181, -)"}));
  EXPECT_EQ(world_.Calls("OpenZkSession").back(), "OpenZkSession([1,3])");

  // The step that follows finds it done.
  auto again = Run(RestoreQuorumPortStep(2, seconds(30)));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, "already on its quorum port");
  EXPECT_EQ(world_.Calls("Reconfig").size(), 2u);
}

TEST_F(StepRunnerTest, WhenTheEarlyMoveBackFailsTheRestoreStepMovesTheQuorumPortBack) {
  StartEnsemble();
  world_.FailNext("Reconfig", Status::Ok());  // the hand-off itself
  world_.FailNext("Reconfig", Status::Unavailable("ZRECONFIGINPROGRESS"));
  auto r = Run(HandOffLeaderStep(2, 1, seconds(30)));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(Has(*r, "server 3 leads (hand-off in")) << *r;
  EXPECT_FALSE(Has(*r, "quorum port")) << *r;
  EXPECT_EQ(world_.QuorumPort(2), 2889);

  auto back = Run(RestoreQuorumPortStep(2, seconds(30)));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(Has(*back, "quorum port 2889 -> 2888")) << *back;
  EXPECT_EQ(world_.QuorumPort(2), 2888);
  EXPECT_EQ(world_.leader, 3);
}

TEST_F(StepRunnerTest, HandOffFallsBackToALeaderLastRestartWhenReconfigIsDisabled) {
  StartEnsemble();
  world_.reconfig_enabled = false;
  const int elections = world_.elections;
  auto r = Run(HandOffLeaderStep(2, 1, seconds(30)));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(Has(*r, "no hand-off (reconfiguration is disabled on this ensemble (reconfigEnabled=false)), "
                      "restarted as the leader: one election"))
      << *r;
  EXPECT_EQ(world_.handoffs, 0);
  EXPECT_EQ(world_.elections, elections + 1);
  EXPECT_EQ(world_.Restarts(2), 1);
}

TEST_F(StepRunnerTest, AHandOffOfAServerThatNoLongerLeadsRestartsItAsAFollower) {
  StartEnsemble();
  auto r = Run(HandOffLeaderStep(1, 1, seconds(30)));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(Has(*r, "server 1 no longer leads (server 2 does): restarted as a follower")) << *r;
  EXPECT_TRUE(world_.Calls("Reconfig").empty());
  EXPECT_EQ(world_.Restarts(1), 1);
  auto again = Run(HandOffLeaderStep(1, 1, seconds(30)));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(world_.Restarts(1), 1) << "generation 1 runs: not restarted twice";
}

TEST_F(StepRunnerTest, ReconfigAddsAndRemovesVotersOnceEach) {
  StartEnsemble();
  // Scaling to 4: the platform and runner of the target values.
  Values four = With({"replicas=4"});
  ActionContext ctx = Context(PlatformFor(four));
  PlatformStepRunner scaling(ctx, package_, four, op_);
  auto Run = [&](const Step& step) { return scaling.RunStep(step); };
  ASSERT_TRUE(Run(PrepareNodeStep(4, {1, 2, 3, 4})).ok());
  ASSERT_TRUE(Run(StartNodeStep(4, true)).ok());
  auto added = Run(ReconfigAddStep(4));
  ASSERT_TRUE(added.ok()) << added.status().message();
  EXPECT_EQ(*added, "added; 4 voters, config version 4294967297");
  EXPECT_EQ(world_.voters, (std::set<int>{1, 2, 3, 4}));
  auto again = Run(ReconfigAddStep(4));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, "already a member");
  EXPECT_EQ(world_.Calls("Reconfig"), (std::vector<std::string>{
                                          "Reconfig(+server.4=fake-4:2888:3888:participant;0.0.0.0:2181, -)"}));
  EXPECT_EQ(world_.Calls("OpenZkSession")[0], "OpenZkSession([1,2,3])") << "the session goes to the members before";

  ASSERT_TRUE(Run(ReconfigRemoveStep(4)).ok());
  EXPECT_EQ(world_.voters, (std::set<int>{1, 2, 3}));
  auto removed = Run(ReconfigRemoveStep(4));
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, "already removed");
}

// A TLS-only ensemble's server lines carry no client address (its client
// ports are secure ones): a joining server's line has none either, stated
// with the whole membership (ZooKeeper refuses it in an incremental reconfig).
TEST_F(StepRunnerTest, ReconfigAddsAServerInTheMembersFormWithoutAClientAddress) {
  StartEnsemble();
  world_.client_addresses = false;
  Values four = With({"replicas=4"});
  ActionContext ctx = Context(PlatformFor(four));
  PlatformStepRunner scaling(ctx, package_, four, op_);
  ASSERT_TRUE(scaling.RunStep(PrepareNodeStep(4, {1, 2, 3, 4})).ok());
  ASSERT_TRUE(scaling.RunStep(StartNodeStep(4, true)).ok());
  auto added = scaling.RunStep(ReconfigAddStep(4));
  ASSERT_TRUE(added.ok()) << added.status().message();
  EXPECT_TRUE(world_.Calls("Reconfig").empty()) << "an incremental reconfig refuses a line without a client address";
  EXPECT_EQ(world_.Calls("SetMembers"),
            (std::vector<std::string>{"SetMembers(server.1=fake-1:2888:3888:participant,server.2=fake-2:2888:3888:"
                                      "participant,server.3=fake-3:2888:3888:participant,server.4=fake-4:2888:3888:"
                                      "participant)"}));
  EXPECT_EQ(world_.voters, (std::set<int>{1, 2, 3, 4}));
}

TEST_F(StepRunnerTest, HooksRunZnodeAndFileActionsAndRecordEveryStep) {
  StartEnsemble();
  auto init = Run(RunHooksStep(HookEvent::kDeploy, HookPhase::kInit));
  ASSERT_TRUE(init.ok()) << init.status().message();
  EXPECT_EQ(*init, "deploy.init: 1 steps ran, 1 skipped") << "extra-root waits for extra.enabled";
  EXPECT_TRUE(world_.znodes.count("/app"));
  EXPECT_FALSE(world_.znodes.count("/extra"));
  auto cleanup = Run(RunHooksStep(HookEvent::kDeploy, HookPhase::kCleanup));
  ASSERT_TRUE(cleanup.ok()) << cleanup.status().message();
  EXPECT_EQ(world_.Calls("RunFileAction"),
            (std::vector<std::string>{"RunFileAction(1, remove-files)", "RunFileAction(2, remove-files)",
                                      "RunFileAction(3, remove-files)"}));
  auto runs = store_->ListHookRuns(op_);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 3u);
  EXPECT_EQ((*runs)[0].step, "root");
  EXPECT_EQ((*runs)[0].status, "ok");
  EXPECT_EQ((*runs)[1].status, "skipped");
  EXPECT_EQ((*runs)[2].message, "server 1: remove-files done; server 2: remove-files done; server 3: remove-files done");
}

TEST_F(StepRunnerTest, RemoveNodeDataRemovesNothingWithoutPurge) {
  StartEnsemble();
  ASSERT_TRUE(Run(RunHooksStep(HookEvent::kDelete, HookPhase::kCleanup)).ok());
  EXPECT_TRUE(world_.Calls("RunFileAction").empty());
  ASSERT_TRUE(Run(RunHooksStep(HookEvent::kDelete, HookPhase::kCleanup, {}, {2}, true)).ok());
  EXPECT_EQ(world_.Calls("RunFileAction"), (std::vector<std::string>{"RunFileAction(2, remove-node-data)"}));
  EXPECT_FALSE(world_.servers[2].has_data);
  EXPECT_TRUE(world_.servers[1].has_data);
}

TEST_F(StepRunnerTest, AFailingHookStepFailsTheHookWithItsError) {
  StartEnsemble();
  world_.FailNext("CreateNode", Status::IOError("create /app: not authenticated (ZNOAUTH)"));
  auto r = Run(RunHooksStep(HookEvent::kDeploy, HookPhase::kInit));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "hook deploy.init step root (create-znode): create /app: not authenticated (ZNOAUTH)");
}

TEST_F(StepRunnerTest, AnUnknownKindFailsNamingIt) {
  Step s = Step::FromJson({{"kind", "defragment-node"}, {"args", {{"node", 1}}}});
  auto r = Run(s);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(r.status().message(), "step kind \"defragment-node\" is not one this version of zkpilot knows"))
      << r.status().message();
  EXPECT_TRUE(world_.Calls().empty()) << "nothing was asked of the platform";
}

TEST_F(StepRunnerTest, PlatformErrorsComeBackAsTheStepsError) {
  world_.FailNext("ApplyServerConfig", Status::PermissionDenied("cannot patch statefulsets"));
  auto r = Run(PrepareNodeStep(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(r.status().message(), "cannot patch statefulsets");
}

}  // namespace
}  // namespace zkpilot

namespace zkpilot {
namespace {

// The fake keeps the render of each server's last ApplyServerConfig
// (last_render), and reports its stages as observed only from its next
// start, as the local supervisor does.
TEST_F(StepRunnerTest, FakePlatformObservesARenderedStageFromTheNextStart) {
  StartEnsemble();
  auto view = ObserveEnsembleView(*platform_);
  ASSERT_TRUE(view.ok()) << view.status().message();
  EXPECT_EQ(view->tls_stages, (std::map<int, int>{{1, 0}, {2, 0}, {3, 0}}));
  EXPECT_EQ(view->quorum_auth_stages, (std::map<int, int>{{1, 0}, {2, 0}, {3, 0}}));
  EXPECT_EQ(platform_->last_render(2), ServerRender{});

  const ServerRender open{TlsStage::kOpen, std::nullopt, 1};
  ASSERT_TRUE(platform_->ApplyServerConfig(2, {}, open).ok());
  EXPECT_EQ(platform_->last_render(2), open);
  view = ObserveEnsembleView(*platform_);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->tls_stages.at(2), 0) << "prepared, not running yet";
  ASSERT_TRUE(platform_->RestartServer(2, view->generations.at(2) + 1).ok());
  view = ObserveEnsembleView(*platform_);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->tls_stages, (std::map<int, int>{{1, 0}, {2, 1}, {3, 0}}));
  EXPECT_EQ(view->quorum_auth_stages.at(2), 1);
}

}  // namespace
}  // namespace zkpilot
