// Values: the parameter values of one cluster, merged and validated.
//
// Values are merged in one fixed order — schema defaults < values files (in
// order; later wins) < --set assignments (in order; later wins) — and then
// validated against the schema: types, bounds, enums, patterns, required
// parameters and constraints. Everything here is pure: files are passed in as
// text. Every error is InvalidInput and names the parameter and where its
// value came from ("values.yaml:3: replicas: 0 is below the minimum 1").
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "package/schema.h"
#include "util/status.h"

namespace zkpilot {

struct ValuesInput {
  // (name shown in messages, content) for each -f file, in order.
  std::vector<std::pair<std::string, std::string>> files;
  // "key=value" assignments from --set, in order.
  std::vector<std::string> sets;
  // Set when the values are a new cluster's on this platform ("local",
  // "kubernetes"): parameters' newClusterDefault then sit between the
  // defaults and the files, with the origin kNewClusterDefault.
  std::string new_cluster_platform;
};

// Values::Origin of a value a parameter's newClusterDefault gave.
inline constexpr const char* kNewClusterDefault = "new-cluster default";

class Values {
 public:
  // REQUIRES: `name` is a parameter of the schema the values were built from.
  const nlohmann::json& Get(const std::string& name) const { return flat_.at(name); }
  bool Has(const std::string& name) const { return flat_.count(name) > 0; }
  // Where a value came from: "default", "values.yaml:3" or "--set".
  const std::string& Origin(const std::string& name) const { return origin_.at(name); }
  // Parameter name -> value, sorted by name.
  const std::map<std::string, nlohmann::json>& Flat() const { return flat_; }
  // The values nested by their dotted names: {"autopurge": {"purgeInterval": 24}}.
  nlohmann::json Nested() const;

  void Set(const std::string& name, nlohmann::json value, std::string origin) {
    flat_[name] = std::move(value);
    origin_[name] = std::move(origin);
  }

 private:
  std::map<std::string, nlohmann::json> flat_;
  std::map<std::string, std::string> origin_;
};

// Merges defaults, files and --set assignments, then validates the result.
Result<Values> ResolveValues(const Schema& schema, const ValuesInput& input);

// Validates complete values against the schema: each value, required
// parameters, then constraints. Used by ResolveValues.
Status ValidateValues(const Schema& schema, const Values& values);

// Checks a Kubernetes namespace name (an RFC 1123 label), which the rendered
// objects carry. InvalidInput naming the rule.
Status ValidateNamespaceName(const std::string& name);

// Parses the text of one --set value as the parameter's type (integers:
// decimal digits only, util/numbers.h).
Result<nlohmann::json> ParseTypedValue(const ParamSpec& spec, const std::string& text);

// The warning lint, deploy, configure and scale give for an even number of
// servers (not an error: it works, it only buys nothing); "" for an odd one.
std::string EvenReplicasWarning(int64_t replicas);

}  // namespace zkpilot
