// Plain data the reconciler (reconciler.h, which speaks in terms of the
// ZooKeeperCluster resource) and the operator's action glue
// (operator_cores.h, which speaks in terms of platforms and the action
// cores) exchange. It includes neither side's headers, so each side can
// include it.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "util/status.h"

namespace zkpilot {

// What a reconcile does to a cluster (at most one operation).
enum class ReconcileOp {
  kNone,
  kDeploy,
  kResume,
  kConfigure,
  kUpgrade,
  kRollback,
  kRestart,
  kScale,
  kDelete
};
const char* ReconcileOpName(ReconcileOp op);  // "deploy", "resume", ...

// One server as the platform and ZooKeeper see it (status.members).
struct ObservedServer {
  int id = 0;
  std::string role;     // leader, follower, observer, not-serving, down
  std::string version;  // ZooKeeper version it runs
  std::string zxid;     // "0x100000005"
  bool ready = false;   // serving and in sync with the leader
  std::string pod;
  std::string pod_uid;
  int restarts = 0;
};

// The ensemble as observed.
struct ClusterObservation {
  std::vector<ObservedServer> servers;  // by id
  int leader = 0;
  bool quorum = false;
  bool healthy = false;
  std::string ready_reason, ready_message;  // Ready: QuorumAvailable / NoQuorum / NoLeader ...
  std::string degraded_reason, degraded_message;  // Degraded: AllServersInSync / ServersUnhealthy
};

// Called by an operation with its outcome, before its end is recorded.
using OperationSettled = std::function<void(const Status& outcome)>;

}  // namespace zkpilot
