// ParsePackage: file contents -> Package, with errors naming file and line.
#include <algorithm>
#include <regex>
#include <set>

#include "package/package_loader.h"
#include "util/yaml_json.h"

namespace zkpilot {
namespace {

constexpr const char* kMetadataFile = "package.yaml";
constexpr const char* kParametersFile = "parameters.yaml";
constexpr const char* kHooksFile = "hooks.yaml";

// "parameters.yaml:14" for a node of a file.
std::string Where(const std::string& file, const YAML::Node& node) {
  if (!node.IsDefined() || node.Mark().is_null()) return file;
  return file + ":" + std::to_string(node.Mark().line + 1);
}

Status Invalid(const std::string& file, const YAML::Node& node, const std::string& msg) {
  return Status::InvalidInput(Where(file, node) + ": " + msg);
}

// Fails on keys of `map` not in `allowed`: catches typos in package files.
Status CheckKeys(const std::string& file, const YAML::Node& map, const std::set<std::string>& allowed,
                 const std::string& what) {
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    if (!allowed.count(key)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return Invalid(file, kv.first, what + ": unknown key \"" + key + "\" (allowed: " + list + ")");
    }
  }
  return Status::Ok();
}

Result<std::string> RequiredString(const std::string& file, const YAML::Node& map,
                                   const std::string& key, const std::string& what) {
  YAML::Node n = map[key];
  if (!n.IsDefined() || n.IsNull()) return Invalid(file, map, what + ": missing required key \"" + key + "\"");
  if (!n.IsScalar()) return Invalid(file, n, what + ": \"" + key + "\" must be a string");
  return n.Scalar();
}

std::string OptionalString(const YAML::Node& map, const std::string& key) {
  YAML::Node n = map[key];
  return n.IsDefined() && n.IsScalar() ? n.Scalar() : "";
}

Result<bool> OptionalBool(const std::string& file, const YAML::Node& map, const std::string& key,
                          const std::string& what) {
  YAML::Node n = map[key];
  if (!n.IsDefined() || n.IsNull()) return false;
  auto v = TypePlainScalar(n.IsScalar() ? n.Scalar() : "?");
  if (!n.IsScalar() || !v.is_boolean()) return Invalid(file, n, what + ": \"" + key + "\" must be true or false");
  return v.get<bool>();
}

Result<YAML::Node> LoadMap(const PackageFiles& files, const std::string& name, bool required) {
  auto it = files.find(name);
  if (it == files.end()) {
    if (required)
      return Status::InvalidInput(name + ": missing; a package needs " + name +
                                  (name == kMetadataFile ? " (its metadata)" : " (its parameter schema)"));
    return YAML::Node(YAML::NodeType::Map);
  }
  ZK_ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(it->second, name));
  if (root.IsNull()) return YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) return Invalid(name, root, "must be a YAML map");
  return root;
}

