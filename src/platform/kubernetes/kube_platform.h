// KubernetesPlatform: the Platform (platform/platform.h) of one ZooKeeper
// ensemble on a Kubernetes cluster.
//
// Bound to one cluster — its namespace and name (the ZooKeeperCluster's),
// its package, its target values and its super-user password — it renders
// the package for the target values (render/renderer.h, Kubernetes topology)
// and applies objects by server-side apply under field manager "zkpilot"
// (never forced). Every applied object gets the label zkpilot.io/cluster=<name>
// and, when the options name the ZooKeeperCluster's uid, an ownerReference to
// it. A field another manager owns (a user's `kubectl scale` of a server's
// StatefulSet) is a kConflict that names the field and its manager; zkpilot
// does not take it over.
//
// Servers. Each server is its own controller: a one-replica StatefulSet with
// updateStrategy OnDelete (a template change restarts nothing; RestartServer
// deletes the pod), or a one-replica Deployment (Recreate: a template change
// replaces the pod at once, so a running Deployment's template is changed
// only by RestartServer — the planner's restart, one server at a time).
// zkpilot adds to each server's pod template:
//   zkpilot.io/cluster               label (pods are found by it)
//   zkpilot.io/restart-generation    annotation: the generation asked for
//   zkpilot.io/template-hash         annotation: SHA-256 of the rest of the
//                                    pod template — the configuration
//                                    fingerprint (ServerState::config_fingerprint
//                                    and TargetFingerprint): a version, heap,
//                                    resources or config-file change all
//                                    change it, a membership change does not
//                                    (the package's zkpilot.io/config-hash
//                                    covers its config files only)
//   env SERVER_JVMFLAGS              the super user's digest, from the Secret
//                                    <cluster>-zkpilot-super (key digest)
// A controller's replicas are what zkpilot asked for: 0 for a server applied
// but not started, 1 once started, 0 again when stopped.
//
// Membership. The shared ConfigMap's zoo.cfg lists the servers of the last
// ApplyServerConfig's `members` (the target's servers when empty). A server
// that has run keeps its committed dynamic configuration on its data volume
// and ignores that list; a new server (scale up) starts from it, so it must
// list the current members plus the new server. The server lines are not part
// of any fingerprint: a membership change restarts nothing.
//
// Waiting uses the Clock; API calls that fail with kUnavailable (429, 5xx, no
// answer) are retried until a per-call deadline (KubePlatformOptions).
//
// Thread-safety: one thread at a time (like the KubeClient it uses).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "package/package.h"
#include "platform/kubernetes/kube_client.h"
#include "platform/kubernetes/kube_platform_objects.h"
#include "platform/platform.h"
#include "render/renderer.h"
#include "util/status.h"
#include "values/values.h"

