// PlatformStepRunner: carries out every kind of step (plan/plan.h StepKind)
// on any platform, using only the Platform interface, the ReleaseStore and
// the Clock. What makes zkpilot safe is here, once:
//
//   wait-healthy     observe (actions/observe.h) until every server is in sync
//                    with one leader; fail fast when a server keeps exiting
//                    (ServerState::restarts), with the end of its log
//   restart-node     unless the server already runs the step's generation:
//                    wait until every *other* server is healthy, ask for the
//                    generation (Platform::RestartServer), wait until it runs;
//                    then wait until it is back in sync. A resumed step never
//                    restarts a server twice
//   hand-off-leader  the leader's restart without an election: once every
//                    other server is healthy, a reconfig through a session on
//                    the leader moves the leader's quorum port to its
//                    hand-off port; ZooKeeper then names the most up-to-date
//                    voter its successor and the followers switch to it
//                    directly (Leader.getDesignatedLeader, QuorumPeer
//                    .updateServerState in 3.8/3.9). As soon as another voter
//                    reports `leader` the old one is restarted, then waited
//                    for like any restart. A refused reconfig (disabled, no
//                    rights, voters not in sync) falls back to the plain
//                    leader-last restart and says so. A server that no longer
//                    leads (a resumed step) is restarted as a follower
//   restore-quorum-port  the server's normal quorum port again, by reconfig
//                    (a follower's quorum port is not in use: no gap)
//   reconfig-add/-remove  dynamic reconfiguration through a ZooKeeper
//                    session; skipped when already done
//   run-hooks        the package's hooks (actions/hooks.h)
//   stop-nodes       every server, one after the other
//   roll-to-stage    every server not yet running the step's stages (observed
//                    at its start): re-rendered at them (ServerRender) and
//                    restarted like restart-node, followers by id, the
//                    leader by hand-off; one observation per server
//   set-client-addresses  the membership with or without client addresses,
//                    one non-incremental reconfig (skipped when already so),
//                    and every zoo.cfg rendered alike without a restart
// The other kinds are platform primitives (prepare-node → ApplyServerConfig,
// start-node, stop-node, forget-node, apply-addons, tear-down). An unknown
// kind (kInvalid) fails, naming it.
#pragma once

#include <chrono>
#include <functional>
#include <cstdint>
#include <string>
#include <vector>

#include "actions/action_context.h"
#include "package/package.h"
#include "plan/executor.h"
#include "platform/platform.h"
#include "values/values.h"

namespace zkpilot {

struct StepRunnerOptions {
  std::chrono::milliseconds poll{100};  // between two observations of a wait
  // While a restarted server comes back, and while a hand-off waits for its
  // successor: a server is in sync (or leads) moments after it can be, not a
  // poll period later. A `srvr` reading costs about a millisecond locally.
  std::chrono::milliseconds fast_poll{20};
  // How long a hand-off waits for another voter to report `leader` before it
  // restarts the old leader anyway (the others then elect one).
  std::chrono::milliseconds successor_wait{10000};
  int crash_loop_exits = 2;             // exits during a wait that make a server broken, not slow
  int log_tail_lines = 25;              // of a broken server's log, in the error
};

class PlatformStepRunner : public StepRunner {
 public:
  // `values` are the target values (hooks' `when`); hook runs are recorded
  // under `operation_id`. REQUIRES: ctx, package and values outlive the runner.
  PlatformStepRunner(ActionContext& ctx, const Package& package, const Values& values, int64_t operation_id,
                     StepRunnerOptions options = {});

  Result<std::string> RunStep(const Step& step) override;

  // Until the servers of `members` (every known server when empty) are in
  // sync with one leader; servers of `except` may be unhealthy while the
  // others are healthy and there is quorum. Returns the health summary.
  // `poll`: between two observations (0: StepRunnerOptions::poll).
  Result<std::string> WaitHealthy(std::chrono::milliseconds timeout, const std::vector<int>& members = {},
                                  const std::vector<int>& except = {},
                                  std::chrono::milliseconds poll = std::chrono::milliseconds(0));
  // Stops every server the platform knows.
  Result<std::string> StopAll(std::chrono::milliseconds timeout);

 private:
  // `gate`: first wait until every other server is healthy. `restarted`
  // (may be empty): run once the new process runs, before the wait for it
  // to come back in sync.
  Result<std::string> Restart(int id, int64_t generation, std::chrono::milliseconds timeout, bool gate = true,
                              const std::function<void()>& restarted = {});
  Result<std::string> HandOff(int id, int64_t generation, std::chrono::milliseconds timeout);
  // Moves the leader's quorum port by reconfig; the id of the voter that
  // leads afterwards (0: none seen within successor_wait). A refused reconfig
  // is an error whose message says why (the caller falls back).
  // `session`: the session on the leader, kept open until it is stopped.
  Result<int> HandOver(int id, const NodeEndpoint& endpoint, std::unique_ptr<ZkSession>& session);
  Result<std::string> RestoreQuorumPort(int id, std::chrono::milliseconds timeout);
  // One attempt at moving server `id`'s quorum port back to its normal one,
  // through a session on the servers `via` (every server when empty).
  Result<std::string> MoveQuorumPortBack(int id, const NodeEndpoint& endpoint, const std::vector<int>& via);
  Result<NodeEndpoint> TopologyEntry(int id);
  // Until the leader counts every follower as in sync with it (its mntr's
  // zk_synced_followers); "" once it does, a note when the leader does not
  // say (no mntr), an error at `timeout`.
  Result<std::string> WaitLeaderCountsFollowersSynced(std::chrono::milliseconds timeout);
  Result<std::string> Reconfig(int id, bool add);
  // roll-to-stage and set-client-addresses (actions/tls_steps.cc).
  Result<std::string> RollToStage(const Step& step, std::chrono::milliseconds timeout);
  Result<std::string> SetClientAddresses(bool present);
  Result<std::string> Hooks(const Step& step);
  Result<ServerState> Server(int id);
  Result<std::vector<int>> KnownServers();  // the target's and the platform's, ascending
  std::string LogEnd(const ServerState& server, int lines);

  ActionContext& ctx_;
  const Package& package_;
  const Values& values_;
  int64_t operation_id_;
  StepRunnerOptions options_;
};

}  // namespace zkpilot
