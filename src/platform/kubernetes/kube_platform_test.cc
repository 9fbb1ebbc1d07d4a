// KubernetesPlatform against a real kube-sim cluster and real ZooKeeper in its
// pods: the primitives the step runner builds on, on a 3-server ensemble.
// The binary runs inside the cluster network (kube_sim_env.h), so pod IPs
// answer. The tests of the ensemble suite run in order, each on the
// ensemble the previous ones left.
#include "platform/kubernetes/kube_platform.h"

#include <gtest/gtest.h>

#include <thread>

#include "kube_sim_fixture/kube_sim_env.h"
#include "package/package_loader.h"
#include "zk/ensemble_config.h"
#include "zk/four_letter.h"
#include "zk/zk_client.h"

namespace zkpilot {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

class RealClock : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() override { return std::chrono::steady_clock::now(); }
  void Sleep(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }
};
RealClock real_clock;

const ResourceRef kStatefulSets{"apps", "v1", "statefulsets", true, "StatefulSet"};
const ResourceRef kPods{"", "v1", "pods", true, "Pod"};
const ResourceRef kClaims{"", "v1", "persistentvolumeclaims", true, "PersistentVolumeClaim"};
const ResourceRef kConfigMaps{"", "v1", "configmaps", true, "ConfigMap"};
const ResourceRef kSecrets{"", "v1", "secrets", true, "Secret"};
const ResourceRef kDeployments{"apps", "v1", "deployments", true, "Deployment"};

const Package& DefaultPackage() {
  static const Package package = [] {
    auto p = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
    if (!p.ok()) throw std::runtime_error(p.status().message());
    return std::move(p).value();
  }();
  return package;
}

Values TestValues(std::vector<std::string> sets) {
  // 3.8.0, not the default: the ensemble tests check the version they run.
  sets.insert(sets.begin(), {"heapSize=256m", "version=3.8.0"});
  ValuesInput in;
  in.sets = sets;
  auto values = ResolveValues(DefaultPackage().schema, in);
  if (!values.ok()) throw std::runtime_error(values.status().message());
  return std::move(values).value();
}

// Polls `done` until it is true or `timeout` passes.
bool Eventually(const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(250ms);
  }
  return true;
}

std::map<int, ServerState> ById(Platform& p) {
  auto servers = p.Servers();
  EXPECT_TRUE(servers.ok()) << servers.status().message();
  std::map<int, ServerState> out;
  if (servers.ok())
    for (const auto& s : *servers) out[s.id] = s;
  return out;
}

// Every server of `ids` serves, exactly one leads (read from the servers).
bool Healthy(Platform& p, const std::vector<int>& ids, std::string* why) {
  AdminClient admin(1000ms);
  auto servers = ById(p);
  int leaders = 0;
  for (int id : ids) {
    if (!servers[id].exists || servers[id].client.host.empty()) {
      *why = "server " + std::to_string(id) + " has no pod";
      return false;
    }
    auto srvr = admin.Srvr(servers[id].client);
    if (!srvr.ok()) {
      *why = "server " + std::to_string(id) + ": " + srvr.status().message();
      return false;
    }
    if (srvr->mode != "leader" && srvr->mode != "follower") {
      *why = "server " + std::to_string(id) + " is " + srvr->mode;
      return false;
    }
    leaders += srvr->mode == "leader";
  }
  *why = std::to_string(leaders) + " leaders";
  return leaders == 1;
}

void ExpectHealthy(Platform& p, const std::vector<int>& ids, std::chrono::seconds timeout = 300s) {
  std::string why;
  EXPECT_TRUE(Eventually([&] { return Healthy(p, ids, &why); }, timeout)) << why;
}

