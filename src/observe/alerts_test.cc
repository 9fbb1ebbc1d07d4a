// Alerts: parsing Prometheus's /api/v1/alerts answers, filtering, sorting and
// formatting (pure); `zkpilot alerts` / `zkpilot dashboards` on a recorded
// cluster; and FetchAlerts against a real Prometheus evaluating a rule that
// always fires.
#include "observe/alerts.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "actions/cluster_actions.h"
#include "actions/monitoring_action.h"
#include "package/package_loader.h"
#include "platform/local/paths.h"
#include "platform/local/process.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

// What Prometheus 2.x answers (shape of GET /api/v1/alerts): labels include
// alertname and the rule's labels; extra fields (value, keepFiringSince) are
// ignored.
constexpr char kPayload[] = R"({
  "status": "success",
  "data": {
    "alerts": [
      {
        "labels": {"alertname": "ZooKeeperHighLatency", "cluster": "demo", "instance": "127.0.0.1:2186",
                   "job": "zookeeper", "node": "10", "severity": "warning"},
        "annotations": {"summary": "ZooKeeper node 10 of cluster demo has high latency",
                        "description": "Average latency is 250 ms."},
        "state": "firing",
        "activeAt": "2024-05-01T09:58:00.5Z",
        "value": "2.5e+02"
      },
      {
        "labels": {"alertname": "ZooKeeperNodeDown", "cluster": "demo", "instance": "127.0.0.1:2186",
                   "job": "zookeeper", "node": "2", "severity": "critical"},
        "annotations": {"summary": "ZooKeeper node 2 of cluster demo is down",
                        "description": "Prometheus has not been able to scrape node 2."},
        "state": "pending",
        "activeAt": "2024-05-01T09:59:30.123456789Z",
        "value": "0e+00"
      },
      {
        "labels": {"alertname": "ZooKeeperNoLeader", "cluster": "demo", "severity": "critical"},
        "annotations": {"summary": "ZooKeeper cluster demo has no leader", "description": "No leader."},
        "state": "firing",
        "activeAt": "2024-05-01T11:57:00+02:00",
        "value": "3e+00",
        "keepFiringSince": "2024-05-01T10:00:00Z"
      },
      {
        "labels": {"alertname": "ZooKeeperHighLatency", "cluster": "demo", "node": "2", "severity": "warning"},
        "annotations": {"summary": "ZooKeeper node 2 of cluster demo has high latency"},
        "state": "firing",
        "activeAt": "2024-05-01T08:00:00Z",
        "value": "1.5e+02"
      },
      {
        "labels": {"alertname": "ZooKeeperLeaderElection", "cluster": "orders", "severity": "info"},
        "annotations": {"summary": "A leader election happened in cluster orders"},
        "state": "firing",
        "activeAt": "2024-04-29T07:00:00Z",
        "value": "1e+00"
      }
    ]
  }
})";

std::chrono::system_clock::time_point At(const std::string& rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : std::chrono::system_clock::time_point{};
}

std::vector<Alert> PayloadAlerts() {
  auto alerts = ParseAlertsResponse(kPayload);
  EXPECT_TRUE(alerts.ok()) << alerts.status().ToString();
  return alerts.ok() ? *alerts : std::vector<Alert>{};
}

// ---------------------------------------------------------------- parsing

TEST(AlertsParse, TakesNameStateLabelsAndAnnotations) {
  std::vector<Alert> alerts = PayloadAlerts();
  ASSERT_EQ(alerts.size(), 5u);
  const Alert& a = alerts[1];
  EXPECT_EQ(a.name, "ZooKeeperNodeDown");
  EXPECT_EQ(a.state, "pending");
  EXPECT_EQ(a.severity, "critical");
  EXPECT_EQ(a.cluster, "demo");
  EXPECT_EQ(a.node, "2");
  EXPECT_EQ(a.summary, "ZooKeeper node 2 of cluster demo is down");
  EXPECT_EQ(a.description, "Prometheus has not been able to scrape node 2.");
  EXPECT_EQ(a.active_at, "2024-05-01T09:59:30.123456789Z");
  EXPECT_EQ(a.labels.at("alertname"), "ZooKeeperNodeDown");
  EXPECT_EQ(a.labels.at("instance"), "127.0.0.1:2186");
  EXPECT_EQ(a.labels.at("job"), "zookeeper");
}

