#include "platform/kubernetes/cluster_resource.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace zkpilot {
namespace {

using nlohmann::json;

// ---- reading JSON with the field's path in every error

std::string Join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

Status WrongType(const std::string& field, const char* expected, const json& got) {
  return Status::InvalidInput(field + ": expected " + expected + ", got " + got.dump());
}

// Each Read leaves `out` unchanged when the key is absent or null.
Status Read(const json& o, const std::string& prefix, const char* key, std::string& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return WrongType(Join(prefix, key), "a string", *it);
  out = it->get<std::string>();
  return Status::Ok();
}

Status Read(const json& o, const std::string& prefix, const char* key, bool& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return Status::Ok();
  if (!it->is_boolean()) return WrongType(Join(prefix, key), "true or false", *it);
  out = it->get<bool>();
  return Status::Ok();
}

Status Read(const json& o, const std::string& prefix, const char* key, int64_t& out) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return Status::Ok();
  if (!it->is_number_integer()) return WrongType(Join(prefix, key), "an integer", *it);
  out = it->get<int64_t>();
  return Status::Ok();
}

Status Read(const json& o, const std::string& prefix, const char* key, int& out) {
  int64_t v = out;
  ZK_RETURN_IF_ERROR(Read(o, prefix, key, v));
  out = static_cast<int>(v);
  return Status::Ok();
}

Status ReadTime(const json& o, const std::string& prefix, const char* key, int64_t& out) {
  std::string text;
  ZK_RETURN_IF_ERROR(Read(o, prefix, key, text));
  if (text.empty()) return Status::Ok();
  auto t = ParseKubeTime(text);
  if (!t.ok()) return Status::InvalidInput(Join(prefix, key) + ": " + t.status().message());
  out = *t;
  return Status::Ok();
}

Result<const json*> ReadObject(const json& o, const std::string& prefix, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return static_cast<const json*>(nullptr);
  if (!it->is_object()) return WrongType(Join(prefix, key), "an object", *it);
  return &*it;
}

Result<const json*> ReadArray(const json& o, const std::string& prefix, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return static_cast<const json*>(nullptr);
  if (!it->is_array()) return WrongType(Join(prefix, key), "a list", *it);
  return &*it;
}

std::string Indexed(const std::string& prefix, const char* key, size_t i) {
  return Join(prefix, key) + "[" + std::to_string(i) + "]";
}

// ---- writing

void PutTime(json& o, const char* key, int64_t millis) {
  if (millis != 0) o[key] = FormatKubeTime(millis);
}

json ConditionToJson(const ClusterCondition& c) {
  json j = {{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"message", c.message}};
  // metav1.Time has whole seconds.
  j["lastTransitionTime"] = FormatKubeTime(c.last_transition_time - c.last_transition_time % 1000);
  if (c.observed_generation != 0) j["observedGeneration"] = c.observed_generation;
  return j;
}

json StepToJson(const OperationStep& s) {
  json j = {{"index", s.index},
            {"kind", s.kind},
            {"description", s.description},
            {"args", s.args},
            {"status", StepStatusName(s.status)},
            {"detail", s.detail}};
  PutTime(j, "startedAt", s.started_at);
  PutTime(j, "finishedAt", s.finished_at);
  return j;
}

json OperationToJson(const ClusterOperation& op, bool with_steps) {
  json j = {{"id", op.id},
            {"type", op.type},
            {"revision", op.revision},
            {"phase", op.phase == OperationStatus::kRunning     ? "Running"
                      : op.phase == OperationStatus::kSucceeded ? "Succeeded"
                                                                : "Failed"},
            {"error", op.error}};
  PutTime(j, "startedAt", op.started_at);
  PutTime(j, "finishedAt", op.finished_at);
  if (with_steps) {
    j["steps"] = json::array();
    for (const auto& s : op.steps) j["steps"].push_back(StepToJson(s));
  }
  return j;
}