class KubePlatformEnsemble : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ns_ = kubesim::NewNamespace("zk");
    client_ = kubesim::Client(ns_);
    options_.namespace_name = ns_;
    options_.cluster = "demo";
    auto password = EnsureSuperPassword(*client_, options_);
    ASSERT_TRUE(password.ok()) << password.status().message();
    options_.super_password = *password;
    auto again = EnsureSuperPassword(*client_, options_);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *password) << "read back, not generated again";
  }
  static void TearDownTestSuite() { client_.reset(); }

  void SetUp() override {
    if (broken_) GTEST_SKIP() << "an earlier step of the ensemble suite failed";
  }
  void TearDown() override {
    if (HasFailure()) broken_ = true;
  }

  static std::unique_ptr<KubernetesPlatform> Make(const std::vector<std::string>& sets) {
    return std::make_unique<KubernetesPlatform>(*client_, DefaultPackage(), TestValues(sets),
                                                options_, real_clock);
  }

  static json Get(const ResourceRef& r, const std::string& name) {
    auto object = client_->Get(r, ns_, name);
    EXPECT_TRUE(object.ok()) << object.status().message();
    return object.ok() && *object ? **object : json();
  }

  static std::string PodUid(int id) {
    json pod = Get(kPods, "demo-" + std::to_string(id) + "-0");
    return pod.is_null() ? "" : pod["metadata"].value("uid", "");
  }

  static inline std::string ns_;
  static inline std::unique_ptr<KubeClient> client_;
  static inline KubePlatformOptions options_;
  static inline bool broken_ = false;
};

TEST_F(KubePlatformEnsemble, AppliesServersStoppedThenStartsThem) {
  auto p = Make({"replicas=3"});
  ASSERT_TRUE(p->Preflight().ok()) << p->Preflight().message();
  for (int id = 1; id <= 3; ++id) {
    auto applied = p->ApplyServerConfig(id, {});
    ASSERT_TRUE(applied.ok()) << applied.status().message();
  }
  for (int id = 1; id <= 3; ++id) {
    json sts = Get(kStatefulSets, "demo-" + std::to_string(id));
    EXPECT_EQ(sts["spec"]["replicas"], 0) << "applied, not started";
    EXPECT_EQ(sts["spec"]["updateStrategy"]["type"], "OnDelete");
    EXPECT_EQ(sts["metadata"]["labels"]["zkpilot.io/cluster"], "demo");
  }
  EXPECT_FALSE(Get(kSecrets, "demo-zkpilot-super").is_null());
  for (const auto& [id, s] : ById(*p)) {
    EXPECT_FALSE(s.exists) << id;
    EXPECT_FALSE(s.desired_running) << id;
  }

  for (int id = 1; id <= 3; ++id) ASSERT_TRUE(p->StartServer(id).ok());
  ExpectHealthy(*p, {1, 2, 3});
  auto servers = ById(*p);
  ASSERT_EQ(servers.size(), 3u);
  for (auto& [id, s] : servers) {
    EXPECT_TRUE(s.exists && s.desired_running) << id;
    EXPECT_FALSE(s.uid.empty());
    EXPECT_EQ(s.version, "3.8.0");
    EXPECT_EQ(s.running_generation, 0);
    EXPECT_EQ(s.config_fingerprint, *p->TargetFingerprint(id)) << "runs the target's configuration";
    EXPECT_EQ(s.client.port, 2181);
  }
  auto topology = p->Topology();
  ASSERT_TRUE(topology.ok());
  EXPECT_EQ((*topology)[1].host, "demo-2-0.demo-headless." + ns_ + ".svc.cluster.local");
}

TEST_F(KubePlatformEnsemble, SessionsAreTheSuperUsers) {
  auto p = Make({"replicas=3"});
  auto zk = p->OpenSession({});
  ASSERT_TRUE(zk.ok()) << zk.status().message();
  CreateOptions read_only;
  read_only.acl = "world:anyone:r";
  read_only.ignore_existing = true;
  ASSERT_TRUE((*zk)->CreateNode("/locked", "", read_only).ok());
  // Only the super user (the digest the servers got from the Secret) may
  // create under a node whose ACL grants nobody that right.
  auto child = (*zk)->CreateNode("/locked/by-super", "", {});
  EXPECT_TRUE(child.ok()) << child.status().message();
  std::string hosts;
  for (const auto& [id, s] : ById(*p)) hosts += (hosts.empty() ? "" : ",") + s.client.ToString();
  auto anonymous = ZkClient::Connect(hosts, 15s);
  ASSERT_TRUE(anonymous.ok()) << anonymous.status().message();
  EXPECT_FALSE((*anonymous)->Create("/locked/by-anyone", "").ok());
}