TEST(AlertsParse, ClusterWideAlertHasNoNode) {
  std::vector<Alert> alerts = PayloadAlerts();
  ASSERT_EQ(alerts.size(), 5u);
  EXPECT_EQ(alerts[2].name, "ZooKeeperNoLeader");
  EXPECT_EQ(alerts[2].node, "");
  EXPECT_EQ(alerts[2].labels.count("node"), 0u);
  EXPECT_EQ(alerts[3].description, "");  // no description annotation
}

TEST(AlertsParse, NoAlerts) {
  auto alerts = ParseAlertsResponse(R"({"status":"success","data":{"alerts":[]}})");
  ASSERT_TRUE(alerts.ok()) << alerts.status().ToString();
  EXPECT_TRUE(alerts->empty());
}

TEST(AlertsParse, BadAnswersSayWhatPrometheusSaid) {
  struct Case {
    const char* name;
    const char* body;
    const char* message_part;
  };
  const Case cases[] = {
      {"api error", R"({"status":"error","errorType":"unavailable","error":"rule manager not ready"})",
       "unavailable: rule manager not ready"},
      {"html", "<html><body>404 page not found</body></html>", "not JSON: <html>"},
      {"no data", R"({"status":"success"})", "no data.alerts"},
      {"alerts not a list", R"({"status":"success","data":{"alerts":{}}})", "no data.alerts"},
      {"alert not an object", R"({"status":"success","data":{"alerts":[1]}})", "not an object"},
      {"empty", "", "not JSON"},
  };
  for (const Case& c : cases) {
    auto alerts = ParseAlertsResponse(c.body);
    ASSERT_FALSE(alerts.ok()) << c.name;
    EXPECT_EQ(alerts.status().code(), ErrorCode::kIOError) << c.name;
    EXPECT_NE(alerts.status().message().find(c.message_part), std::string::npos)
        << c.name << ": " << alerts.status().message();
  }
}

TEST(AlertsParse, KeepsOneClusterOrAll) {
  std::vector<Alert> alerts = PayloadAlerts();
  EXPECT_EQ(AlertsOfCluster(alerts, "demo").size(), 4u);
  ASSERT_EQ(AlertsOfCluster(alerts, "orders").size(), 1u);
  EXPECT_EQ(AlertsOfCluster(alerts, "orders")[0].name, "ZooKeeperLeaderElection");
  EXPECT_TRUE(AlertsOfCluster(alerts, "dem").empty());  // exact match, not a prefix
  EXPECT_EQ(AlertsOfCluster(alerts, "").size(), 5u);
}

TEST(AlertsParse, Rfc3339Timestamps) {
  using namespace std::chrono;
  const auto base = sys_days(year(2024) / 5 / 1) + hours(10);
  EXPECT_EQ(At("2024-05-01T10:00:00Z"), base);
  EXPECT_EQ(At("2024-05-01T12:00:00+02:00"), base);
  EXPECT_EQ(At("2024-05-01T07:30:00-02:30"), base);
  EXPECT_EQ(At("2024-05-01T10:00:00.5Z"), base + milliseconds(500));
  EXPECT_EQ(At("2024-05-01T10:00:00.123456789Z"), base + nanoseconds(123456789));
  for (const char* bad : {"", "2024-05-01", "2024-05-01T10:00:00", "2024-13-01T10:00:00Z", "2024-02-30T10:00:00Z",
                          "2024-05-01T10:00:00.Z", "2024-05-01T10:00:00Zjunk", "2024-05-01T10:00:00+0200"}) {
    auto t = ParseRfc3339(bad);
    EXPECT_FALSE(t.ok()) << bad;
  }
}

