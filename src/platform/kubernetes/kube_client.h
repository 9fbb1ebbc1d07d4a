// KubeClient: a small Kubernetes API client over libcurl.
//
// Configuration comes from a kubeconfig (KUBECONFIG, --kubeconfig,
// --context, its namespace) or, in a pod, from the service account
// (/var/run/secrets/kubernetes.io/serviceaccount, KUBERNETES_SERVICE_HOST).
// Supported: server CA (file or data), insecure-skip-tls-verify only when the
// kubeconfig says so, client certificates (file or data), bearer tokens
// (token, tokenFile), exec credential plugins (client.authentication.k8s.io
// v1/v1beta1, cached until expirationTimestamp), proxy-url and the usual
// *_proxy environment. TLS verification is on.
//
// Errors are Status values whose message says what a person needs:
//   unreachable  "kubernetes API https://10.0.0.1:6443 unreachable: Connection refused (check --kubeconfig/--context)"
//   401          "kubernetes API: unauthorized (401): credentials rejected or expired"
//   403          "kubernetes API: forbidden (403): user "x" cannot patch resource "statefulsets" in API group "apps" in the namespace "ns""
//   404          ErrorCode::kNotFound
//   409          ErrorCode::kConflict (field manager conflicts name the fields and their manager)
//   422          ErrorCode::kInvalidInput: "... is invalid: spec.replicas: Invalid value: ..." (the causes' fields)
//   401/403      ErrorCode::kPermissionDenied
//   no answer, 429, 5xx   ErrorCode::kUnavailable (retryable: see Retrying())
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace zkpilot {

struct KubeConfigOptions {
  std::string kubeconfig;  // --kubeconfig; empty: $KUBECONFIG (':'-separated, merged), else ~/.kube/config
  std::string context;     // --context; empty: current-context
  std::string namespace_;  // -n; empty: the context's namespace, else "default"
  bool in_cluster = false; // force the service account (the operator in a pod)
};

// Resolved connection settings (what kubectl calls the rest config).
struct KubeConnection {
  std::string server;                 // https://host:port
  std::string ca_pem;                 // empty: system CAs
  bool insecure_skip_tls_verify = false;
  std::string client_cert_pem, client_key_pem;
  std::string token;                  // static bearer token
  std::string token_file;             // re-read when it changes (projected SA tokens)
  nlohmann::json exec;                // exec credential plugin config (null: none)
  std::string proxy_url;
  std::string default_namespace = "default";
  std::string context_name;
  std::string user_name;
};

// Loads the connection: NotFound when there is no kubeconfig and no service
// account ("no Kubernetes configuration: set KUBECONFIG or pass --kubeconfig").
Result<KubeConnection> LoadKubeConnection(const KubeConfigOptions& options);

// Which API resource an object is: from apiVersion+kind via discovery.
struct ResourceRef {
  std::string group;      // "" for core
  std::string version;    // "v1"
  std::string resource;   // plural: "statefulsets"
  bool namespaced = true;
  std::string kind;
};

struct WatchEvent {
  std::string type;               // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  nlohmann::json object;
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

  // apiVersion+kind → resource, by discovery (cached).
  virtual Result<ResourceRef> Resolve(const std::string& api_version, const std::string& kind) = 0;

  // Plain requests. `path` is the API path ("/api/v1/namespaces/x/pods").
  // Returns the decoded JSON body for 2xx, else a Status (see the header).
  virtual Result<nlohmann::json> Request(const std::string& method, const std::string& path,
                                         const std::optional<nlohmann::json>& body = std::nullopt,
                                         const std::string& content_type = "application/json") = 0;

  // Typed helpers over Request.
  virtual Result<std::optional<nlohmann::json>> Get(const ResourceRef& r, const std::string& ns, const std::string& name) = 0;
  virtual Result<nlohmann::json> List(const ResourceRef& r, const std::string& ns, const ListOptions& options = {}) = 0;  // the List object
  virtual Result<nlohmann::json> Create(const ResourceRef& r, const std::string& ns, const nlohmann::json& object) = 0;
  // Server-side apply: PATCH application/apply-patch+yaml, fieldManager, force when asked.
  virtual Result<nlohmann::json> Apply(const ResourceRef& r, const std::string& ns, const nlohmann::json& object,
                                       const std::string& field_manager, bool force = false,
                                       const std::string& subresource = "") = 0;
  // Merge patch (application/merge-patch+json), optionally of a subresource ("status").
  virtual Result<nlohmann::json> MergePatch(const ResourceRef& r, const std::string& ns, const std::string& name,
                                            const nlohmann::json& patch, const std::string& subresource = "") = 0;
  // Replace (PUT) with resourceVersion: 409 when it changed meanwhile.
  virtual Result<nlohmann::json> Replace(const ResourceRef& r, const std::string& ns, const nlohmann::json& object,
                                         const std::string& subresource = "") = 0;
  // Delete; NotFound is success when `ignore_missing`. propagation: "Background", "Foreground", "Orphan".
  virtual Status Delete(const ResourceRef& r, const std::string& ns, const std::string& name, bool ignore_missing = true,
                        const std::string& propagation = "Background", std::optional<int64_t> grace_seconds = std::nullopt) = 0;

  // Watches from `resource_version` until `handler` returns false, the server
  // ends the stream, or `timeout` passes. Ok on a clean end; the caller
  // re-lists on 410 Gone (ApiError 410).
  virtual Status Watch(const ResourceRef& r, const std::string& ns, const std::string& resource_version,
                       const ListOptions& options, std::chrono::seconds timeout,
                       const std::function<bool(const WatchEvent&)>& handler) = 0;

  // A pod's log (container "" = the only one); follow streams lines to `sink`.
  virtual Status PodLogs(const std::string& ns, const std::string& pod, const std::string& container, bool follow,
                         std::optional<int> tail_lines, const std::function<bool(const std::string&)>& sink) = 0;

  // Runs a command in a pod's container (pods/exec over WebSocket,
  // v5.channel.k8s.io / v4); returns exit code and output.
  struct ExecResult {
    int exit_code = 0;
    std::string out, err;
  };
  virtual Result<ExecResult> Exec(const std::string& ns, const std::string& pod, const std::string& container,
                                  const std::vector<std::string>& command) = 0;

 protected:
  explicit KubeClient(KubeConnection c) : connection_(std::move(c)) {}
  KubeConnection connection_;
};

// Runs `call` until it succeeds, fails with an error other than
// kUnavailable, or `deadline` passes; backoff 200 ms doubling to 5 s.
template <typename T>
Result<T> Retrying(std::chrono::steady_clock::time_point deadline, const std::function<Result<T>()>& call);

}  // namespace zkpilot
