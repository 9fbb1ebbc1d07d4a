// Kubeconfig loading: which cluster, user and namespace a KubeClient talks
// to, resolved as kubectl resolves them.
//
//   --kubeconfig FILE     that file only (it must exist)
//   KUBECONFIG=a:b:c      the existing files merged: for each cluster, user
//                         and context name the first file that defines it
//                         wins, and so does the first current-context
//   neither               ~/.kube/config
//   no file at all        in a pod (KUBERNETES_SERVICE_HOST and the service
//                         account's token present): the service account
//
// The context is --context, else current-context; the namespace -n, else the
// context's, else "default". Relative paths in an entry (certificate files,
// tokenFile, an exec command containing '/') are relative to the file that
// defined it. Certificate and key files are read here; tokenFile is kept as a
// path (the client re-reads it when it changes).
//
// In-cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT with
// the service account's token (re-read), ca.crt and namespace from
// /var/run/secrets/kubernetes.io/serviceaccount, or from $ZKPILOT_SA_DIR
// when set (tests).
//
// Errors: NotFound when there is no configuration at all; InvalidInput naming
// the file and the entry for anything wrong in one (missing server, unknown
// context, unreadable certificate, both a file and data given, ...).
#pragma once

#include <string>
#include <vector>

#include "platform/kubernetes/kube_client.h"
#include "util/status.h"

namespace zkpilot {

// One kubeconfig file: where it is (for relative paths and messages) and its text.
struct KubeconfigFile {
  std::string path;
  std::string text;
};

// Merges `files` (in precedence order) and resolves the connection for
// `options.context` / `options.namespace_`. Reads the certificate files the
// chosen entries name, nothing else. REQUIRES: !files.empty().
Result<KubeConnection> ConnectionFromKubeconfig(const std::vector<KubeconfigFile>& files,
                                                const KubeConfigOptions& options);

// The service account's connection (see above). NotFound outside a pod.
Result<KubeConnection> InClusterConnection(const KubeConfigOptions& options);

// The kubeconfig files LoadKubeConnection would read, existing ones only,
// with where they came from ("--kubeconfig", "KUBECONFIG", "~/.kube/config").
// NotFound for a --kubeconfig that does not exist.
Result<std::vector<std::string>> KubeconfigPaths(const KubeConfigOptions& options);

// Base64 (standard alphabet, padding optional, whitespace ignored), as
// kubeconfig *-data fields and ExecCredential carry certificates.
Result<std::string> DecodeBase64(const std::string& text);
std::string EncodeBase64(const std::string& data);

}  // namespace zkpilot