TEST_F(KubePlatformEnsemble, RestartToAGenerationReplacesThePodOnce) {
  auto p = Make({"replicas=3"});
  const std::string before = PodUid(2), other = PodUid(1);
  auto restarted = p->RestartServer(2, 1);
  ASSERT_TRUE(restarted.ok()) << restarted.status().message();
  EXPECT_EQ(
      Get(kStatefulSets,
          "demo-2")["spec"]["template"]["metadata"]["annotations"][kAnnotationRestartGeneration],
      "1");
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = ById(*p)[2];
        return s.exists && s.running_generation == 1;
      },
      180s));
  const std::string after = PodUid(2);
  EXPECT_NE(after, before);
  ExpectHealthy(*p, {1, 2, 3});
  // Asked again (a resumed step): nothing happens.
  auto again = p->RestartServer(2, 1);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_NE(again->find("already runs generation 1"), std::string::npos) << *again;
  EXPECT_EQ(PodUid(2), after);
  EXPECT_EQ(PodUid(1), other) << "the other servers are not touched";
  EXPECT_EQ(ById(*p)[2].generation, 1);
}

TEST_F(KubePlatformEnsemble, AChangedConfigurationIsAppliedWithoutRestartingAnything) {
  auto changed = Make({"replicas=3", "tickTime=3000"});
  std::map<int, std::string> uids;
  for (int id = 1; id <= 3; ++id) uids[id] = PodUid(id);
  for (int id = 1; id <= 3; ++id) {
    ASSERT_TRUE(changed->ApplyServerConfig(id, {}).ok());
    EXPECT_NE(ById(*changed)[id].config_fingerprint, *changed->TargetFingerprint(id))
        << "needs a restart";
  }
  // Once the controllers have seen the new templates, the pods are still the same.
  ASSERT_TRUE(Eventually(
      [&] {
        for (int id = 1; id <= 3; ++id) {
          json sts = Get(kStatefulSets, "demo-" + std::to_string(id));
          if (sts["status"].value("observedGeneration", 0) < sts["metadata"].value("generation", 0))
            return false;
        }
        return true;
      },
      60s));
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(PodUid(id), uids[id]) << "server " << id;
  EXPECT_EQ(
      Get(kStatefulSets,
          "demo-2")["spec"]["template"]["metadata"]["annotations"][kAnnotationRestartGeneration],
      "1")
      << "the restart generation stays";

  // Restarted to a new generation, a server takes the new configuration.
  ASSERT_TRUE(changed->RestartServer(1, 1).ok());
  ASSERT_TRUE(Eventually([&] { return ById(*changed)[1].running_generation == 1; }, 180s));
  EXPECT_EQ(ById(*changed)[1].config_fingerprint, *changed->TargetFingerprint(1));
  ExpectHealthy(*changed, {1, 2, 3});
}

TEST_F(KubePlatformEnsemble, StopsAndStartsOneServer) {
  auto p = Make({"replicas=3", "tickTime=3000"});
  auto stopped = p->StopServer(3, 120s);
  ASSERT_TRUE(stopped.ok()) << stopped.status().message();
  auto s3 = ById(*p)[3];
  EXPECT_FALSE(s3.exists);
  EXPECT_FALSE(s3.desired_running);
  EXPECT_EQ(Get(kStatefulSets, "demo-3")["spec"]["replicas"], 0);
  ASSERT_TRUE(p->StartServer(3).ok());
  ExpectHealthy(*p, {1, 2, 3});
}

