// zkpilot's own access to a TLS cluster on Kubernetes (tls.enabled, design
// B): the verbs' cores (deploy, a rolling configure, status) run with a
// KubernetesPlatform and an in-memory release store, as the operator runs
// them, against real ZooKeeper in kube-sim pods. Every four-letter word and
// session goes over TLS as CN=zkpilot-super (Secret <c>-tls-zkpilot), to a
// pod's IP whose certificate names only the pod's DNS name. The binary runs
// inside the cluster network (kube_sim_env.h).
#include <gtest/gtest.h>

#include <thread>

#include "actions/cluster_actions.h"
#include "kube_sim_fixture/kube_sim_env.h"
#include "package/package_loader.h"
#include "platform/kubernetes/kube_platform.h"
#include "platform/kubernetes/kube_tls.h"
#include "state/state_store.h"
#include "zk/four_letter.h"
#include "zk/zk_client.h"

namespace zkpilot {
namespace {

using namespace std::chrono_literals;

class RealClock : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() override { return std::chrono::steady_clock::now(); }
  void Sleep(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }
};
RealClock real_clock;

const Package& DefaultPackage() {
  static const Package package = [] {
    auto p = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
    if (!p.ok()) throw std::runtime_error(p.status().message());
    return std::move(p).value();
  }();
  return package;
}

Values TestValues(std::vector<std::string> sets) {
  sets.insert(sets.begin(), "heapSize=256m");
  ValuesInput in;
  in.sets = sets;
  auto values = ResolveValues(DefaultPackage().schema, in);
  if (!values.ok()) throw std::runtime_error(values.status().message());
  return std::move(values).value();
}

std::map<int, ServerState> ById(Platform& p) {
  auto servers = p.Servers();
  EXPECT_TRUE(servers.ok()) << servers.status().message();
  std::map<int, ServerState> out;
  if (servers.ok())
    for (const auto& s : *servers) out[s.id] = s;
  return out;
}

class KubePlatformTls : public ::testing::Test {
 protected:
  void SetUp() override {
    ns_ = kubesim::NewNamespace("tls");
    client_ = kubesim::Client(ns_);
    options_.namespace_name = ns_;
    options_.cluster = "demo";
    // As the operator's cores do (operator_cores.cc PlatformOptions).
    auto password = EnsureSuperPassword(*client_, options_);
    ASSERT_TRUE(password.ok()) << password.status().message();
    options_.super_password = *password;
    auto store = StateStore::OpenInMemory();
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(store).value();
  }

  std::unique_ptr<KubernetesPlatform> PlatformFor(const Values& values) {
    return std::make_unique<KubernetesPlatform>(*client_, DefaultPackage(), values, options_,
                                                real_clock);
  }

  Result<nlohmann::ordered_json> StatusOfDemo(const Values& values) {
    auto platform = PlatformFor(values);
    ActionContext ctx{*platform, *store_, progress_, real_clock};
    return DescribeCluster(ctx, "demo", DefaultPackage());
  }

