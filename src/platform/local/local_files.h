// Small file helpers of the local platform.
#pragma once

#include <sys/types.h>

#include <string>

#include "util/files.h"  // WriteFileAtomically, which the platform's callers use
#include "util/status.h"

namespace zkpilot {

// Creates `dir` (and parents, mode 0700); InvalidInput naming `what` when it
// cannot be created or written. Directories that existed keep their mode.
Status MakeWritableDir(const std::string& dir, const std::string& what);

// Least privilege for everything the local platform keeps under `home`
// ($ZKPILOT_HOME): sets the process's umask to 077, so that whatever this
// process and its children create (the state database, cluster directories,
// the servers' data, logs and snapshots, add-ons' files) is the owner's only,
// and takes group and other access away from what an earlier version left
// readable: `home` itself when this user owns it and it is not a shared
// directory (sticky, like /tmp), its `clusters` and `locks` directories, each
// cluster's directory and the state database's files. Best effort: what
// cannot be changed is left as it is.
void RestrictStateDirectory(const std::string& home);

// Fails when a directory cannot be created or written, without leaving it
// behind: it is created (with a probe file) and what was created is removed.
// Trying beats access(2), which says yes to root everywhere (even in /proc).
Status CheckWritable(const std::string& dir, const std::string& what);

}  // namespace zkpilot
