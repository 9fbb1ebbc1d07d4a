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

// Before a server's process starts: removes `snapshot.*.tmp` from the
// version-2/ of the dataDir its zoo.cfg names (`conf_dir`/zoo.cfg). ZooKeeper
// writes a snapshot to <name>.tmp and renames it when complete
// (SnapStream.getOutputStream -> AtomicFileOutputStream), but reads snapshots
// by their "snapshot." prefix and parses the zxid from the second dot-part
// (FileSnap.findNValidSnapshots, Util.getZxidFromName), so a server killed
// before the rename loads the uncommitted file at its next start; when that
// snapshot is of a newer epoch than currentEpoch, QuorumPeer.loadDataBase
// refuses to start ("The current epoch, 7, is older than the last zxid") and
// the server crash-loops. Epoch files' .tmp are left: loadDataBase reads
// currentEpoch.tmp to recover. Returns the files removed ("" for none).
Result<std::string> RemoveUncommittedSnapshots(const std::string& conf_dir);

// remove-node-data: the data and transaction log directories.
Result<std::string> RemoveNodeData(const LocalNode& node);

}  // namespace zkpilot
