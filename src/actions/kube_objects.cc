#include "actions/kube_objects.h"

namespace zkpilot::kube {

using nlohmann::json;

ResourceRef ClusterResource() {
  return {kClusterGroup, kClusterVersion, kClusterPlural, true, kClusterKind};
}
ResourceRef ControllerRevisionResource() {
  return {"apps", "v1", "controllerrevisions", true, "ControllerRevision"};
}
ResourceRef ConfigMapResource() { return {"", "v1", "configmaps", true, "ConfigMap"}; }
ResourceRef PodResource() { return {"", "v1", "pods", true, "Pod"}; }
ResourceRef DeploymentResource() { return {"apps", "v1", "deployments", true, "Deployment"}; }
ResourceRef CrdResource() {
  return {"apiextensions.k8s.io", "v1", "customresourcedefinitions", false,
          "CustomResourceDefinition"};
}

const json& Member(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string Str(const json& j, const char* key) {
  const json& v = Member(j, key);
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

int64_t Int(const json& j, const char* key, int64_t fallback) {
  const json& v = Member(j, key);
  if (v.is_number_integer() || v.is_number_unsigned()) return v.get<int64_t>();
  if (v.is_number_float()) return static_cast<int64_t>(v.get<double>());
  if (v.is_string()) {
    try {
      return std::stoll(v.get<std::string>());
    } catch (const std::exception&) {
    }
  }
  return fallback;
}

bool Bool(const json& j, const char* key) {
  const json& v = Member(j, key);
  return v.is_boolean() && v.get<bool>();
}

std::string ObjectCondition(const json& object, const std::string& type) {
  for (const auto& c : Member(Member(object, "status"), "conditions"))
    if (Str(c, "type") == type) return Str(c, "status");
  return "";
}

}  // namespace zkpilot::kube
