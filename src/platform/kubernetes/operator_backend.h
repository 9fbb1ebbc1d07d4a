// KubeClusterBackend: the reconciler's ClusterBackend (reconciler.h) on a
// Kubernetes cluster — the action cores run with a KubernetesPlatform bound
// to the ZooKeeperCluster (its namespace, name, uid, package, target values
// and super-user password) and the Kubernetes ReleaseStore (the resource's
// status and its ControllerRevisions).
//
// Packages are read from their ConfigMaps (package_configmaps.h) and kept
// by hash: the ConfigMaps are immutable and named by their content.
//
// Thread-safety: one thread at a time, like the KubeClient it uses.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "platform/kubernetes/kube_client.h"
#include "platform/kubernetes/operator.h"
#include "platform/kubernetes/reconciler.h"

namespace zkpilot {

class KubeClusterBackend : public ClusterBackend {
 public:
  explicit KubeClusterBackend(KubeClient& client);

  Result<Package> LoadPackage(const ZooKeeperCluster& cluster) override;
  Result<ReleaseState> Release(const ZooKeeperCluster& cluster) override;
  Status Deploy(const ZooKeeperCluster& cluster, const Package& package, const Values& values,
                const OperationSettled& settled) override;
  Status Change(const ZooKeeperCluster& cluster, const Package& package, const Values& target,
                const ReconcileDecision& decision, const OperationSettled& settled) override;
  Status Resume(const ZooKeeperCluster& cluster, const Package& package,
                const OperationSettled& settled) override;
  Status Delete(const ZooKeeperCluster& cluster, const Package* package, bool purge_data) override;
  Result<ClusterObservation> Observe(const ZooKeeperCluster& cluster, const Package& package,
                                     const Values& values) override;

 private:
  KubeClient& client_;
  std::map<std::string, Package> packages_;  // by hash
};

// The Operator's ReconcilePartsFactory: KubeClusterApi + KubeClusterBackend.
Result<ReconcileParts> MakeKubeReconcileParts(KubeClient& client);

}  // namespace zkpilot
