// zkpilot status, list, history, logs: read-only views of local clusters.
#include <cstdio>
#include <sstream>

#include <fmt/format.h>

#include "actions/cluster_actions.h"
#include "observe/health.h"
#include "platform/local/paths.h"
#include "platform/local/process.h"
#include "platform/local/services.h"
#include "platform/local/supervisor.h"
#include "util/yaml_json.h"

namespace zkpilot {
namespace {

using OJson = nlohmann::ordered_json;

std::string Hex(int64_t v) { return fmt::format("0x{:x}", v); }

std::string Duration(int64_t ms) {
  if (ms < 0) return "-";
  int64_t s = ms / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  if (s < 86400) return std::to_string(s / 3600) + "h" + std::to_string((s % 3600) / 60) + "m";
  return std::to_string(s / 86400) + "d" + std::to_string((s % 86400) / 3600) + "h";
}

std::string Time(int64_t ms) {
  if (ms <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return buf;
}

// Left-aligned columns, two spaces apart.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], r[i].size());
    }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) line += i + 1 == r.size() ? r[i] : fmt::format("{:<{}}  ", r[i], widths[i]);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string Render(const OJson& j, Format format) {
  if (format == Format::kJson) return j.dump(2) + "\n";
  return EmitYaml(j);
}

}  // namespace

Result<nlohmann::ordered_json> ClusterStatus(const std::string& home, const std::string& name) {
  ZK_ASSIGN_OR_RETURN(auto store, OpenState(home));
  ZK_ASSIGN_OR_RETURN(LocalCluster cluster, LoadLocalCluster(*store, home, name, false));
  ZK_ASSIGN_OR_RETURN(auto record, store->GetCluster(name));
  ZK_ASSIGN_OR_RETURN(auto records, store->ListNodes(name));

  // A supervisor that died is started again: the nodes must stay supervised.
  OJson supervisor;
  int spid = SupervisorPid(home, name);
  bool wants_running = false;
  for (const auto& r : records) wants_running = wants_running || r.desired == "running";
  if (spid == 0 && wants_running) {
    Status s = EnsureSupervisor(home, name);
    spid = SupervisorPid(home, name);
    supervisor["restarted"] = s.ok();
    if (!s.ok()) supervisor["error"] = s.message();
  }
  supervisor["pid"] = spid;
  supervisor["running"] = spid > 0;

  AdminClient admin(std::chrono::milliseconds(1000));
  std::vector<std::pair<int, Endpoint>> servers;
  for (const auto& r : records) servers.push_back({r.id, Endpoint{"127.0.0.1", r.client_port}});
  EnsembleHealth health = EvaluateHealth(ObserveEnsemble(servers, admin));

  OJson out;
  out["name"] = name;
  out["platform"] = record->platform;
  out["status"] = record->status;
  out["revision"] = record->current_revision;
  out["package"] = cluster.package.name + " " + cluster.package.version;
  out["version"] = cluster.values.Get(cluster.package.version_parameter);
  out["healthy"] = health.healthy;
  out["quorum"] = health.quorum;
  out["leader"] = health.leader;
  out["summary"] = health.Summary();
  out["supervisor"] = supervisor;
  OJson monitoring = OJson::object();
  ZK_ASSIGN_OR_RETURN(auto services, ReadServices(cluster.cluster_home));
  for (const auto& svc : services) {
    if (!svc.enabled) continue;
    const bool up = svc.name == kExporterService ? spid > 0 : ProcessAlive(ServicePid(cluster.cluster_home, svc.name), svc.launch.marker);
    monitoring[svc.name] = {{"address", "http://" + svc.address + "/"}, {"running", up}};
  }
  out["monitoring"] = monitoring;
  OJson conditions = OJson::array();
  for (const auto& c : health.conditions)
    conditions.push_back({{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"message", c.message}});
  ZK_ASSIGN_OR_RETURN(auto unfinished, store->UnfinishedOperation(name));
  if (unfinished) {
    size_t done = 0;
    for (const auto& s : unfinished->steps) done += s.status == StepStatus::kDone;
    conditions.push_back({{"type", "Progressing"},
                          {"status", true},
                          {"reason", "OperationInProgress"},
                          {"message", unfinished->type + ": " + std::to_string(done) + "/" +
                                          std::to_string(unfinished->steps.size()) + " steps done"}});
  } else {
    conditions.push_back({{"type", "Progressing"}, {"status", false}, {"reason", "Idle"}, {"message", "no operation running"}});
  }
  if (!supervisor["running"].get<bool>() && wants_running)
    conditions.push_back({{"type", "Supervised"}, {"status", false}, {"reason", "SupervisorDown"},
                          {"message", supervisor.value("error", "the supervisor is not running")}});
  out["conditions"] = conditions;

  OJson nodes = OJson::array();
  const int64_t now = NowMillis();
  for (const auto& r : records) {
    const NodeHealth* h = health.Node(r.id);
    const bool alive = ProcessAlive(r.pid, "-Dzkpilot.node=" + r.dir);
    OJson n;
    n["id"] = r.id;
    n["role"] = h ? h->role : "down";
    n["state"] = alive ? "running" : (r.desired == "running" ? "restarting" : "stopped");
    n["healthy"] = h && h->healthy;
    n["problem"] = h ? h->problem : "";
    n["version"] = h && h->srvr ? h->srvr->version : "";
    n["zxid"] = h && h->srvr ? Hex(h->zxid) : "";
    n["lag"] = h ? h->lag : 0;
    n["connections"] = h && h->srvr ? h->srvr->connections : 0;
    n["latency_avg_ms"] = h && h->srvr ? h->srvr->latency_avg : 0;
    n["latency_max_ms"] = h && h->srvr ? h->srvr->latency_max : 0;
    n["uptime_s"] = alive && r.started_at > 0 ? (now - r.started_at) / 1000 : 0;
    n["pid"] = alive ? r.pid : 0;
    n["restarts"] = r.restarts;
    n["last_exit"] = r.last_exit;
    n["client"] = "127.0.0.1:" + std::to_string(r.client_port);
    n["admin"] = "127.0.0.1:" + std::to_string(r.admin_port);
    n["data_dir"] = r.data_dir;
    nodes.push_back(n);
  }
  out["nodes"] = nodes;
  return out;
}

