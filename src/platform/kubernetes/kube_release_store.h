// KubeReleaseStore: the ReleaseStore (state/release_store.h) of clusters on
// Kubernetes, kept in the cluster itself (shape: docs/kubernetes-crd.md).
//
//   cluster     the ZooKeeperCluster resource; it is recorded (GetCluster
//               finds it) once it has a current revision or an operation
//   revisions   ControllerRevisions <cluster>-r<N>, owned by the resource
//               (cluster_resource.h converts them); the outcome in annotations
//   operations  status.operation: the running (or last) one with its step
//               journal; status.operations: the history (newest 20, no steps)
//   hook runs   core/v1 Events about the resource, reason HookRun, labelled
//               with the operation's id (subject to the cluster's event TTL)
//
// The user owns the resource: CreateCluster does not create it (NotFound
// when it is missing) and DeleteCluster does not delete it; they start and
// forget its records. The record's status string is not stored on its own:
// it follows from the journal (deploying, deployed, failed, updating,
// update-failed, deleting, delete-failed), so every call is one write; the
// user-facing status.phase is the operator's.
//
// Atomicity and races: every journal change is one write of the status
// subresource, a read-modify-PUT carrying the resourceVersion it read; a 409
// (another writer, e.g. the operator's status patch, came first) reads again
// and re-applies the change. A second operation cannot begin while one runs
// (kConflict). Revision numbers are claimed by creating the object (a lost
// race takes the next number). Operation ids increase per cluster.
//
// Operation ids are per cluster, so the calls that take only an id address
// the cluster the store is bound to (options), else the cluster last named
// in a call, else the one cluster of the namespace that has that id.
//
// Thread-safety: one thread at a time (like its KubeClient).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "platform/kubernetes/cluster_resource.h"
#include "platform/kubernetes/kube_client.h"
#include "state/release_store.h"

namespace zkpilot {

struct KubeReleaseStoreOptions {
  std::string namespace_name = "default";
  std::string cluster;  // the cluster id-only calls address; empty: see above
  // How long one API call is retried while the API answers 429/5xx or not at all.
  std::chrono::milliseconds api_retry{std::chrono::seconds(30)};
  int max_conflict_retries = 20;  // re-reads after a 409 before giving up
};

// The record status a cluster's journal implies ("" when nothing is recorded).
std::string DerivedClusterStatus(const ClusterStatus& status);

class KubeReleaseStore : public ReleaseStore {
 public:
  // REQUIRES: `client` outlives the store.
  KubeReleaseStore(KubeClient& client, KubeReleaseStoreOptions options);

  Status CreateCluster(const ClusterRecord& c) override;
  Result<std::optional<ClusterRecord>> GetCluster(const std::string& name) override;
  Result<std::vector<ClusterRecord>> ListClusters() override;
  using ReleaseStore::SetClusterStatus;
  // Writes status.currentRevision (when >= 0); `status` is implied by the journal.
  Status SetClusterStatus(const std::string& name, const std::string& status,
                          int current_revision = -1) override;
  Status DeleteCluster(const std::string& name) override;

  Result<int> AddRevision(const RevisionRecord& r) override;
  Status FinishRevision(const std::string& cluster, int revision, RevisionStatus status,
                        const std::string& message) override;
  Result<std::optional<RevisionRecord>> GetRevision(const std::string& cluster,
                                                    int revision) override;
  Result<std::vector<RevisionRecord>> ListRevisions(const std::string& cluster) override;

  Result<int64_t> BeginOperation(const OperationRecord& op) override;
  Status MarkStep(int64_t operation_id, int index, StepStatus status,
                  const std::string& detail) override;
  Status FinishOperation(int64_t operation_id, OperationStatus status,
                         const std::string& error) override;
  Result<std::optional<OperationRecord>> GetOperation(int64_t operation_id) override;
  Result<std::optional<OperationRecord>> UnfinishedOperation(const std::string& cluster) override;
  Result<std::vector<OperationRecord>> ListOperations(const std::string& cluster) override;

  Status AddHookRun(const HookRunRecord& h) override;
  Result<std::vector<HookRunRecord>> ListHookRuns(int64_t operation_id) override;

 private:
  // The resource (NotFound naming it when missing).
  Result<nlohmann::json> ReadCluster(const std::string& name);
  // Read, mutate, PUT the status with the read resourceVersion; again on 409.
  // `mutate` changes the parsed status (its operation/operations/currentRevision
  // are written back); an error from it is returned as it is.
  Status UpdateStatus(const std::string& name, const std::function<Status(ClusterStatus&)>& mutate);
  Result<std::string> ClusterOfOperation(int64_t operation_id);
  void Remember(const std::string& cluster);
  std::chrono::steady_clock::time_point ApiDeadline() const;

  KubeClient& client_;
  KubeReleaseStoreOptions options_;
  std::string last_cluster_;
  std::map<int64_t, std::string> operation_cluster_;  // ids seen, for unbound stores
};

}  // namespace zkpilot
