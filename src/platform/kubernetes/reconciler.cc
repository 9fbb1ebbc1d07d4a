#include "platform/kubernetes/reconciler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace zkpilot {
namespace {

using nlohmann::json;
using FlatValues = std::map<std::string, json>;

constexpr char kTrue[] = "True";
constexpr char kFalse[] = "False";
constexpr size_t kMaxWhy = 400;  // an Event message stays readable

ClusterCondition MakeCondition(const char* type, bool status, std::string reason, std::string message,
                        int64_t generation) {
  ClusterCondition c;
  c.type = type;
  c.status = status ? kTrue : kFalse;
  c.reason = std::move(reason);
  c.message = std::move(message);
  c.observed_generation = generation;
  return c;
}

std::string Show(const FlatValues& values, const std::string& name) {
  auto it = values.find(name);
  if (it == values.end()) return "(unset)";
  return it->second.is_string() ? it->second.get<std::string>() : it->second.dump();
}

// "tickTime: 2000 -> 3000, replicas: 3 -> 5" for the parameters that differ.
std::string DescribeDiff(const FlatValues& from, const FlatValues& to,
                         std::vector<std::string>* names) {
  std::vector<std::string> changed;
  for (const auto& [name, value] : to) {
    auto it = from.find(name);
    if (it == from.end() || it->second != value) changed.push_back(name);
  }
  for (const auto& [name, value] : from)
    if (!to.count(name)) changed.push_back(name);
  std::sort(changed.begin(), changed.end());
  std::string out;
  for (const auto& name : changed)
    out += (out.empty() ? "" : ", ") + name + ": " + Show(from, name) + " -> " + Show(to, name);
  if (out.size() > kMaxWhy) out = out.substr(0, kMaxWhy) + "...";
  if (names) *names = std::move(changed);
  return out;
}

std::optional<FlatValues> ParseFlat(const std::string& values_json) {
  json parsed = json::parse(values_json, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  FlatValues flat;
  for (auto it = parsed.begin(); it != parsed.end(); ++it) flat[it.key()] = it.value();
  return flat;
}

Values ValuesFromFlat(const FlatValues& flat, const std::string& origin) {
  Values values;
  for (const auto& [name, value] : flat) values.Set(name, value, origin);
  return values;
}

bool Refused(const Status& s) { return s.code() == ErrorCode::kInvalidInput; }

}  // namespace

const char* ReconcileOpName(ReconcileOp op) {
  switch (op) {
    case ReconcileOp::kNone:
      return "none";
    case ReconcileOp::kDeploy:
      return "deploy";
    case ReconcileOp::kResume:
      return "resume";
    case ReconcileOp::kConfigure:
      return "configure";
    case ReconcileOp::kUpgrade:
      return "upgrade";
    case ReconcileOp::kRollback:
      return "rollback";
    case ReconcileOp::kRestart:
      return "restart";
    case ReconcileOp::kScale:
      return "scale";
    case ReconcileOp::kDelete:
      return "delete";
  }
  return "?";
}

std::string ProgressingReason(ReconcileOp op, const std::string& resumed_type) {
  if (op == ReconcileOp::kResume) {
    for (ReconcileOp typed :
         {ReconcileOp::kDeploy, ReconcileOp::kConfigure, ReconcileOp::kUpgrade,
          ReconcileOp::kRollback, ReconcileOp::kRestart, ReconcileOp::kScale, ReconcileOp::kDelete})
      if (resumed_type == ReconcileOpName(typed)) return ProgressingReason(typed);
    return "Resuming";
  }
  switch (op) {
    case ReconcileOp::kDeploy:
      return "Deploying";
    case ReconcileOp::kConfigure:
      return "Configuring";
    case ReconcileOp::kUpgrade:
      return "Upgrading";
    case ReconcileOp::kRollback:
      return "RollingBack";
    case ReconcileOp::kRestart:
      return "RollingRestart";
    case ReconcileOp::kScale:
      return "Scaling";
    case ReconcileOp::kDelete:
      return "Deleting";
    case ReconcileOp::kNone:
    case ReconcileOp::kResume:
      break;
  }
  return "Idle";
}

ReconcileDecision DecideOperation(const ReleaseState& release, const DesiredState& desired,
                                  const std::string& version_parameter) {
  ReconcileDecision d;
  if (release.unfinished) {
    d.op = ReconcileOp::kResume;
    d.why = "an interrupted " + release.unfinished->type + " (operation " +
            std::to_string(release.unfinished->id) + ", revision " +
            std::to_string(release.unfinished->revision) + ")";
    return d;
  }
  if (release.current_revision == 0) {
    d.op = ReconcileOp::kDeploy;
    d.why = "no revision deployed yet";
    return d;
  }
  std::vector<std::string> changed;
  std::string diff = DescribeDiff(release.current_values, desired.values, &changed);
  const bool new_package = desired.package_version != release.current_package_version;
  if (!changed.empty() || (new_package && desired.new_generation)) {
    if (changed.empty())
      diff = "package " + release.current_package_version + " -> " + desired.package_version;
    d.why = diff;
    for (auto it = release.revisions.rbegin(); it != release.revisions.rend(); ++it) {
      if (it->revision == release.current_revision) continue;
      if (it->status != RevisionStatus::kDeployed && it->status != RevisionStatus::kSuperseded)
        continue;
      auto values = ParseFlat(it->values_json);
      if (values && *values == desired.values) {
        d.op = ReconcileOp::kRollback;
        d.rollback_to = it->revision;
        d.why = "back to revision " + std::to_string(it->revision) + "'s values: " + diff;
        return d;
      }
    }
    if (std::find(changed.begin(), changed.end(), version_parameter) != changed.end())
      d.op = ReconcileOp::kUpgrade;
    else if (changed.size() == 1 && changed.front() == "replicas")
      d.op = ReconcileOp::kScale;
    else
      d.op = ReconcileOp::kConfigure;
    return d;
  }
  if (!desired.restart_request.empty() && desired.restart_request != desired.last_restart_request) {
    d.op = ReconcileOp::kRestart;
    d.why = "restart request \"" + desired.restart_request + "\"";
    return d;
  }
  return d;
}

// ---- conditions

void MarkValid(ClusterStatus& status, int64_t generation, int64_t now) {
  SetCondition(status.conditions,
               MakeCondition(kConditionValid, true, "ValuesAccepted",
                             "the package and values are valid", generation),
               now);
}

void MarkInvalid(ClusterStatus& status, const std::string& reason, const std::string& message,
                 int64_t generation, int64_t now) {
  SetCondition(status.conditions,
               MakeCondition(kConditionValid, false, reason, message, generation), now);
  SetCondition(
      status.conditions,
      MakeCondition(kConditionProgressing, false, "Idle", "nothing applied: " + reason, generation),
      now);
  // A cluster that runs keeps running its current revision; one that never
  // ran has failed.
  if (status.current_revision == 0) status.phase = ClusterPhase::kFailed;
}

void MarkProgressing(ClusterStatus& status, ReconcileOp op, const std::string& reason,
                     const std::string& message, int64_t generation, int64_t now) {
  SetCondition(status.conditions,
               MakeCondition(kConditionProgressing, true, reason, message, generation), now);
  if (op == ReconcileOp::kDelete || reason == "Deleting")
    status.phase = ClusterPhase::kDeleting;
  else if (op == ReconcileOp::kDeploy || reason == "Deploying")
    status.phase = ClusterPhase::kDeploying;
  else
    status.phase = ClusterPhase::kUpdating;
}

void MarkFinished(ClusterStatus& status, const Status& outcome, int64_t generation, int64_t now) {
  if (outcome.ok()) {
    SetCondition(status.conditions,
                 MakeCondition(kConditionProgressing, false, "Idle", "", generation), now);
    status.phase = ClusterPhase::kRunning;
    return;
  }
  SetCondition(
      status.conditions,
      MakeCondition(kConditionProgressing, false, "OperationFailed", outcome.message(), generation),
      now);
  status.phase = ClusterPhase::kFailed;
}

void ApplyObservation(ClusterStatus& status, const ClusterObservation& observation,
                      int64_t generation, int64_t now) {
  status.members.clear();
  for (const auto& server : observation.servers)
    status.members.push_back(MemberStatus{server.id, server.role, server.version, server.zxid,
                                          server.ready, server.pod, server.pod_uid,
                                          server.restarts});
  status.leader = observation.leader;
  status.replicas = static_cast<int>(status.members.size());
  status.ready_replicas = static_cast<int>(std::count_if(
      status.members.begin(), status.members.end(), [](const MemberStatus& m) { return m.ready; }));
  SetCondition(status.conditions,
               MakeCondition(kConditionReady, observation.quorum, observation.ready_reason,
                             observation.ready_message, generation),
               now);
  SetCondition(status.conditions,
               MakeCondition(kConditionDegraded, !observation.healthy, observation.degraded_reason,
                             observation.degraded_message, generation),
               now);
}

void MarkNotDeployed(ClusterStatus& status, int64_t generation, int64_t now) {
  status.members.clear();
  status.leader = 0;
  status.replicas = 0;
  status.ready_replicas = 0;
  SetCondition(
      status.conditions,
      MakeCondition(kConditionReady, false, "NotDeployed", "no revision is deployed", generation),
      now);
  SetCondition(status.conditions,
               MakeCondition(kConditionDegraded, false, "NotDeployed", "", generation), now);
}

json OperatorStatusPatch(const ClusterStatus& status) {
  static const char* kOwned[] = {
      "observedGeneration", "phase",         "conditions", "currentVersion", "targetVersion",
      "replicas",           "readyReplicas", "ready",      "leader",         "members",
      "lastRestartRequest"};
  const json full = StatusToJson(status);
  json patch = json::object();
  for (const char* key : kOwned) patch[key] = full.contains(key) ? full[key] : json();
  return {{"status", patch}};
}

// ---- Reconciler

Reconciler::Reconciler(ClusterApi& api, ClusterBackend& backend, ReconcilerOptions options)
    : api_(api), backend_(backend), options_(std::move(options)) {}

int64_t Reconciler::Now() const {
  if (options_.now_millis) return options_.now_millis();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Reconciler::Event(const ZooKeeperCluster& cluster, EventType type, const std::string& reason,
                       const std::string& message) {
  Status s = api_.Emit(cluster, type, reason, message);
  if (!s.ok())
    spdlog::warn("{}/{}: event {}: {}", cluster.Namespace(), cluster.Name(), reason, s.message());
}

Status Reconciler::Write(ZooKeeperCluster& cluster) {
  cluster.status.observed_generation = cluster.Generation();
  return api_.WriteStatus(cluster, cluster.status)
      .WithContext(cluster.Namespace() + "/" + cluster.Name() + ": status");
}

Result<ReconcileResult> Reconciler::Reconcile(const std::string& ns, const std::string& name) {
  const std::string where = ns + "/" + name;
  ZK_ASSIGN_OR_RETURN(auto got, api_.Get(ns, name));
  if (!got) return ReconcileResult{};  // gone: nothing left to do
  ZooKeeperCluster cluster = std::move(*got);
  if (cluster.Deleting()) return Finalize(cluster);
  if (!cluster.HasFinalizer(kClusterFinalizer)) {
    auto updated = api_.SetFinalizer(cluster, true);
    if (!updated.ok()) return updated.status().WithContext(where + ": add finalizer");
    cluster = std::move(updated).value();
  }
  const int64_t generation = cluster.Generation();

  auto package = backend_.LoadPackage(cluster);
  if (!package.ok()) {
    const ErrorCode code = package.status().code();
    if (code != ErrorCode::kNotFound && code != ErrorCode::kInvalidInput)
      return package.status().WithContext(where);
    const std::string reason = code == ErrorCode::kNotFound ? "PackageNotFound" : "PackageInvalid";
    const ClusterCondition* before = FindCondition(cluster.status.conditions, kConditionValid);
    const bool repeated =
        before && before->reason == reason && before->message == package.status().message();
    MarkInvalid(cluster.status, reason, package.status().message(), generation, Now());
    if (!repeated) Event(cluster, EventType::kWarning, reason, package.status().message());
    ZK_RETURN_IF_ERROR(Write(cluster));
    return ReconcileResult{};
  }

  auto desired = ResolveSpecValues(package->schema, cluster.spec.values);
  ZK_ASSIGN_OR_RETURN(ReleaseState release, backend_.Release(cluster));
  cluster.status.current_version = release.current_version;
  cluster.status.current_revision = release.current_revision;  // the store's field, as it is now
  if (!desired.ok()) {
    if (desired.status().code() != ErrorCode::kInvalidInput)
      return desired.status().WithContext(where);
    const ClusterCondition* before = FindCondition(cluster.status.conditions, kConditionValid);
    const bool repeated = before && before->reason == "InvalidValues" &&
                          before->message == desired.status().message();
    MarkInvalid(cluster.status, "InvalidValues", desired.status().message(), generation, Now());
    if (!repeated) Event(cluster, EventType::kWarning, "InvalidValues", desired.status().message());
    ReconcileResult result;
    ZK_RETURN_IF_ERROR(Observe(cluster, *package, release, result));
    ZK_RETURN_IF_ERROR(Write(cluster));
    return result;
  }
  MarkValid(cluster.status, generation, Now());
  const std::string& version_parameter = package->version_parameter;
  if (desired->Has(version_parameter) && desired->Get(version_parameter).is_string())
    cluster.status.target_version = desired->Get(version_parameter).get<std::string>();

  DesiredState want{desired->Flat(), package->version, cluster.spec.restart_request,
                    cluster.status.last_restart_request,
                    generation != cluster.status.observed_generation};
  const ReconcileDecision decision = DecideOperation(release, want, version_parameter);
  if (decision.op != ReconcileOp::kNone) return Run(cluster, *package, *desired, release, decision);

  ReconcileResult result;
  // Nothing to do. A Progressing left True (an operator that stopped
  // mid-operation, whose operation turned out finished) ends; a failure stays
  // visible until the next operation.
  const ClusterPhase phase = cluster.status.phase;
  if (IsConditionTrue(cluster.status.conditions, kConditionProgressing) ||
      phase == ClusterPhase::kNone || phase == ClusterPhase::kDeploying ||
      phase == ClusterPhase::kUpdating)
    MarkFinished(cluster.status, Status::Ok(), generation, Now());
  ZK_RETURN_IF_ERROR(Observe(cluster, *package, release, result));
  ZK_RETURN_IF_ERROR(Write(cluster));
  return result;
}

Result<ReconcileResult> Reconciler::Run(ZooKeeperCluster& cluster, const Package& package,
                                        const Values& desired, const ReleaseState& release,
                                        const ReconcileDecision& decision) {
  const std::string where = cluster.Namespace() + "/" + cluster.Name();
  const int64_t generation = cluster.Generation();
  const std::string resumed_type = release.unfinished ? release.unfinished->type : "";
  const std::string reason = ProgressingReason(decision.op, resumed_type);
  const std::string what =
      decision.op == ReconcileOp::kResume ? "resume " + resumed_type : ReconcileOpName(decision.op);

  MarkProgressing(cluster.status, decision.op, reason, decision.why, generation, Now());
  ZK_RETURN_IF_ERROR(Write(cluster));
  spdlog::info("{}: {}: {}", where, what, decision.why);
  Event(cluster, EventType::kNormal, reason, what + " started: " + decision.why);

  // The status describes the outcome before the operation's end is recorded
  // (the command line following it stops there).
  ReconcileResult result;
  result.op = decision.op;
  std::optional<Status> outcome;
  Status settled;
  const OperationSettled settle = [&](const Status& core) {
    if (outcome) return;
    outcome = core.WithContext(what + " " + where);
    settled = Settle(cluster, package, release, decision, *outcome, result);
  };
  Status returned;
  switch (decision.op) {
    case ReconcileOp::kDeploy:
      returned = backend_.Deploy(cluster, package, desired, settle);
      break;
    case ReconcileOp::kResume:
      returned = backend_.Resume(cluster, package, settle);
      break;
    default:
      returned = backend_.Change(cluster, package, desired, decision, settle);
      break;
  }
  if (!outcome) settle(returned);  // it ended before there was anything to settle
  if (outcome->ok() && !returned.ok())
    return returned.WithContext(where);  // recording the end failed
  if (!outcome->ok() && !Refused(*outcome)) {
    // A journaled restart is not repeated (see Settle); anything else retries.
    const bool restart = decision.op == ReconcileOp::kRestart || resumed_type == "restart";
    if (!(restart && cluster.status.last_restart_request == cluster.spec.restart_request))
      return *outcome;
  }
  if (!settled.ok()) return settled;
  return result;
}

Status Reconciler::Settle(ZooKeeperCluster& cluster, const Package& package,
                          const ReleaseState& release, const ReconcileDecision& decision,
                          const Status& outcome, ReconcileResult& result) {
  const std::string where = cluster.Namespace() + "/" + cluster.Name();
  const int64_t generation = cluster.Generation();
  const std::string resumed_type = release.unfinished ? release.unfinished->type : "";
  const std::string what =
      decision.op == ReconcileOp::kResume ? "resume " + resumed_type : ReconcileOpName(decision.op);

  // The state after the operation (what the store recorded), for the status.
  auto after = backend_.Release(cluster);
  const ReleaseState& now_release = after.ok() ? *after : release;
  cluster.status.current_version = now_release.current_version;
  cluster.status.current_revision = now_release.current_revision;

  // A restart request is carried out once: after it succeeded, or once its
  // plan was journaled (a failed roll is reported, not repeated; a new
  // request value asks again). A resumed restart finishes the request the
  // spec holds.
  if (decision.op == ReconcileOp::kRestart || resumed_type == "restart") {
    bool journaled = outcome.ok() || resumed_type == "restart";
    if (!journaled && after.ok())
      journaled = now_release.last_operation_type == "restart" &&
                  now_release.last_operation_id > release.last_operation_id;
    if (journaled) cluster.status.last_restart_request = cluster.spec.restart_request;
  }

  if (Refused(outcome)) {
    // Refused before anything was done (a change the package forbids, a
    // deploy its preflight rejects): the user's to fix, not retried.
    MarkInvalid(cluster.status,
                decision.op == ReconcileOp::kDeploy ? "DeployRefused" : "ChangeNotAllowed",
                outcome.message(), generation, Now());
    if (now_release.current_revision > 0) cluster.status.phase = ClusterPhase::kRunning;
    Event(cluster, EventType::kWarning, "OperationRefused", outcome.message());
  } else {
    MarkFinished(cluster.status, outcome, generation, Now());
    if (outcome.ok()) {
      spdlog::info("{}: {} succeeded", where, what);
      Event(cluster, EventType::kNormal, "OperationSucceeded", what + " succeeded");
    } else {
      spdlog::warn("{}: {} failed: {}", where, what, outcome.message());
      Event(cluster, EventType::kWarning, "OperationFailed", outcome.message());
    }
  }
  Status observed = Observe(cluster, package, now_release, result);
  ZK_RETURN_IF_ERROR(Write(cluster));
  return observed;
}

Status Reconciler::Observe(ZooKeeperCluster& cluster, const Package& package,
                           const ReleaseState& release, ReconcileResult& result) {
  const int64_t generation = cluster.Generation();
  if (release.current_revision == 0 && !release.unfinished) {
    MarkNotDeployed(cluster.status, generation, Now());
    return Status::Ok();
  }
  const Values current = ValuesFromFlat(release.current_values,
                                        "revision " + std::to_string(release.current_revision));
  auto observation = backend_.Observe(cluster, package, current);
  if (!observation.ok())
    return observation.status().WithContext(cluster.Namespace() + "/" + cluster.Name() +
                                            ": observe");
  ApplyObservation(cluster.status, *observation, generation, Now());
  if (!observation->healthy && !result.requeue_after)
    result.requeue_after = options_.unhealthy_recheck;
  return Status::Ok();
}

Result<ReconcileResult> Reconciler::Finalize(ZooKeeperCluster& cluster) {
  ReconcileResult result;
  if (!cluster.HasFinalizer(kClusterFinalizer)) return result;  // ours is done; others' are theirs
  const std::string where = cluster.Namespace() + "/" + cluster.Name();
  const int64_t generation = cluster.Generation();
  result.op = ReconcileOp::kDelete;

  MarkProgressing(cluster.status, ReconcileOp::kDelete, "Deleting",
                  cluster.spec.purge_data_on_delete ? "deleting the cluster and its data"
                                                    : "deleting the cluster (claims stay)",
                  generation, Now());
  Status written = Write(cluster);
  if (!written.ok()) spdlog::warn("{}", written.message());
  Event(cluster, EventType::kNormal, "Deleting", "delete started");

  auto package = backend_.LoadPackage(cluster);
  if (!package.ok()) {
    if (package.status().code() != ErrorCode::kNotFound &&
        package.status().code() != ErrorCode::kInvalidInput)
      return package.status().WithContext(where);
    Event(cluster, EventType::kWarning, "PackageNotFound",
          "deleting without the package's hooks: " + package.status().message());
  }
  Status outcome =
      backend_
          .Delete(cluster, package.ok() ? &*package : nullptr, cluster.spec.purge_data_on_delete)
          .WithContext("delete " + where);
  if (!outcome.ok()) {
    MarkFinished(cluster.status, outcome, generation, Now());
    cluster.status.phase = ClusterPhase::kDeleting;
    Status s = Write(cluster);
    if (!s.ok()) spdlog::warn("{}", s.message());
    Event(cluster, EventType::kWarning, "OperationFailed", outcome.message());
    return outcome;
  }
  // The operation wrote the status meanwhile: drop the finalizer from the
  // object as it is now.
  ZK_ASSIGN_OR_RETURN(auto current, api_.Get(cluster.Namespace(), cluster.Name()));
  if (!current) return result;
  auto removed = api_.SetFinalizer(*current, false);
  if (!removed.ok()) return removed.status().WithContext(where + ": remove finalizer");
  spdlog::info("{}: deleted", where);
  Event(cluster, EventType::kNormal, "OperationSucceeded", "delete succeeded");
  return result;
}

}  // namespace zkpilot
