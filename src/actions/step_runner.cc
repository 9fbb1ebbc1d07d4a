#include "actions/step_runner.h"

#include <algorithm>
#include <map>
#include <set>

#include "actions/hooks.h"
#include "actions/observe.h"
#include "util/failpoint.h"
#include "zk/ensemble_config.h"

namespace zkpilot {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kDefaultWait{120000};
constexpr milliseconds kDefaultStop{30000};
constexpr milliseconds kDefaultTearDown{60000};
constexpr int kTimeoutLogLines = 10;

std::string Seconds(milliseconds d) { return std::to_string(d.count() / 1000) + "s"; }

milliseconds ArgTimeout(const Step& step, milliseconds fallback) {
  auto it = step.args.find("timeout_ms");
  return it != step.args.end() && it->is_number_integer() ? milliseconds(it->get<int64_t>()) : fallback;
}

std::vector<int> ArgIds(const Step& step, const char* key) {
  auto it = step.args.find(key);
  if (it == step.args.end() || !it->is_array()) return {};
  std::vector<int> ids;
  for (const auto& v : *it)
    if (v.is_number_integer()) ids.push_back(v.get<int>());
  return ids;
}

std::optional<HookEvent> ParseHookEvent(const std::string& s) {
  for (HookEvent e : {HookEvent::kDeploy, HookEvent::kUpgrade, HookEvent::kScale, HookEvent::kDelete})
    if (s == HookEventName(e)) return e;
  return std::nullopt;
}

std::optional<HookPhase> ParseHookPhase(const std::string& s) {
  for (HookPhase p : {HookPhase::kInit, HookPhase::kCleanup})
    if (s == HookPhaseName(p)) return p;
  return std::nullopt;
}

}  // namespace

PlatformStepRunner::PlatformStepRunner(ActionContext& ctx, const Package& package, const Values& values,
                                       int64_t operation_id, StepRunnerOptions options)
    : ctx_(ctx), package_(package), values_(values), operation_id_(operation_id), options_(options) {}

Result<std::string> PlatformStepRunner::RunStep(const Step& step) {
  Platform& platform = ctx_.platform;
  const int node = step.Node();
  const bool needs_node = step.kind == StepKind::kPrepareNode || step.kind == StepKind::kStartNode ||
                          step.kind == StepKind::kRestartNode || step.kind == StepKind::kReconfigAdd ||
                          step.kind == StepKind::kReconfigRemove || step.kind == StepKind::kStopNode ||
                          step.kind == StepKind::kForgetNode || step.kind == StepKind::kHandOffLeader ||
                          step.kind == StepKind::kRestoreQuorumPort;
  if (needs_node && node <= 0) return Status::Internal("step " + step.KindName() + " names no server");
  switch (step.kind) {
    case StepKind::kPrepareNode:
      return platform.ApplyServerConfig(node, ArgIds(step, "members"));
    case StepKind::kStartNode:
      return platform.StartServer(node);
    case StepKind::kWaitHealthy:
      return WaitHealthy(ArgTimeout(step, kDefaultWait), ArgIds(step, "members"), ArgIds(step, "except"));
    case StepKind::kRunHooks:
      return Hooks(step);
    case StepKind::kStopNodes:
      return StopAll(ArgTimeout(step, kDefaultStop));
    case StepKind::kRestartNode: {
      auto generation = step.args.find("generation");
      if (generation == step.args.end() || !generation->is_number_integer())
        return Status::Internal("step restart-node names no generation");
      return Restart(node, generation->get<int64_t>(), ArgTimeout(step, kDefaultWait));
    }
    case StepKind::kHandOffLeader: {
      auto generation = step.args.find("generation");
      if (generation == step.args.end() || !generation->is_number_integer())
        return Status::Internal("step hand-off-leader names no generation");
      return HandOff(node, generation->get<int64_t>(), ArgTimeout(step, kDefaultWait));
    }
    case StepKind::kRestoreQuorumPort:
      return RestoreQuorumPort(node, ArgTimeout(step, kDefaultWait));
    case StepKind::kReconfigAdd:
    case StepKind::kReconfigRemove:
      return Reconfig(node, step.kind == StepKind::kReconfigAdd);
    case StepKind::kStopNode:
      return platform.StopServer(node, ArgTimeout(step, kDefaultStop));
    case StepKind::kApplyAddons:
      return platform.ApplyAddons();
    case StepKind::kForgetNode:
      return platform.ForgetServer(node);
    case StepKind::kTearDown:
      return platform.TearDown(step.args.value("purge", false), ArgTimeout(step, kDefaultTearDown));
    case StepKind::kRollToStage:
      return RollToStage(step, ArgTimeout(step, kDefaultWait));
    case StepKind::kSetClientAddresses: {
      auto present = step.args.find("present");
      if (present == step.args.end() || !present->is_boolean())
        return Status::Internal("step set-client-addresses says not whether the addresses are present");
      return SetClientAddresses(present->get<bool>());
    }
    case StepKind::kInvalid:
      break;
  }
  return Status::Internal("step kind \"" + step.KindName() +
                          "\" is not one this version of zkpilot knows (a journal written by another version?)");
}

