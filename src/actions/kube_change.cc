// zkpilot configure / upgrade / rollback / restart / scale --platform
// kubernetes: the same checks as locally (values, immutable parameters,
// upgrade paths, one kind of change at a time) before the spec is written;
// then the operator's operation is followed.
#include <fmt/format.h>

#include <algorithm>

#include "actions/kube_cluster_reads.h"
#include "actions/kube_commands.h"
#include "actions/kube_follow.h"
#include "actions/kube_objects.h"
#include "actions/kube_writes.h"
#include "plan/change_planner.h"
// auth.* read as every platform reads it (AuthSettingsOf).
#include "platform/local/local_auth.h"

namespace zkpilot {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// The revision a rollback returns to, as locally: --to-revision, else the
// newest earlier one that was deployed; after a failed change, the current
// one (every server back to what it ran).
Result<const RevisionRecord*> RollbackTarget(const ZooKeeperCluster& cluster,
                                             const std::vector<RevisionRecord>& revisions,
                                             int to_revision) {
  const int current = cluster.status.current_revision;
  const bool failed = cluster.status.phase == ClusterPhase::kFailed;
  const RevisionRecord* target = nullptr;
  for (const auto& r : revisions) {
    if (to_revision > 0 ? r.revision == to_revision
                        : (failed && current > 0
                               ? r.revision == current
                               : r.revision < current && (r.status == RevisionStatus::kDeployed ||
                                                          r.status == RevisionStatus::kSuperseded)))
      target = &r;
  }
  if (!target)
    return Status::InvalidInput(
        to_revision > 0 ? fmt::format("no revision {} of {}", to_revision, cluster.Name())
                        : cluster.Name() + " has no earlier revision to roll back to");
  if (target->revision == current && !failed)
    return Status::InvalidInput(fmt::format("revision {} is the current one", target->revision));
  return target;
}

// The ensemble as the status shows it, for the plan a dry run prints; the
// hand-off ports as the operator's platform gives them (the rendered pods').
EnsembleView ViewOf(const ZooKeeperCluster& cluster, const ChangeSet& change, const Values& target,
                    const RenderOptions& render) {
  EnsembleView view;
  for (const auto& e : KubernetesTopology(target, render))
    if (e.handoff_quorum_port > 0) view.handoff_ports[e.id] = e.handoff_quorum_port;
  for (const auto& m : cluster.status.members) view.members.push_back(m.id);
  if (view.members.empty())
    for (int id = 1; id <= change.from_replicas; ++id) view.members.push_back(id);
  std::sort(view.members.begin(), view.members.end());
  view.leader = cluster.status.leader;
  // The operator compares each pod's config hash; from here: every server
  // when a rolling parameter or the version changes.
  if (!change.rolling.empty() || change.VersionChanged()) view.needs_restart = view.members;
  return view;
}

bool Running(const ZooKeeperCluster& c) {
  return (c.status.operation && c.status.operation->phase == OperationStatus::kRunning) ||
         c.status.observed_generation < c.Generation();
}

std::string Progress(const ZooKeeperCluster& c) {
  if (!c.status.operation || c.status.operation->phase != OperationStatus::kRunning)
    return fmt::format("the operator has not acted on generation {} yet", c.Generation());
  int done = 0;
  for (const auto& s : c.status.operation->steps)
    done += s.status == StepStatus::kDone || s.status == StepStatus::kSkipped;
  return fmt::format("a {} is in progress, {}/{} steps done", c.status.operation->type, done,
                     c.status.operation->steps.size());
}

}  // namespace