Result<ClusterCondition> ConditionFromJson(const json& j, const std::string& at) {
  if (!j.is_object()) return WrongType(at, "an object", j);
  ClusterCondition c;
  ZK_RETURN_IF_ERROR(Read(j, at, "type", c.type));
  ZK_RETURN_IF_ERROR(Read(j, at, "status", c.status));
  ZK_RETURN_IF_ERROR(Read(j, at, "reason", c.reason));
  ZK_RETURN_IF_ERROR(Read(j, at, "message", c.message));
  ZK_RETURN_IF_ERROR(ReadTime(j, at, "lastTransitionTime", c.last_transition_time));
  ZK_RETURN_IF_ERROR(Read(j, at, "observedGeneration", c.observed_generation));
  return c;
}

Result<MemberStatus> MemberFromJson(const json& j, const std::string& at) {
  if (!j.is_object()) return WrongType(at, "an object", j);
  MemberStatus m;
  ZK_RETURN_IF_ERROR(Read(j, at, "id", m.id));
  ZK_RETURN_IF_ERROR(Read(j, at, "role", m.role));
  ZK_RETURN_IF_ERROR(Read(j, at, "version", m.version));
  ZK_RETURN_IF_ERROR(Read(j, at, "zxid", m.zxid));
  ZK_RETURN_IF_ERROR(Read(j, at, "ready", m.ready));
  ZK_RETURN_IF_ERROR(Read(j, at, "pod", m.pod));
  ZK_RETURN_IF_ERROR(Read(j, at, "podUID", m.pod_uid));
  ZK_RETURN_IF_ERROR(Read(j, at, "restarts", m.restarts));
  return m;
}

Result<OperationStep> StepFromJson(const json& j, const std::string& at) {
  if (!j.is_object()) return WrongType(at, "an object", j);
  OperationStep s;
  ZK_RETURN_IF_ERROR(Read(j, at, "index", s.index));
  ZK_RETURN_IF_ERROR(Read(j, at, "kind", s.kind));
  ZK_RETURN_IF_ERROR(Read(j, at, "description", s.description));
  ZK_ASSIGN_OR_RETURN(const json* args, ReadObject(j, at, "args"));
  if (args) s.args = *args;
  std::string status = "pending";
  ZK_RETURN_IF_ERROR(Read(j, at, "status", status));
  auto parsed = ParseStepStatus(status);
  if (!parsed)
    return Status::InvalidInput(Join(at, "status") + ": unknown step status \"" + status + "\"");
  s.status = *parsed;
  ZK_RETURN_IF_ERROR(Read(j, at, "detail", s.detail));
  ZK_RETURN_IF_ERROR(ReadTime(j, at, "startedAt", s.started_at));
  ZK_RETURN_IF_ERROR(ReadTime(j, at, "finishedAt", s.finished_at));
  return s;
}

Result<ClusterOperation> OperationFromJson(const json& j, const std::string& at) {
  if (!j.is_object()) return WrongType(at, "an object", j);
  ClusterOperation op;
  ZK_RETURN_IF_ERROR(Read(j, at, "id", op.id));
  ZK_RETURN_IF_ERROR(Read(j, at, "type", op.type));
  ZK_RETURN_IF_ERROR(Read(j, at, "revision", op.revision));
  std::string phase = "Running";
  ZK_RETURN_IF_ERROR(Read(j, at, "phase", phase));
  if (phase == "Running")
    op.phase = OperationStatus::kRunning;
  else if (phase == "Succeeded")
    op.phase = OperationStatus::kSucceeded;
  else if (phase == "Failed")
    op.phase = OperationStatus::kFailed;
  else
    return Status::InvalidInput(Join(at, "phase") + ": unknown operation phase \"" + phase + "\"");
  ZK_RETURN_IF_ERROR(Read(j, at, "error", op.error));
  ZK_RETURN_IF_ERROR(ReadTime(j, at, "startedAt", op.started_at));
  ZK_RETURN_IF_ERROR(ReadTime(j, at, "finishedAt", op.finished_at));
  ZK_ASSIGN_OR_RETURN(const json* steps, ReadArray(j, at, "steps"));
  if (steps)
    for (size_t i = 0; i < steps->size(); ++i) {
      ZK_ASSIGN_OR_RETURN(OperationStep s, StepFromJson((*steps)[i], Indexed(at, "steps", i)));
      op.steps.push_back(std::move(s));
    }
  return op;
}

}  // namespace

