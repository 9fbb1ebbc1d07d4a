#include "platform/kubernetes/cluster_api.h"

#include <fmt/format.h>

#include <algorithm>

namespace zkpilot {

using nlohmann::json;

ResourceRef ClusterResourceRef() {
  return ResourceRef{kClusterGroup, kClusterVersion, kClusterPlural, true, kClusterKind};
}

json MakeClusterEvent(const ZooKeeperCluster& cluster, EventType type, const std::string& reason,
                      const std::string& message, const std::string& instance,
                      std::chrono::system_clock::time_point now) {
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  const auto millis = nanos / 1000000;
  const std::string stamp = FormatKubeTime(millis - millis % 1000);
  json involved = {{"apiVersion", kClusterApiVersion},
                   {"kind", kClusterKind},
                   {"name", cluster.Name()},
                   {"namespace", cluster.Namespace()},
                   {"uid", cluster.Uid()}};
  if (cluster.metadata.contains("resourceVersion"))
    involved["resourceVersion"] = cluster.metadata["resourceVersion"];
  return {{"apiVersion", "v1"},
          {"kind", "Event"},
          {"metadata",
           {{"name", fmt::format("{}.{:x}", cluster.Name(), nanos)},
            {"namespace", cluster.Namespace()}}},
          {"involvedObject", involved},
          {"reason", reason},
          {"message", message},
          {"type", type == EventType::kWarning ? "Warning" : "Normal"},
          {"source", {{"component", "zkpilot-operator"}}},
          {"reportingComponent", "zkpilot.io/operator"},
          {"reportingInstance", instance},
          {"firstTimestamp", stamp},
          {"lastTimestamp", stamp},
          {"count", 1}};
}

KubeClusterApi::KubeClusterApi(KubeClient& client, std::string instance)
    : client_(client), instance_(std::move(instance)) {}

std::chrono::steady_clock::time_point KubeClusterApi::Deadline() const {
  return std::chrono::steady_clock::now() + kApiRetry;
}

Result<std::optional<ZooKeeperCluster>> KubeClusterApi::Get(const std::string& ns,
                                                            const std::string& name) {
  ZK_ASSIGN_OR_RETURN(auto object, Retrying<std::optional<json>>(Deadline(), [&] {
                        return client_.Get(ClusterResourceRef(), ns, name);
                      }));
  if (!object) return std::optional<ZooKeeperCluster>();
  auto cluster = ClusterFromJson(*object);
  if (!cluster.ok()) return cluster.status().WithContext(ns + "/" + name);
  return std::optional<ZooKeeperCluster>(std::move(cluster).value());
}

Result<ZooKeeperCluster> KubeClusterApi::SetFinalizer(const ZooKeeperCluster& cluster,
                                                      bool present) {
  json finalizers = json::array();
  if (cluster.metadata.contains("finalizers") && cluster.metadata["finalizers"].is_array())
    for (const auto& f : cluster.metadata["finalizers"])
      if (f != kClusterFinalizer) finalizers.push_back(f);
  if (present) finalizers.push_back(kClusterFinalizer);
  json patch = {{"metadata", {{"finalizers", finalizers}}}};
  if (cluster.metadata.contains("resourceVersion"))
    patch["metadata"]["resourceVersion"] = cluster.metadata["resourceVersion"];
  // 409 (the object changed since it was read) is the caller's: read again.
  ZK_ASSIGN_OR_RETURN(json written, Retrying<json>(Deadline(), [&] {
                        return client_.MergePatch(ClusterResourceRef(), cluster.Namespace(),
                                                  cluster.Name(), patch);
                      }));
  if (written.is_null() || !written.is_object()) {  // the last finalizer went: the object is gone
    ZooKeeperCluster gone = cluster;
    gone.metadata["finalizers"] = finalizers;
    return gone;
  }
  return ClusterFromJson(written);
}

Status KubeClusterApi::WriteStatus(const ZooKeeperCluster& cluster, const ClusterStatus& status) {
  const json patch = OperatorStatusPatch(status);
  // The patch carries no resourceVersion, so a 409 cannot mean a lost
  // update: it is retried like an unavailable API.
  return Retrying(Deadline(), [&]() -> Status {
    Status s =
        client_
            .MergePatch(ClusterResourceRef(), cluster.Namespace(), cluster.Name(), patch, "status")
            .status();
    if (s.code() == ErrorCode::kConflict) return Status::Unavailable(s.message());
    return s;
  });
}

Status KubeClusterApi::Emit(const ZooKeeperCluster& cluster, EventType type,
                            const std::string& reason, const std::string& message) {
  const ResourceRef events{"", "v1", "events", true, "Event"};
  const json event =
      MakeClusterEvent(cluster, type, reason, message, instance_, std::chrono::system_clock::now());
  return Retrying(Deadline(),
                  [&] { return client_.Create(events, cluster.Namespace(), event).status(); });
}

}  // namespace zkpilot
