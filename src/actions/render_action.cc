#include "actions/render_action.h"

#include "package/package_loader.h"
#include "util/files.h"

namespace zkpilot {

Result<ValuesInput> ReadValuesInput(const ValuesRequest& request) {
  ValuesInput input;
  for (const auto& path : request.files) {
    auto text = ReadFile(path);
    if (!text.ok()) {
      if (text.status().code() == ErrorCode::kNotFound)
        return Status::InvalidInput("values file " + path + ": no such file");
      return text.status().WithContext("values file " + path);
    }
    input.files.emplace_back(path, std::move(text).value());
  }
  input.sets = request.sets;
  return input;
}

Result<LoadedCluster> LoadAndResolve(const std::string& package_dir, const ValuesRequest& request,
                                     const std::string& new_cluster_platform) {
  ZK_ASSIGN_OR_RETURN(Package pkg, LoadPackage(package_dir));
  ZK_ASSIGN_OR_RETURN(ValuesInput input, ReadValuesInput(request));
  input.new_cluster_platform = new_cluster_platform;
  ZK_ASSIGN_OR_RETURN(Values values, ResolveValues(pkg.schema, input));
  return LoadedCluster{std::move(pkg), std::move(values)};
}

Result<std::string> RunRender(const RenderRequest& request) {
  ZK_ASSIGN_OR_RETURN(LoadedCluster cluster, LoadAndResolve(request.package_dir, request.values));
  // On Kubernetes the servers' JAAS file is a Secret the operator makes and
  // mounts (platform/kubernetes/kube_auth.h): manifests applied as rendered
  // would start servers that zoo.cfg tells to use SASL without it.
  if (request.options.platform == "kubernetes")
    for (const char* p : {"auth.enabled", "auth.quorum"})
      if (cluster.values.Has(p) && cluster.values.Get(p) == true)
        return Status::InvalidInput(std::string(p) +
                                    "=true: on Kubernetes the servers' SASL credentials are Secrets the operator "
                                    "makes; deploy with `zkpilot deploy --platform kubernetes` instead of applying "
                                    "rendered manifests");
  ZK_ASSIGN_OR_RETURN(auto objects, RenderManifests(cluster.package, cluster.values, request.options));
  if (request.output_dir.empty())
    return request.format == OutputFormat::kJson ? ToJsonList(objects) : ToYamlStream(objects);
  std::vector<std::pair<std::string, std::string>> files;
  for (size_t i = 0; i < objects.size(); ++i) {
    std::vector<RenderedObject> one{objects[i]};
    std::string name = FileNameFor(objects[i], i, objects.size());
    if (request.format == OutputFormat::kJson) {
      name = name.substr(0, name.size() - 5) + ".json";
      files.emplace_back(name, objects[i].body.dump(2) + "\n");
    } else {
      files.emplace_back(name, ToYamlStream(one));
    }
  }
  ZK_RETURN_IF_ERROR(WriteDirectoryAtomically(request.output_dir, files));
  return std::string();
}

}  // namespace zkpilot
