// StateStore on SQLite: the connection settings and the mapping between
// records and rows. The schema and its migrations are in state_schema.cc.
//
// Every public call runs in exactly one transaction (writes BEGIN IMMEDIATE,
// reads a deferred BEGIN so multi-statement reads see one snapshot). Values
// are always bound to prepared statements, never spliced into SQL text.
#include "state/state_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <thread>
#include <utility>

#include "state/sqlite_db.h"
#include "state/state_schema.h"

namespace zkpilot {
namespace {

using sqlite_db::DbError;
using sqlite_db::DbPath;
using sqlite_db::Exec;
using sqlite_db::ForEachRow;
using sqlite_db::Statement;
using sqlite_db::Transact;
using sqlite_db::TxKind;

// Parses an enum column, failing on a name this version does not know.
template <typename E>
Status ParseColumn(sqlite3* db, const std::string& what, const std::string& column,
                   const std::string& value, std::optional<E> (*parse)(const std::string&),
                   E* out) {
  auto parsed = parse(value);
  if (!parsed)
    return Status::Internal("state database " + DbPath(db) + ": " + what + ": unknown " + column +
                            " '" + value + "'");
  *out = *parsed;
  return Status::Ok();
}

Status NoCluster(const std::string& name) {
  return Status::NotFound("cluster " + name + " not found");
}
Status NoOperation(int64_t id) {
  return Status::NotFound("operation " + std::to_string(id) + " not found");
}
Status NoNode(const std::string& cluster, int id) {
  return Status::NotFound("node " + std::to_string(id) + " of cluster " + cluster + " not found");
}

Result<bool> Exists(sqlite3* db, const std::string& what, const char* sql, const std::string& key) {
  Statement st(db, what, sql);
  return st.Bind(key).Step();
}
Status RequireCluster(sqlite3* db, const std::string& what, const std::string& name) {
  ZK_ASSIGN_OR_RETURN(bool found, Exists(db, what, "SELECT 1 FROM clusters WHERE name = ?", name));
  return found ? Status::Ok() : NoCluster(name);
}
Status RequireOperation(sqlite3* db, const std::string& what, int64_t id) {
  Statement st(db, what, "SELECT 1 FROM operations WHERE id = ?");
  ZK_ASSIGN_OR_RETURN(bool found, st.Bind(id).Step());
  return found ? Status::Ok() : NoOperation(id);
}

// Runs an UPDATE/DELETE that must touch a row, else returns `missing`.
Status RunOnExisting(sqlite3* db, Statement& st, Status missing) {
  ZK_RETURN_IF_ERROR(st.Run());
  return sqlite3_changes(db) > 0 ? Status::Ok() : missing;
}

// Column lists and row readers: the order here is the order of the columns.
// SQLite's name for a private database in memory.
constexpr const char* kInMemory = ":memory:";

constexpr const char* kClusterColumns =
    "name, package_dir, package_name, platform, status, current_revision, home, created_at, "
    "updated_at";
ClusterRecord ReadCluster(const Statement& st) {
  ClusterRecord c;
  c.name = st.Text(0), c.package_dir = st.Text(1), c.package_name = st.Text(2);
  c.platform = st.Text(3), c.status = st.Text(4), c.current_revision = static_cast<int>(st.Int(5));
  c.home = st.Text(6);
  c.created_at = st.Int(7), c.updated_at = st.Int(8);
  return c;
}

// A cluster's unique id: 128 random bits in hex, made by SQLite.
constexpr const char* kNewUid = "lower(hex(randomblob(16)))";

constexpr const char* kRevisionColumns =
    "cluster, revision, operation, values_json, package_version, zk_version, status, message, "
    "started_at, finished_at";
Status ReadRevision(sqlite3* db, const std::string& what, const Statement& st, RevisionRecord* r) {
  r->cluster = st.Text(0), r->revision = static_cast<int>(st.Int(1)), r->operation = st.Text(2);
  r->values_json = st.Text(3), r->package_version = st.Text(4), r->zk_version = st.Text(5);
  r->message = st.Text(7), r->started_at = st.Int(8), r->finished_at = st.Int(9);
  return ParseColumn(db, what, "revision status", st.Text(6), ParseRevisionStatus, &r->status);
}

constexpr const char* kOperationColumns =
    "id, cluster, revision, type, status, error, started_at, finished_at";
Status ReadOperation(sqlite3* db, const std::string& what, const Statement& st,
                     OperationRecord* op) {
  op->id = st.Int(0), op->cluster = st.Text(1), op->revision = static_cast<int>(st.Int(2));
  op->type = st.Text(3), op->error = st.Text(5);
  op->started_at = st.Int(6), op->finished_at = st.Int(7);
  return ParseColumn(db, what, "operation status", st.Text(4), ParseOperationStatus, &op->status);
}

Status LoadSteps(sqlite3* db, const std::string& what, OperationRecord* op) {
  Statement st(db, what,
               "SELECT idx, name, spec_json, status, detail, started_at, finished_at FROM steps "
               "WHERE operation_id = ? ORDER BY idx");
  st.Bind(op->id);
  op->steps.clear();
  return ForEachRow(st, [&]() -> Status {
    StepRecord s;
    s.index = static_cast<int>(st.Int(0)), s.name = st.Text(1), s.spec_json = st.Text(2);
    s.detail = st.Text(4), s.started_at = st.Int(5), s.finished_at = st.Int(6);
    ZK_RETURN_IF_ERROR(
        ParseColumn(db, what, "step status", st.Text(3), ParseStepStatus, &s.status));
    op->steps.push_back(std::move(s));
    return Status::Ok();
  });
}

// Reads the single operation `st` selects, with its steps, if there is one.
Result<std::optional<OperationRecord>> ReadOneOperation(sqlite3* db, const std::string& what,
                                                        Statement& st) {
  ZK_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::optional<OperationRecord>();
  OperationRecord op;
  ZK_RETURN_IF_ERROR(ReadOperation(db, what, st, &op));
  ZK_RETURN_IF_ERROR(LoadSteps(db, what, &op));
  return std::optional<OperationRecord>(std::move(op));
}

constexpr const char* kNodeColumns =
    "cluster, id, client_port, quorum_port, election_port, admin_port, dir, data_dir, "
    "distribution, desired, generation, started_generation, pid, restarts, started_at, last_exit, "
    "tls_stage, quorum_auth_stage";
NodeRecord ReadNode(const Statement& st) {
  NodeRecord n;
  n.cluster = st.Text(0), n.id = static_cast<int>(st.Int(1));
  n.client_port = static_cast<int>(st.Int(2)), n.quorum_port = static_cast<int>(st.Int(3));
  n.election_port = static_cast<int>(st.Int(4)), n.admin_port = static_cast<int>(st.Int(5));
  n.dir = st.Text(6), n.data_dir = st.Text(7), n.distribution = st.Text(8), n.desired = st.Text(9);
  n.generation = st.Int(10), n.started_generation = st.Int(11);
  n.pid = static_cast<int>(st.Int(12)), n.restarts = static_cast<int>(st.Int(13));
  n.started_at = st.Int(14), n.last_exit = st.Text(15);
  n.tls_stage = static_cast<int>(st.Int(16)), n.quorum_auth_stage = static_cast<int>(st.Int(17));
  return n;
}

std::string Sql(std::initializer_list<const char*> parts) {
  std::string s;
  for (const char* p : parts) s += p;
  return s;
}

int64_t OrNow(int64_t t) { return t != 0 ? t : NowMillis(); }

}  // namespace

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec)
    return Status::IOError("state database " + path + ": create " + parent.string() + ": " +
                           ec.message());

  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (db == nullptr) return Status::IOError("state database " + path + ": open: out of memory");
  std::unique_ptr<StateStore> store(new StateStore(db));  // closes `db` on every return below
  if (rc != SQLITE_OK)
    return Status::IOError("state database " + path + ": open: " + sqlite3_errmsg(db));

  // The busy timeout first: the pragmas below may already wait for another process.
  sqlite3_busy_timeout(db, 10000);
  // A database in memory has no journal file to switch (SQLite keeps it "memory").
  if (path != std::string(kInMemory)) {
    // Switching a new database to WAL needs an exclusive lock. When several
    // processes open a new database at once, SQLite answers SQLITE_BUSY at
    // once instead of calling the busy handler (a reader upgrading its lock
    // while another holds one would deadlock), so the switch is retried here
    // within the same 10 s.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (int attempt = 0;; ++attempt) {
      Statement wal(db, "set journal mode", "PRAGMA journal_mode = WAL");
      Result<bool> row = wal.Step();
      if (!row.ok() && sqlite3_errcode(db) == SQLITE_BUSY &&
          std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5 + 5 * std::min(attempt, 9)));
        continue;
      }
      ZK_RETURN_IF_ERROR(row.status());
      if (!*row || wal.Text(0) != "wal") {
        return Status::IOError("state database " + path +
                               ": set journal mode: WAL not available (got '" +
                               (*row ? wal.Text(0) : std::string()) + "')");
      }
      break;
    }
  }
  // synchronous=FULL syncs the WAL on every commit. NORMAL would keep the
  // database consistent too but may lose the last commits on power loss;
  // the step journal is what tells a resumed operation which steps already
  // ran, so a step marked done must stay done.
  ZK_RETURN_IF_ERROR(Exec(db, "set synchronous", "PRAGMA synchronous = FULL"));
  ZK_RETURN_IF_ERROR(Exec(db, "enable foreign keys", "PRAGMA foreign_keys = ON"));
  ZK_RETURN_IF_ERROR(MigrateStateSchema(db));
  return store;
}

