#include "actions/kube_cluster_reads.h"

#include <algorithm>

#include "actions/kube_objects.h"
#include "actions/kube_spec.h"
#include "platform/kubernetes/package_configmaps.h"

namespace zkpilot {

using nlohmann::json;

Result<ZooKeeperCluster> GetClusterResource(KubeClient& client, const std::string& ns,
                                            const std::string& name) {
  // A busy or briefly unavailable API (429 with Retry-After, 5xx, no
  // answer) is asked again for up to 30 s, as kubectl's client does.
  using Got = std::optional<nlohmann::json>;
  auto got = Retrying<Got>(std::chrono::steady_clock::now() + std::chrono::seconds(30),
                           [&] { return client.Get(kube::ClusterResource(), ns, name); });
  if (!got.ok()) return got.status().WithContext("read ZooKeeperCluster " + ns + "/" + name);
  if (!*got)
    return Status::InvalidInput(
        "no ZooKeeperCluster named " + name + " in namespace " + ns +
        " (zkpilot list --platform kubernetes shows the clusters of a namespace)");
  auto cluster = ClusterFromJson(**got);
  if (!cluster.ok())
    return Status::Internal("ZooKeeperCluster " + ns + "/" + name +
                            " is unreadable: " + cluster.status().message());
  return cluster;
}

Result<Package> LoadClusterPackage(KubeClient& client, const ZooKeeperCluster& cluster) {
  const PackageRef& ref = cluster.spec.package;
  const std::string where = "package " + ref.name + " " + ref.version + " of " +
                            cluster.Namespace() + "/" + cluster.Name();
  if (ref.config_map.empty()) return Status::NotFound(where + ": spec.package.configMap is empty");
  const ResourceRef cm = kube::ConfigMapResource();
  auto first = client.Get(cm, cluster.Namespace(), ref.config_map);
  if (!first.ok()) return first.status().WithContext(where);
  if (!*first) return Status::NotFound(where + ": its ConfigMap " + ref.config_map + " is missing");
  auto names = PackageConfigMapNames(**first);
  if (!names.ok()) return names.status().WithContext(where);
  std::vector<json> parts = {**first};
  for (const auto& name : *names) {
    if (name == ref.config_map) continue;
    auto part = client.Get(cm, cluster.Namespace(), name);
    if (!part.ok()) return part.status().WithContext(where);
    if (!*part) return Status::NotFound(where + ": its ConfigMap " + name + " is missing");
    parts.push_back(**part);
  }
  auto package = PackageFromConfigMaps(parts, ref.hash);
  if (!package.ok()) return package.status().WithContext(where);
  return package;
}

Result<std::vector<RevisionRecord>> ListClusterRevisions(KubeClient& client,
                                                         const ZooKeeperCluster& cluster) {
  ListOptions options;
  options.label_selector = RevisionLabelSelector(cluster.Name());
  auto list = client.List(kube::ControllerRevisionResource(), cluster.Namespace(), options);
  if (!list.ok())
    return list.status().WithContext("list the revisions of " + cluster.Namespace() + "/" +
                                     cluster.Name());
  std::vector<RevisionRecord> out;
  for (const auto& item : kube::Member(*list, "items")) {
    auto record = RevisionFromControllerRevision(item);
    if (!record.ok())
      return record.status().WithContext("ControllerRevision " +
                                         kube::Str(kube::Member(item, "metadata"), "name"));
    out.push_back(std::move(record).value());
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.revision < b.revision; });
  return out;
}

Result<Values> CurrentClusterValues(const Package& package, const ZooKeeperCluster& cluster,
                                    const std::vector<RevisionRecord>& revisions) {
  for (const auto& r : revisions)
    if (r.revision == cluster.status.current_revision && r.revision > 0)
      return RevisionValues(package.schema, r.values_json, r.revision);
  auto values = ResolveSpecValues(package.schema, cluster.spec.values);
  if (!values.ok()) return values.status().WithContext(cluster.Namespace() + "/" + cluster.Name());
  return values;
}

int64_t LastOperationId(const ZooKeeperCluster& cluster) {
  int64_t last = cluster.status.operation ? cluster.status.operation->id : 0;
  for (const auto& op : cluster.status.operations) last = std::max(last, op.id);
  return last;
}

}  // namespace zkpilot