// ---------------------------------------------------------------- time

std::string FormatKubeTime(int64_t millis) {
  int64_t seconds = millis / 1000, ms = millis % 1000;
  if (ms < 0) ms += 1000, --seconds;
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (ms != 0) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms));
    out += frac;
  }
  return out + "Z";
}

Result<int64_t> ParseKubeTime(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidInput("\"" + std::string(text) + "\" is not an RFC3339 time");
  };
  auto digits = [&](size_t pos, size_t n, int& out) {
    if (pos + n > text.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, s;
  if (!digits(0, 4, y) || text.size() < 20 || text[4] != '-' || !digits(5, 2, mo) ||
      text[7] != '-' || !digits(8, 2, d) || (text[10] != 'T' && text[10] != 't') ||
      !digits(11, 2, h) || text[13] != ':' || !digits(14, 2, mi) || text[16] != ':' ||
      !digits(17, 2, s))
    return bad();
  size_t pos = 19;
  int64_t ms = 0;
  if (text[pos] == '.') {
    int n = 0;
    for (++pos; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++n)
      if (n < 3) ms = ms * 10 + (text[pos] - '0');
    if (n == 0) return bad();
    for (; n < 3; ++n) ms *= 10;
  }
  int64_t offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !digits(pos + 4, 2, om))
      return bad();
    offset_minutes = (oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != text.size()) return bad();
  std::chrono::year_month_day date{std::chrono::year(y),
                                   std::chrono::month(static_cast<unsigned>(mo)),
                                   std::chrono::day(static_cast<unsigned>(d))};
  if (!date.ok() || h > 23 || mi > 59 || s > 60) return bad();
  int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  int64_t seconds = days * 86400 + h * 3600 + mi * 60 + s - offset_minutes * 60;
  return seconds * 1000 + ms;
}

// ---------------------------------------------------------------- phase

const char* ClusterPhaseName(ClusterPhase p) {
  switch (p) {
    case ClusterPhase::kNone:
      return "";
    case ClusterPhase::kDeploying:
      return "Deploying";
    case ClusterPhase::kRunning:
      return "Running";
    case ClusterPhase::kUpdating:
      return "Updating";
    case ClusterPhase::kFailed:
      return "Failed";
    case ClusterPhase::kDeleting:
      return "Deleting";
  }
  return "";
}

std::optional<ClusterPhase> ParseClusterPhase(std::string_view s) {
  for (ClusterPhase p : {ClusterPhase::kNone, ClusterPhase::kDeploying, ClusterPhase::kRunning,
                         ClusterPhase::kUpdating, ClusterPhase::kFailed, ClusterPhase::kDeleting})
    if (s == ClusterPhaseName(p)) return p;
  return std::nullopt;
}

// ---------------------------------------------------------------- spec

json SpecToJson(const ClusterSpec& spec) {
  return {{"package",
           {{"name", spec.package.name},
            {"version", spec.package.version},
            {"configMap", spec.package.config_map},
            {"hash", spec.package.hash}}},
          {"values", spec.values.is_null() ? json::object() : spec.values},
          {"restartRequest", spec.restart_request},
          {"purgeDataOnDelete", spec.purge_data_on_delete}};
}

Result<ClusterSpec> SpecFromJson(const json& j) {
  ClusterSpec spec;
  if (j.is_null()) return spec;
  if (!j.is_object()) return WrongType("spec", "an object", j);
  ZK_ASSIGN_OR_RETURN(const json* pkg, ReadObject(j, "spec", "package"));
  if (pkg) {
    ZK_RETURN_IF_ERROR(Read(*pkg, "spec.package", "name", spec.package.name));
    ZK_RETURN_IF_ERROR(Read(*pkg, "spec.package", "version", spec.package.version));
    ZK_RETURN_IF_ERROR(Read(*pkg, "spec.package", "configMap", spec.package.config_map));
    ZK_RETURN_IF_ERROR(Read(*pkg, "spec.package", "hash", spec.package.hash));
  }
  ZK_ASSIGN_OR_RETURN(const json* values, ReadObject(j, "spec", "values"));
  if (values) spec.values = *values;
  ZK_RETURN_IF_ERROR(Read(j, "spec", "restartRequest", spec.restart_request));
  ZK_RETURN_IF_ERROR(Read(j, "spec", "purgeDataOnDelete", spec.purge_data_on_delete));
  return spec;
}