Result<ServerState> PlatformStepRunner::Server(int id) {
  ZK_ASSIGN_OR_RETURN(auto servers, ctx_.platform.Servers());
  for (auto& s : servers)
    if (s.id == id) return s;
  return Status::NotFound("server " + std::to_string(id) + " is not known to the " + ctx_.platform.Name() + " platform");
}

Result<std::vector<int>> PlatformStepRunner::KnownServers() {
  std::set<int> ids;
  ZK_ASSIGN_OR_RETURN(auto topology, ctx_.platform.Topology());
  for (const auto& e : topology) ids.insert(e.id);
  ZK_ASSIGN_OR_RETURN(auto servers, ctx_.platform.Servers());
  for (const auto& s : servers) ids.insert(s.id);
  return std::vector<int>(ids.begin(), ids.end());
}

std::string PlatformStepRunner::LogEnd(const ServerState& server, int lines) {
  auto tail = ctx_.platform.LogTail(server.id, lines);
  return tail.ok() ? *tail : "(" + tail.status().message() + ")";
}

Result<std::string> PlatformStepRunner::WaitHealthy(milliseconds timeout, const std::vector<int>& members,
                                                     const std::vector<int>& except, milliseconds poll) {
  ZK_ASSIGN_OR_RETURN(auto before, ctx_.platform.Servers());
  std::map<int, int> restarts_before;
  for (const auto& s : before) restarts_before[s.id] = s.restarts;

  const auto deadline = ctx_.clock.Now() + timeout;
  ObservedEnsemble view;
  while (true) {
    ZK_ASSIGN_OR_RETURN(view, ObserveEnsembleView(ctx_.platform, {members, false}));
    const EnsembleHealth& health = view.health;
    if (health.healthy) return health.Summary();
    if (!except.empty() && health.quorum) {
      bool others = true;
      for (const auto& n : health.nodes)
        others = others && (n.healthy || std::find(except.begin(), except.end(), n.id) != except.end());
      if (others) return health.Summary() + " (enough: the others are about to restart)";
    }
    for (const auto& sv : view.servers) {
      const ServerState& s = sv.state;
      const int exits = s.restarts - restarts_before[s.id];
      if (exits >= options_.crash_loop_exits)
        return Status::IOError("server " + std::to_string(s.id) + " keeps exiting (" + s.last_exit + ", " +
                               std::to_string(exits) + " times); the end of its log " + s.log + ":\n" +
                               LogEnd(s, options_.log_tail_lines));
    }
    if (ctx_.clock.Now() >= deadline) break;
    ctx_.clock.Sleep(poll.count() > 0 ? poll : options_.poll);
  }
  std::string msg = "not healthy after " + Seconds(timeout) + ": " + view.health.Summary();
  for (const auto& n : view.health.nodes) {
    if (n.healthy) continue;
    const ServerView* sv = view.Server(n.id);
    msg += "\nthe end of server " + std::to_string(n.id) + "'s log:\n" +
           (sv ? LogEnd(sv->state, kTimeoutLogLines) : std::string());
  }
  return Status::IOError(msg);
}

