// zkpilot deploy: validate, plan, start the servers, wait for quorum health,
// apply the add-ons, run the deploy hooks.
#include "actions/cluster_actions.h"
#include "actions/step_runner.h"
#include "plan/change_planner.h"
#include "plan/steps.h"
#include "platform/platform.h"
#include "util/stop_signal.h"

namespace zkpilot {
namespace {

Result<Plan> DeployPlan(Platform& platform, const DeploySpec& spec) {
  ZK_ASSIGN_OR_RETURN(auto servers, platform.Topology());
  Plan plan{"deploy", spec.name, {}};
  for (const auto& e : servers)
    plan.steps.push_back(PrepareNodeStep(e.id, {}, e.host + ":" + std::to_string(e.client_port)));
  for (const auto& e : servers) plan.steps.push_back(StartNodeStep(e.id));
  plan.steps.push_back(WaitHealthyStep(spec.timeout, std::to_string(servers.size()) + " servers in quorum"));
  const auto addons = EnabledAddons(spec.package, spec.values);
  if (!addons.empty()) plan.steps.push_back(ApplyAddonsStep(addons));
  plan.steps.push_back(RunHooksStep(HookEvent::kDeploy, HookPhase::kInit));
  plan.steps.push_back(RunHooksStep(HookEvent::kDeploy, HookPhase::kCleanup));
  return plan;
}

}  // namespace

Result<DeployResult> Deploy(ActionContext& ctx, const DeploySpec& spec) {
  const auto started = ctx.clock.Now();
  ZK_RETURN_IF_ERROR(ValidateClusterName(spec.name));
  ZK_ASSIGN_OR_RETURN(auto existing, ctx.store.GetCluster(spec.name));
  if (existing)
    return Status::InvalidInput("cluster " + spec.name + " already exists (status " + existing->status +
                                "); pick another name or run `zkpilot delete " + spec.name + "` first");
  // Everything that can be checked before touching anything (locally: every
  // file the servers and add-ons will get is rendered, ports, programs).
  ZK_RETURN_IF_ERROR(ctx.platform.Preflight());
  ZK_ASSIGN_OR_RETURN(Plan plan, DeployPlan(ctx.platform, spec));
  if (spec.values.Has("replicas") && spec.values.Get("replicas").is_number_integer())
    if (auto even = EvenReplicasWarning(spec.values.Get("replicas").get<int64_t>()); !even.empty())
      ctx.progress.Warning(even);
  DeployResult result;
  result.plan_text = plan.ToText();
  if (spec.dry_run) {
    result.dry_run = true;
    return result;
  }

  // Record, then act.
  ClusterRecord record;
  record.name = spec.name;
  record.package_dir = spec.package_source;
  record.package_name = spec.package.name;
  record.platform = ctx.platform.Name();
  record.status = ClusterStateName(ClusterState::kDeploying);
  record.home = spec.location;
  record.created_at = record.updated_at = NowMillis();
  ZK_RETURN_IF_ERROR(ctx.store.CreateCluster(record));
  RevisionRecord rev;
  rev.cluster = spec.name;
  rev.operation = "deploy";
  rev.values_json = ValuesJson(spec.values);
  rev.package_version = spec.package.version;
  rev.zk_version = spec.values.Get(spec.package.version_parameter).get<std::string>();
  rev.status = RevisionStatus::kPending;
  rev.started_at = NowMillis();
  ZK_ASSIGN_OR_RETURN(result.revision, ctx.store.AddRevision(rev));
  ZK_ASSIGN_OR_RETURN(int64_t op, JournalPlan(ctx.store, plan, result.revision));

  PlatformStepRunner runner(ctx, spec.package, spec.values, op);
  Status run = ExecutePlan(ctx.store, op, plan.steps, 0, runner, ctx.progress);
  // Stopped by a signal between two steps: what runs keeps running and the
  // operation stays unfinished, for `resume`.
  if (!run.ok() && StopSignalReceived() != 0) return run.WithContext("deploy " + spec.name);
  if (!run.ok()) {
    // Leave nothing running: a failed deploy stops its servers and add-ons.
    // The records say what happened; `zkpilot delete` removes them.
    auto stopped = ctx.platform.TearDown(/*purge_data=*/false, spec.timeout);
    (void)stopped;
    (void)ctx.store.FinishOperation(op, OperationStatus::kFailed, run.message());
    (void)ctx.store.FinishRevision(spec.name, result.revision, RevisionStatus::kFailed, run.message());
    (void)ctx.store.SetClusterStatus(spec.name, ClusterState::kFailed);
    return run.WithContext("deploy " + spec.name);
  }
  ZK_RETURN_IF_ERROR(ctx.store.FinishOperation(op, OperationStatus::kSucceeded, ""));
  ZK_RETURN_IF_ERROR(ctx.store.FinishRevision(spec.name, result.revision, RevisionStatus::kDeployed, "deployed"));
  ZK_RETURN_IF_ERROR(ctx.store.SetClusterStatus(spec.name, ClusterState::kDeployed, result.revision));
  ZK_ASSIGN_OR_RETURN(auto final_op, ctx.store.GetOperation(op));
  if (final_op)
    for (const auto& s : final_op->steps)
      if (s.name.rfind("wait until healthy", 0) == 0) result.health = s.detail;
  result.took = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock.Now() - started);
  return result;
}

}  // namespace zkpilot
