// LocalPlatform: the Platform (platform/platform.h) of one cluster whose
// ZooKeeper servers run as processes on this machine.
//
// Only the supervisor (supervisor.h) starts and stops processes; this class
// expresses intent in the state database's nodes table and reads it back:
//   ApplyServerConfig  directories, myid, zoo.cfg (rendered from the package
//                      for 127.0.0.1), log configuration, launch file, the
//                      JVM options file with the super user's digest
//                      (conf/secret.args, 0600: never on a command line), and
//                      the fingerprint of all that (conf/prepared.sha256) —
//                      the ServerState::config_fingerprint
//   StartServer        the node desired running (a stopped node's ports are
//                      checked again first: still this cluster's in the port
//                      registry, and free); the supervisor ensured
//   RestartServer      the node's generation raised (once per generation)
//   StopServer         the node desired stopped; waits until it is gone
//   ForgetServer       the node's row dropped (its data stays)
//   ApplyAddons        monitoring: the exporter, Prometheus (with the
//                      package's rules) and Alertmanager on 127.0.0.1
//   TearDown           every node and service stopped, the supervisor gone,
//                      every port free; the cluster's directory removed with
//                      --purge-data, else only the lock and the secret
//   OpenSession        the servers' client ports, as the super user (whose
//                      password is in <cluster>/super.secret, mode 0600; with
//                      tls.enabled over TLS as CN=zkpilot-super, local_tls.h)
//   RunFileAction      the data directories (file_actions.h)
// With tls.enabled the cluster's certificates are made or renewed
// (local_tls.h, EnsureClusterPki) for a server whenever it is prepared,
// started or restarted: the restart puts a renewed one in use.
// Servers() keeps the cluster supervised: a supervisor that died is started
// again while some server is desired running.
// Identity before trust: a server's reading (Observe) counts only when the
// process recorded for it listens on its client port (port_owner.h); what
// else answers there is named and counted down. TearDown stops this
// cluster's processes by their PIDs and names a port another process holds
// instead of waiting for it.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "package/package.h"
#include "platform/local/cds.h"
#include "platform/local/distribution.h"
#include "platform/local/local_auth.h"
#include "platform/local/port_registry.h"
#include "platform/local/topology.h"
#include "platform/platform.h"
#include "state/state_store.h"
#include "values/values.h"
#include "zk/tls_transport.h"

namespace zkpilot {

class LocalPlatform : public Platform {
 public:
  // The platform of cluster `cluster` under $ZKPILOT_HOME `home`, bound to
  // `target`: its servers are the target's plus those the nodes table still
  // has (mid-scale). Touches nothing. InvalidInput when the target's ports
  // would pass 65535. REQUIRES: `store` outlives the platform.
  static Result<std::unique_ptr<LocalPlatform>> Create(StateStore& store, const std::string& home,
                                                        const std::string& cluster, Package package, Values target);

  // What Preflight does with the port registry (port_registry.h).
  struct PortOptions {
    bool reserve = false;           // false: only check (dry runs, and unless told)
    bool allow_privileged = false;  // ports below 1024 (--allow-privileged-ports)
  };
  void SetPortOptions(PortOptions options) { port_options_ = options; }

  std::string Name() const override { return "local"; }
  // Over TLS with zkpilot's certificate when the cluster has tls.enabled.
  AdminClient Admin(std::chrono::milliseconds timeout) const override;
  // By the TLS stage the server runs (TlsClientFilesForStage).
  AdminClient AdminFor(const ServerState& server, std::chrono::milliseconds timeout) const override;
  // java, every file rendered (CheckRenderedFiles), the version's
  // distribution, add-on programs; the cluster's whole port block reserved
  // (or checked) in the port registry; for servers not yet recorded: ports
  // free, data directories writable; the cluster's directory. Creates nothing
  // but the reservation.
  Status Preflight() override;
  Status CheckCredentials() override;
  Result<std::vector<NodeEndpoint>> Topology() const override;
  Result<std::vector<ServerState>> Servers() override;
  Result<std::string> TargetFingerprint(int id) override;
  Result<std::string> ApplyServerConfig(int id, const std::vector<int>& members,
                                        const ServerRender& render = {}) override;
  Result<std::string> StartServer(int id) override;
  Result<std::string> RestartServer(int id, int64_t generation) override;
  Result<std::string> StopServer(int id, std::chrono::milliseconds timeout) override;
  Result<std::string> ForgetServer(int id) override;
  Result<std::string> ApplyAddons() override;
  Result<std::string> TearDown(bool purge_data, std::chrono::milliseconds timeout) override;
  // Over TLS iff every member runs at TLS stage >= 1 (a stage unknown
  // counts as the values say): stages 0 and 3 never run together, and
  // stages 1 and 2 take both.
  Result<std::unique_ptr<ZkClient>> OpenSession(const std::vector<int>& members) override;
  Result<std::string> RunFileAction(int id, const std::string& action, const nlohmann::json& args,
                                    bool purge_data) override;
  Result<std::string> LogTail(int id, int lines) override;
  // `srvr`, counted only when this cluster's process for the server answers
  // it; otherwise an error naming what does (ForeignServerDescription).
  NodeObservation Observe(const ServerState& server) override;
  // The supervisor (started again when it died) and the monitoring services.
  Result<PlatformStatus> Describe() override;
  // "prometheus", "alertmanager", "exporter": 127.0.0.1, in server 1's port block.
  Result<Endpoint> AddonEndpoint(const std::string& name) override;

