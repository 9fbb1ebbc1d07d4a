// The action cores (actions/cluster_actions.h) as the operator runs them for
// one ZooKeeperCluster: each call builds a KubernetesPlatform bound to the
// cluster — its namespace, name and uid (the owner of every object applied),
// the package, the values the call works towards, and the super-user
// password from the Secret <cluster>-zkpilot-super (created on first use) —
// and hands it, the release store and a progress sink that logs each step to
// the core.
//
// The operation's end (OperationStatus in the journal) is recorded last:
// `settled` is called with the core's outcome once the cluster's records say
// what the operation did (its revision, the current revision), and only then
// is the operation marked succeeded or failed — people following the journal
// see a status that already describes the result. Should the operator stop
// in between, the next one resumes an operation with nothing left to do.
//
// Only plain types cross this header (reconcile_types.h), so the reconciler's
// side (resource types) and this side (platform types) stay apart.
//
// Thread-safety: one thread at a time per KubeClient.
#pragma once

#include <chrono>
#include <string>

#include "package/package.h"
#include "platform/kubernetes/kube_client.h"
#include "platform/kubernetes/reconcile_types.h"
#include "state/release_store.h"
#include "util/status.h"
#include "values/values.h"

namespace zkpilot {

struct ClusterCoordinates {
  std::string namespace_;
  std::string name;
  std::string uid;             // the ZooKeeperCluster's: owner of the objects applied
  std::string package_source;  // recorded with the cluster: "ConfigMap <ns>/<name>"
};

struct CoreTimeouts {
  std::chrono::milliseconds deploy{std::chrono::minutes(10)};  // until the ensemble is healthy
  std::chrono::milliseconds wait{std::chrono::minutes(5)};     // each wait of a change
  std::chrono::milliseconds stop{std::chrono::minutes(2)};     // each stop of a delete
};

// Deploys `values`. A cluster whose first deploy failed is deployed afresh
// (its failed records are forgotten first).
Status OperatorDeploy(KubeClient& client, ReleaseStore& store, const ClusterCoordinates& cluster,
                      const Package& package, const Values& values, const OperationSettled& settled,
                      const CoreTimeouts& timeouts = {});

// configure / upgrade / rollback / restart / scale towards `target`.
Status OperatorChange(KubeClient& client, ReleaseStore& store, const ClusterCoordinates& cluster,
                      const Package& package, const Values& target, ReconcileOp op,
                      const OperationSettled& settled, const CoreTimeouts& timeouts = {});

// Continues the interrupted operation from its journal.
Status OperatorResume(KubeClient& client, ReleaseStore& store, const ClusterCoordinates& cluster,
                      const Package& package, const OperationSettled& settled);

// Deletes the cluster (hooks, every object, the claims when `purge_data`).
// An operation left unfinished is ended first (failed: the delete supersedes it).
// `package` null (its ConfigMaps are gone): nothing is torn down here — the
// objects go with the resource (owner references), the claims stay.
Status OperatorDelete(KubeClient& client, ReleaseStore& store, const ClusterCoordinates& cluster,
                      const Package* package, bool purge_data, const CoreTimeouts& timeouts = {});

// The servers of `values` as they are now.
Result<ClusterObservation> OperatorObserve(KubeClient& client, const ClusterCoordinates& cluster,
                                           const Package& package, const Values& values);

}  // namespace zkpilot