// ---------------------------------------------------------------- status

json StatusToJson(const ClusterStatus& st) {
  json j = json::object();
  j["observedGeneration"] = st.observed_generation;
  if (st.phase != ClusterPhase::kNone) j["phase"] = ClusterPhaseName(st.phase);
  j["conditions"] = json::array();
  for (const auto& c : st.conditions) j["conditions"].push_back(ConditionToJson(c));
  j["currentRevision"] = st.current_revision;
  j["currentVersion"] = st.current_version;
  j["targetVersion"] = st.target_version;
  j["replicas"] = st.replicas;
  j["readyReplicas"] = st.ready_replicas;
  j["ready"] = std::to_string(st.ready_replicas) + "/" + std::to_string(st.replicas);
  j["leader"] = st.leader;
  j["members"] = json::array();
  for (const auto& m : st.members)
    j["members"].push_back({{"id", m.id},
                            {"role", m.role},
                            {"version", m.version},
                            {"zxid", m.zxid},
                            {"ready", m.ready},
                            {"pod", m.pod},
                            {"podUID", m.pod_uid},
                            {"restarts", m.restarts}});
  j["lastRestartRequest"] = st.last_restart_request;
  if (st.operation) j["operation"] = OperationToJson(*st.operation, true);
  j["operations"] = json::array();
  for (const auto& op : st.operations) j["operations"].push_back(OperationToJson(op, false));
  return j;
}

Result<ClusterStatus> StatusFromJson(const json& j) {
  ClusterStatus st;
  if (j.is_null()) return st;
  if (!j.is_object()) return WrongType("status", "an object", j);
  const std::string at = "status";
  ZK_RETURN_IF_ERROR(Read(j, at, "observedGeneration", st.observed_generation));
  std::string phase;
  ZK_RETURN_IF_ERROR(Read(j, at, "phase", phase));
  auto parsed = ParseClusterPhase(phase);
  if (!parsed) return Status::InvalidInput("status.phase: unknown phase \"" + phase + "\"");
  st.phase = *parsed;
  ZK_ASSIGN_OR_RETURN(const json* conditions, ReadArray(j, at, "conditions"));
  if (conditions)
    for (size_t i = 0; i < conditions->size(); ++i) {
      ZK_ASSIGN_OR_RETURN(ClusterCondition c,
                          ConditionFromJson((*conditions)[i], Indexed(at, "conditions", i)));
      st.conditions.push_back(std::move(c));
    }
  ZK_RETURN_IF_ERROR(Read(j, at, "currentRevision", st.current_revision));
  ZK_RETURN_IF_ERROR(Read(j, at, "currentVersion", st.current_version));
  ZK_RETURN_IF_ERROR(Read(j, at, "targetVersion", st.target_version));
  ZK_RETURN_IF_ERROR(Read(j, at, "replicas", st.replicas));
  ZK_RETURN_IF_ERROR(Read(j, at, "readyReplicas", st.ready_replicas));
  ZK_RETURN_IF_ERROR(Read(j, at, "leader", st.leader));
  ZK_ASSIGN_OR_RETURN(const json* members, ReadArray(j, at, "members"));
  if (members)
    for (size_t i = 0; i < members->size(); ++i) {
      ZK_ASSIGN_OR_RETURN(MemberStatus m, MemberFromJson((*members)[i], Indexed(at, "members", i)));
      st.members.push_back(std::move(m));
    }
  ZK_RETURN_IF_ERROR(Read(j, at, "lastRestartRequest", st.last_restart_request));
  ZK_ASSIGN_OR_RETURN(const json* operation, ReadObject(j, at, "operation"));
  if (operation) {
    ZK_ASSIGN_OR_RETURN(ClusterOperation op, OperationFromJson(*operation, "status.operation"));
    st.operation = std::move(op);
  }
  ZK_ASSIGN_OR_RETURN(const json* operations, ReadArray(j, at, "operations"));
  if (operations)
    for (size_t i = 0; i < operations->size(); ++i) {
      ZK_ASSIGN_OR_RETURN(ClusterOperation op,
                          OperationFromJson((*operations)[i], Indexed(at, "operations", i)));
      op.steps.clear();
      st.operations.push_back(std::move(op));
    }
  return st;
}

