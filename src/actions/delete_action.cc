// zkpilot delete: delete hooks, stop every server, tear down what the
// platform made (and the data with --purge-data), forget the cluster.
#include "actions/cluster_actions.h"
#include "actions/step_runner.h"
#include "plan/steps.h"

namespace zkpilot {

Result<std::string> Delete(ActionContext& ctx, const DeleteSpec& spec) {
  ZK_ASSIGN_OR_RETURN(ClusterRecord record, FindCluster(ctx.store, spec.name));
  Values values;  // for hooks' `when`
  if (spec.package) {
    ZK_ASSIGN_OR_RETURN(values, RevisionValues(ctx.store, spec.name, *spec.package));
  }

  Plan plan{"delete", spec.name, {}};
  // Init hooks need a serving ensemble; a cluster that never came up (or is
  // already stopped) skips them. Without its package, no hooks at all.
  if (spec.package && record.Is(ClusterState::kDeployed))
    plan.steps.push_back(RunHooksStep(HookEvent::kDelete, HookPhase::kInit));
  plan.steps.push_back(StopNodesStep(spec.timeout));
  if (spec.package) plan.steps.push_back(RunHooksStep(HookEvent::kDelete, HookPhase::kCleanup, {}, {}, spec.purge_data));
  plan.steps.push_back(TearDownStep(spec.purge_data, spec.timeout));
  if (spec.dry_run) return plan.ToText();

  ZK_RETURN_IF_ERROR(ctx.store.SetClusterStatus(spec.name, ClusterState::kDeleting));
  ZK_ASSIGN_OR_RETURN(int64_t op, JournalPlan(ctx.store, plan, record.current_revision));
  static const Package kNoPackage;
  PlatformStepRunner runner(ctx, spec.package ? *spec.package : kNoPackage, values, op);
  Status run = ExecutePlan(ctx.store, op, plan.steps, 0, runner, ctx.progress);
  if (!run.ok()) {
    (void)ctx.store.FinishOperation(op, OperationStatus::kFailed, run.message());
    (void)ctx.store.SetClusterStatus(spec.name, ClusterState::kDeleteFailed);
    return run.WithContext("delete " + spec.name);
  }
  // What the platform left (the data, unless purged), as the tear-down said.
  std::string left;
  ZK_ASSIGN_OR_RETURN(auto done, ctx.store.GetOperation(op));
  if (done && !done->steps.empty()) left = done->steps.back().detail;
  ZK_RETURN_IF_ERROR(ctx.store.DeleteCluster(spec.name));
  return "deleted " + spec.name + (spec.purge_data || left.empty() ? "" : "; " + left);
}

}  // namespace zkpilot