Result<std::string> PlatformStepRunner::StopAll(milliseconds timeout) {
  ZK_ASSIGN_OR_RETURN(auto servers, ctx_.platform.Servers());
  for (const auto& s : servers) {
    auto stopped = ctx_.platform.StopServer(s.id, timeout);
    if (!stopped.ok()) return stopped.status().WithContext("server " + std::to_string(s.id));
  }
  return "stopped " + std::to_string(servers.size()) + " servers";
}

Result<std::string> PlatformStepRunner::Restart(int id, int64_t generation, milliseconds timeout, bool gate,
                                                const std::function<void()>& restarted) {
  const std::string server = "server " + std::to_string(id);
  ZK_ASSIGN_OR_RETURN(ServerState before, Server(id));
  if (before.running_generation < generation) {
    // Never take a server down while another one is unhealthy (the server
    // itself may be: restarting it is how a broken server gets repaired).
    // A hand-off has just checked that (HandOff).
    if (gate) {
      auto healthy = WaitHealthy(timeout, {}, {id});
      if (!healthy.ok())
        return healthy.status().WithContext("not restarting " + server + ": the ensemble is not healthy");
    }
    ZK_RETURN_IF_ERROR(ctx_.platform.RestartServer(id, generation).status());
    const auto deadline = ctx_.clock.Now() + timeout;
    while (true) {
      ZK_ASSIGN_OR_RETURN(ServerState now, Server(id));
      if (now.running_generation >= generation && now.exists) break;
      if (now.restarts - before.restarts >= options_.crash_loop_exits)
        return Status::IOError(server + " keeps exiting after its restart (" + now.last_exit + "); the end of its log " +
                               now.log + ":\n" + LogEnd(now, options_.log_tail_lines));
      if (ctx_.clock.Now() >= deadline) return Status::IOError(server + " was not restarted within " + Seconds(timeout));
      ctx_.clock.Sleep(options_.fast_poll);
    }
  }
  if (restarted) restarted();
  ZK_ASSIGN_OR_RETURN(ServerState now, Server(id));
  auto back = WaitHealthy(timeout, {}, {}, options_.fast_poll);
  if (!back.ok())
    return back.status().WithContext(server + " did not come back in sync (the other servers keep serving)");
  ZK_ASSIGN_OR_RETURN(std::string counted, WaitLeaderCountsFollowersSynced(timeout));
  return (now.instance.empty() ? "" : now.instance + "; ") + *back + counted;
}

Result<std::string> PlatformStepRunner::WaitLeaderCountsFollowersSynced(milliseconds timeout) {
  // The follower's side (`srvr`: a follower serves only once it received
  // UPTODATE) and the leader's: its forwarding followers (LearnerHandler.
  // syncFollower adds a learner once its sync is queued), which `mntr` calls
  // zk_synced_followers. The next server is taken down only when both agree.
  const auto deadline = ctx_.clock.Now() + timeout;
  while (true) {
    ZK_ASSIGN_OR_RETURN(ObservedEnsemble view, ObserveEnsembleView(ctx_.platform));
    const ServerView* leader = view.Server(view.leader);
    int followers = 0;
    for (const auto& n : view.health.nodes) followers += n.role == "follower";
    std::string counted;
    if (leader && view.health.healthy) {
      auto synced = ctx_.platform.SyncedFollowers(leader->state);
      if (synced.ok() && *synced >= followers) return std::string();
      if (synced.ok()) {
        counted = "the leader counts " + std::to_string(*synced) + " of its " + std::to_string(followers) +
                  " followers in sync";
      } else if (synced.status().message().find("4lw.commands.whitelist") != std::string::npos) {
        // `mntr` left out of 4lw.commands.whitelist by the package: the
        // followers' own readings are all there is.
        return "; the leader's count of synced followers is unknown (" + synced.status().message() + ")";
      } else {
        // A slow answer, or a leader that changed since the observation: again.
        counted = "the leader's count: " + synced.status().message();
      }
    } else {
      counted = view.health.Summary();
    }
    if (ctx_.clock.Now() >= deadline)
      return Status::IOError("not every follower in sync with the leader after " + Seconds(timeout) + ": " + counted);
    ctx_.clock.Sleep(options_.fast_poll);
  }
}

