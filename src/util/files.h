// Files: the small set of file-system operations the core needs.
//
// Pure stages never call these; loaders and actions do. Errors are IOError or
// NotFound statuses naming the path.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace zkpilot {

Result<std::string> ReadFile(const std::string& path);

// Regular files under `dir`, recursively, as paths relative to `dir`, sorted.
Result<std::vector<std::string>> ListFilesRecursive(const std::string& dir);

// Writes `files` (relative path -> content) into `dir` all or nothing: they
// are written to a temporary sibling directory which is then renamed into
// place. REQUIRES: `dir` does not exist, or is an empty directory.
Status WriteDirectoryAtomically(const std::string& dir,
                                const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace zkpilot
