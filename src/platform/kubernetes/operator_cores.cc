#include "platform/kubernetes/operator_cores.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <functional>
#include <map>
#include <optional>

#include "actions/cluster_actions.h"
#include "actions/observe.h"
#include "platform/kubernetes/kube_platform.h"

namespace zkpilot {
namespace {

std::string Who(const ClusterCoordinates& c) { return c.namespace_ + "/" + c.name; }

// The operator's progress: one log line per step (the journal in the
// resource's status is what people follow).
class LogProgress : public ProgressSink {
 public:
  explicit LogProgress(std::string who) : who_(std::move(who)) {}
  void StepStarted(size_t index, size_t total, const Step& step) override {
    spdlog::info("{}: [{}/{}] {} ...", who_, index + 1, total, step.description);
  }
  void StepFinished(size_t index, size_t total, const Step& step, const Status& status,
                    const std::string& outcome, std::chrono::milliseconds took) override {
    if (status.ok())
      spdlog::info("{}: [{}/{}] done in {:.1f}s{}", who_, index + 1, total, took.count() / 1000.0,
                   outcome.empty() ? "" : ": " + outcome);
    else
      spdlog::warn("{}: [{}/{}] FAILED after {:.1f}s: {}", who_, index + 1, total,
                   took.count() / 1000.0, status.message());
  }

 private:
  const std::string who_;
};

// The platform's options for the cluster; with the super-user password
// (read from its Secret, created on first use) when `with_password`.
Result<KubePlatformOptions> PlatformOptions(KubeClient& client, const ClusterCoordinates& cluster,
                                            bool with_password) {
  KubePlatformOptions options;
  options.namespace_name = cluster.namespace_;
  options.cluster = cluster.name;
  options.owner_uid = cluster.uid;
  if (with_password) {
    auto password = EnsureSuperPassword(client, options);
    if (!password.ok()) return password.status().WithContext(Who(cluster) + ": super-user Secret");
    options.super_password = std::move(password).value();
  }
  return options;
}

// The release store as the cores see it, with the operation's end held
// back: FinishOperation is recorded by Flush, after the caller settled the
// status (see operator_cores.h). Everything else goes through at once.
class DeferredFinishStore : public ReleaseStore {
 public:
  explicit DeferredFinishStore(ReleaseStore& store) : store_(store) {}

  Status CreateCluster(const ClusterRecord& c) override { return store_.CreateCluster(c); }
  Result<std::optional<ClusterRecord>> GetCluster(const std::string& name) override {
    return store_.GetCluster(name);
  }
  Result<std::vector<ClusterRecord>> ListClusters() override { return store_.ListClusters(); }
  using ReleaseStore::SetClusterStatus;
  Status SetClusterStatus(const std::string& name, const std::string& status,
                          int current_revision = -1) override {
    return store_.SetClusterStatus(name, status, current_revision);
  }
  Status DeleteCluster(const std::string& name) override { return store_.DeleteCluster(name); }
  Result<int> AddRevision(const RevisionRecord& r) override { return store_.AddRevision(r); }
  Status FinishRevision(const std::string& cluster, int revision, RevisionStatus status,
                        const std::string& message) override {
    return store_.FinishRevision(cluster, revision, status, message);
  }
  Result<std::optional<RevisionRecord>> GetRevision(const std::string& cluster,
                                                    int revision) override {
    return store_.GetRevision(cluster, revision);
  }
  Result<std::vector<RevisionRecord>> ListRevisions(const std::string& cluster) override {
    return store_.ListRevisions(cluster);
  }
  Result<int64_t> BeginOperation(const OperationRecord& op) override {
    return store_.BeginOperation(op);
  }
  Status MarkStep(int64_t operation_id, int index, StepStatus status,
                  const std::string& detail) override {
    return store_.MarkStep(operation_id, index, status, detail);
  }
  Status FinishOperation(int64_t operation_id, OperationStatus status,
                         const std::string& error) override {
    deferred_ = Finish{operation_id, status, error};
    return Status::Ok();
  }
  Result<std::optional<OperationRecord>> GetOperation(int64_t operation_id) override {
    return store_.GetOperation(operation_id);
  }
  Result<std::optional<OperationRecord>> UnfinishedOperation(const std::string& cluster) override {
    return store_.UnfinishedOperation(cluster);
  }
  Result<std::vector<OperationRecord>> ListOperations(const std::string& cluster) override {
    return store_.ListOperations(cluster);
  }
  Status AddHookRun(const HookRunRecord& h) override { return store_.AddHookRun(h); }
  Result<std::vector<HookRunRecord>> ListHookRuns(int64_t operation_id) override {
    return store_.ListHookRuns(operation_id);
  }

