// zkpilot alerts, zkpilot dashboards.
#include "actions/monitoring_action.h"

#include <filesystem>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actions/cluster_actions.h"
#include "observe/alerts.h"
#include "platform/platform.h"
#include "util/files.h"
#include "util/hash.h"
#include "util/yaml_json.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;

constexpr size_t kGrafanaUidMax = 40;
constexpr char kDashboardFilePrefix[] = "grafanaDashboard";

bool MonitoringEnabled(const Values& values) {
  if (!values.Has("prometheus.enabled")) return false;
  const auto& v = values.Get("prometheus.enabled");
  return v.is_boolean() && v.get<bool>();
}

std::string MonitoringOffMessage(const std::string& name) {
  return "monitoring is off: zkpilot configure " + name + " --set prometheus.enabled=true";
}

// "<prefix>-<name>", or when that is too long for Grafana, as much of it as
// fits followed by a hash of the whole: different clusters keep different uids.
std::string GrafanaUid(const std::string& prefix, const std::string& name) {
  std::string uid = prefix + "-" + name;
  if (uid.size() <= kGrafanaUidMax) return uid;
  std::string hash = Sha256Hex(uid).substr(0, 8);
  return uid.substr(0, kGrafanaUidMax - hash.size() - 1) + "-" + hash;
}

struct Datasource {
  std::string uid, name, url;
};

// The package's dashboard, set up for one cluster (see Dashboards).
Result<std::string> DashboardForCluster(const DeclaredFile& file, const std::string& cluster, const Datasource& ds) {
  auto fail = [&](const std::string& why) {
    return Status::InvalidInput("package file " + file.path + " (" + file.name + "): " + why);
  };
  nlohmann::ordered_json dashboard = nlohmann::ordered_json::parse(file.content, nullptr, false);
  if (dashboard.is_discarded() || !dashboard.is_object()) return fail("not a JSON object (a Grafana dashboard)");
  dashboard["uid"] = GrafanaUid(dashboard.value("uid", std::string("zkpilot-dashboard")), cluster);
  dashboard["title"] = dashboard.value("title", std::string("ZooKeeper")) + " (" + cluster + ")";
  dashboard["id"] = nullptr;
  auto templating = dashboard.find("templating");
  if (templating != dashboard.end() && templating->is_object() && templating->contains("list") &&
      (*templating)["list"].is_array()) {
    for (auto& variable : (*templating)["list"]) {
      if (!variable.is_object()) continue;
      if (variable.value("type", "") == "datasource")
        variable["current"] = {{"selected", true}, {"text", ds.name}, {"value", ds.uid}};
      else if (variable.value("name", "") == "cluster")
        variable["current"] = {{"selected", true}, {"text", cluster}, {"value", cluster}};
    }
  }
  return dashboard.dump(2) + "\n";
}

std::string DatasourceYaml(const std::string& cluster, const Datasource& ds, const Values& values) {
  OrderedJson entry = {{"name", ds.name}, {"uid", ds.uid},   {"type", "prometheus"}, {"access", "proxy"},
                       {"url", ds.url},   {"isDefault", false}, {"editable", false}};
  if (values.Has("prometheus.scrapeInterval") && values.Get("prometheus.scrapeInterval").is_string())
    entry["jsonData"] = {{"timeInterval", values.Get("prometheus.scrapeInterval")}};
  OrderedJson doc = {{"apiVersion", 1}, {"datasources", OrderedJson::array({entry})}};
  // Not the default datasource: Grafana refuses two defaults, and one Grafana
  // may show several clusters.
  return fmt::format(
      "# Grafana datasource provisioning: the Prometheus of zkpilot cluster \"{}\".\n"
      "# The dashboards' `datasource` variable defaults to uid {}.\n",
      cluster, ds.uid) +
         EmitYaml(doc);
}

std::string ProviderYaml(const std::string& cluster, const std::string& dir) {
  OrderedJson provider = {{"name", "zkpilot-" + cluster},
                          {"folder", "ZooKeeper"},
                          {"type", "file"},
                          {"disableDeletion", true},
                          {"allowUiUpdates", false},
                          {"updateIntervalSeconds", 60},
                          {"options", {{"path", dir}}}};
  OrderedJson doc = {{"apiVersion", 1}, {"providers", OrderedJson::array({provider})}};
  return fmt::format(
      "# Grafana dashboard provisioning: the dashboards of zkpilot cluster \"{}\",\n"
      "# read from the directory this file was written to.\n",
      cluster) +
         EmitYaml(doc);
}

