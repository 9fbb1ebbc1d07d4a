// Test support for the Kubernetes commands' tests against kube-sim: the
// cluster of the test binary (kube_client_testenv.h), the operator's CRD,
// a stand-in for its Deployment, ZooKeeperCluster objects in the state an
// operator leaves them, and a thread that plays the operator's part.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "actions/kube_cluster_reads.h"
#include "actions/kube_commands.h"
#include "actions/kube_objects.h"
#include "actions/kube_writes.h"
#include "package/package_loader.h"
#include "platform/kubernetes/crd.h"
#include "platform/kubernetes/kube_client_testenv.h"
#include "platform/kubernetes/operator_manifests.h"
#include "platform/kubernetes/package_configmaps.h"

namespace zkpilot::kubeclitest {

using nlohmann::json;
using namespace std::chrono_literals;
using kubetest::Sim;
using kubetest::WaitUntil;

inline const std::string kPackageDir = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";

class RecordingProgress : public ProgressSink {
 public:
  void StepStarted(size_t index, size_t total, const Step& step) override {
    lines.push_back(fmt::format("[{}/{}] {} ...", index + 1, total, step.description));
  }
  void StepFinished(size_t index, size_t total, const Step&, const Status& status,
                    const std::string& outcome, std::chrono::milliseconds) override {
    lines.push_back(status.ok() ? fmt::format("[{}/{}] done{}", index + 1, total,
                                              outcome.empty() ? "" : ": " + outcome)
                                : fmt::format("[{}/{}] FAILED", index + 1, total));
  }
  std::vector<std::string> lines;
};

inline std::unique_ptr<KubeClient> Admin() {
  return kubetest::Connect(kubetest::AdminConnection());
}

inline KubeSession Session(const std::string& ns, const std::string& kubeconfig = "") {
  KubeConfigOptions options;
  options.kubeconfig = kubeconfig.empty() ? Sim().kubeconfig : kubeconfig;
  options.namespace_ = ns;
  auto session = OpenKubeSession(options);
  EXPECT_TRUE(session.ok()) << session.status().message();
  return session.ok() ? std::move(session).value() : KubeSession{};
}

inline Result<json> ApplyAs(KubeClient& client, const json& object,
                            const std::string& manager = "test") {
  auto ref = client.Resolve(object["apiVersion"], object["kind"]);
  if (!ref.ok()) return ref.status();
  return client.Apply(*ref, object["metadata"].value("namespace", ""), object, manager);
}

inline void EnsureNamespace(KubeClient& client, const std::string& ns) {
  auto applied =
      ApplyAs(client, {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
  ASSERT_TRUE(applied.ok()) << applied.status().message();
}

inline Package LoadedPackage() {
  auto p = LoadPackage(kPackageDir);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? *p : Package{};
}

inline bool CrdInstalled(KubeClient& client) {
  auto crd = client.Get(kube::CrdResource(), "", kClusterCrdName);
  return crd.ok() && crd->has_value() && kube::ObjectCondition(**crd, "Established") == "True";
}

inline void InstallCrd(KubeClient& client) {
  auto applied = ApplyAs(client, json::parse(GenerateCrd(LoadedPackage()).dump()));
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  ASSERT_TRUE(WaitUntil(30s, [&] { return CrdInstalled(client); }));
}

// A Deployment named as the operator's whose pod only sleeps: the command
// line checks that the operator is there; what it does is played by the tests.
inline void InstallStandInOperator(KubeClient& client) {
  EnsureNamespace(client, kOperatorNamespace);
  json labels = {{"app", "stand-in-operator"}};
  json deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", kOperatorName}, {"namespace", kOperatorNamespace}}},
      {"spec",
       {{"replicas", 1},
        {"selector", {{"matchLabels", labels}}},
        {"template",
         {{"metadata", {{"labels", labels}}},
          {"spec",
           {{"terminationGracePeriodSeconds", 1},
            {"containers",
             json::array({{{"name", "sleep"},
                           {"image", "kube-sim/host:latest"},
                           {"command", {"/bin/sh", "-c", "exec sleep 3600"}}}})}}}}}}}};
  auto applied = ApplyAs(client, deployment);
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  ASSERT_TRUE(WaitUntil(120s, [&] {
    auto p = CheckOperator(client, kOperatorNamespace);
    return p.ok() && p->Complete();
  }));
}

inline json GetObject(KubeClient& client, const std::string& ns, const std::string& name) {
  auto got = client.Get(kube::ClusterResource(), ns, name);
  EXPECT_TRUE(got.ok()) << got.status().message();
  return got.ok() && got->has_value() ? **got : json();
}

inline void WriteStatus(KubeClient& client, const std::string& ns, const std::string& name,
                        const json& status) {
  auto patched =
      client.MergePatch(kube::ClusterResource(), ns, name, {{"status", status}}, "status");
  ASSERT_TRUE(patched.ok()) << patched.status().message();
}

inline json Condition(const std::string& type, const std::string& status, const std::string& reason,
                      int64_t generation, const std::string& message = "") {
  return {{"type", type},
          {"status", status},
          {"reason", reason},
          {"message", message},
          {"observedGeneration", generation},
          {"lastTransitionTime", "2024-05-01T10:00:00Z"}};
}

inline json Members(int n, int leader) {
  json members = json::array();
  for (int id = 1; id <= n; ++id)
    members.push_back({{"id", id},
                       {"role", id == leader ? "leader" : "follower"},
                       {"version", "3.8.0"},
                       {"zxid", "0x100000003"},
                       {"ready", true},
                       {"pod", fmt::format("demo-{}-0", id)},
                       {"restarts", 0}});
  return members;
}

inline json DoneStep(int index, const std::string& kind, const std::string& description,
                     const std::string& detail = "") {
  return {{"index", index},
          {"kind", kind},
          {"description", description},
          {"args", json::object()},
          {"status", "done"},
          {"detail", detail},
          {"startedAt", "2024-05-01T10:00:00Z"},
          {"finishedAt", "2024-05-01T10:00:02Z"}};
}

// The status an operator writes once an operation `op` (with id, type and
// revision) succeeded on a healthy 3-server ensemble.
inline json HealthyStatus(int64_t generation, int revision, const json& op, const json& history) {
  return {{"observedGeneration", generation},
          {"phase", "Running"},
          {"conditions",
           {Condition("Ready", "True", "QuorumAvailable", generation, "leader 2, 3/3 in sync"),
            Condition("Degraded", "False", "AllServersInSync", generation),
            Condition("Progressing", "False", "Idle", generation),
            Condition("Valid", "True", "ValuesAccepted", generation)}},
          {"currentRevision", revision},
          {"currentVersion", "3.8.0"},
          {"targetVersion", "3.8.0"},
          {"replicas", 3},
          {"readyReplicas", 3},
          {"leader", 2},
          {"members", Members(3, 2)},
          {"operation", op},
          {"operations", history}};
}

inline json Operation(int64_t id, const std::string& type, int revision, const std::string& phase,
                      const json& steps) {
  return {{"id", id},       {"type", type}, {"revision", revision},
          {"phase", phase}, {"error", ""},  {"startedAt", "2024-05-01T10:00:00Z"},
          {"steps", steps}};
}

// A cluster as the operator leaves it after its deploy: the package's
// ConfigMaps, the resource (applied as the command line applies it), its
// first ControllerRevision and a healthy status.
inline void CreateDeployedCluster(KubeClient& client, const std::string& ns,
                                  const std::string& name, const json& user_values,
                                  bool finalizer = false) {
  EnsureNamespace(client, ns);
  auto files = ReadPackageFiles(kPackageDir);
  ASSERT_TRUE(files.ok());
  Package package = LoadedPackage();
  auto config_maps = PackageToConfigMaps(package, *files, ns);
  ASSERT_TRUE(config_maps.ok()) << config_maps.status().message();
  ASSERT_TRUE(PushPackageConfigMaps(client, *config_maps).ok());
  ClusterSpec spec;
  spec.package = MakePackageRef(package, *files);
  spec.values = user_values;
  // The status below (Members) says 3.8.0: so does the spec, as a deploy with
  // --set version=3.8.0 writes it (the default is 3.9.3).
  if (!spec.values.contains("version")) spec.values["version"] = "3.8.0";
  auto applied = ApplyClusterObject(client, ClusterApplyObject(name, ns, spec), false);
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  if (finalizer) {
    json finalizers = {{"metadata", {{"finalizers", json::array({kClusterFinalizer})}}}};
    ASSERT_TRUE(client.MergePatch(kube::ClusterResource(), ns, name, finalizers).ok());
  }
  auto values = ResolveSpecValues(package.schema, spec.values);
  ASSERT_TRUE(values.ok()) << values.status().message();
  json flat = json::object();
  for (const auto& [k, v] : values->Flat()) flat[k] = v;
  RevisionRecord r;
  r.cluster = name;
  r.revision = 1;
  r.operation = "deploy";
  r.values_json = flat.dump();
  r.package_version = package.version;
  r.zk_version = values->Get("version").get<std::string>();
  r.status = RevisionStatus::kDeployed;
  r.message = "deployed";
  r.started_at = 1714557600000;
  r.finished_at = 1714557640000;
  auto revision =
      RevisionToControllerRevision(r, {name, ns, (*applied)["metadata"]["uid"].get<std::string>()});
  ASSERT_TRUE(revision.ok()) << revision.status().message();
  ASSERT_TRUE(client.Create(kube::ControllerRevisionResource(), ns, *revision).ok());
  const int64_t generation = (*applied)["metadata"]["generation"];
  json op = Operation(1, "deploy", 1, "Succeeded",
                      json::array({DoneStep(0, "wait-healthy", "wait until healthy",
                                            "healthy: leader 2, 3/3 servers in sync")}));
  json summary = op;
  summary.erase("steps");
  WriteStatus(client, ns, name, HealthyStatus(generation, 1, op, json::array({summary})));
}

// The operator's part in a test: a thread with its own client.
class StandIn {
 public:
  explicit StandIn(std::function<void(KubeClient&)> act) {
    thread_ = std::thread([act] {
      auto client = Admin();
      if (client) act(*client);
    });
  }
  ~StandIn() { thread_.join(); }

 private:
  std::thread thread_;
};

// A pod labelled as server `id` of cluster `cluster` that runs `script`.
inline json ServerPod(const std::string& ns, const std::string& cluster, int id,
                      const std::string& script) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", fmt::format("{}-{}-0", cluster, id)},
            {"namespace", ns},
            {"labels",
             {{"app.kubernetes.io/instance", cluster},
              {"app.kubernetes.io/component", "server"},
              {"zkpilot.io/server-id", std::to_string(id)}}}}},
          {"spec",
           {{"terminationGracePeriodSeconds", 1},
            {"containers", json::array({{{"name", "zookeeper"},
                                         {"image", "kube-sim/host:latest"},
                                         {"command", {"/bin/sh", "-c", script}}}})}}}};
}

}  // namespace zkpilot::kubeclitest
