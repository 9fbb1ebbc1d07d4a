#include "package/package_loader.h"

#include <filesystem>

#include "util/files.h"

namespace zkpilot {

Result<Package> LoadPackage(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return Status::InvalidInput(dir + ": package directory does not exist");
  ZK_ASSIGN_OR_RETURN(auto names, ListFilesRecursive(dir));
  PackageFiles files;
  for (const auto& name : names) {
    ZK_ASSIGN_OR_RETURN(auto content, ReadFile(dir + "/" + name));
    files[name] = std::move(content);
  }
  std::string prefix = dir;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  auto pkg = ParsePackage(files);
  if (!pkg.ok()) {
    // Messages start with the file name ("parameters.yaml:3: ..."): make it a path.
    if (pkg.status().code() == ErrorCode::kInvalidInput)
      return Status::InvalidInput(prefix + "/" + pkg.status().message());
    return pkg.status().WithContext(prefix);
  }
  return pkg;
}

}  // namespace zkpilot
