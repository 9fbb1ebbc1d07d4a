#include "render/renderer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "../../tests/test_package.h"
#include "package/package_loader.h"

namespace zkpilot {
namespace {

struct Rendered {
  Status status;
  std::vector<RenderedObject> objects;
};

Rendered RenderMini(std::vector<std::string> sets, PackageFiles files = testing::MinimalPackageFiles(),
                    RenderOptions options = {}) {
  auto pkg = ParsePackage(files);
  if (!pkg.ok()) return {pkg.status(), {}};
  ValuesInput in;
  in.sets = std::move(sets);
  auto values = ResolveValues(pkg->schema, in);
  if (!values.ok()) return {values.status(), {}};
  auto objects = RenderManifests(*pkg, *values, options);
  if (!objects.ok()) return {objects.status(), {}};
  return {Status::Ok(), *objects};
}

int CountKind(const std::vector<RenderedObject>& objects, const std::string& kind) {
  int n = 0;
  for (const auto& o : objects) n += o.kind == kind;
  return n;
}

const RenderedObject* Find(const std::vector<RenderedObject>& objects, const std::string& kind, const std::string& name) {
  for (const auto& o : objects)
    if (o.kind == kind && o.name == name) return &o;
  return nullptr;
}

TEST(Renderer, OneStatefulSetPerServer) {
  auto r = RenderMini({"replicas=5"});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(CountKind(r.objects, "StatefulSet"), 5);
  EXPECT_EQ(CountKind(r.objects, "Deployment"), 0);
  const auto* third = Find(r.objects, "StatefulSet", "zookeeper-3");
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(third->body["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"], "3");
  EXPECT_EQ(third->body["spec"]["template"]["spec"]["containers"][0]["image"], "zookeeper:3.8.0");
}

TEST(Renderer, DeploymentControllerWhenAsked) {
  auto r = RenderMini({"controller=deployment", "replicas=3"});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(CountKind(r.objects, "StatefulSet"), 0);
  EXPECT_EQ(CountKind(r.objects, "Deployment"), 3);
}

TEST(Renderer, ZooCfgListsEveryServerWithStableHostNames) {
  auto r = RenderMini({"replicas=3"}, testing::MinimalPackageFiles(), RenderOptions{"demo", "prod"});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  const auto* cm = Find(r.objects, "ConfigMap", "demo-config");
  ASSERT_NE(cm, nullptr);
  std::string cfg = cm->body["data"]["zoo.cfg"];
  EXPECT_NE(cfg.find("server.1=demo-1-0.demo-headless.prod.svc.cluster.local:2888:3888;2181\n"), std::string::npos) << cfg;
  EXPECT_NE(cfg.find("server.3=demo-3-0.demo-headless.prod.svc.cluster.local:2888:3888;2181\n"), std::string::npos) << cfg;
  EXPECT_EQ(cfg.find("server.4"), std::string::npos);
  EXPECT_EQ(cm->body["metadata"]["namespace"], "prod") << "namespace added when the template leaves it out";
}

TEST(Renderer, SameInputGivesByteIdenticalOutput) {
  auto a = RenderMini({"replicas=5", "extra.enabled=true"});
  auto b = RenderMini({"replicas=5", "extra.enabled=true"});
  ASSERT_TRUE(a.status.ok() && b.status.ok());
  EXPECT_EQ(ToYamlStream(a.objects), ToYamlStream(b.objects));
  EXPECT_EQ(ToJsonList(a.objects), ToJsonList(b.objects));
}

TEST(Renderer, ConfigHashFollowsConfigurationOnly) {
  auto hash = [](std::vector<std::string> sets) {
    auto r = RenderMini(std::move(sets));
    EXPECT_TRUE(r.status.ok()) << r.status.message();
    return r.objects.empty() ? std::string() : std::string(Find(r.objects, "ConfigMap", "zookeeper-config")->body["data"]["hash"]);
  };
  std::string base = hash({});
  EXPECT_EQ(base.size(), 16u);
  EXPECT_NE(base, hash({"tickTime=3000"})) << "zoo.cfg changed";
  EXPECT_NE(base, hash({"replicas=5"})) << "server list changed";
  EXPECT_EQ(base, hash({"extra.enabled=true"})) << "add-on is not server configuration";
}

TEST(Renderer, AddonsRenderOnlyWhenEnabled) {
  auto off = RenderMini({});
  auto on = RenderMini({"extra.enabled=true"});
  ASSERT_TRUE(off.status.ok() && on.status.ok());
  EXPECT_EQ(Find(off.objects, "Service", "zookeeper-extra"), nullptr);
  EXPECT_NE(Find(on.objects, "Service", "zookeeper-extra"), nullptr);
}

TEST(Renderer, EscapesStringsAndTreatsEmptyAsFalse) {
  auto empty = RenderMini({"extra.enabled=true"});
  ASSERT_TRUE(empty.status.ok()) << empty.status.message();
  EXPECT_EQ(Find(empty.objects, "Service", "zookeeper-extra")->body["metadata"]["annotations"]["present"], "no");
  auto quoted = RenderMini({"extra.enabled=true", "extra.name=say \"hi\" \\ bye"});
  ASSERT_TRUE(quoted.status.ok()) << quoted.status.message();
  const auto& ann = Find(quoted.objects, "Service", "zookeeper-extra")->body["metadata"]["annotations"];
  EXPECT_EQ(ann["note"], "say \"hi\" \\ bye") << "the value survives YAML quoting intact";
  EXPECT_EQ(ann["present"], "yes");
}

TEST(Renderer, ObjectOrderIsByKindThenTemplate) {
  auto r = RenderMini({"extra.enabled=true"});
  ASSERT_TRUE(r.status.ok());
  ASSERT_GE(r.objects.size(), 3u);
  EXPECT_EQ(r.objects.front().kind, "ConfigMap");
  EXPECT_EQ(r.objects[1].kind, "Service");
  EXPECT_EQ(r.objects.back().kind, "StatefulSet");
}

TEST(Renderer, TemplateSyntaxErrorNamesFileLineAndColumn) {
  auto files = testing::MinimalPackageFiles();
  files["templates/config.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{#cluster.name}}x\n";
  auto r = RenderMini({}, files);
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(r.status.message().find("templates/config.yaml:4:9: Mustache syntax error: Unclosed section"), std::string::npos)
      << r.status.message();
}

TEST(Renderer, InvalidYamlOutputNamesTemplateAndLine) {
  auto files = testing::MinimalPackageFiles();
  files["templates/config.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   bad: [\n";
  auto r = RenderMini({}, files);
  ASSERT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("templates/config.yaml: renders invalid YAML at line"), std::string::npos)
      << r.status.message();
}

TEST(Renderer, DocumentWithoutKindIsRejected) {
  auto files = testing::MinimalPackageFiles();
  files["templates/config.yaml"] = "apiVersion: v1\nmetadata:\n  name: x\n";
  auto r = RenderMini({}, files);
  ASSERT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("needs apiVersion, kind and metadata.name"), std::string::npos) << r.status.message();
}

TEST(Renderer, DuplicateObjectsAreRejected) {
  auto files = testing::MinimalPackageFiles();
  files["templates/again.yaml"] = files["templates/config.yaml"];
  auto r = RenderMini({}, files);
  ASSERT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("ConfigMap/zookeeper-config, which another template already produced"), std::string::npos)
      << r.status.message();
}

TEST(Renderer, ClusterNameMustBeADnsLabel) {
  EXPECT_TRUE(ValidateClusterName("demo-1").ok());
  EXPECT_FALSE(ValidateClusterName("Demo").ok());
  EXPECT_FALSE(ValidateClusterName("1demo").ok());
  EXPECT_FALSE(ValidateClusterName("demo_1").ok());
  EXPECT_FALSE(ValidateClusterName(std::string(41, 'a')).ok());
  auto r = RenderMini({}, testing::MinimalPackageFiles(), RenderOptions{"Bad_Name", "default"});
  EXPECT_EQ(r.status.code(), ErrorCode::kInvalidInput);
}

TEST(Renderer, NamespaceMustBeAnRfc1123Label) {
  for (const char* bad : {"Prod", "team_a", "-zk", "zk."}) {
    auto r = RenderMini({}, testing::MinimalPackageFiles(), RenderOptions{"demo", bad});
    EXPECT_EQ(r.status.code(), ErrorCode::kInvalidInput) << bad;
    EXPECT_NE(r.status.message().find(std::string("namespace \"") + bad + "\""), std::string::npos) << r.status.message();
  }
  EXPECT_TRUE(RenderMini({}, testing::MinimalPackageFiles(), RenderOptions{"demo", "data-platform-2"}).status.ok());
}

TEST(Renderer, DeclaredFileRendersForAnyTopology) {
  auto pkg = ParsePackage(testing::MinimalPackageFiles());
  ASSERT_TRUE(pkg.ok());
  auto values = ResolveValues(pkg->schema, {});
  ASSERT_TRUE(values.ok());
  NodeEndpoint local{1, "n1", "n1", "127.0.0.1", 12181, 12888, 13888, 0, 0, "127.0.0.1", "/tmp/n1", ""};
  RenderOptions opts;
  opts.platform = "local";
  auto cfg = RenderDeclaredFile(*pkg, *values, opts, {local}, local, "zooCfg");
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  EXPECT_NE(cfg->find("server.1=127.0.0.1:12888:3888;12181"), std::string::npos) << *cfg;
  EXPECT_NE(cfg->find("selfDataDir=/tmp/n1\n"), std::string::npos) << *cfg;
  EXPECT_NE(cfg->find("platform=local\n"), std::string::npos) << *cfg;
  EXPECT_EQ(RenderDeclaredFile(*pkg, *values, opts, {local}, local, "nope").status().code(), ErrorCode::kNotFound);
}

TEST(YamlEmit, QuotesStringsThatWouldChangeType) {
  OrderedJson v = {{"a", "true"}, {"b", "3000"}, {"c", "yes"}, {"d", "plain"}, {"e", ""}, {"f", 3}, {"g", "1.5"}};
  std::string y = EmitYaml(v);
  EXPECT_NE(y.find("a: \"true\""), std::string::npos) << y;
  EXPECT_NE(y.find("b: \"3000\""), std::string::npos) << y;
  EXPECT_NE(y.find("c: \"yes\""), std::string::npos) << y;
  EXPECT_NE(y.find("d: plain"), std::string::npos) << y;
  EXPECT_NE(y.find("e: \"\""), std::string::npos) << y;
  EXPECT_NE(y.find("f: 3\n"), std::string::npos) << y;
  EXPECT_NE(y.find("g: \"1.5\""), std::string::npos) << y;
}

TEST(YamlEmit, RoundTripsEveryKindOfString) {
  for (std::string s : {"line1\nline2\n", "no trailing newline\nx", "trailing  \nspace\n", "two\n\n",
                        "\tindented\n", " leading\nspace\n", "a: b\n- c\n", "#comment"}) {
    OrderedJson v = {{"k", s}};
    auto node = ParseYaml(EmitYaml(v), "test");
    ASSERT_TRUE(node.ok()) << node.status().message();
    EXPECT_EQ((*node)["k"].as<std::string>(), s) << EmitYaml(v);
  }
}

}  // namespace
}  // namespace zkpilot

