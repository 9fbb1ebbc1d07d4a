// The Kubernetes commands that write, against a real kube-sim cluster (one
// for the whole binary, with kube_views_integration_test.cc): what the
// command line writes (the package's ConfigMaps, the ZooKeeperCluster by
// server-side apply), what it refuses before writing, and the API's errors
// as a person reads them. The operator is not part of these tests: where a
// command follows an operation, a thread of the test plays the operator's
// part, writing the status an operator writes (docs/kubernetes-crd.md), and
// a Deployment of a sleeping container stands in for the operator's.
#include "actions/kube_commands_testenv.h"

namespace zkpilot {
namespace kubetest {

KubeSim& Sim() {
  static KubeSim sim;
  return sim;
}

}  // namespace kubetest

namespace kubeclitest {
namespace {

TEST(KubeCommands, DeployWithoutTheOperatorSaysHowToInstallIt) {
  auto admin = Admin();
  const std::string ns = "g-no-operator";
  EnsureNamespace(*admin, ns);
  KubeSession session = Session(ns);
  RecordingProgress progress;
  KubeDeployRequest req;
  req.name = "demo";
  req.package_dir = kPackageDir;
  req.values.sets = {"tickTime=3000"};

  if (!CrdInstalled(*admin)) {  // this test runs first: nothing is installed yet
    auto missing = KubeDeploy(session, req, progress);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
    EXPECT_EQ(ExitCodeFor(missing.status()), 1);
    const std::string& msg = missing.status().message();
    EXPECT_NE(msg.find("the CustomResourceDefinition zookeeperclusters.zkpilot.io is missing"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("zkpilot operator manifests " + kPackageDir +
                       " | kubectl apply --server-side -f -"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("--install-operator"), std::string::npos) << msg;
    // A dry run shows what would be applied, and what is missing.
    req.dry_run = true;
    auto dry = KubeDeploy(session, req, progress);
    ASSERT_TRUE(dry.ok()) << dry.status().message();
    EXPECT_NE(dry->text.find("kind: ZooKeeperCluster"), std::string::npos) << dry->text;
    EXPECT_NE(dry->text.find("kind: ConfigMap"), std::string::npos) << dry->text;
    EXPECT_NE(dry->text.find("tickTime: 3000"), std::string::npos) << dry->text;
    EXPECT_NE(dry->text.find("validated locally only"), std::string::npos) << dry->text;
    EXPECT_NE(dry->text.find("(dry run: nothing was changed)"), std::string::npos) << dry->text;
    EXPECT_NE(dry->text.find("the zkpilot operator is not installed"), std::string::npos)
        << dry->text;
    EXPECT_EQ(dry->text.find("kind: CustomResourceDefinition"), std::string::npos) << dry->text;
    // With --install-operator, its objects come first.
    req.install_operator = true;
    auto install = KubeDeploy(session, req, progress);
    ASSERT_TRUE(install.ok()) << install.status().message();
    EXPECT_EQ(install->text.find(
                  "---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"),
              0u)
        << install->text.substr(0, 200);
    EXPECT_NE(install->text.find("kind: Deployment"), std::string::npos);
    EXPECT_NE(install->text.find("The zkpilot operator would be installed first"),
              std::string::npos);
    EXPECT_FALSE(CrdInstalled(*admin));
    req.install_operator = false;
    req.dry_run = false;
  }
  InstallCrd(*admin);
  auto no_deployment = KubeDeploy(session, req, progress);
  ASSERT_FALSE(no_deployment.ok());
  EXPECT_NE(no_deployment.status().message().find(
                "the Deployment zkpilot-system/zkpilot-operator is missing"),
            std::string::npos)
      << no_deployment.status().message();
  EXPECT_EQ(no_deployment.status().message().find("CustomResourceDefinition"), std::string::npos);

  // Bad input is refused before the cluster is even asked: exit 2.
  req.values.sets = {"replicas=0"};
  auto bad = KubeDeploy(session, req, progress);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(ExitCodeFor(bad.status()), 2);
  EXPECT_NE(bad.status().message().find("replicas"), std::string::npos) << bad.status().message();

  // Nothing was written.
  ListOptions packages;
  packages.label_selector = kLabelPackage;
  auto cms = admin->List(kube::ConfigMapResource(), ns, packages);
  ASSERT_TRUE(cms.ok());
  EXPECT_TRUE((*cms)["items"].empty());
  EXPECT_TRUE(GetObject(*admin, ns, "demo").is_null());
  EXPECT_TRUE(progress.lines.empty());
}

TEST(KubeCommands, PushingThePackageTwiceCreatesItOnce) {
  auto admin = Admin();
  const std::string ns = "g-push";
  EnsureNamespace(*admin, ns);
  auto files = ReadPackageFiles(kPackageDir);
  ASSERT_TRUE(files.ok());
  Package package = LoadedPackage();
  auto config_maps = PackageToConfigMaps(package, *files, ns);
  ASSERT_TRUE(config_maps.ok());
  auto first = PushPackageConfigMaps(*admin, *config_maps);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->created.size(), config_maps->size());
  EXPECT_TRUE(first->present.empty());
  auto second = PushPackageConfigMaps(*admin, *config_maps);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_TRUE(second->created.empty());
  EXPECT_EQ(second->present, first->created);
  for (const auto& name : first->created) {
    auto cm = admin->Get(kube::ConfigMapResource(), ns, name);
    ASSERT_TRUE(cm.ok() && cm->has_value());
    EXPECT_EQ((**cm)["immutable"], true);
    EXPECT_EQ((**cm)["metadata"]["labels"][kLabelPackage], "zookeeper");
  }
  // What the commands read back is the package, hash checked.
  ClusterSpec spec;
  spec.package = MakePackageRef(package, *files);
  auto cluster = ClusterFromJson(ClusterApplyObject("demo", ns, spec));
  ASSERT_TRUE(cluster.ok());
  auto loaded = LoadClusterPackage(*admin, *cluster);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->name, "zookeeper");
  EXPECT_EQ(loaded->version, package.version);
}

TEST(KubeCommands, DeployAppliesTheResourceAndFollowsTheOperator) {
  auto admin = Admin();
  InstallCrd(*admin);
  InstallStandInOperator(*admin);
  const std::string ns = "g-deploy";
  EnsureNamespace(*admin, ns);
  json seen_spec, seen_managers = json::array();
  {
    StandIn op([&](KubeClient& client) {
      json cluster;
      ASSERT_TRUE(
          WaitUntil(60s, [&] { return !(cluster = GetObject(client, ns, "demo")).is_null(); }));
      seen_spec = cluster["spec"];
      for (const auto& f : cluster["metadata"]["managedFields"])
        seen_managers.push_back(f["manager"]);
      const int64_t gen = cluster["metadata"]["generation"];
      json steps = {DoneStep(0, "start-node", "start server 1"),
                    DoneStep(1, "start-node", "start server 2"),
                    DoneStep(2, "start-node", "start server 3"),
                    {{"index", 3},
                     {"kind", "wait-healthy"},
                     {"description", "wait until healthy: 3 servers in quorum"},
                     {"status", "running"},
                     {"startedAt", "2024-05-01T10:00:02Z"}}};
      WriteStatus(
          client, ns, "demo",
          {{"observedGeneration", gen},
           {"phase", "Deploying"},
           {"conditions", json::array({Condition("Progressing", "True", "Deploying", gen)})},
           {"operation", Operation(1, "deploy", 1, "Running", steps)}});
      steps[3] = DoneStep(3, "wait-healthy", "wait until healthy: 3 servers in quorum",
                          "healthy: leader 2, 3/3 servers in sync");
      json op = Operation(1, "deploy", 1, "Succeeded", steps);
      WriteStatus(client, ns, "demo", HealthyStatus(gen, 1, op, json::array()));
    });
    KubeSession session = Session(ns);
    RecordingProgress progress;
    KubeDeployRequest req;
    req.name = "demo";
    req.package_dir = kPackageDir;
    req.values.sets = {"tickTime=3000"};
    req.timeout = 120s;
    auto out = KubeDeploy(session, req, progress);
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(
        out->text.rfind(
            "deployed demo (revision 1): healthy: leader 2, 3/3 servers in sync\ntime to healthy: ",
            0),
        0u)
        << out->text;
    ASSERT_FALSE(progress.lines.empty());
    EXPECT_EQ(progress.lines.back(), "[4/4] done: healthy: leader 2, 3/3 servers in sync");
    EXPECT_NE(std::find(progress.lines.begin(), progress.lines.end(),
                        "[4/4] wait until healthy: 3 servers in quorum ..."),
              progress.lines.end());
  }
  // What the command line wrote: the user's values and the new-cluster
  // defaults (pinned, so a later default cannot change this cluster), the
  // package by hash, as zkpilot-cli.
  EXPECT_EQ(seen_spec["values"], json::parse(R"({"tickTime": 3000, "tls": {"enabled": true}, "version": "3.9.3"})"));
  EXPECT_EQ(seen_spec["package"]["name"], "zookeeper");
  EXPECT_EQ(seen_spec["package"]["hash"].get<std::string>().size(), 64u);
  EXPECT_NE(std::find(seen_managers.begin(), seen_managers.end(), "zkpilot-cli"),
            seen_managers.end())
      << seen_managers;
  auto cm = admin->Get(kube::ConfigMapResource(), ns, seen_spec["package"]["configMap"]);
  ASSERT_TRUE(cm.ok() && cm->has_value());

  // The same name again: the user's mistake.
  KubeSession session = Session(ns);
  RecordingProgress progress;
  KubeDeployRequest again;
  again.name = "demo";
  again.package_dir = kPackageDir;
  auto exists = KubeDeploy(session, again, progress);
  ASSERT_FALSE(exists.ok());
  EXPECT_EQ(ExitCodeFor(exists.status()), 2);
  EXPECT_NE(exists.status().message().find("cluster demo already exists in namespace g-deploy"),
            std::string::npos)
      << exists.status().message();
}

TEST(KubeCommands, ChangesAreCheckedBeforeAnythingIsWritten) {
  auto admin = Admin();
  InstallCrd(*admin);
  const std::string ns = "g-check";
  CreateDeployedCluster(*admin, ns, "demo", {{"replicas", 3}});
  const int64_t generation = GetObject(*admin, ns, "demo")["metadata"]["generation"];
  KubeSession session = Session(ns);
  RecordingProgress progress;
  auto change = [&](KubeChangeKind kind, std::function<void(KubeChangeRequest&)> set) {
    KubeChangeRequest req;
    req.name = "demo";
    req.kind = kind;
    req.timeout = 10s;
    set(req);
    return KubeApplyChange(session, req, progress);
  };
  auto immutable = change(KubeChangeKind::kConfigure,
                          [](auto& r) { r.values.sets = {"controller=deployment"}; });
  ASSERT_FALSE(immutable.ok());
  EXPECT_EQ(ExitCodeFor(immutable.status()), 2);
  EXPECT_NE(immutable.status().message().find("controller is immutable"), std::string::npos)
      << immutable.status().message();
  auto unknown_version = change(KubeChangeKind::kUpgrade, [](auto& r) { r.version = "3.7.0"; });
  ASSERT_FALSE(unknown_version.ok());
  EXPECT_EQ(ExitCodeFor(unknown_version.status()), 2);
  EXPECT_NE(unknown_version.status().message().find(
                "has no ZooKeeper version 3.7.0 (it has: 3.8.0, 3.8.4, 3.9.3)"),
            std::string::npos)
      << unknown_version.status().message();
  auto too_few = change(KubeChangeKind::kScale, [](auto& r) { r.replicas = 0; });
  EXPECT_EQ(ExitCodeFor(too_few.status()), 2) << too_few.status().message();
  auto mixed = change(KubeChangeKind::kConfigure, [](auto& r) {
    r.values.sets = {"replicas=5", "tickTime=3000"};
  });
  EXPECT_EQ(ExitCodeFor(mixed.status()), 2) << mixed.status().message();
  auto no_earlier = change(KubeChangeKind::kRollback, [](auto&) {});
  ASSERT_FALSE(no_earlier.ok());
  EXPECT_NE(no_earlier.status().message().find("demo has no earlier revision to roll back to"),
            std::string::npos)
      << no_earlier.status().message();

  auto same =
      change(KubeChangeKind::kConfigure, [](auto& r) { r.values.sets = {"tickTime=2000"}; });
  ASSERT_TRUE(same.ok()) << same.status().message();
  EXPECT_EQ(same->text, "demo: nothing to change; nothing restarted\n");

  auto dry = change(KubeChangeKind::kUpgrade, [](auto& r) {
    r.version = "3.9.3";
    r.dry_run = true;
  });
  ASSERT_TRUE(dry.ok()) << dry.status().message();
  EXPECT_NE(dry->text.find("Changes: version: 3.8.0 -> 3.9.3\n"), std::string::npos) << dry->text;
  EXPECT_NE(dry->text.find("Plan: upgrade demo ("), std::string::npos) << dry->text;
  EXPECT_NE(dry->text.find("restart server 2 (the leader, last)"), std::string::npos) << dry->text;
  EXPECT_NE(dry->text.find("(dry run: nothing was changed)"), std::string::npos) << dry->text;

  // None of it reached the resource.
  json after = GetObject(*admin, ns, "demo");
  EXPECT_EQ(after["metadata"]["generation"], generation);
  EXPECT_EQ(after["spec"]["values"], json::parse(R"({"replicas": 3, "version": "3.8.0"})"));
  EXPECT_TRUE(progress.lines.empty());
}

TEST(KubeCommands, ConfigureWritesTheSpecAndFollowsTheOperation) {
  auto admin = Admin();
  InstallCrd(*admin);
  const std::string ns = "g-configure";
  CreateDeployedCluster(*admin, ns, "demo", {{"replicas", 3}});
  const int64_t before = GetObject(*admin, ns, "demo")["metadata"]["generation"];
  json seen;
  {
    StandIn op([&](KubeClient& client) {
      ASSERT_TRUE(WaitUntil(60s, [&] {
        return (seen = GetObject(client, ns, "demo"))["metadata"]["generation"] > before;
      }));
      const int64_t gen = seen["metadata"]["generation"];
      json steps = {DoneStep(0, "wait-healthy", "wait until healthy: the ensemble must be healthy"),
                    DoneStep(1, "prepare-node", "prepare server 1's configuration"),
                    DoneStep(2, "restart-node", "restart server 1 (follower)",
                             "healthy: leader 2, 3/3 servers in sync")};
      json history = seen["status"]["operations"];
      json op = Operation(2, "configure", 2, "Succeeded", steps);
      json summary = op;
      summary.erase("steps");
      history.push_back(summary);
      WriteStatus(client, ns, "demo", HealthyStatus(gen, 2, op, history));
    });
    KubeSession session = Session(ns);
    RecordingProgress progress;
    KubeChangeRequest req;
    req.name = "demo";
    req.kind = KubeChangeKind::kConfigure;
    req.values.sets = {"tickTime=4000"};
    req.timeout = 60s;
    auto out = KubeApplyChange(session, req, progress);
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(out->text.rfind("configure demo: revision 2 (tickTime: 2000 -> 4000)\nhealthy: "
                              "leader 2, 3/3 servers in "
                              "sync\ntook ",
                              0),
              0u)
        << out->text;
    EXPECT_EQ(progress.lines.size(), 6u);
  }
  EXPECT_EQ(seen["spec"]["values"],
            json::parse(R"({"replicas": 3, "tickTime": 4000, "version": "3.8.0"})"));
  EXPECT_EQ(seen["spec"]["package"]["name"], "zookeeper");  // the rest of the spec stays
}

TEST(KubeCommands, RollbackAfterAFailedUpgradeWritesTheRunningValuesBack) {
  auto admin = Admin();
  InstallCrd(*admin);
  const std::string ns = "g-rollback";
  CreateDeployedCluster(*admin, ns, "demo", {{"replicas", 3}});
  // An upgrade the operator failed: the spec asks for 3.9.3, revision 1 (3.8.0) still runs.
  json upgrade = {{"apiVersion", kClusterApiVersion},
                  {"kind", kClusterKind},
                  {"metadata", {{"name", "demo"}, {"namespace", ns}}},
                  {"spec", GetObject(*admin, ns, "demo")["spec"]}};
  upgrade["spec"]["values"]["version"] = "3.9.3";
  auto applied = ApplyClusterObject(*admin, upgrade, false);
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  const int64_t failed_gen = (*applied)["metadata"]["generation"];
  json failed = Operation(2, "upgrade", 2, "Failed", json::array());
  failed["error"] = "step 4/9 (restart server 1): timed out";
  WriteStatus(*admin, ns, "demo",
              {{"observedGeneration", failed_gen},
               {"phase", "Failed"},
               {"conditions",
                json::array({Condition("Ready", "True", "QuorumAvailable", failed_gen),
                             Condition("Progressing", "False", "OperationFailed", failed_gen)})},
               {"operation", failed}});
  json seen;
  {
    StandIn op([&](KubeClient& client) {
      ASSERT_TRUE(WaitUntil(60s, [&] {
        return (seen = GetObject(client, ns, "demo"))["metadata"]["generation"] > failed_gen;
      }));
      const int64_t gen = seen["metadata"]["generation"];
      // The values are those of revision 1 again: nothing to do.
      WriteStatus(client, ns, "demo",
                  {{"observedGeneration", gen},
                   {"phase", "Running"},
                   {"conditions", json::array({Condition("Ready", "True", "QuorumAvailable", gen),
                                               Condition("Progressing", "False", "Idle", gen)})}});
    });
    KubeSession session = Session(ns);
    RecordingProgress progress;
    KubeChangeRequest req;
    req.name = "demo";
    req.kind = KubeChangeKind::kRollback;
    req.timeout = 60s;
    auto out = KubeApplyChange(session, req, progress);
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(
        out->text,
        "rollback demo: the spec is back to revision 1's values; the operator had nothing to do\n");
  }
  // Revision 1's values not at their defaults - its version, 3.8.0 (the
  // default is 3.9.3) - and those deploy pins (parameters with a newClusterDefault).
  EXPECT_EQ(seen["spec"].value("values", json::object()),
            json::parse(R"({"auth": {"enabled": false}, "tls": {"enabled": false}, "version": "3.8.0"})"))
      << seen["spec"];
}

TEST(KubeCommands, AFieldAnotherManagerOwnsIsReportedNotOverridden) {
  auto admin = Admin();
  InstallCrd(*admin);
  const std::string ns = "g-conflict";
  CreateDeployedCluster(*admin, ns, "demo", {{"replicas", 3}});
  // Someone sets tickTime with kubectl (server-side apply, their own manager).
  json theirs = {{"apiVersion", kClusterApiVersion},
                 {"kind", kClusterKind},
                 {"metadata", {{"name", "demo"}, {"namespace", ns}}},
                 {"spec", {{"values", {{"tickTime", 5000}}}}}};
  auto applied = ApplyAs(*admin, theirs, "kubectl");
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  // ... and the operator has seen that generation.
  WriteStatus(*admin, ns, "demo", {{"observedGeneration", (*applied)["metadata"]["generation"]}});
  KubeSession session = Session(ns);
  RecordingProgress progress;
  KubeChangeRequest req;
  req.name = "demo";
  req.kind = KubeChangeKind::kConfigure;
  req.values.sets = {"tickTime=4000"};
  req.timeout = 10s;
  auto out = KubeApplyChange(session, req, progress);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kConflict);
  const std::string& msg = out.status().message();
  EXPECT_NE(msg.find("kubectl"), std::string::npos) << msg;
  EXPECT_NE(msg.find(".spec.values.tickTime"), std::string::npos) << msg;
  EXPECT_NE(msg.find("does not override another manager's fields"), std::string::npos) << msg;
  EXPECT_EQ(GetObject(*admin, ns, "demo")["spec"]["values"]["tickTime"], 5000);
}

TEST(KubeCommands, AMissingPermissionIsNamed) {
  auto admin = Admin();
  InstallCrd(*admin);
  const std::string ns = "g-rbac";
  CreateDeployedCluster(*admin, ns, "demo", {{"replicas", 3}});
  // A service account that may read clusters, their revisions and packages, not change them.
  ASSERT_TRUE(ApplyAs(*admin, {{"apiVersion", "v1"},
                               {"kind", "ServiceAccount"},
                               {"metadata", {{"name", "reader"}, {"namespace", ns}}}})
                  .ok());
  json role = {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "Role"},
      {"metadata", {{"name", "reader"}, {"namespace", ns}}},
      {"rules",
       {{{"apiGroups", {"zkpilot.io"}},
         {"resources", {"zookeeperclusters"}},
         {"verbs", {"get", "list", "watch"}}},
        {{"apiGroups", {""}}, {"resources", {"configmaps"}}, {"verbs", {"get"}}},
        {{"apiGroups", {"apps"}}, {"resources", {"controllerrevisions"}}, {"verbs", {"list"}}}}}};
  ASSERT_TRUE(ApplyAs(*admin, role).ok());
  json binding = {
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "RoleBinding"},
      {"metadata", {{"name", "reader"}, {"namespace", ns}}},
      {"roleRef",
       {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "reader"}}},
      {"subjects", {{{"kind", "ServiceAccount"}, {"name", "reader"}, {"namespace", ns}}}}};
  ASSERT_TRUE(ApplyAs(*admin, binding).ok());
  auto token = admin->Request("POST", "/api/v1/namespaces/" + ns + "/serviceaccounts/reader/token",
                              json{{"apiVersion", "authentication.k8s.io/v1"},
                                   {"kind", "TokenRequest"},
                                   {"spec", json::object()}});
  ASSERT_TRUE(token.ok()) << token.status().message();
  const std::string dir = kubetest::MakeTempDir("kube-cli-rbac");
  const std::string ca = kubetest::WriteFile(dir + "/ca.crt", Sim().ca_pem);
  const std::string kubeconfig = kubetest::WriteFile(
      dir + "/kubeconfig",
      fmt::format(
          "apiVersion: v1\nkind: Config\nclusters:\n- name: sim\n  cluster:\n    server: {}\n"
          "    certificate-authority: {}\nusers:\n- name: reader\n  user:\n    token: "
          "{}\ncontexts:\n"
          "- name: reader\n  context:\n    cluster: sim\n    user: reader\n    namespace: {}\n"
          "current-context: reader\n",
          Sim().server, ca, (*token)["status"]["token"].get<std::string>(), ns));
  KubeSession session = Session("", kubeconfig);
  EXPECT_EQ(session.ns, ns);  // the context's namespace

  auto status = KubeStatus(session, "demo", ViewFormat::kTable);
  ASSERT_TRUE(status.ok()) << status.status().message();
  RecordingProgress progress;
  KubeChangeRequest req;
  req.name = "demo";
  req.kind = KubeChangeKind::kConfigure;
  req.values.sets = {"tickTime=4000"};
  auto out = KubeApplyChange(session, req, progress);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kPermissionDenied);
  const std::string& msg = out.status().message();
  EXPECT_NE(msg.find("system:serviceaccount:g-rbac:reader"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cannot patch resource \"zookeeperclusters\" in API group \"zkpilot.io\""),
            std::string::npos)
      << msg;
  std::filesystem::remove_all(dir);
}

