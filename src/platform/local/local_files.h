// Small file helpers of the local platform.
#pragma once

#include <sys/types.h>

#include <string>

#include "util/status.h"

namespace zkpilot {

// Writes through a temporary file renamed into place: readers see the old or
// the new content, never a part.
Status WriteFileAtomically(const std::string& path, const std::string& content, mode_t mode = 0644);

// Creates `dir` (and parents); InvalidInput naming `what` when it cannot be
// created or written.
Status MakeWritableDir(const std::string& dir, const std::string& what);

// Fails when a directory cannot be created or written, without leaving it
// behind: it is created (with a probe file) and what was created is removed.
// Trying beats access(2), which says yes to root everywhere (even in /proc).
Status CheckWritable(const std::string& dir, const std::string& what);

}  // namespace zkpilot
