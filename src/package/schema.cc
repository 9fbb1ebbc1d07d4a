#include "package/schema.h"

namespace zkpilot {

const ParamSpec* Schema::Find(const std::string& name) const {
  for (const auto& p : params)
    if (p.name == name) return &p;
  return nullptr;
}

const char* ParamTypeName(ParamType t) {
  switch (t) {
    case ParamType::kString: return "string";
    case ParamType::kInteger: return "integer";
    case ParamType::kNumber: return "number";
    case ParamType::kBoolean: return "boolean";
    case ParamType::kObject: return "object";
    case ParamType::kList: return "list";
  }
  return "?";
}

const char* ChangePolicyName(ChangePolicy c) {
  switch (c) {
    case ChangePolicy::kDynamic: return "dynamic";
    case ChangePolicy::kRolling: return "rolling";
    case ChangePolicy::kReconfig: return "reconfig";
    case ChangePolicy::kImmutable: return "immutable";
  }
  return "?";
}

}  // namespace zkpilot

#include <cmath>
#include <regex>

namespace zkpilot {

std::string DisplayValue(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

std::string CheckParamValue(const ParamSpec& spec, const nlohmann::json& v) {
  auto got = [&] {
    std::string kind = v.is_string() ? "string" : v.is_boolean() ? "boolean"
                       : v.is_number_integer() || v.is_number_unsigned() ? "integer"
                       : v.is_number() ? "number" : v.is_object() ? "object"
                       : v.is_array() ? "list" : "null";
    return "expected " + std::string(ParamTypeName(spec.type)) + ", got " + kind + " " + v.dump();
  };
  switch (spec.type) {
    case ParamType::kString:
      if (!v.is_string()) return got();
      break;
    case ParamType::kInteger:
      if (!(v.is_number_integer() || v.is_number_unsigned())) return got();
      break;
    case ParamType::kNumber:
      if (!v.is_number()) return got();
      break;
    case ParamType::kBoolean:
      if (!v.is_boolean()) return got();
      break;
    case ParamType::kObject:
      if (!v.is_object()) return got();
      return "";
    case ParamType::kList:
      if (!v.is_array()) return got();
      return "";
  }
  if (v.is_number()) {
    double d = v.get<double>();
    auto bound = [](double b) {
      return b == std::floor(b) ? std::to_string(static_cast<int64_t>(b)) : nlohmann::json(b).dump();
    };
    if (spec.min && d < *spec.min) return v.dump() + " is below the minimum " + bound(*spec.min);
    if (spec.max && d > *spec.max) return v.dump() + " is above the maximum " + bound(*spec.max);
  }
  if (!spec.enum_values.empty()) {
    std::string text = DisplayValue(v);
    bool found = false;
    for (const auto& e : spec.enum_values) found = found || e == text;
    if (!found) {
      std::string allowed;
      for (const auto& e : spec.enum_values) allowed += (allowed.empty() ? "" : ", ") + e;
      return v.dump() + " is not one of: " + allowed;
    }
  }
  if (!spec.pattern.empty() && v.is_string()) {
    try {
      if (!std::regex_match(v.get<std::string>(), std::regex(spec.pattern)))
        return v.dump() + " does not match the pattern " + spec.pattern;
    } catch (const std::regex_error&) {
      return "the schema's pattern " + spec.pattern + " is not a valid regular expression";
    }
  }
  return "";
}

}  // namespace zkpilot
