#include "actions/kube_follow.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace zkpilot {
namespace {

using nlohmann::json;

// Records progress as the command line prints it (main.cc's format).
class RecordingProgress : public ProgressSink {
 public:
  void StepStarted(size_t index, size_t total, const Step& step) override {
    lines.push_back(fmt::format("[{}/{}] {} ...", index + 1, total, step.description));
    kinds.push_back(step.ToJson().value("kind", ""));  // as the journal spells it
  }
  void StepFinished(size_t index, size_t total, const Step&, const Status& status,
                    const std::string& outcome, std::chrono::milliseconds took) override {
    if (status.ok())
      lines.push_back(fmt::format("[{}/{}] done in {:.1f}s{}", index + 1, total,
                                  took.count() / 1000.0, outcome.empty() ? "" : ": " + outcome));
    else
      lines.push_back(fmt::format("[{}/{}] FAILED after {:.1f}s: {}", index + 1, total,
                                  took.count() / 1000.0, status.message()));
  }
  std::vector<std::string> lines;
  std::vector<std::string> kinds;
};

json Step(int index, const std::string& description, const std::string& status,
          const std::string& detail = "", int started_s = -1, int finished_s = -1) {
  json s = {{"index", index},
            {"kind", index == 0 ? "wait-healthy" : "start-node"},
            {"description", description},
            {"args", {{"node", index}}},
            {"status", status},
            {"detail", detail}};
  if (started_s >= 0) s["startedAt"] = fmt::format("2024-05-01T10:00:{:02d}Z", started_s);
  if (finished_s >= 0) s["finishedAt"] = fmt::format("2024-05-01T10:00:{:02d}Z", finished_s);
  return s;
}

// A snapshot of cluster "demo" at `generation` with `status`.
json Snapshot(int generation, json status = nullptr) {
  json j = {{"apiVersion", "zkpilot.io/v1alpha1"},
            {"kind", "ZooKeeperCluster"},
            {"metadata", {{"name", "demo"}, {"namespace", "default"}, {"generation", generation}}},
            {"spec", {{"values", {{"replicas", 3}}}}}};
  if (!status.is_null()) j["status"] = status;
  return j;
}

json Operation(int id, const std::string& type, const std::string& phase, json steps,
               const std::string& error = "") {
  return {{"id", id},       {"type", type},   {"revision", id},
          {"phase", phase}, {"error", error}, {"startedAt", "2024-05-01T10:00:00Z"},
          {"steps", steps}};
}

std::optional<FollowOutcome> Feed(OperationTracker& t, const json& snapshot) {
  return t.ObserveObject(&snapshot);
}

TEST(OperationTracker, PrintsEachStepOnceInOrderAndEndsWithTheOperation) {
  RecordingProgress progress;
  FollowTarget target;
  target.generation = 1;
  target.first_operation_id = 1;
  OperationTracker t(target, progress);
  EXPECT_FALSE(Feed(t, Snapshot(1)));  // the operator has not seen it yet
  EXPECT_FALSE(Feed(t, Snapshot(1, {{"observedGeneration", 1},
                                    {"conditions",
                                     {{{"type", "Progressing"},
                                       {"status", "True"},
                                       {"reason", "Deploying"},
                                       {"lastTransitionTime", "2024-05-01T10:00:00Z"}}}}})));
  json steps = {Step(0, "start server 1", "running", "", 0), Step(1, "start server 2", "pending"),
                Step(2, "wait until healthy: 3 servers in quorum", "pending")};
  EXPECT_FALSE(Feed(t, Snapshot(1, {{"observedGeneration", 1},
                                    {"operation", Operation(1, "deploy", "Running", steps)}})));
  // Step 1 ends, step 2 starts and ends between two snapshots, step 3 runs.
  steps = {Step(0, "start server 1", "done", "pod demo-1-0", 0, 2),
           Step(1, "start server 2", "done", "", 2, 3),
           Step(2, "wait until healthy: 3 servers in quorum", "running", "", 3)};
  EXPECT_FALSE(Feed(t, Snapshot(1, {{"observedGeneration", 1},
                                    {"operation", Operation(1, "deploy", "Running", steps)}})));
  // The same snapshot again (a watch may repeat): nothing new.
  EXPECT_FALSE(Feed(t, Snapshot(1, {{"observedGeneration", 1},
                                    {"operation", Operation(1, "deploy", "Running", steps)}})));
  steps[2] = Step(2, "wait until healthy: 3 servers in quorum", "done",
                  "healthy: leader 2, 3/3 servers in sync", 3, 15);
  auto outcome = Feed(t, Snapshot(1, {{"observedGeneration", 1},
                                      {"operation", Operation(1, "deploy", "Succeeded", steps)}}));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->kind, FollowOutcome::Kind::kSucceeded);
  EXPECT_EQ(OperationHealth(*outcome), "healthy: leader 2, 3/3 servers in sync");
  EXPECT_EQ(outcome->operation->revision, 1);
  EXPECT_EQ(progress.lines, (std::vector<std::string>{
                                "[1/3] start server 1 ...",
                                "[1/3] done in 2.0s: pod demo-1-0",
                                "[2/3] start server 2 ...",
                                "[2/3] done in 1.0s",
                                "[3/3] wait until healthy: 3 servers in quorum ...",
                                "[3/3] done in 12.0s: healthy: leader 2, 3/3 servers in sync",
                            }));
  EXPECT_EQ(progress.kinds[0], "wait-healthy");  // the step's kind reaches the sink
  EXPECT_TRUE(OutcomeStatus(*outcome, "deploy demo").ok());
}