namespace zkpilot {
namespace {

std::string ServerConfigHash(const std::vector<std::string>& sets) {
  RenderOptions opts{"demo", "zk"};
  auto pkg = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
  EXPECT_TRUE(pkg.ok()) << pkg.status().message();
  ValuesInput in;
  in.sets = sets;
  auto values = ResolveValues(pkg->schema, in);
  EXPECT_TRUE(values.ok()) << values.status().message();
  auto objects = RenderManifests(*pkg, *values, opts);
  EXPECT_TRUE(objects.ok()) << objects.status().message();
  for (const auto& o : *objects)
    if (o.kind == "StatefulSet" && o.name == "demo-1")
      return o.body["spec"]["template"]["metadata"]["annotations"]["zkpilot.io/config-hash"];
  ADD_FAILURE() << "no StatefulSet demo-1";
  return "";
}

TEST(DefaultPackage, MembershipChangeDoesNotRestartExistingServers) {
  std::string three = ServerConfigHash({"replicas=3"});
  EXPECT_EQ(three.size(), 16u);
  EXPECT_EQ(three, ServerConfigHash({"replicas=5"})) << "scaling is dynamic reconfiguration";
  EXPECT_NE(three, ServerConfigHash({"tickTime=3000"})) << "a zoo.cfg change restarts";
  EXPECT_NE(three, ServerConfigHash({"logLevel=DEBUG"})) << "a logging change restarts";
  EXPECT_EQ(three, ServerConfigHash({"grafana.enabled=true", "prometheus.enabled=true"}));
}

TEST(Renderer, ObjectParametersAreAvailableAsSortedPairs) {
  auto files = testing::MinimalPackageFiles();
  files["templates/config.yaml"] =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n    fixed: \"1\"\n"
      "{{#pairs.labels}}    \"{{key}}\": \"{{value}}\"\n{{/pairs.labels}}";
  auto r = RenderMini({"labels={zeta: last, alpha: first, n: 3}"}, files);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  const auto& ann = Find(r.objects, "ConfigMap", "x")->body["metadata"]["annotations"];
  EXPECT_EQ(ann.dump(), R"({"fixed":"1","alpha":"first","n":"3","zeta":"last"})");
}


// --- The default package's server pods -------------------------------------

std::vector<RenderedObject> RenderDefault(const std::vector<std::string>& sets) {
  auto pkg = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
  EXPECT_TRUE(pkg.ok()) << pkg.status().message();
  if (!pkg.ok()) return {};
  ValuesInput in;
  in.sets = sets;
  auto values = ResolveValues(pkg->schema, in);
  EXPECT_TRUE(values.ok()) << values.status().message();
  if (!values.ok()) return {};
  auto objects = RenderManifests(*pkg, *values, RenderOptions{"demo", "zk"});
  EXPECT_TRUE(objects.ok()) << objects.status().message();
  return objects.ok() ? *objects : std::vector<RenderedObject>{};
}

const OrderedJson& ServerContainer(const RenderedObject& o) { return o.body["spec"]["template"]["spec"]["containers"][0]; }

TEST(DefaultPackage, ApplyingChangedManifestsRestartsNoServer) {
  auto objects = RenderDefault({"replicas=3"});
  int servers = 0;
  for (const auto& o : objects) {
    if (o.kind != "StatefulSet") continue;
    ++servers;
    EXPECT_EQ(o.body["spec"]["updateStrategy"].dump(), R"({"type":"OnDelete"})") << o.name;
  }
  EXPECT_EQ(servers, 3);
  // Deployments cannot wait for a delete: Recreate, applied one at a time by zkpilot.
  for (const auto& o : RenderDefault({"controller=deployment"}))
    if (o.kind == "Deployment") EXPECT_EQ(o.body["spec"]["strategy"]["type"], "Recreate") << o.name;
}

TEST(DefaultPackage, StartupProbeGuardsASlowStartAndLivenessWaitsForIt) {
  for (int timeout : {600, 1800}) {
    auto objects = RenderDefault({"startupTimeoutSeconds=" + std::to_string(timeout)});
    const auto* sts = Find(objects, "StatefulSet", "demo-1");
    ASSERT_NE(sts, nullptr);
    const auto& c = ServerContainer(*sts);
    const auto& startup = c["startupProbe"];
    ASSERT_TRUE(startup.is_object()) << c.dump(2);
    EXPECT_EQ(startup["exec"]["command"].dump(), R"(["bash","/config/live.sh"])");
    EXPECT_EQ(startup["periodSeconds"].get<int>() * startup["failureThreshold"].get<int>(), timeout)
        << "the startup budget is startupTimeoutSeconds";
    // Liveness and readiness only run once started: no initial delays.
    EXPECT_EQ(c["livenessProbe"].value("initialDelaySeconds", 0), 0);
    EXPECT_EQ(c["readinessProbe"].value("initialDelaySeconds", 0), 0);
    EXPECT_LE(c["readinessProbe"]["periodSeconds"].get<int>(), 5) << "Ready is what rolls wait for";
  }
}

TEST(DefaultPackage, ImagesArePinnedByDigestWithoutTheirTag) {
  const std::string d = "sha256:" + std::string(64, 'c');
  auto objects = RenderDefault({"image.repository=registry.local:5000/team/zookeeper", "image.digest=" + d,
                                "prometheus.enabled=true", "prometheus.imageDigest=" + d});
  const auto* server = Find(objects, "StatefulSet", "demo-1");
  ASSERT_NE(server, nullptr);
  // The registry's port stays; the tag goes.
  EXPECT_EQ(ServerContainer(*server)["image"], "registry.local:5000/team/zookeeper@" + d);
  const auto* prometheus = Find(objects, "Deployment", "demo-prometheus");
  ASSERT_NE(prometheus, nullptr);
  EXPECT_EQ(ServerContainer(*prometheus)["image"], "prom/prometheus@" + d);

  auto plain = RenderDefault({"prometheus.enabled=true"});
  EXPECT_EQ(ServerContainer(*Find(plain, "StatefulSet", "demo-1"))["image"], "zookeeper:3.9.3");
  EXPECT_EQ(ServerContainer(*Find(plain, "Deployment", "demo-prometheus"))["image"], "prom/prometheus:v2.53.0");
}

// The default version has no known critical CVE (3.8.0 has CVE-2024-23944:
// a persistent watcher is told of the paths of children it may not read);
// 3.8.0 stays selectable.
TEST(DefaultPackage, DefaultVersionIs393And380StaysSelectable) {
  EXPECT_EQ(ServerContainer(*Find(RenderDefault({}), "StatefulSet", "demo-1"))["image"],
            "zookeeper:3.9.3");
  EXPECT_EQ(
      ServerContainer(*Find(RenderDefault({"version=3.8.0"}), "StatefulSet", "demo-1"))["image"],
      "zookeeper:3.8.0");
}

TEST(DefaultPackage, PullSecretsAndLoadBalancerRangesOnlyWhenGiven) {
  auto plain = RenderDefault({"prometheus.enabled=true", "service.loadBalancerSourceRanges=[10.0.0.0/8]"});
  for (const auto& o : plain) {
    if (o.kind == "StatefulSet" || o.kind == "Deployment")
      EXPECT_FALSE(o.body["spec"]["template"]["spec"].contains("imagePullSecrets")) << o.name;
    if (o.kind == "Service") {
      EXPECT_FALSE(o.body["spec"].contains("loadBalancerSourceRanges")) << "ClusterIP: " << o.name;
      EXPECT_FALSE(o.body["metadata"].contains("annotations")) << o.name;
    }
  }
  auto given = RenderDefault({"prometheus.enabled=true", "imagePullSecrets=[regcred]", "service.type=LoadBalancer",
                              "service.loadBalancerSourceRanges=[10.0.0.0/8]",
                              "service.annotations={example.com/internal: \"true\"}"});
  int pods = 0;
  for (const auto& o : given) {
    if (o.kind != "StatefulSet" && o.kind != "Deployment") continue;
    ++pods;
    EXPECT_EQ(o.body["spec"]["template"]["spec"]["imagePullSecrets"].dump(), R"([{"name":"regcred"}])") << o.name;
  }
  EXPECT_EQ(pods, 4);
  const auto* client = Find(given, "Service", "demo");
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->body["spec"]["loadBalancerSourceRanges"].dump(), R"(["10.0.0.0/8"])");
  EXPECT_EQ(client->body["metadata"]["annotations"]["example.com/internal"], "true");
}

TEST(DefaultPackage, PrometheusHasNoLifecycleApiAndRestartsOnAChangedConfiguration) {
  auto objects = RenderDefault({"prometheus.enabled=true"});
  const auto* prometheus = Find(objects, "Deployment", "demo-prometheus");
  ASSERT_NE(prometheus, nullptr);
  for (const auto& a : ServerContainer(*prometheus)["args"])
    EXPECT_EQ(a.get<std::string>().find("--web.enable-lifecycle"), std::string::npos) << a;
  const auto& annotations = prometheus->body["spec"]["template"]["metadata"]["annotations"];
  auto changed = RenderDefault({"prometheus.enabled=true", "prometheus.scrapeInterval=30s"});
  EXPECT_NE(annotations["zkpilot.io/prometheus-config-hash"],
            Find(changed, "Deployment", "demo-prometheus")->body["spec"]["template"]["metadata"]["annotations"]
                                                             ["zkpilot.io/prometheus-config-hash"]);
}

TEST(DefaultPackage, ServerConfigurationLivesOnTheDataVolume) {
  for (const auto& sets : {std::vector<std::string>{}, std::vector<std::string>{"controller=deployment", "dataDir=/var/lib/zk"}}) {
    auto objects = RenderDefault(sets);
    const std::string data_dir = sets.empty() ? "/data" : "/var/lib/zk";
    const auto* server = Find(objects, sets.empty() ? "StatefulSet" : "Deployment", "demo-2");
    ASSERT_NE(server, nullptr);
    const auto& c = ServerContainer(*server);
    std::string zoocfgdir;
    for (const auto& e : c["env"])
      if (e["name"] == "ZOOCFGDIR") zoocfgdir = e["value"];
    EXPECT_EQ(zoocfgdir, data_dir + "/conf");
    bool on_volume = false;
    for (const auto& m : c["volumeMounts"]) on_volume = on_volume || (m["name"] == "data" && m["mountPath"] == data_dir);
    EXPECT_TRUE(on_volume) << c["volumeMounts"].dump();
    // The root is read-only: what the server writes goes to volumes, and
    // its configuration to the data volume, never to an emptyDir (/logs,
    // /tmp) that is lost with the pod.
    EXPECT_EQ(c["securityContext"]["readOnlyRootFilesystem"], true);
    std::set<std::string> scratch;
    for (const auto& v : server->body["spec"]["template"]["spec"]["volumes"])
      if (v.contains("emptyDir")) scratch.insert(v["name"].get<std::string>());
    for (const auto& m : c["volumeMounts"]) {
      if (!scratch.count(m["name"].get<std::string>())) continue;
      const std::string path = m["mountPath"];
      EXPECT_NE(zoocfgdir.rfind(path, 0), 0u) << "nothing of a server's configuration may be lost with its pod: " << path;
      EXPECT_NE(data_dir.rfind(path, 0), 0u) << path;
    }
    EXPECT_EQ(scratch, (std::set<std::string>{"logs", "tmp"}));
  }
}

// Runs the server container's start command in bash with the ConfigMap's
// files in `config_dir` and a zkServer.sh that prints the zoo.cfg it got.
std::string RunStartCommand(const RenderedObject& server, const std::string& root) {
  const auto& c = ServerContainer(server);
  std::string script = c["command"][2].get<std::string>();
  // The ConfigMap is mounted at /config in the pod; here it is root/config.
  for (size_t at = 0; (at = script.find("/config/", at)) != std::string::npos; at += root.size() + 8)
    script.replace(at, 8, root + "/config/");
  std::ofstream(root + "/start.sh") << script;
  std::ofstream(root + "/bin/zkServer.sh") << "#!/bin/bash\necho \"args: $*\"\ncat \"$ZOOCFGDIR/zoo.cfg\"\n";
  std::filesystem::permissions(root + "/bin/zkServer.sh", std::filesystem::perms::owner_all);
  const std::string cmd = "cd / && env -i PATH=" + root + "/bin:/usr/bin:/bin ZOOCFGDIR=" + root +
                          "/data/conf ZK_DATA_DIR=" + root + "/data ZOO_MY_ID=2 bash -ec \"$(cat " + root +
                          "/start.sh)\" 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return "popen failed";
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << out;
  return out;
}

TEST(DefaultPackage, StartCommandTakesTheNewestCommittedMembership) {
  auto objects = RenderDefault({});
  const auto* server = Find(objects, "StatefulSet", "demo-2");
  const auto* config = Find(objects, "ConfigMap", "demo-config");
  ASSERT_NE(server, nullptr);
  ASSERT_NE(config, nullptr);
  const std::string zoo_cfg = config->body["data"]["zoo.cfg"];
  char tmpl[] = "/tmp/zkpilot-start-XXXXXX";
  const std::string root = ::mkdtemp(tmpl);
  std::filesystem::create_directories(root + "/config");
  std::filesystem::create_directories(root + "/bin");
  std::ofstream(root + "/config/zoo.cfg") << zoo_cfg;
  std::ofstream(root + "/config/logback.xml") << "<configuration/>\n";

  // First start: nothing committed yet, the ConfigMap's list.
  std::string out = RunStartCommand(*server, root);
  EXPECT_NE(out.find("membership from the ConfigMap"), std::string::npos) << out;
  EXPECT_NE(out.find("args: start-foreground"), std::string::npos) << out;
  EXPECT_NE(out.find(zoo_cfg), std::string::npos) << out;
  std::ifstream myid(root + "/data/myid");
  std::string id;
  myid >> id;
  EXPECT_EQ(id, "2");

  // ZooKeeper committed memberships (versions in hex: 0x100000000 <
  // 0xa00000002 < 0x1000000003) and proposed one (.next), and rewrote zoo.cfg.
  const std::string conf = root + "/data/conf";
  std::ofstream(conf + "/zoo.cfg.dynamic.100000000") << "server.1=a\nserver.2=b\nserver.3=c\n";
  std::ofstream(conf + "/zoo.cfg.dynamic.1000000003") << "server.1=a\nserver.2=b\n";
  std::ofstream(conf + "/zoo.cfg.dynamic.a00000002") << "server.1=a\nserver.2=b\nserver.3=c\nserver.4=d\n";
  std::ofstream(conf + "/zoo.cfg.dynamic.next") << "server.1=a\n";
  std::ofstream(conf + "/zoo.cfg") << "tickTime=1\ndynamicConfigFile=" << conf << "/zoo.cfg.dynamic.100000000\n";
  out = RunStartCommand(*server, root);
  EXPECT_NE(out.find("membership from " + conf + "/zoo.cfg.dynamic.1000000003"), std::string::npos) << out;
  std::string static_part;
  std::istringstream lines(zoo_cfg);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("server.", 0) != 0) static_part += line + "\n";
  EXPECT_NE(out.find(static_part + "dynamicConfigFile=" + conf + "/zoo.cfg.dynamic.1000000003\n"), std::string::npos)
      << "static settings from the ConfigMap, no server lines, the newest committed file:\n" << out;
  EXPECT_EQ(out.find("\nserver."), std::string::npos) << out;
  std::filesystem::remove_all(root);
}

