// Files: the small set of file-system operations the core needs.
//
// Pure stages never call these; loaders and actions do. Errors are IOError or
// NotFound statuses naming the path.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "util/status.h"

namespace zkpilot {

Result<std::string> ReadFile(const std::string& path);

// Writes `path` all or nothing: readers see the old or the new content, never
// a part, and after a crash the file is whole or absent. The content goes to
// a new temporary file beside `path` with an unpredictable name, created
// exclusively (never an existing file nor through a symlink, so in a directory
// others can write no one can make it land in a file they own or can read)
// with exactly `mode` whatever the umask, then synced and renamed over `path`,
// and the directory synced. On any failure the temporary file is removed and
// `path` is left as it was. The default mode is owner-only: what zkpilot
// writes is usually its own.
Status WriteFileAtomically(const std::string& path, const std::string& content, mode_t mode = 0600);

// Regular files under `dir`, recursively, as paths relative to `dir`, sorted.
Result<std::vector<std::string>> ListFilesRecursive(const std::string& dir);

// Writes `files` (relative path -> content) into `dir` all or nothing: they
// are written to a temporary sibling directory which is then renamed into
// place. REQUIRES: `dir` does not exist, or is an empty directory.
Status WriteDirectoryAtomically(const std::string& dir,
                                const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace zkpilot
