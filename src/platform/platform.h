// Platform: where an ensemble's servers run — local processes or Kubernetes.
//
// The actions (src/actions/) and the step runner (actions/step_runner.h)
// see a cluster only through this interface; the planners see only the
// EnsembleView (ensemble_view.h) observed through it. Each object is bound to
// one cluster and its target values (its package and the values it is to
// realise): actions get one from their caller, built for the values at hand
// (a deploy's, a change's target, the current revision's for status).
//
// Primitives are small and idempotent: "ask for server 3 at generation 5",
// "apply server 2's configuration". Waiting, quorum gating, reconfig and
// hooks are done once, platform-neutrally, by the step runner on top of them
// (Servers + Observe + the ZooKeeper sessions below).
//
//   local       src/platform/local/local_platform.h   (supervisor, SQLite nodes)
//   kubernetes  src/platform/kubernetes/kube_platform.h (objects by server-side apply)
//   fake        src/platform/fake_platform.h           (records calls; fails on demand; tests)
//
// Thread-safety: one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "observe/health.h"
#include "platform/ensemble_view.h"
#include "render/renderer.h"
#include "util/status.h"
#include "zk/endpoint.h"
#include "zk/four_letter.h"
#include "zk/zk_client.h"

namespace zkpilot {

// The ZooKeeper calls the step runner makes (reconfig, hooks), behind an
// interface so tests can answer them. SessionOver wraps a real ZkClient.
class ZkSession {
 public:
  virtual ~ZkSession() = default;
  virtual Result<std::string> GetConfig() = 0;  // /zookeeper/config (zk/ensemble_config.h)
  virtual Result<std::string> Reconfig(const std::string& joining, const std::string& leaving) = 0;
  // Non-incremental: `members` (server lines, comma-separated) becomes the
  // membership, if the config is still at version `from_config`
  // (ZkClient::SetMembers).
  virtual Result<std::string> SetMembers(const std::string& members, int64_t from_config) = 0;
  // SetMembers sent without waiting for the answer. Default: SetMembers,
  // answered at once.
  virtual Result<std::function<std::optional<Status>()>> StartSetMembers(const std::string& members,
                                                                          int64_t from_config);
  // Sends the change without waiting for the answer (ZkClient::StartReconfig).
  // Default: Reconfig, answered at once.
  virtual Result<std::function<std::optional<Status>()>> StartReconfig(const std::string& joining,
                                                                        const std::string& leaving);
  virtual Result<CreatedNode> CreateNode(const std::string& path, const std::string& data,
                                         const CreateOptions& options) = 0;
  virtual Status Delete(const std::string& path, DeleteMode mode) = 0;  // missing: kNotFound
  virtual Status SetQuota(const std::string& path, int64_t bytes, int64_t count) = 0;
  // The ACL id ZooKeeper knows the session by (ZkClient::OwnAclId); "" when
  // anonymous or not known. Default: "".
  virtual std::string OwnAclId() const { return ""; }
};
std::unique_ptr<ZkSession> SessionOver(std::unique_ptr<ZkClient> client);

// Facts `status` shows besides the servers (local: the supervisor and the
// monitoring add-ons) and conditions of the platform's own.
struct PlatformStatus {
  nlohmann::ordered_json fields = nlohmann::ordered_json::object();
  std::vector<Condition> conditions;
};

class Platform {
 public:
  virtual ~Platform() = default;

  virtual std::string Name() const = 0;  // "local", "kubernetes"

  // Everything checkable before anything is recorded or started: programs and
  // distributions present, and for servers of the target that do not exist
  // yet their ports free and directories writable (local); API reachable, CRD
  // and permissions (Kubernetes). InvalidInput for the user's fault.
  virtual Status Preflight() = 0;

  // What must hold before any server restarts, also when an interrupted
  // operation is resumed (which skips Preflight): locally, that the servers'
  // JAAS files and the credential files agree. Preflight checks it too.
  virtual Status CheckCredentials() { return Status::Ok(); }

  // The servers of the target values: id and endpoint, ascending.
  virtual Result<std::vector<NodeEndpoint>> Topology() const = 0;

  // Platform state of every server it knows of (including servers mid-scale), by id.
  virtual Result<std::vector<ServerState>> Servers() = 0;