Status ParseMetadata(const YAML::Node& root, Package& pkg) {
  const std::string f = kMetadataFile;
  ZK_RETURN_IF_ERROR(CheckKeys(f, root,
                               {"apiVersion", "kind", "name", "version", "description", "versionParameter",
                                "versions", "upgradePaths", "files", "addons"},
                               "package metadata"));
  ZK_ASSIGN_OR_RETURN(pkg.api_version, RequiredString(f, root, "apiVersion", "package metadata"));
  if (pkg.api_version != "zkpilot.io/v1")
    return Invalid(f, root["apiVersion"], "apiVersion \"" + pkg.api_version + "\" is not supported (use zkpilot.io/v1)");
  ZK_ASSIGN_OR_RETURN(std::string kind, RequiredString(f, root, "kind", "package metadata"));
  if (kind != "Package") return Invalid(f, root["kind"], "kind must be Package, not \"" + kind + "\"");
  ZK_ASSIGN_OR_RETURN(pkg.name, RequiredString(f, root, "name", "package metadata"));
  if (!std::regex_match(pkg.name, std::regex("[a-z0-9]([-a-z0-9]*[a-z0-9])?")))
    return Invalid(f, root["name"], "name \"" + pkg.name + "\" must be lower-case letters, digits and '-'");
  ZK_ASSIGN_OR_RETURN(pkg.version, RequiredString(f, root, "version", "package metadata"));
  pkg.description = OptionalString(root, "description");
  if (root["versionParameter"].IsDefined()) pkg.version_parameter = OptionalString(root, "versionParameter");

  YAML::Node versions = root["versions"];
  if (!versions.IsDefined() || !versions.IsSequence() || versions.size() == 0)
    return Invalid(f, versions.IsDefined() ? versions : root, "versions: must be a non-empty list");
  for (const auto& v : versions) {
    if (!v.IsMap()) return Invalid(f, v, "versions: each entry must be a map");
    ZK_RETURN_IF_ERROR(CheckKeys(f, v, {"version", "image", "distribution"}, "versions"));
    VersionSpec spec;
    ZK_ASSIGN_OR_RETURN(spec.version, RequiredString(f, v, "version", "versions"));
    ZK_ASSIGN_OR_RETURN(spec.image, RequiredString(f, v, "image", "version " + spec.version));
    spec.distribution = OptionalString(v, "distribution");
    if (pkg.FindVersion(spec.version))
      return Invalid(f, v, "versions: " + spec.version + " is listed twice");
    pkg.versions.push_back(spec);
  }
  for (const auto& p : root["upgradePaths"]) {
    ZK_RETURN_IF_ERROR(CheckKeys(f, p, {"from", "to"}, "upgradePaths"));
    UpgradePath path;
    ZK_ASSIGN_OR_RETURN(path.from, RequiredString(f, p, "from", "upgradePaths"));
    if (!p["to"].IsSequence()) return Invalid(f, p, "upgradePaths: \"to\" must be a list of versions");
    for (const auto& t : p["to"]) path.to.push_back(t.Scalar());
    pkg.upgrade_paths.push_back(path);
  }
  for (const auto& file : root["files"]) {
    ZK_RETURN_IF_ERROR(CheckKeys(f, file, {"name", "path", "template", "configHash", "configHashIgnore"}, "files"));
    DeclaredFile d;
    ZK_ASSIGN_OR_RETURN(d.name, RequiredString(f, file, "name", "files"));
    if (!std::regex_match(d.name, std::regex("[A-Za-z][A-Za-z0-9_]*")))
      return Invalid(f, file, "files: name \"" + d.name + "\" must be an identifier (letters, digits, _)");
    ZK_ASSIGN_OR_RETURN(d.path, RequiredString(f, file, "path", "file " + d.name));
    ZK_ASSIGN_OR_RETURN(d.is_template, OptionalBool(f, file, "template", "file " + d.name));
    ZK_ASSIGN_OR_RETURN(d.in_config_hash, OptionalBool(f, file, "configHash", "file " + d.name));
    if (file["configHashIgnore"].IsDefined()) {
      if (!file["configHashIgnore"].IsSequence())
        return Invalid(f, file["configHashIgnore"], "file " + d.name + ": configHashIgnore must be a list of line prefixes");
      for (const auto& prefix : file["configHashIgnore"]) d.hash_ignore.push_back(prefix.Scalar());
    }
    for (const auto& other : pkg.files)
      if (other.name == d.name) return Invalid(f, file, "files: " + d.name + " is declared twice");
    pkg.files.push_back(d);
  }
  for (const auto& a : root["addons"]) {
    ZK_RETURN_IF_ERROR(CheckKeys(f, a, {"name", "description", "enabledBy", "templates"}, "addons"));
    Addon addon;
    ZK_ASSIGN_OR_RETURN(addon.name, RequiredString(f, a, "name", "addons"));
    addon.description = OptionalString(a, "description");
    ZK_ASSIGN_OR_RETURN(addon.enabled_by, RequiredString(f, a, "enabledBy", "add-on " + addon.name));
    ZK_ASSIGN_OR_RETURN(addon.templates_dir, RequiredString(f, a, "templates", "add-on " + addon.name));
    while (!addon.templates_dir.empty() && addon.templates_dir.back() == '/') addon.templates_dir.pop_back();
    pkg.addons.push_back(addon);
  }
  return Status::Ok();
}