// ---------------------------------------------------------------- formatting

TEST(AlertsFormat, FiringFirstThenSeverityThenNameAndNode) {
  std::vector<Alert> alerts = PayloadAlerts();
  SortAlerts(alerts);
  std::vector<std::string> order;
  for (const Alert& a : alerts) order.push_back(a.state + " " + a.name + " " + a.node);
  EXPECT_EQ(order, (std::vector<std::string>{
                       "firing ZooKeeperNoLeader ",       // critical
                       "firing ZooKeeperHighLatency 2",   // warning; node 2 before node 10
                       "firing ZooKeeperHighLatency 10",  //
                       "firing ZooKeeperLeaderElection ",  // info
                       "pending ZooKeeperNodeDown 2",     // pending after every firing alert
                   }));
}

TEST(AlertsFormat, Table) {
  std::string table = FormatAlerts(AlertsOfCluster(PayloadAlerts(), "demo"), false, At("2024-05-01T10:05:00Z"));
  EXPECT_EQ(table,
            "SEVERITY  ALERT                 STATE    NODE  SINCE  SUMMARY\n"
            "critical  ZooKeeperNoLeader     firing   -     8m0s   ZooKeeper cluster demo has no leader\n"
            "warning   ZooKeeperHighLatency  firing   2     2h5m   ZooKeeper node 2 of cluster demo has high latency\n"
            "warning   ZooKeeperHighLatency  firing   10    6m59s  ZooKeeper node 10 of cluster demo has high latency\n"
            "critical  ZooKeeperNodeDown     pending  2     5m29s  ZooKeeper node 2 of cluster demo is down\n");
}

TEST(AlertsFormat, TableShowsMissingFieldsAsDashes) {
  Alert a;
  a.name = "Custom";
  a.state = "firing";
  a.active_at = "yesterday";  // not RFC3339: shown as given
  std::string table = FormatAlerts({a}, false, At("2024-05-01T10:00:00Z"));
  EXPECT_EQ(table,
            "SEVERITY  ALERT   STATE   NODE  SINCE      SUMMARY\n"
            "-         Custom  firing  -     yesterday  -\n");
}

TEST(AlertsFormat, NoAlerts) {
  EXPECT_EQ(FormatAlerts({}, false), "no alerts firing or pending\n");
  EXPECT_EQ(FormatAlerts({}, true), "[]\n");
}

TEST(AlertsFormat, JsonIsASortedArrayOfAlerts) {
  std::string text = FormatAlerts(PayloadAlerts(), true);
  nlohmann::json j = nlohmann::json::parse(text);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 5u);
  EXPECT_EQ(j[0]["name"], "ZooKeeperNoLeader");
  EXPECT_EQ(j[0]["state"], "firing");
  EXPECT_EQ(j[0]["severity"], "critical");
  EXPECT_EQ(j[0]["cluster"], "demo");
  EXPECT_EQ(j[0]["node"], "");
  EXPECT_EQ(j[0]["active_at"], "2024-05-01T11:57:00+02:00");
  EXPECT_EQ(j[0]["summary"], "ZooKeeper cluster demo has no leader");
  EXPECT_EQ(j[0]["description"], "No leader.");
  EXPECT_EQ(j[0]["labels"]["alertname"], "ZooKeeperNoLeader");
  EXPECT_EQ(j[4]["name"], "ZooKeeperNodeDown");
  EXPECT_EQ(j[4]["state"], "pending");
}

// ---------------------------------------------------------------- helpers

