// zkpilot deploy --platform kubernetes: validate locally, make sure the
// operator is there, push the package, apply the ZooKeeperCluster, follow
// the operator's deploy.
#include <fmt/format.h>

#include "actions/kube_commands.h"
#include "actions/kube_follow.h"
#include "actions/kube_objects.h"
#include "actions/kube_writes.h"
#include "plan/change_planner.h"
#include "platform/kubernetes/operator_manifests.h"
#include "platform/kubernetes/package_configmaps.h"
// auth.* read as every platform reads it (AuthSettingsOf).
#include "platform/local/local_auth.h"

namespace zkpilot {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// A ConfigMap for --dry-run: its metadata and what it holds, not the files.
OrderedJson ConfigMapSummary(const OrderedJson& cm) {
  OrderedJson out = OrderedJson::object();
  out["apiVersion"] = cm["apiVersion"];
  out["kind"] = cm["kind"];
  out["metadata"] = cm["metadata"];
  out["immutable"] = cm.value("immutable", false);
  size_t files = 0, bytes = 0;
  for (const char* key : {"data", "binaryData"})
    if (cm.contains(key))
      for (auto it = cm[key].begin(); it != cm[key].end(); ++it)
        if (it.key() != kPackageIndexKey) ++files, bytes += it.value().get<std::string>().size();
  out["data"] = fmt::format("({} files of the package, {} bytes)", files, bytes);
  return out;
}

}  // namespace

