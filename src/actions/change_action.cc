// zkpilot configure / upgrade / rollback / restart / scale / resume: change a
// running ensemble through a journaled plan, never losing quorum.
#include <algorithm>

#include "actions/cluster_actions.h"
#include "observe/health.h"
#include "plan/change_planner.h"
#include "platform/local/paths.h"

namespace zkpilot {
namespace {

using Clock = std::chrono::steady_clock;

const char* OperationName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kConfigure: return "configure";
    case ChangeKind::kUpgrade: return "upgrade";
    case ChangeKind::kRollback: return "rollback";
    case ChangeKind::kRestart: return "restart";
    case ChangeKind::kScale: return "scale";
  }
  return "change";
}

std::string ValuesJson(const Values& values) {
  nlohmann::json flat = nlohmann::json::object();
  for (const auto& [k, v] : values.Flat()) flat[k] = v;
  return flat.dump();
}

// The values a request asks for, on top of the cluster's current ones.
Result<Values> TargetValues(StateStore& store, const LocalCluster& current, int current_revision, const ChangeRequest& req) {
  ValuesInput in;
  in.files = {{"current values (revision " + std::to_string(current_revision) + ")", ValuesJson(current.values)}};
  switch (req.kind) {
    case ChangeKind::kConfigure: {
      ZK_ASSIGN_OR_RETURN(ValuesInput user, ReadValuesInput(req.values));
      in.files.insert(in.files.end(), user.files.begin(), user.files.end());
      in.sets = user.sets;
      if (in.sets.empty() && user.files.empty()) return Status::InvalidInput("configure: nothing to change (use --set k=v or -f FILE)");
      break;
    }
    case ChangeKind::kUpgrade:
      in.sets = {current.package.version_parameter + "=" + req.version};
      break;
    case ChangeKind::kScale:
      in.sets = {"replicas=" + std::to_string(req.replicas)};
      break;
    case ChangeKind::kRestart:
      break;
    case ChangeKind::kRollback: {
      ZK_ASSIGN_OR_RETURN(auto revisions, store.ListRevisions(current.name));
      ZK_ASSIGN_OR_RETURN(auto record, store.GetCluster(current.name));
      // After a failed change, rolling back means returning every server to
      // the current revision.
      if (req.to_revision == 0 && record && record->status == "update-failed") return current.values;
      const RevisionRecord* target = nullptr;
      for (const auto& r : revisions) {
        if (req.to_revision > 0 ? r.revision == req.to_revision
                                : (r.revision < current_revision &&
                                   (r.status == RevisionStatus::kDeployed || r.status == RevisionStatus::kSuperseded)))
          target = &r;
      }
      if (!target)
        return Status::InvalidInput(req.to_revision > 0 ? "no revision " + std::to_string(req.to_revision) + " of " + current.name
                                                        : current.name + " has no earlier revision to roll back to");
      if (target->revision == current_revision)
        return Status::InvalidInput("revision " + std::to_string(target->revision) + " is the current one");
      return ValuesOfRevision(current.package, *target);
    }
  }
  auto values = ResolveValues(current.package.schema, in);
  if (!values.ok()) return values.status().WithContext(OperationName(req.kind));
  return values;
}

Result<EnsembleView> View(StateStore& store, const std::string& name, EnsembleHealth* health_out) {
  ZK_ASSIGN_OR_RETURN(auto records, store.ListNodes(name));
  EnsembleView view;
  std::vector<std::pair<int, Endpoint>> servers;
  for (const auto& r : records) {
    view.members.push_back(r.id);
    view.generations[r.id] = r.generation;
    servers.push_back({r.id, Endpoint{"127.0.0.1", r.client_port}});
  }
  EnsembleHealth health = EvaluateHealth(ObserveEnsemble(servers, AdminClient(std::chrono::milliseconds(1000))));
  view.leader = health.leader;
  if (health_out) *health_out = health;
  return view;
}