Result<ParamSpec> ParseParam(const YAML::Node& p) {
  const std::string f = kParametersFile;
  if (!p.IsMap()) return Invalid(f, p, "parameters: each entry must be a map");
  ZK_ASSIGN_OR_RETURN(std::string name, RequiredString(f, p, "name", "parameter"));
  const std::string what = "parameter " + name;
  ZK_RETURN_IF_ERROR(CheckKeys(f, p,
                               {"name", "type", "default", "description", "required", "min", "max", "enum",
                                "pattern", "change", "format", "newClusterDefault", "newClusterPlatforms"},
                               what));
  if (!std::regex_match(name, std::regex("[A-Za-z][A-Za-z0-9_]*(\\.[A-Za-z][A-Za-z0-9_]*)*")))
    return Invalid(f, p["name"], what + ": name must be dot-separated identifiers");
  ParamSpec spec;
  spec.name = name;
  ZK_ASSIGN_OR_RETURN(std::string type, RequiredString(f, p, "type", what));
  static const std::map<std::string, ParamType> kTypes = {
      {"string", ParamType::kString}, {"integer", ParamType::kInteger}, {"number", ParamType::kNumber},
      {"boolean", ParamType::kBoolean}, {"object", ParamType::kObject}, {"list", ParamType::kList}};
  if (!kTypes.count(type))
    return Invalid(f, p["type"], what + ": unknown type \"" + type + "\" (string, integer, number, boolean, object, list)");
  spec.type = kTypes.at(type);
  spec.description = OptionalString(p, "description");
  ZK_ASSIGN_OR_RETURN(spec.required, OptionalBool(f, p, "required", what));
  for (const char* key : {"min", "max"}) {
    YAML::Node n = p[key];
    if (!n.IsDefined()) continue;
    auto v = TypePlainScalar(n.IsScalar() ? n.Scalar() : "");
    if (!v.is_number()) return Invalid(f, n, what + ": " + key + " must be a number");
    (std::string(key) == "min" ? spec.min : spec.max) = v.get<double>();
  }
  if (spec.min && spec.max && *spec.min > *spec.max) return Invalid(f, p, what + ": min is greater than max");
  if (p["enum"].IsDefined()) {
    if (!p["enum"].IsSequence() || p["enum"].size() == 0) return Invalid(f, p["enum"], what + ": enum must be a non-empty list");
    for (const auto& e : p["enum"]) spec.enum_values.push_back(e.Scalar());
  }
  if (p["format"].IsDefined()) {
    static const std::map<std::string, ValueFormat> kFormats = {{"quantity", ValueFormat::kQuantity},
                                                                {"jvmSize", ValueFormat::kJvmSize}};
    const std::string format = OptionalString(p, "format");
    if (!kFormats.count(format))
      return Invalid(f, p["format"], what + ": format must be quantity or jvmSize, not \"" + format + "\"");
    if (spec.type != ParamType::kString) return Invalid(f, p["format"], what + ": format applies to string parameters");
    spec.format = kFormats.at(format);
  }
  spec.pattern = OptionalString(p, "pattern");
  if (!spec.pattern.empty()) {
    try {
      std::regex re(spec.pattern);
    } catch (const std::regex_error& e) {
      return Invalid(f, p["pattern"], what + ": pattern is not a valid regular expression: " + e.what());
    }
  }
  static const std::map<std::string, ChangePolicy> kChanges = {{"dynamic", ChangePolicy::kDynamic},
                                                               {"rolling", ChangePolicy::kRolling},
                                                               {"reconfig", ChangePolicy::kReconfig},
                                                               {"immutable", ChangePolicy::kImmutable}};
  std::string change = OptionalString(p, "change");
  if (change.empty()) change = "rolling";
  if (!kChanges.count(change))
    return Invalid(f, p["change"], what + ": change must be dynamic, rolling, reconfig or immutable, not \"" + change + "\"");
  spec.change = kChanges.at(change);
  if (p["default"].IsDefined()) {
    spec.default_value = nlohmann::json(YamlToJson(p["default"]));
    if (spec.type == ParamType::kString && p["default"].IsScalar()) spec.default_value = p["default"].Scalar();
    if (spec.type == ParamType::kNumber && spec.default_value.is_number_integer())
      spec.default_value = spec.default_value.get<double>();
    std::string err = CheckParamValue(spec, spec.default_value);
    if (!err.empty()) return Invalid(f, p["default"], what + ": default " + err);
  } else if (!spec.required) {
    return Invalid(f, p, what + ": needs a default unless it is required");
  }
  if (p["newClusterDefault"].IsDefined()) {
    const YAML::Node n = p["newClusterDefault"];
    spec.new_cluster_default = nlohmann::json(YamlToJson(n));
    if (spec.type == ParamType::kString && n.IsScalar()) spec.new_cluster_default = n.Scalar();
    if (spec.type == ParamType::kNumber && spec.new_cluster_default.is_number_integer())
      spec.new_cluster_default = spec.new_cluster_default.get<double>();
    std::string err = CheckParamValue(spec, spec.new_cluster_default);
    if (!err.empty()) return Invalid(f, n, what + ": newClusterDefault " + err);
  }
  if (p["newClusterPlatforms"].IsDefined()) {
    const YAML::Node n = p["newClusterPlatforms"];
    if (spec.new_cluster_default.is_null())
      return Invalid(f, n, what + ": newClusterPlatforms needs a newClusterDefault");
    if (!n.IsSequence() || n.size() == 0)
      return Invalid(f, n, what + ": newClusterPlatforms must be a non-empty list of local, kubernetes");
    for (const auto& e : n) {
      const std::string platform = e.IsScalar() ? e.Scalar() : "";
      if (platform != "local" && platform != "kubernetes")
        return Invalid(f, e, what + ": newClusterPlatforms: unknown platform \"" + platform + "\" (local, kubernetes)");
      spec.new_cluster_platforms.push_back(platform);
    }
  }
  return spec;
}