Result<std::unique_ptr<StateStore>> StateStore::OpenInMemory() { return Open(kInMemory); }

std::string StateStore::DatabasePath(const std::string& dir) { return dir + "/state.db"; }

Result<std::unique_ptr<StateStore>> StateStore::OpenInDirectory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("state directory " + dir + ": " + ec.message());
  return Open(DatabasePath(dir));
}

StateStore::~StateStore() { sqlite3_close_v2(db_); }

// ---- Clusters ----

Status StateStore::CreateCluster(const ClusterRecord& c) {
  const std::string what = "create cluster " + c.name;
  return Transact(db_, what, TxKind::kWrite, [&]() -> Status {
    ZK_ASSIGN_OR_RETURN(bool exists,
                        Exists(db_, what, "SELECT 1 FROM clusters WHERE name = ?", c.name));
    if (exists) return Status::InvalidInput("cluster " + c.name + " already exists");
    Statement st(db_, what,
                 Sql({"INSERT INTO clusters (", kClusterColumns, ", uid) VALUES (?,?,?,?,?,?,?,?,?,", kNewUid, ")"}));
    const int64_t created = OrNow(c.created_at);
    st.Bind(c.name, c.package_dir, c.package_name, c.platform, c.status, c.current_revision, c.home,
            created, c.updated_at != 0 ? c.updated_at : created);
    return st.Run();
  });
}