  // Fingerprint of the configuration server `id` would run under the target
  // values (compare with ServerState::config_fingerprint → needs_restart).
  virtual Result<std::string> TargetFingerprint(int id) = 0;

  // Writes/applies server `id`'s configuration for the target values with the
  // ensemble made of `members` (empty: the target's servers), at the stages
  // `render` asks for (empty fields: the values'; a TLS migration renders
  // one server at a time at its next stage, render/renderer.h). Takes effect
  // at the server's next start.
  virtual Result<std::string> ApplyServerConfig(int id, const std::vector<int>& members,
                                                const ServerRender& render = {}) = 0;

  // Asks for server `id` to run (created if needed). Does not wait.
  virtual Result<std::string> StartServer(int id) = 0;
  // Asks for server `id` to be restarted to `generation`; asking again for a
  // generation already reached does nothing (a resumed step restarts once).
  // Does not wait.
  virtual Result<std::string> RestartServer(int id, int64_t generation) = 0;
  // Stops one server and waits until it is gone.
  virtual Result<std::string> StopServer(int id, std::chrono::milliseconds timeout) = 0;
  // Drops a removed server from the platform's records (its data stays).
  virtual Result<std::string> ForgetServer(int id) = 0;

  // Add-ons (monitoring, console) as the target values switch them on/off.
  virtual Result<std::string> ApplyAddons() = 0;

  // Stops every server and add-on and removes what the platform made; data
  // stays unless `purge_data`. Returns what is left, for people ("data kept
  // under DIR (--purge-data removes it)").
  virtual Result<std::string> TearDown(bool purge_data, std::chrono::milliseconds timeout) = 0;

  // A ZooKeeper session to `members` (all servers when empty), authenticated
  // as the cluster's super user (hooks, reconfig).
  virtual Result<std::unique_ptr<ZkClient>> OpenSession(const std::vector<int>& members) = 0;
  // The same session as the step runner uses it. Default: SessionOver(OpenSession).
  virtual Result<std::unique_ptr<ZkSession>> OpenZkSession(const std::vector<int>& members);

  // The hooks' file actions on server `id`'s data directory: `action` is the
  // hook step's action (remove-files, purge-snapshots, remove-node-data) with
  // its args. Locally the files, on Kubernetes an exec into the pod (or the
  // claim's deletion for remove-node-data). remove-node-data removes nothing
  // unless `purge_data`.
  virtual Result<std::string> RunFileAction(int id, const std::string& action, const nlohmann::json& args,
                                            bool purge_data) = 0;

  // The last `lines` lines of server `id`'s log ("" when none).
  virtual Result<std::string> LogTail(int id, int lines) = 0;

  // How zkpilot sends four-letter words to this cluster's servers, each
  // bounded by `timeout`: the one place that knows how its client ports
  // speak (locally with tls.enabled: TLS with zkpilot's own certificate).
  // Default: plaintext TCP.
  virtual AdminClient Admin(std::chrono::milliseconds timeout) const;
  // The same for one server, which may speak otherwise than the values say
  // while a TLS migration is under way (locally: by the TLS stage it runs,
  // ServerState::tls_stage). Default: Admin.
  virtual AdminClient AdminFor(const ServerState& server, std::chrono::milliseconds timeout) const;

  // ZooKeeper's own reading of a server: `srvr` on its client endpoint.
  // Default: through AdminFor, one second at most.
  virtual NodeObservation Observe(const ServerState& server);

  // How many followers the leader counts as synced: `mntr`'s
  // zk_synced_followers, the size of Leader.getForwardingFollowers() (the
  // learners it forwards proposals to; LearnerHandler.syncFollower adds one
  // once its sync is queued; MonitorCommand in Commands.java). An error when
  // `leader` does not lead or does not answer `mntr` (not in
  // 4lw.commands.whitelist, say).
  // Default: `mntr` through AdminFor, one second at most.
  virtual Result<int> SyncedFollowers(const ServerState& leader);

  // What `status` shows of the platform itself. Default: nothing.
  virtual Result<PlatformStatus> Describe();

  // Where add-on `name` ("prometheus") answers. Default: NotFound.
  virtual Result<Endpoint> AddonEndpoint(const std::string& name);
};

// Time, injectable for tests of waits (the fake clock advances on Sleep).
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point Now() = 0;
  virtual void Sleep(std::chrono::milliseconds d) = 0;
};
Clock& SystemClock();

}  // namespace zkpilot
