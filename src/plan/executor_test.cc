#include "plan/executor.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include <gtest/gtest.h>

#include "plan/steps.h"
#include "state/state_store.h"
#include "util/stop_signal.h"

namespace zkpilot {
namespace {

using std::chrono::seconds;

// Runs steps from a script: outcome per description; records what ran.
class ScriptedRunner : public StepRunner {
 public:
  Result<std::string> RunStep(const Step& step) override {
    ran.push_back(step.description);
    auto it = failures.find(step.description);
    if (it != failures.end()) return it->second;
    return "ok: " + step.description;
  }
  std::vector<std::string> ran;
  std::map<std::string, Status> failures;
};

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/zkpilot-executor-test-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    auto store = StateStore::Open(dir_ + "/state.db");
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(store).value();
    ClusterRecord c;
    c.name = "demo";
    c.package_dir = "/pkg";
    c.package_name = "mini";
    c.platform = "fake";
    c.status = ClusterStateName(ClusterState::kDeploying);
    ASSERT_TRUE(store_->CreateCluster(c).ok());
    plan_ = Plan{"deploy", "demo", {PrepareNodeStep(1), StartNodeStep(1), WaitHealthyStep(seconds(5), "1 server")}};
    auto op = JournalPlan(*store_, plan_, 1);
    ASSERT_TRUE(op.ok()) << op.status().message();
    op_ = *op;
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  OperationRecord Journal() {
    auto op = store_->GetOperation(op_);
    EXPECT_TRUE(op.ok() && *op);
    return op.ok() && *op ? **op : OperationRecord{};
  }

  std::string dir_;
  std::unique_ptr<StateStore> store_;
  Plan plan_;
  int64_t op_ = 0;
  NullProgress progress_;
};

TEST_F(ExecutorTest, JournalsTheWholePlanPendingThenEachStepDoneWithItsOutcome) {
  OperationRecord before = Journal();
  ASSERT_EQ(before.steps.size(), 3u);
  for (const auto& s : before.steps) EXPECT_EQ(s.status, StepStatus::kPending);
  EXPECT_EQ(nlohmann::json::parse(before.steps[0].spec_json)["kind"], "prepare-node");

  ScriptedRunner runner;
  ASSERT_TRUE(ExecutePlan(*store_, op_, plan_.steps, 0, runner, progress_).ok());
  OperationRecord after = Journal();
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(after.steps[i].status, StepStatus::kDone) << i;
    EXPECT_EQ(after.steps[i].detail, "ok: " + plan_.steps[i].description);
  }
}

TEST_F(ExecutorTest, StopsAtTheFirstFailureNamingTheStep) {
  ScriptedRunner runner;
  runner.failures[plan_.steps[1].description] = Status::IOError("no supervisor");
  Status s = ExecutePlan(*store_, op_, plan_.steps, 0, runner, progress_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "step 2/3 (start server 1): no supervisor");
  EXPECT_EQ(runner.ran.size(), 2u) << "nothing runs after a failed step";
  OperationRecord after = Journal();
  EXPECT_EQ(after.steps[0].status, StepStatus::kDone);
  EXPECT_EQ(after.steps[1].status, StepStatus::kFailed);
  EXPECT_EQ(after.steps[1].detail, "no supervisor");
  EXPECT_EQ(after.steps[2].status, StepStatus::kPending);
}

// A signal during a step (util/stop_signal.h): the step finishes, nothing
// more starts, and the journal leaves the rest pending for `resume`.
TEST_F(ExecutorTest, AStopSignalEndsThePlanAtTheNextStepBoundary) {
  class SignalledRunner : public ScriptedRunner {
   public:
    Result<std::string> RunStep(const Step& step) override {
      if (ran.empty()) SetStopSignalForTesting(SIGINT);  // arrives during the first step
      return ScriptedRunner::RunStep(step);
    }
  } runner;
  Status s = ExecutePlan(*store_, op_, plan_.steps, 0, runner, progress_);
  SetStopSignalForTesting(0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "stopped by SIGINT before step 2/3 (start server 1)");
  EXPECT_EQ(runner.ran.size(), 1u);
  OperationRecord after = Journal();
  EXPECT_EQ(after.steps[0].status, StepStatus::kDone) << "the step that ran finished";
  EXPECT_EQ(after.steps[1].status, StepStatus::kPending);
  EXPECT_EQ(after.steps[2].status, StepStatus::kPending);
  EXPECT_EQ(FromJournal(after).first_unfinished, 1u);
}

