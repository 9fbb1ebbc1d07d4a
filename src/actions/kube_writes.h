// The API writes of the Kubernetes commands, each with the errors a person
// can act on: is the operator installed (and installing it), pushing a
// package's ConfigMaps, applying a ZooKeeperCluster.
//
// Thread-safety: as the KubeClient passed in (one thread at a time).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "platform/kubernetes/kube_client.h"
#include "render/renderer.h"
#include "util/status.h"
#include "util/yaml_json.h"

namespace zkpilot {

// How long a write is asked again after an answer that says "later" (429,
// 5xx, no answer): writes are whole or nothing, so asking again is safe.
std::chrono::steady_clock::time_point TransientDeadline();

// What of the operator the cluster has.
struct OperatorPresence {
  bool crd = false;              // CustomResourceDefinition zookeeperclusters.zkpilot.io
  bool crd_established = false;  // ... and the API serves it
  bool deployment = false;       // Deployment zkpilot-operator in the operator's namespace
  bool available = false;        // ... and it is Available
  bool Complete() const { return crd_established && available; }
};
Result<OperatorPresence> CheckOperator(KubeClient& client, const std::string& operator_namespace);

// The command a person runs to install the operator for a package.
std::string InstallOperatorCommand(const std::string& package_dir);

// NotFound saying what is missing and how to install it (`package_dir`: the
// package the deploy was given).
Status OperatorMissing(const OperatorPresence& presence, const std::string& operator_namespace,
                       const std::string& package_dir);

// Applies the operator's manifests in order (server-side apply, field
// manager zkpilot-cli) and waits until the CRD is established and the
// Deployment available, or `deadline`.
Status InstallOperator(KubeClient& client, const std::vector<RenderedObject>& manifests,
                       const std::string& operator_namespace,
                       std::chrono::steady_clock::time_point deadline);

// Creates each ConfigMap of a package that is not there yet (they are
// immutable and named by content hash: one present is the same package).
struct PushResult {
  std::vector<std::string> created;
  std::vector<std::string> present;
};
Result<PushResult> PushPackageConfigMaps(KubeClient& client,
                                         const std::vector<OrderedJson>& config_maps);

// Server-side apply of a ZooKeeperCluster object (ClusterApplyObject) with
// field manager zkpilot-cli, not forced; with `dry_run` the API validates it
// and stores nothing. Transient failures are retried until
// TransientDeadline(). Returns the object as the API has it. Errors:
//   409  another field manager owns a field: names the fields and managers
//   422  kInvalidInput naming the field the API refused
//   spec.values the API dropped (a CRD generated from another version of
//        the package): kInvalidInput naming them and how to update the CRD
Result<nlohmann::json> ApplyClusterObject(KubeClient& client, const nlohmann::json& object,
                                          bool dry_run, const std::string& package_dir = "PACKAGE");

// Paths ("spec.values.a.b") present in `sent` and not in `stored`.
std::vector<std::string> DroppedFields(const nlohmann::json& sent, const nlohmann::json& stored,
                                       const std::string& prefix);

}  // namespace zkpilot