// Records the outcome of an executed operation: revision, operation, cluster.
Status Finish(StateStore& store, const std::string& name, int64_t op, int revision, const Status& run) {
  if (!run.ok()) {
    (void)store.FinishOperation(op, OperationStatus::kFailed, run.message());
    (void)store.FinishRevision(name, revision, RevisionStatus::kFailed, run.message());
    (void)store.SetClusterStatus(name, "update-failed");
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
  return store.SetClusterStatus(name, "deployed", revision);
}

std::string LastHealth(StateStore& store, int64_t op) {
  auto o = store.GetOperation(op);
  std::string health;
  if (o.ok() && *o)
    for (const auto& s : (*o)->steps)
      if (s.status == StepStatus::kDone && s.detail.find("healthy: ") != std::string::npos)
        health = s.detail.substr(s.detail.find("healthy: "));
  return health;
}

}  // namespace

Result<ChangeResult> ApplyChange(const ChangeRequest& req, ProgressSink& progress) {
  const auto started = Clock::now();
  const std::string op_name = OperationName(req.kind);
  ZK_ASSIGN_OR_RETURN(auto store, OpenState(req.home));
  ZK_ASSIGN_OR_RETURN(LocalCluster current, LoadLocalCluster(*store, req.home, req.name, false));
  ZK_ASSIGN_OR_RETURN(auto record, store->GetCluster(req.name));
  ZK_ASSIGN_OR_RETURN(Values target, TargetValues(*store, current, record->current_revision, req));

  ZK_ASSIGN_OR_RETURN(auto unfinished, store->UnfinishedOperation(req.name));
  if (unfinished) {
    ZK_ASSIGN_OR_RETURN(auto pending, store->GetRevision(req.name, unfinished->revision));
    if (unfinished->type == op_name && pending && pending->values_json == ValuesJson(target))
      return Resume(req.home, req.name, progress);  // the same command again: carry on
    size_t done = 0;
    for (const auto& s : unfinished->steps) done += s.status == StepStatus::kDone;
    return Status::InvalidInput("an earlier " + unfinished->type + " of " + req.name + " was interrupted after " +
                                std::to_string(done) + "/" + std::to_string(unfinished->steps.size()) +
                                " steps; finish it first with `zkpilot resume " + req.name + "`");
  }
  if (record->status != "deployed" && record->status != "update-failed")
    return Status::InvalidInput("cluster " + req.name + " is " + record->status + ", not deployed");

  ChangeSet change = DiffValues(current.package, current.values, target);
  ChangeResult result;
  result.changes = ChangeSet::Describe(current.values, target, change.changed);
  if (change.ReplicasChanged() && change.to_replicas % 2 == 0)
    result.warnings.push_back("replicas=" + std::to_string(change.to_replicas) + " is even: it tolerates no more failures than " +
                              std::to_string(change.to_replicas - 1));
  ZK_RETURN_IF_ERROR(CheckChangeAllowed(current.package, change));
  ZK_RETURN_IF_ERROR(CheckAddonPrograms(target));
  if (change.VersionChanged() || change.ReplicasChanged()) {
    auto d = DistributionForVersion(current.package, target, req.home);
    if (!d.ok()) return d.status().WithContext(op_name + " " + req.name);
  }

  EnsembleHealth health;
  ZK_ASSIGN_OR_RETURN(EnsembleView view, View(*store, req.name, &health));
  PlanOptions options{req.timeout};
  Plan plan{op_name, req.name, {}};
  if (req.kind == ChangeKind::kRestart) {
    plan.steps.push_back(CheckHealthyStep(view.members, req.timeout));
    for (auto& s : PlanRoll(view, {}, false, options)) plan.steps.push_back(std::move(s));
  } else {
    // Which servers run a configuration other than the target's.
    if (!change.ReplicasChanged()) {
      LocalCluster probe = current;
      probe.values = target;
      auto d = DistributionForVersion(probe.package, target, req.home);
      if (d.ok()) probe.distribution = *d;
      LocalPlatform platform(*store, probe, 0);
      for (const auto& n : probe.nodes) {
        if (std::find(view.members.begin(), view.members.end(), n.endpoint.id) == view.members.end()) continue;
        ZK_ASSIGN_OR_RETURN(bool needs, platform.NeedsRestart(n));
        if (needs) view.needs_restart.push_back(n.endpoint.id);
      }
    }
    ZK_ASSIGN_OR_RETURN(plan, PlanChange(op_name, req.name, current.package, change, view, options));
  }
  result.plan_text = plan.ToText();
  if (change.Empty() && !view.needs_restart.empty()) {
    std::string ids;
    for (int id : view.needs_restart) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
    result.changes = "repair: server" + std::string(view.needs_restart.size() > 1 ? "s " : " ") + ids +
                     " back to revision " + std::to_string(record->current_revision) + "'s configuration";
  }
  if (plan.steps.empty()) {
    result.nothing_to_do = true;
    return result;
  }
  // Rolls order servers by role: the plan needs a leader to put last. Only
  // servers this plan repairs may be unhealthy, and only with quorum.
  bool others_healthy = health.quorum;
  for (const auto& n : health.nodes)
    others_healthy = others_healthy && (n.healthy || std::find(view.needs_restart.begin(), view.needs_restart.end(), n.id) !=
                                                         view.needs_restart.end());
  if (!others_healthy)
    return Status::IOError("not changing " + req.name + ": the ensemble is not healthy (" + health.Summary() +
                           "); zkpilot never takes a server down while another is unhealthy");
  if (req.dry_run) {
    result.dry_run = true;
    return result;
  }

  // The cluster as it will be: target values, their distribution and servers.
  LocalCluster cluster = current;
  cluster.values = target;
  ZK_ASSIGN_OR_RETURN(cluster.distribution, DistributionForVersion(cluster.package, target, req.home));
  ZK_ASSIGN_OR_RETURN(auto wanted, LocalTopology(cluster.package, target, req.name, cluster.cluster_home));
  for (const auto& n : wanted)
    if (std::none_of(cluster.nodes.begin(), cluster.nodes.end(), [&](const LocalNode& c) { return c.endpoint.id == n.endpoint.id; }))
      cluster.nodes.push_back(n);

  RevisionRecord rev;
  rev.cluster = req.name;
  rev.operation = op_name;
  rev.values_json = ValuesJson(target);
  rev.package_version = cluster.package.version;
  rev.zk_version = target.Get(cluster.package.version_parameter).get<std::string>();
  rev.status = RevisionStatus::kPending;
  rev.message = result.changes;
  rev.started_at = NowMillis();
  ZK_ASSIGN_OR_RETURN(result.revision, store->AddRevision(rev));
  ZK_ASSIGN_OR_RETURN(int64_t op, JournalPlan(*store, plan, result.revision));
  ZK_RETURN_IF_ERROR(store->SetClusterStatus(req.name, "updating"));

  LocalPlatform platform(*store, cluster, op);
  Status run = ExecutePlan(*store, op, plan.steps, 0, platform, progress);
  ZK_RETURN_IF_ERROR(Finish(*store, req.name, op, result.revision, run).WithContext(op_name + " " + req.name));
  result.health = LastHealth(*store, op);
  result.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return result;
}

