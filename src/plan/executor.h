// Executor: runs a Plan's steps in order, journaling each one.
//
// Before a step runs it is marked `running` in the release store, after it
// `done` or `failed` (with the error). A zkpilot killed mid-step leaves that
// step `running`; resuming starts again at the first step that is not `done`
// (steps are written to be safe to run twice). Execution stops at the first
// failure and returns its error, prefixed with the step.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "plan/plan.h"
#include "state/release_store.h"
#include "util/status.h"

namespace zkpilot {

// Carries out steps (actions/step_runner.h runs them on a Platform; tests
// may script one).
class StepRunner {
 public:
  virtual ~StepRunner() = default;
  // Returns a short outcome ("pid 4242", "healthy: leader 2, 3/3 in sync").
  virtual Result<std::string> RunStep(const Step& step) = 0;
};

// Shows progress to a person (the CLI prints lines to stderr).
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual void StepStarted(size_t index, size_t total, const Step& step) = 0;
  virtual void StepFinished(size_t index, size_t total, const Step& step, const Status& status,
                            const std::string& outcome, std::chrono::milliseconds took) = 0;
  // Something the person running the command should know that is not an
  // error (an even number of servers), said before anything is done.
  virtual void Warning(const std::string& /*message*/) {}
};

class NullProgress : public ProgressSink {
 public:
  void StepStarted(size_t, size_t, const Step&) override {}
  void StepFinished(size_t, size_t, const Step&, const Status&, const std::string&, std::chrono::milliseconds) override {}
};

// Runs steps[first..] of the journaled operation `operation_id`.
Status ExecutePlan(ReleaseStore& store, int64_t operation_id, const std::vector<Step>& steps, size_t first,
                   StepRunner& runner, ProgressSink& progress);

// The journal's view of a plan: the steps and the index of the first one not done.
struct JournaledPlan {
  std::vector<Step> steps;
  size_t first_unfinished = 0;
};
JournaledPlan FromJournal(const OperationRecord& op);

// Stores a new operation with every step pending; returns its id.
Result<int64_t> JournalPlan(ReleaseStore& store, const Plan& plan, int revision);

}  // namespace zkpilot
