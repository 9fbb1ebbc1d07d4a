// KubeClient: a small Kubernetes API client over libcurl (HTTP) and
// Boost.Beast (pods/exec over WebSocket).
//
// Configuration comes from a kubeconfig (KUBECONFIG, --kubeconfig,
// --context, its namespace) or, in a pod, from the service account
// (/var/run/secrets/kubernetes.io/serviceaccount, KUBERNETES_SERVICE_HOST).
// Supported: server CA (file or data), insecure-skip-tls-verify only when the
// kubeconfig says so, tls-server-name, client certificates (file or data),
// bearer tokens (token, tokenFile re-read when it changes), exec credential
// plugins (client.authentication.k8s.io v1/v1beta1, cached until
// expirationTimestamp, run again once on a 401), proxy-url and the usual
// *_proxy / NO_PROXY environment. TLS verification is on.
//
// Errors are Status values whose message says what a person needs:
//   unreachable   kUnavailable  "kubernetes API https://10.0.0.1:6443 unreachable:
//                               Connection refused (context "c", check --kubeconfig/--context)"
//   401           kPermissionDenied  "kubernetes API: unauthorized (401): credentials rejected
//                               or expired (user "u" of context "c")"
//   403           kPermissionDenied  "kubernetes API: forbidden (403): statefulsets.apps "x" is
//                               forbidden: User "y" cannot patch resource ..." (the API's words)
//   404           kNotFound     the API's message
//   409, 410      kConflict     field manager conflicts name the fields and their manager
//   400, 422      kInvalidInput "... is invalid: spec.replicas: Invalid value: ..." (the causes'
//                               fields)
//   429, 5xx, no answer in time  kUnavailable (retryable: see Retrying()); when the server
//                               sent Retry-After, the message ends in "(retry after N s)"
//   TLS failure   kIOError      "... TLS: ... certificate verify failed (check the cluster's
//                               certificate-authority ...)"
//
// Thread-safety: a KubeClient is used by one thread at a time (it keeps a
// connection, the discovery cache and cached credentials). Handlers passed
// to Watch/PodLogs may call the same client: streams use their own
// connection. Use one client per thread for parallel work.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace zkpilot {

struct KubeConfigOptions {
  // --kubeconfig; empty: $KUBECONFIG (':'-separated, merged), else ~/.kube/config
  std::string kubeconfig;
  std::string context;      // --context; empty: current-context
  std::string namespace_;   // -n; empty: the context's namespace, else "default"
  bool in_cluster = false;  // force the service account (the operator in a pod)
};

// Resolved connection settings (what kubectl calls the rest config).
struct KubeConnection {
  std::string server;  // https://host:port
  std::string ca_pem;  // empty: system CAs
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;  // verify the certificate for this name instead of the server's host
  std::string client_cert_pem, client_key_pem;
  std::string token;       // static bearer token
  std::string token_file;  // re-read when it changes (projected SA tokens)
  nlohmann::json exec;     // exec credential plugin config (null: none); a relative
                           // command with a '/' is already resolved against the kubeconfig's dir
  std::string proxy_url;   // set: used for every request, the environment's proxies are not
  std::string default_namespace = "default";
  std::string context_name;
  std::string user_name;
  std::string source;  // "kubeconfig /root/.kube/config" or "in-cluster service account"

  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds request_timeout{60};  // whole request; watches use their own timeout
  std::chrono::seconds exec_timeout{300};    // a pods/exec command, from connect to exit
};

// Loads the connection (see kubeconfig.h): NotFound when there is no
// kubeconfig and no service account ("no Kubernetes configuration: set
// KUBECONFIG or pass --kubeconfig"); InvalidInput naming the file and field
// for a broken kubeconfig or an unknown context.
Result<KubeConnection> LoadKubeConnection(const KubeConfigOptions& options);

// Which API resource an object is: from apiVersion+kind via discovery.
struct ResourceRef {
  std::string group;     // "" for core
  std::string version;   // "v1"
  std::string resource;  // plural: "statefulsets"
  bool namespaced = true;
  std::string kind;

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
};

// The API path of a collection (name empty) or an object, optionally of its
// subresource: "/apis/apps/v1/namespaces/ns/statefulsets/zk-1/scale".
// `ns` is ignored for cluster-scoped resources; empty for a namespaced one
// means all namespaces (collections only).
std::string ResourcePath(const ResourceRef& r, const std::string& ns, const std::string& name = "",
                         const std::string& subresource = "");

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  nlohmann::json object;

  // The resourceVersion is too old (410 Gone, as an ERROR event or as the
  // answer to the request): list again and watch from the list's version.
  bool Expired() const {
    return type == "ERROR" && object.is_object() && object.value("code", 0) == 410;
  }
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
};

class KubeClient {
 public:
  static Result<std::unique_ptr<KubeClient>> Create(const KubeConnection& connection);
  virtual ~KubeClient() = default;

  const KubeConnection& Connection() const { return connection_; }

  // apiVersion+kind → resource, by discovery of that group version (cached;
  // discovered again on a miss, so CRDs created later are found).
  // NotFound: "no kind "X" in apiVersion "g/v" (is its CustomResourceDefinition installed?)".
  virtual Result<ResourceRef> Resolve(const std::string& api_version, const std::string& kind) = 0;

