// The Kubernetes commands that read — status, list, history, logs, alerts —
// against the kube-sim cluster of the test binary
// (kube_commands_integration_test.cc), from what an operator would have
// written, pods that stand in for servers, and the Prometheus add-on.
#include "actions/kube_commands_testenv.h"

namespace zkpilot::kubeclitest {
namespace {

TEST(KubeCommands, StatusListAndHistoryReadWhatTheOperatorWrote) {
  auto admin = Admin();
  InstallCrd(*admin);
  const std::string ns = "g-views";
  CreateDeployedCluster(*admin, ns, "views", {{"replicas", 3}});
  KubeSession session = Session(ns);

  auto status = KubeStatus(session, "views", ViewFormat::kTable);
  ASSERT_TRUE(status.ok()) << status.status().message();
  EXPECT_EQ(status->exit_code, 0);
  EXPECT_EQ(status->text.rfind(
                "Cluster views (kubernetes, namespace g-views, zookeeper 0.1.0, ZooKeeper 3.8.0, "
                "revision 1, Running)\nhealthy: leader 2, 3/3 servers ready\n",
                0),
            0u)
      << status->text;
  EXPECT_NE(status->text.find("2   leader    yes    3.8.0    0x100000003  0         demo-2-0"),
            std::string::npos)
      << status->text;
  auto as_json = KubeStatus(session, "views", ViewFormat::kJson);
  ASSERT_TRUE(as_json.ok());
  auto data = json::parse(as_json->text);
  EXPECT_EQ(data["platform"], "kubernetes");
  EXPECT_EQ(data["healthy"], true);

  // A degraded cluster: exit 3, as locally.
  json cluster = GetObject(*admin, ns, "views");
  const int64_t gen = cluster["metadata"]["generation"];
  json conditions = cluster["status"]["conditions"];
  conditions[1] = Condition("Degraded", "True", "ServersUnhealthy", gen, "server 3 is not in sync");
  WriteStatus(*admin, ns, "views", {{"conditions", conditions}});
  auto degraded = KubeStatus(session, "views", ViewFormat::kTable);
  ASSERT_TRUE(degraded.ok());
  EXPECT_EQ(degraded->exit_code, 3);
  EXPECT_NE(degraded->text.find("degraded: leader 2"), std::string::npos) << degraded->text;

  auto list = KubeList(session, ViewFormat::kTable);
  ASSERT_TRUE(list.ok()) << list.status().message();
  EXPECT_NE(list->text.find("views  g-views    Running  3/3 ready  3.8.0    1"), std::string::npos)
      << list->text;
  auto everywhere = KubeList(session, ViewFormat::kJson, /*all_namespaces=*/true);
  ASSERT_TRUE(everywhere.ok());
  bool found = false;
  for (const auto& c : json::parse(everywhere->text))
    found = found || (c["name"] == "views" && c["namespace"] == ns);
  EXPECT_TRUE(found) << everywhere->text;

  // A second revision, as a configure leaves it.
  auto revisions = ListClusterRevisions(*admin, *ClusterFromJson(cluster));
  ASSERT_TRUE(revisions.ok() && revisions->size() == 1u);
  RevisionRecord r2 = (*revisions)[0];
  json values = json::parse(r2.values_json);
  values["tickTime"] = 3000;
  r2.revision = 2;
  r2.operation = "configure";
  r2.values_json = values.dump();
  r2.started_at += 60000;
  r2.finished_at = r2.started_at + 5000;
  auto object = RevisionToControllerRevision(
      r2, {"views", ns, cluster["metadata"]["uid"].get<std::string>()});
  ASSERT_TRUE(object.ok());
  ASSERT_TRUE(admin->Create(kube::ControllerRevisionResource(), ns, *object).ok());
  WriteStatus(*admin, ns, "views", {{"currentRevision", 2}});
  auto history = KubeHistory(session, "views", ViewFormat::kTable);
  ASSERT_TRUE(history.ok()) << history.status().message();
  EXPECT_NE(history->text.find("\n1         deploy"), std::string::npos) << history->text;
  EXPECT_NE(history->text.find("\n2*        configure  deployed  3.8.0"), std::string::npos)
      << history->text;
  EXPECT_NE(history->text.find("5.0s      tickTime: 2000 -> 3000"), std::string::npos)
      << history->text;
  EXPECT_NE(history->text.find("\n1          deploy  1         Succeeded"), std::string::npos)
      << history->text;

  // A cluster that does not exist: exit 2, for every command.
  for (auto result : {KubeStatus(session, "nosuch", ViewFormat::kTable),
                      KubeHistory(session, "nosuch", ViewFormat::kTable)}) {
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(ExitCodeFor(result.status()), 2);
    EXPECT_NE(
        result.status().message().find("no ZooKeeperCluster named nosuch in namespace g-views"),
        std::string::npos)
        << result.status().message();
  }
  RecordingProgress progress;
  KubeChangeRequest change;
  change.name = "nosuch";
  change.kind = KubeChangeKind::kRestart;
  EXPECT_EQ(ExitCodeFor(KubeApplyChange(session, change, progress).status()), 2);
  EXPECT_EQ(ExitCodeFor(KubeDelete(session, {"nosuch", false, false, 10s}, progress).status()), 2);
  EXPECT_EQ(ExitCodeFor(KubeResume(session, {"nosuch", 10s}, progress).status()), 2);
}

TEST(KubeCommands, AnUnreachableApiIsNamed) {
  // A port nothing listens on: bound, then closed.
  const std::string dir = kubetest::MakeTempDir("kube-cli-unreachable");
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  const std::string server = fmt::format("https://127.0.0.1:{}", ntohs(addr.sin_port));
  const std::string kubeconfig = kubetest::WriteFile(
      dir + "/kubeconfig",
      fmt::format(
          "apiVersion: v1\nkind: Config\nclusters:\n- name: gone\n  cluster:\n    server: {}\n"
          "users:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: gone\n  context:\n    "
          "cluster: gone\n"
          "    user: u\ncurrent-context: gone\n",
          server));
  KubeSession session = Session("default", kubeconfig);
  auto status = KubeStatus(session, "demo", ViewFormat::kTable);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(ExitCodeFor(status.status()), 1);
  EXPECT_NE(status.status().message().find(server + " unreachable"), std::string::npos)
      << status.status().message();
  EXPECT_NE(status.status().message().find("--kubeconfig"), std::string::npos)
      << status.status().message();
  std::filesystem::remove_all(dir);
}

TEST(KubeCommands, LogsReadEachServersPodAndFollowARestartedOne) {
  auto admin = Admin();
  InstallCrd(*admin);
  const std::string ns = "g-logs";
  CreateDeployedCluster(*admin, ns, "demo", {{"replicas", 3}});
  ASSERT_TRUE(ApplyAs(*admin, ServerPod(ns, "demo", 1,
                                        "echo 'one: boot'; echo 'one: ready'; exec sleep 3600"))
                  .ok());
  ASSERT_TRUE(
      ApplyAs(*admin, ServerPod(ns, "demo", 2, "echo \"two: boot $(date +%s%N)\"; sleep 1; exit 1"))
          .ok());
  KubeSession session = Session(ns);
  auto read = [&](int node) {
    std::vector<std::string> lines;
    Status s = KubeLogs(session, {"demo", node, false, std::nullopt}, [&](const std::string& line) {
      lines.push_back(line);
      return true;
    });
    EXPECT_TRUE(s.ok() || s.code() == ErrorCode::kInvalidInput)
        << s.message();  // not started yet: 400
    return lines;
  };
  ASSERT_TRUE(WaitUntil(60s, [&] { return read(1).size() == 2u; }));
  EXPECT_EQ(read(1), (std::vector<std::string>{"one: boot", "one: ready"}));
  ASSERT_TRUE(WaitUntil(60s, [&] {
    auto all = read(0);
    return std::find(all.begin(), all.end(), "[server 1] one: ready") != all.end() &&
           std::any_of(all.begin(), all.end(),
                       [](const auto& l) { return l.rfind("[server 2] two: boot ", 0) == 0; });
  }));

  // Server 3 is a member without a pod; 7 is no server of the cluster.
  auto none =
      KubeLogs(session, {"demo", 3, false, std::nullopt}, [](const std::string&) { return true; });
  EXPECT_EQ(none.code(), ErrorCode::kNotFound) << none.message();
  auto unknown =
      KubeLogs(session, {"demo", 7, false, std::nullopt}, [](const std::string&) { return true; });
  EXPECT_EQ(ExitCodeFor(unknown), 2);
  EXPECT_EQ(unknown.message(), "cluster demo has no server 7");

  // Following server 2 goes on past its container's restart.
  std::vector<std::string> followed;
  std::promise<Status> done;
  auto finished = done.get_future();
  std::thread follower([&] {
    done.set_value(KubeLogs(session, {"demo", 2, true, std::nullopt}, [&](const std::string& line) {
      followed.push_back(line);
      return std::count_if(followed.begin(), followed.end(),
                           [](const auto& l) { return l.rfind("two: boot ", 0) == 0; }) < 2;
    }));
  });
  if (finished.wait_for(120s) != std::future_status::ready) {
    follower.detach();
    FAIL() << "logs -f did not see server 2 start twice";
  }
  follower.join();
  EXPECT_TRUE(finished.get().ok());
  ASSERT_EQ(followed.size(), 2u);
  EXPECT_NE(followed[0], followed[1]);  // two containers, each printed once
}

TEST(KubeCommands, AlertsComeFromThePrometheusAddonThroughTheServiceProxy) {
  auto admin = Admin();
  InstallCrd(*admin);
  const std::string ns = "g-alerts";
  CreateDeployedCluster(*admin, ns, "off", {{"replicas", 3}});
  KubeSession session = Session(ns);
  auto off = KubeAlerts(session, {"off", false});
  ASSERT_FALSE(off.ok());
  EXPECT_EQ(ExitCodeFor(off.status()), 2);
  EXPECT_NE(off.status().message().find("monitoring is off"), std::string::npos)
      << off.status().message();

  const json values = {{"replicas", 3}, {"prometheus", {{"enabled", true}}}};
  CreateDeployedCluster(*admin, ns, "mon", values);
  // The add-on's objects, as the operator would apply them.
  Package package = LoadedPackage();
  auto resolved = ResolveSpecValues(package.schema, values);
  ASSERT_TRUE(resolved.ok());
  RenderOptions render;
  render.cluster_name = "mon";
  render.namespace_name = ns;
  auto objects = RenderManifests(package, *resolved, render);
  ASSERT_TRUE(objects.ok()) << objects.status().message();
  for (const auto& o : *objects)
    if (o.source.rfind("addons/prometheus/", 0) == 0) {
      auto applied = ApplyAs(*admin, json::parse(o.body.dump()), "zkpilot");
      ASSERT_TRUE(applied.ok()) << o.kind << " " << o.name << ": " << applied.status().message();
    }
  ListOptions prometheus;
  prometheus.label_selector =
      "app.kubernetes.io/instance=mon,app.kubernetes.io/component=prometheus";
  ASSERT_TRUE(WaitUntil(180s, [&] {
    auto pods = admin->List(kube::PodResource(), ns, prometheus);
    if (!pods.ok() || (*pods)["items"].empty()) return false;
    for (const auto& c : (*pods)["items"][0]["status"].value("conditions", json::array()))
      if (c["type"] == "Ready" && c["status"] == "True") return true;
    return false;
  })) << "Prometheus did not become ready";
  // Ready is not yet serving the API everywhere: the first answer may take a moment.
  Result<KubeOutput> alerts = Status::Internal("not asked");
  ASSERT_TRUE(WaitUntil(60s, [&] {
    return (alerts = KubeAlerts(session, {"mon", true})).ok();
  })) << alerts.status().message();
  auto list = json::parse(alerts->text);
  EXPECT_TRUE(list.is_array()) << alerts->text;
  EXPECT_EQ(alerts->exit_code, list.empty() ? 0 : 3);
  auto table = KubeAlerts(session, {"mon", false});
  ASSERT_TRUE(table.ok()) << table.status().message();
  if (list.empty()) {
    EXPECT_EQ(table->text, "no alerts firing or pending\n");
  }
}

}  // namespace
}  // namespace zkpilot::kubeclitest