// tls.enabled on Kubernetes: the client port is the secureClientPort, the
// probes get a plaintext port on the loopback, the quorum trusts its own CA
// without names, and each server mounts its Secret read-only at /tls.
TEST(DefaultPackage, KubernetesTlsMountsTheServersSecretAndProbesTheLoopbackPort) {
  auto pkg = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
  ASSERT_TRUE(pkg.ok()) << pkg.status().message();
  ValuesInput in;
  in.sets = {"tls.enabled=true"};
  auto values = ResolveValues(pkg->schema, in);
  ASSERT_TRUE(values.ok()) << values.status().message();
  auto objects = RenderManifests(*pkg, *values, RenderOptions{"demo", "zk"});
  ASSERT_TRUE(objects.ok()) << objects.status().message();
  std::string zoo_cfg;
  nlohmann::json server2;
  for (const auto& o : *objects) {
    if (o.kind == "ConfigMap" && o.name == "demo-config") zoo_cfg = o.body["data"]["zoo.cfg"].get<std::string>();
    if (o.kind == "StatefulSet" && o.name == "demo-2") server2 = o.body;
  }
  for (const char* line :
       {"\nsecureClientPort=2181\n", "\nclientPort=2182\n", "\nclientPortAddress=127.0.0.1\n",
        "\nserverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n",
        "\nssl.keyStore.location=/tmp/tls/server.pem\n", "\nssl.trustStore.location=/tls/ca.crt\n",
        "\nsslQuorum=true\n", "\nssl.quorum.keyStore.location=/tmp/tls/quorum.pem\n",
        "\nssl.quorum.trustStore.location=/tls/quorum-ca.crt\n", "\nssl.quorum.hostnameVerification=false\n",
        "\nX509AuthenticationProvider.superUser=CN=zkpilot-super\n",
        "\nserver.2=demo-2-0.demo-headless.zk.svc.cluster.local:2888:3888\n"})
    EXPECT_NE(zoo_cfg.find(line), std::string::npos) << line << " not in:\n" << zoo_cfg;
  std::istringstream lines(zoo_cfg);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("server.", 0) == 0) EXPECT_EQ(line.find(';'), std::string::npos) << "a client address: " << line;

  ASSERT_FALSE(server2.is_null());
  const nlohmann::json& spec = server2["spec"]["template"]["spec"];
  nlohmann::json tls_volume;
  for (const auto& v : spec["volumes"])
    if (v["name"] == "tls") tls_volume = v;
  EXPECT_EQ(tls_volume["secret"]["secretName"], "demo-tls-server-2");
  EXPECT_EQ(tls_volume["secret"]["defaultMode"], 0440);
  const nlohmann::json& container = spec["containers"][0];
  nlohmann::json tls_mount;
  for (const auto& m : container["volumeMounts"])
    if (m["name"] == "tls") tls_mount = m;
  EXPECT_EQ(tls_mount["mountPath"], "/tls");
  EXPECT_EQ(tls_mount["readOnly"], true);
  for (const auto& e : container["env"])
    if (e["name"] == "ZK_CLIENT_PORT") EXPECT_EQ(e["value"], "2182");
  const std::string command = container["command"].dump();
  EXPECT_NE(command.find("umask 077"), std::string::npos) << command;
  EXPECT_NE(command.find("cat /tls/tls.key /tls/tls.crt > /tmp/tls/server.pem"), std::string::npos) << command;
  EXPECT_NE(command.find("cat /tls/quorum.key /tls/quorum.crt > /tmp/tls/quorum.pem"), std::string::npos)
      << command;
  EXPECT_EQ(container["ports"][0]["containerPort"], 2181) << "the client port is the TLS one";
}

