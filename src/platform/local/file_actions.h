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

// purge-snapshots: what ZooKeeper's PurgeTxnLog does, without starting a
// JVM (about 0.35 s per server saved in every upgrade's cleanup): keeps the
// newest `retain` (at least 3) valid snapshots, the transaction logs they
// need and everything newer; removes the older snapshot.* and log.* files.
Result<std::string> PurgeSnapshots(const LocalNode& node, int64_t retain);
// The same on explicit directories (each holding version-2/).
Result<std::string> PurgeSnapshotDirs(const std::string& snap_dir, const std::string& log_dir, int64_t retain);

// remove-node-data: the data and transaction log directories.
Result<std::string> RemoveNodeData(const LocalNode& node);

}  // namespace zkpilot
