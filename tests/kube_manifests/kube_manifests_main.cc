// zkpilot_kube_manifests: prints the Kubernetes objects zkpilot builds, for
// tests/kube-sim/conformance/crd_zookeepercluster.sh to apply to the test
// cluster with kubectl. Test infrastructure only.
//
//   operator-manifests --package DIR [--namespace NS] [--image I] [--replicas N] [--output-dir D]
//   package-configmaps --package DIR --namespace NS     ConfigMaps of the package (YAML stream)
//   package-ref --package DIR                           spec.package as JSON
//   read-package --hash H < list.json                   a v1 List of ConfigMaps -> "name version: N
//   files" cluster --package DIR --name N --namespace NS [--values JSON]   a ZooKeeperCluster to
//   apply status                                              a sample status with every field set
//   (JSON) revision --cluster N --namespace NS --uid U         a sample ControllerRevision (JSON)
#include <CLI/CLI.hpp>
#include <iostream>
#include <iterator>

#include "actions/operator_manifests_action.h"
#include "platform/kubernetes/cluster_resource.h"
#include "platform/kubernetes/package_configmaps.h"

namespace {

using namespace zkpilot;

int Fail(const Status& s) {
  std::cerr << "error: " << s.message() << "\n";
  return ExitCodeFor(s);
}

Result<std::pair<Package, PackageFiles>> Load(const std::string& dir) {
  ZK_ASSIGN_OR_RETURN(PackageFiles files, ReadPackageFiles(dir));
  ZK_ASSIGN_OR_RETURN(Package package, ParsePackage(files));
  return std::make_pair(std::move(package), std::move(files));
}

ClusterStatus SampleStatus() {
  ClusterStatus st;
  st.observed_generation = 2;
  st.phase = ClusterPhase::kRunning;
  SetCondition(st.conditions,
               {kConditionReady, "True", "QuorumAvailable", "3 of 3 servers in the quorum", 0, 2},
               1714564800000);
  SetCondition(st.conditions, {kConditionProgressing, "False", "Idle", "", 0, 2}, 1714564800000);
  st.current_revision = 1;
  st.current_version = st.target_version = "3.8.0";
  st.replicas = st.ready_replicas = 3;
  st.leader = 3;
  for (int id = 1; id <= 3; ++id)
    st.members.push_back({id, id == 3 ? "leader" : "follower", "3.8.0", "0x100000005", true,
                          "demo-" + std::to_string(id) + "-0", "uid-" + std::to_string(id), 0});
  ClusterOperation op;
  op.id = 1;
  op.type = "deploy";
  op.revision = 1;
  op.phase = OperationStatus::kSucceeded;
  op.started_at = 1714564800000;
  op.finished_at = 1714564860500;
  op.steps.push_back({0,
                      "start-node",
                      "start node 1",
                      {{"node", 1}},
                      StepStatus::kDone,
                      "started",
                      1714564800000,
                      1714564801000});
  op.steps.push_back({1, "wait-healthy", "wait until healthy", nlohmann::json::object(),
                      StepStatus::kDone, "", 1714564801000, 1714564860500});
  st.operation = op;
  RecordOperationHistory(st, op);
  return st;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"zkpilot's Kubernetes objects, for tests"};
  app.require_subcommand(1);
  std::string package_dir, ns = "default", name, values = "{}", hash, cluster, uid;
  OperatorManifestsRequest manifests;

  auto* om = app.add_subcommand("operator-manifests");
  om->add_option("--package", manifests.package_dir)->required();
  om->add_option("--namespace", manifests.options.namespace_);
  om->add_option("--image", manifests.options.image);
  om->add_option("--replicas", manifests.options.replicas);
  om->add_option("--output-dir", manifests.output_dir);
  auto* pc = app.add_subcommand("package-configmaps");
  pc->add_option("--package", package_dir)->required();
  pc->add_option("--namespace", ns);
  auto* pr = app.add_subcommand("package-ref");
  pr->add_option("--package", package_dir)->required();
  auto* rp = app.add_subcommand("read-package");
  rp->add_option("--hash", hash)->required();
  auto* cl = app.add_subcommand("cluster");
  cl->add_option("--package", package_dir)->required();
  cl->add_option("--name", name)->required();
  cl->add_option("--namespace", ns);
  cl->add_option("--values", values);
  auto* st = app.add_subcommand("status");
  auto* rv = app.add_subcommand("revision");
  rv->add_option("--cluster", cluster)->required();
  rv->add_option("--namespace", ns);
  rv->add_option("--uid", uid);
  CLI11_PARSE(app, argc, argv);

  if (om->parsed()) {
    auto text = RunOperatorManifests(manifests);
    if (!text.ok()) return Fail(text.status());
    std::cout << *text;
  } else if (pc->parsed() || pr->parsed() || cl->parsed()) {
    auto loaded = Load(package_dir);
    if (!loaded.ok()) return Fail(loaded.status());
    const auto& [package, files] = *loaded;
    if (pc->parsed()) {
      auto cms = PackageToConfigMaps(package, files, ns);
      if (!cms.ok()) return Fail(cms.status());
      for (const auto& cm : *cms) std::cout << "---\n" << EmitYaml(cm);
    } else {
      ClusterSpec spec;
      spec.package = MakePackageRef(package, files);
      if (pr->parsed()) {
        std::cout << SpecToJson(spec)["package"].dump() << "\n";
        return 0;
      }
      spec.values = nlohmann::json::parse(values, nullptr, false);
      if (spec.values.is_discarded()) return Fail(Status::InvalidInput("--values: not JSON"));
      std::cout << EmitYaml(ClusterApplyObject(name, ns, spec));
    }
  } else if (rp->parsed()) {
    std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    nlohmann::json list = nlohmann::json::parse(input, nullptr, false);
    if (!list.is_object() || !list.contains("items"))
      return Fail(Status::InvalidInput("stdin: not a List"));
    std::vector<nlohmann::json> items(list["items"].begin(), list["items"].end());
    auto pkg = PackageFromConfigMaps(items, hash);
    if (!pkg.ok()) return Fail(pkg.status());
    auto files = PackageFilesFromConfigMaps(items, hash);
    std::cout << pkg->name << " " << pkg->version << ": " << files->size() << " files\n";
  } else if (st->parsed()) {
    std::cout << nlohmann::json{{"status", StatusToJson(SampleStatus())}}.dump() << "\n";
  } else if (rv->parsed()) {
    RevisionRecord r;
    r.cluster = cluster;
    r.revision = 1;
    r.operation = "deploy";
    r.values_json = R"({"replicas":3,"tickTime":2000,"version":"3.8.0"})";
    r.package_version = "0.1.0";
    r.zk_version = "3.8.0";
    r.status = RevisionStatus::kDeployed;
    r.message = "deployed";
    r.started_at = 1714564800000;
    r.finished_at = 1714564860000;
    auto object = RevisionToControllerRevision(r, {cluster, ns, uid});
    if (!object.ok()) return Fail(object.status());
    std::cout << object->dump() << "\n";
  }
  return 0;
}