Result<NodeEndpoint> PlatformStepRunner::TopologyEntry(int id) {
  ZK_ASSIGN_OR_RETURN(auto topology, ctx_.platform.Topology());
  for (const auto& e : topology)
    if (e.id == id) return e;
  return Status::Internal("server " + std::to_string(id) + " is not one of the target's servers");
}

namespace {

// The membership of `config` with `entry` in place of (or besides) its
// server's line, as SetMembers takes it: how a line without a client address
// (a TLS-only ensemble's) is changed, since an incremental reconfig refuses
// such a joining line (PrepRequestProcessor, 3.8.0 and 3.9.3: "each server
// should have 3 ports specified").
std::string MembersWith(EnsembleConfig config, const ServerEntry& entry) {
  config.servers[entry.id] = entry;
  std::string members;
  for (const auto& [id, s] : config.servers) members += (members.empty() ? "" : ",") + s.ToConfigLine();
  return members;
}

// Why a refused hand-off reconfig fell back, for people.
std::string HandOffRefusal(const Status& s) {
  const std::string& m = s.message();
  if (m.find("ZRECONFIGDISABLED") != std::string::npos)
    return "reconfiguration is disabled on this ensemble (reconfigEnabled=false)";
  if (m.find("ZNOAUTH") != std::string::npos) return "zkpilot's session may not reconfigure the ensemble (" + m + ")";
  if (m.find("ZNEWCONFIGNOQUORUM") != std::string::npos)
    return "too few voters are in sync with the leader for a reconfiguration (" + m + ")";
  return m;
}

}  // namespace

Result<int> PlatformStepRunner::HandOver(int id, const NodeEndpoint& endpoint, std::unique_ptr<ZkSession>& session) {
  // Through a session on the leader itself: a follower's session drops at
  // the hand-off, and only the leader can commit.
  ZK_ASSIGN_OR_RETURN(session, ctx_.platform.OpenZkSession({id}));
  ZK_ASSIGN_OR_RETURN(std::string text, session->GetConfig());
  ZK_ASSIGN_OR_RETURN(EnsembleConfig config, ParseEnsembleConfig(text));
  auto entry = config.servers.find(id);
  if (entry == config.servers.end() || entry->second.role != "participant")
    return Status::IOError("server " + std::to_string(id) + " is not a voter in /zookeeper/config");
  // To whichever of its two ports it is not on: a resumed hand-off whose
  // first move left it leading on the hand-off port moves it back.
  ServerEntry moved = entry->second;
  moved.quorum_port =
      moved.quorum_port == endpoint.handoff_quorum_port ? endpoint.quorum_port : endpoint.handoff_quorum_port;
  // Not waiting for the answer: the old leader commits the change, names its
  // successor and stops committing (allowedToCommit=false, Leader.java 3.9.3
  // ~1006-1016), but may answer only when it steps down at its next quorum
  // check (~770-836), up to a tickTime later.
  ZK_ASSIGN_OR_RETURN(auto answer, moved.client.port != 0
                                        ? session->StartReconfig(moved.ToConfigLine(), "")
                                        : session->StartSetMembers(MembersWith(config, moved), config.version));
  Failpoint("handoff.after-reconfig");
  // It also keeps answering `leader` until then, so the successor is
  // whichever *other* voter reports it.
  const auto deadline = ctx_.clock.Now() + options_.successor_wait;
  while (true) {
    if (std::optional<Status> refused = answer(); refused && !refused->ok()) return *refused;
    ZK_ASSIGN_OR_RETURN(auto servers, ctx_.platform.Servers());
    for (const auto& s : servers) {
      if (s.id == id || !s.exists) continue;
      NodeObservation o = ctx_.platform.Observe(s);
      if (o.srvr && o.srvr->mode == "leader") return s.id;
    }
    if (ctx_.clock.Now() >= deadline) return 0;
    ctx_.clock.Sleep(options_.fast_poll);
  }
}