 private:
  struct NodeFiles {
    std::string zoo_cfg, logback, launch_json, secret_args, fingerprint;
    std::string jaas;               // "" when auth.* asks for none (local_auth.h)
    std::vector<std::string> argv;  // the JVM command line in launch_json
  };
  // What a server is given that must not be on a command line.
  struct NodeSecrets {
    std::string super_password;
    AuthCredentials auth;
  };
  LocalPlatform(StateStore& store, std::string home, std::string cluster, Package package, Values target);
  Result<const LocalNode*> Node(int id) const;
  std::vector<const LocalNode*> Members(const std::vector<int>& ids) const;
  // What a server with these secrets is given, at the stages `render` asks for.
  Result<NodeFiles> RenderNodeFiles(const LocalNode& node, const std::vector<int>& members,
                                    const NodeSecrets& secrets, const ServerRender& render = {});
  struct AddonFiles {
    std::string prometheus_config, alert_rules, alertmanager_config;
  };
  Result<AddonFiles> RenderAddonFiles() const;
  // Renders (and throws away) every file the servers and add-ons are given,
  // so that a template that does not render fails the command before
  // anything is recorded or created. No secret is read or made for it.
  Status CheckRenderedFiles();
  Result<std::string> SuperPassword();
  // The TLS stage of server `id`'s prepared zoo.cfg (what its next start
  // runs); the values' stage when it has none or none is recognized.
  TlsStage PreparedTlsStage(int id) const;
  // The super-user password and the credentials auth.* needs (at the quorum
  // SASL stage `render` asks for), made when missing.
  Result<NodeSecrets> Secrets(const ServerRender& render = {});
  void KeepSupervised(const std::vector<NodeRecord>& records);
  // Every port of the known servers and of the monitoring add-ons.
  std::vector<PortClaim> PortBlock() const;
  PortOwner Owner() const;
  // Before a start: the ports are still this cluster's, and free.
  Status CheckBindable(const std::vector<PortClaim>& ports);

  StateStore& store_;
  const std::string home_, name_, cluster_home_;
  const Package package_;
  const Values values_;
  std::vector<LocalNode> nodes_;  // the target's and the recorded ones, by id
  Result<Distribution> distribution_ = Status::NotFound("no distribution looked up");
  std::string super_password_;    // read (or created) when first needed
  std::unique_ptr<CdsArchives> cds_;  // made when a server is first prepared
  PortOptions port_options_;
  std::optional<TlsClientFiles> tls_;  // zkpilot's client files with tls.enabled
  // Describe's condition and field for server certificates due for renewal.
  void DescribeServerCertificates(const std::vector<NodeRecord>& records,
                                  PlatformStatus& status) const;
  // RenewOwnCertificate once per platform, before its first connection.
  void RenewOwnCertificateOnce() const;
  mutable std::once_flag own_certificate_checked_;
};

// The version's distribution: NotFound with the fetch command when missing.
Result<Distribution> DistributionForVersion(const Package& package, const Values& values, const std::string& home);

// Creates (or reads) the cluster's super-user password.
Result<std::string> EnsureSuperPassword(const std::string& cluster_home);

// Fails (NotFound, with the package to install) when the values switch on a
// monitoring add-on whose program is not installed.
Status CheckAddonPrograms(const Values& values);

// Platform state of a local cluster's servers, from the nodes table (what
// LocalPlatform::Servers reports, without a package: no version).
Result<std::vector<ServerState>> LocalServerStates(StateStore& store, const std::string& cluster,
                                                   const Package* package = nullptr);

}  // namespace zkpilot
