// The hooks' file actions (actions/hooks.h) on one local server: its data
// directory (and transaction log directory) on this machine.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "platform/local/distribution.h"
#include "platform/local/topology.h"
#include "util/status.h"

namespace zkpilot {

// remove-files: every path matching one of `patterns` (globs relative to the
// data directory, without ..). InvalidInput for a bad pattern.
Result<std::string> RemoveFiles(const LocalNode& node, const nlohmann::json& patterns);

// purge-snapshots: ZooKeeper's PurgeTxnLog, keeping the newest `retain`.
Result<std::string> PurgeSnapshots(const LocalNode& node, const Distribution& distribution, int64_t retain);

// remove-node-data: the data and transaction log directories.
Result<std::string> RemoveNodeData(const LocalNode& node);

}  // namespace zkpilot
