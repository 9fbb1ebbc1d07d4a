// Lifecycle hooks, on any platform.
//
// Runs the steps of one hook (event + phase) of the package: znode actions
// (create-znode, delete-znode, set-quota) through a ZooKeeper session the
// platform opens as the cluster's super user (so ACLs do not get in the
// way); file actions (remove-files, purge-snapshots, remove-node-data) on
// each server through Platform::RunFileAction. A step whose `when` parameter
// is false is skipped. Every step's outcome is recorded as a hook run of the
// operation. A failing step stops the hook and fails it with its own error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "package/package.h"
#include "platform/platform.h"
#include "state/release_store.h"
#include "values/values.h"

namespace zkpilot {

struct HookTarget {
  Platform* platform = nullptr;
  const Values* values = nullptr;  // for `when`
  std::vector<int> members;        // the session's servers (all when empty)
  std::vector<int> servers;        // the servers file actions touch
  bool purge_data = false;         // remove-node-data removes data only when true
  ReleaseStore* store = nullptr;   // hook runs are recorded here (when set)
  int64_t operation_id = 0;
};

// Runs `event`.`phase` of `package`; returns a one-line summary.
// REQUIRES: target.platform != nullptr.
Result<std::string> RunHooks(const Package& package, HookEvent event, HookPhase phase, const HookTarget& target);

}  // namespace zkpilot
