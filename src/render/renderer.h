// Renderer: Package + Values -> Kubernetes objects (pure: text in, data out).
//
// Rendering is deterministic: the same package and values give byte-identical
// output. Objects come out in a fixed kind order (ServiceAccount, ConfigMap,
// Service, ... controllers last), then in template path order, then by server
// id. Every rendered document is parsed as YAML and must be a map with
// apiVersion, kind and metadata.name; errors name the template and line.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "package/package.h"
#include "util/status.h"
#include "util/yaml_json.h"
#include "values/values.h"

namespace zkpilot {

// What a server's zoo.cfg says about TLS (design A1). -1: not known / not classifiable.
//   0 plaintext   the client address on the server line; no TLS files
//   1 open        TLS files; the client port unified (TLS and plaintext,
//                 NettyServerCnxnFactory's DualModeSslHandler), the quorum
//                 accepting both (portUnification) and dialling plaintext
//   2 quorum-tls  as 1, and the quorum dials TLS (sslQuorum)
//   3 tls         secureClientPort only, sslQuorum, server lines without a
//                 client address (today's tls.enabled=true)
enum class TlsStage : int { kUnknown = -1, kPlaintext = 0, kOpen = 1, kQuorumTls = 2, kTls = 3 };
// The resting stage the values ask for: !tls.enabled -> kPlaintext; tls.enabled && tls.allowPlaintext
// -> kQuorumTls; otherwise kTls. Reads absent keys as false.
TlsStage TargetTlsStage(const Values& values);
// The quorum SASL stage the values ask for (auth.quorum ? 3 : 0; see ServerRender).
int TargetQuorumAuthStage(const Values& values);

// How one server's files are rendered when it differs from the resting
// stage of the values. Empty optionals: from the values.
struct ServerRender {
  std::optional<TlsStage> tls_stage;
  // Whether the server lines (server.N=...;127.0.0.1:C) carry client
  // addresses. Default when empty: true for stages 0-2, false for stage 3.
  std::optional<bool> client_addresses;
  // Quorum SASL: 0 none (auth.quorum=false), 1 quorum.auth.enableSasl only,
  // 2 + learnerRequireSasl, 3 + serverRequireSasl (auth.quorum=true).
  // Empty: auth.quorum ? 3 : 0.
  std::optional<int> quorum_auth_stage;
  bool operator==(const ServerRender&) const = default;
};

// The stage, client addresses and quorum SASL stage `render` asks for, its
// empty fields taken from `values`.
TlsStage TlsStageOf(const ServerRender& render, const Values& values);
bool ClientAddressesOf(const ServerRender& render, const Values& values);
int QuorumAuthStageOf(const ServerRender& render, const Values& values);
// `tls.*` in templates, for the stage `render` asks for: stage (0-3), files
// (>= 1: key stores, Netty, x509), clientUnified and quorumUnified (1, 2),
// clientOnly (3: secureClientPort), sslQuorum (>= 2), lineClient (server
// lines with client addresses), enforceSchemes (enforce.auth.schemes).
nlohmann::json TlsTemplateContext(const ServerRender& render, const Values& values);

struct RenderOptions {
  std::string cluster_name = "zookeeper";  // DNS-1123 label, at most 40 characters
  std::string namespace_name = "default";
  std::string platform = "kubernetes";     // `platform.<name>` is true in templates
  nlohmann::json platform_values = nlohmann::json::object();  // `<platform>.*` in templates, e.g. local.alertmanagerPort
  ServerRender server;  // the server's stages (default: from the values)
};

// One ZooKeeper server as templates see it (`node.*`).
struct NodeEndpoint {
  int id = 0;  // myid, 1..N
  std::string name;      // controller / claim name: <cluster>-<id>
  std::string pod_name;  // host name of its pod
  std::string host;      // stable DNS name peers and clients use
  int client_port = 0, quorum_port = 0, election_port = 0, admin_server_port = 0, metrics_port = 0;
  std::string bind_address;  // where the server listens: 0.0.0.0 in a pod, 127.0.0.1 locally
  std::string data_dir;      // its snapshot directory
  std::string data_log_dir;  // its transaction log directory; empty: inside data_dir
  // The quorum port a leader moves to for a leadership hand-off (a roll's
  // reconfig, actions/step_runner.h); 0: the platform offers none.
  int handoff_quorum_port = 0;
  // With tls.enabled, the server's TLS files (PEM): its key and certificate
  // in one file, and the cluster's CA. Set by the local platform only.
  std::string tls_key_store, tls_trust_store;
};

// The servers of a cluster on Kubernetes, from the well-known parameters
// (replicas, controller, clusterDomain and the port parameters).
std::vector<NodeEndpoint> KubernetesTopology(const Values& values, const RenderOptions& options);

struct RenderedObject {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string source;  // template path, for messages
  OrderedJson body;
};

// Checks the cluster name: a DNS-1123 label short enough for every derived name.
Status ValidateClusterName(const std::string& name);

// InvalidInput when `values` ask for what Kubernetes manifests cannot have:
// a tls.probePort equal to another port. (TLS with either tls.certificates
// and auth.* render: the platform makes their Secrets.)
Status RefuseLocalOnlyFeatures(const Values& values);

// InvalidInput for what RefuseLocalOnlyFeatures refuses.
Result<std::vector<RenderedObject>> RenderManifests(const Package& package, const Values& values,
                                                    const RenderOptions& options);

// The server whose configuration files are rendered (`self` in templates).
// On Kubernetes all servers share one ConfigMap, so `self` has no id and the
// values' ports and directories.
NodeEndpoint KubernetesSelf(const Values& values);

// Renders one declared file (e.g. zooCfg) for the given servers, as seen by `self`.
Result<std::string> RenderDeclaredFile(const Package& package, const Values& values,
                                       const RenderOptions& options, const std::vector<NodeEndpoint>& nodes,
                                       const NodeEndpoint& self, const std::string& file_name);

// Output formats.
std::string ToYamlStream(const std::vector<RenderedObject>& objects);  // "---" separated
std::string ToJsonList(const std::vector<RenderedObject>& objects);    // a v1 List, 2-space indent
// "003-statefulset-demo-1.yaml": index, kind and name; unique per object.
std::string FileNameFor(const RenderedObject& object, size_t index, size_t total);

}  // namespace zkpilot
