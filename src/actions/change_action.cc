// zkpilot configure / upgrade / rollback / restart / scale / resume: change a
// running ensemble through a journaled plan, never losing quorum.
#include <algorithm>

#include "actions/cluster_actions.h"
#include "actions/observe.h"
#include "actions/step_runner.h"
#include "plan/change_planner.h"
#include "plan/steps.h"
#include "util/stop_signal.h"

namespace zkpilot {
namespace {

// Records the outcome of an executed operation: revision, operation, cluster.
// A failed operation leaves the cluster `failed_state`.
Status Finish(ReleaseStore& store, const std::string& name, int64_t op, int revision, const Status& run,
              ClusterState failed_state = ClusterState::kUpdateFailed) {
  // Stopped by a signal between two steps: the operation stays unfinished
  // (the cluster `updating`), for `resume`.
  if (!run.ok() && StopSignalReceived() != 0) return run;
  if (!run.ok()) {
    (void)store.FinishOperation(op, OperationStatus::kFailed, run.message());
    (void)store.FinishRevision(name, revision, RevisionStatus::kFailed, run.message());
    (void)store.SetClusterStatus(name, failed_state);
    return run;
  }
  ZK_ASSIGN_OR_RETURN(auto record, store.GetCluster(name));
  ZK_RETURN_IF_ERROR(store.FinishOperation(op, OperationStatus::kSucceeded, ""));
  if (record && record->current_revision > 0 && record->current_revision != revision) {
    ZK_ASSIGN_OR_RETURN(auto previous, store.GetRevision(name, record->current_revision));
    ZK_RETURN_IF_ERROR(store.FinishRevision(name, record->current_revision, RevisionStatus::kSuperseded,
                                            previous ? previous->message : ""));
  }
  ZK_ASSIGN_OR_RETURN(auto finished, store.GetRevision(name, revision));
  ZK_RETURN_IF_ERROR(store.FinishRevision(name, revision, RevisionStatus::kDeployed, finished ? finished->message : ""));
  return store.SetClusterStatus(name, ClusterState::kDeployed, revision);
}

std::string LastHealth(ReleaseStore& store, int64_t op) {
  auto o = store.GetOperation(op);
  std::string health;
  if (o.ok() && *o)
    for (const auto& s : (*o)->steps)
      if (s.status == StepStatus::kDone && s.detail.find("healthy: ") != std::string::npos)
        health = s.detail.substr(s.detail.find("healthy: "));
  return health;
}

bool Contains(const std::vector<int>& ids, int id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

}  // namespace

const char* ChangeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kConfigure: return "configure";
    case ChangeKind::kUpgrade: return "upgrade";
    case ChangeKind::kRollback: return "rollback";
    case ChangeKind::kRestart: return "restart";
    case ChangeKind::kScale: return "scale";
  }
  return "change";
}

Result<Values> TargetValues(ReleaseStore& store, const Package& package, const ChangeRequest& req) {
  ZK_ASSIGN_OR_RETURN(ClusterRecord record, FindCluster(store, req.name));
  ZK_ASSIGN_OR_RETURN(Values current, RevisionValues(store, req.name, package));
  const int current_revision = record.current_revision;
  ValuesInput in;
  in.files = {{"current values (revision " + std::to_string(current_revision) + ")", ValuesJson(current)}};
  switch (req.kind) {
    case ChangeKind::kConfigure: {
      ZK_ASSIGN_OR_RETURN(ValuesInput user, ReadValuesInput(req.values));
      in.files.insert(in.files.end(), user.files.begin(), user.files.end());
      in.sets = user.sets;
      if (in.sets.empty() && user.files.empty()) return Status::InvalidInput("configure: nothing to change (use --set k=v or -f FILE)");
      break;
    }
    case ChangeKind::kUpgrade:
      in.sets = {package.version_parameter + "=" + req.version};
      break;
    case ChangeKind::kScale:
      in.sets = {"replicas=" + std::to_string(req.replicas)};
      break;
    case ChangeKind::kRestart:
      break;
    case ChangeKind::kRollback: {
      ZK_ASSIGN_OR_RETURN(auto revisions, store.ListRevisions(req.name));
      // After a failed change, rolling back means returning every server to
      // the current revision.
      if (req.to_revision == 0 && record.Is(ClusterState::kUpdateFailed)) return current;
      const RevisionRecord* target = nullptr;
      for (const auto& r : revisions) {
        if (req.to_revision > 0 ? r.revision == req.to_revision
                                : (r.revision < current_revision &&
                                   (r.status == RevisionStatus::kDeployed || r.status == RevisionStatus::kSuperseded)))
          target = &r;
      }
      if (!target)
        return Status::InvalidInput(req.to_revision > 0 ? "no revision " + std::to_string(req.to_revision) + " of " + req.name
                                                        : req.name + " has no earlier revision to roll back to");
      if (target->revision == current_revision)
        return Status::InvalidInput("revision " + std::to_string(target->revision) + " is the current one");
      return ValuesOfRevision(package, *target);
    }
  }
  auto values = ResolveValues(package.schema, in);
  if (!values.ok()) return values.status().WithContext(ChangeKindName(req.kind));
  return values;
}

