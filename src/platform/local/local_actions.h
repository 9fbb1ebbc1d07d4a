// The command line's local path: each verb on $ZKPILOT_HOME's clusters.
//
// A thin front over the action cores (actions/cluster_actions.h): it opens
// the SQLite state, reads the package directory (deploy: the one given;
// later verbs: the one the cluster was deployed from) and -f files, builds
// the LocalPlatform for the values at hand, and calls the core with an
// ActionContext on the system clock.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "actions/cluster_actions.h"
#include "plan/executor.h"

namespace zkpilot {

struct DeployRequest {
  std::string name;
  std::string package_dir;
  ValuesRequest values;
  bool dry_run = false;
  bool allow_privileged_ports = false;  // ports below 1024 (port_registry.h)
  std::chrono::milliseconds timeout{std::chrono::minutes(3)};
};
// Reserves the cluster's ports in the port registry (port_registry.h) before
// anything starts; a deploy that ends with nothing recorded releases them.
Result<DeployResult> LocalDeploy(const std::string& home, const DeployRequest& request, ProgressSink& progress);

struct DeleteRequest {
  std::string name;
  bool purge_data = false;
  bool dry_run = false;
  // Another command holds the cluster's lock: kill it (it is stuck) instead
  // of refusing. Its PID and start time are checked first.
  bool force = false;
};
// Releases the cluster's ports once it is gone.
Result<std::string> LocalDelete(const std::string& home, const DeleteRequest& request, ProgressSink& progress);

// `zkpilot delete [NAME] --orphans`: stops the processes of this state
// directory's clusters that have no record (orphans.h).
Result<std::string> LocalDeleteOrphans(const std::string& home, const DeleteRequest& request);

Result<ChangeResult> LocalChange(const std::string& home, const ChangeRequest& request, ProgressSink& progress);
Result<ChangeResult> LocalResume(const std::string& home, const std::string& name, ProgressSink& progress);

// Status of a recorded cluster, with "orphans" (orphans.h) when other
// clusters of the state directory run with no record; for a name with no
// record whose processes run, an error that lists them.
Result<nlohmann::ordered_json> LocalStatus(const std::string& home, const std::string& name);
// FormatStatus, then (table) the orphans LocalStatus found.
std::string FormatLocalStatus(const nlohmann::ordered_json& status, Format format);
// The recorded clusters, then each cluster that runs with no record
// (status "orphaned", its processes under "orphans").
Result<std::string> LocalList(const std::string& home, Format format);
Result<std::string> LocalHistory(const std::string& home, const std::string& name, Format format);

// Log files of a cluster's servers (all, or the one with id `node` when > 0).
Result<std::vector<std::pair<int, std::string>>> LocalLogFiles(const std::string& home, const std::string& name,
                                                               int node);

}  // namespace zkpilot