TEST(OperationTracker, AFailedStepIsReportedAndEndsTheFollow) {
  RecordingProgress progress;
  FollowTarget target;
  target.generation = 4;
  target.first_operation_id = 3;
  OperationTracker t(target, progress);
  json steps = {Step(0, "wait until healthy", "done", "", 0, 1),
                Step(1, "restart server 1", "failed", "timed out after 60s", 1, 59)};
  auto outcome = Feed(
      t,
      Snapshot(4, {{"observedGeneration", 4},
                   {"operation", Operation(3, "upgrade", "Failed", steps,
                                           "step 2/2 (restart server 1): timed out after 60s")}}));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->kind, FollowOutcome::Kind::kFailed);
  EXPECT_EQ(outcome->message, "step 2/2 (restart server 1): timed out after 60s");
  EXPECT_EQ(progress.lines.back(), "[2/2] FAILED after 58.0s: timed out after 60s");
  Status s = OutcomeStatus(*outcome, "upgrade demo");
  EXPECT_EQ(s.code(), ErrorCode::kIOError);
  EXPECT_EQ(ExitCodeFor(s), 1);
  EXPECT_EQ(s.message(), "upgrade demo failed: step 2/2 (restart server 1): timed out after 60s");
}

TEST(OperationTracker, OlderOperationsAreNotOurs) {
  RecordingProgress progress;
  FollowTarget target;
  target.generation = 5;
  target.first_operation_id = 8;
  OperationTracker t(target, progress);
  // The previous operation (7), finished: still shown until ours starts.
  json old =
      Operation(7, "configure", "Succeeded", {Step(0, "wait until healthy", "done", "", 0, 1)});
  EXPECT_FALSE(Feed(t, Snapshot(5, {{"observedGeneration", 4}, {"operation", old}})));
  EXPECT_TRUE(progress.lines.empty());
  EXPECT_NE(t.Describe().find("has not picked up generation 5 (status.observedGeneration: 4)"),
            std::string::npos)
      << t.Describe();
  auto outcome = Feed(
      t, Snapshot(5, {{"observedGeneration", 5},
                      {"operation",
                       Operation(8, "scale", "Succeeded", {Step(0, "wait", "done", "", 0, 1)})}}));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->operation->id, 8);
}

TEST(OperationTracker, AnOperationThatCameAndWentIsFoundInTheHistory) {
  RecordingProgress progress;
  FollowTarget target;
  target.generation = 2;
  target.first_operation_id = 2;
  OperationTracker t(target, progress);
  // Ours (2) failed; the operator already started another (3) before we looked.
  json status = {
      {"observedGeneration", 2},
      {"operation", Operation(3, "configure", "Running", {Step(0, "wait", "running", "", 0)})},
      {"operations",
       {{{"id", 1}, {"type", "deploy"}, {"revision", 1}, {"phase", "Succeeded"}},
        {{"id", 2},
         {"type", "configure"},
         {"revision", 2},
         {"phase", "Failed"},
         {"error", "boom"}}}}};
  auto outcome = Feed(t, Snapshot(2, status));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->kind, FollowOutcome::Kind::kFailed);
  EXPECT_EQ(outcome->message, "boom");
  EXPECT_TRUE(progress.lines.empty());  // the steps of 3 are not ours
}

TEST(OperationTracker, TheOperatorsRefusalForOurGenerationEndsTheWait) {
  RecordingProgress progress;
  FollowTarget target;
  target.generation = 6;
  target.first_operation_id = 4;
  OperationTracker t(target, progress);
  json refused_before = {
      {"type", "Valid"},           {"status", "False"},
      {"reason", "InvalidValues"}, {"message", "old"},
      {"observedGeneration", 5},   {"lastTransitionTime", "2024-05-01T10:00:00Z"}};
  EXPECT_FALSE(Feed(t, Snapshot(6, {{"observedGeneration", 5}, {"conditions", {refused_before}}})));
  json refused = refused_before;
  refused["observedGeneration"] = 6;
  refused["reason"] = "ChangeNotAllowed";
  refused["message"] = "clientPort is immutable";
  auto outcome = Feed(t, Snapshot(6, {{"observedGeneration", 6}, {"conditions", {refused}}}));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->kind, FollowOutcome::Kind::kRejected);
  Status s = OutcomeStatus(*outcome, "configure demo");
  EXPECT_EQ(ExitCodeFor(s), 2);
  EXPECT_EQ(s.message(),
            "configure demo: the operator refused it (ChangeNotAllowed): clientPort is immutable");
  outcome->reason = "PackageNotFound";
  EXPECT_EQ(OutcomeStatus(*outcome, "x").code(), ErrorCode::kNotFound);
}