TEST_F(KubePlatformEnsemble, AFieldAnotherManagerOwnsIsReportedNotTakenOver) {
  auto p = Make({"replicas=3", "tickTime=3000"});
  std::string out;
  ASSERT_EQ(kubesim::Kubectl({"-n", ns_, "scale", "statefulset", "demo-3", "--replicas=0"}, &out),
            0)
      << out;
  auto started = p->StartServer(3);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), ErrorCode::kConflict);
  const std::string& msg = started.status().message();
  EXPECT_NE(msg.find("StatefulSet demo-3: spec.replicas is managed by kubectl"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("zkpilot does not override another manager's fields"), std::string::npos)
      << msg;
  EXPECT_EQ(Get(kStatefulSets, "demo-3")["spec"]["replicas"], 0)
      << "the other manager's value stays";

  // Undone by its manager, zkpilot's apply goes through again.
  ASSERT_EQ(kubesim::Kubectl({"-n", ns_, "scale", "statefulset", "demo-3", "--replicas=1"}, &out),
            0)
      << out;
  auto again = p->StartServer(3);
  EXPECT_TRUE(again.ok()) << again.status().message();
  ExpectHealthy(*p, {1, 2, 3});
}

TEST_F(KubePlatformEnsemble, ANewServerStartsWithTheMembersAndItselfAndKeepsItsMembership) {
  auto p = Make({"replicas=4", "tickTime=3000"});
  auto applied = p->ApplyServerConfig(4, {1, 2, 3, 4});
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  const std::string cfg = Get(kConfigMaps, "demo-config")["data"]["zoo.cfg"];
  EXPECT_NE(cfg.find("server.4="), std::string::npos) << cfg;
  EXPECT_EQ(cfg.find("server.5="), std::string::npos) << cfg;
  ASSERT_TRUE(p->StartServer(4).ok());

  // Server 4 syncs with the ensemble, then joins it as a voter by reconfig.
  AdminClient admin(1000ms);
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = ById(*p)[4];
        auto srvr = admin.Srvr(s.client);
        return s.exists && srvr.ok() && srvr->IsServing();
      },
      180s));
  auto topology = p->Topology();
  ASSERT_TRUE(topology.ok());
  ServerEntry entry;
  entry.id = 4;
  entry.host = (*topology)[3].host;
  entry.quorum_port = 2888;
  entry.election_port = 3888;
  entry.client = Endpoint{"0.0.0.0", 2181};
  {
    auto zk = p->OpenSession({1, 2, 3});
    ASSERT_TRUE(zk.ok()) << zk.status().message();
    auto config = (*zk)->Reconfig(entry.ToConfigLine(), "");
    ASSERT_TRUE(config.ok()) << config.status().message();
  }
  ExpectHealthy(*p, {1, 2, 3, 4});

  // Restarted, it comes back with the committed membership from its volume,
  // not with the ConfigMap's list (here the three-server target's again).
  auto three = Make({"replicas=3", "tickTime=3000"});
  ASSERT_TRUE(three->ApplyServerConfig(1, {}).ok());
  const std::string three_cfg = Get(kConfigMaps, "demo-config")["data"]["zoo.cfg"];
  EXPECT_EQ(three_cfg.find("server.4="), std::string::npos) << three_cfg;
  ASSERT_TRUE(p->RestartServer(4, 1).ok());
  ASSERT_TRUE(Eventually([&] { return ById(*p)[4].running_generation == 1; }, 180s));
  ExpectHealthy(*p, {1, 2, 3, 4});
  auto conf = admin.Conf(ById(*p)[4].client);
  ASSERT_TRUE(conf.ok()) << conf.status().message();
  for (int id = 1; id <= 4; ++id) EXPECT_TRUE(conf->count("server." + std::to_string(id))) << id;
  auto log = p->LogTail(4, 200);
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("newest committed dynamic configuration"), std::string::npos) << *log;

  // Back to three: reconfig, stop, forget; the claim stays until purged.
  {
    auto zk = three->OpenSession({1, 2, 3});
    ASSERT_TRUE(zk.ok());
    ASSERT_TRUE((*zk)->Reconfig("", "4").ok());
  }
  auto stopped = three->StopServer(4, 120s);
  ASSERT_TRUE(stopped.ok()) << stopped.status().message();
  ASSERT_TRUE(three->ForgetServer(4).ok());
  ASSERT_TRUE(Eventually([&] { return Get(kStatefulSets, "demo-4").is_null(); }, 60s));
  EXPECT_FALSE(Get(kClaims, "data-demo-4-0").is_null()) << "the data stays";
  auto kept = three->RunFileAction(4, "remove-node-data", json::object(), false);
  ASSERT_TRUE(kept.ok());
  EXPECT_FALSE(Get(kClaims, "data-demo-4-0").is_null());
  auto purged = three->RunFileAction(4, "remove-node-data", json::object(), true);
  ASSERT_TRUE(purged.ok()) << purged.status().message();
  EXPECT_NE(purged->find("data-demo-4-0"), std::string::npos) << *purged;
  EXPECT_TRUE(Eventually([&] { return Get(kClaims, "data-demo-4-0").is_null(); }, 60s));
  ExpectHealthy(*three, {1, 2, 3});
  EXPECT_EQ(ById(*three).count(4), 0u) << "forgotten";
}

