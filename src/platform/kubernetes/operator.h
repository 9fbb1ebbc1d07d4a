// Operator: the reconcile loop of `zkpilot operator`.
//
//   watch   ZooKeeperClusters (one namespace or all): list, then watch from
//           the list's resourceVersion; 410 Gone or a broken stream → list
//           again. A cluster is queued when it appears, when its generation
//           changes (spec), when it is being deleted, and when it goes.
//   queue   WorkQueue keyed by namespace/name; one worker reconciles one
//           cluster at a time (an operation takes minutes and the clusters'
//           operations must not interleave on the API's rate limits); a
//           failed reconcile is retried with backoff; every `resync` each
//           known cluster is queued again (status refresh, and what a watch
//           cannot see: pods, ConfigMaps created later).
//   leader  with leader election, nothing is reconciled before this replica
//           holds the Lease; losing it calls `on_lease_lost` (the command
//           exits at once: a reconcile cannot be interrupted safely, and the
//           journal lets the next leader continue).
//   health  /healthz, /readyz (the API answered the last list or watch).
//
// Thread-safety: Run and RunOnce are called once, from one thread; they
// start and join their own threads, each with its own KubeClient.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "platform/kubernetes/health_server.h"
#include "platform/kubernetes/kube_client.h"
#include "platform/kubernetes/lease.h"
#include "platform/kubernetes/reconciler.h"
#include "platform/kubernetes/work_queue.h"
#include "util/status.h"

namespace zkpilot {

struct OperatorConfig {
  std::string watch_namespace;  // empty: every namespace
  bool leader_elect = false;
  LeaderElectionOptions lease;          // namespace_, identity: filled by the caller
  std::optional<ListenAddress> health;  // nullopt: no health server
  std::chrono::milliseconds resync{std::chrono::seconds(30)};
  std::chrono::seconds watch_timeout{10};  // a watch request's length (bounds shutdown time)
  // Retries of a failing cluster: 0.5 s doubling to a minute (a failed
  // operation is tried again at least every minute until it succeeds).
  BackoffPolicy backoff{std::chrono::milliseconds(500), std::chrono::seconds(60)};
  // Called (from a background thread) when the lease is lost; the default
  // (empty) stops the loop and makes Run return the error once the running
  // reconcile ends.
  std::function<void(const Status&)> on_lease_lost;
  // Called once this replica leads (tests and logs).
  std::function<void()> on_leading;
};

// What one worker reconciles through: a ClusterApi and a ClusterBackend
// over `client` (the worker's own).
struct ReconcileParts {
  std::unique_ptr<ClusterApi> api;
  std::unique_ptr<ClusterBackend> backend;
};
using ReconcilePartsFactory = std::function<Result<ReconcileParts>(KubeClient& client)>;

class Operator {
 public:
  Operator(KubeConnection connection, OperatorConfig config, ReconcilePartsFactory parts);
  ~Operator();

  // Serves until `stop` is requested (Ok) or the lease is lost (an error,
  // when no on_lease_lost handler ends the process first).
  Status Run(std::stop_token stop);

  // Reconciles every cluster once, in namespace/name order (after taking the
  // lease when leader_elect), and returns. An error names every cluster
  // whose reconcile failed.
  Status RunOnce(std::stop_token stop);

 private:
  struct Shared;
  void WatchLoop(std::stop_token stop);
  void WorkLoop(std::stop_token stop);
  Status ReconcileKey(Reconciler& reconciler, const std::string& key);

  const KubeConnection connection_;
  const OperatorConfig config_;
  const ReconcilePartsFactory parts_;
  std::unique_ptr<Shared> shared_;
};

// What the watch remembers of a cluster, to tell a spec change or a deletion
// (reconcile) from a status write (the operator's own: ignore).
struct SeenCluster {
  int64_t generation = 0;
  bool deleting = false;
};
SeenCluster SeenFrom(const nlohmann::json& object);
// ADDED, DELETED, and MODIFIED with a new generation or a new deletionTimestamp.
bool WantsReconcile(const WatchEvent& event, const std::optional<SeenCluster>& seen);

// "ns/name" and back.
std::string ClusterKey(const std::string& ns, const std::string& name);
std::pair<std::string, std::string> SplitClusterKey(const std::string& key);

}  // namespace zkpilot