Result<ChangeResult> ApplyChange(ActionContext& ctx, const ChangeSpec& spec) {
  const auto started = ctx.clock.Now();
  const std::string op_name = ChangeKindName(spec.kind);
  const std::string& name = spec.name;
  const Package& package = spec.package;
  ZK_ASSIGN_OR_RETURN(ClusterRecord record, FindCluster(ctx.store, name));
  ZK_ASSIGN_OR_RETURN(Values current, RevisionValues(ctx.store, name, package));

  ZK_ASSIGN_OR_RETURN(auto unfinished, ctx.store.UnfinishedOperation(name));
  if (unfinished) {
    ZK_ASSIGN_OR_RETURN(auto pending, ctx.store.GetRevision(name, unfinished->revision));
    if (unfinished->type == op_name && pending && pending->values_json == ValuesJson(spec.target))
      return Resume(ctx, name, package);  // the same command again: carry on
    size_t done = 0;
    for (const auto& s : unfinished->steps) done += s.status == StepStatus::kDone;
    return Status::InvalidInput("an earlier " + unfinished->type + " of " + name + " was interrupted after " +
                                std::to_string(done) + "/" + std::to_string(unfinished->steps.size()) +
                                " steps; finish it first with `zkpilot resume " + name + "`");
  }
  if (!record.Is(ClusterState::kDeployed) && !record.Is(ClusterState::kUpdateFailed))
    return Status::InvalidInput("cluster " + name + " is " + record.status + ", not deployed");

  ChangeSet change = DiffValues(package, current, spec.target);
  ChangeResult result;
  result.changes = ChangeSet::Describe(current, spec.target, change.changed);
  if (auto even = EvenReplicasWarning(change.to_replicas); change.ReplicasChanged() && !even.empty())
    result.warnings.push_back(even);
  ZK_RETURN_IF_ERROR(CheckChangeAllowed(package, change));
  ZK_RETURN_IF_ERROR(CheckTlsSwitchSupported(ctx.platform.Name(), change));
  ZK_RETURN_IF_ERROR(ctx.platform.Preflight().WithContext(op_name + " " + name));

  // Which servers run a configuration other than the target's: only they restart.
  ObserveOptions observe;
  observe.needs_restart = spec.kind != ChangeKind::kRestart && !change.ReplicasChanged();
  ZK_ASSIGN_OR_RETURN(ObservedEnsemble view, ObserveEnsembleView(ctx.platform, observe));
  PlanOptions options{spec.timeout, name};
  Plan plan{op_name, name, {}};
  if (spec.kind == ChangeKind::kRestart) {
    plan.steps.push_back(CheckHealthyStep(view.members, spec.timeout));
    for (auto& s : PlanRoll(view, {}, false, options)) plan.steps.push_back(std::move(s));
  } else {
    ZK_ASSIGN_OR_RETURN(plan, PlanChange(op_name, name, package, change, view, options));
  }
  // After a failed change the add-ons may run as its values wanted (an
  // add-on switched on that crash-loops on a taken port): the change that
  // follows — a rollback, or a configure back to the recorded values —
  // applies the add-ons of its target again, which stops what it does not want.
  const bool applies_addons = std::any_of(plan.steps.begin(), plan.steps.end(),
                                          [](const Step& s) { return s.kind == StepKind::kApplyAddons; });
  if (record.Is(ClusterState::kUpdateFailed) && !applies_addons)
    plan.steps.push_back(ApplyAddonsStep(EnabledAddons(package, spec.target)));
  result.plan_text = plan.ToText();
  if (change.Empty() && !view.needs_restart.empty()) {
    std::string ids;
    for (int id : view.needs_restart) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
    result.changes = "repair: server" + std::string(view.needs_restart.size() > 1 ? "s " : " ") + ids +
                     " back to revision " + std::to_string(record.current_revision) + "'s configuration";
  }
  if (plan.steps.empty()) {
    result.nothing_to_do = true;
    return result;
  }
  // Rolls order servers by role: the plan needs a leader to put last. Only
  // servers this plan repairs may be unhealthy, and only with quorum.
  const EnsembleHealth& health = view.health;
  bool others_healthy = health.quorum;
  for (const auto& n : health.nodes) others_healthy = others_healthy && (n.healthy || Contains(view.needs_restart, n.id));
  if (!others_healthy)
    return Status::IOError("not changing " + name + ": the ensemble is not healthy (" + health.Summary() +
                           "); zkpilot never takes a server down while another is unhealthy");
  if (spec.dry_run) {
    result.dry_run = true;
    return result;
  }

  RevisionRecord rev;
  rev.cluster = name;
  rev.operation = op_name;
  rev.values_json = ValuesJson(spec.target);
  rev.package_version = package.version;
  rev.zk_version = spec.target.Get(package.version_parameter).get<std::string>();
  rev.status = RevisionStatus::kPending;
  rev.message = result.changes;
  rev.started_at = NowMillis();
  ZK_ASSIGN_OR_RETURN(result.revision, ctx.store.AddRevision(rev));
  ZK_ASSIGN_OR_RETURN(int64_t op, JournalPlan(ctx.store, plan, result.revision));
  ZK_RETURN_IF_ERROR(ctx.store.SetClusterStatus(name, ClusterState::kUpdating));

  PlatformStepRunner runner(ctx, package, spec.target, op);
  Status run = ExecutePlan(ctx.store, op, plan.steps, 0, runner, ctx.progress);
  ZK_RETURN_IF_ERROR(Finish(ctx.store, name, op, result.revision, run).WithContext(op_name + " " + name));
  result.health = LastHealth(ctx.store, op);
  result.took = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock.Now() - started);
  return result;
}

