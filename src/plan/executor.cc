#include "plan/executor.h"

#include "util/stop_signal.h"

namespace zkpilot {

Status ExecutePlan(ReleaseStore& store, int64_t operation_id, const std::vector<Step>& steps, size_t first,
                   StepRunner& runner, ProgressSink& progress) {
  for (size_t i = first; i < steps.size(); ++i) {
    const Step& step = steps[i];
    // Asked to stop (util/stop_signal.h): between two steps, leaving this one
    // and the rest pending for `resume`.
    if (int sig = StopSignalReceived(); sig != 0)
      return Status::Unavailable("stopped by " + StopSignalName(sig) + " before step " + std::to_string(i + 1) + "/" +
                                 std::to_string(steps.size()) + " (" + step.description + ")");
    ZK_RETURN_IF_ERROR(store.MarkStep(operation_id, static_cast<int>(i), StepStatus::kRunning, ""));
    progress.StepStarted(i, steps.size(), step);
    auto start = std::chrono::steady_clock::now();
    auto outcome = runner.RunStep(step);
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    progress.StepFinished(i, steps.size(), step, outcome.status(), outcome.ok() ? *outcome : "", took);
    if (!outcome.ok()) {
      Status journaled = store.MarkStep(operation_id, static_cast<int>(i), StepStatus::kFailed, outcome.status().message());
      (void)journaled;  // the step's own error is the one to report
      return outcome.status().WithContext("step " + std::to_string(i + 1) + "/" + std::to_string(steps.size()) + " (" +
                                          step.description + ")");
    }
    ZK_RETURN_IF_ERROR(store.MarkStep(operation_id, static_cast<int>(i), StepStatus::kDone, *outcome));
  }
  return Status::Ok();
}

JournaledPlan FromJournal(const OperationRecord& op) {
  JournaledPlan plan;
  plan.first_unfinished = op.steps.size();
  for (size_t i = 0; i < op.steps.size(); ++i) {
    nlohmann::json spec = nlohmann::json::parse(op.steps[i].spec_json, nullptr, false);
    Step s = Step::FromJson(spec);
    if (spec.is_discarded() || !spec.is_object()) s.unknown_kind = "(unreadable step)";
    if (s.description.empty()) s.description = op.steps[i].name;
    plan.steps.push_back(s);
    if (op.steps[i].status != StepStatus::kDone && op.steps[i].status != StepStatus::kSkipped &&
        plan.first_unfinished == op.steps.size())
      plan.first_unfinished = i;
  }
  return plan;
}

Result<int64_t> JournalPlan(ReleaseStore& store, const Plan& plan, int revision) {
  OperationRecord op;
  op.cluster = plan.cluster;
  op.revision = revision;
  op.type = plan.operation;
  op.status = OperationStatus::kRunning;
  op.started_at = NowMillis();
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    StepRecord s;
    s.index = static_cast<int>(i);
    s.name = plan.steps[i].description;
    s.spec_json = plan.steps[i].ToJson().dump();
    s.status = StepStatus::kPending;
    op.steps.push_back(s);
  }
  return store.BeginOperation(op);
}

}  // namespace zkpilot