Result<KubeOutput> KubeDeploy(KubeSession& session, const KubeDeployRequest& req,
                              ProgressSink& progress) {
  const auto started = SteadyClock::now();
  KubeClient& client = *session.client;
  const std::string& ns = session.ns;
  const std::string what = "deploy " + req.name;

  // Everything local first: nothing is written when the input is bad.
  ZK_RETURN_IF_ERROR(ValidateClusterName(req.name));
  ZK_RETURN_IF_ERROR(ValidateNamespaceName(ns).WithContext("namespace"));
  ZK_ASSIGN_OR_RETURN(LoadedCluster loaded, LoadAndResolve(req.package_dir, req.values, "kubernetes"));
  RenderOptions render;
  render.cluster_name = req.name;
  render.namespace_name = ns;
  auto rendered = RenderManifests(loaded.package, loaded.values, render);
  if (!rendered.ok()) return rendered.status().WithContext("render");
  // auth.users as the operator will read them (names of Secret keys and JAAS options).
  ZK_RETURN_IF_ERROR(AuthSettingsOf(loaded.values).status());
  ZK_ASSIGN_OR_RETURN(PackageFiles files, ReadPackageFiles(req.package_dir));
  ZK_ASSIGN_OR_RETURN(auto config_maps, PackageToConfigMaps(loaded.package, files, ns));
  ClusterSpec spec;
  spec.package = MakePackageRef(loaded.package, files);
  spec.values = UserValues(loaded.values);
  // The operator resolves the spec's values again: they must come out the same.
  ZK_ASSIGN_OR_RETURN(Values again, ResolveSpecValues(loaded.package.schema, spec.values));
  ChangeSet same = DiffValues(loaded.package, loaded.values, again);
  if (!same.Empty())
    return Status::Internal("spec.values do not resolve to the values given: " +
                            ChangeSet::Describe(loaded.values, again, same.changed));
  const json object = ClusterApplyObject(req.name, ns, spec);

  // The cluster: is the name free, is the operator there?
  auto existing = client.Get(kube::ClusterResource(), ns, req.name);
  if (!existing.ok()) return existing.status().WithContext(what);
  if (*existing) {
    auto phase = kube::Str(kube::Member(**existing, "status"), "phase");
    return Status::InvalidInput(
        fmt::format("cluster {} already exists in namespace {}{}; pick another name, change it "
                    "(zkpilot configure/upgrade/scale), "
                    "or `zkpilot delete {} --platform kubernetes` first",
                    req.name, ns, phase.empty() ? "" : " (" + phase + ")", req.name));
  }
  ZK_ASSIGN_OR_RETURN(OperatorPresence presence, CheckOperator(client, req.operator_namespace));
  std::vector<RenderedObject> manifests;
  if (!presence.Complete() && !req.install_operator && !req.dry_run)
    return OperatorMissing(presence, req.operator_namespace, req.package_dir);
  if (!presence.Complete() && req.install_operator) {
    OperatorManifestOptions options;
    options.namespace_ = req.operator_namespace;
    options.image = req.operator_image;
    ZK_RETURN_IF_ERROR(ValidateOperatorOptions(options));
    ZK_ASSIGN_OR_RETURN(manifests, OperatorManifests(loaded.package, options));
  }
  // The API's own validation (the CRD's schema) before anything is written.
  if (presence.crd_established)
    ZK_RETURN_IF_ERROR(ApplyClusterObject(client, object, true, req.package_dir).status());

  KubeOutput out;
  if (loaded.values.Has("replicas") && loaded.values.Get("replicas").is_number_integer())
    if (auto even = EvenReplicasWarning(loaded.values.Get("replicas").get<int64_t>()); !even.empty())
      out.warnings.push_back(even);
  if (req.dry_run) {
    std::vector<OrderedJson> docs;
    for (const auto& m : manifests) docs.push_back(m.body);
    for (const auto& cm : config_maps) docs.push_back(ConfigMapSummary(cm));
    docs.push_back(OrderedJson::parse(object.dump()));
    for (const auto& d : docs) out.text += "---\n" + EmitYaml(d);
    out.text += "\n";
    if (!manifests.empty())
      out.text += fmt::format(
          "The zkpilot operator would be installed first (the first {} objects above).\n",
          manifests.size());
    else if (!presence.Complete())
      out.text +=
          OperatorMissing(presence, req.operator_namespace, req.package_dir).message() + "\n";
    out.text +=
        presence.crd_established
            ? "The API accepted the ZooKeeperCluster (server-side dry run).\n"
            : "The ZooKeeperCluster was validated locally only: its CRD is not installed yet.\n";
    out.text += fmt::format(
        "The operator then deploys {} servers of ZooKeeper {}: it starts them, waits until the "
        "ensemble is healthy and runs the deploy hooks.\n(dry run: nothing was changed)\n",
        loaded.values.Get("replicas").dump(),
        loaded.values.Get(loaded.package.version_parameter).get<std::string>());
    return out;
  }

  const auto deadline = started + req.timeout;
  if (!manifests.empty()) {
    session.note(
        fmt::format("installing the zkpilot operator in namespace {} ...", req.operator_namespace));
    ZK_RETURN_IF_ERROR(
        InstallOperator(client, manifests, req.operator_namespace, deadline).WithContext(what));
    ZK_RETURN_IF_ERROR(ApplyClusterObject(client, object, true, req.package_dir).status());
    out.text +=
        fmt::format("installed the zkpilot operator (namespace {})\n", req.operator_namespace);
  }
  auto pushed = PushPackageConfigMaps(client, config_maps);
  if (!pushed.ok()) return pushed.status().WithContext(what);
  ZK_ASSIGN_OR_RETURN(json applied, ApplyClusterObject(client, object, false, req.package_dir));
  session.note(
      fmt::format("applied ZooKeeperCluster {}/{}; the operator deploys it:", ns, req.name));

  FollowTarget target;
  target.generation = kube::Int(kube::Member(applied, "metadata"), "generation", 1);
  target.first_operation_id = 1;
  OperationTracker tracker(target, progress);
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  ZK_ASSIGN_OR_RETURN(FollowOutcome outcome,
                      FollowCluster(client, ns, req.name, tracker,
                                    std::max(left, std::chrono::milliseconds(1000))));
  ZK_RETURN_IF_ERROR(OutcomeStatus(outcome, what));
  const auto took =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started);
  out.text += fmt::format("deployed {} (revision {}): {}\ntime to healthy: {:.1f}s\n", req.name,
                          outcome.operation ? outcome.operation->revision : 0,
                          OperationHealth(outcome), took.count() / 1000.0);
  return out;
}

}  // namespace zkpilot
