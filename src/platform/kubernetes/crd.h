// The CustomResourceDefinition of ZooKeeperCluster, generated from a
// package's parameter schema, so that the API server itself (and
// `kubectl explain`) knows every parameter: its type, bounds, enum, pattern
// and description.
//
// spec.values mirrors the schema's dotted names as nested objects
// (metrics.enabled -> values.metrics.enabled). Object and list parameters
// accept any content (x-kubernetes-preserve-unknown-fields, the only places it
// is used); everything else is typed, so unknown keys are refused by strict
// field validation and pruned otherwise. Defaults are NOT put into the
// schema: the package applies them, so a stored resource holds only what the
// user set. What a schema cannot say (constraints between parameters,
// patterns outside RE2) is checked by the operator, which reports it in the
// Valid condition.
//
// The schema is structural (every node typed), as apiextensions.k8s.io/v1
// requires. Pure; docs/kubernetes-crd.md documents the result for users.
#pragma once

#include <optional>
#include <string>

#include "package/package.h"
#include "util/yaml_json.h"

namespace zkpilot {

inline constexpr char kClusterCrdName[] = "zookeeperclusters.zkpilot.io";

// The whole CRD (apiextensions.k8s.io/v1), one served and stored version
// v1alpha1 with the status subresource and printer columns.
OrderedJson GenerateCrd(const Package& package);

// The openAPIV3Schema of spec.values alone.
OrderedJson ValuesSchema(const Schema& schema);

// A package pattern (ECMAScript, matching the whole string) as a CRD pattern
// (RE2, searched): anchored "^(?:...)$". nullopt when the pattern uses what
// RE2 lacks (lookaround, back-references); the operator checks those values.
std::optional<std::string> CrdPattern(const std::string& ecmascript);

}  // namespace zkpilot
