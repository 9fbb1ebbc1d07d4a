// Platform: where an ensemble's servers run — local processes or Kubernetes.
//
// The actions (src/actions/) and the step runner (src/plan/step_runner.h)
// see a cluster only through this interface; the planners see only the
// EnsembleView it observes. Each implementation is bound to one cluster (the
// platform objects are built per cluster, from its package and values).
//
// Primitives are small and idempotent: "ask for server 3 at generation 5",
// "apply server 2's configuration". Waiting, quorum gating, reconfig and
// hooks are done once, platform-neutrally, by the step runner on top of them
// (Observe + the ZooKeeper sessions below).
//
//   local       src/platform/local/local_platform.h   (supervisor, SQLite nodes)
//   kubernetes  src/platform/kubernetes/kube_platform.h (objects by server-side apply)
//   fake        src/platform/fake_platform.h           (records calls; fails on demand; tests)
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "observe/health.h"
#include "util/status.h"
#include "values/values.h"
#include "zk/endpoint.h"

namespace zkpilot {

class ZkClient;

// What the platform knows of one server (not what ZooKeeper says of it).
struct ServerState {
  int id = 0;
  bool exists = false;             // process / pod present (or being started)
  bool desired_running = false;    // what zkpilot last asked for
  int64_t generation = 0;          // restart generation asked for
  int64_t running_generation = 0;  // generation the running process/pod was started at
  int restarts = 0;                // unexpected exits / container restarts
  std::string last_exit;           // "exited with 1", "OOMKilled", ...
  Endpoint client;                 // where zkpilot reaches its client port (4lw, sessions)
  std::string version;             // ZooKeeper version it runs (from the platform)
  std::string config_fingerprint;  // of the configuration it runs (rolling parameters only)
  std::string uid;                 // pod uid on Kubernetes, pid locally
};

// One server as observed: the platform's state plus ZooKeeper's own reading.
struct ServerView {
  ServerState state;
  NodeHealth health;  // role, zxid, lag, problem (observe/health.h)
};

// The cluster's transient state, as planners and status see it. The planners
// use members/leader/generations/needs_restart; status prints servers.
struct EnsembleView {
  std::vector<int> members;            // current voter ids, ascending
  int leader = 0;                      // 0: unknown
  std::map<int, int64_t> generations;  // restart generation per server
  // Servers whose configuration differs from the target values (a
  // fingerprint of the rolling parameters, the version); only they restart.
  std::vector<int> needs_restart;
  std::vector<ServerView> servers;     // by id
  EnsembleHealth health;
};

class Platform {
 public:
  virtual ~Platform() = default;

  virtual std::string Name() const = 0;  // "local", "kubernetes"

  // Everything checkable before anything is recorded or started: ports free,
  // programs and distributions present (local); API reachable, CRD and
  // permissions (Kubernetes). InvalidInput for the user's fault.
  virtual Status Preflight() = 0;

  // The servers of the target values: id and endpoint, ascending.
  virtual Result<std::vector<NodeEndpoint>> Topology() const = 0;

  // Platform state of every server it knows of (including servers mid-scale).
  virtual Result<std::vector<ServerState>> Servers() = 0;

  // Fingerprint of the configuration server `id` would run under the target
  // values (compare with ServerState::config_fingerprint → needs_restart).
  virtual Result<std::string> TargetFingerprint(int id) = 0;

  // Writes/applies server `id`'s configuration for the target values with the
  // ensemble made of `members` (empty: the target's servers). Takes effect at
  // the server's next start.
  virtual Result<std::string> ApplyServerConfig(int id, const std::vector<int>& members) = 0;

  // Asks for server `id` to run (created if needed). Does not wait.
  virtual Result<std::string> StartServer(int id) = 0;
  // Asks for server `id` to be restarted to `generation`; asking again for a
  // generation already reached does nothing (a resumed step restarts once).
  virtual Result<std::string> RestartServer(int id, int64_t generation) = 0;
  // Stops one server and waits until it is gone.
  virtual Result<std::string> StopServer(int id, std::chrono::milliseconds timeout) = 0;
  // Drops a removed server from the platform's records (its data stays).
  virtual Result<std::string> ForgetServer(int id) = 0;

  // Add-ons (monitoring, console) as the target values switch them on/off.
  virtual Result<std::string> ApplyAddons() = 0;

  // Stops every server and removes what the platform made; data stays unless
  // `purge_data`.
  virtual Result<std::string> TearDown(bool purge_data, std::chrono::milliseconds timeout) = 0;

  // A ZooKeeper session to `members` (all servers when empty), authenticated
  // as the cluster's super user (hooks, reconfig).
  virtual Result<std::unique_ptr<ZkClient>> OpenSession(const std::vector<int>& members) = 0;

  // The hooks' file actions on server `id`'s data directory: `action` is the
  // hook step's action (remove-files, purge-snapshots, remove-node-data) with
  // its args. Locally the files, on Kubernetes an exec into the pod (or the
  // claim's deletion for remove-node-data).
  virtual Result<std::string> RunFileAction(int id, const std::string& action, const nlohmann::json& args,
                                            bool purge_data) = 0;

  // The last `lines` lines of server `id`'s log ("" when none).
  virtual Result<std::string> LogTail(int id, int lines) = 0;
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