// A probe port that would clash (cert-manager's certificates render like
// zkpilot's: the platform swaps the volume, kube_certmanager.h).
TEST(DefaultPackage, KubernetesTlsRefusesAClashingProbePortAndPlaintextNextToTls) {
  auto pkg = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
  ASSERT_TRUE(pkg.ok()) << pkg.status().message();
  for (const auto& [set, message] : std::vector<std::pair<std::string, std::string>>{
           {"tls.probePort=8080", "tls.probePort=8080: the same port as adminServerPort"},
           // Stage 2 (TLS and plaintext on one port) exists on the local
           // platform only; its server lines would clash with the static
           // clientPort of the Kubernetes block.
           {"tls.allowPlaintext=true", "tls.allowPlaintext=true: plaintext next to TLS is the resting point"}}) {
    ValuesInput in;
    in.sets = {"tls.enabled=true", set};
    auto values = ResolveValues(pkg->schema, in);
    ASSERT_TRUE(values.ok()) << values.status().message();
    auto objects = RenderManifests(*pkg, *values, RenderOptions{"demo", "zk"});
    ASSERT_FALSE(objects.ok()) << set;
    EXPECT_EQ(objects.status().code(), ErrorCode::kInvalidInput);
    EXPECT_NE(objects.status().message().find(message), std::string::npos) << objects.status().message();
  }
}

