// KubeClusterApi: the reconciler's ClusterApi (reconciler.h) on a real API
// server — ZooKeeperCluster objects, their finalizer and status, and core/v1
// Events about them.
//
// Writes that depend on what was read carry its resourceVersion (the
// finalizer list: a 409 means the object changed, reconcile again). The
// status is a JSON merge patch of the fields the operator owns
// (OperatorStatusPatch), so it never overwrites the journal the
// ReleaseStore keeps in status.operation.
//
// Thread-safety: as the KubeClient it uses (one thread at a time).
#pragma once

#include <chrono>
#include <string>

#include "platform/kubernetes/kube_client.h"
#include "platform/kubernetes/reconciler.h"

namespace zkpilot {

// The API resource of ZooKeeperClusters (no discovery needed).
ResourceRef ClusterResourceRef();

// A core/v1 Event about `cluster` (pure): named <cluster>.<hex nanoseconds>,
// source component zkpilot-operator, reportingInstance `instance`.
nlohmann::json MakeClusterEvent(const ZooKeeperCluster& cluster, EventType type,
                                const std::string& reason, const std::string& message,
                                const std::string& instance,
                                std::chrono::system_clock::time_point now);

class KubeClusterApi : public ClusterApi {
 public:
  // `instance`: this operator replica's identity (Events' reportingInstance).
  KubeClusterApi(KubeClient& client, std::string instance);

  Result<std::optional<ZooKeeperCluster>> Get(const std::string& ns,
                                              const std::string& name) override;
  Result<ZooKeeperCluster> SetFinalizer(const ZooKeeperCluster& cluster, bool present) override;
  Status WriteStatus(const ZooKeeperCluster& cluster, const ClusterStatus& status) override;
  Status Emit(const ZooKeeperCluster& cluster, EventType type, const std::string& reason,
              const std::string& message) override;

 private:
  // Each call is retried this long while the API answers 429/5xx or not at all.
  static constexpr std::chrono::seconds kApiRetry{30};
  std::chrono::steady_clock::time_point Deadline() const;

  KubeClient& client_;
  const std::string instance_;
};

}  // namespace zkpilot