std::string FormatStatus(const nlohmann::ordered_json& s, Format format) {
  if (format != Format::kTable) return Render(s, format);
  std::string out = fmt::format("Cluster {} ({}, {}, ZooKeeper {}, revision {}, {})\n{}\n\n", s["name"].get<std::string>(),
                                s["platform"].get<std::string>(), s["package"].get<std::string>(),
                                s["version"].get<std::string>(), s["revision"].get<int>(), s["status"].get<std::string>(),
                                s["summary"].get<std::string>());
  std::vector<std::vector<std::string>> rows = {
      {"ID", "ROLE", "STATE", "VERSION", "ZXID", "LAG", "CONNS", "LATENCY avg/max", "UPTIME", "PID", "RESTARTS", "CLIENT"}};
  for (const auto& n : s["nodes"]) {
    rows.push_back({std::to_string(n["id"].get<int>()), n["role"].get<std::string>(), n["state"].get<std::string>(),
                    n["version"].get<std::string>(), n["zxid"].get<std::string>(), std::to_string(n["lag"].get<int64_t>()),
                    std::to_string(n["connections"].get<int64_t>()),
                    fmt::format("{:.1f}/{} ms", n["latency_avg_ms"].get<double>(), n["latency_max_ms"].get<int64_t>()),
                    n["pid"].get<int>() ? Duration(n["uptime_s"].get<int64_t>() * 1000) : "-",
                    n["pid"].get<int>() ? std::to_string(n["pid"].get<int>()) : "-",
                    std::to_string(n["restarts"].get<int>()), n["client"].get<std::string>()});
  }
  out += Table(rows) + "\n";
  std::vector<std::vector<std::string>> conds = {{"CONDITION", "STATUS", "REASON", "MESSAGE"}};
  for (const auto& c : s["conditions"])
    conds.push_back({c["type"].get<std::string>(), c["status"].get<bool>() ? "True" : "False",
                     c["reason"].get<std::string>(), c["message"].get<std::string>()});
  out += Table(conds);
  for (auto it = s["monitoring"].begin(); it != s["monitoring"].end(); ++it)
    out += fmt::format("\n{}: {}{}", it.key(), it.value()["address"].get<std::string>(),
                       it.value()["running"].get<bool>() ? "" : " (not running)");
  if (!s["monitoring"].empty()) out += "\n";
  out += fmt::format("\nsupervisor: {}\n", s["supervisor"]["running"].get<bool>()
                                               ? "pid " + std::to_string(s["supervisor"]["pid"].get<int>()) +
                                                     (s["supervisor"].value("restarted", false) ? " (was down; restarted)" : "")
                                               : "not running");
  return out;
}

