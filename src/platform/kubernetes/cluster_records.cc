// The parts of cluster_resource.h that map between the resource and the
// rest of zkpilot: spec.values <-> the schema's flat parameter values, and
// ControllerRevisions / status.operation <-> the ReleaseStore's records.
#include <algorithm>

#include "platform/kubernetes/cluster_resource.h"

namespace zkpilot {
namespace {

using nlohmann::json;

bool IsPrefixOfParam(const Schema& schema, const std::string& prefix) {
  for (const auto& p : schema.params)
    if (p.name.size() > prefix.size() && p.name.compare(0, prefix.size() + 1, prefix + ".") == 0)
      return true;
  return false;
}

Status FlattenInto(const Schema& schema, const json& node, const std::string& prefix,
                   std::map<std::string, json>& out) {
  for (const auto& [key, value] : node.items()) {
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    const std::string field = "spec.values." + name;
    if (value.is_null()) continue;  // as absent: the default applies
    if (const ParamSpec* spec = schema.Find(name)) {
      json v = value;
      if (spec->type == ParamType::kNumber && v.is_number_integer()) v = v.get<double>();
      std::string err = CheckParamValue(*spec, v);
      if (!err.empty()) return Status::InvalidInput(field + ": " + err);
      out[name] = std::move(v);
    } else if (IsPrefixOfParam(schema, name)) {
      if (!value.is_object())
        return Status::InvalidInput(field + ": expected an object (it holds the parameters " +
                                    name + ".*), got " + value.dump());
      ZK_RETURN_IF_ERROR(FlattenInto(schema, value, name, out));
    } else {
      return Status::InvalidInput(field + ": unknown parameter " + name +
                                  " (zkpilot params PACKAGE lists them)");
    }
  }
  return Status::Ok();
}

std::string Annotation(const json& metadata, const char* key) {
  auto annotations = metadata.find("annotations");
  if (annotations == metadata.end() || !annotations->is_object()) return "";
  auto it = annotations->find(key);
  return it != annotations->end() && it->is_string() ? it->get<std::string>() : "";
}

// A step record's spec_json -> kind, args, description; keys other than
// those three are kept in args.
void SplitStepSpec(const std::string& spec_json, OperationStep& step) {
  json spec = json::parse(spec_json, nullptr, /*allow_exceptions=*/false);
  if (!spec.is_object()) return;
  if (spec.contains("kind") && spec["kind"].is_string()) step.kind = spec["kind"];
  if (spec.contains("description") && spec["description"].is_string())
    step.description = spec["description"];
  if (spec.contains("args") && spec["args"].is_object()) step.args = spec["args"];
  for (const auto& [key, value] : spec.items())
    if (key != "kind" && key != "description" && key != "args") step.args[key] = value;
}

}  // namespace

// ---------------------------------------------------------------- values

Result<std::map<std::string, json>> FlattenValues(const Schema& schema, const json& nested) {
  std::map<std::string, json> flat;
  if (nested.is_null()) return flat;
  if (!nested.is_object())
    return Status::InvalidInput("spec.values: expected an object, got " + nested.dump());
  ZK_RETURN_IF_ERROR(FlattenInto(schema, nested, "", flat));
  return flat;
}

json NestValues(const std::map<std::string, json>& flat) {
  Values values;
  for (const auto& [name, value] : flat) values.Set(name, value, "");
  return values.Nested();
}

Result<Values> ResolveSpecValues(const Schema& schema, const json& nested) {
  ZK_ASSIGN_OR_RETURN(auto flat, FlattenValues(schema, nested));
  Values values;
  for (const auto& p : schema.params)
    if (!p.default_value.is_null()) values.Set(p.name, p.default_value, "default");
  for (auto& [name, value] : flat) values.Set(name, std::move(value), "spec.values");
  ZK_RETURN_IF_ERROR(ValidateValues(schema, values));
  return values;
}

// ---------------------------------------------------------------- revisions

std::string ControllerRevisionName(const std::string& cluster, int revision) {
  return cluster + "-r" + std::to_string(revision);
}

std::string RevisionLabelSelector(const std::string& cluster) {
  return std::string(kLabelCluster) + "=" + cluster + "," + kLabelRevision;
}

Result<json> RevisionToControllerRevision(const RevisionRecord& r, const ClusterOwner& owner) {
  json values = json::parse(r.values_json.empty() ? "{}" : r.values_json, nullptr,
                            /*allow_exceptions=*/false);
  if (!values.is_object())
    return Status::Internal("revision " + std::to_string(r.revision) + " of " + r.cluster +
                            ": values are not a JSON object");
  json annotations = {{kAnnotationRevisionStatus, RevisionStatusName(r.status)},
                      {kAnnotationRevisionMessage, r.message}};
  if (r.finished_at != 0) annotations[kAnnotationFinishedAt] = FormatKubeTime(r.finished_at);
  json metadata = {{"name", ControllerRevisionName(r.cluster, r.revision)},
                   {"namespace", owner.namespace_},
                   {"labels",
                    {{kLabelInstance, r.cluster},
                     {kLabelManagedBy, kManagedByValue},
                     {kLabelCluster, r.cluster},
                     {kLabelRevision, std::to_string(r.revision)}}},
                   {"annotations", annotations}};
  if (!owner.uid.empty())
    metadata["ownerReferences"] = json::array({{{"apiVersion", kClusterApiVersion},
                                                {"kind", kClusterKind},
                                                {"name", owner.name},
                                                {"uid", owner.uid},
                                                {"controller", true},
                                                {"blockOwnerDeletion", true}}});
  json data = {{"operation", r.operation},
               {"values", values},
               {"packageVersion", r.package_version},
               {"zkVersion", r.zk_version}};
  if (r.started_at != 0) data["startedAt"] = FormatKubeTime(r.started_at);
  return json{{"apiVersion", "apps/v1"},
              {"kind", "ControllerRevision"},
              {"metadata", metadata},
              {"revision", r.revision},
              {"data", data}};
}

Result<RevisionRecord> RevisionFromControllerRevision(const json& object) {
  const json metadata = object.value("metadata", json::object());
  const std::string name = metadata.value("name", "");
  auto bad = [&](const std::string& msg) {
    return Status::InvalidInput("ControllerRevision " + name + ": " + msg);
  };
  if (object.value("kind", "") != "ControllerRevision") return bad("not a ControllerRevision");
  RevisionRecord r;
  const json labels = metadata.value("labels", json::object());
  r.cluster = labels.is_object() ? labels.value(kLabelCluster, "") : "";
  if (r.cluster.empty()) return bad(std::string("no label ") + kLabelCluster);
  if (!object.contains("revision") || !object["revision"].is_number_integer())
    return bad("no revision number");
  r.revision = object["revision"].get<int>();
  const json data = object.value("data", json());
  if (!data.is_object()) return bad("data is not an object");
  r.operation = data.value("operation", "");
  json values = data.value("values", json::object());
  if (!values.is_object()) return bad("data.values is not an object");
  r.values_json = values.dump();
  r.package_version = data.value("packageVersion", "");
  r.zk_version = data.value("zkVersion", "");
  if (std::string started = data.value("startedAt", ""); !started.empty()) {
    auto t = ParseKubeTime(started);
    if (!t.ok()) return bad("data.startedAt: " + t.status().message());
    r.started_at = *t;
  }
  std::string status = Annotation(metadata, kAnnotationRevisionStatus);
  if (status.empty()) status = "pending";
  auto parsed = ParseRevisionStatus(status);
  if (!parsed)
    return bad(std::string(kAnnotationRevisionStatus) + ": unknown status \"" + status + "\"");
  r.status = *parsed;
  r.message = Annotation(metadata, kAnnotationRevisionMessage);
  if (std::string finished = Annotation(metadata, kAnnotationFinishedAt); !finished.empty()) {
    auto t = ParseKubeTime(finished);
    if (!t.ok()) return bad(std::string(kAnnotationFinishedAt) + ": " + t.status().message());
    r.finished_at = *t;
  }
  return r;
}

json RevisionOutcomePatch(RevisionStatus status, const std::string& message, int64_t finished_at) {
  json annotations = {{kAnnotationRevisionStatus, RevisionStatusName(status)},
                      {kAnnotationRevisionMessage, message}};
  if (finished_at != 0) annotations[kAnnotationFinishedAt] = FormatKubeTime(finished_at);
  return {{"metadata", {{"annotations", annotations}}}};
}

// ---------------------------------------------------------------- operations

ClusterOperation OperationToStatus(const OperationRecord& op) {
  ClusterOperation out;
  out.id = op.id;
  out.type = op.type;
  out.revision = op.revision;
  out.phase = op.status;
  out.error = op.error;
  out.started_at = op.started_at;
  out.finished_at = op.finished_at;
  for (const auto& s : op.steps) {
    OperationStep step;
    step.index = s.index;
    step.description = s.name;
    SplitStepSpec(s.spec_json, step);
    step.status = s.status;
    step.detail = s.detail;
    step.started_at = s.started_at;
    step.finished_at = s.finished_at;
    out.steps.push_back(std::move(step));
  }
  return out;
}

OperationRecord OperationFromStatus(const ClusterOperation& op, const std::string& cluster) {
  OperationRecord out;
  out.id = op.id;
  out.cluster = cluster;
  out.revision = op.revision;
  out.type = op.type;
  out.status = op.phase;
  out.error = op.error;
  out.started_at = op.started_at;
  out.finished_at = op.finished_at;
  for (const auto& s : op.steps) {
    StepRecord step;
    step.index = s.index;
    step.name = s.description;
    step.spec_json =
        json{{"kind", s.kind}, {"args", s.args}, {"description", s.description}}.dump();
    step.status = s.status;
    step.detail = s.detail;
    step.started_at = s.started_at;
    step.finished_at = s.finished_at;
    out.steps.push_back(std::move(step));
  }
  return out;
}

void RecordOperationHistory(ClusterStatus& status, const ClusterOperation& op) {
  ClusterOperation summary = op;
  summary.steps.clear();
  auto& history = status.operations;
  auto it = std::find_if(history.begin(), history.end(),
                         [&](const ClusterOperation& o) { return o.id == op.id; });
  if (it != history.end())
    *it = std::move(summary);
  else
    history.push_back(std::move(summary));
  if (history.size() > static_cast<size_t>(kOperationHistoryLimit))
    history.erase(history.begin(), history.end() - kOperationHistoryLimit);
}

}  // namespace zkpilot
