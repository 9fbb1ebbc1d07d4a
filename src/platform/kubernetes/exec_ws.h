// pods/exec over a WebSocket (Boost.Beast over OpenSSL), the transport
// behind KubeClient::Exec; libcurl 7.88 has no WebSocket.
//
// The remote-command channel protocols v5.channel.k8s.io and
// v4.channel.k8s.io (offered in that order): every binary message is a
// channel byte and data; 1 stdout, 2 stderr, 3 the command's end as a
// metav1 Status ("Success", or "Failure" with reason NonZeroExitCode and the
// code in details.causes[reason=ExitCode]). No stdin, no tty.
//
// The connection is made as the HTTP client makes it: TLS verified against
// the connection's CA (or the system's), the host checked (or
// tls-server-name), the client certificate, the bearer token, and an HTTP
// proxy (CONNECT) chosen as libcurl chooses one (ProxyFor). The whole
// exchange is bounded by connection.exec_timeout.
#pragma once

#include <optional>
#include <string>

#include "platform/kubernetes/kube_client.h"
#include "platform/kubernetes/kube_client_credentials.h"
#include "platform/kubernetes/kube_client_http.h"
#include "util/status.h"

namespace zkpilot {

struct WsExecOutcome {
  long http_status = 0;  // 101: the command ran (result); else the refused upgrade's answer
  std::string body;
  std::optional<int> retry_after;
  KubeClient::ExecResult result;
};

// `target`: the exec path with its query (command=..., container=...,
// stdout=true, stderr=true), including the server's path prefix.
// Errors: unreachable, TLS, the timeout, a stream that ends without the
// command's status, a failure the kubelet reports on the status channel.
Result<WsExecOutcome> ExecOverWebSocket(const KubeConnection& connection, const ServerUrl& url,
                                        const RequestCredentials& credentials,
                                        const std::string& target);

// The exit code from a channel-3 Status of v4/v5; an error for a Failure
// that is not a non-zero exit (the command could not run).
Result<int> ExitCodeFromStatus(const std::string& status_json);

}  // namespace zkpilot
