#include "state/state_schema.h"

#include <iterator>
#include <string>

#include "state/sqlite_db.h"

namespace zkpilot {
namespace {

using sqlite_db::DbPath;
using sqlite_db::Exec;
using sqlite_db::Statement;
using sqlite_db::Transact;
using sqlite_db::TxKind;

// Schema migrations, applied in order: entry i brings the schema to version
// i + 1 (recorded in PRAGMA user_version). A released entry is never edited;
// a schema change appends one.
//
// Enums are stored as their names without CHECK constraints, so adding a
// status later needs no table rebuild; rows are validated when read.
constexpr const char* kMigrations[] = {
    // Version 1: the initial schema.
    R"sql(
CREATE TABLE clusters (
  name             TEXT PRIMARY KEY,
  package_dir      TEXT NOT NULL,
  package_name     TEXT NOT NULL,
  platform         TEXT NOT NULL,
  status           TEXT NOT NULL,
  current_revision INTEGER NOT NULL DEFAULT 0,
  home             TEXT NOT NULL,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
) STRICT;
CREATE TABLE revisions (
  cluster         TEXT NOT NULL REFERENCES clusters(name) ON DELETE CASCADE,
  revision        INTEGER NOT NULL,
  operation       TEXT NOT NULL,
  values_json     TEXT NOT NULL,
  package_version TEXT NOT NULL,
  zk_version      TEXT NOT NULL,
  status          TEXT NOT NULL,
  message         TEXT NOT NULL,
  started_at      INTEGER NOT NULL,
  finished_at     INTEGER NOT NULL,
  PRIMARY KEY (cluster, revision)
) STRICT;
CREATE TABLE operations (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  cluster     TEXT NOT NULL REFERENCES clusters(name) ON DELETE CASCADE,
  revision    INTEGER NOT NULL,
  type        TEXT NOT NULL,
  status      TEXT NOT NULL,
  error       TEXT NOT NULL,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER NOT NULL
) STRICT;
CREATE INDEX operations_by_cluster ON operations (cluster, id);
CREATE TABLE steps (
  operation_id INTEGER NOT NULL REFERENCES operations(id) ON DELETE CASCADE,
  idx          INTEGER NOT NULL,
  name         TEXT NOT NULL,
  spec_json    TEXT NOT NULL,
  status       TEXT NOT NULL,
  detail       TEXT NOT NULL,
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER NOT NULL,
  PRIMARY KEY (operation_id, idx)
) STRICT;
CREATE TABLE nodes (
  cluster            TEXT NOT NULL REFERENCES clusters(name) ON DELETE CASCADE,
  id                 INTEGER NOT NULL,
  client_port        INTEGER NOT NULL,
  quorum_port        INTEGER NOT NULL,
  election_port      INTEGER NOT NULL,
  admin_port         INTEGER NOT NULL,
  dir                TEXT NOT NULL,
  data_dir           TEXT NOT NULL,
  distribution       TEXT NOT NULL,
  desired            TEXT NOT NULL,
  generation         INTEGER NOT NULL,
  started_generation INTEGER NOT NULL,
  pid                INTEGER NOT NULL,
  restarts           INTEGER NOT NULL,
  started_at         INTEGER NOT NULL,
  last_exit          TEXT NOT NULL,
  PRIMARY KEY (cluster, id)
) STRICT;
CREATE TABLE hook_runs (
  id           INTEGER PRIMARY KEY,
  operation_id INTEGER NOT NULL REFERENCES operations(id) ON DELETE CASCADE,
  event        TEXT NOT NULL,
  phase        TEXT NOT NULL,
  step         TEXT NOT NULL,
  action       TEXT NOT NULL,
  status       TEXT NOT NULL,
  message      TEXT NOT NULL,
  at           INTEGER NOT NULL
) STRICT;
CREATE INDEX hook_runs_by_operation ON hook_runs (operation_id, id);
)sql",
    // Version 2: each cluster gets a unique id, so that a supervisor can tell
    // its own database from one put at the same path (platform/local/
    // state_identity.h). Existing clusters get one on first use.
    R"sql(
ALTER TABLE clusters ADD COLUMN uid TEXT NOT NULL DEFAULT '';
)sql",
    // Version 3: what each server's running process was started with, as
    // the supervisor classified its zoo.cfg: the TLS stage and the quorum
    // SASL stage (render/renderer.h). -1, unknown, for the processes of
    // before (they are classified at their next start).
    R"sql(
ALTER TABLE nodes ADD COLUMN tls_stage INTEGER NOT NULL DEFAULT -1;
ALTER TABLE nodes ADD COLUMN quorum_auth_stage INTEGER NOT NULL DEFAULT -1;
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

Result<int> UserVersion(sqlite3* db) {
  Statement st(db, "read schema version", "PRAGMA user_version");
  ZK_ASSIGN_OR_RETURN(bool row, st.Step());
  return row ? static_cast<int>(st.Int(0)) : 0;
}

}  // namespace

int StateSchemaVersion() { return kSchemaVersion; }

// The version is read again inside the write transaction, so two processes
// opening a new database at once do not both apply a migration.
Status MigrateStateSchema(sqlite3* db) {
  ZK_ASSIGN_OR_RETURN(int seen, UserVersion(db));
  if (seen == kSchemaVersion) return Status::Ok();
  return Transact(db, "migrate schema", TxKind::kWrite, [&]() -> Status {
    ZK_ASSIGN_OR_RETURN(int version, UserVersion(db));
    if (version > kSchemaVersion) {
      return Status::IOError("state database " + DbPath(db) + ": schema version " +
                             std::to_string(version) + " is newer than this zkpilot supports (" +
                             std::to_string(kSchemaVersion) + ")");
    }
    for (int v = version; v < kSchemaVersion; ++v) {
      const std::string what = "migrate schema to version " + std::to_string(v + 1);
      ZK_RETURN_IF_ERROR(Exec(db, what, kMigrations[v]));
      // PRAGMA takes no bound parameters; the value is our own integer.
      ZK_RETURN_IF_ERROR(Exec(db, what, "PRAGMA user_version = " + std::to_string(v + 1)));
    }
    return Status::Ok();
  });
}

}  // namespace zkpilot
