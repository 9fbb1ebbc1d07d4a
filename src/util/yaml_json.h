// Conversions between YAML (yaml-cpp) and JSON (nlohmann) trees, and the
// stable YAML emitter used for every document zkpilot prints.
//
// Plain YAML scalars are typed by the YAML 1.2 core schema (null, true/false,
// integers, floats); quoted scalars are always strings. Emission is
// deterministic: maps keep their insertion order, strings that would read back
// as another type are double-quoted, multi-line strings become literal blocks
// only when that round-trips exactly.
#pragma once

#include <string>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "util/status.h"

namespace zkpilot {

using OrderedJson = nlohmann::ordered_json;

// Types a plain (unquoted) YAML scalar by the core schema.
nlohmann::json TypePlainScalar(const std::string& text);

// REQUIRES: `node` has no aliases to itself. Map keys become strings.
OrderedJson YamlToJson(const YAML::Node& node);

// Parses one YAML document; errors name `source` and the line.
Result<YAML::Node> ParseYaml(const std::string& text, const std::string& source);

// Emits `value` as block YAML ending in a newline ("{}\n" for an empty map).
std::string EmitYaml(const OrderedJson& value);

}  // namespace zkpilot
