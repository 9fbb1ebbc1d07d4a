#include "platform/kubernetes/kube_platform_objects.h"

#include <gtest/gtest.h>

#include "package/package_loader.h"
#include "platform/kubernetes/cluster_resource.h"
#include "values/values.h"
#include "zk/zk_client.h"

namespace zkpilot {
namespace {

using json = nlohmann::json;

const Package& DefaultPackage() {
  static const Package package = [] {
    auto p = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
    if (!p.ok()) throw std::runtime_error(p.status().message());
    return std::move(p).value();
  }();
  return package;
}

PlatformObjects Objects(const std::vector<std::string>& sets, const std::string& uid = "") {
  ValuesInput in;
  in.sets = sets;
  auto values = ResolveValues(DefaultPackage().schema, in);
  EXPECT_TRUE(values.ok()) << values.status().message();
  RenderOptions ro;
  ro.cluster_name = "demo";
  ro.namespace_name = "ns";
  auto rendered = RenderManifests(DefaultPackage(), *values, ro);
  EXPECT_TRUE(rendered.ok()) << rendered.status().message();
  return SortObjects(
      DefaultPackage(), *rendered,
      {"demo", uid, "zkpilot.io/v1alpha1", "ZooKeeperCluster", "demo-zkpilot-super", "", ""});
}

const json& Controller(const PlatformObjects& o, int id) { return o.servers.at(id).back(); }
const json& Template(const PlatformObjects& o, int id) {
  return Controller(o, id)["spec"]["template"];
}

TEST(KubePlatformObjects, SortsServersClusterWideAndAddons) {
  PlatformObjects o = Objects({"replicas=3"});
  ASSERT_EQ(o.servers.size(), 3u);
  for (int id = 1; id <= 3; ++id) {
    EXPECT_EQ(Controller(o, id)["kind"], "StatefulSet");
    EXPECT_EQ(Controller(o, id)["metadata"]["name"], "demo-" + std::to_string(id));
  }
  EXPECT_TRUE(o.addons.empty());
  bool config_map = false;
  for (const auto& c : o.cluster_wide) {
    EXPECT_EQ(c["metadata"]["labels"][kLabelCluster], "demo") << c.dump();
    EXPECT_FALSE(c["metadata"].contains("ownerReferences"));
    config_map = config_map || c["kind"] == "ConfigMap";
  }
  EXPECT_TRUE(config_map);

  PlatformObjects with =
      Objects({"replicas=3", "zoonavigator.enabled=true", "zoonavigator.readOnly=false"}, "uid-1");
  ASSERT_FALSE(with.addons.empty());
  for (const auto& a : with.addons) {
    EXPECT_EQ(a["metadata"]["labels"][kLabelCluster], "demo");
    EXPECT_EQ(a["metadata"]["ownerReferences"][0]["uid"], "uid-1");
    EXPECT_EQ(a["metadata"]["ownerReferences"][0]["kind"], "ZooKeeperCluster");
  }
}

TEST(KubePlatformObjects, DeploymentModeKeepsTheClaimBeforeItsController) {
  PlatformObjects o = Objects({"replicas=1", "controller=deployment"}, "uid-1");
  ASSERT_EQ(o.servers.at(1).size(), 2u);
  EXPECT_EQ(o.servers.at(1)[0]["kind"], "PersistentVolumeClaim");
  EXPECT_FALSE(o.servers.at(1)[0]["metadata"].contains("ownerReferences"))
      << "the data outlives the resource";
  EXPECT_EQ(o.servers.at(1)[1]["metadata"]["ownerReferences"][0]["uid"], "uid-1");
  EXPECT_EQ(o.servers.at(1)[1]["kind"], "Deployment");
  EXPECT_EQ(ClaimNames(o.servers.at(1)[1]), std::vector<std::string>{"demo-1-data"});
  EXPECT_EQ(ClaimNames(Controller(Objects({"replicas=1"}), 1)),
            std::vector<std::string>{"data-demo-1-0"});
}

TEST(KubePlatformObjects, ServerTemplateGetsLabelDigestAndHash) {
  PlatformObjects o = Objects({"replicas=3"});
  const json& t = Template(o, 2);
  EXPECT_EQ(t["metadata"]["labels"][kLabelCluster], "demo");
  EXPECT_EQ(t["metadata"]["annotations"][kAnnotationTemplateHash], TemplateHash(t));
  json env;
  for (const auto& c : t["spec"]["containers"])
    if (c["name"] == "zookeeper") env = c["env"];
  ASSERT_TRUE(env.is_array());
  // The digest variable comes first: $(VAR) only sees earlier variables.
  EXPECT_EQ(env[0]["name"], "ZKPILOT_SUPER_DIGEST");
  EXPECT_EQ(env[0]["valueFrom"]["secretKeyRef"]["name"], "demo-zkpilot-super");
  bool flags = false;
  for (const auto& e : env)
    if (e["name"] == "SERVER_JVMFLAGS") {
      flags = true;
      EXPECT_EQ(e["value"],
                "-Dzookeeper.DigestAuthenticationProvider.superDigest=$(ZKPILOT_SUPER_DIGEST)");
    }
  EXPECT_TRUE(flags);
}

TEST(KubePlatformObjects, TemplateHashFollowsWhatNeedsARestartOnly) {
  auto hash = [](const std::vector<std::string>& sets, int id) {
    return MetadataAnnotation(Template(Objects(sets), id), kAnnotationTemplateHash);
  };
  const std::string base = hash({"replicas=3"}, 1);
  EXPECT_EQ(base, hash({"replicas=3"}, 1)) << "deterministic";
  EXPECT_EQ(base, hash({"replicas=5"}, 1)) << "membership is not part of it";
  EXPECT_NE(base, hash({"replicas=3", "tickTime=3000"}, 1)) << "a config file change";
  EXPECT_NE(base, hash({"replicas=3", "version=3.8.0"}, 1))
      << "a version change (from the default)";
  EXPECT_NE(base, hash({"replicas=3", "heapSize=256m"}, 1)) << "a JVM flag change";
  EXPECT_EQ(base,
            hash({"replicas=3", "zoonavigator.enabled=true", "zoonavigator.readOnly=false"}, 1))
      << "an add-on";
  EXPECT_NE(base, hash({"replicas=3"}, 2)) << "each server has its own";

  json t = Template(Objects({"replicas=3"}), 1);
  t["metadata"]["annotations"][kAnnotationRestartGeneration] = "7";
  EXPECT_EQ(TemplateHash(t), base) << "the restart generation is not configuration";
}

TEST(KubePlatformObjects, AServerScaledToZeroByAnotherManagerIsNamed) {
  json sts = {{"kind", "StatefulSet"},
              {"metadata",
               {{"name", "demo-2"},
                {"managedFields",
                 {{{"manager", "zkpilot"},
                   {"operation", "Apply"},
                   {"fieldsV1", {{"f:spec", {{"f:replicas", json::object()}}}}}},
                  {{"manager", "kubectl"},
                   {"operation", "Update"},
                   {"subresource", "scale"},
                   {"fieldsV1", {{"f:spec", {{"f:replicas", json::object()}}}}}}}}}},
              {"spec", {{"replicas", 0}}}};
  EXPECT_EQ(ForeignScaleDown(sts, "zkpilot"),
            "StatefulSet demo-2: spec.replicas is 0, managed by kubectl (kubectl scale?); zkpilot does "
            "not override another manager's fields: give the server back (kubectl scale statefulset "
            "demo-2 --replicas=1) and zkpilot continues");
  sts["spec"]["replicas"] = 1;
  EXPECT_EQ(ForeignScaleDown(sts, "zkpilot"), "") << "scaled back up";
  sts["spec"]["replicas"] = 0;
  sts["metadata"]["managedFields"].erase(1);
  EXPECT_EQ(ForeignScaleDown(sts, "zkpilot"), "") << "zkpilot's own zero (a stopped server)";
}

TEST(KubePlatformObjects, ConflictMessageNamesFieldAndManager) {
  const json sts = {{"kind", "StatefulSet"}, {"metadata", {{"name", "demo-2"}}}};
  const std::string one =
      "Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" using "
      "apps/v1: .spec.replicas";
  const std::string msg = ApplyConflictMessage(sts, one);
  EXPECT_EQ(msg.rfind("StatefulSet demo-2: spec.replicas is managed by kubectl (kubectl scale?); "
                      "zkpilot does not "
                      "override another manager's fields",
                      0),
            0u)
      << msg;
  EXPECT_NE(msg.find(one), std::string::npos);

  const std::string many =
      "Apply failed with 2 conflicts: conflicts with \"helm\" using apps/v1:\n- .spec.replicas\n- "
      ".spec.template.spec.containers[name=\"zookeeper\"].image";
  EXPECT_EQ(ApplyConflictMessage(sts, many).rfind(
                "StatefulSet demo-2: spec.replicas is managed by helm; "
                "spec.template.spec.containers[name=\"zookeeper\"].image is "
                "managed by helm; zkpilot",
                0),
            0u)
      << ApplyConflictMessage(sts, many);
  EXPECT_EQ(ApplyConflictMessage(sts, "something else"), "StatefulSet demo-2: something else");
}

TEST(KubePlatformObjects, AppliedByReadsManagedFields) {
  const json object = json::parse(R"({"metadata": {"managedFields": [
      {"manager": "zkpilot", "operation": "Apply", "fieldsType": "FieldsV1",
       "fieldsV1": {"f:spec": {"f:template": {}}}},
      {"manager": "kubectl", "operation": "Update", "subresource": "scale", "fieldsType": "FieldsV1",
       "fieldsV1": {"f:spec": {"f:replicas": {}}}}]}})");
  EXPECT_FALSE(AppliedBy(object, "zkpilot", {"spec", "replicas"}));
  EXPECT_TRUE(AppliedBy(object, "zkpilot", {"spec", "template"}));
  EXPECT_FALSE(AppliedBy(object, "kubectl", {"spec", "replicas"})) << "an update, not an apply";
}

