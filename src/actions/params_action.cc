#include <algorithm>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actions/render_action.h"
#include "package/package_loader.h"

namespace zkpilot {
namespace {

std::string Constraints(const ParamSpec& p) {
  std::vector<std::string> parts;
  auto num = [](double d) {
    return d == static_cast<int64_t>(d) ? std::to_string(static_cast<int64_t>(d)) : fmt::format("{}", d);
  };
  if (p.min && p.max) parts.push_back(num(*p.min) + ".." + num(*p.max));
  else if (p.min) parts.push_back(">=" + num(*p.min));
  else if (p.max) parts.push_back("<=" + num(*p.max));
  if (!p.enum_values.empty()) {
    std::string e;
    for (const auto& v : p.enum_values) e += (e.empty() ? "" : "|") + v;
    parts.push_back(e);
  }
  if (!p.pattern.empty() && p.enum_values.empty()) parts.push_back("/" + p.pattern + "/");
  std::string out;
  for (const auto& s : parts) out += (out.empty() ? "" : " ") + s;
  return out;
}

}  // namespace

Result<std::string> RunParams(const std::string& package_dir, OutputFormat format) {
  ZK_ASSIGN_OR_RETURN(Package pkg, LoadPackage(package_dir));
  if (format == OutputFormat::kJson) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& p : pkg.schema.params) {
      nlohmann::ordered_json o = {{"name", p.name},         {"type", ParamTypeName(p.type)},
                                  {"default", p.default_value}, {"required", p.required},
                                  {"change", ChangePolicyName(p.change)}, {"description", p.description}};
      if (p.min) o["min"] = *p.min;
      if (p.max) o["max"] = *p.max;
      if (!p.enum_values.empty()) o["enum"] = p.enum_values;
      if (!p.pattern.empty()) o["pattern"] = p.pattern;
      if (!p.new_cluster_default.is_null()) {
        o["newClusterDefault"] = p.new_cluster_default;
        o["newClusterPlatforms"] = p.new_cluster_platforms.empty()
                                       ? std::vector<std::string>{"local", "kubernetes"}
                                       : p.new_cluster_platforms;
      }
      list.push_back(o);
    }
    return list.dump(2) + "\n";
  }
  size_t wn = 4, wt = 4, wd = 7, wc = 6;
  for (const auto& p : pkg.schema.params) {
    wn = std::max(wn, p.name.size());
    wt = std::max(wt, std::string(ParamTypeName(p.type)).size());
    wd = std::max(wd, std::min<size_t>(30, DisplayValue(p.default_value).size()));
  }
  std::ostringstream out;
  out << fmt::format("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", "NAME", wn, "TYPE", wt, "DEFAULT", wd, "CHANGE", wc + 3,
                     "DESCRIPTION");
  for (const auto& p : pkg.schema.params) {
    std::string def = p.required && p.default_value.is_null() ? "(required)" : DisplayValue(p.default_value);
    if (def.empty()) def = "\"\"";
    if (def.size() > 30) def = def.substr(0, 27) + "...";
    std::string desc = p.description;
    std::string c = Constraints(p);
    if (!c.empty()) desc += " [" + c + "]";
    if (!p.new_cluster_default.is_null()) {
      std::string where;
      for (const auto& platform : p.new_cluster_platforms) where += (where.empty() ? " on " : ", ") + platform;
      desc += " [a new cluster" + where + ": " + DisplayValue(p.new_cluster_default) + "]";
    }
    out << fmt::format("{:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", p.name, wn, ParamTypeName(p.type), wt, def, wd,
                       ChangePolicyName(p.change), wc + 3, desc);
  }
  return out.str();
}

}  // namespace zkpilot
