// What each command writes into a ZooKeeperCluster's spec (pure).
//
// The command line owns spec.package, spec.values, spec.restartRequest and
// spec.purgeDataOnDelete under the field manager "zkpilot-cli" and writes
// them by server-side apply. An apply states everything its manager wants,
// so every command applies the whole spec: the current one with its change.
// spec.values holds the user's values only (what -f/--set gave, nested by
// the schema's dotted names); the package's defaults fill in the rest where
// the values are resolved (here for validation, and in the operator).
//
//   configure  spec.values + the -f files and --set assignments
//   upgrade    spec.values.<version parameter> = V
//   scale      spec.values.replicas = N
//   rollback   spec.values = the revision's values (those not at their default)
//   restart    spec.restartRequest = a new value
//   delete     spec.purgeDataOnDelete = --purge-data (then the object is deleted)
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "package/package.h"
#include "platform/kubernetes/cluster_resource.h"
#include "util/status.h"
#include "values/values.h"

namespace zkpilot {

enum class KubeChangeKind { kConfigure, kUpgrade, kRollback, kRestart, kScale };
const char* KubeChangeName(KubeChangeKind kind);  // "configure", "upgrade", ...

struct SpecChange {
  KubeChangeKind kind = KubeChangeKind::kConfigure;
  ValuesInput values;   // configure: the -f files' contents and the --set assignments
  std::string version;  // upgrade
  int replicas = 0;     // scale
  std::map<std::string, nlohmann::json> revision_values;  // rollback: the revision's values (flat)
  std::string restart_request;                            // restart: the new request
};

// The spec after `change`; the values are validated against the package
// (InvalidInput naming the parameter and where its value came from).
Result<ClusterSpec> ChangedSpec(const Package& package, const ClusterSpec& current,
                                const SpecChange& change);

// The user's values of resolved values: those not taken from the defaults,
// nested (spec.values of a deploy).
nlohmann::json UserValues(const Values& values);

// The ControllerRevision values (flat JSON object text) as Values, checked
// against the package's schema.
Result<Values> RevisionValues(const Schema& schema, const std::string& values_json, int revision);

}  // namespace zkpilot
