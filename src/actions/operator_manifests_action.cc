#include "actions/operator_manifests_action.h"

#include "package/package_loader.h"
#include "util/files.h"

namespace zkpilot {

Result<std::string> RunOperatorManifests(const OperatorManifestsRequest& request) {
  ZK_RETURN_IF_ERROR(ValidateOperatorOptions(request.options));
  ZK_ASSIGN_OR_RETURN(Package package, LoadPackage(request.package_dir));
  ZK_ASSIGN_OR_RETURN(auto objects, OperatorManifests(package, request.options));
  if (request.output_dir.empty()) return ToYamlStream(objects);
  std::vector<std::pair<std::string, std::string>> files;
  for (size_t i = 0; i < objects.size(); ++i)
    files.emplace_back(FileNameFor(objects[i], i, objects.size()), ToYamlStream({objects[i]}));
  ZK_RETURN_IF_ERROR(WriteDirectoryAtomically(request.output_dir, files));
  return std::string();
}

}  // namespace zkpilot