Result<ChangeResult> Resume(const std::string& home, const std::string& name, ProgressSink& progress) {
  const auto started = Clock::now();
  ZK_ASSIGN_OR_RETURN(auto store, OpenState(home));
  ZK_ASSIGN_OR_RETURN(auto record, store->GetCluster(name));
  if (!record) return Status::InvalidInput("no cluster named " + name);
  ZK_ASSIGN_OR_RETURN(auto op, store->UnfinishedOperation(name));
  if (!op) return Status::InvalidInput(name + " has no interrupted operation to resume");
  if (op->type == "delete") return Status::InvalidInput("an interrupted delete is finished by running `zkpilot delete " + name + "` again");
  ZK_ASSIGN_OR_RETURN(LocalCluster cluster, LoadLocalCluster(*store, home, name, true, op->revision));
  JournaledPlan plan = FromJournal(*op);
  ChangeResult result;
  result.resumed = true;
  result.revision = op->revision;
  Plan shown{op->type, name, plan.steps};
  result.plan_text = shown.ToText();
  if (op->type != "deploy") ZK_RETURN_IF_ERROR(store->SetClusterStatus(name, "updating"));
  LocalPlatform platform(*store, cluster, op->id);
  Status run = ExecutePlan(*store, op->id, plan.steps, plan.first_unfinished, platform, progress);
  if (!run.ok() && op->type == "deploy") (void)store->SetClusterStatus(name, "failed");
  ZK_RETURN_IF_ERROR(Finish(*store, name, op->id, op->revision, run).WithContext("resume " + op->type + " " + name));
  result.health = LastHealth(*store, op->id);
  result.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return result;
}

}  // namespace zkpilot