TEST_F(KubePlatformEnsemble, FileActionsAndLogsReachThePod) {
  auto p = Make({"replicas=3", "tickTime=3000"});
  std::string out;
  ASSERT_EQ(kubesim::Kubectl({"-n", ns_, "exec", "demo-1-0", "--", "bash", "-c",
                              "touch /data/version-2/a.tmp /data/version-2/b.tmp"},
                             &out),
            0)
      << out;
  auto removed =
      p->RunFileAction(1, "remove-files", {{"paths", {"version-2/*.tmp", "nothing-*"}}}, false);
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_EQ(*removed, "server 1: removed 2 files");
  EXPECT_EQ(p->RunFileAction(1, "remove-files", {{"paths", {"../etc"}}}, false).status().code(),
            ErrorCode::kInvalidInput);
  auto purged = p->RunFileAction(1, "purge-snapshots", {{"retain", 3}}, false);
  EXPECT_TRUE(purged.ok()) << purged.status().message();
  auto log = p->LogTail(1, 5);
  ASSERT_TRUE(log.ok()) << log.status().message();
  EXPECT_FALSE(log->empty());
  EXPECT_LE(std::count(log->begin(), log->end(), '\n'), 5);
}

TEST_F(KubePlatformEnsemble, AddonsAreAppliedAndPrunedWhenSwitchedOff) {
  auto with = Make(
      {"replicas=3", "tickTime=3000", "zoonavigator.enabled=true", "zoonavigator.readOnly=false"});
  auto applied = with->ApplyAddons();
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  EXPECT_NE(applied->find("zoonavigator"), std::string::npos) << *applied;
  auto list = client_->List(kDeployments, ns_, {ClusterSelector("demo"), ""});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ((*list)["items"].size(), 1u);
  const std::string name = (*list)["items"][0]["metadata"]["name"];
  // ZooNavigator's login (the proxy in front of it reads its htpasswd), generated on first use.
  json login = Get(kSecrets, "demo-zoonavigator-login");
  ASSERT_FALSE(login.is_null()) << "no login Secret for ZooNavigator's proxy";
  auto htpasswd = Base64Decode(login["data"].value("htpasswd", ""));
  ASSERT_TRUE(htpasswd.ok());
  EXPECT_EQ(htpasswd->rfind("admin:{SSHA}", 0), 0u) << *htpasswd;

  auto endpoint = with->AddonEndpoint("zoonavigator");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status().message();
  EXPECT_EQ(endpoint->host, "demo-zoonavigator." + ns_ + ".svc.cluster.local");
  auto described = with->Describe();
  ASSERT_TRUE(described.ok()) << described.status().message();
  EXPECT_EQ(described->fields["namespace"], ns_);
  EXPECT_TRUE(described->fields.contains(name)) << described->fields.dump();

  auto without = Make({"replicas=3", "tickTime=3000"});
  EXPECT_EQ(without->AddonEndpoint("zoonavigator").status().code(), ErrorCode::kNotFound);
  auto pruned = without->ApplyAddons();
  ASSERT_TRUE(pruned.ok()) << pruned.status().message();
  EXPECT_NE(pruned->find("pruned: Deployment " + name), std::string::npos) << *pruned;
  EXPECT_TRUE(Eventually([&] { return Get(kDeployments, name).is_null(); }, 60s));
  for (int id = 1; id <= 3; ++id)
    EXPECT_FALSE(Get(kStatefulSets, "demo-" + std::to_string(id)).is_null());
  EXPECT_FALSE(Get(kSecrets, "demo-zkpilot-super").is_null()) << "never pruned";
  EXPECT_FALSE(Get(kSecrets, "demo-zoonavigator-login").is_null()) << "kept while ZooNavigator is off";
}