Result<ChangeResult> Resume(ActionContext& ctx, const std::string& name, const Package& package) {
  const auto started = ctx.clock.Now();
  ZK_ASSIGN_OR_RETURN(Values values, ResumeValues(ctx.store, name, package));
  ZK_ASSIGN_OR_RETURN(auto op, ctx.store.UnfinishedOperation(name));
  if (!op) return Status::InvalidInput(name + " has no interrupted operation to resume");
  JournaledPlan plan = FromJournal(*op);
  ChangeResult result;
  result.resumed = true;
  result.revision = op->revision;
  result.plan_text = Plan{op->type, name, plan.steps}.ToText();
  const bool deploy = op->type == "deploy";
  // The steps left may restart servers: the same check as before a change.
  ZK_RETURN_IF_ERROR(ctx.platform.CheckCredentials().WithContext("resume " + op->type + " " + name));
  if (!deploy) ZK_RETURN_IF_ERROR(ctx.store.SetClusterStatus(name, ClusterState::kUpdating));
  PlatformStepRunner runner(ctx, package, values, op->id);
  Status run = ExecutePlan(ctx.store, op->id, plan.steps, plan.first_unfinished, runner, ctx.progress);
  ZK_RETURN_IF_ERROR(Finish(ctx.store, name, op->id, op->revision, run,
                            deploy ? ClusterState::kFailed : ClusterState::kUpdateFailed)
                         .WithContext("resume " + op->type + " " + name));
  result.health = LastHealth(ctx.store, op->id);
  result.took = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock.Now() - started);
  return result;
}

}  // namespace zkpilot