// `{param: value, ...}` of a constraint (forbid, when): known parameters,
// values of their types.
Result<std::vector<std::pair<std::string, nlohmann::json>>> ParseParamValues(const YAML::Node& map,
                                                                              const Schema& schema,
                                                                              const std::string& what) {
  const std::string f = kParametersFile;
  if (!map.IsMap() || map.size() == 0) return Invalid(f, map, what + ": expects a map of parameter names to values");
  std::vector<std::pair<std::string, nlohmann::json>> out;
  for (const auto& kv : map) {
    const std::string name = kv.first.Scalar();
    const ParamSpec* spec = schema.Find(name);
    if (!spec) return Invalid(f, kv.first, what + ": unknown parameter " + name);
    nlohmann::json v = nlohmann::json(YamlToJson(kv.second));
    if (spec->type == ParamType::kString && kv.second.IsScalar()) v = kv.second.Scalar();
    if (spec->type == ParamType::kNumber && v.is_number_integer()) v = v.get<double>();
    std::string err = CheckParamValue(*spec, v);
    if (!err.empty()) return Invalid(f, kv.second, what + ": " + name + ": " + err);
    out.emplace_back(name, std::move(v));
  }
  return out;
}

// One entry of `constraints:`: exactly one rule key, plus its options.
Status ParseConstraint(const YAML::Node& c, Schema& schema) {
  const std::string f = kParametersFile;
  ZK_RETURN_IF_ERROR(CheckKeys(f, c,
                               {"distinct", "lessOrEqual", "lessThan", "implies", "contains", "forbid", "keepsQuorum",
                                "message", "factor", "items", "when"},
                               "constraint"));
  static const std::pair<const char*, Constraint::Kind> kKinds[] = {
      {"distinct", Constraint::Kind::kDistinct},   {"lessOrEqual", Constraint::Kind::kLessOrEqual},
      {"lessThan", Constraint::Kind::kLessThan},
      {"implies", Constraint::Kind::kImplies},     {"contains", Constraint::Kind::kContains},
      {"forbid", Constraint::Kind::kForbid},       {"keepsQuorum", Constraint::Kind::kKeepsQuorum}};
  Constraint con;
  con.message = OptionalString(c, "message");
  std::string key;
  for (const auto& [k, kind] : kKinds) {
    if (!c[k].IsDefined()) continue;
    if (!key.empty()) return Invalid(f, c, std::string("constraint: both ") + key + " and " + k + "; one rule per entry");
    key = k;
    con.kind = kind;
  }
  if (key.empty()) return Invalid(f, c, "constraint: needs one of distinct, lessOrEqual, lessThan, implies, contains, forbid, keepsQuorum");
  const std::string what = "constraint " + key;
  YAML::Node rule = c[key];

  if (con.kind == Constraint::Kind::kForbid) {
    ZK_ASSIGN_OR_RETURN(con.values, ParseParamValues(rule, schema, what));
    for (const auto& [name, v] : con.values) con.params.push_back(name);
  } else if (con.kind == Constraint::Kind::kContains) {
    if (!rule.IsScalar()) return Invalid(f, rule, what + ": expects one parameter name");
    const ParamSpec* spec = schema.Find(rule.Scalar());
    if (!spec) return Invalid(f, rule, what + ": unknown parameter " + rule.Scalar());
    if (spec->type != ParamType::kString)
      return Invalid(f, rule, what + ": " + rule.Scalar() + " must be a string parameter (a comma-separated list)");
    con.params.push_back(rule.Scalar());
    if (!c["items"].IsDefined() || !c["items"].IsSequence() || c["items"].size() == 0)
      return Invalid(f, c, what + ": needs items, a non-empty list of the entries the list must have");
    for (const auto& item : c["items"]) con.items.push_back(item.Scalar());
  } else {
    if (!rule.IsSequence()) return Invalid(f, c, "constraint: expects a list of parameter names");
    for (const auto& n : rule) {
      const ParamSpec* spec = schema.Find(n.Scalar());
      if (!spec) return Invalid(f, n, "constraint: unknown parameter " + n.Scalar());
      if (con.kind == Constraint::Kind::kImplies && spec->type != ParamType::kBoolean)
        return Invalid(f, n, "constraint implies: " + n.Scalar() + " must be a boolean parameter");
      if (con.kind == Constraint::Kind::kKeepsQuorum && spec->type != ParamType::kInteger)
        return Invalid(f, n, "constraint keepsQuorum: " + n.Scalar() + " must be an integer parameter");
      con.params.push_back(n.Scalar());
    }
    if (con.kind != Constraint::Kind::kDistinct && con.params.size() != 2)
      return Invalid(f, c, "constraint: lessOrEqual, lessThan, implies and keepsQuorum take exactly two parameters");
    if (con.kind == Constraint::Kind::kLessOrEqual || con.kind == Constraint::Kind::kLessThan) {
      const ParamSpec* a = schema.Find(con.params[0]);
      const ParamSpec* b = schema.Find(con.params[1]);
      auto numeric = [](const ParamSpec* p) {
        return p->type == ParamType::kInteger || p->type == ParamType::kNumber || p->format != ValueFormat::kNone;
      };
      if (!numeric(a) || !numeric(b))
        return Invalid(f, rule, what + ": compares numbers, or strings with a format (quantity, jvmSize)");
    }
  }
  if (c["factor"].IsDefined()) {
    auto v = TypePlainScalar(c["factor"].IsScalar() ? c["factor"].Scalar() : "");
    if (con.kind != Constraint::Kind::kLessOrEqual && con.kind != Constraint::Kind::kLessThan)
      return Invalid(f, c["factor"], what + ": factor applies to lessOrEqual and lessThan");
    if (!v.is_number() || v.get<double>() <= 0) return Invalid(f, c["factor"], what + ": factor must be a positive number");
    con.factor = v.get<double>();
  }
  if (c["items"].IsDefined() && con.kind != Constraint::Kind::kContains)
    return Invalid(f, c["items"], what + ": items applies to contains");
  if (c["when"].IsDefined()) {
    ZK_ASSIGN_OR_RETURN(con.when, ParseParamValues(c["when"], schema, what + " when"));
  }
  schema.constraints.push_back(std::move(con));
  return Status::Ok();
}

