// Reconciler: takes one ZooKeeperCluster from what it runs to what its spec
// asks for, one operation per call.
//
// A reconcile, in order (shape: docs/kubernetes-crd.md):
//  1. deleting (deletionTimestamp) → the delete operation (hooks, tear down,
//     claims only with spec.purgeDataOnDelete), then the finalizer goes;
//  2. the finalizer zkpilot.io/cleanup is added;
//  3. the package is loaded from its ConfigMaps (hash checked) — else Valid
//     False, reason PackageNotFound; spec.values are resolved (defaults,
//     schema, cross-parameter checks) — else Valid False, reason
//     InvalidValues with the message, and nothing is applied;
//  4. DecideOperation: an unfinished operation is resumed from its journal;
//     no revision yet → deploy; values (or the package) other than the
//     current revision's → a change; a new spec.restartRequest → restart;
//  5. the ensemble is observed and the status written: observedGeneration,
//     phase, conditions (Ready, Degraded, Progressing, Valid), members,
//     versions, replicas, leader.
// Operations start and end with Events. The operation itself (the journal in
// status.operation, the ControllerRevisions) is the action cores' business,
// through ClusterBackend.
//
// Errors a retry may cure (API unavailable, a server slow to come back) are
// returned, and the caller requeues with backoff; the user's faults (invalid
// values, a change the package forbids) become conditions and are not
// retried until the spec changes.
//
// Thread-safety: one Reconciler per worker thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "package/package.h"
#include "platform/kubernetes/cluster_resource.h"
#include "platform/kubernetes/reconcile_types.h"
#include "util/status.h"
#include "values/values.h"