// A fresh directory under the system's temporary directory, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "zkpilot-alerts-XXXXXX").string();
    char* made = ::mkdtemp(tmpl.data());
    EXPECT_NE(made, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A port nobody listens on right now (the kernel's choice).
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Records a deployed local cluster of the default package in the state under
// `home` — what `zkpilot deploy` records — without starting any server: the
// monitoring verbs only read the record.
void RecordCluster(const std::string& home, const std::string& name, const std::vector<std::string>& sets) {
  auto package = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
  ASSERT_TRUE(package.ok()) << package.status().ToString();
  ValuesInput input;
  input.sets = sets;
  auto values = ResolveValues(package->schema, input);
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  auto store = OpenState(home);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ClusterRecord record;
  record.name = name;
  record.package_dir = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";
  record.package_name = package->name;
  record.platform = "local";
  record.status = "deployed";
  record.home = ClusterHome(home, name);
  record.created_at = record.updated_at = NowMillis();
  ASSERT_TRUE((*store)->CreateCluster(record).ok());
  RevisionRecord rev;
  rev.cluster = name;
  rev.operation = "deploy";
  nlohmann::json flat = nlohmann::json::object();
  for (const auto& [k, v] : values->Flat()) flat[k] = v;
  rev.values_json = flat.dump();
  rev.package_version = package->version;
  rev.zk_version = values->Get(package->version_parameter).get<std::string>();
  rev.status = RevisionStatus::kDeployed;
  rev.started_at = rev.finished_at = NowMillis();
  auto revision = (*store)->AddRevision(rev);
  ASSERT_TRUE(revision.ok()) << revision.status().ToString();
  ASSERT_TRUE((*store)->SetClusterStatus(name, "deployed", *revision).ok());
}

// A clientPort whose monitoring block (clientPort+6: Prometheus) is `prometheus_port`.
std::string ClientPortFor(int prometheus_port) { return "clientPort=" + std::to_string(prometheus_port - 6); }

// ---------------------------------------------------------------- actions, no Prometheus

TEST(MonitoringAction, AlertsRefusedWhenMonitoringIsOff) {
  TempDir home;
  RecordCluster(home.path(), "quiet", {});
  std::string out;
  auto code = AlertsCommand(home.path(), "quiet", false, &out);
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(code.status().message(),
            "alerts quiet: monitoring is off: zkpilot configure quiet --set prometheus.enabled=true");
  EXPECT_EQ(out, "");
}

TEST(MonitoringAction, AlertsOfAnUnknownClusterIsInvalidInput) {
  TempDir home;
  std::string out;
  auto code = AlertsCommand(home.path(), "nope", false, &out);
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(code.status().message().find("no cluster named nope"), std::string::npos) << code.status().message();
}

TEST(MonitoringAction, AlertsNameThePrometheusThatDoesNotAnswer) {
  TempDir home;
  const int port = FreePort();
  ASSERT_GT(port, 6);
  RecordCluster(home.path(), "down", {"prometheus.enabled=true", ClientPortFor(port)});
  std::string out;
  auto code = AlertsCommand(home.path(), "down", false, &out, milliseconds(2000));
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.status().code(), ErrorCode::kIOError);
  EXPECT_EQ(code.status().message(), "alerts down: prometheus 127.0.0.1:" + std::to_string(port) +
                                         ": connection refused — is monitoring enabled for this cluster? "
                                         "(prometheus.enabled=true)");
}

TEST(MonitoringAction, DashboardsWriteGrafanaFilesForTheCluster) {
  TempDir home;
  RecordCluster(home.path(), "shop", {"prometheus.enabled=true", "clientPort=12181"});
  const fs::path dir = home.path() / "grafana";
  auto summary = DashboardsCommand(home.path(), "shop", dir.string());
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_NE(summary->find("zookeeper.json"), std::string::npos) << *summary;
  EXPECT_NE(summary->find("http://127.0.0.1:12187"), std::string::npos) << *summary;
  EXPECT_EQ(summary->find("monitoring is off"), std::string::npos) << *summary;

  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"README.txt", "dashboard-provider.yaml", "datasource.yaml",
                                             "zookeeper.json"}));

  // The datasource: the cluster's Prometheus, not Grafana's default.
  YAML::Node ds = YAML::LoadFile((dir / "datasource.yaml").string());
  ASSERT_EQ(ds["datasources"].size(), 1u);
  YAML::Node source = ds["datasources"][0];
  EXPECT_EQ(ds["apiVersion"].as<int>(), 1);
  EXPECT_EQ(source["type"].as<std::string>(), "prometheus");
  EXPECT_EQ(source["url"].as<std::string>(), "http://127.0.0.1:12187");
  EXPECT_EQ(source["uid"].as<std::string>(), GrafanaDatasourceUid("shop"));
  EXPECT_EQ(source["name"].as<std::string>(), GrafanaDatasourceName("shop"));
  EXPECT_FALSE(source["isDefault"].as<bool>());

  // The dashboard: variables default to that datasource and this cluster.
  nlohmann::json dashboard = nlohmann::json::parse(Slurp(dir / "zookeeper.json"));
  EXPECT_EQ(dashboard["uid"], "zkpilot-zookeeper-shop");
  EXPECT_EQ(dashboard["title"], "ZooKeeper (shop)");
  int datasource_vars = 0;
  for (const auto& v : dashboard["templating"]["list"]) {
    if (v["type"] == "datasource") {
      ++datasource_vars;
      EXPECT_EQ(v["current"]["value"], source["uid"].as<std::string>());
      EXPECT_EQ(v["current"]["text"], source["name"].as<std::string>());
      EXPECT_EQ(v["query"], "prometheus");  // the variable lists Prometheus datasources
    }
    if (v["name"] == "cluster") {
      EXPECT_EQ(v["current"]["value"], "shop");
    }
  }
  EXPECT_EQ(datasource_vars, 1);
  // Panels are unchanged: they still refer to the variable.
  nlohmann::json package_dashboard = nlohmann::json::parse(
      Slurp(fs::path(ZKPILOT_SOURCE_DIR) / "packages/zookeeper/addons/grafana/dashboards/zookeeper.json"));
  EXPECT_EQ(dashboard["panels"], package_dashboard["panels"]);

  // The provider reads the dashboards from the directory they were written to.
  YAML::Node provider = YAML::LoadFile((dir / "dashboard-provider.yaml").string());
  EXPECT_EQ(provider["providers"][0]["type"].as<std::string>(), "file");
  EXPECT_EQ(provider["providers"][0]["options"]["path"].as<std::string>(), dir.string());

  std::string readme = Slurp(dir / "README.txt");
  EXPECT_NE(readme.find("/etc/grafana/provisioning/datasources/"), std::string::npos);
  EXPECT_NE(readme.find("--network host"), std::string::npos);

  // All or nothing: a second run refuses the non-empty directory and leaves it as it was.
  auto again = DashboardsCommand(home.path(), "shop", dir.string());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(again.status().message().find("not empty"), std::string::npos) << again.status().message();
  EXPECT_EQ(nlohmann::json::parse(Slurp(dir / "zookeeper.json")), dashboard);
}

