// Is the state database a supervisor acts on still the one at its path?
//
// A supervisor keeps its SQLite connection open for as long as it runs. If
// state.db is deleted, or another file is put at its path, that connection
// goes on reading the old file (an unlinked inode stays readable while it is
// open), so the supervisor would keep starting and restarting servers from a
// record nobody can see or change any more. The supervisor therefore takes
// the database's identity when it starts — the file's device and inode, and
// the cluster's unique id recorded in it (StateStore::EnsureClusterUid) — and
// checks it before every pass: a database that is gone, is another file, or
// records the cluster under another id is not its own, and it stops acting.
//
// The servers are left running: no data is lost, and `zkpilot list` shows
// them as orphans (orphans.h) until `zkpilot delete --orphans` stops them.
#pragma once

#include <sys/types.h>

#include <string>

#include "state/state_store.h"
#include "util/status.h"

namespace zkpilot {

struct StateDbIdentity {
  std::string path;     // state.db
  dev_t device = 0;
  ino_t inode = 0;
  std::string cluster;
  std::string cluster_uid;
};

// The identity of the database `store` opened at `path`, for `cluster`
// (assigned an id if it has none). NotFound when the cluster is not recorded.
Result<StateDbIdentity> TakeStateDbIdentity(StateStore& store, const std::string& path, const std::string& cluster);

// OK while `path` is still the same file and, when `store` still records the
// cluster, under the same id (a cluster that is no longer recorded is the
// supervisor's ordinary end: `delete`). Otherwise kConflict saying what
// changed: "state database P was deleted", "... was replaced by another file
// (inode A, now B)", "... records cluster C under another id (U, now V)".
Status CheckStateDbIdentity(const StateDbIdentity& identity, StateStore& store);

// When state.db was deleted or another file put at its path: removes the
// state.db-wal and state.db-shm files at the path if they are the ones this
// process has open, that is the old database's. SQLite leaves them there
// when it closes a database that moved (databaseIsUnmoved in pager.c), and
// does not tie a WAL to its database file, so the next command opening the
// new state.db would replay the old journal into it. A command that opened
// the new file before this runs (one poll) has already paired them.
void RemoveStaleJournal(const StateDbIdentity& identity);

// Whether `record` is a cluster of the state directory `home`: its directory
// is <home>/clusters/<name>. A state.db moved in from another state directory
// may record a cluster of the same name whose servers live there; a
// supervisor (or a guardian starting one) of this directory must not act on
// those.
bool RecordedForThisHome(const ClusterRecord& record, const std::string& home);

}  // namespace zkpilot
