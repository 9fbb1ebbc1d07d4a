#include "platform/kubernetes/operator_manifests.h"

#include <gtest/gtest.h>

#include <set>

#include "package/package_loader.h"
#include "render/renderer.h"
#include "values/values.h"

namespace zkpilot {
namespace {

const Package& ZooKeeperPackage() {
  static const Package pkg = [] {
    auto p = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
    EXPECT_TRUE(p.ok()) << p.status().message();
    return p.ok() ? *p : Package{};
  }();
  return pkg;
}

const RenderedObject& Find(const std::vector<RenderedObject>& objects, const std::string& kind) {
  for (const auto& o : objects)
    if (o.kind == kind) return o;
  static const RenderedObject none;
  ADD_FAILURE() << "no " << kind;
  return none;
}

// Whether `rules` grant `verb` on group/resource (no wildcards are used).
bool Allows(const OrderedJson& rules, const std::string& group, const std::string& resource,
            const std::string& verb, const std::string& name = "") {
  for (const auto& r : rules) {
    auto has = [](const OrderedJson& list, const std::string& v) {
      for (const auto& x : list)
        if (x == v) return true;
      return false;
    };
    if (!has(r["apiGroups"], group) || !has(r["resources"], resource) || !has(r["verbs"], verb))
      continue;
    if (r.contains("resourceNames") && (name.empty() || !has(r["resourceNames"], name))) continue;
    return true;
  }
  return false;
}

TEST(OperatorManifests, ObjectsInApplyOrder) {
  auto objects = OperatorManifests(ZooKeeperPackage(), {});
  ASSERT_TRUE(objects.ok()) << objects.status().message();
  std::vector<std::string> kinds;
  for (const auto& o : *objects) kinds.push_back(o.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"CustomResourceDefinition", "Namespace",
                                             "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                                             "Role", "RoleBinding", "Deployment"}));
  for (const auto& o : *objects) {
    if (o.kind == "CustomResourceDefinition") continue;
    EXPECT_EQ(o.body["metadata"]["labels"]["app.kubernetes.io/managed-by"], "zkpilot") << o.kind;
    EXPECT_EQ(o.name, o.kind == "Namespace" ? "zkpilot-system" : "zkpilot-operator");
    bool namespaced =
        o.kind != "Namespace" && o.kind != "ClusterRole" && o.kind != "ClusterRoleBinding";
    EXPECT_EQ(o.body["metadata"].contains("namespace"), namespaced) << o.kind;
  }
}

TEST(OperatorManifests, DeploymentRunsTheOperatorWithLeaderElectionAndHealthProbes) {
  auto objects = OperatorManifests(ZooKeeperPackage(), {});
  ASSERT_TRUE(objects.ok());
  const OrderedJson& d = Find(*objects, "Deployment").body;
  EXPECT_EQ(d["spec"]["replicas"], 1);
  const OrderedJson& pod = d["spec"]["template"]["spec"];
  EXPECT_EQ(pod["serviceAccountName"], "zkpilot-operator");
  EXPECT_EQ(pod["securityContext"]["runAsNonRoot"], true);
  const OrderedJson& c = pod["containers"][0];
  EXPECT_EQ(c["image"], std::string("ghcr.io/zkpilot/zkpilot:") + ZKPILOT_VERSION);
  EXPECT_EQ(c["args"], OrderedJson::array({"operator", "--leader-elect"}));
  EXPECT_EQ(c["env"][0]["name"], "POD_NAMESPACE");
  EXPECT_EQ(c["env"][0]["valueFrom"]["fieldRef"]["fieldPath"], "metadata.namespace");
  EXPECT_EQ(c["ports"][0]["containerPort"], 8081);
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"], "/healthz");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"], "/readyz");
  EXPECT_EQ(c["securityContext"]["allowPrivilegeEscalation"], false);
  EXPECT_EQ(c["securityContext"]["readOnlyRootFilesystem"], true);
  EXPECT_EQ(c["securityContext"]["capabilities"]["drop"], OrderedJson::array({"ALL"}));
  EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
  EXPECT_TRUE(c["resources"]["requests"].contains("memory"));
  EXPECT_EQ(d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"],
            d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]);
}