TEST(MonitoringAction, DashboardsSayWhenMonitoringIsOff) {
  TempDir home;
  RecordCluster(home.path(), "quiet", {});
  auto summary = DashboardsCommand(home.path(), "quiet", (home.path() / "out").string());
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_NE(summary->find("monitoring is off: zkpilot configure quiet --set prometheus.enabled=true"),
            std::string::npos)
      << *summary;
  EXPECT_NE(Slurp(home.path() / "out/README.txt").find("monitoring is off"), std::string::npos);
}

TEST(MonitoringAction, GrafanaUidsFitAndStayDistinctForLongNames) {
  const std::string a(40, 'a');
  const std::string b = std::string(39, 'a') + "b";
  EXPECT_EQ(GrafanaDatasourceUid("demo"), "zkpilot-demo");
  EXPECT_LE(GrafanaDatasourceUid(a).size(), 40u);
  EXPECT_LE(GrafanaDatasourceUid(b).size(), 40u);
  EXPECT_NE(GrafanaDatasourceUid(a), GrafanaDatasourceUid(b));

  TempDir home;
  RecordCluster(home.path(), a, {});
  auto summary = DashboardsCommand(home.path(), a, (home.path() / "out").string());
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  nlohmann::json dashboard = nlohmann::json::parse(Slurp(home.path() / "out/zookeeper.json"));
  EXPECT_LE(dashboard["uid"].get<std::string>().size(), 40u);
}

