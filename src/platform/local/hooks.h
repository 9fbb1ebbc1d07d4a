// Lifecycle hooks on the local platform.
//
// Runs the steps of one hook (event + phase) from the package against the
// real ensemble: znode actions through the ZooKeeper C client (as the super
// user, so that ACLs do not get in the way), file actions on each server's
// data directory. Every step's outcome is recorded in the state database. A
// failing step stops the hook and fails it with the step's own error.
#pragma once

#include <string>
#include <vector>

#include "package/package.h"
#include "platform/local/distribution.h"
#include "platform/local/topology.h"
#include "state/state_store.h"
#include "values/values.h"

namespace zkpilot {

struct HookEnv {
  std::string connect_string;        // "127.0.0.1:2181,..."
  std::string super_password;        // digest credentials of the "super" user
  std::vector<LocalNode> nodes;      // servers whose files the file actions touch
  const Distribution* distribution = nullptr;  // for PurgeTxnLog
  const Values* values = nullptr;    // for `when`
  bool purge_data = false;           // remove-node-data on delete runs only when true
  StateStore* store = nullptr;
  int64_t operation_id = 0;
};

// Runs `event`.`phase` of `package`; returns a one-line summary.
Result<std::string> RunHooks(const Package& package, HookEvent event, HookPhase phase, const HookEnv& env);

}  // namespace zkpilot
