#include "platform/kubernetes/operator_backend.h"

#include "platform/kubernetes/cluster_api.h"
#include "platform/kubernetes/kube_release_store.h"
#include "platform/kubernetes/operator_cores.h"
#include "platform/kubernetes/package_configmaps.h"

namespace zkpilot {
namespace {

using nlohmann::json;

const ResourceRef& ConfigMaps() {
  static const ResourceRef ref{"", "v1", "configmaps", true, "ConfigMap"};
  return ref;
}

KubeReleaseStoreOptions StoreOptions(const ZooKeeperCluster& cluster) {
  KubeReleaseStoreOptions options;
  options.namespace_name = cluster.Namespace();
  options.cluster = cluster.Name();
  return options;
}

ClusterCoordinates Coordinates(const ZooKeeperCluster& cluster) {
  return ClusterCoordinates{
      cluster.Namespace(), cluster.Name(), cluster.Uid(),
      "ConfigMap " + cluster.Namespace() + "/" + cluster.spec.package.config_map};
}

}  // namespace

KubeClusterBackend::KubeClusterBackend(KubeClient& client) : client_(client) {}

Result<Package> KubeClusterBackend::LoadPackage(const ZooKeeperCluster& cluster) {
  const PackageRef& ref = cluster.spec.package;
  const std::string ns = cluster.Namespace();
  const std::string what = "package " + ref.name + " " + ref.version;
  if (ref.config_map.empty() || ref.hash.empty())
    return Status::NotFound(what + ": spec.package names no ConfigMap and hash");
  auto cached = packages_.find(ref.hash);
  if (cached != packages_.end()) return cached->second;

  auto missing = [&](const std::string& name) {
    return Status::NotFound(
        what + ": ConfigMap " + ns + "/" + name +
        " not found (`zkpilot deploy --platform kubernetes` stores the package there)");
  };
  ZK_ASSIGN_OR_RETURN(auto first, client_.Get(ConfigMaps(), ns, ref.config_map));
  if (!first) return missing(ref.config_map);
  auto names = PackageConfigMapNames(*first);
  if (!names.ok()) return names.status().WithContext(what);
  std::vector<json> parts = {*first};
  for (const auto& name : *names) {
    if (name == ref.config_map) continue;
    ZK_ASSIGN_OR_RETURN(auto part, client_.Get(ConfigMaps(), ns, name));
    if (!part) return missing(name);
    parts.push_back(std::move(*part));
  }
  auto package = PackageFromConfigMaps(parts, ref.hash);
  if (!package.ok()) return package.status().WithContext(what);
  if (package->name != ref.name)
    return Status::InvalidInput(what + ": ConfigMap " + ref.config_map + " holds package " +
                                package->name);
  packages_.emplace(ref.hash, *package);
  return package;
}

Result<ReleaseState> KubeClusterBackend::Release(const ZooKeeperCluster& cluster) {
  const std::string name = cluster.Name();
  KubeReleaseStore store(client_, StoreOptions(cluster));
  ReleaseState release;
  ZK_ASSIGN_OR_RETURN(auto record, store.GetCluster(name));
  if (record) release.current_revision = record->current_revision;
  ZK_ASSIGN_OR_RETURN(release.revisions, store.ListRevisions(name));
  for (const auto& r : release.revisions) {
    if (r.revision != release.current_revision) continue;
    json values = json::parse(r.values_json, nullptr, false);
    if (!values.is_object())
      return Status::Internal(name + ": revision " + std::to_string(r.revision) +
                              ": values are not a JSON object");
    for (auto it = values.begin(); it != values.end(); ++it)
      release.current_values[it.key()] = it.value();
    release.current_package_version = r.package_version;
    release.current_version = r.zk_version;
  }
  ZK_ASSIGN_OR_RETURN(release.unfinished, store.UnfinishedOperation(name));
  ZK_ASSIGN_OR_RETURN(auto operations, store.ListOperations(name));
  for (const auto& op : operations)
    if (op.id > release.last_operation_id) {
      release.last_operation_id = op.id;
      release.last_operation_type = op.type;
    }
  return release;
}

Status KubeClusterBackend::Deploy(const ZooKeeperCluster& cluster, const Package& package,
                                  const Values& values, const OperationSettled& settled) {
  KubeReleaseStore store(client_, StoreOptions(cluster));
  return OperatorDeploy(client_, store, Coordinates(cluster), package, values, settled);
}

Status KubeClusterBackend::Change(const ZooKeeperCluster& cluster, const Package& package,
                                  const Values& target, const ReconcileDecision& decision,
                                  const OperationSettled& settled) {
  KubeReleaseStore store(client_, StoreOptions(cluster));
  return OperatorChange(client_, store, Coordinates(cluster), package, target, decision.op,
                        settled);
}

Status KubeClusterBackend::Resume(const ZooKeeperCluster& cluster, const Package& package,
                                  const OperationSettled& settled) {
  KubeReleaseStore store(client_, StoreOptions(cluster));
  return OperatorResume(client_, store, Coordinates(cluster), package, settled);
}

Status KubeClusterBackend::Delete(const ZooKeeperCluster& cluster, const Package* package,
                                  bool purge_data) {
  KubeReleaseStore store(client_, StoreOptions(cluster));
  return OperatorDelete(client_, store, Coordinates(cluster), package, purge_data);
}

Result<ClusterObservation> KubeClusterBackend::Observe(const ZooKeeperCluster& cluster,
                                                       const Package& package,
                                                       const Values& values) {
  return OperatorObserve(client_, Coordinates(cluster), package, values);
}

Result<ReconcileParts> MakeKubeReconcileParts(KubeClient& client) {
  ReconcileParts parts;
  parts.api = std::make_unique<KubeClusterApi>(client, DefaultLeaseIdentity());
  parts.backend = std::make_unique<KubeClusterBackend>(client);
  return parts;
}

}  // namespace zkpilot