// ---------------------------------------------------------------- real Prometheus

// A Prometheus on a free 127.0.0.1 port with its own storage, evaluating
// every second a rule file whose alerts always hold:
//   ZkpilotTestAlwaysFiring  cluster=itest node=2 severity=critical  for 0s  -> firing
//   ZkpilotTestPending       cluster=itest        severity=warning   for 1h  -> pending
//   ZkpilotTestOtherCluster  cluster=other node=1 severity=info      for 0s  -> firing
class PrometheusIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(ZKPILOT_PROMETHEUS)) << ZKPILOT_PROMETHEUS << " (Debian: apt-get install prometheus)";
    port_ = FreePort();
    ASSERT_GT(port_, 6);
    std::ofstream(dir_.path() / "rules.yaml") << R"(groups:
  - name: zkpilot-test
    rules:
      - alert: ZkpilotTestAlwaysFiring
        expr: vector(1)
        for: 0s
        labels:
          cluster: itest
          node: "2"
          severity: critical
        annotations:
          summary: "test alert on node 2 of itest"
          description: "vector(1) always holds"
      - alert: ZkpilotTestPending
        expr: vector(1)
        for: 1h
        labels:
          cluster: itest
          severity: warning
        annotations:
          summary: "pending for an hour"
      - alert: ZkpilotTestOtherCluster
        expr: vector(1)
        for: 0s
        labels:
          cluster: other
          node: "1"
          severity: info
        annotations:
          summary: "another cluster's alert"
)";
    std::ofstream(dir_.path() / "prometheus.yml") << "global:\n"
                                                     "  scrape_interval: 1s\n"
                                                     "  evaluation_interval: 1s\n"
                                                     "rule_files:\n"
                                                     "  - rules.yaml\n";
    fs::create_directories(dir_.path() / "data");
    SpawnOptions spawn;
    spawn.argv = {ZKPILOT_PROMETHEUS,
                  "--config.file=" + (dir_.path() / "prometheus.yml").string(),
                  "--storage.tsdb.path=" + (dir_.path() / "data").string(),
                  "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                  "--log.level=warn"};
    spawn.log_path = (dir_.path() / "prometheus.log").string();
    spawn.new_session = false;
    auto pid = Spawn(spawn);
    ASSERT_TRUE(pid.ok()) << pid.status().ToString();
    pid_ = *pid;
  }

  void TearDown() override {
    if (pid_ > 0) {
      Status stopped = TerminateProcess(pid_, Marker(), seconds(10));
      EXPECT_TRUE(stopped.ok()) << stopped.ToString();
    }
  }

  // The argument that identifies our Prometheus among processes.
  std::string Marker() const { return "--storage.tsdb.path=" + (dir_.path() / "data").string(); }

  Endpoint endpoint() const { return Endpoint{"127.0.0.1", port_}; }

  // Polls FetchAlerts until `done` holds for its result (deadline 60s); fails
  // with the last result and Prometheus's log when it never does.
  std::vector<Alert> WaitForAlerts(const std::string& cluster,
                                   const std::function<bool(const std::vector<Alert>&)>& done) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(60);
    std::string last;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!ProcessAlive(pid_, Marker())) {
        ADD_FAILURE() << "prometheus exited:\n" << TailFile((dir_.path() / "prometheus.log").string(), 30);
        return {};
      }
      auto alerts = FetchAlerts(endpoint(), cluster, milliseconds(2000));
      if (alerts.ok() && done(*alerts)) return *alerts;
      last = alerts.ok() ? FormatAlerts(*alerts, false) : alerts.status().ToString();
      std::this_thread::sleep_for(milliseconds(100));
    }
    ADD_FAILURE() << "alerts never as expected; last: " << last << "\nprometheus log:\n"
                  << TailFile((dir_.path() / "prometheus.log").string(), 30);
    return {};
  }

  static const Alert* Find(const std::vector<Alert>& alerts, const std::string& name) {
    for (const Alert& a : alerts)
      if (a.name == name) return &a;
    return nullptr;
  }

  TempDir dir_;
  int port_ = 0;
  int pid_ = 0;
};

