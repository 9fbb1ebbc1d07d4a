// PlatformStepRunner: carries out every kind of step (plan/plan.h StepKind)
// on any platform, using only the Platform interface, the ReleaseStore and
// the Clock. What makes zkpilot safe is here, once:
//
//   wait-healthy     observe (actions/observe.h) until every server is in sync
//                    with one leader; fail fast when a server keeps exiting
//                    (ServerState::restarts), with the end of its log
//   restart-node     unless the server already runs the step's generation:
//                    wait until every *other* server is healthy, ask for the
//                    generation (Platform::RestartServer), wait until it runs;
//                    then wait until it is back in sync. A resumed step never
//                    restarts a server twice
//   reconfig-add/-remove  dynamic reconfiguration through a ZooKeeper
//                    session; skipped when already done
//   run-hooks        the package's hooks (actions/hooks.h)
//   stop-nodes       every server, one after the other
// The other kinds are platform primitives (prepare-node → ApplyServerConfig,
// start-node, stop-node, forget-node, apply-addons, tear-down). An unknown
// kind (kInvalid) fails, naming it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "actions/action_context.h"
#include "package/package.h"
#include "plan/executor.h"
#include "platform/platform.h"
#include "values/values.h"

namespace zkpilot {

struct StepRunnerOptions {
  std::chrono::milliseconds poll{100};  // between two observations of a wait
  int crash_loop_exits = 2;             // exits during a wait that make a server broken, not slow
  int log_tail_lines = 25;              // of a broken server's log, in the error
};

class PlatformStepRunner : public StepRunner {
 public:
  // `values` are the target values (hooks' `when`); hook runs are recorded
  // under `operation_id`. REQUIRES: ctx, package and values outlive the runner.
  PlatformStepRunner(ActionContext& ctx, const Package& package, const Values& values, int64_t operation_id,
                     StepRunnerOptions options = {});

  Result<std::string> RunStep(const Step& step) override;

  // Until the servers of `members` (every known server when empty) are in
  // sync with one leader; servers of `except` may be unhealthy while the
  // others are healthy and there is quorum. Returns the health summary.
  Result<std::string> WaitHealthy(std::chrono::milliseconds timeout, const std::vector<int>& members = {},
                                  const std::vector<int>& except = {});
  // Stops every server the platform knows.
  Result<std::string> StopAll(std::chrono::milliseconds timeout);

 private:
  Result<std::string> Restart(int id, int64_t generation, std::chrono::milliseconds timeout);
  Result<std::string> Reconfig(int id, bool add);
  Result<std::string> Hooks(const Step& step);
  Result<ServerState> Server(int id);
  Result<std::vector<int>> KnownServers();  // the target's and the platform's, ascending
  std::string LogEnd(const ServerState& server, int lines);

  ActionContext& ctx_;
  const Package& package_;
  const Values& values_;
  int64_t operation_id_;
  StepRunnerOptions options_;
};

}  // namespace zkpilot
