#include "actions/kube_cluster_view.h"

#include <gtest/gtest.h>

namespace zkpilot {
namespace {

using nlohmann::json;

// A ZooKeeperCluster as the operator leaves it mid-upgrade: 3 servers,
// server 1 already on 3.9.3, server 2 restarting.
json UpgradingCluster() {
  return json::parse(R"json({
    "apiVersion": "zkpilot.io/v1alpha1", "kind": "ZooKeeperCluster",
    "metadata": {"name": "demo", "namespace": "prod", "generation": 3, "creationTimestamp": "2024-05-01T10:00:00Z"},
    "spec": {"package": {"name": "zookeeper", "version": "0.1.0", "configMap": "zkpilot-pkg-zookeeper-0123456789ab",
                         "hash": "0123456789ab"},
             "values": {"replicas": 3, "version": "3.9.3"}},
    "status": {
      "observedGeneration": 3, "phase": "Updating", "currentRevision": 2, "currentVersion": "3.8.0",
      "targetVersion": "3.9.3", "replicas": 3, "readyReplicas": 2, "leader": 3,
      "conditions": [
        {"type": "Ready", "status": "True", "reason": "QuorumAvailable", "message": "leader 3, 2/3 in sync",
         "lastTransitionTime": "2024-05-01T10:01:00Z"},
        {"type": "Degraded", "status": "True", "reason": "ServersUnhealthy", "message": "server 2 is restarting",
         "lastTransitionTime": "2024-05-01T10:05:00Z"},
        {"type": "Progressing", "status": "True", "reason": "Upgrading", "message": "version: 3.8.0 -> 3.9.3",
         "lastTransitionTime": "2024-05-01T10:04:00Z"}],
      "members": [
        {"id": 1, "role": "follower", "version": "3.9.3", "zxid": "0x200000001", "ready": true, "pod": "demo-1-0", "restarts": 0},
        {"id": 2, "role": "", "version": "3.8.0", "zxid": "", "ready": false, "pod": "demo-2-0", "restarts": 1},
        {"id": 3, "role": "leader", "version": "3.8.0", "zxid": "0x200000001", "ready": true, "pod": "demo-3-0", "restarts": 0}],
      "operation": {"id": 4, "type": "upgrade", "revision": 3, "phase": "Running", "error": "",
                    "startedAt": "2024-05-01T10:04:00Z",
        "steps": [
          {"index": 0, "kind": "wait-healthy", "description": "wait until healthy: before", "status": "done",
           "detail": "healthy: leader 3, 3/3 servers in sync", "startedAt": "2024-05-01T10:04:00Z", "finishedAt": "2024-05-01T10:04:01Z"},
          {"index": 1, "kind": "restart-node", "description": "restart server 1 (follower)", "status": "done",
           "detail": "back in sync", "startedAt": "2024-05-01T10:04:01Z", "finishedAt": "2024-05-01T10:04:31Z"},
          {"index": 2, "kind": "restart-node", "description": "restart server 2 (follower)", "status": "running",
           "startedAt": "2024-05-01T10:04:31Z"},
          {"index": 3, "kind": "restart-node", "description": "restart server 3 (the leader, last)", "status": "pending"}]},
      "operations": [
        {"id": 1, "type": "deploy", "revision": 1, "phase": "Succeeded", "startedAt": "2024-05-01T10:00:00Z",
         "finishedAt": "2024-05-01T10:00:40Z"},
        {"id": 2, "type": "configure", "revision": 2, "phase": "Succeeded", "startedAt": "2024-05-01T10:02:00Z",
         "finishedAt": "2024-05-01T10:02:05Z"},
        {"id": 3, "type": "upgrade", "revision": 3, "phase": "Failed", "error": "step 2/4 (restart server 1): timed out",
         "startedAt": "2024-05-01T10:03:00Z", "finishedAt": "2024-05-01T10:03:30Z"}]
    }})json");
}

ZooKeeperCluster Parse(const json& j) {
  auto c = ClusterFromJson(j);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return *c;
}

TEST(KubeClusterView, StatusDataKeepsTheLocalKeys) {
  auto s = ClusterStatusView(Parse(UpgradingCluster()));
  EXPECT_EQ(s["name"], "demo");
  EXPECT_EQ(s["namespace"], "prod");
  EXPECT_EQ(s["platform"], "kubernetes");
  EXPECT_EQ(s["status"], "Updating");
  EXPECT_EQ(s["revision"], 2);
  EXPECT_EQ(s["package"], "zookeeper 0.1.0");
  EXPECT_EQ(s["version"], "3.8.0");
  EXPECT_EQ(s["target_version"], "3.9.3");
  EXPECT_EQ(s["healthy"], false);  // Degraded
  EXPECT_EQ(s["quorum"], true);
  EXPECT_EQ(s["leader"], 3);
  ASSERT_EQ(s["nodes"].size(), 3u);
  EXPECT_EQ(s["nodes"][1]["role"], "down");
  EXPECT_EQ(s["nodes"][1]["ready"], false);
  EXPECT_EQ(s["nodes"][1]["restarts"], 1);
  EXPECT_EQ(s["conditions"][1]["type"], "Degraded");
  EXPECT_EQ(s["conditions"][1]["status"], "True");
  EXPECT_EQ(s["operation"]["type"], "upgrade");
  EXPECT_EQ(s["operation"]["steps_done"], 2);
  EXPECT_EQ(s["operation"]["steps_total"], 4u);
  EXPECT_EQ(s["operation"]["steps"][2]["status"], "running");
  EXPECT_EQ(s["operation"]["steps"][1]["duration_ms"], 30000);
}

TEST(KubeClusterView, SummaryNamesWhatIsWrong) {
  auto s = ClusterStatusView(Parse(UpgradingCluster()));
  const std::string summary = s["summary"];
  EXPECT_EQ(summary.rfind("degraded: leader 3, 2/3 servers ready", 0), 0u) << summary;
  EXPECT_NE(summary.find("server 2 is restarting"), std::string::npos) << summary;
  EXPECT_NE(summary.find("server 2: not ready (pod demo-2-0)"), std::string::npos) << summary;
}

TEST(KubeClusterView, HealthyNeedsReadyAndNotDegraded) {
  json j = UpgradingCluster();
  EXPECT_FALSE(ClusterHealthy(Parse(j)));
  j["status"]["conditions"][1]["status"] = "False";
  EXPECT_TRUE(ClusterHealthy(Parse(j)));
  j["status"]["conditions"][0]["status"] = "False";
  EXPECT_FALSE(ClusterHealthy(Parse(j)));
  EXPECT_EQ(ClusterStatusView(Parse(j))["summary"].get<std::string>().rfind(
                "no quorum: 2/3 servers ready", 0),
            0u);
  j["status"]["conditions"] = json::array();
  EXPECT_FALSE(ClusterHealthy(Parse(j)));  // not observed: not healthy
}

TEST(KubeClusterView, TableHasTheServersConditionsAndRunningSteps) {
  const std::string table =
      FormatClusterStatus(ClusterStatusView(Parse(UpgradingCluster())), ViewFormat::kTable);
  EXPECT_EQ(
      table.rfind(
          "Cluster demo (kubernetes, namespace prod, zookeeper 0.1.0, ZooKeeper 3.8.0 -> 3.9.3, "
          "revision 2, Updating)\ndegraded: leader 3",
          0),
      0u)
      << table;
  EXPECT_NE(table.find("ID  ROLE      READY  VERSION  ZXID         RESTARTS  POD\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("1   follower  yes    3.9.3    0x200000001  0         demo-1-0\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("2   down      no     3.8.0    -            1         demo-2-0\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("CONDITION    STATUS  REASON            MESSAGE\n"), std::string::npos)
      << table;
  EXPECT_NE(table.find("Operation 4: upgrade (revision 3), Running, 2/4 steps done\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("  3. [running] restart server 2 (follower)\n"), std::string::npos) << table;
  EXPECT_NE(table.find("  4. [pending] restart server 3 (the leader, last)\n"), std::string::npos)
      << table;
}

TEST(KubeClusterView, JsonAndYamlAreTheData) {
  auto s = ClusterStatusView(Parse(UpgradingCluster()));
  EXPECT_EQ(json::parse(FormatClusterStatus(s, ViewFormat::kJson)), json::parse(s.dump()));
  const std::string yaml = FormatClusterStatus(s, ViewFormat::kYaml);
  EXPECT_NE(yaml.find("name: demo\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("platform: kubernetes\n"), std::string::npos) << yaml;
}

TEST(KubeClusterView, AClusterWithoutStatusSaysTheOperatorHasNotSeenIt) {
  json j = UpgradingCluster();
  j.erase("status");
  auto s = ClusterStatusView(Parse(j));
  EXPECT_EQ(s["status"], "Pending");
  EXPECT_EQ(s["version"], "3.9.3");  // from the spec until the operator reports
  EXPECT_NE(s["summary"].get<std::string>().find("is it running?"), std::string::npos);
  EXPECT_TRUE(s["operation"].is_null());
  const std::string table = FormatClusterStatus(s, ViewFormat::kTable);
  EXPECT_EQ(table.find("Operation"), std::string::npos) << table;
}

TEST(KubeClusterView, ListRowsAndEmptyList) {
  EXPECT_EQ(FormatClusterList({}, ViewFormat::kTable),
            "no clusters (zkpilot deploy NAME PACKAGE --platform kubernetes creates one)\n");
  EXPECT_EQ(FormatClusterList({}, ViewFormat::kJson), "[]\n");
  const std::string table = FormatClusterList({Parse(UpgradingCluster())}, ViewFormat::kTable);
  EXPECT_EQ(table.rfind("NAME  NAMESPACE  STATUS    SERVERS    VERSION  REVISION  OPERATION  "
                        "PACKAGE          CREATED\n",
                        0),
            0u)
      << table;
  EXPECT_NE(table.find("demo  prod       Updating  2/3 ready  3.8.0    2         upgrade    "
                       "zookeeper 0.1.0  2024-05-01"),
            std::string::npos)
      << table;
  auto data = json::parse(FormatClusterList({Parse(UpgradingCluster())}, ViewFormat::kJson));
  EXPECT_EQ(data[0]["name"], "demo");
  EXPECT_EQ(data[0]["ready"], 2);
  EXPECT_EQ(data[0]["operation"], "upgrade");
}

RevisionRecord Revision(int n, const std::string& op, RevisionStatus status,
                        const std::string& values, const std::string& version, int64_t started,
                        int64_t finished, const std::string& message = "") {
  RevisionRecord r;
  r.cluster = "demo";
  r.revision = n;
  r.operation = op;
  r.status = status;
  r.values_json = values;
  r.zk_version = version;
  r.package_version = "0.1.0";
  r.started_at = started;
  r.finished_at = finished;
  r.message = message;
  return r;
}

TEST(KubeClusterView, HistoryShowsEachRevisionsChangesAndTheOperations) {
  const int64_t t0 = 1714557600000;  // 2024-05-01T10:00:00Z
  std::vector<RevisionRecord> revisions = {
      // Out of order on purpose: the API lists by name.
      Revision(3, "upgrade", RevisionStatus::kPending,
               R"({"replicas":3,"tickTime":3000,"version":"3.9.3"})", "3.9.3", t0 + 240000, 0),
      Revision(1, "deploy", RevisionStatus::kSuperseded,
               R"({"replicas":3,"tickTime":2000,"version":"3.8.0"})", "3.8.0", t0, t0 + 40000),
      Revision(2, "configure", RevisionStatus::kDeployed,
               R"({"replicas":3,"tickTime":3000,"version":"3.8.0"})", "3.8.0", t0 + 120000,
               t0 + 125000),
  };
  const ZooKeeperCluster c = Parse(UpgradingCluster());
  const std::string table = FormatClusterHistory(c, revisions, ViewFormat::kTable);
  const size_t r1 = table.find("\n1 "), r2 = table.find("\n2* "), r3 = table.find("\n3 ");
  ASSERT_NE(r1, std::string::npos) << table;
  ASSERT_NE(r2, std::string::npos) << table;
  ASSERT_NE(r3, std::string::npos) << table;
  EXPECT_LT(r1, r2);
  EXPECT_LT(r2, r3);
  EXPECT_NE(table.find("configure  deployed    3.8.0"), std::string::npos) << table;
  EXPECT_NE(table.find("5.0s      tickTime: 2000 -> 3000"), std::string::npos) << table;
  EXPECT_NE(table.find("version: 3.8.0 -> 3.9.3"), std::string::npos) << table;
  // The operations, the running one included.
  EXPECT_NE(table.find("OPERATION  TYPE       REVISION  PHASE"), std::string::npos) << table;
  EXPECT_NE(table.find("step 2/4 (restart server 1): timed out"), std::string::npos) << table;
  EXPECT_NE(table.find("\n4          upgrade    3         Running"), std::string::npos) << table;

  auto data = json::parse(FormatClusterHistory(c, revisions, ViewFormat::kJson));
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data[1]["revision"], 2);
  EXPECT_EQ(data[1]["current"], true);
  EXPECT_EQ(data[1]["changes"]["tickTime"]["from"], 2000);
  EXPECT_EQ(data[1]["changes"]["tickTime"]["to"], 3000);
  EXPECT_EQ(data[1]["duration_ms"], 5000);
  ASSERT_EQ(data[2]["operations"].size(), 2u);  // the failed upgrade and the running one
  EXPECT_EQ(data[2]["operations"][0]["phase"], "Failed");
  EXPECT_EQ(data[2]["operations"][1]["phase"], "Running");
}

TEST(KubeClusterView, HistoryOfAClusterNotDeployedYet) {
  json j = UpgradingCluster();
  j.erase("status");
  EXPECT_EQ(FormatClusterHistory(Parse(j), {}, ViewFormat::kTable),
            "no revisions yet (the operator records the first when it deploys the cluster)\n");
  EXPECT_EQ(FormatClusterHistory(Parse(j), {}, ViewFormat::kJson), "[]\n");
}

}  // namespace
}  // namespace zkpilot
