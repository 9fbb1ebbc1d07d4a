// Schema: the typed parameters of a package and the rules between them.
//
// Every parameter has a dotted name ("autopurge.purgeInterval"), a type, a
// default and what a change to it needs. Values (values/values.h) are checked
// against a Schema before anything is rendered or touches a cluster.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace zkpilot {

enum class ParamType { kString, kInteger, kNumber, kBoolean, kObject, kList };

// What a change to a parameter needs on a running ensemble.
enum class ChangePolicy {
  kDynamic,    // applied without restarting ZooKeeper
  kRolling,    // needs a quorum-gated rolling restart
  kReconfig,   // applied by dynamic reconfiguration (membership)
  kImmutable,  // cannot change after deploy
};

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kString;
  nlohmann::json default_value;  // null when the parameter has no default
  std::string description;
  bool required = false;
  std::optional<double> min;
  std::optional<double> max;
  std::vector<std::string> enum_values;  // allowed values, as strings
  std::string pattern;                   // ECMAScript regex, whole string
  ChangePolicy change = ChangePolicy::kRolling;
};

// A rule between parameters, checked after each one is valid on its own.
struct Constraint {
  enum class Kind {
    kDistinct,      // all listed parameters have different values
    kLessOrEqual,   // params[0] <= params[1]
    kImplies,       // boolean params[0] true => boolean params[1] true
  };
  Kind kind;
  std::vector<std::string> params;
  std::string message;  // optional explanation shown with the error
};

struct Schema {
  std::vector<ParamSpec> params;  // in declaration order
  std::vector<Constraint> constraints;

  const ParamSpec* Find(const std::string& name) const;
};

const char* ParamTypeName(ParamType t);
const char* ChangePolicyName(ChangePolicy c);

}  // namespace zkpilot

namespace zkpilot {

// Checks one value against its parameter's type and bounds. Returns an empty
// string when valid, else the reason ("expected integer, got \"abc\"").
std::string CheckParamValue(const ParamSpec& spec, const nlohmann::json& value);

// Renders a value for messages and tables: strings bare, the rest as JSON.
std::string DisplayValue(const nlohmann::json& value);

}  // namespace zkpilot