// ---------------------------------------------------------------- resource

std::string ZooKeeperCluster::Name() const { return metadata.value("name", ""); }
std::string ZooKeeperCluster::Namespace() const { return metadata.value("namespace", ""); }
std::string ZooKeeperCluster::Uid() const { return metadata.value("uid", ""); }
int64_t ZooKeeperCluster::Generation() const {
  auto it = metadata.find("generation");
  return it != metadata.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}
bool ZooKeeperCluster::Deleting() const {
  auto it = metadata.find("deletionTimestamp");
  return it != metadata.end() && !it->is_null();
}
bool ZooKeeperCluster::HasFinalizer(std::string_view finalizer) const {
  auto it = metadata.find("finalizers");
  if (it == metadata.end() || !it->is_array()) return false;
  for (const auto& f : *it)
    if (f.is_string() && f.get<std::string>() == finalizer) return true;
  return false;
}

json ClusterToJson(const ZooKeeperCluster& c) {
  return {{"apiVersion", kClusterApiVersion},
          {"kind", kClusterKind},
          {"metadata", c.metadata},
          {"spec", SpecToJson(c.spec)},
          {"status", StatusToJson(c.status)}};
}

Result<ZooKeeperCluster> ClusterFromJson(const json& object) {
  if (!object.is_object()) return WrongType("ZooKeeperCluster", "an object", object);
  if (object.value("kind", "") != kClusterKind)
    return Status::InvalidInput("kind: expected " + std::string(kClusterKind) + ", got " +
                                object.value("kind", json()).dump());
  ZooKeeperCluster c;
  ZK_ASSIGN_OR_RETURN(const json* metadata, ReadObject(object, "", "metadata"));
  if (metadata) c.metadata = *metadata;
  ZK_ASSIGN_OR_RETURN(c.spec, SpecFromJson(object.value("spec", json())));
  ZK_ASSIGN_OR_RETURN(c.status, StatusFromJson(object.value("status", json())));
  return c;
}

json ClusterApplyObject(const std::string& name, const std::string& namespace_,
                        const ClusterSpec& spec) {
  return {{"apiVersion", kClusterApiVersion},
          {"kind", kClusterKind},
          {"metadata", {{"name", name}, {"namespace", namespace_}}},
          {"spec", SpecToJson(spec)}};
}

// ---------------------------------------------------------------- conditions

bool SetCondition(std::vector<ClusterCondition>& conditions, ClusterCondition c, int64_t now_millis) {
  for (auto& old : conditions) {
    if (old.type != c.type) continue;
    c.last_transition_time = old.status == c.status ? old.last_transition_time : now_millis;
    bool changed = old.status != c.status || old.reason != c.reason || old.message != c.message ||
                   old.observed_generation != c.observed_generation;
    old = std::move(c);
    return changed;
  }
  c.last_transition_time = now_millis;
  conditions.push_back(std::move(c));
  return true;
}

const ClusterCondition* FindCondition(const std::vector<ClusterCondition>& conditions, std::string_view type) {
  for (const auto& c : conditions)
    if (c.type == type) return &c;
  return nullptr;
}

bool IsConditionTrue(const std::vector<ClusterCondition>& conditions, std::string_view type) {
  const ClusterCondition* c = FindCondition(conditions, type);
  return c && c->status == "True";
}

bool RemoveCondition(std::vector<ClusterCondition>& conditions, std::string_view type) {
  auto it = std::remove_if(conditions.begin(), conditions.end(),
                           [&](const ClusterCondition& c) { return c.type == type; });
  bool removed = it != conditions.end();
  conditions.erase(it, conditions.end());
  return removed;
}

}  // namespace zkpilot