// Grafana's admin password: generated into a Secret the first time the
// add-on is applied, the same at every later apply, kept when Grafana is
// switched off; the pod reads it from there.
TEST_F(KubePlatformEnsemble, GrafanaAdminPasswordIsGeneratedOnceAndKept) {
  const std::vector<std::string> grafana = {"replicas=3", "tickTime=3000", "grafana.enabled=true",
                                            "grafana.prometheusUrl=http://prometheus.example:9090"};
  ASSERT_TRUE(Get(kSecrets, "demo-grafana-admin").is_null()) << "not before Grafana is wanted";
  auto password = [&]() -> std::string {
    json secret = Get(kSecrets, "demo-grafana-admin");
    if (secret.is_null()) return "";
    auto decoded = Base64Decode(secret["data"].value("admin-password", ""));
    return decoded.ok() ? *decoded : "";
  };
  auto first = Make(grafana)->ApplyAddons();
  ASSERT_TRUE(first.ok()) << first.status().message();
  const std::string generated = password();
  EXPECT_EQ(generated.size(), 32u);
  EXPECT_NE(generated, "admin");
  json deployment = Get(kDeployments, "demo-grafana");
  ASSERT_FALSE(deployment.is_null());
  bool reads_it = false;
  for (const auto& e : deployment["spec"]["template"]["spec"]["containers"][0]["env"])
    reads_it = reads_it || (e.value("name", "") == "GF_SECURITY_ADMIN_PASSWORD" &&
                            e["valueFrom"]["secretKeyRef"]["name"] == "demo-grafana-admin");
  EXPECT_TRUE(reads_it) << deployment["spec"]["template"]["spec"]["containers"][0]["env"].dump();

  auto again = Make(grafana)->ApplyAddons();
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(password(), generated) << "not regenerated by a second apply";

  auto off = Make({"replicas=3", "tickTime=3000"})->ApplyAddons();
  ASSERT_TRUE(off.ok()) << off.status().message();
  EXPECT_TRUE(Eventually([&] { return Get(kDeployments, "demo-grafana").is_null(); }, 60s));
  EXPECT_EQ(password(), generated) << "kept while Grafana is off";
}

TEST_F(KubePlatformEnsemble, TearDownWithPurgeLeavesNothing) {
  auto p = Make({"replicas=3", "tickTime=3000"});
  auto down = p->TearDown(true, 180s);
  ASSERT_TRUE(down.ok()) << down.status().message();
  for (const ResourceRef& r : {kStatefulSets, kPods, kClaims, kSecrets}) {
    auto list = client_->List(r, ns_);
    ASSERT_TRUE(list.ok());
    EXPECT_TRUE((*list)["items"].empty()) << r.resource << ": " << (*list)["items"].dump();
  }
  for (const auto& [id, s] : ById(*p)) EXPECT_FALSE(s.exists);
}

// ---- a server as a Deployment (controller=deployment): one at a time by design

