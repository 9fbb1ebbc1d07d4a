// Orphans: processes that run for a cluster of this state directory that
// the state database does not record.
//
// Every process the local platform starts carries a marker naming its
// directory under the state directory ($ZKPILOT_HOME): servers
// `-Dzkpilot.node=<home>/clusters/<C>/nodes/<N>`, Prometheus and
// Alertmanager `--config.file=<home>/clusters/<C>/monitoring/...`,
// supervisors `zkpilot supervise <C> --home <home>`. When state.db is
// deleted or replaced under a running cluster, those processes run on with
// no record: unmanageable and, before this, invisible.
//
// The rule for ZKPILOT_HOME: a state directory sees the orphans whose marker
// names it (compared as files: a relative or symlinked path is the same
// directory), and only this user's. Another state directory's processes are
// that directory's business — it may be intact, and only it can tell —; to
// see the orphans of a state directory that was removed altogether, point
// ZKPILOT_HOME at its path again.
//
// Only clusters with no record at all have orphans: a recorded cluster's
// processes are its supervisor's to adopt or stop (a process just started
// and not yet recorded must not be taken for an orphan and killed).
#pragma once

#include <string>
#include <vector>

#include "state/state_store.h"
#include "util/status.h"

namespace zkpilot {

enum class OrphanKind { kSupervisor, kServer, kService };

struct OrphanProcess {
  OrphanKind kind = OrphanKind::kServer;
  std::string cluster;
  int server = 0;       // kServer: its id
  std::string service;  // kService: "prometheus", "alertmanager"
  int pid = 0;
  std::string marker;   // the argument that identifies it (for ProcessAlive/StopProcess)

  // "server 2 of cluster demo from /path/home: pid 1234, no record"
  std::string Describe(const std::string& home) const;
};

// The marked processes of this user that belong to state directory `home`,
// by cluster, then supervisors, servers by id, services.
std::vector<OrphanProcess> FindHomeProcesses(const std::string& home);

// Those of them whose cluster `store` (the state of `home`) does not record.
Result<std::vector<OrphanProcess>> FindOrphans(StateStore& store, const std::string& home);

struct StopOrphansRequest {
  std::string cluster;     // empty: every orphaned cluster of the home
  bool purge_data = false; // also remove the clusters' directories (else kept for a new deploy)
  bool dry_run = false;
};

// `zkpilot delete [NAME] --orphans`: stops the orphans by PID (supervisors
// first, so none starts a server again; servers with SIGKILL as the
// supervisor stops them; add-ons with SIGTERM) under each cluster's
// operation lock, and says what it did. InvalidInput when NAME is recorded
// (`zkpilot delete NAME` is its delete).
Result<std::string> StopOrphans(StateStore& store, const std::string& home, const StopOrphansRequest& request);

}  // namespace zkpilot
