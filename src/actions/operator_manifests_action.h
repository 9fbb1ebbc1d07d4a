// The `operator manifests` verb: what installs the zkpilot operator — its
// CRD (typed by the package's parameters), namespace, RBAC and Deployment —
// as a YAML stream for `kubectl apply -f -`, or one file per object.
//
// Everything is built and validated in memory before anything is written: an
// error leaves no output behind.
#pragma once

#include <string>

#include "platform/kubernetes/operator_manifests.h"
#include "util/status.h"

namespace zkpilot {

struct OperatorManifestsRequest {
  std::string package_dir;          // the package whose parameters type spec.values
  OperatorManifestOptions options;  // --namespace, --image, --replicas
  std::string output_dir;           // --output-dir; empty: return the YAML stream
};

// Returns the YAML to print ("---"-separated, in apply order), or "" after
// writing one file per object into output_dir.
Result<std::string> RunOperatorManifests(const OperatorManifestsRequest& request);

}  // namespace zkpilot
