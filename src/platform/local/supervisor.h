// Supervisor: one background process per local cluster that keeps its
// ZooKeeper servers running.
//
// The supervisor is `zkpilot supervise NAME`, started detached by any command
// that needs it (EnsureSupervisor). It reads the nodes' desired state from the
// state database and reconciles every `poll` interval:
//   desired running, process gone    -> record the exit, restart with backoff
//                                       (0.5 s doubling to 30 s; reset after 60 s up)
//   desired running, generation bumped -> stop it and start it again (a restart
//                                       asked for by a command, not counted)
//   desired stopped, process alive   -> SIGKILL (StopServerProcess)
// It exits when the cluster is gone or no node is desired running and none
// runs. It never stops nodes when it exits: a killed supervisor is simply
// started again and adopts the running nodes by PID (and a command-line
// marker, so a reused PID is not mistaken for a node).
//
// How a node is started is in its launch file (nodes/<id>/conf/launch.json:
// argv, env, marker), written by the platform when it prepares the node.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/status.h"

namespace zkpilot {

struct LaunchSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "KEY=value"
  std::string marker;            // unique substring of the command line
  std::string log_path;

  nlohmann::json ToJson() const;
  static Result<LaunchSpec> FromJson(const nlohmann::json& j);
};
std::string LaunchSpecPath(const std::string& node_dir);

struct SupervisorOptions {
  std::string home;     // ZKPILOT_HOME
  std::string cluster;
  std::chrono::milliseconds poll{200};
  std::chrono::milliseconds stop_grace{15000};  // services' SIGTERM grace (servers: SIGKILL)
};

// Stops a ZooKeeper server's process, as the supervisor and the platform do:
// SIGKILL at once, since SIGTERM does nothing SIGKILL skips and is slower
// (supervisor.cc, docs/stopping-servers.md). Returns how the process ended
// (see StopProcess).
Result<std::string> StopServerProcess(int pid, const std::string& marker);

// Runs the supervision loop in this process until there is nothing to
// supervise or SIGTERM/SIGINT arrives. Returns the process exit code.
int RunSupervisor(const SupervisorOptions& options);

// PID of the cluster's running supervisor, or 0.
int SupervisorPid(const std::string& home, const std::string& cluster);

// Starts the cluster's supervisor unless one runs; waits until it does.
Status EnsureSupervisor(const std::string& home, const std::string& cluster);

// Tells a running supervisor to reconcile now rather than at its next poll
// (SIGUSR1), after a command changed what it wants.
void KickSupervisor(const std::string& home, const std::string& cluster);

// Waits until the cluster's supervisor has exited (it exits by itself once
// no node is desired running); SIGTERMs it after `timeout`.
Status WaitSupervisorExit(const std::string& home, const std::string& cluster, std::chrono::milliseconds timeout);

}  // namespace zkpilot