Status ParseSchema(const YAML::Node& root, Package& pkg) {
  const std::string f = kParametersFile;
  ZK_RETURN_IF_ERROR(CheckKeys(f, root, {"parameters", "constraints"}, "parameter schema"));
  if (!root["parameters"].IsSequence()) return Invalid(f, root, "\"parameters\" must be a list");
  for (const auto& p : root["parameters"]) {
    ZK_ASSIGN_OR_RETURN(ParamSpec spec, ParseParam(p));
    if (pkg.schema.Find(spec.name)) return Invalid(f, p, "parameter " + spec.name + " is declared twice");
    pkg.schema.params.push_back(std::move(spec));
  }
  // A parameter cannot also be the parent of another ("a" and "a.b").
  for (const auto& a : pkg.schema.params)
    for (const auto& b : pkg.schema.params)
      if (b.name.rfind(a.name + ".", 0) == 0)
        return Status::InvalidInput(f + ": parameter " + a.name + " is also the parent of " + b.name);
  for (const auto& c : root["constraints"]) ZK_RETURN_IF_ERROR(ParseConstraint(c, pkg.schema));
  return Status::Ok();
}

// Arguments each hook action requires / accepts.
struct ActionSpec {
  std::set<std::string> required;
  std::set<std::string> optional;
};
const std::map<std::string, ActionSpec>& HookActions() {
  static const std::map<std::string, ActionSpec> kActions = {
      {"create-znode", {{"path"}, {"data", "acl", "secureAcl", "parents", "enforceAcl"}}},
      {"delete-znode", {{"path"}, {"recursive"}}},
      {"set-quota", {{"path"}, {"bytes", "count"}}},
      {"purge-snapshots", {{"retain"}, {}}},
      {"remove-files", {{"paths"}, {}}},
      {"remove-node-data", {{}, {}}},
  };
  return kActions;
}