TEST(KubePlatformDeployment, RestartReplacesThePodThroughItsTemplateOnce) {
  const std::string ns = kubesim::NewNamespace("solo");
  auto client = kubesim::Client(ns);
  KubePlatformOptions options;
  options.namespace_name = ns;
  options.cluster = "solo";
  options.super_password = "solo-password";
  KubernetesPlatform p(*client, DefaultPackage(),
                       TestValues({"replicas=1", "controller=deployment"}), options, real_clock);
  ASSERT_TRUE(p.ApplyServerConfig(1, {}).ok());
  auto claim = client->Get(kClaims, ns, "solo-1-data");
  ASSERT_TRUE(claim.ok() && *claim) << "the claim comes with the server";
  ASSERT_TRUE(p.StartServer(1).ok());
  ASSERT_TRUE(Eventually([&] { return ById(p)[1].exists; }, 180s));
  const std::string before = ById(p)[1].uid;
  const ResourceRef deployments{"apps", "v1", "deployments", true, "Deployment"};
  auto template_hash = [&] {
    auto d = client->Get(deployments, ns, "solo-1");
    return d.ok() && *d ? (**d)["spec"]["template"]["metadata"]["annotations"].value(
                              kAnnotationTemplateHash, "")
                        : "";
  };
  const std::string old_hash = template_hash();

  // A changed configuration waits for the restart: the running Deployment keeps its template.
  KubernetesPlatform changed(*client, DefaultPackage(),
                             TestValues({"replicas=1", "controller=deployment", "tickTime=3000"}),
                             options, real_clock);
  auto applied = changed.ApplyServerConfig(1, {});
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  EXPECT_EQ(template_hash(), old_hash) << *applied;
  EXPECT_NE(*changed.TargetFingerprint(1), old_hash);

  auto restarted = changed.RestartServer(1, 1);
  ASSERT_TRUE(restarted.ok()) << restarted.status().message();
  ASSERT_TRUE(Eventually(
      [&] {
        auto s = ById(changed)[1];
        return s.exists && s.running_generation == 1;
      },
      180s));
  const std::string after = ById(changed)[1].uid;
  EXPECT_NE(after, before);
  EXPECT_EQ(ById(changed)[1].config_fingerprint, *changed.TargetFingerprint(1));
  auto again = changed.RestartServer(1, 1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(ById(changed)[1].uid, after) << "asked again: nothing happens";

  auto stopped = p.StopServer(1, 120s);
  ASSERT_TRUE(stopped.ok()) << stopped.status().message();
  auto kept = p.TearDown(false, 120s);
  ASSERT_TRUE(kept.ok()) << kept.status().message();
  EXPECT_NE(kept->find("data kept in claims solo-1-data"), std::string::npos) << *kept;
  auto still = client->Get(kClaims, ns, "solo-1-data");
  ASSERT_TRUE(still.ok() && *still) << "kept";
  auto down = p.TearDown(true, 120s);
  ASSERT_TRUE(down.ok()) << down.status().message();
  EXPECT_NE(down->find("solo-1-data"), std::string::npos) << *down;
  EXPECT_TRUE(Eventually(
      [&] {
        auto c = client->Get(kClaims, ns, "solo-1-data");
        return c.ok() && !*c;
      },
      60s));
}

// ---- the API answering 5xx/429 now and then

TEST(KubePlatformFaults, TransientApiErrorsAreRetried) {
  const std::string ns = kubesim::NewNamespace("faults");
  auto client = kubesim::Client(ns);
  KubePlatformOptions options;
  options.namespace_name = ns;
  options.cluster = "flaky";
  KubernetesPlatform p(*client, DefaultPackage(), TestValues({"replicas=1"}), options, real_clock);
  std::string out;
  // Two 500s on the StatefulSet apply, one 429 on listing pods.
  ASSERT_EQ(kubesim::Kubectl({"create", "--raw", "/kube-sim/faults", "-f", "-"}, &out,
                             R"({"method":"PATCH","pathRegex":"/namespaces/)" + ns +
                                 R"(/statefulsets/","status":500,"times":2})"),
            0)
      << out;
  ASSERT_EQ(kubesim::Kubectl({"create", "--raw", "/kube-sim/faults", "-f", "-"}, &out,
                             R"({"method":"GET","pathRegex":"/namespaces/)" + ns +
                                 R"(/pods[?]","status":429,"retryAfter":0,"times":1})"),
            0)
      << out;
  auto applied = p.ApplyServerConfig(1, {});
  EXPECT_TRUE(applied.ok()) << applied.status().message();
  auto servers = p.Servers();
  EXPECT_TRUE(servers.ok()) << servers.status().message();
  ASSERT_EQ(kubesim::Kubectl({"get", "--raw", "/kube-sim/faults"}, &out), 0) << out;
  const std::string fired = out;
  ASSERT_EQ(kubesim::Kubectl({"delete", "--raw", "/kube-sim/faults"}, &out), 0) << out;
  EXPECT_NE(fired.find("\"fired\":2"), std::string::npos) << fired;
  EXPECT_NE(fired.find("\"fired\":1"), std::string::npos) << fired;
}

