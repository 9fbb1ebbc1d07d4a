#include "values/values.h"

#include <algorithm>

#include "util/numbers.h"
#include "util/yaml_json.h"

namespace zkpilot {
namespace {

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string UnknownParameter(const Schema& schema, const std::string& name) {
  std::string best;
  size_t best_d = 4;
  for (const auto& p : schema.params) {
    size_t d = EditDistance(name, p.name);
    if (d < best_d) best_d = d, best = p.name;
  }
  std::string msg = "unknown parameter " + name;
  if (!best.empty()) msg += " (did you mean " + best + "?)";
  else msg += " (zkpilot params PACKAGE lists them)";
  return msg;
}

bool IsPrefixOfParam(const Schema& schema, const std::string& prefix) {
  for (const auto& p : schema.params)
    if (p.name.rfind(prefix + ".", 0) == 0) return true;
  return false;
}

// Value of a YAML node for a parameter: string parameters take a plain
// scalar's text as is ("version: 3.9" is the string "3.9").
nlohmann::json NodeValue(const ParamSpec& spec, const YAML::Node& node) {
  if (spec.type == ParamType::kString && node.IsScalar()) return node.Scalar();
  nlohmann::json v = nlohmann::json(YamlToJson(node));
  if (spec.type == ParamType::kNumber && v.is_number_integer()) v = v.get<double>();
  return v;
}

Status MergeFile(const Schema& schema, const std::string& file, const YAML::Node& node,
                 const std::string& prefix, Values& values) {
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    const std::string where = file + ":" + std::to_string(kv.first.Mark().line + 1);
    if (const ParamSpec* spec = schema.Find(name)) {
      if (kv.second.IsNull())
        return Status::InvalidInput(where + ": " + name + ": empty value (remove the line to keep the default)");
      // YAML reads "0x3", "+3" and "0o7" as integers too; people mean
      // different things by them, so integers are decimal digits only.
      if (spec->type == ParamType::kInteger && kv.second.IsScalar() && kv.second.Tag() == "?" &&
          !ParseDecimalInteger(kv.second.Scalar()))
        return Status::InvalidInput(where + ": " + name + ": " + NotAWholeNumber(kv.second.Scalar()));
      nlohmann::json v = NodeValue(*spec, kv.second);
      std::string err = CheckParamValue(*spec, v);
      if (!err.empty()) return Status::InvalidInput(where + ": " + name + ": " + err);
      values.Set(name, std::move(v), where);
    } else if (kv.second.IsMap() && IsPrefixOfParam(schema, name)) {
      ZK_RETURN_IF_ERROR(MergeFile(schema, file, kv.second, name, values));
    } else {
      return Status::InvalidInput(where + ": " + UnknownParameter(schema, name));
    }
  }
  return Status::Ok();
}

}  // namespace

nlohmann::json Values::Nested() const {
  nlohmann::json root = nlohmann::json::object();
  for (const auto& [name, value] : flat_) {
    nlohmann::json* cur = &root;
    size_t start = 0;
    for (size_t dot; (dot = name.find('.', start)) != std::string::npos; start = dot + 1)
      cur = &(*cur)[name.substr(start, dot - start)];
    (*cur)[name.substr(start)] = value;
  }
  return root;
}

Result<nlohmann::json> ParseTypedValue(const ParamSpec& spec, const std::string& text) {
  auto bad = [&] {
    return Status::InvalidInput(spec.name + ": expected " + ParamTypeName(spec.type) + ", got \"" + text + "\"");
  };
  switch (spec.type) {
    case ParamType::kString:
      return nlohmann::json(text);
    case ParamType::kInteger: {
      const auto v = ParseDecimalInteger(text);
      if (!v) return Status::InvalidInput(spec.name + ": " + NotAWholeNumber(text));
      return nlohmann::json(*v);
    }
    case ParamType::kNumber: {
      nlohmann::json v = TypePlainScalar(text);
      if (!v.is_number()) return bad();
      return nlohmann::json(v.get<double>());
    }
    case ParamType::kBoolean: {
      nlohmann::json v = TypePlainScalar(text);
      if (!v.is_boolean()) return bad();
      return v;
    }
    case ParamType::kObject:
    case ParamType::kList: {
      auto node = ParseYaml(text, "--set " + spec.name);
      if (!node.ok()) return node.status();
      return nlohmann::json(YamlToJson(*node));
    }
  }
  return bad();
}

std::string EvenReplicasWarning(int64_t n) {
  if (n <= 0 || n % 2 != 0) return "";
  return "replicas=" + std::to_string(n) + " is even: it tolerates no more failures than " + std::to_string(n - 1) +
         " servers and needs a larger quorum";
}

Result<Values> ResolveValues(const Schema& schema, const ValuesInput& input) {
  Values values;
  for (const auto& p : schema.params)
    if (!p.default_value.is_null()) values.Set(p.name, p.default_value, "default");
  if (!input.new_cluster_platform.empty())
    for (const auto& p : schema.params) {
      const auto& on = p.new_cluster_platforms;
      if (p.new_cluster_default.is_null()) continue;
      if (!on.empty() && std::find(on.begin(), on.end(), input.new_cluster_platform) == on.end()) continue;
      values.Set(p.name, p.new_cluster_default, kNewClusterDefault);
    }

  for (const auto& [file, text] : input.files) {
    ZK_ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(text, file));
    if (root.IsNull()) continue;  // an empty file sets nothing
    if (!root.IsMap())
      return Status::InvalidInput(file + ": a values file must be a YAML map of parameter names to values");
    ZK_RETURN_IF_ERROR(MergeFile(schema, file, root, "", values));
  }

  for (const auto& assignment : input.sets) {
    size_t eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::InvalidInput("--set " + assignment + ": expected key=value");
    const std::string name = assignment.substr(0, eq);
    const ParamSpec* spec = schema.Find(name);
    if (!spec) return Status::InvalidInput("--set " + assignment + ": " + UnknownParameter(schema, name));
    auto v = ParseTypedValue(*spec, assignment.substr(eq + 1));
    if (!v.ok()) return v.status().WithContext("--set " + assignment);
    std::string err = CheckParamValue(*spec, *v);
    if (!err.empty()) return Status::InvalidInput("--set " + assignment + ": " + name + ": " + err);
    values.Set(name, std::move(v).value(), "--set");
  }

  ZK_RETURN_IF_ERROR(ValidateValues(schema, values));
  return values;
}

}  // namespace zkpilot
