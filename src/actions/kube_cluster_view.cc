#include "actions/kube_cluster_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "util/yaml_json.h"
#include "values/values.h"

namespace zkpilot {
namespace {

using nlohmann::json;
using OJson = nlohmann::ordered_json;

// Left-aligned columns, two spaces apart; the last column is not padded.
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
    for (size_t i = 0; i < r.size(); ++i)
      line += i + 1 == r.size() ? r[i] : fmt::format("{:<{}}  ", r[i], widths[i]);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string Render(const OJson& j, ViewFormat format) {
  if (format == ViewFormat::kJson) return j.dump(2) + "\n";
  return EmitYaml(j);
}

std::string Seconds(int64_t ms) { return ms < 0 ? "-" : fmt::format("{:.1f}s", ms / 1000.0); }

int64_t Duration(int64_t from, int64_t to) { return from > 0 && to >= from ? to - from : -1; }

std::string Time(int64_t millis) { return millis > 0 ? FormatKubeTime(millis) : ""; }

const char* PhaseName(OperationStatus s) {
  switch (s) {
    case OperationStatus::kRunning:
      return "Running";
    case OperationStatus::kSucceeded:
      return "Succeeded";
    case OperationStatus::kFailed:
      return "Failed";
  }
  return "";
}

std::string PackageOf(const ZooKeeperCluster& c) {
  if (c.spec.package.name.empty()) return "-";
  return c.spec.package.name + (c.spec.package.version.empty() ? "" : " " + c.spec.package.version);
}

std::string PhaseOf(const ZooKeeperCluster& c) {
  const std::string phase = ClusterPhaseName(c.status.phase);
  return phase.empty() ? "Pending" : phase;
}

// One operation as data; the running one with its steps.
OJson OperationData(const ClusterOperation& op, bool with_steps) {
  OJson o;
  o["id"] = op.id;
  o["type"] = op.type;
  o["revision"] = op.revision;
  o["phase"] = PhaseName(op.phase);
  o["error"] = op.error;
  o["started"] = Time(op.started_at);
  o["finished"] = Time(op.finished_at);
  o["duration_ms"] = Duration(op.started_at, op.finished_at);
  if (!with_steps) return o;
  OJson steps = OJson::array();
  int done = 0;
  for (const auto& s : op.steps) {
    done += s.status == StepStatus::kDone || s.status == StepStatus::kSkipped;
    steps.push_back({{"index", s.index},
                     {"kind", s.kind},
                     {"description", s.description},
                     {"status", StepStatusName(s.status)},
                     {"detail", s.detail},
                     {"duration_ms", Duration(s.started_at, s.finished_at)}});
  }
  o["steps_done"] = done;
  o["steps_total"] = steps.size();
  o["steps"] = steps;
  return o;
}

std::string Summary(const ZooKeeperCluster& c, bool healthy) {
  const ClusterStatus& s = c.status;
  if (s.observed_generation == 0 && s.phase == ClusterPhase::kNone && s.conditions.empty())
    return "not observed yet: the zkpilot operator has not written a status (is it running? "
           "kubectl -n zkpilot-system "
           "get deployment zkpilot-operator)";
  const std::string counts = fmt::format("{}/{} servers ready", s.ready_replicas, s.replicas);
  if (healthy) return fmt::format("healthy: leader {}, {}", s.leader, counts);
  std::string out = IsConditionTrue(s.conditions, kConditionReady)
                        ? fmt::format("degraded: leader {}, {}", s.leader, counts)
                        : "no quorum: " + counts;
  for (const char* type : {kConditionReady, kConditionDegraded, kConditionValid}) {
    const ClusterCondition* cond = FindCondition(s.conditions, type);
    const bool bad = cond && (std::string(type) == kConditionDegraded ? cond->status == "True"
                                                                      : cond->status != "True");
    if (bad && !cond->message.empty()) out += "; " + cond->message;
  }
  for (const auto& m : s.members)
    if (!m.ready)
      out += fmt::format("; server {}: not ready{}", m.id,
                         m.pod.empty() ? "" : " (pod " + m.pod + ")");
  return out;
}

}  // namespace

std::string LocalTime(int64_t millis) {
  if (millis <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(millis / 1000);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return buf;
}

bool ClusterHealthy(const ZooKeeperCluster& c) {
  const ClusterCondition* degraded = FindCondition(c.status.conditions, kConditionDegraded);
  return IsConditionTrue(c.status.conditions, kConditionReady) &&
         !(degraded && degraded->status == "True");
}

nlohmann::ordered_json ClusterStatusView(const ZooKeeperCluster& c) {
  const bool healthy = ClusterHealthy(c);
  OJson out;
  out["name"] = c.Name();
  out["namespace"] = c.Namespace();
  out["platform"] = "kubernetes";
  out["status"] = PhaseOf(c);
  out["revision"] = c.status.current_revision;
  out["package"] = PackageOf(c);
  std::string version = c.status.current_version;
  if (version.empty() && c.spec.values.contains("version") && c.spec.values["version"].is_string())
    version = c.spec.values["version"].get<std::string>();
  out["version"] = version;
  out["target_version"] = c.status.target_version;
  out["healthy"] = healthy;
  out["quorum"] = IsConditionTrue(c.status.conditions, kConditionReady);
  out["leader"] = c.status.leader;
  out["replicas"] = c.status.replicas;
  out["ready_replicas"] = c.status.ready_replicas;
  out["summary"] = Summary(c, healthy);
  out["generation"] = c.Generation();
  out["observed_generation"] = c.status.observed_generation;
  OJson nodes = OJson::array();
  for (const auto& m : c.status.members)
    nodes.push_back({{"id", m.id},
                     {"role", m.role.empty() ? "down" : m.role},
                     {"ready", m.ready},
                     {"version", m.version},
                     {"zxid", m.zxid},
                     {"pod", m.pod},
                     {"restarts", m.restarts}});
  out["nodes"] = nodes;
  OJson conditions = OJson::array();
  for (const auto& cond : c.status.conditions)
    conditions.push_back({{"type", cond.type},
                          {"status", cond.status},
                          {"reason", cond.reason},
                          {"message", cond.message},
                          {"since", Time(cond.last_transition_time)}});
  out["conditions"] = conditions;
  out["operation"] = c.status.operation ? OperationData(*c.status.operation, true) : OJson();
  return out;
}

std::string FormatClusterStatus(const nlohmann::ordered_json& s, ViewFormat format) {
  if (format != ViewFormat::kTable) return Render(s, format);
  std::string version = s["version"].get<std::string>();
  if (!s["target_version"].get<std::string>().empty() && s["target_version"] != s["version"])
    version += " -> " + s["target_version"].get<std::string>();
  std::string out = fmt::format(
      "Cluster {} (kubernetes, namespace {}, {}, ZooKeeper {}, revision {}, {})\n{}\n\n",
      s["name"].get<std::string>(), s["namespace"].get<std::string>(),
      s["package"].get<std::string>(), version.empty() ? "-" : version, s["revision"].get<int>(),
      s["status"].get<std::string>(), s["summary"].get<std::string>());
  if (!s["nodes"].empty()) {
    std::vector<std::vector<std::string>> rows = {
        {"ID", "ROLE", "READY", "VERSION", "ZXID", "RESTARTS", "POD"}};
    for (const auto& n : s["nodes"])
      rows.push_back(
          {std::to_string(n["id"].get<int>()), n["role"].get<std::string>(),
           n["ready"].get<bool>() ? "yes" : "no",
           n["version"].get<std::string>().empty() ? "-" : n["version"].get<std::string>(),
           n["zxid"].get<std::string>().empty() ? "-" : n["zxid"].get<std::string>(),
           std::to_string(n["restarts"].get<int>()), n["pod"].get<std::string>()});
    out += Table(rows) + "\n";
  }
  if (!s["conditions"].empty()) {
    std::vector<std::vector<std::string>> conds = {{"CONDITION", "STATUS", "REASON", "MESSAGE"}};
    for (const auto& c : s["conditions"])
      conds.push_back({c["type"].get<std::string>(), c["status"].get<std::string>(),
                       c["reason"].get<std::string>(), c["message"].get<std::string>()});
    out += Table(conds);
  }
  const auto& op = s["operation"];
  if (!op.is_null()) {
    const std::string phase = op["phase"].get<std::string>();
    out += fmt::format("\nOperation {}: {} (revision {}), {}, {}/{} steps done",
                       op["id"].get<int64_t>(), op["type"].get<std::string>(),
                       op["revision"].get<int>(), phase, op["steps_done"].get<int>(),
                       op["steps_total"].get<size_t>());
    if (op["duration_ms"].get<int64_t>() >= 0)
      out += ", took " + Seconds(op["duration_ms"].get<int64_t>());
    out += "\n";
    if (!op["error"].get<std::string>().empty())
      out += "  error: " + op["error"].get<std::string>() + "\n";
    // The steps while it runs, or of a failure; a success needs no more than its line.
    if (phase != "Succeeded")
      for (const auto& st : op["steps"]) {
        std::string line =
            fmt::format("  {}. [{}] {}", st["index"].get<int>() + 1,
                        st["status"].get<std::string>(), st["description"].get<std::string>());
        if (!st["detail"].get<std::string>().empty())
          line += ": " + st["detail"].get<std::string>();
        out += line + "\n";
      }
  }
  return out;
}

std::string FormatClusterList(const std::vector<ZooKeeperCluster>& clusters, ViewFormat format) {
  OJson list = OJson::array();
  for (const auto& c : clusters)
    list.push_back(
        {{"name", c.Name()},
         {"namespace", c.Namespace()},
         {"platform", "kubernetes"},
         {"status", PhaseOf(c)},
         {"servers", c.status.replicas},
         {"ready", c.status.ready_replicas},
         {"version", c.status.current_version},
         {"revision", c.status.current_revision},
         {"operation", c.status.operation && c.status.operation->phase == OperationStatus::kRunning
                           ? c.status.operation->type
                           : ""},
         {"package", PackageOf(c)},
         {"created", c.metadata.value("creationTimestamp", "")}});
  if (format != ViewFormat::kTable) return Render(list, format);
  if (list.empty())
    return "no clusters (zkpilot deploy NAME PACKAGE --platform kubernetes creates one)\n";
  std::vector<std::vector<std::string>> rows = {{"NAME", "NAMESPACE", "STATUS", "SERVERS",
                                                 "VERSION", "REVISION", "OPERATION", "PACKAGE",
                                                 "CREATED"}};
  for (const auto& c : list) {
    auto created = ParseKubeTime(c["created"].get<std::string>());
    rows.push_back(
        {c["name"], c["namespace"], c["status"],
         fmt::format("{}/{} ready", c["ready"].get<int>(), c["servers"].get<int>()),
         c["version"].get<std::string>().empty() ? "-" : c["version"].get<std::string>(),
         std::to_string(c["revision"].get<int>()),
         c["operation"].get<std::string>().empty() ? "-" : c["operation"].get<std::string>(),
         c["package"], created.ok() ? LocalTime(*created) : "-"});
  }
  return Table(rows);
}

std::string FormatClusterHistory(const ZooKeeperCluster& cluster,
                                 const std::vector<RevisionRecord>& records, ViewFormat format) {
  std::vector<RevisionRecord> revisions = records;
  std::sort(revisions.begin(), revisions.end(),
            [](const auto& a, const auto& b) { return a.revision < b.revision; });
  // Operations oldest first; the running (or last) one replaces its summary.
  std::vector<ClusterOperation> operations = cluster.status.operations;
  if (const auto& op = cluster.status.operation) {
    auto same = std::find_if(operations.begin(), operations.end(),
                             [&](const auto& o) { return o.id == op->id; });
    if (same != operations.end())
      *same = *op;
    else
      operations.push_back(*op);
  }

  OJson list = OJson::array();
  json previous = json::object();
  for (const auto& r : revisions) {
    json values = json::parse(r.values_json, nullptr, false);
    if (!values.is_object()) values = json::object();
    OJson changes = OJson::object();
    if (r.revision > 1)
      for (auto it = values.begin(); it != values.end(); ++it)
        if (!previous.contains(it.key()) || previous[it.key()] != it.value())
          changes[it.key()] = {{"from", previous.value(it.key(), json())}, {"to", it.value()}};
    previous = values;
    OJson ops = OJson::array();
    for (const auto& o : operations)
      if (o.revision == r.revision) ops.push_back(OperationData(o, false));
    list.push_back({{"revision", r.revision},
                    {"operation", r.operation},
                    {"status", RevisionStatusName(r.status)},
                    {"version", r.zk_version},
                    {"package_version", r.package_version},
                    {"started", LocalTime(r.started_at)},
                    {"duration_ms", r.finished_at ? r.finished_at - r.started_at : 0},
                    {"changes", changes},
                    {"message", r.message},
                    {"current", r.revision == cluster.status.current_revision},
                    {"operations", ops}});
  }
  if (format != ViewFormat::kTable) return Render(list, format);

  std::string out;
  if (list.empty()) {
    out = "no revisions yet (the operator records the first when it deploys the cluster)\n";
  } else {
    std::vector<std::vector<std::string>> rows = {
        {"REVISION", "OPERATION", "STATUS", "VERSION", "STARTED", "DURATION", "CHANGES"}};
    for (const auto& r : list) {
      std::string changes;
      for (auto it = r["changes"].begin(); it != r["changes"].end(); ++it)
        changes += (changes.empty() ? "" : ", ") + it.key() + ": " +
                   DisplayValue(json(it.value()["from"])) + " -> " +
                   DisplayValue(json(it.value()["to"]));
      if (r["status"] == "failed")
        changes += (changes.empty() ? "" : "; ") + ("failed: " + r["message"].get<std::string>());
      if (changes.size() > 100) changes = changes.substr(0, 97) + "...";
      rows.push_back(
          {std::to_string(r["revision"].get<int>()) + (r["current"].get<bool>() ? "*" : ""),
           r["operation"], r["status"], r["version"], r["started"],
           r["duration_ms"].get<int64_t>() ? Seconds(r["duration_ms"].get<int64_t>()) : "-",
           changes.empty() ? "-" : changes});
    }
    out = Table(rows);
  }
  if (!operations.empty()) {
    std::vector<std::vector<std::string>> rows = {
        {"OPERATION", "TYPE", "REVISION", "PHASE", "STARTED", "DURATION", "ERROR"}};
    for (const auto& o : operations) {
      std::string error = o.error;
      if (error.size() > 100) error = error.substr(0, 97) + "...";
      rows.push_back({std::to_string(o.id), o.type, std::to_string(o.revision), PhaseName(o.phase),
                      LocalTime(o.started_at), Seconds(Duration(o.started_at, o.finished_at)),
                      error.empty() ? "-" : error});
    }
    out += "\n" + Table(rows);
  }
  return out;
}

}  // namespace zkpilot
