// `zkpilot operator`: runs the reconcile loop of ZooKeeperCluster resources
// (platform/kubernetes/operator.h), in a pod with the service account's
// credentials or from outside with a kubeconfig.
//
// Exit: 0 after SIGTERM/SIGINT (or --once with every cluster reconciled); 1
// when the lease is lost (at once: the Deployment restarts the pod, and the
// next leader continues any operation from its journal) or a reconcile of
// --once failed; 2 for bad flags.
#pragma once

#include <chrono>
#include <string>

#include "platform/kubernetes/kube_client.h"
#include "platform/kubernetes/operator.h"
#include "util/status.h"

namespace zkpilot {

// The command's flags, with their defaults. The CLI binds them as strings
// and numbers; RunOperator validates them (InvalidInput naming the flag).
struct OperatorRequest {
  std::string kubeconfig;  // --kubeconfig (else $KUBECONFIG, ~/.kube/config, the service account)
  std::string context;     // --context
  std::string namespace_;  // -n/--namespace: watch only this namespace; empty: all
  bool leader_elect = false;  // --leader-elect
  std::string
      lease_namespace;  // --lease-namespace; empty: $POD_NAMESPACE, else the kubeconfig's namespace
  std::string health_addr = ":8081";  // --health-addr ([HOST]:PORT; "" or "off": no health server)
  std::string resync = "30s";         // --resync: 30s, 2m, 500ms, or seconds
  bool once = false;                  // --once: reconcile every cluster once and exit
  std::string identity;               // --identity: the Lease holder; empty: DefaultLeaseIdentity()
};

// "30s", "1m30s", "500ms", "2h", or a plain number of seconds. InvalidInput
// naming `flag` otherwise, and for zero or negative durations.
Result<std::chrono::milliseconds> ParseDurationFlag(const std::string& flag,
                                                    const std::string& text);

// The operator's configuration from the flags and the environment
// (POD_NAMESPACE) once the connection is known. Pure apart from the
// environment variable.
Result<OperatorConfig> MakeOperatorConfig(const OperatorRequest& request,
                                          const KubeConnection& connection);

// Runs until SIGTERM/SIGINT (or once). Installs the signal handling itself.
Status RunOperator(const OperatorRequest& request);

}  // namespace zkpilot
