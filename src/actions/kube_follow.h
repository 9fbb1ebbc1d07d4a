// Following a ZooKeeperCluster's operation from the command line.
//
// On Kubernetes the command line only writes the desired state (the
// resource's spec); the operator plans and runs the operation and journals
// it in status.operation (its steps with status pending|running|done|failed|
// skipped, startedAt/finishedAt, detail). OperationTracker turns successive
// snapshots of the resource into the same step-by-step progress a local
// command prints ("[2/7] restart server 1 ...", "[2/7] done in 4.1s: ...",
// "[2/7] FAILED after 60.0s"), and decides when the operation the command
// caused has ended. It is pure (snapshots in, ProgressSink calls and an
// outcome out); FollowCluster feeds it from the API (watch, re-reading after
// a dropped stream) until an outcome or the deadline.
//
// Which operation is "ours": the first with id >= first_operation_id (the
// operator numbers them upwards per cluster). If it has come and gone
// between two snapshots, status.operations (the last 20) still tells how it
// ended. When no operation starts, the operator's verdict for our generation
// ends the wait: condition Valid False (the values or the package were
// refused), or — unless an operation is required — Progressing False once
// status.observedGeneration reached the generation the command wrote
// (nothing needed doing).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "plan/executor.h"
#include "platform/kubernetes/cluster_resource.h"
#include "util/status.h"

namespace zkpilot {

class KubeClient;

struct FollowTarget {
  int64_t generation = 0;          // metadata.generation the command wrote; 0: any
  int64_t first_operation_id = 1;  // ours: the first operation with an id >= this
  bool require_operation = true;   // false: "nothing to do" is an answer too
  bool until_gone = false;         // delete: the object disappearing is success
  // The operator failing our generation before any operation was journaled
  // (Progressing False, OperationFailed: e.g. a field another manager holds)
  // ends the wait. Off for resume, whose generation may carry an earlier
  // failure.
  bool failure_without_operation = true;
  bool quiet_finished_steps =
      false;  // resume: steps already finished when first seen are not printed
};

struct FollowOutcome {
  enum class Kind {
    kSucceeded,    // our operation succeeded (or, deleting, the object is gone)
    kFailed,       // our operation failed: `message` has the step's error
    kRejected,     // the operator refused the spec (condition Valid False): `message`, `reason`
    kNothingToDo,  // the operator saw our generation and started nothing
  };
  Kind kind = Kind::kSucceeded;
  std::string message;
  std::string reason;  // kRejected: the condition's reason (InvalidValues, PackageNotFound, ...)
  std::optional<ClusterOperation> operation;  // ours, as last seen
  std::optional<ZooKeeperCluster> cluster;    // the resource as last seen (none once gone)
};

class OperationTracker {
 public:
  OperationTracker(const FollowTarget& target, ProgressSink& progress);

  // The next snapshot; nullptr: the object is gone. Reports the steps that
  // started or finished since the previous snapshot, in order, and returns
  // the outcome once the operation (or the wait) has ended.
  std::optional<FollowOutcome> Observe(const ZooKeeperCluster* cluster);
  // The same for the object as the API returns it; a snapshot that does not
  // parse is skipped (Describe says why).
  std::optional<FollowOutcome> ObserveObject(const nlohmann::json* object);

  // Where things stand, for a timeout message: "step 3/7 (restart server 2 ...)
  // running" or "the operator has not picked up generation 4 (observed: 3)".
  std::string Describe() const;

 private:
  void Report(const ClusterOperation& operation, bool first_sight);

  FollowTarget target_;
  ProgressSink& progress_;
  std::optional<ZooKeeperCluster> last_;  // last snapshot (none before the first, or once gone)
  int64_t operation_id_ = 0;              // ours, once seen
  std::set<size_t> started_, finished_;
  bool seen_any_ = false;
  std::string unreadable_;  // why the last snapshot was skipped
};

// The outcome as a command's result: Ok when it succeeded (or there was
// nothing to do); the failed step's error (exit 1); the operator's refusal
// (InvalidInput for values or a change the package forbids: exit 2).
// `what`: "upgrade demo".
Status OutcomeStatus(const FollowOutcome& outcome, const std::string& what);

// "healthy: leader 2, 3/3 servers in sync": the last wait-healthy step's
// outcome in the operation's journal ("" when none).
std::string OperationHealth(const FollowOutcome& outcome);

// Reads the cluster `name` in `ns` and feeds `tracker` until it returns an
// outcome or `timeout` passes (IOError naming where things stand: the
// operation goes on in the cluster). Transient API errors (kUnavailable) are
// retried until the deadline; others are returned.
Result<FollowOutcome> FollowCluster(KubeClient& client, const std::string& ns,
                                    const std::string& name, OperationTracker& tracker,
                                    std::chrono::milliseconds timeout);

}  // namespace zkpilot
