// Pieces the KubeClient's HTTP (libcurl) and WebSocket (Beast) transports
// share: the server's URL, the proxy a connection goes through, and how an
// API answer or a transport failure becomes a Status (the messages listed in
// kube_client.h). Pure functions.
#pragma once

#include <optional>
#include <string>

#include "platform/kubernetes/kube_client.h"
#include "util/status.h"

namespace zkpilot {

// The parts of a server URL: "https://host:6443/prefix".
struct ServerUrl {
  std::string scheme;  // "https"
  std::string host;    // without IPv6 brackets
  std::string port;    // explicit, else the scheme's default
  std::string prefix;  // a path the API is served under ("" usually)
};
Result<ServerUrl> ParseServerUrl(const std::string& server);

// A proxy URL's parts: "http://user:pass@proxy:3128".
struct ProxyUrl {
  std::string scheme, host, port, user_info;
};
Result<ProxyUrl> ParseProxyUrl(const std::string& url);

// The proxy for a connection to `host`, as libcurl chooses it: the
// connection's proxy_url when set (always used), else https_proxy /
// HTTPS_PROXY / all_proxy / ALL_PROXY unless no_proxy / NO_PROXY matches
// the host (names, domain suffixes, IPv4 addresses and CIDR ranges, "*").
// "" means direct.
std::string ProxyFor(const KubeConnection& connection, const std::string& host);
bool NoProxyMatches(const std::string& no_proxy, const std::string& host);

// An API answer that is not 2xx (status, body, Retry-After seconds if any)
// as a Status; `request` ("GET /api/v1/...") names it where that helps.
Status ErrorFromAnswer(const KubeConnection& connection, const std::string& request, long status,
                       const std::string& body, std::optional<int> retry_after);

// Transport failures, worded as kube_client.h lists them.
Status UnreachableError(const KubeConnection& connection, const std::string& detail);
Status TimeoutError(const KubeConnection& connection, const std::string& request,
                    std::chrono::seconds timeout);
Status TlsError(const KubeConnection& connection, const std::string& detail);

// Percent-encodes a query parameter value.
std::string QueryEscape(const std::string& value);

}  // namespace zkpilot