TEST_F(ExecutorTest, ResumesAtTheFirstStepNotDone) {
  // A zkpilot killed during step 2 left it running.
  ASSERT_TRUE(store_->MarkStep(op_, 0, StepStatus::kDone, "").ok());
  ASSERT_TRUE(store_->MarkStep(op_, 1, StepStatus::kRunning, "").ok());
  JournaledPlan journaled = FromJournal(Journal());
  EXPECT_EQ(journaled.first_unfinished, 1u);
  ASSERT_EQ(journaled.steps.size(), 3u);
  EXPECT_EQ(journaled.steps[1].kind, StepKind::kStartNode);
  EXPECT_EQ(journaled.steps[1].Node(), 1);

  ScriptedRunner runner;
  ASSERT_TRUE(ExecutePlan(*store_, op_, journaled.steps, journaled.first_unfinished, runner, progress_).ok());
  EXPECT_EQ(runner.ran, (std::vector<std::string>{"start server 1", plan_.steps[2].description}));
  for (const auto& s : Journal().steps) EXPECT_EQ(s.status, StepStatus::kDone);
}

TEST(StepJournal, KindsKeepTheirJournalNames) {
  const std::vector<std::pair<Step, std::string>> cases = {
      {PrepareNodeStep(1), "prepare-node"},
      {StartNodeStep(1), "start-node"},
      {WaitHealthyStep(seconds(1), "x"), "wait-healthy"},
      {RunHooksStep(HookEvent::kDeploy, HookPhase::kInit), "run-hooks"},
      {StopNodesStep(seconds(1)), "stop-nodes"},
      {RestartNodeStep(2, 3, "follower", seconds(1)), "restart-node"},
      {ReconfigAddStep(4), "reconfig-add"},
      {ReconfigRemoveStep(4), "reconfig-remove"},
      {StopNodeStep(4, seconds(1)), "stop-node"},
      {ApplyAddonsStep(), "apply-addons"},
      {ForgetNodeStep(4), "forget-node"},
      {TearDownStep(true, seconds(1)), "tear-down"},
  };
  for (const auto& [step, name] : cases) {
    nlohmann::json j = step.ToJson();
    EXPECT_EQ(j["kind"], name);
    Step back = Step::FromJson(j);
    EXPECT_EQ(back.kind, step.kind) << name;
    EXPECT_EQ(back.args, step.args) << name;
    EXPECT_EQ(back.description, step.description) << name;
  }
}

TEST(StepJournal, AJournalOfAnOlderVersionReadsBack) {
  // As zkpilot 0.1 journaled a roll step.
  Step s = Step::FromJson(nlohmann::json::parse(
      R"({"kind":"restart-node","args":{"node":2,"generation":1,"timeout_ms":120000},"description":"restart server 2"})"));
  EXPECT_EQ(s.kind, StepKind::kRestartNode);
  EXPECT_EQ(s.Node(), 2);
  EXPECT_EQ(s.args["generation"], 1);
}

TEST(StepJournal, AnUnknownKindIsInvalidAndKeepsItsName) {
  Step s = Step::FromJson({{"kind", "defragment-node"}, {"args", {{"node", 1}}}, {"description", "defragment"}});
  EXPECT_EQ(s.kind, StepKind::kInvalid);
  EXPECT_EQ(s.KindName(), "defragment-node");
  EXPECT_EQ(s.ToJson()["kind"], "defragment-node") << "written back as it was read";

  OperationRecord op;
  op.steps.push_back({0, "garbled", "{not json", StepStatus::kPending, "", 0, 0});
  JournaledPlan plan = FromJournal(op);
  ASSERT_EQ(plan.steps.size(), 1u);
  EXPECT_EQ(plan.steps[0].kind, StepKind::kInvalid);
  EXPECT_EQ(plan.steps[0].description, "garbled");
}

}  // namespace
}  // namespace zkpilot