TEST(OperationTracker, NothingToDoOnlyWhenNoOperationIsRequired) {
  json idle = {{"type", "Progressing"},
               {"status", "False"},
               {"reason", "Idle"},
               {"observedGeneration", 3},
               {"lastTransitionTime", "2024-05-01T10:00:00Z"}};
  json snapshot = Snapshot(3, {{"observedGeneration", 3}, {"conditions", {idle}}});
  RecordingProgress progress;
  FollowTarget target;
  target.generation = 3;
  target.first_operation_id = 2;
  OperationTracker required(target, progress);
  EXPECT_FALSE(Feed(required, snapshot));
  target.require_operation = false;
  OperationTracker optional(target, progress);
  auto outcome = Feed(optional, snapshot);
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->kind, FollowOutcome::Kind::kNothingToDo);
}

TEST(OperationTracker, AFailureBeforeAnyOperationEndsTheWaitExceptForResume) {
  json failed = {{"type", "Progressing"},
                 {"status", "False"},
                 {"reason", "OperationFailed"},
                 {"message", "configure zk/demo: StatefulSet demo-2: spec.replicas is 0, managed by kubectl"},
                 {"observedGeneration", 5},
                 {"lastTransitionTime", "2024-05-01T10:00:00Z"}};
  RecordingProgress progress;
  FollowTarget target;
  target.generation = 5;
  target.first_operation_id = 4;
  OperationTracker change(target, progress);
  json older = failed;
  older["observedGeneration"] = 4;
  EXPECT_FALSE(Feed(change, Snapshot(5, {{"observedGeneration", 4}, {"conditions", {older}}})))
      << "an earlier generation's failure is not ours";
  auto outcome = Feed(change, Snapshot(5, {{"observedGeneration", 5}, {"conditions", {failed}}}));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->kind, FollowOutcome::Kind::kFailed);
  EXPECT_NE(outcome->message.find("managed by kubectl"), std::string::npos) << outcome->message;
  target.failure_without_operation = false;  // resume: the failure it follows the retry of
  OperationTracker resume(target, progress);
  EXPECT_FALSE(Feed(resume, Snapshot(5, {{"observedGeneration", 5}, {"conditions", {failed}}})));
}

TEST(OperationTracker, DeletingEndsWhenTheObjectIsGone) {
  RecordingProgress progress;
  FollowTarget target;
  target.until_gone = true;
  target.require_operation = false;
  target.first_operation_id = 5;
  OperationTracker t(target, progress);
  json steps = {Step(0, "run the delete init hooks", "done", "", 0, 1),
                Step(1, "stop every server", "done", "", 1, 9)};
  EXPECT_FALSE(Feed(t, Snapshot(2, {{"operation", Operation(5, "delete", "Succeeded", steps)}})));
  EXPECT_EQ(progress.lines.size(), 4u);
  EXPECT_NE(t.Describe().find("delete finished"), std::string::npos) << t.Describe();
  auto outcome = t.ObserveObject(nullptr);
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->kind, FollowOutcome::Kind::kSucceeded);

  OperationTracker waiting(target, progress);
  EXPECT_FALSE(Feed(waiting, Snapshot(2)));
  EXPECT_NE(waiting.Describe().find("removes its finalizer zkpilot.io/cleanup"), std::string::npos)
      << waiting.Describe();
}

TEST(OperationTracker, AnObjectDeletedWhileFollowingAChangeIsAFailure) {
  RecordingProgress progress;
  OperationTracker t(FollowTarget{}, progress);
  auto outcome = t.ObserveObject(nullptr);
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->kind, FollowOutcome::Kind::kFailed);
}

TEST(OperationTracker, ResumeShowsOnlyWhatIsLeft) {
  RecordingProgress progress;
  FollowTarget target;
  target.first_operation_id = 4;
  target.quiet_finished_steps = true;
  OperationTracker t(target, progress);
  json steps = {Step(0, "wait", "done", "", 0, 1), Step(1, "restart server 1", "done", "", 1, 5),
                Step(2, "restart server 2", "running", "", 5)};
  EXPECT_FALSE(Feed(t, Snapshot(3, {{"operation", Operation(4, "restart", "Running", steps)}})));
  steps[2] = Step(2, "restart server 2", "done", "back in sync", 5, 9);
  ASSERT_TRUE(Feed(t, Snapshot(3, {{"operation", Operation(4, "restart", "Succeeded", steps)}})));
  EXPECT_EQ(progress.lines, (std::vector<std::string>{"[3/3] restart server 2 ...",
                                                      "[3/3] done in 4.0s: back in sync"}));
}

TEST(OperationTracker, AnUnreadableSnapshotIsSkippedAndSaidSo) {
  RecordingProgress progress;
  FollowTarget target;
  target.generation = 1;
  OperationTracker t(target, progress);
  json bad = Snapshot(1, {{"operation", {{"id", "seven"}}}});
  EXPECT_FALSE(Feed(t, bad));
  EXPECT_NE(t.Describe().find("unreadable"), std::string::npos) << t.Describe();
}

}  // namespace
}  // namespace zkpilot