// ---- preflight, without an ensemble

TEST(KubePlatformPreflight, MissingNamespaceIsTheUsersFault) {
  auto client = kubesim::Client();
  KubePlatformOptions options;
  options.namespace_name = "no-such-namespace";
  options.cluster = "demo";
  KubernetesPlatform p(*client, DefaultPackage(), TestValues({}), options, real_clock);
  Status s = p.Preflight();
  EXPECT_EQ(s.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(s.message().find("kubectl create namespace no-such-namespace"), std::string::npos)
      << s.message();
}

// SASL works on Kubernetes (the platform makes its Secrets, kube_auth.h):
// preflight no longer refuses auth.*, and goes on to the namespace check.
TEST(KubePlatformPreflight, SaslAuthenticationPassesToTheNextCheck) {
  auto client = kubesim::Client();
  KubePlatformOptions options;
  options.namespace_name = "no-such-namespace";
  options.cluster = "demo";
  for (const std::string set : {"auth.enabled=true", "auth.quorum=true"}) {
    KubernetesPlatform p(*client, DefaultPackage(), TestValues({set}), options, real_clock);
    Status s = p.Preflight();
    EXPECT_EQ(s.code(), ErrorCode::kInvalidInput) << set;
    EXPECT_EQ(s.message().find("local platform only"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("kubectl create namespace no-such-namespace"), std::string::npos)
        << set << ": " << s.message();
  }
}

TEST(KubePlatformPreflight, MissingPermissionsAreNamed) {
  const std::string ns = kubesim::NewNamespace("rbac");
  std::string out;
  ASSERT_EQ(kubesim::Kubectl({"-n", ns, "create", "serviceaccount", "reader"}, &out), 0) << out;
  // May read and list pods, nothing else.
  ASSERT_EQ(kubesim::Kubectl(
                {"-n", ns, "create", "role", "reader", "--verb=get,list", "--resource=pods"}, &out),
            0)
      << out;
  ASSERT_EQ(kubesim::Kubectl({"-n", ns, "create", "rolebinding", "reader", "--role=reader",
                              "--serviceaccount=" + ns + ":reader"},
                             &out),
            0)
      << out;
  ASSERT_EQ(kubesim::Kubectl({"-n", ns, "create", "token", "reader"}, &out), 0) << out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  KubeConfigOptions o;
  o.kubeconfig = kubesim::Kubeconfig();
  auto connection = LoadKubeConnection(o);
  ASSERT_TRUE(connection.ok());
  connection->token = out;
  connection->token_file.clear();
  connection->client_cert_pem.clear();
  connection->client_key_pem.clear();
  connection->exec = nullptr;
  connection->user_name = "reader";
  auto client = KubeClient::Create(*connection);
  ASSERT_TRUE(client.ok()) << client.status().message();

  KubePlatformOptions options;
  options.namespace_name = ns;
  options.cluster = "demo";
  KubernetesPlatform p(**client, DefaultPackage(), TestValues({}), options, real_clock);
  Status s = p.Preflight();
  EXPECT_EQ(s.code(), ErrorCode::kPermissionDenied) << s.message();
  EXPECT_NE(s.message().find("patch statefulsets.apps"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("create pods/exec"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("get pods,"), std::string::npos) << "granted: " << s.message();
}

}  // namespace
}  // namespace zkpilot

int main(int argc, char** argv) {
  if (auto code = zkpilot::kubesim::RunInside(argc, argv)) return *code;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
