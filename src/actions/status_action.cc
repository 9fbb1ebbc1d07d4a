// zkpilot status, list, history: read-only views of clusters.
#include <cstdio>
#include <sstream>

#include <fmt/format.h>

#include "actions/cluster_actions.h"
#include "actions/observe.h"
#include "observe/health.h"
#include "observe/log_cause.h"
#include "util/yaml_json.h"
#include "zk/ensemble_config.h"
#include "zk/four_letter.h"

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

constexpr int kCauseLogLines = 80;  // enough for a Java stack trace and its causes

// Why a server that should run is down, from the end of its log: for a
// crash-looping server "connection refused" is all `srvr` can say.
std::string DownCause(Platform& platform, const ServerView& sv) {
  const ServerState& st = sv.state;
  if (sv.health.healthy || !st.desired_running || (st.exists && st.restarts == 0)) return "";
  auto tail = platform.LogTail(st.id, kCauseLogLines);
  return tail.ok() ? FailureCause(*tail) : "";
}

std::string Render(const OJson& j, Format format) {
  if (format == Format::kJson) return j.dump(2) + "\n";
  return EmitYaml(j);
}

// Servers the newest configuration a serving server reports (`conf`) shows
// on their hand-off quorum port: a roll was interrupted between its hand-off
// and the move back. Not only the leader's: right after an interrupted
// hand-off two servers may claim to lead.
std::vector<std::string> OnHandOffPorts(const Platform& platform, const ObservedEnsemble& view) {
  std::vector<std::string> out;
  std::map<std::string, std::string> newest;
  int64_t newest_version = -1;
  for (const auto& sv : view.servers) {
    if (!sv.health.srvr || !sv.health.srvr->IsServing()) continue;
    auto conf = platform.AdminFor(sv.state, std::chrono::milliseconds(1000)).Conf(sv.state.client);
    if (!conf.ok() || !conf->count("version")) continue;
    int64_t version = -1;
    try {
      version = std::stoll(conf->at("version"), nullptr, 16);
    } catch (const std::exception&) {
      continue;
    }
    if (version > newest_version) newest_version = version, newest = *conf;
  }
  const auto* conf = &newest;
  for (const auto& [id, port] : view.handoff_ports) {
    auto line = conf->find("server." + std::to_string(id));
    if (line == conf->end()) continue;
    auto entry = ParseServerLine("server." + std::to_string(id) + "=" + line->second);
    if (entry.ok() && entry->quorum_port == port)
      out.push_back("server " + std::to_string(id) + " (port " + std::to_string(port) + ")");
  }
  return out;
}

}  // namespace