TEST(OperatorManifests, NamespaceEnforcesTheRestrictedPodSecurityLevel) {
  auto objects = OperatorManifests(ZooKeeperPackage(), {});
  ASSERT_TRUE(objects.ok());
  const OrderedJson& labels = Find(*objects, "Namespace").body["metadata"]["labels"];
  EXPECT_EQ(labels["pod-security.kubernetes.io/enforce"], "restricted");
  EXPECT_EQ(labels["pod-security.kubernetes.io/enforce-version"], "latest");
}

TEST(OperatorManifests, OptionsSetNamespaceImageAndReplicas) {
  OperatorManifestOptions options;
  options.namespace_ = "ops";
  options.image = "registry.local/zkpilot:dev";
  options.replicas = 2;
  auto objects = OperatorManifests(ZooKeeperPackage(), options);
  ASSERT_TRUE(objects.ok());
  EXPECT_EQ(Find(*objects, "Namespace").name, "ops");
  EXPECT_EQ(Find(*objects, "Deployment").body["metadata"]["namespace"], "ops");
  EXPECT_EQ(Find(*objects, "Deployment").body["spec"]["replicas"], 2);
  EXPECT_EQ(Find(*objects, "Deployment").body["spec"]["template"]["spec"]["containers"][0]["image"],
            "registry.local/zkpilot:dev");
  EXPECT_EQ(Find(*objects, "ClusterRoleBinding").body["subjects"][0]["namespace"], "ops");
  EXPECT_EQ(Find(*objects, "RoleBinding").body["metadata"]["namespace"], "ops");
  EXPECT_EQ(Find(*objects, "Role").body["metadata"]["namespace"], "ops");
}

TEST(OperatorManifests, BadOptionsNameTheFlag) {
  struct Case {
    OperatorManifestOptions options;
    const char* flag;
  } cases[] = {{{"Bad_NS", "", 1}, "--namespace"},
               {{"", "", 1}, "--namespace"},
               {{"ok", "", 0}, "--replicas"},
               {{"ok", "", 11}, "--replicas"},
               {{"ok", "an image", 1}, "--image"}};
  for (const auto& c : cases) {
    auto r = OperatorManifests(ZooKeeperPackage(), c.options);
    ASSERT_FALSE(r.ok()) << c.flag;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(r.status().message().rfind(c.flag, 0), 0u) << r.status().message();
  }
}

TEST(OperatorRbac, CoversEveryKindThePackageRenders) {
  // Every add-on on; prometheus-operator objects; both controller kinds
  // (Deployment mode renders the claims).
  const std::vector<std::vector<std::string>> sets = {
      {"prometheus.enabled=true", "alertmanager.enabled=true", "grafana.enabled=true",
       "zoonavigator.enabled=true", "zoonavigator.readOnly=false", "networkPolicy.enabled=true"},
      {"prometheus.enabled=true", "prometheus.operator=true", "controller=deployment"},
  };
  std::set<std::pair<std::string, std::string>> kinds;  // apiVersion, kind
  for (const auto& set : sets) {
    ValuesInput input;
    input.sets = set;
    auto values = ResolveValues(ZooKeeperPackage().schema, input);
    ASSERT_TRUE(values.ok()) << values.status().message();
    auto objects = RenderManifests(ZooKeeperPackage(), *values, RenderOptions{"demo", "prod"});
    ASSERT_TRUE(objects.ok()) << objects.status().message();
    for (const auto& o : *objects) kinds.emplace(o.api_version, o.kind);
  }
  static const std::map<std::string, std::string> kPlural = {
      {"ConfigMap", "configmaps"},
      {"Service", "services"},
      {"ServiceAccount", "serviceaccounts"},
      {"PersistentVolumeClaim", "persistentvolumeclaims"},
      {"StatefulSet", "statefulsets"},
      {"Deployment", "deployments"},
      {"PodDisruptionBudget", "poddisruptionbudgets"},
      {"NetworkPolicy", "networkpolicies"},
      {"ServiceMonitor", "servicemonitors"},
      {"PrometheusRule", "prometheusrules"},
      {"Secret", "secrets"}};
  const OrderedJson rules = OperatorClusterRules();
  for (const auto& [api_version, kind] : kinds) {
    ASSERT_TRUE(kPlural.count(kind))
        << "the package renders " << kind << ": grant it to the operator";
    std::string group = api_version.find('/') == std::string::npos
                            ? ""
                            : api_version.substr(0, api_version.find('/'));
    for (const char* verb : {"get", "list", "create", "patch", "delete"})
      EXPECT_TRUE(Allows(rules, group, kPlural.at(kind), verb)) << verb << " " << kind;
  }
  EXPECT_GE(kinds.size(), 9u);
}

