// StateStore: zkpilot's local state — clusters, revisions, operations with
// their step journal, nodes and hook runs — in one SQLite database.
//
// It is the local ReleaseStore (release_store.h; the records are those of
// records.h) and also keeps the local platform's own table: the nodes the
// supervisor runs (platform/local/). The nodes are platform state, not
// release records: actions never read them, the local platform does.
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

#include "state/records.h"
#include "state/release_store.h"
#include "util/status.h"

struct sqlite3;

namespace zkpilot {

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
  // Of the zoo.cfg the process was started from, as the supervisor
  // classified it (render/renderer.h TlsStage, quorum SASL stage); -1 unknown.
  int tls_stage = -1;
  int quorum_auth_stage = -1;
};

class StateStore : public ReleaseStore {
 public:
  // Opens (creating if needed) the database at `path`, applying migrations.
  static Result<std::unique_ptr<StateStore>> Open(const std::string& path);
  // The database of a state directory (DatabasePath), creating the directory.
  static Result<std::unique_ptr<StateStore>> OpenInDirectory(const std::string& dir);
  static std::string DatabasePath(const std::string& dir);  // <dir>/state.db
  // An empty database in memory, gone with the object: what a command checks
  // against when the state directory has no database yet, so that checking
  // creates none.
  static Result<std::unique_ptr<StateStore>> OpenInMemory();
  ~StateStore() override;
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Clusters. CreateCluster fails with InvalidInput when the name exists.
  Status CreateCluster(const ClusterRecord& c) override;
  Result<std::optional<ClusterRecord>> GetCluster(const std::string& name) override;
  Result<std::vector<ClusterRecord>> ListClusters() override;  // sorted by name
  // A cluster's unique id (made when it is created; "" for one recorded by
  // an older zkpilot until EnsureClusterUid), nullopt when not recorded. Two
  // clusters of the same name in two databases have different ids.
  Result<std::optional<std::string>> GetClusterUid(const std::string& name);
  // The cluster's id, assigning one first if it has none. NotFound when not recorded.
  Result<std::string> EnsureClusterUid(const std::string& name);
  Status SetClusterStatus(const std::string& name, const std::string& status, int current_revision = -1) override;
  using ReleaseStore::SetClusterStatus;
  // Removes the cluster and everything recorded about it (its nodes too).
  Status DeleteCluster(const std::string& name) override;

  // Revisions. AddRevision assigns the next number and returns it.
  Result<int> AddRevision(const RevisionRecord& r) override;
  // Sets the outcome; the finish time is set once (superseding a revision later keeps its duration).
  Status FinishRevision(const std::string& cluster, int revision, RevisionStatus status,
                        const std::string& message) override;
  Result<std::optional<RevisionRecord>> GetRevision(const std::string& cluster, int revision) override;
  Result<std::vector<RevisionRecord>> ListRevisions(const std::string& cluster) override;  // ascending

  // Operations and their journal. BeginOperation stores the whole plan
  // (every step pending) in one transaction and returns the operation id.
  Result<int64_t> BeginOperation(const OperationRecord& op) override;
  Status MarkStep(int64_t operation_id, int index, StepStatus status, const std::string& detail) override;
  Status FinishOperation(int64_t operation_id, OperationStatus status, const std::string& error) override;
  Result<std::optional<OperationRecord>> GetOperation(int64_t operation_id) override;  // with steps
  // The newest operation of a cluster still marked running (interrupted), if any.
  Result<std::optional<OperationRecord>> UnfinishedOperation(const std::string& cluster) override;
  Result<std::vector<OperationRecord>> ListOperations(const std::string& cluster) override;  // without steps

  // Hook runs.
  Status AddHookRun(const HookRunRecord& h) override;
  Result<std::vector<HookRunRecord>> ListHookRuns(int64_t operation_id) override;

  // Nodes.
  Status UpsertNode(const NodeRecord& n);
  Result<std::vector<NodeRecord>> ListNodes(const std::string& cluster);  // by id
  Status DeleteNode(const std::string& cluster, int id);
  // Supervisor's view: record the process it started, or that it exited.
  // tls_stage, quorum_auth_stage: of the zoo.cfg it was started from (-1 unknown).
  Status SetNodeProcess(const std::string& cluster, int id, int pid, int64_t started_generation, int64_t started_at,
                        int tls_stage = -1, int quorum_auth_stage = -1);
  Status RecordNodeExit(const std::string& cluster, int id, const std::string& last_exit, bool count_restart);
  // Command's view: desired state and restart requests.
  Status SetNodeDesired(const std::string& cluster, int id, const std::string& desired);
  Status BumpNodeGeneration(const std::string& cluster, int id);
  // Raises the node's generation to `generation` unless it is already there:
  // asking twice for the same restart restarts once.
  Status RequestGeneration(const std::string& cluster, int id, int64_t generation);

 private:
  explicit StateStore(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace zkpilot
