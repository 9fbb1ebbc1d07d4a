#include "actions/kube_writes.h"

#include <fmt/format.h>

#include <thread>

#include "actions/kube_objects.h"
#include "platform/kubernetes/cluster_resource.h"
#include "platform/kubernetes/crd.h"
#include "platform/kubernetes/operator_manifests.h"

namespace zkpilot {
namespace {

using kube::Member;
using kube::Str;
using nlohmann::json;

std::string ObjectName(const json& object) {
  const json& meta = Member(object, "metadata");
  const std::string ns = Str(meta, "namespace");
  return Str(object, "kind") + " " + (ns.empty() ? "" : ns + "/") + Str(meta, "name");
}

// Adds what a person does about an API error to its message.
Status Explain(const Status& s, const std::string& what) {
  Status out = s.WithContext(what);
  if (s.code() == ErrorCode::kConflict)
    return Status::Conflict(
        out.message() +
        " — another field manager owns these fields (changed with kubectl edit/patch?); zkpilot "
        "does not override another manager's fields: undo that change, or remove the fields from "
        "that manager, then run the command again");
  return out;
}

}  // namespace

std::chrono::steady_clock::time_point TransientDeadline() {
  return std::chrono::steady_clock::now() + std::chrono::seconds(10);
}

Result<OperatorPresence> CheckOperator(KubeClient& client, const std::string& operator_namespace) {
  OperatorPresence p;
  ZK_ASSIGN_OR_RETURN(auto crd, client.Get(kube::CrdResource(), "", kClusterCrdName));
  if (crd) {
    p.crd = true;
    p.crd_established = kube::ObjectCondition(*crd, "Established") == "True";
  }
  auto deployment = client.Get(kube::DeploymentResource(), operator_namespace, kOperatorName);
  if (!deployment.ok()) {
    // Users may read their namespace but not the operator's: the resource's
    // status will tell whether an operator acts on it.
    if (deployment.status().code() != ErrorCode::kPermissionDenied) return deployment.status();
    p.deployment = p.available = true;
    return p;
  }
  if (*deployment) {
    p.deployment = true;
    p.available = kube::ObjectCondition(**deployment, "Available") == "True";
  }
  return p;
}

std::string InstallOperatorCommand(const std::string& package_dir) {
  return "zkpilot operator manifests " + package_dir + " | kubectl apply --server-side -f -";
}

Status OperatorMissing(const OperatorPresence& p, const std::string& operator_namespace,
                       const std::string& package_dir) {
  std::vector<std::string> missing;
  if (!p.crd)
    missing.push_back(fmt::format("the CustomResourceDefinition {} is missing", kClusterCrdName));
  else if (!p.crd_established)
    missing.push_back(
        fmt::format("the CustomResourceDefinition {} is not established", kClusterCrdName));
  if (!p.deployment)
    missing.push_back(
        fmt::format("the Deployment {}/{} is missing", operator_namespace, kOperatorName));
  else if (!p.available)
    missing.push_back(
        fmt::format("the Deployment {}/{} is not available", operator_namespace, kOperatorName));
  std::string what;
  for (size_t i = 0; i < missing.size(); ++i) what += (i ? "; " : "") + missing[i];
  return Status::NotFound(
      fmt::format("the zkpilot operator is not installed in this cluster ({}); install it with\n  "
                  "{}\nor run the deploy again "
                  "with --install-operator",
                  what, InstallOperatorCommand(package_dir)));
}

Status InstallOperator(KubeClient& client, const std::vector<RenderedObject>& manifests,
                       const std::string& operator_namespace,
                       std::chrono::steady_clock::time_point deadline) {
  for (const auto& object : manifests) {
    const json body = json::parse(object.body.dump());
    const std::string what = "install the operator: apply " + ObjectName(body);
    auto ref = Retrying<ResourceRef>(
        deadline, [&] { return client.Resolve(object.api_version, object.kind); });
    if (!ref.ok()) return ref.status().WithContext(what);
    auto applied = Retrying<json>(deadline, [&] {
      return client.Apply(*ref, Str(Member(body, "metadata"), "namespace"), body,
                          kube::kCliFieldManager);
    });
    if (!applied.ok()) return Explain(applied.status(), what);
  }
  // The CRD must be served before resources of it can be written, and the
  // operator running before a deploy can be followed.
  auto pause = std::chrono::milliseconds(200);
  while (true) {
    auto presence = CheckOperator(client, operator_namespace);
    if (presence.ok() && presence->Complete()) return Status::Ok();
    if (!presence.ok() && presence.status().code() != ErrorCode::kUnavailable)
      return presence.status().WithContext("install the operator");
    if (std::chrono::steady_clock::now() + pause >= deadline) {
      std::string state = presence.ok()
                              ? (!presence->crd_established ? "the CRD is not established"
                                                            : "its Deployment is not available")
                              : presence.status().message();
      return Status::IOError(
          fmt::format("installed the zkpilot operator, but it is not ready in time: {} (kubectl -n "
                      "{} describe deployment {})",
                      state, operator_namespace, kOperatorName));
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(2000));
  }
}

Result<PushResult> PushPackageConfigMaps(KubeClient& client,
                                         const std::vector<OrderedJson>& config_maps) {
  PushResult result;
  const ResourceRef ref = kube::ConfigMapResource();
  for (const auto& cm : config_maps) {
    const json body = json::parse(cm.dump());
    const std::string ns = Str(Member(body, "metadata"), "namespace");
    const std::string name = Str(Member(body, "metadata"), "name");
    const std::string what = "push the package: ConfigMap " + ns + "/" + name;
    auto existing = Retrying<std::optional<json>>(TransientDeadline(),
                                                  [&] { return client.Get(ref, ns, name); });
    if (!existing.ok()) return existing.status().WithContext(what);
    if (*existing) {
      result.present.push_back(name);
      continue;
    }
    auto created =
        Retrying<json>(TransientDeadline(), [&] { return client.Create(ref, ns, body); });
    if (!created.ok()) {
      // Created meanwhile by someone else (another deploy of the same package).
      if (created.status().code() == ErrorCode::kConflict) {
        result.present.push_back(name);
        continue;
      }
      return created.status().WithContext(what);
    }
    result.created.push_back(name);
  }
  return result;
}

std::vector<std::string> DroppedFields(const json& sent, const json& stored,
                                       const std::string& prefix) {
  std::vector<std::string> out;
  if (!sent.is_object()) return out;
  for (const auto& [key, value] : sent.items()) {
    const std::string path = prefix + "." + key;
    if (value.is_null()) continue;
    if (!stored.is_object() || !stored.contains(key)) {
      out.push_back(path);
      continue;
    }
    for (auto& p : DroppedFields(value, stored[key], path)) out.push_back(std::move(p));
  }
  return out;
}

Result<json> ApplyClusterObject(KubeClient& client, const json& object, bool dry_run,
                                const std::string& package_dir) {
  const ResourceRef ref = kube::ClusterResource();
  const json& meta = Member(object, "metadata");
  const std::string ns = Str(meta, "namespace"), name = Str(meta, "name");
  const std::string what =
      (dry_run ? "check (server-side dry run) " : "apply ") + ObjectName(object);
  // An apply is whole or nothing: asking again after a 429/5xx is safe.
  Result<json> applied = Retrying<json>(TransientDeadline(), [&]() -> Result<json> {
    if (dry_run)
      return client.Request(
          "PATCH",
          ResourcePath(ref, ns, name) + "?fieldManager=" + kube::kCliFieldManager + "&dryRun=All",
          object, "application/apply-patch+yaml");
    return client.Apply(ref, ns, object, kube::kCliFieldManager);
  });
  if (!applied.ok()) return Explain(applied.status(), what);
  // Pruning: a CRD generated from another version of the package drops what
  // its schema does not know, silently. A value the user set must not vanish.
  std::vector<std::string> dropped =
      DroppedFields(Member(Member(object, "spec"), "values"),
                    Member(Member(*applied, "spec"), "values"), "spec.values");
  if (!dropped.empty()) {
    std::string list;
    for (const auto& d : dropped) list += (list.empty() ? "" : ", ") + d;
    return Status::InvalidInput(
        fmt::format("{}: the API dropped {}: the cluster's CustomResourceDefinition {} was "
                    "generated from another version of the "
                    "package and does not know {}; update it with\n  {}",
                    what, list, kClusterCrdName, dropped.size() > 1 ? "them" : "it",
                    InstallOperatorCommand(package_dir)));
  }
  return applied;
}

}  // namespace zkpilot