Result<KubeOutput> KubeApplyChange(KubeSession& session, const KubeChangeRequest& req,
                                   ProgressSink& progress) {
  const auto started = SteadyClock::now();
  KubeClient& client = *session.client;
  const std::string op_name = KubeChangeName(req.kind);
  const std::string what = op_name + " " + req.name;

  ZK_ASSIGN_OR_RETURN(ZooKeeperCluster cluster, GetClusterResource(client, session.ns, req.name));
  if (cluster.Deleting()) return Status::InvalidInput(what + ": the cluster is being deleted");
  ZK_ASSIGN_OR_RETURN(Package package, LoadClusterPackage(client, cluster));
  ZK_ASSIGN_OR_RETURN(auto revisions, ListClusterRevisions(client, cluster));
  ZK_ASSIGN_OR_RETURN(Values current, CurrentClusterValues(package, cluster, revisions));

  SpecChange change;
  change.kind = req.kind;
  switch (req.kind) {
    case KubeChangeKind::kConfigure: {
      ZK_ASSIGN_OR_RETURN(change.values, ReadValuesInput(req.values));
      break;
    }
    case KubeChangeKind::kUpgrade:
      if (!package.FindVersion(req.version)) {
        std::string known;
        for (const auto& v : package.versions) known += (known.empty() ? "" : ", ") + v.version;
        return Status::InvalidInput(
            fmt::format("{}: package {} {} has no ZooKeeper version {} (it has: {})", what,
                        package.name, package.version, req.version, known));
      }
      change.version = req.version;
      break;
    case KubeChangeKind::kScale:
      change.replicas = req.replicas;
      break;
    case KubeChangeKind::kRestart:
      change.restart_request = FormatKubeTime(NowMillis());
      break;
    case KubeChangeKind::kRollback: {
      ZK_ASSIGN_OR_RETURN(const RevisionRecord* target,
                          RollbackTarget(cluster, revisions, req.to_revision));
      ZK_ASSIGN_OR_RETURN(Values values,
                          RevisionValues(package.schema, target->values_json, target->revision));
      change.revision_values = values.Flat();
      break;
    }
  }
  ZK_ASSIGN_OR_RETURN(ClusterSpec spec, ChangedSpec(package, cluster.spec, change));
  auto resolved = ResolveSpecValues(package.schema, spec.values);
  if (!resolved.ok()) return resolved.status().WithContext(what);
  const Values& target = *resolved;

  // The rules of a change, as locally, before anything is written.
  ChangeSet diff = DiffValues(package, current, target);
  ZK_RETURN_IF_ERROR(CheckChangeAllowed(package, diff).WithContext(what));
  ZK_RETURN_IF_ERROR(CheckTlsSwitchSupported("kubernetes", diff).WithContext(what));
  RenderOptions render;
  render.cluster_name = req.name;
  render.namespace_name = session.ns;
  auto rendered = RenderManifests(package, target, render);
  if (!rendered.ok()) return rendered.status().WithContext(what + ": render");
  ZK_RETURN_IF_ERROR(AuthSettingsOf(target).status().WithContext(what));
  PlanOptions plan_options;
  EnsembleView view = ViewOf(cluster, diff, target, render);
  Plan plan{op_name, req.name, {}};
  if (req.kind == KubeChangeKind::kRestart) {
    plan.steps.push_back(CheckHealthyStep(view.members, plan_options.timeout));
    for (auto& s : PlanRoll(view, {}, false, plan_options)) plan.steps.push_back(std::move(s));
  } else {
    auto planned = PlanChange(op_name, req.name, package, diff, view, plan_options);
    if (!planned.ok()) return planned.status().WithContext(what);
    plan = std::move(planned).value();
  }

  KubeOutput out;
  const std::string changes = ChangeSet::Describe(current, target, diff.changed);
  if (auto even = EvenReplicasWarning(diff.to_replicas); diff.ReplicasChanged() && !even.empty())
    out.warnings.push_back(even);
  const bool spec_unchanged = SpecToJson(spec) == SpecToJson(cluster.spec);
  if (Running(cluster) && !spec_unchanged)
    return Status::InvalidInput(
        fmt::format("{}: {} of {}; wait for it to finish (`zkpilot resume {} --platform "
                    "kubernetes` follows it) before changing anything else",
                    what, Progress(cluster), req.name, req.name));
  // Nothing differs from what runs. A rollback after a failed change still
  // writes the spec back to the current revision's values.
  const bool restore = req.kind == KubeChangeKind::kRollback && !spec_unchanged;
  if (!Running(cluster) && req.kind != KubeChangeKind::kRestart && diff.Empty() && !restore) {
    out.text = fmt::format("{}: nothing to change{}; nothing restarted\n", req.name,
                           changes.empty() ? "" : " (" + changes + ")");
    return out;
  }
  const json object = ClusterApplyObject(req.name, session.ns, spec);
  if (req.dry_run) {
    ZK_RETURN_IF_ERROR(ApplyClusterObject(client, object, true).status());
    out.text = (changes.empty() ? "" : "Changes: " + changes + "\n") +
               "spec the operator would act on:\n" +
               EmitYaml(OrderedJson::parse(SpecToJson(spec).dump())) +
               "as the operator would plan it from the current status:\n" + plan.ToText() +
               "(dry run: nothing was changed)\n";
    return out;
  }

  FollowTarget follow;
  follow.first_operation_id = LastOperationId(cluster) + 1;
  // Values back to what runs need no operation (the operator may still repair servers).
  follow.require_operation = !diff.Empty() || req.kind == KubeChangeKind::kRestart;
  if (spec_unchanged) {
    // The same command again: follow its operation, or the operator's next
    // attempt after a failed one.
    session.note(Running(cluster) ? fmt::format("{}: {}; following it", req.name, Progress(cluster))
                                  : fmt::format("{}: the spec already asks for this; following the "
                                                "operator's next attempt",
                                                req.name));
    follow.generation = cluster.Generation();
    if (cluster.status.operation && cluster.status.operation->phase == OperationStatus::kRunning) {
      follow.first_operation_id = cluster.status.operation->id;
      follow.quiet_finished_steps = true;
    }
  } else {
    ZK_ASSIGN_OR_RETURN(json applied, ApplyClusterObject(client, object, false));
    follow.generation = kube::Int(kube::Member(applied, "metadata"), "generation");
    session.note(fmt::format(
        "applied the {} to ZooKeeperCluster {}/{}; the operator carries it out:", op_name,
        session.ns, req.name));
  }
  OperationTracker tracker(follow, progress);
  std::optional<FollowOutcome> first = spec_unchanged ? tracker.Observe(&cluster) : std::nullopt;
  ZK_ASSIGN_OR_RETURN(FollowOutcome outcome,
                      first ? Result<FollowOutcome>(*first)
                            : FollowCluster(client, session.ns, req.name, tracker, req.timeout));
  ZK_RETURN_IF_ERROR(OutcomeStatus(outcome, what));
  if (outcome.kind == FollowOutcome::Kind::kNothingToDo) {
    out.text = fmt::format(
        "{} {}: the spec is back to revision {}'s values; the operator had nothing to do\n",
        op_name, req.name, cluster.status.current_revision);
    return out;
  }
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started);
  out.text = fmt::format("{} {}: revision {}{}\n{}\ntook {:.1f}s\n", op_name, req.name,
                         outcome.operation ? outcome.operation->revision : 0,
                         changes.empty() ? "" : " (" + changes + ")", OperationHealth(outcome),
                         took.count() / 1000.0);
  return out;
}

}  // namespace zkpilot