TEST(KubePlatformObjects, SuperSecretHoldsPasswordAndDigest) {
  const json s = SuperSecretObject("demo-zkpilot-super", "ns", "pw", {"demo", "", "", "", "", "", ""});
  EXPECT_EQ(s["metadata"]["labels"][kLabelCluster], "demo");
  EXPECT_EQ(*Base64Decode(s["data"]["password"]), "pw");
  EXPECT_EQ(*Base64Decode(s["data"]["digest"]), DigestId("super", "pw"));
  for (const std::string text : {"", "a", "ab", "abc", "abcd", "super:xyz="})
    EXPECT_EQ(*Base64Decode(Base64Encode(text)), text);
}

// ZooNavigator sits behind a login: it listens on the pod's loopback, the
// Service leads to an nginx sidecar that checks the user in the Secret
// demo-zoonavigator-login, whose htpasswd line is a salted hash.
TEST(KubePlatformObjects, ZooNavigatorIsReachedOnlyThroughItsLoginProxy) {
  // {SSHA}: base64(sha1("secret" "12345678") "12345678"), as Python's hashlib computes it.
  EXPECT_EQ(SshaHtpasswdLine("admin", "secret", "12345678"),
            "admin:{SSHA}tCNGqyJLk/uvKpCa4vga5GB2gWoxMjM0NTY3OA==\n");
  const json s = ZooNavigatorLoginSecretObject("demo-zoonavigator-login", "ns", "pw",
                                               {"demo", "uid-1", "v", "K", ""});
  EXPECT_EQ(s["metadata"]["ownerReferences"][0]["uid"], "uid-1");
  EXPECT_EQ(*Base64Decode(s["data"]["username"]), "admin");
  EXPECT_EQ(*Base64Decode(s["data"]["password"]), "pw");
  const std::string line = *Base64Decode(s["data"]["htpasswd"]);
  EXPECT_EQ(line.rfind("admin:{SSHA}", 0), 0u) << line;
  EXPECT_EQ(line.find("pw"), std::string::npos) << "the password itself in " << line;

  PlatformObjects o =
      Objects({"replicas=3", "zoonavigator.enabled=true", "zoonavigator.readOnly=false"});
  json deployment, service, config;
  for (const auto& a : o.addons) {
    if (a["kind"] == "Deployment") deployment = a;
    if (a["kind"] == "Service") service = a;
    if (a["kind"] == "ConfigMap") config = a;
  }
  ASSERT_FALSE(deployment.is_null());
  EXPECT_TRUE(ReferencesSecret(deployment, "demo-zoonavigator-login"));
  const json& containers = deployment["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(containers.size(), 2u) << containers.dump(2);
  EXPECT_EQ(containers[0]["name"], "zoonavigator");
  EXPECT_FALSE(containers[0].contains("ports"))
      << "ZooNavigator's own port is not the pod's way in";
  bool loopback = false;
  for (const auto& e : containers[0]["env"])
    loopback = loopback ||
               (e["name"] == "JAVA_OPTS" && e["value"] == "-J-Dplay.server.http.address=127.0.0.1");
  EXPECT_TRUE(loopback) << containers[0]["env"].dump();
  EXPECT_EQ(containers[1]["name"], "login-proxy");
  EXPECT_EQ(containers[1]["image"], "nginxinc/nginx-unprivileged:1.27-alpine");
  EXPECT_EQ(containers[1]["ports"][0]["name"], "http");
  EXPECT_EQ(containers[1]["ports"][0]["containerPort"], 8080);
  EXPECT_EQ(containers[1]["securityContext"]["readOnlyRootFilesystem"], true);
  EXPECT_EQ(service["spec"]["ports"][0]["targetPort"], "http");
  const std::string nginx = config["data"].value("nginx.conf", "");
  EXPECT_NE(nginx.find("auth_basic_user_file /etc/zoonavigator-login/htpasswd;"), std::string::npos)
      << nginx;
  EXPECT_NE(nginx.find("proxy_pass http://127.0.0.1:9000;"), std::string::npos) << nginx;
  // Pinned by digest like every image.
  const std::string d = "sha256:" + std::string(64, 'a');
  PlatformObjects pinned = Objects({"replicas=1", "zoonavigator.enabled=true",
                                    "zoonavigator.readOnly=false", "loginProxy.imageDigest=" + d});
  for (const auto& a : pinned.addons) {
    if (a["kind"] == "Deployment") {
      EXPECT_EQ(a["spec"]["template"]["spec"]["containers"][1]["image"],
                "nginxinc/nginx-unprivileged@" + d);
    }
  }
}

TEST(KubePlatformObjects, GrafanaSecretHoldsThePasswordItsDeploymentReads) {
  const json s =
      GrafanaSecretObject("demo-grafana-admin", "ns", "pw", {"demo", "uid-1", "v", "K", "", "", ""});
  EXPECT_EQ(s["metadata"]["labels"][kLabelCluster], "demo");
  EXPECT_EQ(s["metadata"]["ownerReferences"][0]["uid"], "uid-1");
  EXPECT_EQ(*Base64Decode(s["data"][kGrafanaPasswordKey]), "pw");

  PlatformObjects o = Objects({"replicas=3", "grafana.enabled=true", "prometheus.enabled=true",
                               "zoonavigator.enabled=true", "zoonavigator.readOnly=false"});
  int readers = 0;
  for (const auto& a : o.addons) {
    if (!ReferencesSecret(a, "demo-grafana-admin")) continue;
    ++readers;
    EXPECT_EQ(a["metadata"]["name"], "demo-grafana");
  }
  EXPECT_EQ(readers, 1);
  EXPECT_FALSE(ReferencesSecret(Controller(o, 1), "demo-grafana-admin"));
  EXPECT_TRUE(ReferencesSecret(Controller(o, 1), "demo-zkpilot-super")) << "the digest";
  EXPECT_TRUE(ReferencesSecret(json::parse(R"({"volumes":[{"secret":{"secretName":"x"}}]})"), "x"));
  EXPECT_TRUE(ReferencesSecret(json::parse(R"([{"envFrom":[{"secretRef":{"name":"x"}}]}])"), "x"));
}

// What zkpilot adds to a server's pod (the digest's env) leaves it within the
// restricted Pod Security profile, with a read-only root.
TEST(KubePlatformObjects, DecoratedServerPodStaysRestricted) {
  for (const auto& sets : std::vector<std::vector<std::string>>{
           {"replicas=3"}, {"replicas=3", "controller=deployment"}}) {
    PlatformObjects o = Objects(sets);
    const json& spec = Template(o, 1)["spec"];
    EXPECT_EQ(spec["securityContext"]["runAsNonRoot"], true);
    EXPECT_EQ(spec["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    EXPECT_FALSE(spec.contains("hostNetwork"));
    for (const auto& v : spec["volumes"])
      EXPECT_TRUE(v.contains("configMap") || v.contains("emptyDir") ||
                  v.contains("persistentVolumeClaim"))
          << v.dump();
    for (const auto& c : spec["containers"]) {
      const json& sc = c["securityContext"];
      EXPECT_EQ(sc["allowPrivilegeEscalation"], false);
      EXPECT_EQ(sc["readOnlyRootFilesystem"], true);
      EXPECT_EQ(sc["capabilities"]["drop"], json::array({"ALL"}));
      for (const auto& p : c["ports"]) EXPECT_FALSE(p.contains("hostPort")) << p.dump();
    }
  }
}

}  // namespace
}  // namespace zkpilot
