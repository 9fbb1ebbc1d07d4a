// What installs the zkpilot operator in a cluster, as objects in apply order:
//
//   CustomResourceDefinition  zookeeperclusters.zkpilot.io (crd.h, from the package's schema)
//   Namespace                 zkpilot-system (configurable)
//   ServiceAccount            zkpilot-operator
//   ClusterRole + Binding     zkpilot-operator: exactly what the operator uses, cluster-wide
//   Role + RoleBinding        zkpilot-operator: its leader-election Lease, in its own namespace
//   Deployment                zkpilot-operator: `zkpilot operator --leader-elect`, health on :8081
//
// Least privilege: every rule is a call the operator (its reconcile loop, the
// Kubernetes platform and release store it drives) makes; nothing is granted
// "just in case": no wildcards, no deletecollection, no watch but of its own
// resource, no update where it only patches, the Lease only by name.
// Pure; operator_manifests_action.h prints them.
#pragma once

#include <string>
#include <vector>

#include "package/package.h"
#include "render/renderer.h"
#include "util/status.h"
#include "util/yaml_json.h"

namespace zkpilot {

inline constexpr char kOperatorName[] =
    "zkpilot-operator";  // ServiceAccount, roles, Deployment, Lease
inline constexpr char kOperatorNamespace[] = "zkpilot-system";
inline constexpr int kOperatorHealthPort = 8081;  // GET /healthz (liveness), /readyz (readiness)

struct OperatorManifestOptions {
  std::string namespace_ = kOperatorNamespace;  // where the operator and its Lease live
  std::string image;                            // empty: DefaultOperatorImage()
  int replicas = 1;                             // more than one: standbys behind leader election
};

// "ghcr.io/zkpilot/zkpilot:<zkpilot's version>".
std::string DefaultOperatorImage();

// InvalidInput naming the option: a namespace that is not a DNS label,
// replicas outside 1..10, an image with spaces.
Status ValidateOperatorOptions(const OperatorManifestOptions& options);

// The objects, in the order to apply them (the CRD first).
Result<std::vector<RenderedObject>> OperatorManifests(const Package& package,
                                                      const OperatorManifestOptions& options);

// The ClusterRole's rules and the namespaced Role's rules (for tests and docs).
OrderedJson OperatorClusterRules();
OrderedJson OperatorLeaseRules();

}  // namespace zkpilot
