#include "platform/kubernetes/crd.h"

#include <cmath>

#include "platform/kubernetes/cluster_resource.h"

namespace zkpilot {
namespace {

OrderedJson Field(const char* type, const std::string& description) {
  return OrderedJson{{"type", type}, {"description", description}};
}

OrderedJson Object(const std::string& description, OrderedJson properties) {
  return OrderedJson{
      {"type", "object"}, {"description", description}, {"properties", std::move(properties)}};
}

OrderedJson Array(const std::string& description, OrderedJson items) {
  return OrderedJson{{"type", "array"}, {"description", description}, {"items", std::move(items)}};
}

OrderedJson Number(double v) {
  if (v == std::floor(v) && std::fabs(v) < 9.0e15) return static_cast<int64_t>(v);
  return v;
}

const char* ChangePhrase(ChangePolicy c) {
  switch (c) {
    case ChangePolicy::kDynamic:
      return "applied without restarting ZooKeeper";
    case ChangePolicy::kRolling:
      return "a quorum-gated rolling restart, the leader last";
    case ChangePolicy::kReconfig:
      return "dynamic reconfiguration, one server at a time";
    case ChangePolicy::kImmutable:
      return "cannot change after the first deploy";
  }
  return "";
}

std::string ParamDescription(const ParamSpec& p) {
  std::string text = p.description;
  std::string facts;
  if (p.default_value.is_null()) {
    facts = p.required ? "required" : "no default";
  } else {
    bool empty_string = p.default_value.is_string() && p.default_value.get<std::string>().empty();
    facts = "default: " + (empty_string ? std::string("\"\"") : DisplayValue(p.default_value));
  }
  facts += std::string("; on change: ") + ChangePhrase(p.change);
  return text.empty() ? facts : text + " (" + facts + ")";
}

// The enum of a parameter as values of its type (the package keeps them as
// strings). Empty when one does not convert: then the operator checks it.
OrderedJson TypedEnum(const ParamSpec& p) {
  OrderedJson out = OrderedJson::array();
  for (const auto& e : p.enum_values) {
    if (p.type == ParamType::kString) {
      out.push_back(e);
      continue;
    }
    nlohmann::json v = TypePlainScalar(e);
    if (p.type == ParamType::kInteger && v.is_number_integer())
      out.push_back(v.get<int64_t>());
    else if (p.type == ParamType::kNumber && v.is_number())
      out.push_back(v.get<double>());
    else if (p.type == ParamType::kBoolean && v.is_boolean())
      out.push_back(v.get<bool>());
    else
      return OrderedJson::array();
  }
  return out;
}

OrderedJson ParamSchema(const ParamSpec& p) {
  OrderedJson s;
  switch (p.type) {
    case ParamType::kString:
      s["type"] = "string";
      break;
    case ParamType::kInteger:
      s["type"] = "integer";
      break;
    case ParamType::kNumber:
      s["type"] = "number";
      break;
    case ParamType::kBoolean:
      s["type"] = "boolean";
      break;
    case ParamType::kObject:
      s["type"] = "object";
      s["x-kubernetes-preserve-unknown-fields"] = true;
      break;
    case ParamType::kList:
      s["type"] = "array";
      // A list with a pattern is a list of strings matching it (see
      // CheckParamValue); others hold free-form items.
      if (p.pattern.empty()) {
        s["items"] = OrderedJson{{"x-kubernetes-preserve-unknown-fields", true}};
      } else {
        s["items"] = OrderedJson{{"type", "string"}};
        if (auto pattern = CrdPattern(p.pattern)) s["items"]["pattern"] = *pattern;
      }
      break;
  }
  s["description"] = ParamDescription(p);
  if (p.type == ParamType::kInteger || p.type == ParamType::kNumber) {
    if (p.min) s["minimum"] = Number(*p.min);
    if (p.max) s["maximum"] = Number(*p.max);
  }
  if (!p.enum_values.empty()) {
    OrderedJson e = TypedEnum(p);
    if (!e.empty()) s["enum"] = std::move(e);
  }
  if (p.type == ParamType::kString && !p.pattern.empty())
    if (auto pattern = CrdPattern(p.pattern)) s["pattern"] = *pattern;
  return s;
}

void AddRequired(OrderedJson& node, const std::string& key) {
  if (!node.contains("required")) node["required"] = OrderedJson::array();
  for (const auto& k : node["required"])
    if (k == key) return;
  node["required"].push_back(key);
}

OrderedJson TimeField(const std::string& description) {
  OrderedJson f = Field("string", description);
  f["format"] = "date-time";
  return f;
}

OrderedJson ConditionsSchema() {
  OrderedJson condition =
      Object("A metav1.Condition.",
             {{"type", Field("string", "Ready, Degraded, Progressing or Valid.")},
              {"status", Field("string", "True, False or Unknown.")},
              {"reason", Field("string",
                               "Why, in CamelCase: QuorumAvailable, NoQuorum, "
                               "Upgrading, InvalidValues, ...")},
              {"message", Field("string", "Details for people.")},
              {"lastTransitionTime", TimeField("When the status last changed.")},
              {"observedGeneration",
               Field("integer", "The metadata.generation the condition was set for.")}});
  condition["properties"]["status"]["enum"] = {"True", "False", "Unknown"};
  condition["required"] = {"type", "status"};
  OrderedJson list =
      Array("The cluster's conditions: Ready, Degraded, Progressing, Valid.", condition);
  list["x-kubernetes-list-type"] = "map";
  list["x-kubernetes-list-map-keys"] = {"type"};
  return list;
}

OrderedJson OperationSchema(bool with_steps) {
  OrderedJson props = {
      {"id", Field("integer", "The operation's number, increasing per cluster.")},
      {"type", Field("string", "deploy, upgrade, configure, restart, scale, rollback or delete.")},
      {"revision",
       Field("integer",
             "The revision (ControllerRevision <cluster>-r<N>) it brings the cluster to.")},
      {"phase", Field("string", "Running, Succeeded or Failed.")},
      {"error", Field("string", "Why it failed.")},
      {"startedAt", TimeField("When it started.")},
      {"finishedAt", TimeField("When it finished; absent while it runs.")}};
  props["phase"]["enum"] = {"Running", "Succeeded", "Failed"};
  if (with_steps) {
    OrderedJson args = Field("object", "The step's arguments, e.g. {\"node\": 2}.");
    args["x-kubernetes-preserve-unknown-fields"] = true;
    OrderedJson step =
        Object("One step of the plan.",
               {{"index", Field("integer", "0-based position in the plan.")},
                {"kind", Field("string",
                               "What the step does: wait-healthy, restart-node, "
                               "reconfig-add, run-hooks, ...")},
                {"description", Field("string", "The step for people.")},
                {"args", args},
                {"status", Field("string", "pending, running, done, failed or skipped.")},
                {"detail", Field("string", "Its outcome or error.")},
                {"startedAt", TimeField("When it started.")},
                {"finishedAt", TimeField("When it finished.")}});
    step["properties"]["status"]["enum"] = {"pending", "running", "done", "failed", "skipped"};
    props["steps"] =
        Array("The plan's steps: the journal an interrupted operation resumes from.", step);
  }
  return Object(
      with_steps ? "The running (or last) operation and its journal." : "A past operation.", props);
}

OrderedJson StatusSchema() {
  OrderedJson member = Object(
      "One ZooKeeper server.",
      {{"id", Field("integer", "The server's id (myid).")},
       {"role", Field("string", "leader, follower or observer; empty when it does not answer.")},
       {"version", Field("string", "The ZooKeeper version it runs.")},
       {"zxid", Field("string", "The last transaction id it has seen, in hex.")},
       {"ready", Field("boolean", "It serves clients and is in sync.")},
       {"pod", Field("string", "Its pod.")},
       {"podUID", Field("string", "Its pod's uid (a new uid: the pod was replaced).")},
       {"restarts", Field("integer", "Container restarts of its pod.")}});
  member["required"] = {"id"};
  OrderedJson members = Array("The servers, by id.", member);
  members["x-kubernetes-list-type"] = "map";
  members["x-kubernetes-list-map-keys"] = {"id"};
  OrderedJson props = {
      {"observedGeneration",
       Field("integer", "The metadata.generation the operator last acted on.")},
      {"phase", Field("string", "Deploying, Running, Updating, Failed or Deleting.")},
      {"conditions", ConditionsSchema()},
      {"currentRevision",
       Field("integer", "The revision the cluster runs (ControllerRevision <cluster>-r<N>).")},
      {"currentVersion", Field("string", "The ZooKeeper version the cluster runs.")},
      {"targetVersion", Field("string", "The ZooKeeper version the spec asks for.")},
      {"replicas", Field("integer", "Servers the cluster should have.")},
      {"readyReplicas", Field("integer", "Servers that are ready.")},
      {"ready", Field("string", "readyReplicas/replicas, for printing.")},
      {"leader", Field("integer", "The leader's id; 0 when there is none.")},
      {"members", members},
      {"lastRestartRequest", Field("string", "The spec.restartRequest last carried out.")},
      {"operation", OperationSchema(true)},
      {"operations",
       Array("The last " + std::to_string(kOperationHistoryLimit) + " operations, newest last.",
             OperationSchema(false))}};
  props["phase"]["enum"] = {"Deploying", "Running", "Updating", "Failed", "Deleting"};
  return Object("What the operator observed and did. Written by the operator only.", props);
}

OrderedJson SpecSchema(const Package& package) {
  OrderedJson hash = Field("string", "SHA-256 of the package's files; the operator checks it.");
  hash["pattern"] = "^[0-9a-f]{64}$";
  OrderedJson pkg =
      Object("The package the cluster runs, stored in the cluster as immutable ConfigMaps.",
             {{"name", Field("string", "The package's name, e.g. zookeeper.")},
              {"version", Field("string", "The package's version.")},
              {"configMap", Field("string",
                                  "The first ConfigMap holding it "
                                  "(zkpilot-pkg-<name>-<hash12>), in this namespace.")},
              {"hash", hash}});
  pkg["required"] = {"name", "version", "configMap", "hash"};
  OrderedJson values = ValuesSchema(package.schema);
  OrderedJson spec = Object(
      "The desired state.",
      {{"package", pkg},
       {"values", values},
       {"restartRequest", Field("string",
                                "Any new value asks for one rolling restart of every server "
                                "(zkpilot restart sets it).")},
       {"purgeDataOnDelete", Field("boolean",
                                   "Deleting the resource also deletes the servers' "
                                   "PersistentVolumeClaims (zkpilot delete --purge-data).")}});
  spec["required"] = {"package"};
  if (values.contains("required")) spec["required"].push_back("values");
  return spec;
}

OrderedJson PrinterColumn(const char* name, const char* type, const char* path,
                          const char* description, int priority = 0) {
  OrderedJson c = {
      {"name", name}, {"type", type}, {"jsonPath", path}, {"description", description}};
  if (priority) c["priority"] = priority;
  return c;
}

}  // namespace

std::optional<std::string> CrdPattern(const std::string& p) {
  // RE2 has no lookaround and no back-references.
  for (const char* unsupported : {"(?=", "(?!", "(?<=", "(?<!"})
    if (p.find(unsupported) != std::string::npos) return std::nullopt;
  for (size_t i = 0; i + 1 < p.size(); ++i) {
    if (p[i] != '\\') continue;
    if (p[i + 1] >= '1' && p[i + 1] <= '9') return std::nullopt;
    ++i;  // skip the escaped character
  }
  return "^(?:" + p + ")$";
}

OrderedJson ValuesSchema(const Schema& schema) {
  OrderedJson root = {{"type", "object"},
                      {"description",
                       "The package's parameters, nested by their dotted names "
                       "(metrics.enabled is values.metrics.enabled). Parameters left out "
                       "take the package's defaults."},
                      {"properties", OrderedJson::object()}};
  for (const auto& p : schema.params) {
    OrderedJson* node = &root;
    std::string prefix;
    size_t start = 0;
    for (size_t dot; (dot = p.name.find('.', start)) != std::string::npos; start = dot + 1) {
      const std::string key = p.name.substr(start, dot - start);
      prefix += (prefix.empty() ? "" : ".") + key;
      if (p.required) AddRequired(*node, key);
      OrderedJson& props = (*node)["properties"];
      if (!props.contains(key))
        props[key] = Object("The " + prefix + ".* parameters.", OrderedJson::object());
      node = &props[key];
    }
    const std::string leaf = p.name.substr(start);
    if (p.required) AddRequired(*node, leaf);
    (*node)["properties"][leaf] = ParamSchema(p);
  }
  return root;
}

OrderedJson GenerateCrd(const Package& package) {
  OrderedJson name = Field("string", "The cluster's name: a DNS label of at most 40 characters.");
  name["maxLength"] = 40;
  name["pattern"] = "^[a-z]([-a-z0-9]*[a-z0-9])?$";
  OrderedJson root = {
      {"type", "object"},
      {"description",
       "A ZooKeeper ensemble run by the zkpilot operator from the package \"" + package.name +
           "\": rolling changes one server at a time with the leader last, gated on quorum "
           "health; scaling by dynamic reconfiguration."},
      {"properties",
       {{"apiVersion", Field("string", "zkpilot.io/v1alpha1")},
        {"kind", Field("string", "ZooKeeperCluster")},
        {"metadata", {{"type", "object"}, {"properties", {{"name", name}}}}},
        {"spec", SpecSchema(package)},
        {"status", StatusSchema()}}},
      {"required", {"spec"}}};
  OrderedJson columns = OrderedJson::array({
      PrinterColumn("Ready", "string", ".status.ready", "Ready servers / servers."),
      PrinterColumn("Replicas", "integer", ".status.replicas", "Servers the cluster should have."),
      PrinterColumn("Leader", "integer", ".status.leader", "The leader's id."),
      PrinterColumn("Version", "string", ".status.currentVersion",
                    "The ZooKeeper version it runs."),
      PrinterColumn("Phase", "string", ".status.phase",
                    "Deploying, Running, Updating, Failed, Deleting."),
      PrinterColumn("Operation", "string", ".status.operation.type",
                    "The running (or last) operation."),
      PrinterColumn("Target", "string", ".status.targetVersion", "The version the spec asks for.",
                    1),
      PrinterColumn("Revision", "integer", ".status.currentRevision",
                    "The revision the cluster runs.", 1),
      PrinterColumn("Age", "date", ".metadata.creationTimestamp", "Time since creation."),
  });
  return OrderedJson{
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata",
       {{"name", kClusterCrdName},
        {"labels", {{kLabelManagedBy, kManagedByValue}}},
        {"annotations",
         {{"zkpilot.io/package", package.name}, {"zkpilot.io/package-version", package.version}}}}},
      {"spec",
       {{"group", kClusterGroup},
        {"scope", "Namespaced"},
        {"names",
         {{"plural", kClusterPlural},
          {"singular", kClusterSingular},
          {"kind", kClusterKind},
          {"listKind", std::string(kClusterKind) + "List"},
          {"shortNames", {kClusterShortName}},
          {"categories", {"zkpilot"}}}},
        {"versions", OrderedJson::array({{{"name", kClusterVersion},
                                          {"served", true},
                                          {"storage", true},
                                          {"subresources", {{"status", OrderedJson::object()}}},
                                          {"additionalPrinterColumns", columns},
                                          {"schema", {{"openAPIV3Schema", root}}}}})}}}};
}

}  // namespace zkpilot