namespace zkpilot {

struct KubePlatformOptions {
  std::string namespace_name = "default";
  std::string cluster = "zookeeper";  // the ZooKeeperCluster's name; objects are named after it
  std::string super_password;         // the cluster's super user (see EnsureSuperPassword)
  // The ZooKeeperCluster owning every applied object (garbage-collected with
  // it). Empty uid: no ownerReference.
  std::string owner_uid;
  std::string owner_api_version = "zkpilot.io/v1alpha1";
  std::string owner_kind = "ZooKeeperCluster";
  // How long one API call is retried while the API answers 429/5xx or not at all.
  std::chrono::milliseconds api_retry{std::chrono::seconds(30)};
  std::chrono::milliseconds poll_interval{std::chrono::milliseconds(250)};
};

// Secret <cluster>-zkpilot-super.
std::string SuperSecretName(const std::string& cluster);

// The cluster's super-user password: read from its Secret, or generated and
// stored there (created with keys password and digest, owned by `owner_uid`'s
// ZooKeeperCluster when given). Safe when two callers race: the one whose
// create loses reads the winner's.
Result<std::string> EnsureSuperPassword(KubeClient& client, const KubePlatformOptions& options);

// Secret <cluster>-grafana-admin, key admin-password: the grafana add-on's
// admin password (GF_SECURITY_ADMIN_PASSWORD in its template), generated the
// first time ApplyAddons runs with grafana.enabled and kept from then on
// like the super user's; deleted with the cluster.
std::string GrafanaSecretName(const std::string& cluster);
Result<std::string> EnsureGrafanaPassword(KubeClient& client, const KubePlatformOptions& options);

// Secret <cluster>-zoonavigator-login (ZooNavigatorLoginSecretObject): the
// login of the proxy in front of the zoonavigator add-on, generated the first
// time ApplyAddons runs with zoonavigator.enabled and kept like Grafana's.
std::string ZooNavigatorLoginSecretName(const std::string& cluster);
Result<std::string> EnsureZooNavigatorLogin(KubeClient& client, const KubePlatformOptions& options);

class KubernetesPlatform : public Platform {
 public:
  // REQUIRES: `target` was resolved against `package`'s schema; `client`
  // and `clock` outlive the platform.
  KubernetesPlatform(KubeClient& client, Package package, Values target,
                     KubePlatformOptions options, Clock& clock = SystemClock());

  std::string Name() const override { return "kubernetes"; }

  // The API answers; the namespace exists (it is not created: a missing one
  // is InvalidInput with the command that creates it); the version has an
  // image in the package; the caller may do what the platform does
  // (SelfSubjectAccessReviews; kPermissionDenied naming every missing
  // permission); the package renders.
  Status Preflight() override;

  // <pod>.<cluster>-headless.<ns>.svc.<clusterDomain> endpoints.
  Result<std::vector<NodeEndpoint>> Topology() const override;

  // Servers of the target, of existing controllers and of existing pods; the
  // client endpoint is the pod's IP (the caller runs in the cluster network),
  // or the DNS name while no pod has one.
  Result<std::vector<ServerState>> Servers() override;
  Result<std::string> TargetFingerprint(int id) override;

  // Applies the cluster-wide objects (ConfigMap with `members` as its server
  // list, Services, PDB, ServiceAccount, NetworkPolicy, the super-user
  // Secret) and server `id`'s controller (and claim, Deployment mode) with
  // the target template. A new server is applied with replicas 0; a running
  // Deployment keeps its template until RestartServer.
  Result<std::string> ApplyServerConfig(int id, const std::vector<int>& members,
                                        const ServerRender& render = {}) override;
  Result<std::string> StartServer(int id) override;  // replicas 1
  // Applies generation `generation` to the pod template, then deletes the pod
  // (StatefulSet) unless it already runs that generation or is going away.
  Result<std::string> RestartServer(int id, int64_t generation) override;
  // Replicas 0, then waits until the server's pod is gone.
  Result<std::string> StopServer(int id, std::chrono::milliseconds timeout) override;
  // Deletes the server's controller; its claims stay.
  Result<std::string> ForgetServer(int id) override;
  // Applies the cluster-wide objects (a dynamic change may touch them: the
  // Service type, the PDB, the NetworkPolicy) and the enabled add-ons'
  // objects, then deletes the cluster's objects (by label, PrunedKinds())
  // that the target no longer renders. Servers' controllers, claims and the
  // super-user Secret and the TLS Secrets (kube_tls.h) are never pruned.
  Result<std::string> ApplyAddons() override;
  // Deletes every object of the cluster (controllers first), waits until its
  // pods are gone, then deletes its claims when `purge_data`.
  Result<std::string> TearDown(bool purge_data, std::chrono::milliseconds timeout) override;
  // Without TLS: the super user's digest, as today. With tls.enabled: over
  // TLS as CN=zkpilot-super (Secret <c>-tls-zkpilot, kube_tls.h), no digest;
  // each server dialled by its pod IP and verified against its node host
  // (ServerState::client.tls_name).
  Result<std::unique_ptr<ZkClient>> OpenSession(const std::vector<int>& members) override;
  // With tls.enabled, four-letter words go over TLS with zkpilot's
  // credentials; a plaintext client port no longer exists (the probes' port
  // listens on 127.0.0.1 inside the pod only). Admin cannot fail: without
  // readable credentials it gets none, and Observe/SyncedFollowers say why.
  AdminClient Admin(std::chrono::milliseconds timeout) const override;
  NodeObservation Observe(const ServerState& server) override;
  Result<int> SyncedFollowers(const ServerState& leader) override;
  // remove-files, purge-snapshots: a command run in server `id`'s pod
  // (skipped when it has no running pod); remove-node-data: deletes the
  // server's claims, only when `purge_data`.
  Result<std::string> RunFileAction(int id, const std::string& action, const nlohmann::json& args,
                                    bool purge_data) override;
  Result<std::string> LogTail(int id, int lines) override;
  // Namespace, controller kind, and each enabled add-on's Deployment (ready/replicas).
  Result<PlatformStatus> Describe() override;
  // The add-on's Service by its cluster DNS name (reachable inside the
  // cluster network): <cluster>-<name>.<ns>.svc.<clusterDomain>:<port>.
  Result<Endpoint> AddonEndpoint(const std::string& name) override;

