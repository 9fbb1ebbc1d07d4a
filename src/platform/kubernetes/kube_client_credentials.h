// Credentials of a KubeClient's requests: the static token or client
// certificate of the kubeconfig, a token file re-read when it changes
// (projected service-account tokens rotate), or an exec credential plugin
// (client.authentication.k8s.io v1/v1beta1) whose answer is cached until its
// expirationTimestamp.
//
// The plugin runs non-interactively (stdin /dev/null, spec.interactive
// false), with the kubeconfig's args and env added to ours and
// KUBERNETES_EXEC_INFO holding the ExecCredential request (with the cluster
// when provideClusterInfo is set). A plugin that needs a terminal
// (interactiveMode: Always) is an error.
//
// Thread-safety: as KubeClient (one thread at a time).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "platform/kubernetes/kube_client.h"
#include "util/status.h"

namespace zkpilot {

// What authenticates one request: a bearer token and/or a client certificate.
struct RequestCredentials {
  std::string token;
  std::string cert_pem, key_pem;
};

class CredentialSource {
 public:
  explicit CredentialSource(KubeConnection connection) : connection_(std::move(connection)) {}

  // The credentials to send now (runs the plugin or reads the token file
  // when needed).
  Result<RequestCredentials> Current();

  // The server answered 401 to Current()'s credentials. True when fresh
  // ones may be had (the plugin will run again, the token file be re-read):
  // the caller retries once.
  bool Refresh();

  // How many times the exec plugin ran (for tests and diagnostics).
  int ExecRuns() const { return exec_runs_; }

 private:
  Result<RequestCredentials> RunExecPlugin();
  Result<std::string> TokenFromFile();

  KubeConnection connection_;
  std::optional<RequestCredentials> exec_cached_;
  std::optional<std::chrono::system_clock::time_point> exec_expiry_;
  int exec_runs_ = 0;

  std::string file_token_;
  struct FileStamp {
    ino_t inode = 0;
    off_t size = -1;
    int64_t mtime_ns = 0;
    bool operator==(const FileStamp&) const = default;
  } file_stamp_;
  bool file_read_ = false;
};

// Parses an RFC 3339 time ("2024-05-01T10:00:00Z", "...T10:00:00.5+02:00").
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(const std::string& text);

}  // namespace zkpilot