TEST(OperatorRbac, GrantsWhatTheOperatorDoesAndNoMore) {
  const OrderedJson rules = OperatorClusterRules();
  EXPECT_TRUE(Allows(rules, "zkpilot.io", "zookeeperclusters", "watch"));
  for (const auto& r : rules)
    for (const auto& v : r["verbs"])
      if (v == "watch") {
        EXPECT_EQ(r["resources"][0], "zookeeperclusters") << r.dump();
      }
  EXPECT_TRUE(Allows(rules, "zkpilot.io", "zookeeperclusters", "patch"));  // the finalizer
  EXPECT_FALSE(Allows(rules, "zkpilot.io", "zookeeperclusters", "update"));
  EXPECT_TRUE(Allows(rules, "zkpilot.io", "zookeeperclusters/status", "patch"));
  EXPECT_TRUE(Allows(rules, "zkpilot.io", "zookeeperclusters/status", "update"));
  EXPECT_TRUE(Allows(rules, "zkpilot.io", "zookeeperclusters/finalizers", "update"));
  EXPECT_FALSE(Allows(rules, "zkpilot.io", "zookeeperclusters", "create"));
  EXPECT_FALSE(Allows(rules, "zkpilot.io", "zookeeperclusters", "delete"));
  EXPECT_TRUE(Allows(rules, "apps", "controllerrevisions", "create"));
  EXPECT_TRUE(Allows(rules, "", "pods", "delete"));
  EXPECT_FALSE(Allows(rules, "", "pods", "create"));
  EXPECT_TRUE(Allows(rules, "", "pods/log", "get"));
  EXPECT_TRUE(Allows(rules, "", "pods/exec", "create"));
  EXPECT_TRUE(Allows(rules, "", "secrets", "create"));
  EXPECT_FALSE(Allows(rules, "", "secrets", "watch"));
  EXPECT_FALSE(Allows(rules, "", "pods", "watch"));
  EXPECT_FALSE(Allows(rules, "apps", "statefulsets", "update"));  // applied: patch
  EXPECT_TRUE(Allows(rules, "", "events", "create"));
  // tls.certificates=cert-manager (kube_certmanager.h).
  for (const char* resource : {"issuers", "certificates"})
    for (const char* verb : {"get", "create", "patch"})
      EXPECT_TRUE(Allows(rules, "cert-manager.io", resource, verb)) << verb << " " << resource;
  EXPECT_TRUE(Allows(rules, "", "events", "list"));
  EXPECT_FALSE(Allows(rules, "events.k8s.io", "events", "create"));
  EXPECT_FALSE(Allows(rules, "coordination.k8s.io", "leases", "get",
                      "zkpilot-operator"));  // namespaced Role only
  for (const auto& r : rules) {
    for (const auto& field : {"apiGroups", "resources", "verbs"})
      for (const auto& v : r[field]) EXPECT_NE(v, "*") << r.dump();
    for (const auto& v : r["verbs"]) EXPECT_NE(v, "deletecollection") << r.dump();
  }
  const OrderedJson lease = OperatorLeaseRules();
  EXPECT_TRUE(Allows(lease, "coordination.k8s.io", "leases", "create"));
  EXPECT_TRUE(Allows(lease, "coordination.k8s.io", "leases", "update", "zkpilot-operator"));
  EXPECT_FALSE(Allows(lease, "coordination.k8s.io", "leases", "update", "someone-else"));
  EXPECT_FALSE(Allows(lease, "coordination.k8s.io", "leases", "delete", "zkpilot-operator"));
}

}  // namespace
}  // namespace zkpilot
