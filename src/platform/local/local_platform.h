// LocalPlatform: runs ZooKeeper ensembles as processes on this machine.
//
// It carries out the steps of a plan (plan/plan.h) for one local cluster:
//   prepare-node {node}      directories, myid, zoo.cfg (rendered from the
//                            package for 127.0.0.1), log config, launch file
//   start-node {node}        mark the node desired-running; ensure the supervisor
//   wait-healthy {timeout_ms} poll `srvr` until the ensemble is healthy
//                            (observe/health.h); fail fast on a crash loop,
//                            with the tail of the server's log
//   run-hooks {event, phase} the package's lifecycle hooks (hooks.h)
//   stop-nodes               mark every node stopped; wait until the processes
//                            are gone and the supervisor has exited
//   wait-ports-free          every port of the cluster can be bound again
//   restart-node {node, generation}  once the ensemble is healthy, ask the
//                            supervisor for a restart (to `generation`, so a
//                            resumed step restarts once) and wait until the
//                            server is back in sync
//   reconfig-add {node} / reconfig-remove {node}  dynamic reconfiguration
//                            (skipped when already done)
//   stop-node {node}         stop one server and wait until it is gone
//   apply-addons             monitoring: the exporter, Prometheus (with the
//                            package's rules) and Alertmanager on 127.0.0.1,
//                            as the values switch them on or off
//   forget-node {node}       drop a removed server from the state
// prepare-node, wait-healthy and run-hooks take an optional `members` list:
// the server ids that make up the ensemble at that point (scaling).
// Every step can be run again (resume) without harm.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "package/package.h"
#include "plan/executor.h"
#include "platform/local/distribution.h"
#include "platform/local/topology.h"
#include "state/state_store.h"
#include "values/values.h"

namespace zkpilot {

// Everything needed to act on one local cluster.
struct LocalCluster {
  std::string home;          // ZKPILOT_HOME
  std::string name;
  std::string cluster_home;
  Package package;
  Values values;
  std::vector<LocalNode> nodes;
  Distribution distribution;
  std::string super_password;  // for reconfig and hooks; kept in cluster_home/super.secret
  std::string ConnectString() const;
};

// The version's distribution: NotFound with the fetch command when missing.
Result<Distribution> DistributionForVersion(const Package& package, const Values& values, const std::string& home);

// Creates (or reads) the cluster's super-user password.
Result<std::string> EnsureSuperPassword(const std::string& cluster_home);

// The JVM command line of a node.
std::vector<std::string> NodeCommand(const LocalCluster& cluster, const LocalNode& node, const std::string& java);

struct LocalPlatformOptions {
  bool purge_data = false;  // delete: remove-node-data hooks remove the data
};

class LocalPlatform : public StepRunner {
 public:
  LocalPlatform(StateStore& store, LocalCluster& cluster, int64_t operation_id, LocalPlatformOptions options = {});
  Result<std::string> RunStep(const Step& step) override;

  // True when the server's prepared configuration (zoo.cfg apart from the
  // membership, logging, JVM command line) differs from what the cluster's
  // values give: it needs a restart to take them.
  Result<bool> NeedsRestart(const LocalNode& node) const;

 private:
  struct NodeFiles {
    std::string zoo_cfg, logback, launch_json, fingerprint;
  };
  Result<NodeFiles> RenderNodeFiles(const LocalNode& node, const std::vector<int>& members) const;
  Result<const LocalNode*> NodeArg(const Step& step) const;
  Result<std::string> PrepareNode(const LocalNode& node);
  Result<std::string> StartNode(const LocalNode& node);
  Result<std::string> WaitHealthy(std::chrono::milliseconds timeout, const std::vector<int>& members = {});
  Result<std::string> RestartNode(const LocalNode& node, int64_t generation, std::chrono::milliseconds timeout);
  Result<std::string> Reconfig(const LocalNode& node, bool add);
  Result<std::string> StopNode(const LocalNode& node);
  Result<std::string> ApplyAddons();
  std::vector<const LocalNode*> Members(const std::vector<int>& ids) const;
  // Healthy, but for server `except` (0: none), which is about to be restarted.
  Result<std::string> WaitHealthyExcept(std::chrono::milliseconds timeout, int except);
  Result<std::string> WaitHealthyImpl(std::chrono::milliseconds timeout, const std::vector<int>& members,
                                      const std::vector<int>& except);
  Result<std::string> StopNodes();
  Result<std::string> WaitPortsFree();

  StateStore& store_;
  LocalCluster& cluster_;
  int64_t operation_id_;
  LocalPlatformOptions options_;
  std::vector<int> prepare_members_;  // membership the current prepare-node renders
};

// Steps.
Step PrepareNodeStep(const LocalNode& node);
Step StartNodeStep(const LocalNode& node);
Step WaitHealthyStep(std::chrono::milliseconds timeout, const std::string& why);
Step RunHooksStep(HookEvent event, HookPhase phase);
Step StopNodesStep();
Step ApplyAddonsStep();

// Fails (NotFound, with the package to install) when the values switch on a
// monitoring add-on whose program is not installed.
Status CheckAddonPrograms(const Values& values);
Step WaitPortsFreeStep();
Step RestartNodeStep(const LocalNode& node, int64_t generation, const std::string& role);
Step ReconfigStep(const LocalNode& node, bool add);
Step StopNodeStep(const LocalNode& node);
Step ForgetNodeStep(const LocalNode& node);
// Adds the ensemble's membership at that point to a step.
Step WithMembers(Step step, const std::vector<int>& members);

}  // namespace zkpilot
