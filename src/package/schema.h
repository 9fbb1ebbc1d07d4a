// Schema: the typed parameters of a package and the rules between them.
//
// Every parameter has a dotted name ("autopurge.purgeInterval"), a type, a
// default and what a change to it needs. Values (values/values.h) are checked
// against a Schema before anything is rendered or touches a cluster.
#pragma once

#include <optional>
#include <string>
#include <utility>
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

// How a string parameter's text is read when it is compared with another
// parameter (lessOrEqual), and checked on its own.
enum class ValueFormat {
  kNone,
  kQuantity,  // a Kubernetes resource quantity: "250m", "1.5", "1e3", "512Mi", "1G"
  kJvmSize,   // a JVM memory size as -Xmx takes it: "512m", "2g", "1048576" (bytes)
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
  ValueFormat format = ValueFormat::kNone;  // strings only; "" means unset
  // The value a newly deployed cluster gets when the user sets none (null:
  // the default). Existing clusters keep `default_value` for what their
  // recorded values lack, so a new default never switches a running cluster.
  nlohmann::json new_cluster_default;
  // The platforms ("local", "kubernetes") `new_cluster_default` applies on;
  // empty: every platform.
  std::vector<std::string> new_cluster_platforms;
};

// A rule between parameters, checked after each one is valid on its own.
// Rules exist for combinations that every value allows on its own but that
// fail once the ensemble runs (a request above its limit, a PDB that lets a
// drain take the quorum down): they fail validation instead, naming every
// parameter involved.
struct Constraint {
  enum class Kind {
    kDistinct,      // all listed parameters have different values
    kLessOrEqual,   // params[0] <= factor * params[1] (numbers, or strings of a ValueFormat; "" skips)
    kLessThan,      // params[0] < factor * params[1] (the same operands as kLessOrEqual)
    kImplies,       // boolean params[0] true => boolean params[1] true
    kContains,      // the comma-separated list params[0] has every one of `items`
    kForbid,        // the combination `values` (parameter -> value) is not allowed
    kKeepsQuorum,   // params[0] servers down leaves a majority of params[1] servers
  };
  Kind kind;
  std::vector<std::string> params;
  std::string message;  // optional explanation shown with the error
  double factor = 1;    // kLessOrEqual, kLessThan
  std::vector<std::string> items;  // kContains
  // kForbid: the forbidden values, in declaration order.
  std::vector<std::pair<std::string, nlohmann::json>> values;
  // Checked only while every one of these parameters has this value (empty: always).
  std::vector<std::pair<std::string, nlohmann::json>> when;
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

// A Kubernetes resource quantity (the API's grammar: decimal, optional
// exponent "e3", decimal suffix n u m k M G T P E or binary Ki .. Ei; no sign)
// as a number: cores for CPU, bytes for memory. nullopt when not a quantity.
std::optional<long double> ParseQuantity(const std::string& text);

// A JVM memory size as -Xmx/-Xms take it ("512m", "2G", "1048576": k, m, g, t
// in either case, else bytes) in bytes. nullopt when not a size.
std::optional<long double> ParseJvmSize(const std::string& text);

// The value of a string in `format`, nullopt when it does not parse.
std::optional<long double> ParseFormatted(ValueFormat format, const std::string& text);

const char* ValueFormatName(ValueFormat f);  // "quantity", "jvmSize", "" for kNone

}  // namespace zkpilot