// On Kubernetes auth.* renders zoo.cfg's SASL lines as locally (the JAAS file
// they need is a Secret the platform mounts, kube_auth.h); without TLS the
// enforced schemes are sasl and digest, zkpilot's super digest among them.
TEST(DefaultPackage, SaslAuthenticationRendersOnKubernetes) {
  auto pkg = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
  ASSERT_TRUE(pkg.ok()) << pkg.status().message();
  ValuesInput in;
  in.sets = {"auth.enabled=true", "auth.enforce=true", "auth.quorum=true"};
  auto values = ResolveValues(pkg->schema, in);
  ASSERT_TRUE(values.ok()) << values.status().message();
  const RenderOptions opts{"demo", "zk"};
  auto objects = RenderManifests(*pkg, *values, opts);
  ASSERT_TRUE(objects.ok()) << objects.status().message();
  auto cfg = RenderDeclaredFile(*pkg, *values, opts, KubernetesTopology(*values, opts), KubernetesSelf(*values),
                                "zooCfg");
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  for (const char* line : {"\nauthProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n",
                           "\nenforce.auth.enabled=true\nenforce.auth.schemes=sasl,digest\n",
                           "\nquorum.auth.enableSasl=true\n", "\nquorum.auth.learnerRequireSasl=true\n",
                           "\nquorum.auth.serverRequireSasl=true\n", "\nquorum.auth.server.loginContext=QuorumServer\n",
                           "\nquorum.auth.learner.loginContext=QuorumLearner\n"})
    EXPECT_NE(cfg->find(line), std::string::npos) << line << " not in:\n" << *cfg;
}

