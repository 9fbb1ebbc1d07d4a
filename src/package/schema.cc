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
#include <string_view>

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
      // A list with a pattern is a list of strings, each matching it
      // (image pull secret names, CIDRs).
      if (spec.pattern.empty()) return "";
      for (size_t i = 0; i < v.size(); ++i) {
        const std::string item = "item " + std::to_string(i + 1) + " ";
        if (!v[i].is_string()) return item + v[i].dump() + " is not a string";
        try {
          if (!std::regex_match(v[i].get<std::string>(), std::regex(spec.pattern)))
            return item + v[i].dump() + " does not match the pattern " + spec.pattern;
        } catch (const std::regex_error&) {
          return "the schema's pattern " + spec.pattern + " is not a valid regular expression";
        }
      }
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
  if (spec.format != ValueFormat::kNone && v.is_string() && !v.get<std::string>().empty() &&
      !ParseFormatted(spec.format, v.get<std::string>())) {
    if (spec.format == ValueFormat::kQuantity)
      return v.dump() + " is not a Kubernetes quantity (e.g. 250m, 1, 1.5, 1e3, 512Mi, 1Gi, 1G)";
    return v.dump() + " is not a JVM memory size (e.g. 512m, 2g)";
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

namespace zkpilot {
namespace {

// Reads "[digits][.digits]" from the front of `s` (at least one digit).
bool TakeDecimal(std::string_view& s, long double& out) {
  long double v = 0;
  bool any = false;
  size_t i = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, any = true) v = v * 10 + (s[i] - '0');
  if (i < s.size() && s[i] == '.') {
    long double scale = 0.1L;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, any = true, scale /= 10) v += (s[i] - '0') * scale;
  }
  if (!any) return false;
  out = v;
  s.remove_prefix(i);
  return true;
}

}  // namespace

std::optional<long double> ParseQuantity(const std::string& text) {
  std::string_view s = text;
  long double v = 0;
  if (!TakeDecimal(s, v)) return std::nullopt;
  if (s.empty()) return v;
  static const std::pair<std::string_view, long double> kSuffixes[] = {
      {"Ki", 0x1p10L}, {"Mi", 0x1p20L}, {"Gi", 0x1p30L}, {"Ti", 0x1p40L}, {"Pi", 0x1p50L}, {"Ei", 0x1p60L},
      {"n", 1e-9L},    {"u", 1e-6L},    {"m", 1e-3L},    {"k", 1e3L},     {"M", 1e6L},     {"G", 1e9L},
      {"T", 1e12L},    {"P", 1e15L},    {"E", 1e18L}};
  for (const auto& [suffix, factor] : kSuffixes)
    if (s == suffix) return v * factor;
  if (s[0] == 'e' || s[0] == 'E') {  // decimal exponent: 1e3, 5E-1 ("1E" alone is exa, above)
    std::string_view e = s.substr(1);
    int sign = 1;
    if (!e.empty() && (e[0] == '+' || e[0] == '-')) sign = e[0] == '-' ? -1 : 1, e.remove_prefix(1);
    if (e.empty() || e.size() > 3) return std::nullopt;
    int exp = 0;
    for (char c : e) {
      if (c < '0' || c > '9') return std::nullopt;
      exp = exp * 10 + (c - '0');
    }
    return v * std::pow(10.0L, sign * exp);
  }
  return std::nullopt;
}

std::optional<long double> ParseJvmSize(const std::string& text) {
  if (text.empty()) return std::nullopt;
  long double factor = 1;
  std::string digits = text;
  switch (text.back()) {
    case 'k': case 'K': factor = 0x1p10L; break;
    case 'm': case 'M': factor = 0x1p20L; break;
    case 'g': case 'G': factor = 0x1p30L; break;
    case 't': case 'T': factor = 0x1p40L; break;
    default: factor = 0; break;
  }
  if (factor != 0) digits.pop_back();
  else factor = 1;
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  long double v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v * factor;
}

std::optional<long double> ParseFormatted(ValueFormat format, const std::string& text) {
  switch (format) {
    case ValueFormat::kQuantity: return ParseQuantity(text);
    case ValueFormat::kJvmSize: return ParseJvmSize(text);
    case ValueFormat::kNone: break;
  }
  return std::nullopt;
}

const char* ValueFormatName(ValueFormat f) {
  switch (f) {
    case ValueFormat::kQuantity: return "quantity";
    case ValueFormat::kJvmSize: return "jvmSize";
    case ValueFormat::kNone: return "";
  }
  return "";
}

}  // namespace zkpilot
