// StateStore: zkpilot's local state — clusters, revisions, operations with
// their step journal, nodes and hook runs — in one SQLite database.
//
// Every mutating call is one transaction: a crash at any point leaves either
// the state before or after the call. The database is opened in WAL mode with
// a busy timeout, so the command line and a cluster's supervisor (two
// processes) can use it at once. A StateStore object is not thread-safe; use
// one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

struct sqlite3;

namespace zkpilot {

// Timestamps are milliseconds since the Unix epoch.
int64_t NowMillis();

struct ClusterRecord {
  std::string name;
  std::string package_dir;     // absolute path of the package it was deployed from
  std::string package_name;
  std::string platform;        // "local"
  std::string status;          // "deploying", "deployed", "failed", "deleting", ...
  int current_revision = 0;    // the revision the cluster runs (0: none yet)
  std::string home;            // the cluster's directory under the state dir
  int64_t created_at = 0;
  int64_t updated_at = 0;
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
  std::string spec_json;        // the step as data (kind + arguments)
  StepStatus status = StepStatus::kPending;
  std::string detail;           // outcome or error
  int64_t started_at = 0;
  int64_t finished_at = 0;
};

enum class OperationStatus { kRunning, kSucceeded, kFailed };
const char* OperationStatusName(OperationStatus s);

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

// A ZooKeeper server of a local cluster, as the supervisor runs it.
struct NodeRecord {
  std::string cluster;
  int id = 0;
  int client_port = 0, quorum_port = 0, election_port = 0, admin_port = 0;
  std::string dir;              // the node's directory (conf/, data/, log files)
  std::string data_dir;         // snapshot directory
  std::string distribution;     // distribution id it runs, "debian-3.8.0"
  std::string desired;          // "running" or "stopped"
  int64_t generation = 0;       // bumped to ask the supervisor for a restart
  int64_t started_generation = 0;  // generation of the running process
  int pid = 0;                  // 0 when not running
  int restarts = 0;             // restarts after unexpected exits
  int64_t started_at = 0;
  std::string last_exit;        // "exited with 1", "killed by signal 9"
};

struct HookRunRecord {
  int64_t operation_id = 0;
  std::string event, phase, step, action;
  std::string status;           // "ok", "failed", "skipped"
  std::string message;
  int64_t at = 0;
};

class StateStore {
 public:
  // Opens (creating if needed) the database at `path`, applying migrations.
  static Result<std::unique_ptr<StateStore>> Open(const std::string& path);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Clusters. CreateCluster fails with InvalidInput when the name exists.
  Status CreateCluster(const ClusterRecord& c);
  Result<std::optional<ClusterRecord>> GetCluster(const std::string& name);
  Result<std::vector<ClusterRecord>> ListClusters();  // sorted by name
  Status SetClusterStatus(const std::string& name, const std::string& status, int current_revision = -1);
  // Removes the cluster and everything recorded about it.
  Status DeleteCluster(const std::string& name);

  // Revisions. AddRevision assigns the next number and returns it.
  Result<int> AddRevision(const RevisionRecord& r);
  // Sets the outcome; the finish time is set once (superseding a revision later keeps its duration).
  Status FinishRevision(const std::string& cluster, int revision, RevisionStatus status, const std::string& message);
  Result<std::optional<RevisionRecord>> GetRevision(const std::string& cluster, int revision);
  Result<std::vector<RevisionRecord>> ListRevisions(const std::string& cluster);  // ascending

  // Operations and their journal. BeginOperation stores the whole plan
  // (every step pending) in one transaction and returns the operation id.
  Result<int64_t> BeginOperation(const OperationRecord& op);
  Status MarkStep(int64_t operation_id, int index, StepStatus status, const std::string& detail);
  Status FinishOperation(int64_t operation_id, OperationStatus status, const std::string& error);
  Result<std::optional<OperationRecord>> GetOperation(int64_t operation_id);  // with steps
  // The newest operation of a cluster still marked running (interrupted), if any.
  Result<std::optional<OperationRecord>> UnfinishedOperation(const std::string& cluster);
  Result<std::vector<OperationRecord>> ListOperations(const std::string& cluster);  // without steps

  // Nodes.
  Status UpsertNode(const NodeRecord& n);
  Result<std::vector<NodeRecord>> ListNodes(const std::string& cluster);  // by id
  Status DeleteNode(const std::string& cluster, int id);
  // Supervisor's view: record the process it started, or that it exited.
  Status SetNodeProcess(const std::string& cluster, int id, int pid, int64_t started_generation, int64_t started_at);
  Status RecordNodeExit(const std::string& cluster, int id, const std::string& last_exit, bool count_restart);
  // Command's view: desired state and restart requests.
  Status SetNodeDesired(const std::string& cluster, int id, const std::string& desired);
  Status BumpNodeGeneration(const std::string& cluster, int id);
  // Raises the node's generation to `generation` unless it is already there:
  // asking twice for the same restart restarts once.
  Status RequestGeneration(const std::string& cluster, int id, int64_t generation);

  // Hook runs.
  Status AddHookRun(const HookRunRecord& h);
  Result<std::vector<HookRunRecord>> ListHookRuns(int64_t operation_id);

 private:
  explicit StateStore(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace zkpilot