  // Records the operation's end, if the core recorded one.
  Status Flush() {
    if (!deferred_) return Status::Ok();
    const Finish f = *deferred_;
    deferred_.reset();
    return store_.FinishOperation(f.id, f.status, f.error);
  }

 private:
  struct Finish {
    int64_t id;
    OperationStatus status;
    std::string error;
  };
  ReleaseStore& store_;
  std::optional<Finish> deferred_;
};

// Runs `core` against the deferring store; settles its outcome, then records
// the operation's end.
Status Settled(ReleaseStore& store, const OperationSettled& settled,
               const std::function<Status(ReleaseStore&)>& core) {
  DeferredFinishStore deferred(store);
  const Status outcome = core(deferred);
  if (settled) settled(outcome);
  Status flushed = deferred.Flush();
  if (!outcome.ok()) return outcome;
  return flushed.WithContext("recording the operation's end");
}

ChangeKind KindOf(ReconcileOp op) {
  switch (op) {
    case ReconcileOp::kUpgrade:
      return ChangeKind::kUpgrade;
    case ReconcileOp::kRollback:
      return ChangeKind::kRollback;
    case ReconcileOp::kRestart:
      return ChangeKind::kRestart;
    case ReconcileOp::kScale:
      return ChangeKind::kScale;
    default:
      return ChangeKind::kConfigure;
  }
}

const ::zkpilot::Condition* HealthCondition(const EnsembleHealth& health, const std::string& type) {
  for (const auto& c : health.conditions)
    if (c.type == type) return &c;
  return nullptr;
}

}  // namespace

Status OperatorDeploy(KubeClient& client, ReleaseStore& store, const ClusterCoordinates& cluster,
                      const Package& package, const Values& values, const OperationSettled& settled,
                      const CoreTimeouts& timeouts) {
  // A failed first deploy left records (and nothing running): start afresh.
  ZK_ASSIGN_OR_RETURN(auto existing, store.GetCluster(cluster.name));
  if (existing && existing->current_revision == 0 && existing->Is(ClusterState::kFailed)) {
    spdlog::info("{}: deploying again after a failed deploy", Who(cluster));
    ZK_RETURN_IF_ERROR(store.DeleteCluster(cluster.name));
  }
  ZK_ASSIGN_OR_RETURN(KubePlatformOptions options, PlatformOptions(client, cluster, true));
  KubernetesPlatform platform(client, package, values, options);
  LogProgress progress(Who(cluster));
  DeploySpec spec;
  spec.name = cluster.name;
  spec.package = package;
  spec.values = values;
  spec.package_source = cluster.package_source;
  spec.location = "namespace " + cluster.namespace_;
  spec.timeout = timeouts.deploy;
  return Settled(store, settled, [&](ReleaseStore& deferring) {
    ActionContext ctx{platform, deferring, progress, SystemClock()};
    return Deploy(ctx, spec).status();
  });
}

Status OperatorChange(KubeClient& client, ReleaseStore& store, const ClusterCoordinates& cluster,
                      const Package& package, const Values& target, ReconcileOp op,
                      const OperationSettled& settled, const CoreTimeouts& timeouts) {
  ZK_ASSIGN_OR_RETURN(KubePlatformOptions options, PlatformOptions(client, cluster, true));
  KubernetesPlatform platform(client, package, target, options);
  LogProgress progress(Who(cluster));
  ChangeSpec spec;
  spec.name = cluster.name;
  spec.kind = KindOf(op);
  spec.package = package;
  spec.target = target;
  spec.timeout = timeouts.wait;
  return Settled(store, settled, [&](ReleaseStore& deferring) {
    ActionContext ctx{platform, deferring, progress, SystemClock()};
    auto result = ApplyChange(ctx, spec);
    if (!result.ok()) return result.status();
    for (const auto& warning : result->warnings) spdlog::warn("{}: {}", Who(cluster), warning);
    if (result->nothing_to_do)
      spdlog::info("{}: {}: nothing to change", Who(cluster), ReconcileOpName(op));
    return Status::Ok();
  });
}

Status OperatorResume(KubeClient& client, ReleaseStore& store, const ClusterCoordinates& cluster,
                      const Package& package, const OperationSettled& settled) {
  ZK_ASSIGN_OR_RETURN(Values values, ResumeValues(store, cluster.name, package));
  ZK_ASSIGN_OR_RETURN(KubePlatformOptions options, PlatformOptions(client, cluster, true));
  KubernetesPlatform platform(client, package, values, options);
  LogProgress progress(Who(cluster));
  return Settled(store, settled, [&](ReleaseStore& deferring) {
    ActionContext ctx{platform, deferring, progress, SystemClock()};
    return Resume(ctx, cluster.name, package).status();
  });
}

Status OperatorDelete(KubeClient& client, ReleaseStore& store, const ClusterCoordinates& cluster,
                      const Package* package, bool purge_data, const CoreTimeouts& timeouts) {
  ZK_ASSIGN_OR_RETURN(auto record, store.GetCluster(cluster.name));
  if (!record) return Status::Ok();  // nothing recorded, so nothing was applied
  if (!package) {
    spdlog::warn(
        "{}: the package is gone: the cluster's objects go with the resource, its claims stay",
        Who(cluster));
    return Status::Ok();
  }
  // An operation an operator left unfinished gives way: the cluster goes.
  ZK_ASSIGN_OR_RETURN(auto unfinished, store.UnfinishedOperation(cluster.name));
  if (unfinished) {
    spdlog::info("{}: the interrupted {} (operation {}) ends: the cluster is being deleted",
                 Who(cluster), unfinished->type, unfinished->id);
    ZK_RETURN_IF_ERROR(store.FinishOperation(unfinished->id, OperationStatus::kFailed,
                                             "interrupted, then the cluster was deleted"));
  }
  ZK_ASSIGN_OR_RETURN(Values values, RevisionValues(store, cluster.name, *package));
  ZK_ASSIGN_OR_RETURN(KubePlatformOptions options, PlatformOptions(client, cluster, true));
  KubernetesPlatform platform(client, *package, values, options);
  LogProgress progress(Who(cluster));
  ActionContext ctx{platform, store, progress, SystemClock()};
  DeleteSpec spec;
  spec.name = cluster.name;
  spec.package = package;
  spec.purge_data = purge_data;
  spec.timeout = timeouts.stop;
  auto done = Delete(ctx, spec);
  if (!done.ok()) return done.status();
  spdlog::info("{}: {}", Who(cluster), *done);
  return Status::Ok();
}

Result<ClusterObservation> OperatorObserve(KubeClient& client, const ClusterCoordinates& cluster,
                                           const Package& package, const Values& values) {
  ZK_ASSIGN_OR_RETURN(KubePlatformOptions options, PlatformOptions(client, cluster, false));
  KubernetesPlatform platform(client, package, values, options);
  ZK_ASSIGN_OR_RETURN(auto view, ObserveEnsembleView(platform));
  std::map<int, std::string> pods;
  if (auto topology = platform.Topology(); topology.ok())
    for (const auto& node : *topology) pods[node.id] = node.pod_name;

  ClusterObservation o;
  for (const auto& server : view.servers) {
    ObservedServer s;
    s.id = server.state.id;
    s.role = server.health.role;
    s.version = server.state.version;
    if (server.health.zxid > 0) s.zxid = fmt::format("0x{:x}", server.health.zxid);
    s.ready = server.health.healthy;
    s.pod = pods.count(s.id) ? pods[s.id] : "";
    s.pod_uid = server.state.uid;
    s.restarts = server.state.restarts;
    o.servers.push_back(std::move(s));
  }
  o.leader = view.leader;
  o.quorum = view.health.quorum;
  o.healthy = view.health.healthy;
  if (const auto* ready = HealthCondition(view.health, "Ready")) {
    o.ready_reason = ready->reason;
    o.ready_message = ready->message;
  }
  if (const auto* degraded = HealthCondition(view.health, "Degraded")) {
    o.degraded_reason = degraded->reason;
    o.degraded_message = degraded->message;
  }
  if (o.ready_message.empty()) o.ready_message = view.health.Summary();
  return o;
}

}  // namespace zkpilot