 private:
  struct Live {
    nlohmann::json rendered;                   // the server's controller as the target renders it
    std::optional<nlohmann::json> controller;  // as it exists
    std::optional<nlohmann::json> pod;         // its pod: the newest not being deleted, else any
  };
  RenderOptions Options() const;
  ObjectDecoration Decoration() const;
  // The target's objects; the ConfigMap's server list made of `members`
  // (the target's servers when empty).
  Result<PlatformObjects> Render(const std::vector<int>& members) const;
  // Server `id`'s objects (claims, then its controller) under the target
  // values, also for a server beyond the target's replicas (scaling down).
  Result<std::vector<nlohmann::json>> ServerObjects(int id) const;
  Result<Live> ReadServer(int id);
  // With tls.enabled and cert-manager (kube_certmanager.h): the Issuers and
  // server `id`'s Certificates applied, then waits until they are Ready; ""
  // otherwise.
  Result<std::string> IssueWithCertManager(int id);
  Result<std::string> ApplyServer(int id, std::optional<int> replicas,
                                  std::optional<int64_t> generation);
  Result<int> ApplyClusterWide(const std::vector<int>& members);
  Result<nlohmann::json> Apply(const nlohmann::json& object);
  Result<ResourceRef> Resource(const std::string& api_version, const std::string& kind);
  Result<std::vector<nlohmann::json>> ListByLabel(const std::string& api_version,
                                                  const std::string& kind,
                                                  const std::string& selector);
  Status DeleteObject(const nlohmann::json& object);
  Status WaitObserved(const ResourceRef& ref, const std::string& name, int64_t generation);
  Status WaitPodsGone(const std::string& selector, std::chrono::steady_clock::time_point deadline,
                      const std::string& what);
  Result<std::optional<nlohmann::json>> RunningPod(int id);
  Result<std::vector<std::string>> ClaimsOf(int id);
  Result<KubeClient::ExecResult> Exec(const nlohmann::json& pod,
                                      const std::vector<std::string>& command);
  std::chrono::steady_clock::time_point ApiDeadline() const;
  std::string ServerSelector(int id) const;  // pods of one server, or of every server when id == 0
  // zkpilot's TLS credentials when the target has tls.enabled (none
  // otherwise): read from the Secret once, then kept; a failure is not kept
  // (the Secret may appear with the first server's objects).
  Result<std::optional<TlsClientFiles>> TlsCredentials() const;

  KubeClient& client_;
  Package package_;
  Values target_;
  KubePlatformOptions options_;
  Clock& clock_;
  mutable std::optional<TlsClientFiles> tls_;  // TlsCredentials(), once read
};

}  // namespace zkpilot