Result<std::optional<std::string>> StateStore::GetClusterUid(const std::string& name) {
  Statement st(db_, "get id of cluster " + name, "SELECT uid FROM clusters WHERE name = ?");
  ZK_ASSIGN_OR_RETURN(bool row, st.Bind(name).Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(st.Text(0));
}

Result<std::string> StateStore::EnsureClusterUid(const std::string& name) {
  const std::string what = "assign an id to cluster " + name;
  std::string uid;
  ZK_RETURN_IF_ERROR(Transact(db_, what, TxKind::kWrite, [&]() -> Status {
    Statement set(db_, what, Sql({"UPDATE clusters SET uid = ", kNewUid, " WHERE name = ? AND uid = ''"}));
    ZK_RETURN_IF_ERROR(set.Bind(name).Run());
    Statement get(db_, what, "SELECT uid FROM clusters WHERE name = ?");
    ZK_ASSIGN_OR_RETURN(bool row, get.Bind(name).Step());
    if (!row) return NoCluster(name);
    uid = get.Text(0);
    return Status::Ok();
  }));
  return uid;
}

Result<std::optional<ClusterRecord>> StateStore::GetCluster(const std::string& name) {
  Statement st(db_, "get cluster " + name,
               Sql({"SELECT ", kClusterColumns, " FROM clusters WHERE name = ?"}));
  ZK_ASSIGN_OR_RETURN(bool row, st.Bind(name).Step());
  if (!row) return std::optional<ClusterRecord>();
  return std::optional<ClusterRecord>(ReadCluster(st));
}

Result<std::vector<ClusterRecord>> StateStore::ListClusters() {
  Statement st(db_, "list clusters",
               Sql({"SELECT ", kClusterColumns, " FROM clusters ORDER BY name"}));
  std::vector<ClusterRecord> out;
  ZK_RETURN_IF_ERROR(ForEachRow(st, [&] {
    out.push_back(ReadCluster(st));
    return Status::Ok();
  }));
  return out;
}

Status StateStore::SetClusterStatus(const std::string& name, const std::string& status,
                                    int current_revision) {
  const std::string what = "set status of cluster " + name;
  return Transact(db_, what, TxKind::kWrite, [&]() -> Status {
    Statement st(
        db_, what,
        "UPDATE clusters SET status = ?1, updated_at = ?2, "
        "current_revision = CASE WHEN ?3 < 0 THEN current_revision ELSE ?3 END WHERE name = ?4");
    st.Bind(status, NowMillis(), current_revision, name);
    return RunOnExisting(db_, st, NoCluster(name));
  });
}

Status StateStore::DeleteCluster(const std::string& name) {
  const std::string what = "delete cluster " + name;
  return Transact(db_, what, TxKind::kWrite, [&]() -> Status {
    // Revisions, operations (with their steps and hook runs) and nodes go by ON DELETE CASCADE.
    Statement st(db_, what, "DELETE FROM clusters WHERE name = ?");
    st.Bind(name);
    return RunOnExisting(db_, st, NoCluster(name));
  });
}

// ---- Revisions ----

Result<int> StateStore::AddRevision(const RevisionRecord& r) {
  const std::string what = "add revision to cluster " + r.cluster;
  int number = 0;
  ZK_RETURN_IF_ERROR(Transact(db_, what, TxKind::kWrite, [&]() -> Status {
    ZK_RETURN_IF_ERROR(RequireCluster(db_, what, r.cluster));
    Statement next(db_, what,
                   "SELECT COALESCE(MAX(revision), 0) + 1 FROM revisions WHERE cluster = ?");
    ZK_RETURN_IF_ERROR(next.Bind(r.cluster).Step().status());  // an aggregate: one row
    number = static_cast<int>(next.Int(0));
    Statement st(
        db_, what,
        Sql({"INSERT INTO revisions (", kRevisionColumns, ") VALUES (?,?,?,?,?,?,?,?,?,?)"}));
    st.Bind(r.cluster, number, r.operation, r.values_json, r.package_version, r.zk_version,
            RevisionStatusName(r.status), r.message, OrNow(r.started_at), r.finished_at);
    return st.Run();
  }));
  return number;
}

Status StateStore::FinishRevision(const std::string& cluster, int revision, RevisionStatus status,
                                  const std::string& message) {
  const std::string what = "finish revision " + std::to_string(revision) + " of cluster " + cluster;
  return Transact(db_, what, TxKind::kWrite, [&]() -> Status {
    Statement st(db_, what,
                 "UPDATE revisions SET status = ?, message = ?, "
                 "finished_at = CASE WHEN finished_at > 0 THEN finished_at ELSE ? END "
                 "WHERE cluster = ? AND revision = ?");
    st.Bind(RevisionStatusName(status), message, NowMillis(), cluster, revision);
    return RunOnExisting(db_, st,
                         Status::NotFound("revision " + std::to_string(revision) + " of cluster " +
                                          cluster + " not found"));
  });
}

Result<std::optional<RevisionRecord>> StateStore::GetRevision(const std::string& cluster,
                                                              int revision) {
  const std::string what = "get revision " + std::to_string(revision) + " of cluster " + cluster;
  Statement st(
      db_, what,
      Sql({"SELECT ", kRevisionColumns, " FROM revisions WHERE cluster = ? AND revision = ?"}));
  ZK_ASSIGN_OR_RETURN(bool row, st.Bind(cluster, revision).Step());
  if (!row) return std::optional<RevisionRecord>();
  RevisionRecord r;
  ZK_RETURN_IF_ERROR(ReadRevision(db_, what, st, &r));
  return std::optional<RevisionRecord>(std::move(r));
}

Result<std::vector<RevisionRecord>> StateStore::ListRevisions(const std::string& cluster) {
  const std::string what = "list revisions of cluster " + cluster;
  std::vector<RevisionRecord> out;
  ZK_RETURN_IF_ERROR(Transact(db_, what, TxKind::kRead, [&]() -> Status {
    ZK_RETURN_IF_ERROR(RequireCluster(db_, what, cluster));
    Statement st(
        db_, what,
        Sql({"SELECT ", kRevisionColumns, " FROM revisions WHERE cluster = ? ORDER BY revision"}));
    st.Bind(cluster);
    return ForEachRow(st, [&]() -> Status {
      ZK_RETURN_IF_ERROR(ReadRevision(db_, what, st, &out.emplace_back()));
      return Status::Ok();
    });
  }));
  return out;
}

// ---- Operations ----

Result<int64_t> StateStore::BeginOperation(const OperationRecord& op) {
  const std::string what = "begin " + op.type + " operation on cluster " + op.cluster;
  int64_t id = 0;
  ZK_RETURN_IF_ERROR(Transact(db_, what, TxKind::kWrite, [&]() -> Status {
    ZK_RETURN_IF_ERROR(RequireCluster(db_, what, op.cluster));
    Statement ins(
        db_, what,
        "INSERT INTO operations (cluster, revision, type, status, error, started_at, finished_at) "
        "VALUES (?, ?, ?, ?, '', ?, 0)");
    ins.Bind(op.cluster, op.revision, op.type, OperationStatusName(OperationStatus::kRunning));
    ZK_RETURN_IF_ERROR(ins.Bind(OrNow(op.started_at)).Run());
    id = sqlite3_last_insert_rowid(db_);
    // Steps are numbered by their position in the plan; every one starts pending.
    Statement step(db_, what,
                   "INSERT INTO steps (operation_id, idx, name, spec_json, status, detail, "
                   "started_at, finished_at) "
                   "VALUES (?, ?, ?, ?, ?, '', 0, 0)");
    for (size_t i = 0; i < op.steps.size(); ++i) {
      step.Reset();
      step.Bind(id, static_cast<int64_t>(i), op.steps[i].name, op.steps[i].spec_json);
      ZK_RETURN_IF_ERROR(step.Bind(StepStatusName(StepStatus::kPending)).Run());
    }
    return Status::Ok();
  }));
  return id;
}

Status StateStore::MarkStep(int64_t operation_id, int index, StepStatus status,
                            const std::string& detail) {
  const std::string what =
      "mark step " + std::to_string(index) + " of operation " + std::to_string(operation_id);
  return Transact(db_, what, TxKind::kWrite, [&]() -> Status {
    // running (re)starts the clock; done, failed and skipped stop it (and
    // start it too when the step never ran); pending clears both.
    const int clock = status == StepStatus::kPending ? 0 : status == StepStatus::kRunning ? 1 : 2;
    Statement st(db_, what,
                 "UPDATE steps SET status = ?1, detail = ?2, "
                 "started_at = CASE ?3 WHEN 0 THEN 0 WHEN 1 THEN ?4 "
                 "  ELSE (CASE started_at WHEN 0 THEN ?4 ELSE started_at END) END, "
                 "finished_at = CASE ?3 WHEN 2 THEN ?4 ELSE 0 END "
                 "WHERE operation_id = ?5 AND idx = ?6");
    st.Bind(StepStatusName(status), detail, clock, NowMillis(), operation_id, index);
    ZK_RETURN_IF_ERROR(st.Run());
    if (sqlite3_changes(db_) > 0) return Status::Ok();
    ZK_RETURN_IF_ERROR(RequireOperation(db_, what, operation_id));
    return Status::NotFound("step " + std::to_string(index) + " of operation " +
                            std::to_string(operation_id) + " not found");
  });
}

Status StateStore::FinishOperation(int64_t operation_id, OperationStatus status,
                                   const std::string& error) {
  const std::string what = "finish operation " + std::to_string(operation_id);
  return Transact(db_, what, TxKind::kWrite, [&]() -> Status {
    Statement st(db_, what,
                 "UPDATE operations SET status = ?, error = ?, finished_at = ? WHERE id = ?");
    st.Bind(OperationStatusName(status), error, NowMillis(), operation_id);
    return RunOnExisting(db_, st, NoOperation(operation_id));
  });
}

Result<std::optional<OperationRecord>> StateStore::GetOperation(int64_t operation_id) {
  const std::string what = "get operation " + std::to_string(operation_id);
  std::optional<OperationRecord> out;
  ZK_RETURN_IF_ERROR(Transact(db_, what, TxKind::kRead, [&]() -> Status {
    Statement st(db_, what, Sql({"SELECT ", kOperationColumns, " FROM operations WHERE id = ?"}));
    st.Bind(operation_id);
    ZK_ASSIGN_OR_RETURN(out, ReadOneOperation(db_, what, st));
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<OperationRecord>> StateStore::UnfinishedOperation(const std::string& cluster) {
  const std::string what = "find unfinished operation of cluster " + cluster;
  std::optional<OperationRecord> out;
  ZK_RETURN_IF_ERROR(Transact(db_, what, TxKind::kRead, [&]() -> Status {
    ZK_RETURN_IF_ERROR(RequireCluster(db_, what, cluster));
    Statement st(
        db_, what,
        Sql({"SELECT ", kOperationColumns,
             " FROM operations WHERE cluster = ? AND status = ? ORDER BY id DESC LIMIT 1"}));
    st.Bind(cluster, OperationStatusName(OperationStatus::kRunning));
    ZK_ASSIGN_OR_RETURN(out, ReadOneOperation(db_, what, st));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<OperationRecord>> StateStore::ListOperations(const std::string& cluster) {
  const std::string what = "list operations of cluster " + cluster;
  std::vector<OperationRecord> out;
  ZK_RETURN_IF_ERROR(Transact(db_, what, TxKind::kRead, [&]() -> Status {
    ZK_RETURN_IF_ERROR(RequireCluster(db_, what, cluster));
    Statement st(
        db_, what,
        Sql({"SELECT ", kOperationColumns, " FROM operations WHERE cluster = ? ORDER BY id"}));
    st.Bind(cluster);
    return ForEachRow(
        st, [&]() -> Status { return ReadOperation(db_, what, st, &out.emplace_back()); });
  }));
  return out;
}

// ---- Nodes ----

Status StateStore::UpsertNode(const NodeRecord& n) {
  const std::string what = "store node " + std::to_string(n.id) + " of cluster " + n.cluster;
  return Transact(db_, what, TxKind::kWrite, [&]() -> Status {
    ZK_RETURN_IF_ERROR(RequireCluster(db_, what, n.cluster));
    // A new node is stored as given. An existing node keeps the process
    // fields the supervisor owns (pid, started_generation, restarts,
    // started_at, last_exit, tls_stage, quorum_auth_stage), so a command writing back a stale record cannot
    // make the supervisor lose a running process; the generation only rises,
    // so a stale record cannot undo a restart request.
    Statement st(
        db_, what,
        Sql({"INSERT INTO nodes (", kNodeColumns, ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ",
             "ON CONFLICT (cluster, id) DO UPDATE SET client_port = excluded.client_port, "
             "quorum_port = excluded.quorum_port, election_port = excluded.election_port, "
             "admin_port = excluded.admin_port, dir = excluded.dir, data_dir = excluded.data_dir, "
             "distribution = excluded.distribution, desired = excluded.desired, "
             "generation = MAX(generation, excluded.generation)"}));
    st.Bind(n.cluster, n.id, n.client_port, n.quorum_port, n.election_port, n.admin_port, n.dir,
            n.data_dir, n.distribution, n.desired, n.generation, n.started_generation, n.pid,
            n.restarts, n.started_at);
    return st.Bind(n.last_exit, n.tls_stage, n.quorum_auth_stage).Run();
  });
}

Result<std::vector<NodeRecord>> StateStore::ListNodes(const std::string& cluster) {
  const std::string what = "list nodes of cluster " + cluster;
  std::vector<NodeRecord> out;
  ZK_RETURN_IF_ERROR(Transact(db_, what, TxKind::kRead, [&]() -> Status {
    ZK_RETURN_IF_ERROR(RequireCluster(db_, what, cluster));
    Statement st(db_, what,
                 Sql({"SELECT ", kNodeColumns, " FROM nodes WHERE cluster = ? ORDER BY id"}));
    st.Bind(cluster);
    return ForEachRow(st, [&] {
      out.push_back(ReadNode(st));
      return Status::Ok();
    });
  }));
  return out;
}

namespace {
// One UPDATE or DELETE of one node, as its own transaction. `sql` takes
// `args`, then the node's cluster and id.
template <typename... Args>
Status UpdateNode(sqlite3* db, const std::string& what, const std::string& cluster, int id,
                  const char* sql, const Args&... args) {
  return Transact(db, what, TxKind::kWrite, [&]() -> Status {
    Statement st(db, what, sql);
    (st.Bind(args), ...);
    st.Bind(cluster, id);
    return RunOnExisting(db, st, NoNode(cluster, id));
  });
}
std::string NodeWhat(const char* verb, const std::string& cluster, int id) {
  return std::string(verb) + " node " + std::to_string(id) + " of cluster " + cluster;
}
}  // namespace

Status StateStore::DeleteNode(const std::string& cluster, int id) {
  return UpdateNode(db_, NodeWhat("delete", cluster, id), cluster, id,
                    "DELETE FROM nodes WHERE cluster = ? AND id = ?");
}

Status StateStore::SetNodeProcess(const std::string& cluster, int id, int pid,
                                  int64_t started_generation, int64_t started_at, int tls_stage,
                                  int quorum_auth_stage) {
  return UpdateNode(db_, NodeWhat("record process of", cluster, id), cluster, id,
                    "UPDATE nodes SET pid = ?, started_generation = ?, started_at = ?, tls_stage = ?, "
                    "quorum_auth_stage = ? WHERE cluster = ? AND id = ?",
                    pid, started_generation, started_at, tls_stage, quorum_auth_stage);
}

Status StateStore::RecordNodeExit(const std::string& cluster, int id, const std::string& last_exit,
                                  bool count_restart) {
  return UpdateNode(db_, NodeWhat("record exit of", cluster, id), cluster, id,
                    "UPDATE nodes SET pid = 0, last_exit = ?, restarts = restarts + ? "
                    "WHERE cluster = ? AND id = ?",
                    last_exit, count_restart ? 1 : 0);
}

Status StateStore::SetNodeDesired(const std::string& cluster, int id, const std::string& desired) {
  return UpdateNode(db_, NodeWhat("set desired state of", cluster, id), cluster, id,
                    "UPDATE nodes SET desired = ? WHERE cluster = ? AND id = ?", desired);
}

Status StateStore::BumpNodeGeneration(const std::string& cluster, int id) {
  return UpdateNode(db_, NodeWhat("request restart of", cluster, id), cluster, id,
                    "UPDATE nodes SET generation = generation + 1 WHERE cluster = ? AND id = ?");
}

Status StateStore::RequestGeneration(const std::string& cluster, int id, int64_t generation) {
  const std::string what = NodeWhat("request restart of", cluster, id);
  return Transact(db_, what, TxKind::kWrite, [&]() -> Status {
    Statement st(db_, what, "UPDATE nodes SET generation = MAX(generation, ?) WHERE cluster = ? AND id = ?");
    st.Bind(generation, cluster, id);
    ZK_RETURN_IF_ERROR(st.Run());
    if (sqlite3_changes(db_) == 0) return Status::NotFound("node " + std::to_string(id) + " of cluster " + cluster + " not found");
    return Status::Ok();
  });
}

// ---- Hook runs ----

Status StateStore::AddHookRun(const HookRunRecord& h) {
  const std::string what = "record hook run for operation " + std::to_string(h.operation_id);
  return Transact(db_, what, TxKind::kWrite, [&]() -> Status {
    ZK_RETURN_IF_ERROR(RequireOperation(db_, what, h.operation_id));
    Statement st(
        db_, what,
        "INSERT INTO hook_runs (operation_id, event, phase, step, action, status, message, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    st.Bind(h.operation_id, h.event, h.phase, h.step, h.action, h.status);
    return st.Bind(h.message, OrNow(h.at)).Run();
  });
}

Result<std::vector<HookRunRecord>> StateStore::ListHookRuns(int64_t operation_id) {
  const std::string what = "list hook runs of operation " + std::to_string(operation_id);
  std::vector<HookRunRecord> out;
  ZK_RETURN_IF_ERROR(Transact(db_, what, TxKind::kRead, [&]() -> Status {
    ZK_RETURN_IF_ERROR(RequireOperation(db_, what, operation_id));
    Statement st(
        db_, what,
        "SELECT operation_id, event, phase, step, action, status, message, at FROM hook_runs "
        "WHERE operation_id = ? ORDER BY id");
    st.Bind(operation_id);
    return ForEachRow(st, [&] {
      auto& h = out.emplace_back();
      h.operation_id = st.Int(0), h.event = st.Text(1), h.phase = st.Text(2), h.step = st.Text(3);
      h.action = st.Text(4), h.status = st.Text(5), h.message = st.Text(6), h.at = st.Int(7);
      return Status::Ok();
    });
  }));
  return out;
}

}  // namespace zkpilot