TEST(KubeCommands, AWriteTheApiAsksToRepeatIsRepeated) {
  auto admin = Admin();
  InstallCrd(*admin);
  const std::string ns = "g-retry";
  EnsureNamespace(*admin, ns);
  ClusterSpec spec;
  spec.package = {"zookeeper", "0.1.0", "zkpilot-pkg-zookeeper-0123456789ab", std::string(64, 'a')};
  spec.values = {{"replicas", 3}};
  // The first apply answered 503, the second 429 (Retry-After 1): the third goes through.
  for (int status : {503, 429}) {
    json rule = {{"method", "PATCH"},
                 {"pathRegex", "zookeeperclusters/retried"},
                 {"times", 1},
                 {"status", status}};
    if (status == 429) rule["retryAfter"] = 1;
    auto added = admin->Request("POST", "/kube-sim/faults", rule);
    ASSERT_TRUE(added.ok()) << added.status().message();
  }
  auto applied = ApplyClusterObject(*admin, ClusterApplyObject("retried", ns, spec), false);
  (void)admin->Request("DELETE", "/kube-sim/faults");
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  EXPECT_EQ(GetObject(*admin, ns, "retried")["spec"]["values"]["replicas"], 3);
}

TEST(KubeCommands, TheApiRefusingTheResourceNamesTheField) {
  auto admin = Admin();
  InstallCrd(*admin);
  const std::string ns = "g-invalid";
  EnsureNamespace(*admin, ns);
  ClusterSpec spec;
  spec.package = {"zookeeper", "0.1.0", "zkpilot-pkg-zookeeper-0123456789ab", std::string(64, 'a')};
  spec.values = {{"replicas", 0}};  // below the schema's minimum: the CRD knows it
  for (bool dry_run : {true, false}) {
    auto applied = ApplyClusterObject(*admin, ClusterApplyObject("bad", ns, spec), dry_run);
    ASSERT_FALSE(applied.ok());
    EXPECT_EQ(applied.status().code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(ExitCodeFor(applied.status()), 2);
    EXPECT_NE(applied.status().message().find("spec.values.replicas"), std::string::npos)
        << applied.status().message();
  }
  EXPECT_TRUE(GetObject(*admin, ns, "bad").is_null());
}

TEST(KubeCommands, DeleteSetsPurgeAndFollowsUntilTheOperatorLetsGo) {
  auto admin = Admin();
  InstallCrd(*admin);
  const std::string ns = "g-delete";
  CreateDeployedCluster(*admin, ns, "demo", {{"replicas", 3}}, /*finalizer=*/true);
  KubeSession session = Session(ns);
  RecordingProgress progress;
  KubeDeleteRequest req;
  req.name = "demo";
  req.purge_data = true;
  req.dry_run = true;
  auto dry = KubeDelete(session, req, progress);
  ASSERT_TRUE(dry.ok()) << dry.status().message();
  EXPECT_NE(dry->text.find("would set spec.purgeDataOnDelete=true"), std::string::npos)
      << dry->text;
  EXPECT_FALSE(GetObject(*admin, ns, "demo")["spec"].value("purgeDataOnDelete", false));

  bool purge_seen = false;
  {
    StandIn op([&](KubeClient& client) {
      json cluster;
      ASSERT_TRUE(WaitUntil(60s, [&] {
        cluster = GetObject(client, ns, "demo");
        return cluster["metadata"].contains("deletionTimestamp");
      }));
      purge_seen = cluster["spec"].value("purgeDataOnDelete", false);
      json steps = {DoneStep(0, "run-hooks", "run the delete init hooks"),
                    DoneStep(1, "tear-down", "stop every server and remove what the cluster made")};
      WriteStatus(
          client, ns, "demo",
          {{"phase", "Deleting"}, {"operation", Operation(2, "delete", 1, "Succeeded", steps)}});
      ASSERT_TRUE(client
                      .MergePatch(kube::ClusterResource(), ns, "demo",
                                  {{"metadata", {{"finalizers", nullptr}}}})
                      .ok());
    });
    req.dry_run = false;
    req.timeout = 60s;
    auto out = KubeDelete(session, req, progress);
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(out->text.rfind("deleted demo (namespace g-delete); its data was deleted\n", 0), 0u)
        << out->text;
  }
  EXPECT_TRUE(purge_seen);
  // The steps are printed when the command saw them before the object went
  // (the stand-in may finish before the command's first read).
  if (!progress.lines.empty()) {
    EXPECT_EQ(progress.lines.size(), 4u);
  }
  EXPECT_TRUE(GetObject(*admin, ns, "demo").is_null());
}

TEST(KubeCommands, ResumeFollowsTheRunningOperationOrSaysThereIsNone) {
  auto admin = Admin();
  InstallCrd(*admin);
  const std::string ns = "g-resume";
  CreateDeployedCluster(*admin, ns, "demo", {{"replicas", 3}});
  KubeSession session = Session(ns);
  RecordingProgress progress;
  auto none = KubeResume(session, {"demo", 10s}, progress);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(ExitCodeFor(none.status()), 2);
  EXPECT_NE(none.status().message().find("demo has no interrupted operation to resume"),
            std::string::npos);

  // A restart the operator is in the middle of.
  json cluster = GetObject(*admin, ns, "demo");
  json steps = {DoneStep(0, "wait-healthy", "wait until healthy"),
                DoneStep(1, "restart-node", "restart server 1 (follower)"),
                {{"index", 2},
                 {"kind", "restart-node"},
                 {"description", "restart server 3 (follower)"},
                 {"status", "running"},
                 {"startedAt", "2024-05-01T10:00:02Z"}}};
  WriteStatus(*admin, ns, "demo", {{"operation", Operation(2, "restart", 1, "Running", steps)}});
  std::atomic<bool> following{false};
  session.note = [&](const std::string&) { following = true; };
  {
    StandIn op([&](KubeClient& client) {
      ASSERT_TRUE(WaitUntil(30s, [&] { return following.load(); }));
      json done = steps;
      done[2] = DoneStep(2, "restart-node", "restart server 3 (follower)",
                         "healthy: leader 2, 3/3 servers in sync");
      WriteStatus(client, ns, "demo",
                  {{"operation", Operation(2, "restart", 1, "Succeeded", done)}});
    });
    KubeResumeRequest req{"demo", 60s};
    auto out = KubeResume(session, req, progress);
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(
        out->text.rfind(
            "resumed demo: revision 1 done\nhealthy: leader 2, 3/3 servers in sync\ntook ", 0),
        0u)
        << out->text;
  }
  // Only what was left is printed.
  EXPECT_EQ(progress.lines,
            (std::vector<std::string>{"[3/3] restart server 3 (follower) ...",
                                      "[3/3] done: healthy: leader 2, 3/3 servers in sync"}));
}

TEST(KubeCommands, ResumeAfterAFailedOperationFollowsTheOperatorsRetry) {
  auto admin = Admin();
  InstallCrd(*admin);
  const std::string ns = "g-resume-failed";
  CreateDeployedCluster(*admin, ns, "demo", {{"replicas", 3}});
  // A configure the operator failed (an API that never answered): the spec
  // still asks for it, so the operator's next reconcile tries it again.
  json steps = {DoneStep(0, "wait-healthy", "wait until healthy"),
                {{"index", 1},
                 {"kind", "restart-node"},
                 {"description", "restart server 1 (follower)"},
                 {"status", "failed"},
                 {"startedAt", "2024-05-01T10:00:02Z"}}};
  json failed = Operation(2, "configure", 2, "Failed", steps);
  failed["error"] = "step 2/2 (restart server 1 (follower)): apply StatefulSet demo-1: no answer";
  WriteStatus(*admin, ns, "demo", {{"operation", failed}});
  KubeSession session = Session(ns);
  std::atomic<bool> following{false};
  std::string note;
  session.note = [&](const std::string& n) {
    note = n;
    following = true;
  };
  RecordingProgress progress;
  {
    StandIn op([&](KubeClient& client) {
      ASSERT_TRUE(WaitUntil(30s, [&] { return following.load(); }));
      // The retry: operation 3, planned from the ensemble as it is now.
      json retry = {DoneStep(0, "wait-healthy", "wait until healthy"),
                    DoneStep(1, "restart-node", "restart server 1 (follower)",
                             "healthy: leader 2, 3/3 servers in sync")};
      WriteStatus(client, ns, "demo", {{"operation", Operation(3, "configure", 2, "Succeeded", retry)}});
    });
    auto out = KubeResume(session, {"demo", 60s}, progress);
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(out->text.rfind("resumed demo: revision 2 done\n", 0), 0u) << out->text;
  }
  EXPECT_NE(note.find("the retry of configure demo (operation 2 failed: step 2/2"), std::string::npos)
      << note;
}

}  // namespace
}  // namespace kubeclitest
}  // namespace zkpilot

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new zkpilot::kubetest::KubeSimEnvironment);
  return RUN_ALL_TESTS();
}