TEST_F(PrometheusIntegration, FetchesTheClustersFiringAndPendingAlerts) {
  std::vector<Alert> alerts = WaitForAlerts("itest", [](const std::vector<Alert>& a) {
    const Alert* firing = Find(a, "ZkpilotTestAlwaysFiring");
    return firing && firing->state == "firing" && Find(a, "ZkpilotTestPending");
  });
  ASSERT_EQ(alerts.size(), 2u) << FormatAlerts(alerts, false);
  const Alert* firing = Find(alerts, "ZkpilotTestAlwaysFiring");
  ASSERT_NE(firing, nullptr);
  EXPECT_EQ(firing->state, "firing");
  EXPECT_EQ(firing->cluster, "itest");
  EXPECT_EQ(firing->node, "2");
  EXPECT_EQ(firing->severity, "critical");
  EXPECT_EQ(firing->summary, "test alert on node 2 of itest");
  EXPECT_EQ(firing->description, "vector(1) always holds");
  EXPECT_EQ(firing->labels.at("alertname"), "ZkpilotTestAlwaysFiring");
  auto active = ParseRfc3339(firing->active_at);
  ASSERT_TRUE(active.ok()) << firing->active_at;
  EXPECT_LE(*active, std::chrono::system_clock::now() + seconds(5));
  const Alert* pending = Find(alerts, "ZkpilotTestPending");
  ASSERT_NE(pending, nullptr);
  EXPECT_EQ(pending->state, "pending");
  EXPECT_EQ(pending->node, "");

  // The other cluster's alert is left out, and there when asking for all.
  EXPECT_EQ(Find(alerts, "ZkpilotTestOtherCluster"), nullptr);
  auto all = FetchAlerts(endpoint(), "", milliseconds(2000));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_NE(Find(*all, "ZkpilotTestOtherCluster"), nullptr);

  // The table: firing before pending.
  std::string table = FormatAlerts(alerts, false);
  EXPECT_LT(table.find("ZkpilotTestAlwaysFiring"), table.find("ZkpilotTestPending")) << table;
}

TEST_F(PrometheusIntegration, AlertsCommandExitsThreeWhileAlertsAreActive) {
  WaitForAlerts("itest", [](const std::vector<Alert>& a) {
    const Alert* firing = Find(a, "ZkpilotTestAlwaysFiring");
    return firing && firing->state == "firing" && Find(a, "ZkpilotTestPending");
  });
  TempDir home;
  // The cluster's Prometheus port (clientPort+6) is the test's Prometheus.
  RecordCluster(home.path(), "itest", {"prometheus.enabled=true", ClientPortFor(port_)});
  std::string out;
  auto code = AlertsCommand(home.path(), "itest", false, &out);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(out.rfind("SEVERITY  ALERT", 0), 0u) << out;
  EXPECT_NE(out.find("critical  ZkpilotTestAlwaysFiring  firing   2"), std::string::npos) << out;
  EXPECT_EQ(out.find("ZkpilotTestOtherCluster"), std::string::npos) << out;

  code = AlertsCommand(home.path(), "itest", true, &out);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 3);
  nlohmann::json j = nlohmann::json::parse(out);
  ASSERT_TRUE(j.is_array());
  ASSERT_GE(j.size(), 1u);
  EXPECT_EQ(j[0]["name"], "ZkpilotTestAlwaysFiring");
  EXPECT_EQ(j[0]["labels"]["cluster"], "itest");

  // A cluster without alerts in the same Prometheus: exit 0.
  TempDir other_home;
  RecordCluster(other_home.path(), "calm", {"prometheus.enabled=true", ClientPortFor(port_)});
  code = AlertsCommand(other_home.path(), "calm", false, &out);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(out, "no alerts firing or pending\n");
}

}  // namespace
}  // namespace zkpilot