Status ParseHooks(const YAML::Node& root, Package& pkg) {
  const std::string f = kHooksFile;
  ZK_RETURN_IF_ERROR(CheckKeys(f, root, {"hooks"}, "hooks file"));
  static const std::map<std::string, HookEvent> kEvents = {{"deploy", HookEvent::kDeploy},
                                                           {"upgrade", HookEvent::kUpgrade},
                                                           {"scale", HookEvent::kScale},
                                                           {"delete", HookEvent::kDelete}};
  for (const auto& ev : root["hooks"]) {
    const std::string event = ev.first.Scalar();
    if (!kEvents.count(event))
      return Invalid(f, ev.first, "unknown hook event \"" + event + "\" (deploy, upgrade, scale, delete)");
    ZK_RETURN_IF_ERROR(CheckKeys(f, ev.second, {"init", "cleanup"}, "hook " + event));
    for (const auto& ph : ev.second) {
      Hook hook{kEvents.at(event), ph.first.Scalar() == "init" ? HookPhase::kInit : HookPhase::kCleanup, {}};
      const std::string hook_name = event + "." + ph.first.Scalar();
      if (!ph.second.IsNull() && !ph.second.IsSequence())
        return Invalid(f, ph.second, "hook " + hook_name + ": must be a list of steps");
      for (const auto& s : ph.second) {
        if (!s.IsMap()) return Invalid(f, s, "hook " + hook_name + ": each step must be a map");
        HookStep step;
        ZK_ASSIGN_OR_RETURN(step.name, RequiredString(f, s, "name", "hook " + hook_name + " step"));
        const std::string what = "hook " + hook_name + " step " + step.name;
        ZK_ASSIGN_OR_RETURN(step.action, RequiredString(f, s, "action", what));
        auto it = HookActions().find(step.action);
        if (it == HookActions().end()) {
          std::string list;
          for (const auto& [name, _] : HookActions()) list += (list.empty() ? "" : ", ") + name;
          return Invalid(f, s["action"], what + ": unknown action \"" + step.action + "\" (" + list + ")");
        }
        step.when = OptionalString(s, "when");
        if (!step.when.empty()) {
          const ParamSpec* gate = pkg.schema.Find(step.when);
          if (!gate || gate->type != ParamType::kBoolean)
            return Invalid(f, s["when"], what + ": when must name a boolean parameter, not \"" + step.when + "\"");
        }
        std::set<std::string> allowed = it->second.required;
        allowed.insert(it->second.optional.begin(), it->second.optional.end());
        allowed.insert({"name", "action", "when"});
        ZK_RETURN_IF_ERROR(CheckKeys(f, s, allowed, what));
        for (const auto& req : it->second.required)
          if (!s[req].IsDefined()) return Invalid(f, s, what + ": action " + step.action + " needs \"" + req + "\"");
        step.args = nlohmann::json::object();
        for (const auto& kv : s) {
          const std::string k = kv.first.Scalar();
          if (k != "name" && k != "action" && k != "when") step.args[k] = nlohmann::json(YamlToJson(kv.second));
        }
        if (step.action == "purge-snapshots" &&
            !(step.args["retain"].is_number_integer() && step.args["retain"].get<int64_t>() >= 3))
          return Invalid(f, s["retain"], what + ": retain must be an integer >= 3");
        hook.steps.push_back(std::move(step));
      }
      pkg.hooks.push_back(std::move(hook));
    }
  }
  return Status::Ok();
}

