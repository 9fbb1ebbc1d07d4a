// What the kube_* commands share: the API resources they use and tolerant
// readers of API objects (a missing, null or differently typed member reads
// as empty rather than throwing: status fields appear as the operator fills
// them in).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "platform/kubernetes/cluster_resource.h"
#include "platform/kubernetes/kube_client.h"

namespace zkpilot::kube {

// The command line's field manager for server-side apply (the operator's is "zkpilot").
inline constexpr const char* kCliFieldManager = "zkpilot-cli";

ResourceRef ClusterResource();  // ZooKeeperCluster (cluster_resource.h)
ResourceRef ControllerRevisionResource();
ResourceRef ConfigMapResource();
ResourceRef PodResource();
ResourceRef DeploymentResource();
ResourceRef CrdResource();

// Tolerant readers.
const nlohmann::json& Member(const nlohmann::json& j, const char* key);
std::string Str(const nlohmann::json& j,
                const char* key);  // strings as they are, other scalars as JSON
int64_t Int(const nlohmann::json& j, const char* key, int64_t fallback = 0);
bool Bool(const nlohmann::json& j, const char* key);

// The status of condition `type` in an object's status.conditions ("" when absent).
std::string ObjectCondition(const nlohmann::json& object, const std::string& type);

}  // namespace zkpilot::kube