namespace zkpilot {

// The Progressing condition's reason while `op` runs: Deploying, Upgrading,
// RollingRestart, Scaling, Configuring, RollingBack, Deleting. A resumed
// operation reports the reason of its type (`resumed_type`: "upgrade", ...).
std::string ProgressingReason(ReconcileOp op, const std::string& resumed_type = "");

// The cluster's releases, as the ReleaseStore records them.
struct ReleaseState {
  int current_revision = 0;                              // 0: never deployed successfully
  std::map<std::string, nlohmann::json> current_values;  // flat, of the current revision
  std::string current_package_version;
  std::string current_version;                // ZooKeeper version of the current revision
  std::optional<OperationRecord> unfinished;  // an operation still marked running
  int64_t last_operation_id = 0;              // the newest operation, any outcome (0: none)
  std::string last_operation_type;
  std::vector<RevisionRecord> revisions;  // ascending (values_json flat)
};

// The spec's ask, resolved.
struct DesiredState {
  std::map<std::string, nlohmann::json> values;  // flat, defaults applied
  std::string package_version;
  std::string restart_request;
  std::string last_restart_request;  // status.lastRestartRequest
  bool new_generation = true;        // the spec changed since the status last observed it
};

struct ReconcileDecision {
  ReconcileOp op = ReconcileOp::kNone;
  int rollback_to = 0;  // kRollback: the earlier revision whose values are asked for again
  std::string why;      // for logs and Events: "tickTime: 2000 -> 3000"
};

// Pure. Rules, first match wins:
//  - an unfinished operation → kResume (finish what was started before
//    anything else: the journal knows which servers already restarted);
//  - no current revision → kDeploy;
//  - values differ from the current revision's, or the package version
//    does and the spec is a new generation (a package whose values change
//    nothing may have nothing to do: it is not asked for again at every
//    resync) →
//      values equal to an earlier deployed/superseded revision's → kRollback,
//      else the version parameter changed → kUpgrade,
//      else only `replicas` changed → kScale,
//      else kConfigure;
//  - a non-empty restartRequest other than lastRestartRequest → kRestart;
//  - else kNone.
ReconcileDecision DecideOperation(const ReleaseState& release, const DesiredState& desired,
                                  const std::string& version_parameter);

// ---- conditions and phase (pure; `now` in milliseconds since the epoch)

// Valid True (ValuesAccepted) or False with `reason` (InvalidValues,
// PackageNotFound, ChangeNotAllowed) and the message.
void MarkValid(ClusterStatus& status, int64_t generation, int64_t now);
void MarkInvalid(ClusterStatus& status, const std::string& reason, const std::string& message,
                 int64_t generation, int64_t now);
// An operation starts: Progressing True with its reason; phase Deploying,
// Updating or Deleting.
void MarkProgressing(ClusterStatus& status, ReconcileOp op, const std::string& reason,
                     const std::string& message, int64_t generation, int64_t now);
// It ended: Progressing False — Idle (phase Running) or OperationFailed with
// the error (phase Failed).
void MarkFinished(ClusterStatus& status, const Status& outcome, int64_t generation, int64_t now);
// Members, leader, replicas, Ready and Degraded from an observation.
void ApplyObservation(ClusterStatus& status, const ClusterObservation& observation,
                      int64_t generation, int64_t now);
// Nothing deployed yet (or nothing left): Ready False, reason NotDeployed.
void MarkNotDeployed(ClusterStatus& status, int64_t generation, int64_t now);

// The merge patch of the status fields the operator owns (everything but
// currentRevision, operation and operations, which the ReleaseStore writes).
nlohmann::json OperatorStatusPatch(const ClusterStatus& status);

// ---- what the reconciler acts through

enum class EventType { kNormal, kWarning };

// The ZooKeeperCluster resources and what goes with them on the API.
class ClusterApi {
 public:
  virtual ~ClusterApi() = default;
  virtual Result<std::optional<ZooKeeperCluster>> Get(const std::string& ns,
                                                      const std::string& name) = 0;
  // Adds or removes kClusterFinalizer; 409 (the object changed since it was
  // read) is kConflict. Returns the object as written.
  virtual Result<ZooKeeperCluster> SetFinalizer(const ZooKeeperCluster& cluster, bool present) = 0;
  // Writes OperatorStatusPatch(status) to the status subresource.
  virtual Status WriteStatus(const ZooKeeperCluster& cluster, const ClusterStatus& status) = 0;
  // A core/v1 Event about the cluster (best effort: callers log a failure).
  virtual Status Emit(const ZooKeeperCluster& cluster, EventType type, const std::string& reason,
                      const std::string& message) = 0;
};

// The operations, through the action cores with the cluster's platform and
// release store.
class ClusterBackend {
 public:
  virtual ~ClusterBackend() = default;
  // The package of spec.package from its ConfigMaps, hash checked: NotFound
  // when missing, InvalidInput when the hash does not match.
  virtual Result<Package> LoadPackage(const ZooKeeperCluster& cluster) = 0;
  virtual Result<ReleaseState> Release(const ZooKeeperCluster& cluster) = 0;
  // The operations call `settled` with their outcome once it is known and
  // before the operation's end is recorded in the journal (which is what
  // people following it wait for); the reconciler writes the status there.
  // An operation that ends before that (refused, failed before its plan
  // was journaled) need not call it.
  virtual Status Deploy(const ZooKeeperCluster& cluster, const Package& package,
                        const Values& values, const OperationSettled& settled) = 0;
  // kConfigure, kUpgrade, kRollback, kRestart or kScale towards `target`.
  virtual Status Change(const ZooKeeperCluster& cluster, const Package& package,
                        const Values& target, const ReconcileDecision& decision,
                        const OperationSettled& settled) = 0;
  virtual Status Resume(const ZooKeeperCluster& cluster, const Package& package,
                        const OperationSettled& settled) = 0;
  // `package` is null when its ConfigMaps are gone: tear down without hooks.
  virtual Status Delete(const ZooKeeperCluster& cluster, const Package* package,
                        bool purge_data) = 0;
  // The servers of the current revision (`values`), as they are now.
  virtual Result<ClusterObservation> Observe(const ZooKeeperCluster& cluster,
                                             const Package& package, const Values& values) = 0;
};

struct ReconcilerOptions {
  std::function<int64_t()> now_millis;  // empty: the system clock
  // Requeue while an observed cluster is not healthy (status refresh).
  std::chrono::milliseconds unhealthy_recheck{std::chrono::seconds(10)};
};

struct ReconcileResult {
  ReconcileOp op = ReconcileOp::kNone;                     // what was done
  std::optional<std::chrono::milliseconds> requeue_after;  // look again (not an error)
};

class Reconciler {
 public:
  Reconciler(ClusterApi& api, ClusterBackend& backend, ReconcilerOptions options = {});

  // Reconciles the cluster `ns`/`name` (gone: nothing to do). An error means
  // "retry with backoff".
  Result<ReconcileResult> Reconcile(const std::string& ns, const std::string& name);

 private:
  Result<ReconcileResult> Finalize(ZooKeeperCluster& cluster);
  Result<ReconcileResult> Run(ZooKeeperCluster& cluster, const Package& package,
                              const Values& desired, const ReleaseState& release,
                              const ReconcileDecision& decision);
  Status Settle(ZooKeeperCluster& cluster, const Package& package, const ReleaseState& release,
                const ReconcileDecision& decision, const Status& outcome, ReconcileResult& result);
  Status Observe(ZooKeeperCluster& cluster, const Package& package, const ReleaseState& release,
                 ReconcileResult& result);
  Status Write(ZooKeeperCluster& cluster);
  void Event(const ZooKeeperCluster& cluster, EventType type, const std::string& reason,
             const std::string& message);
  int64_t Now() const;

  ClusterApi& api_;
  ClusterBackend& backend_;
  const ReconcilerOptions options_;
};

}  // namespace zkpilot