bool HasSuffix(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status CollectTemplates(const PackageFiles& files, Package& pkg) {
  auto collect = [&](const std::string& dir, const std::string& addon) {
    for (const auto& [path, content] : files) {
      if (path.rfind(dir + "/", 0) != 0) continue;
      std::string rest = path.substr(dir.size() + 1);
      if (rest.rfind("partials/", 0) == 0) {
        if (HasSuffix(rest, ".mustache")) {
          std::string name = rest.substr(9, rest.size() - 9 - 9);
          pkg.partials[name] = content;
        }
        continue;
      }
      if (!HasSuffix(rest, ".yaml") && !HasSuffix(rest, ".yml")) continue;
      TemplateFile t;
      t.path = path;
      t.content = content;
      t.addon = addon;
      if (rest.rfind("node/", 0) == 0) t.scope = TemplateScope::kNode;
      else if (rest.find('/') != std::string::npos) continue;  // other subdirectories are not templates
      pkg.templates.push_back(std::move(t));
    }
  };
  collect("templates", "");
  for (const auto& addon : pkg.addons) collect(addon.templates_dir, addon.name);
  if (pkg.templates.empty()) return Status::InvalidInput("templates/: the package has no templates (*.yaml)");
  return Status::Ok();
}

bool IsStructuredPath(const std::string& path) {
  for (const char* ext : {".yaml", ".yml", ".json"})
    if (HasSuffix(path, ext)) return true;
  return false;
}

// Checks between the parts once all are parsed.
Status CrossCheck(const PackageFiles& files, Package& pkg) {
  const ParamSpec* vp = pkg.schema.Find(pkg.version_parameter);
  if (!vp) return Status::InvalidInput(std::string(kMetadataFile) + ": versionParameter " + pkg.version_parameter + " is not a parameter");
  if (vp->type != ParamType::kString)
    return Status::InvalidInput(std::string(kParametersFile) + ": parameter " + vp->name + " selects the version and must be a string");
  std::vector<std::string> listed;
  for (const auto& v : pkg.versions) listed.push_back(v.version);
  std::vector<std::string> en = vp->enum_values;
  std::sort(listed.begin(), listed.end());
  std::sort(en.begin(), en.end());
  if (listed != en)
    return Status::InvalidInput(std::string(kParametersFile) + ": parameter " + vp->name +
                                ": enum must list exactly the versions of package.yaml");
  for (const auto& addon : pkg.addons) {
    const ParamSpec* p = pkg.schema.Find(addon.enabled_by);
    if (!p || p->type != ParamType::kBoolean)
      return Status::InvalidInput(std::string(kMetadataFile) + ": add-on " + addon.name + ": enabledBy " +
                                  addon.enabled_by + " must be a boolean parameter");
  }
  for (auto& d : pkg.files) {
    auto it = files.find(d.path);
    if (it == files.end())
      return Status::InvalidInput(std::string(kMetadataFile) + ": file " + d.name + ": " + d.path + " does not exist in the package");
    d.content = it->second;
    if (!d.is_template && IsStructuredPath(d.path)) {
      ZK_ASSIGN_OR_RETURN(YAML::Node node, ParseYaml(d.content, d.path));
      d.json_text = YamlToJson(node).dump();
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Package> ParsePackage(const PackageFiles& files) {
  Package pkg;
  ZK_ASSIGN_OR_RETURN(YAML::Node meta, LoadMap(files, kMetadataFile, true));
  ZK_RETURN_IF_ERROR(ParseMetadata(meta, pkg));
  ZK_ASSIGN_OR_RETURN(YAML::Node params, LoadMap(files, kParametersFile, true));
  ZK_RETURN_IF_ERROR(ParseSchema(params, pkg));
  ZK_ASSIGN_OR_RETURN(YAML::Node hooks, LoadMap(files, kHooksFile, false));
  ZK_RETURN_IF_ERROR(ParseHooks(hooks, pkg));
  ZK_RETURN_IF_ERROR(CrossCheck(files, pkg));
  ZK_RETURN_IF_ERROR(CollectTemplates(files, pkg));
  return pkg;
}

}  // namespace zkpilot