std::string Readme(const std::string& cluster, const std::string& dir, const Datasource& ds,
                   const std::vector<std::string>& dashboards, bool monitoring_on, const std::string& image) {
  std::string list;
  for (const auto& d : dashboards) list += "  " + d + "\n";
  return fmt::format(
      R"(Grafana files for the ZooKeeper cluster "{cluster}" (written by `zkpilot dashboards {cluster}`).
{off}
Dashboards (their `datasource` variable defaults to "{ds_name}", their
`cluster` variable to "{cluster}"):
{list}
datasource.yaml          Grafana datasource "{ds_name}" (uid {ds_uid}): the
                         cluster's Prometheus, {url}
dashboard-provider.yaml  loads the dashboards from {dir}

Prometheus listens on 127.0.0.1 only, so Grafana must run on this machine
(a container needs --network host).

Grafana installed from its packages (grafana-server reads
/etc/grafana/provisioning/; it must be able to read {dir}):

  sudo cp {dir}/datasource.yaml /etc/grafana/provisioning/datasources/zkpilot-{cluster}.yaml
  sudo cp {dir}/dashboard-provider.yaml /etc/grafana/provisioning/dashboards/zkpilot-{cluster}.yaml
  sudo systemctl restart grafana-server

Grafana in a container (the directory is mounted at the same path, so the
provider's path holds inside the container too):

  docker run -d --name grafana-{cluster} --network host \
    -v {dir}:{dir}:ro \
    -v {dir}/datasource.yaml:/etc/grafana/provisioning/datasources/zkpilot-{cluster}.yaml:ro \
    -v {dir}/dashboard-provider.yaml:/etc/grafana/provisioning/dashboards/zkpilot-{cluster}.yaml:ro \
    {image}

Then open http://127.0.0.1:3000 (admin/admin at first login), folder
"ZooKeeper". Without provisioning: add a Prometheus datasource with the URL
{url}, then Dashboards > New > Import and upload the dashboard JSON.
)",
      fmt::arg("cluster", cluster), fmt::arg("dir", dir), fmt::arg("ds_name", ds.name), fmt::arg("ds_uid", ds.uid),
      fmt::arg("url", ds.url), fmt::arg("list", list), fmt::arg("image", image),
      fmt::arg("off", monitoring_on ? "" : "\nNote: " + MonitoringOffMessage(cluster) + "\n"));
}

}  // namespace

std::string GrafanaDatasourceUid(const std::string& cluster) { return GrafanaUid("zkpilot", cluster); }
std::string GrafanaDatasourceName(const std::string& cluster) { return "zkpilot " + cluster; }

Result<int> Alerts(ActionContext& ctx, const std::string& name, const Package& package, bool json, std::string* out,
                   std::chrono::milliseconds timeout) {
  const std::string context = "alerts " + name;
  auto values = RevisionValues(ctx.store, name, package);
  if (!values.ok()) return values.status().WithContext(context);
  if (!MonitoringEnabled(*values)) return Status::InvalidInput(context + ": " + MonitoringOffMessage(name));
  auto prometheus = ctx.platform.AddonEndpoint("prometheus");
  if (!prometheus.ok()) return prometheus.status().WithContext(context);
  auto alerts = FetchAlerts(*prometheus, name, timeout);
  if (!alerts.ok()) return alerts.status().WithContext(context);
  *out = FormatAlerts(*alerts, json);
  return alerts->empty() ? 0 : kAlertsActiveExitCode;
}

Result<std::string> Dashboards(ActionContext& ctx, const std::string& name, const Package& package,
                               const std::string& output_dir) {
  const std::string context = "dashboards " + name;
  if (output_dir.empty()) return Status::InvalidInput(context + ": --output-dir: a directory is required");
  auto values = RevisionValues(ctx.store, name, package);
  if (!values.ok()) return values.status().WithContext(context);
  auto prometheus = ctx.platform.AddonEndpoint("prometheus");
  if (!prometheus.ok()) return prometheus.status().WithContext(context);

  const Datasource ds{GrafanaDatasourceUid(name), GrafanaDatasourceName(name), "http://" + prometheus->ToString()};
  std::error_code ec;
  std::string dir = fs::absolute(output_dir, ec).lexically_normal().string();
  if (ec) return Status::IOError(context + ": " + output_dir + ": " + ec.message());
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();

  std::vector<std::pair<std::string, std::string>> files;
  std::vector<std::string> dashboards;
  for (const DeclaredFile& file : package.files) {
    if (file.name.rfind(kDashboardFilePrefix, 0) != 0 || fs::path(file.path).extension() != ".json") continue;
    auto text = DashboardForCluster(file, name, ds);
    if (!text.ok()) return text.status().WithContext(context);
    std::string base = fs::path(file.path).filename().string();
    for (const auto& [existing, unused] : files)
      if (existing == base)
        return Status::InvalidInput(context + ": package declares two dashboards named " + base);
    files.emplace_back(base, *text);
    dashboards.push_back(base);
  }
  if (dashboards.empty())
    return Status::InvalidInput(context + ": package " + package.name +
                                " declares no Grafana dashboard (a declared file grafanaDashboard*, .json)");
  const bool monitoring_on = MonitoringEnabled(*values);
  files.emplace_back("datasource.yaml", DatasourceYaml(name, ds, *values));
  files.emplace_back("dashboard-provider.yaml", ProviderYaml(name, dir));
  // The image the package's grafana add-on runs on Kubernetes.
  std::string image = "grafana/grafana-oss";
  if (values->Has("grafana.image") && values->Get("grafana.image").is_string())
    image = values->Get("grafana.image").get<std::string>();
  files.emplace_back("README.txt", Readme(name, dir, ds, dashboards, monitoring_on, image));
  Status written = WriteDirectoryAtomically(dir, files);
  if (!written.ok()) return written.WithContext(context);

  std::string list;
  for (const auto& d : dashboards) list += (list.empty() ? "" : ", ") + d;
  return fmt::format("wrote {} to {}: datasource \"{}\" -> {}, dashboard provider, README.txt{}", list, dir,
                     ds.name, ds.url, monitoring_on ? "" : " (" + MonitoringOffMessage(name) + ")");
}

}  // namespace zkpilot