Result<std::string> PlatformStepRunner::HandOff(int id, int64_t generation, milliseconds timeout) {
  const std::string server = "server " + std::to_string(id);
  ZK_ASSIGN_OR_RETURN(ServerState before, Server(id));
  // Restarted already (a resumed step): wait until it is back in sync.
  if (before.running_generation >= generation) return Restart(id, generation, timeout);
  auto gate = WaitHealthy(timeout, {}, {id});
  if (!gate.ok()) return gate.status().WithContext("not restarting " + server + ": the ensemble is not healthy");
  ZK_ASSIGN_OR_RETURN(ObservedEnsemble view, ObserveEnsembleView(ctx_.platform));
  if (view.leader != id) {
    // A resumed hand-off (or an election since the plan was made): it follows.
    ZK_ASSIGN_OR_RETURN(std::string done, Restart(id, generation, timeout));
    return server + " no longer leads (server " + std::to_string(view.leader) + " does): restarted as a follower; " +
           done;
  }
  ZK_ASSIGN_OR_RETURN(NodeEndpoint endpoint, TopologyEntry(id));
  std::string how;
  bool handed_over = false;
  std::unique_ptr<ZkSession> session;  // closed once the old leader is stopped
  if (endpoint.handoff_quorum_port <= 0) {
    how = "no hand-off (the platform offers no hand-off quorum port), restarted as the leader: one election; ";
  } else {
    const auto t0 = ctx_.clock.Now();
    auto successor = HandOver(id, endpoint, session);
    if (!successor.ok()) {
      how = "no hand-off (" + HandOffRefusal(successor.status()) + "), restarted as the leader: one election; ";
    } else if (*successor == 0) {
      handed_over = true;
      how = "handed over, but no other voter reported leader within " + Seconds(options_.successor_wait) +
            ": restarted it anyway; ";
    } else {
      handed_over = true;
      Failpoint("handoff.after-successor");
      const auto ms = std::chrono::duration_cast<milliseconds>(ctx_.clock.Now() - t0).count();
      how = "server " + std::to_string(*successor) + " leads (hand-off in " + std::to_string(ms) + " ms); ";
    }
  }
  // The successor leads: stop the old leader now, or clients reconnecting to
  // it hang until it notices (the gate was checked before the hand-off).
  // While its new process starts, its quorum port moves back: the others
  // are a quorum of both configurations (the gate saw every server healthy),
  // a follower's quorum port is used by nobody, and the restarted server
  // learns the new configuration when it syncs. One attempt; the
  // restore-quorum-port step that follows makes sure of it.
  std::string moved;
  auto move_back = [&] {
    Failpoint("handoff.after-restart");
    if (!handed_over) return;
    std::vector<int> others;
    for (int member : view.members)
      if (member != id) others.push_back(member);
    auto r = MoveQuorumPortBack(id, endpoint, others);
    if (r.ok()) moved = "; " + *r;
  };
  ZK_ASSIGN_OR_RETURN(std::string done, Restart(id, generation, timeout, /*gate=*/!handed_over, move_back));
  return how + done + moved;
}

Result<std::string> PlatformStepRunner::MoveQuorumPortBack(int id, const NodeEndpoint& endpoint,
                                                            const std::vector<int>& via) {
  const std::string server = "server " + std::to_string(id);
  ZK_ASSIGN_OR_RETURN(auto session, ctx_.platform.OpenZkSession(via));
  ZK_ASSIGN_OR_RETURN(std::string text, session->GetConfig());
  ZK_ASSIGN_OR_RETURN(EnsembleConfig config, ParseEnsembleConfig(text));
  auto entry = config.servers.find(id);
  if (entry == config.servers.end()) return Status::IOError(server + " is not in /zookeeper/config");
  if (entry->second.quorum_port == endpoint.quorum_port) return std::string("already on its quorum port");
  ServerEntry back = entry->second;
  back.quorum_port = endpoint.quorum_port;
  ZK_ASSIGN_OR_RETURN(std::string updated, back.client.port != 0
                                                ? session->Reconfig(back.ToConfigLine(), "")
                                                : session->SetMembers(MembersWith(config, back), config.version));
  ZK_ASSIGN_OR_RETURN(EnsembleConfig after, ParseEnsembleConfig(updated));
  return "quorum port " + std::to_string(entry->second.quorum_port) + " -> " + std::to_string(endpoint.quorum_port) +
         ", config version " + std::to_string(after.version);
}