Result<std::string> ListClusters(const std::string& home, Format format) {
  ZK_ASSIGN_OR_RETURN(auto store, OpenState(home));
  ZK_ASSIGN_OR_RETURN(auto clusters, store->ListClusters());
  OJson list = OJson::array();
  for (const auto& c : clusters) {
    ZK_ASSIGN_OR_RETURN(auto nodes, store->ListNodes(c.name));
    ZK_ASSIGN_OR_RETURN(auto revisions, store->ListRevisions(c.name));
    std::string version;
    for (const auto& r : revisions)
      if (r.revision == c.current_revision || version.empty()) version = r.zk_version;
    int running = 0;
    for (const auto& n : nodes) running += ProcessAlive(n.pid, "-Dzkpilot.node=" + n.dir);
    list.push_back({{"name", c.name}, {"platform", c.platform}, {"status", c.status}, {"servers", nodes.size()},
                    {"running", running}, {"version", version}, {"revision", c.current_revision},
                    {"package", c.package_name}, {"created", Time(c.created_at)}});
  }
  if (format != Format::kTable) return Render(list, format);
  if (list.empty()) return std::string("no clusters (zkpilot deploy NAME PACKAGE creates one)\n");
  std::vector<std::vector<std::string>> rows = {{"NAME", "PLATFORM", "STATUS", "SERVERS", "VERSION", "REVISION", "PACKAGE", "CREATED"}};
  for (const auto& c : list)
    rows.push_back({c["name"], c["platform"], c["status"],
                    std::to_string(c["running"].get<int>()) + "/" + std::to_string(c["servers"].get<size_t>()) + " running",
                    c["version"], std::to_string(c["revision"].get<int>()), c["package"], c["created"]});
  return Table(rows);
}

Result<std::string> History(const std::string& home, const std::string& name, Format format) {
  ZK_ASSIGN_OR_RETURN(auto store, OpenState(home));
  ZK_ASSIGN_OR_RETURN(auto cluster, store->GetCluster(name));
  if (!cluster) return Status::InvalidInput("no cluster named " + name);
  ZK_ASSIGN_OR_RETURN(auto revisions, store->ListRevisions(name));
  OJson list = OJson::array();
  nlohmann::json previous = nlohmann::json::object();
  for (const auto& r : revisions) {
    // What the revision changed, against the one before it.
    nlohmann::json values = nlohmann::json::parse(r.values_json, nullptr, false);
    if (values.is_discarded()) values = nlohmann::json::object();
    OJson changes = OJson::object();
    if (r.revision > 1) {
      for (auto it = values.begin(); it != values.end(); ++it)
        if (!previous.contains(it.key()) || previous[it.key()] != it.value())
          changes[it.key()] = {{"from", previous.value(it.key(), nlohmann::json())}, {"to", it.value()}};
    }
    previous = values;
    list.push_back({{"revision", r.revision}, {"operation", r.operation}, {"status", RevisionStatusName(r.status)},
                    {"version", r.zk_version}, {"package_version", r.package_version}, {"started", Time(r.started_at)},
                    {"duration_ms", r.finished_at ? r.finished_at - r.started_at : 0}, {"changes", changes},
                    {"message", r.message}, {"current", r.revision == cluster->current_revision}});
  }
  if (format != Format::kTable) return Render(list, format);
  std::vector<std::vector<std::string>> rows = {{"REVISION", "OPERATION", "STATUS", "VERSION", "STARTED", "DURATION", "CHANGES"}};
  for (const auto& r : list) {
    std::string changes;
    for (auto it = r["changes"].begin(); it != r["changes"].end(); ++it)
      changes += (changes.empty() ? "" : ", ") + it.key() + ": " + DisplayValue(nlohmann::json(it.value()["from"])) +
                 " -> " + DisplayValue(nlohmann::json(it.value()["to"]));
    if (r["status"] == "failed") changes += (changes.empty() ? "" : "; ") + ("failed: " + r["message"].get<std::string>());
    if (changes.size() > 100) changes = changes.substr(0, 97) + "...";
    rows.push_back({std::to_string(r["revision"].get<int>()) + (r["current"].get<bool>() ? "*" : ""), r["operation"],
                    r["status"], r["version"], r["started"],
                    r["duration_ms"].get<int64_t>() ? fmt::format("{:.1f}s", r["duration_ms"].get<int64_t>() / 1000.0) : "-",
                    changes.empty() ? "-" : changes});
  }
  return Table(rows);
}

Result<std::vector<std::pair<int, std::string>>> LogFiles(const std::string& home, const std::string& name, int node) {
  ZK_ASSIGN_OR_RETURN(auto store, OpenState(home));
  ZK_ASSIGN_OR_RETURN(auto cluster, store->GetCluster(name));
  if (!cluster) return Status::InvalidInput("no cluster named " + name);
  ZK_ASSIGN_OR_RETURN(auto nodes, store->ListNodes(name));
  std::vector<std::pair<int, std::string>> out;
  for (const auto& n : nodes)
    if (node <= 0 || n.id == node) out.push_back({n.id, n.dir + "/zookeeper.log"});
  if (out.empty()) return Status::InvalidInput("cluster " + name + " has no server " + std::to_string(node));
  return out;
}

}  // namespace zkpilot
