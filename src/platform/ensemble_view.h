// The ensemble as zkpilot sees it: what the platform knows of each server
// (ServerState) and what the planners plan from (EnsembleView).
//
// Pure data. Platforms produce ServerStates (platform.h); the observation
// (actions/observe.h ObserveEnsembleView) joins them with ZooKeeper's own
// readings (`srvr`) into an ObservedEnsemble — an EnsembleView plus each
// server's health — which the planners (plan/change_planner.h), the step
// runner's waits and `status` all read. This header stays free of the
// health types so that planners' users need not see them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "zk/endpoint.h"

namespace zkpilot {

// What the platform knows of one server (not what ZooKeeper says of it).
struct ServerState {
  int id = 0;
  bool exists = false;             // process / pod present and running
  bool desired_running = false;    // what zkpilot last asked for
  int64_t generation = 0;          // restart generation asked for
  int64_t running_generation = 0;  // generation the running process/pod was started at
  int restarts = 0;                // unexpected exits / container restarts
  std::string last_exit;           // "exited with 1", "OOMKilled", ...
  Endpoint client;                 // where zkpilot reaches its client port (4lw, sessions)
  std::string version;             // ZooKeeper version it runs (from the platform)
  std::string config_fingerprint;  // of the configuration it runs (rolling parameters only)
  std::string uid;                 // pod uid on Kubernetes, pid locally
  // Why the platform does not count the server as serving although it may
  // answer (Kubernetes: its pod is not Ready, so Services do not route to
  // it); empty when it does. Health counts such a server as not in sync.
  std::string not_ready;
  // For people, in progress lines and messages:
  std::string instance;            // the running instance: "pid 4242", "pod demo-2-0"
  std::string log;                 // where its log is: a file, "pod demo-2-0, container zookeeper"
  int64_t started_at = 0;          // ms since the epoch the running instance started (0: unknown)
  // Observed, like running_generation: the TlsStage (render/renderer.h) and
  // the quorum SASL stage (ServerRender::quorum_auth_stage) of the
  // configuration the running instance was started from; -1: unknown.
  // Locally the supervisor classifies the zoo.cfg it starts.
  int tls_stage = -1;
  int quorum_auth_stage = -1;
  // Platform-specific fields `status` shows for the server, in order (local:
  // pid, restarts, last_exit, client, admin, data_dir). Fields named like the
  // generic ones (restarts, last_exit, client) take their place.
  nlohmann::ordered_json details = nlohmann::ordered_json::object();
};

// The cluster's transient state, as planners see it.
struct EnsembleView {
  std::vector<int> members;            // current voter ids, ascending
  int leader = 0;                      // 0: unknown
  std::map<int, int64_t> generations;  // restart generation per server
  // Servers whose configuration differs from the target values (a
  // fingerprint of the rolling parameters, the version); only they restart.
  std::vector<int> needs_restart;
  // Per server, the quorum port its leadership hand-off moves it to
  // (NodeEndpoint::handoff_quorum_port); a server without one is restarted
  // as the leader, last, with an election.
  std::map<int, int> handoff_ports;
  // Per server, its observed ServerState::tls_stage / quorum_auth_stage (-1 unknown).
  std::map<int, int> tls_stages;
  std::map<int, int> quorum_auth_stages;
};

}  // namespace zkpilot