  std::string ns_;
  std::unique_ptr<KubeClient> client_;
  KubePlatformOptions options_;
  std::unique_ptr<StateStore> store_;
  NullProgress progress_;
};

// Every server of a status report serves, over TLS, exactly one leading.
void ExpectServing(const nlohmann::ordered_json& status) {
  EXPECT_EQ(status["healthy"], true) << status.dump(2);
  int leaders = 0;
  for (const auto& n : status["nodes"]) {
    const std::string role = n.value("role", "");
    EXPECT_TRUE(role == "leader" || role == "follower") << n.dump();
    leaders += role == "leader";
  }
  EXPECT_EQ(leaders, 1) << status.dump(2);
}

TEST_F(KubePlatformTls, DeployRollingConfigureAndStatusGoOverTls) {
  const std::vector<std::string> base = {"replicas=3", "tls.enabled=true"};
  std::vector<std::string> sets = base;
  sets.push_back("tickTime=3000");
  DeploySpec spec;
  spec.name = "demo";
  spec.package = DefaultPackage();
  spec.values = TestValues(sets);
  spec.package_source = "packages/zookeeper";
  spec.location = "namespace " + ns_;
  spec.timeout = 300s;
  auto deploy_platform = PlatformFor(spec.values);
  {
    ActionContext ctx{*deploy_platform, *store_, progress_, real_clock};
    // Healthy means every server answered `srvr` over TLS (the deploy waits).
    auto deployed = Deploy(ctx, spec);
    ASSERT_TRUE(deployed.ok()) << deployed.status().message();
  }

  // Each server is dialled by its pod's IP and verified by its node host.
  auto credentials = ReadOperatorTlsCredentials(*client_, ns_, "demo");
  ASSERT_TRUE(credentials.ok()) << credentials.status().message();
  const AdminClient tls_admin(5s, *credentials);
  const AdminClient plain_admin(1s);
  for (const auto& [id, s] : ById(*deploy_platform)) {
    const std::string pod = "demo-" + std::to_string(id) + "-0";
    EXPECT_EQ(s.client.tls_name, pod + ".demo-headless." + ns_ + ".svc.cluster.local");
    EXPECT_NE(s.client.host.rfind(pod, 0), 0u) << "a pod IP, not its name: " << s.client.host;
    EXPECT_TRUE(tls_admin.Srvr(s.client).ok()) << id;
    // The name is what makes it pass: the bare IP is refused.
    Endpoint bare = s.client;
    bare.tls_name.clear();
    auto refused = tls_admin.Srvr(bare);
    ASSERT_FALSE(refused.ok()) << id;
    EXPECT_NE(refused.status().message().find("does not name " + s.client.host),
              std::string::npos)
        << refused.status().message();
    // No plaintext client port answers.
    EXPECT_FALSE(plain_admin.Srvr(s.client).ok()) << id;
  }

  // Sessions are the super user's by certificate: a delete no ACL grants.
  {
    auto zk = deploy_platform->OpenSession({});
    ASSERT_TRUE(zk.ok()) << zk.status().message();
    CreateOptions read_only;
    read_only.acl = "world:anyone:r";
    ASSERT_TRUE((*zk)->Create("/tls-access", "", read_only).ok());
    ASSERT_TRUE((*zk)->Create("/tls-access/child", "x", read_only).ok());
    Status deleted = (*zk)->Delete("/tls-access", DeleteMode::kRecursive);
    EXPECT_TRUE(deleted.ok()) << deleted.message();
  }

  auto before = StatusOfDemo(spec.values);
  ASSERT_TRUE(before.ok()) << before.status().message();
  ExpectServing(*before);

  // A rolling configure: followers restarted, the leader handed off through
  // a TLS session's reconfig, every wait reading `srvr`/`mntr` over TLS.
  sets = base;
  sets.push_back("tickTime=2000");
  ChangeSpec change;
  change.name = "demo";
  change.kind = ChangeKind::kConfigure;
  change.package = DefaultPackage();
  change.target = TestValues(sets);
  change.timeout = 300s;
  auto change_platform = PlatformFor(change.target);
  ActionContext ctx{*change_platform, *store_, progress_, real_clock};
  auto changed = ApplyChange(ctx, change);
  ASSERT_TRUE(changed.ok()) << changed.status().message();
  EXPECT_NE(changed->plan_text.find("hand leadership over by reconfig"), std::string::npos)
      << changed->plan_text;
  for (const auto& [id, s] : ById(*change_platform))
    EXPECT_GE(s.running_generation, 1) << "server " << id << " was not restarted";

  auto after = StatusOfDemo(change.target);
  ASSERT_TRUE(after.ok()) << after.status().message();
  ExpectServing(*after);
  EXPECT_EQ((*after)["revision"], 2) << after->dump(2);
}

}  // namespace
}  // namespace zkpilot

int main(int argc, char** argv) {
  if (auto code = zkpilot::kubesim::RunInside(argc, argv)) return *code;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