// A local server of a TLS cluster: its client port is the secure one, and no
// server line has a client address, so ZooKeeper opens no plaintext port;
// quorum TLS and the x509 super user with the files the platform gives.
TEST(DefaultPackage, LocalTlsZooCfgHasOnlyASecureClientPort) {
  auto pkg = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
  ASSERT_TRUE(pkg.ok()) << pkg.status().message();
  NodeEndpoint one{1, "n1", "n1", "127.0.0.1", 12181, 12182, 12183, 12184, 0, "127.0.0.1", "/tmp/n1/data", ""};
  NodeEndpoint two{2, "n2", "n2", "127.0.0.1", 12191, 12192, 12193, 12194, 0, "127.0.0.1", "/tmp/n2/data", ""};
  one.tls_key_store = "/pki/server-1.pem";
  one.tls_trust_store = "/pki/ca.crt";
  RenderOptions opts{"demo", "local", "local"};
  auto render = [&](const std::vector<std::string>& sets) {
    ValuesInput in;
    in.sets = sets;
    auto values = ResolveValues(pkg->schema, in);
    EXPECT_TRUE(values.ok()) << values.status().message();
    auto cfg = RenderDeclaredFile(*pkg, *values, opts, {one, two}, one, "zooCfg");
    EXPECT_TRUE(cfg.ok()) << cfg.status().message();
    return cfg.ok() ? *cfg : std::string();
  };
  const std::string tls = render({"tls.enabled=true"});
  for (const char* line :
       {"\nsecureClientPort=12181\n", "\nsecureClientPortAddress=127.0.0.1\n",
        "\nserverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n",
        "\nssl.keyStore.location=/pki/server-1.pem\n", "\nssl.keyStore.type=PEM\n",
        "\nssl.trustStore.location=/pki/ca.crt\n", "\nssl.trustStore.type=PEM\n", "\nssl.hostnameVerification=true\n",
        "\nsslQuorum=true\n", "\nssl.quorum.keyStore.location=/pki/server-1.pem\n",
        "\nssl.quorum.trustStore.location=/pki/ca.crt\n", "\nssl.quorum.hostnameVerification=true\n",
        "\nauthProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider\n",
        "\nX509AuthenticationProvider.superUser=CN=zkpilot-super\n", "\nserver.1=127.0.0.1:12182:12183\n",
        "\nserver.2=127.0.0.1:12192:12193\n"})
    EXPECT_NE(tls.find(line), std::string::npos) << line << " not in:\n" << tls;
  EXPECT_EQ(tls.find("\nclientPort"), std::string::npos) << tls;
  // Without TLS nothing of it, and the server lines keep their client address.
  const std::string plain = render({});
  EXPECT_EQ(plain.find("ssl"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("secureClientPort"), std::string::npos) << plain;
  EXPECT_NE(plain.find("\nserver.1=127.0.0.1:12182:12183;127.0.0.1:12181\n"), std::string::npos) << plain;
}


// Quorum SASL stages (ServerRender::quorum_auth_stage): stage 0 and 3 are the
// files of auth.quorum=false and =true byte for byte (no roll after an
// upgrade of zkpilot); 1 and 2 enable SASL without requiring it, 2 also as
// the learner; whatever auth.quorum says, the stage decides.
TEST(DefaultPackage, LocalQuorumAuthStagesRenderZooKeepersRollingSwitch) {
  auto pkg = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
  ASSERT_TRUE(pkg.ok()) << pkg.status().message();
  NodeEndpoint one{1, "n1", "n1", "127.0.0.1", 12181, 12182, 12183, 12184, 0, "127.0.0.1", "/tmp/n1/data", ""};
  NodeEndpoint two{2, "n2", "n2", "127.0.0.1", 12191, 12192, 12193, 12194, 0, "127.0.0.1", "/tmp/n2/data", ""};
  auto render = [&](const std::string& quorum, std::optional<int> stage) {
    ValuesInput in;
    in.sets = {"auth.quorum=" + quorum};
    auto values = ResolveValues(pkg->schema, in);
    EXPECT_TRUE(values.ok()) << values.status().message();
    RenderOptions opts{"demo", "local", "local"};
    opts.server.quorum_auth_stage = stage;
    auto cfg = RenderDeclaredFile(*pkg, *values, opts, {one, two}, one, "zooCfg");
    EXPECT_TRUE(cfg.ok()) << cfg.status().message();
    return cfg.ok() ? *cfg : std::string();
  };
  const std::string off = render("false", std::nullopt), on = render("true", std::nullopt);
  for (const std::string& quorum : {"false", "true"}) {
    EXPECT_EQ(render(quorum, 0), off) << "auth.quorum=" << quorum;
    EXPECT_EQ(render(quorum, 3), on) << "auth.quorum=" << quorum;
  }
  EXPECT_EQ(off.find("quorum.auth"), std::string::npos) << off;
  const std::string contexts =
      "\nquorum.auth.server.loginContext=QuorumServer\nquorum.auth.learner.loginContext=QuorumLearner\n";
  EXPECT_NE(on.find("\nquorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\n"
                    "quorum.auth.serverRequireSasl=true" + contexts),
            std::string::npos)
      << on;
  const std::string learner[] = {"false", "true"};
  for (int stage : {1, 2}) {
    for (const std::string& quorum : {"false", "true"}) {
      const std::string cfg = render(quorum, stage);
      EXPECT_NE(cfg.find("\nquorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=" + learner[stage - 1] +
                         "\nquorum.auth.serverRequireSasl=false" + contexts),
                std::string::npos)
          << "stage " << stage << ", auth.quorum=" << quorum << ":\n" << cfg;
      EXPECT_EQ(cfg.find("RequireSasl=true\nquorum.auth.serverRequireSasl=true"), std::string::npos) << cfg;
    }
  }
}

}  // namespace
}  // namespace zkpilot