Result<nlohmann::ordered_json> DescribeCluster(ActionContext& ctx, const std::string& name, const Package& package) {
  ZK_ASSIGN_OR_RETURN(ClusterRecord record, FindCluster(ctx.store, name));
  ZK_ASSIGN_OR_RETURN(Values values, RevisionValues(ctx.store, name, package));
  // First: the platform may repair what keeps the servers running (locally
  // a supervisor that died is started again).
  ZK_ASSIGN_OR_RETURN(PlatformStatus platform, ctx.platform.Describe());
  ZK_ASSIGN_OR_RETURN(ObservedEnsemble view, ObserveEnsembleView(ctx.platform));
  const EnsembleHealth& health = view.health;

  OJson out;
  out["name"] = name;
  out["platform"] = record.platform;
  out["status"] = record.status;
  out["revision"] = record.current_revision;
  out["package"] = package.name + " " + package.version;
  out["version"] = values.Get(package.version_parameter);
  out["healthy"] = health.healthy;
  out["quorum"] = health.quorum;
  out["leader"] = health.leader;
  out["summary"] = health.Summary();
  for (auto it = platform.fields.begin(); it != platform.fields.end(); ++it) out[it.key()] = it.value();
  OJson conditions = OJson::array();
  for (const auto& c : health.conditions)
    conditions.push_back({{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"message", c.message}});
  ZK_ASSIGN_OR_RETURN(auto unfinished, ctx.store.UnfinishedOperation(name));
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
  for (const auto& c : platform.conditions)
    conditions.push_back({{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"message", c.message}});
  if (auto moved = OnHandOffPorts(ctx.platform, view); !moved.empty()) {
    std::string list;
    for (const auto& m : moved) list += (list.empty() ? "" : ", ") + m;
    conditions.push_back({{"type", "QuorumPorts"},
                          {"status", false},
                          {"reason", "HandOffPortInUse"},
                          {"message", list + (moved.size() > 1 ? " are" : " is") +
                                          " on the hand-off quorum port: a roll was interrupted after handing "
                                          "leadership over; `zkpilot resume " + name + "` moves it back"}});
  }
  out["conditions"] = conditions;

  OJson nodes = OJson::array();
  const int64_t now = NowMillis();
  for (const auto& sv : view.servers) {
    const ServerState& st = sv.state;
    const NodeHealth& h = sv.health;
    const bool srvr = h.srvr.has_value();
    OJson n;
    n["id"] = st.id;
    n["role"] = h.role.empty() ? "down" : h.role;
    n["state"] = st.exists ? "running" : (st.desired_running ? "restarting" : "stopped");
    n["healthy"] = h.healthy;
    n["problem"] = h.problem;
    n["cause"] = DownCause(ctx.platform, sv);  // "" unless it should run and does not
    n["version"] = srvr ? h.srvr->version : "";
    n["zxid"] = srvr ? Hex(h.zxid) : "";
    n["lag"] = h.lag;
    n["connections"] = srvr ? h.srvr->connections : 0;
    n["latency_avg_ms"] = srvr ? h.srvr->latency_avg : 0;
    n["latency_max_ms"] = srvr ? h.srvr->latency_max : 0;
    n["uptime_s"] = st.exists && st.started_at > 0 ? (now - st.started_at) / 1000 : 0;
    // Observed from what the running instance was started with (-1 unknown).
    n["tls_stage"] = st.tls_stage;
    n["quorum_auth_stage"] = st.quorum_auth_stage;
    // The platform's own fields, then the generic ones it did not place.
    for (auto it = st.details.begin(); it != st.details.end(); ++it) n[it.key()] = it.value();
    if (!n.contains("restarts")) n["restarts"] = st.restarts;
    if (!n.contains("last_exit")) n["last_exit"] = st.last_exit;
    if (!n.contains("client")) n["client"] = st.client.ToString();
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
    // Locally a running server has a pid; elsewhere its state says.
    const int pid = n.contains("pid") ? n["pid"].get<int>() : 0;
    const bool up = n.contains("pid") ? pid != 0 : n["state"] == "running";
    rows.push_back({std::to_string(n["id"].get<int>()), n["role"].get<std::string>(), n["state"].get<std::string>(),
                    n["version"].get<std::string>(), n["zxid"].get<std::string>(), std::to_string(n["lag"].get<int64_t>()),
                    std::to_string(n["connections"].get<int64_t>()),
                    fmt::format("{:.1f}/{} ms", n["latency_avg_ms"].get<double>(), n["latency_max_ms"].get<int64_t>()),
                    up ? Duration(n["uptime_s"].get<int64_t>() * 1000) : "-", pid ? std::to_string(pid) : "-",
                    std::to_string(n["restarts"].get<int>()), n["client"].get<std::string>()});
  }
  out += Table(rows) + "\n";
  bool problems = false;
  for (const auto& n : s["nodes"]) {
    if (n.value("healthy", true)) continue;
    out += fmt::format("server {}: {}\n", n["id"].get<int>(), n.value("problem", ""));
    if (const std::string cause = n.value("cause", ""); !cause.empty())
      out += fmt::format("  cause, from its log: {}\n", cause);
    problems = true;
  }
  if (problems) out += "\n";
  std::vector<std::vector<std::string>> conds = {{"CONDITION", "STATUS", "REASON", "MESSAGE"}};
  for (const auto& c : s["conditions"])
    conds.push_back({c["type"].get<std::string>(), c["status"].get<bool>() ? "True" : "False",
                     c["reason"].get<std::string>(), c["message"].get<std::string>()});
  out += Table(conds);
  if (s.contains("monitoring")) {
    const auto& monitoring = s["monitoring"];
    for (auto it = monitoring.begin(); it != monitoring.end(); ++it)
      out += fmt::format("\n{}: {}{}", it.key(), it.value()["address"].get<std::string>(),
                         it.value()["running"].get<bool>() ? "" : " (not running)");
    if (!monitoring.empty()) out += "\n";
  }
  if (s.contains("supervisor")) {
    const auto& sup = s["supervisor"];
    out += fmt::format("\nsupervisor: {}\n", sup["running"].get<bool>()
                                                 ? "pid " + std::to_string(sup["pid"].get<int>()) +
                                                       (sup.value("restarted", false) ? " (was down; restarted)" : "")
                                                 : "not running");
    if (sup.value("guardian_pid", 0) > 0) out += fmt::format("guardian: pid {}\n", sup["guardian_pid"].get<int>());
  }
  return out;
}

Result<std::string> ListClusters(ReleaseStore& store, const ServersOf& servers_of, Format format) {
  ZK_ASSIGN_OR_RETURN(auto clusters, store.ListClusters());
  OJson list = OJson::array();
  for (const auto& c : clusters) {
    ZK_ASSIGN_OR_RETURN(auto servers, servers_of(c));
    ZK_ASSIGN_OR_RETURN(auto revisions, store.ListRevisions(c.name));
    std::string version;
    for (const auto& r : revisions)
      if (r.revision == c.current_revision || version.empty()) version = r.zk_version;
    int running = 0;
    for (const auto& s : servers) running += s.exists;
    list.push_back({{"name", c.name}, {"platform", c.platform}, {"status", c.status}, {"servers", servers.size()},
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

Result<std::string> History(ReleaseStore& store, const std::string& name, Format format) {
  ZK_ASSIGN_OR_RETURN(ClusterRecord cluster, FindCluster(store, name));
  ZK_ASSIGN_OR_RETURN(auto revisions, store.ListRevisions(name));
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
                    {"message", r.message}, {"current", r.revision == cluster.current_revision}});
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

}  // namespace zkpilot