  // Plain requests. `path` is the API path ("/api/v1/namespaces/x/pods"),
  // with its query if any. Returns the decoded JSON body for 2xx (null for
  // an empty one), else a Status (see the header).
  virtual Result<nlohmann::json> Request(const std::string& method, const std::string& path,
                                         const std::optional<nlohmann::json>& body = std::nullopt,
                                         const std::string& content_type = "application/json") = 0;

  // Typed helpers over Request. `ns` is ignored for cluster-scoped
  // resources; empty for a namespaced one means the object's
  // metadata.namespace, else the connection's default namespace — except
  // for List and Watch, where it means all namespaces.
  virtual Result<std::optional<nlohmann::json>> Get(const ResourceRef& r, const std::string& ns,
                                                    const std::string& name) = 0;
  virtual Result<nlohmann::json> List(const ResourceRef& r, const std::string& ns,
                                      const ListOptions& options = {}) = 0;  // the List object
  virtual Result<nlohmann::json> Create(const ResourceRef& r, const std::string& ns,
                                        const nlohmann::json& object) = 0;
  // Server-side apply: PATCH application/apply-patch+yaml, fieldManager, force when asked.
  virtual Result<nlohmann::json> Apply(const ResourceRef& r, const std::string& ns,
                                       const nlohmann::json& object,
                                       const std::string& field_manager, bool force = false,
                                       const std::string& subresource = "") = 0;
  // Merge patch (application/merge-patch+json), optionally of a subresource ("status").
  virtual Result<nlohmann::json> MergePatch(const ResourceRef& r, const std::string& ns,
                                            const std::string& name, const nlohmann::json& patch,
                                            const std::string& subresource = "") = 0;
  // Replace (PUT) with resourceVersion: 409 when it changed meanwhile.
  virtual Result<nlohmann::json> Replace(const ResourceRef& r, const std::string& ns,
                                         const nlohmann::json& object,
                                         const std::string& subresource = "") = 0;
  // Delete; NotFound is success when `ignore_missing`.
  // propagation: "Background", "Foreground", "Orphan".
  virtual Status Delete(const ResourceRef& r, const std::string& ns, const std::string& name,
                        bool ignore_missing = true, const std::string& propagation = "Background",
                        std::optional<int64_t> grace_seconds = std::nullopt) = 0;

  // Watches from `resource_version` ("" or "0": the current state first, as
  // ADDED events) until `handler` returns false, the server ends the stream,
  // or `timeout` passes (sent as timeoutSeconds; bookmarks are asked for).
  // Ok on a clean end. ERROR events reach `handler`; 410 Gone is one with
  // Expired() (also when the server refuses the request itself with 410):
  // the caller lists again. Any other refusal is an error Status.
  virtual Status Watch(const ResourceRef& r, const std::string& ns,
                       const std::string& resource_version, const ListOptions& options,
                       std::chrono::seconds timeout,
                       const std::function<bool(const WatchEvent&)>& handler) = 0;

  // A pod's log (container "" = the only one), line by line without the
  // newline; follow streams until the container ends or `sink` returns false.
  virtual Status PodLogs(const std::string& ns, const std::string& pod,
                         const std::string& container, bool follow, std::optional<int> tail_lines,
                         const std::function<bool(const std::string&)>& sink) = 0;

  // Runs a command in a pod's container (pods/exec over WebSocket,
  // v5.channel.k8s.io, else v4); returns its exit code and output (a
  // non-zero exit is a result, not an error). Errors: the pod or container
  // is missing or not running, RBAC, the connection's exec_timeout.
  struct ExecResult {
    int exit_code = 0;
    std::string out, err;
  };
  virtual Result<ExecResult> Exec(const std::string& ns, const std::string& pod,
                                  const std::string& container,
                                  const std::vector<std::string>& command) = 0;

 protected:
  explicit KubeClient(KubeConnection c) : connection_(std::move(c)) {}
  KubeConnection connection_;
};

// The server's Retry-After carried by a kUnavailable status ("(retry after N s)").
std::optional<std::chrono::milliseconds> RetryAfterHint(const Status& status);

// The wait before attempt `attempt` (0-based) of Retrying: 200 ms doubling to
// 5 s, or the server's Retry-After when `last` carries one.
std::chrono::milliseconds RetryBackoff(int attempt, const Status& last);

// Runs `call` until it succeeds, fails with an error other than
// kUnavailable, or `deadline` passes (then the last error, saying so);
// backoff 200 ms doubling to 5 s, Retry-After honoured.
template <typename T>
Result<T> Retrying(std::chrono::steady_clock::time_point deadline,
                   const std::function<Result<T>()>& call) {
  for (int attempt = 0;; ++attempt) {
    Result<T> result = call();
    if (result.ok() || result.status().code() != ErrorCode::kUnavailable) return result;
    auto wait = RetryBackoff(attempt, result.status());
    if (std::chrono::steady_clock::now() + wait >= deadline) {
      return result.status().WithContext("gave up after " + std::to_string(attempt + 1) +
                                         " attempts");
    }
    std::this_thread::sleep_for(wait);
  }
}

// The same for calls that return only a Status.
Status Retrying(std::chrono::steady_clock::time_point deadline,
                const std::function<Status()>& call);

}  // namespace zkpilot
