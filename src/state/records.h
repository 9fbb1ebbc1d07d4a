// Records: what zkpilot writes down about a cluster's releases — the cluster,
// its revisions (the values of each change), its operations with their step
// journal, and the hook runs. Plain data, the same for every ReleaseStore
// (release_store.h): SQLite locally, the cluster itself on Kubernetes.
//
// Statuses are enums with one name each (the names are what stores keep and
// what `history`/`status` print). A cluster's status stays a string in the
// record (stores written by older versions may hold any name); ClusterState
// names the ones zkpilot itself writes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace zkpilot {

// Timestamps are milliseconds since the Unix epoch.
int64_t NowMillis();

// What a cluster is doing or did last (ClusterRecord::status).
enum class ClusterState { kDeploying, kDeployed, kFailed, kUpdating, kUpdateFailed, kDeleting, kDeleteFailed };
const char* ClusterStateName(ClusterState s);  // "deploying", "deployed", "failed", "updating", ...
std::optional<ClusterState> ParseClusterState(const std::string& s);

struct ClusterRecord {
  std::string name;
  std::string package_dir;     // where the package came from (locally: its directory, absolute)
  std::string package_name;
  std::string platform;        // "local", "kubernetes"
  std::string status;          // a ClusterStateName: "deploying", "deployed", "failed", ...
  int current_revision = 0;    // the revision the cluster runs (0: none yet)
  std::string home;            // the cluster's directory under the state dir (local platform)
  int64_t created_at = 0;
  int64_t updated_at = 0;

  bool Is(ClusterState s) const { return status == ClusterStateName(s); }
};

enum class RevisionStatus { kPending, kDeployed, kFailed, kSuperseded };
const char* RevisionStatusName(RevisionStatus s);
std::optional<RevisionStatus> ParseRevisionStatus(const std::string& s);

struct RevisionRecord {
  std::string cluster;
  int revision = 0;             // 1, 2, ... per cluster
  std::string operation;        // "deploy", "upgrade", "configure", "scale", "rollback", ...
  std::string values_json;      // all parameter values (flat JSON object)
  std::string package_version;
  std::string zk_version;
  RevisionStatus status = RevisionStatus::kPending;
  std::string message;          // why it failed, or a summary
  int64_t started_at = 0;
  int64_t finished_at = 0;      // 0 while running
};

enum class StepStatus { kPending, kRunning, kDone, kFailed, kSkipped };
const char* StepStatusName(StepStatus s);
std::optional<StepStatus> ParseStepStatus(const std::string& s);

struct StepRecord {
  int index = 0;                // 0-based position in the plan
  std::string name;             // "start node 2"
  std::string spec_json;        // the step as data (kind + arguments; plan/plan.h Step::ToJson)
  StepStatus status = StepStatus::kPending;
  std::string detail;           // outcome or error
  int64_t started_at = 0;
  int64_t finished_at = 0;
};

enum class OperationStatus { kRunning, kSucceeded, kFailed };
const char* OperationStatusName(OperationStatus s);
std::optional<OperationStatus> ParseOperationStatus(const std::string& s);

struct OperationRecord {
  int64_t id = 0;
  std::string cluster;
  int revision = 0;
  std::string type;             // same as the revision's operation
  OperationStatus status = OperationStatus::kRunning;
  std::string error;
  int64_t started_at = 0;
  int64_t finished_at = 0;
  std::vector<StepRecord> steps;
};

struct HookRunRecord {
  int64_t operation_id = 0;
  std::string event, phase, step, action;
  std::string status;           // "ok", "failed", "skipped"
  std::string message;
  int64_t at = 0;
};

}  // namespace zkpilot