Result<std::string> PlatformStepRunner::RestoreQuorumPort(int id, milliseconds timeout) {
  const std::string server = "server " + std::to_string(id);
  ZK_ASSIGN_OR_RETURN(NodeEndpoint endpoint, TopologyEntry(id));
  const auto deadline = ctx_.clock.Now() + timeout;
  Status last = Status::Ok();
  while (true) {
    auto moved = MoveQuorumPortBack(id, endpoint, {});
    if (moved.ok()) return moved;
    last = moved.status();
    // A reconfig in progress or a voter still syncing: try again.
    if (ctx_.clock.Now() >= deadline) break;
    ctx_.clock.Sleep(options_.poll);
  }
  return last.WithContext("moving " + server + "'s quorum port back to " + std::to_string(endpoint.quorum_port));
}

Result<std::string> PlatformStepRunner::Reconfig(int id, bool add) {
  // Talk to the servers that are members before the change.
  ZK_ASSIGN_OR_RETURN(auto servers, ctx_.platform.Servers());
  std::vector<int> members;
  for (const auto& s : servers)
    if (s.id != id || !add) members.push_back(s.id);
  ZK_ASSIGN_OR_RETURN(auto session, ctx_.platform.OpenZkSession(members));
  ZK_ASSIGN_OR_RETURN(std::string text, session->GetConfig());
  ZK_ASSIGN_OR_RETURN(EnsembleConfig config, ParseEnsembleConfig(text));
  const bool member = config.servers.count(id) > 0;
  if (add == member) return std::string(add ? "already a member" : "already removed");
  std::string updated;
  if (add) {
    ZK_ASSIGN_OR_RETURN(auto topology, ctx_.platform.Topology());
    auto e = std::find_if(topology.begin(), topology.end(), [&](const NodeEndpoint& n) { return n.id == id; });
    if (e == topology.end()) return Status::Internal("server " + std::to_string(id) + " is not one of the target's servers");
    ServerEntry entry;
    entry.id = id;
    entry.host = e->host;
    entry.quorum_port = e->quorum_port;
    entry.election_port = e->election_port;
    // The new line takes the members' form: no client address when theirs
    // have none. A TLS-only ensemble's client ports are secureClientPorts; a
    // client address would make the new server open a plaintext port there
    // at its next start (QuorumPeerConfig.setupClientPort takes it from its
    // server line). Such a membership is stated whole (MembersWith), at the
    // version just read: a change in between fails it rather than being lost.
    const bool with_client = config.servers.empty() ||
                             std::any_of(config.servers.begin(), config.servers.end(),
                                         [](const auto& s) { return s.second.client.port != 0; });
    if (with_client) {
      entry.client = Endpoint{e->bind_address.empty() ? e->host : e->bind_address, e->client_port};
      ZK_ASSIGN_OR_RETURN(updated, session->Reconfig(entry.ToConfigLine(), ""));
    } else {
      ZK_ASSIGN_OR_RETURN(updated, session->SetMembers(MembersWith(config, entry), config.version));
    }
  } else {
    ZK_ASSIGN_OR_RETURN(updated, session->Reconfig("", std::to_string(id)));
  }
  ZK_ASSIGN_OR_RETURN(EnsembleConfig after, ParseEnsembleConfig(updated));
  return (add ? "added; " : "removed; ") + std::to_string(after.servers.size()) + " voters, config version " +
         std::to_string(after.version);
}

Result<std::string> PlatformStepRunner::Hooks(const Step& step) {
  auto event = ParseHookEvent(step.args.value("event", ""));
  auto phase = ParseHookPhase(step.args.value("phase", ""));
  if (!event || !phase) return Status::Internal("run-hooks: unknown event or phase in " + step.args.dump());
  HookTarget target;
  target.platform = &ctx_.platform;
  target.values = &values_;
  target.members = ArgIds(step, "members");
  target.servers = ArgIds(step, "nodes");
  if (target.servers.empty()) {
    ZK_ASSIGN_OR_RETURN(target.servers, KnownServers());
  }
  target.purge_data = step.args.value("purge", false);
  target.store = &ctx_.store;
  target.operation_id = operation_id_;
  return RunHooks(package_, *event, *phase, target);
}

}  // namespace zkpilot
