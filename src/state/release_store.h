// ReleaseStore: what zkpilot records about a cluster's releases — the
// cluster, its revisions (values per change), and its operations with their
// step journal. Separate from the platform's own state (the local
// supervisor's nodes table; the pods and StatefulSets on Kubernetes).
//
//   SQLite (local)   StateStore (state/state_store.h) implements it
//   Kubernetes       KubeReleaseStore (platform/kubernetes/kube_release_store.h):
//                    the ZooKeeperCluster resource (cluster, status.operation =
//                    the running operation and its journal) and its
//                    ControllerRevisions (revisions)
//
// Records are those of state/records.h. Every mutating call is atomic: it
// happens entirely or not at all. The actions (src/actions/) see a cluster's
// history only through this interface; the executor (plan/executor.h)
// journals through it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "state/records.h"
#include "util/status.h"

namespace zkpilot {

class ReleaseStore {
 public:
  virtual ~ReleaseStore() = default;

  // Clusters. CreateCluster fails with InvalidInput when the name exists.
  virtual Status CreateCluster(const ClusterRecord& c) = 0;
  virtual Result<std::optional<ClusterRecord>> GetCluster(const std::string& name) = 0;
  virtual Result<std::vector<ClusterRecord>> ListClusters() = 0;  // sorted by name
  // `status` is a ClusterStateName; `current_revision` < 0 leaves it as it is.
  virtual Status SetClusterStatus(const std::string& name, const std::string& status, int current_revision = -1) = 0;
  Status SetClusterStatus(const std::string& name, ClusterState state, int current_revision = -1) {
    return SetClusterStatus(name, std::string(ClusterStateName(state)), current_revision);
  }
  // Removes the cluster and everything recorded about it.
  virtual Status DeleteCluster(const std::string& name) = 0;

  // Revisions. AddRevision assigns the next number and returns it.
  virtual Result<int> AddRevision(const RevisionRecord& r) = 0;
  virtual Status FinishRevision(const std::string& cluster, int revision, RevisionStatus status,
                                const std::string& message) = 0;
  virtual Result<std::optional<RevisionRecord>> GetRevision(const std::string& cluster, int revision) = 0;
  virtual Result<std::vector<RevisionRecord>> ListRevisions(const std::string& cluster) = 0;  // ascending

  // Operations and their journal. BeginOperation stores the whole plan
  // (every step pending) and returns the operation's id; ids grow per store.
  virtual Result<int64_t> BeginOperation(const OperationRecord& op) = 0;
  virtual Status MarkStep(int64_t operation_id, int index, StepStatus status, const std::string& detail) = 0;
  virtual Status FinishOperation(int64_t operation_id, OperationStatus status, const std::string& error) = 0;
  virtual Result<std::optional<OperationRecord>> GetOperation(int64_t operation_id) = 0;  // with steps
  // The newest operation of a cluster still marked running (interrupted), if any.
  virtual Result<std::optional<OperationRecord>> UnfinishedOperation(const std::string& cluster) = 0;
  virtual Result<std::vector<OperationRecord>> ListOperations(const std::string& cluster) = 0;  // without steps

  // Hook runs (per operation).
  virtual Status AddHookRun(const HookRunRecord& h) = 0;
  virtual Result<std::vector<HookRunRecord>> ListHookRuns(int64_t operation_id) = 0;
};

}  // namespace zkpilot
