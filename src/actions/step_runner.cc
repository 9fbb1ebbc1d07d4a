#include "actions/step_runner.h"

#include <algorithm>
#include <map>
#include <set>

#include "actions/hooks.h"
#include "actions/observe.h"
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
                          step.kind == StepKind::kForgetNode;
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
                                                     const std::vector<int>& except) {
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
    ctx_.clock.Sleep(options_.poll);
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

Result<std::string> PlatformStepRunner::Restart(int id, int64_t generation, milliseconds timeout) {
  const std::string server = "server " + std::to_string(id);
  ZK_ASSIGN_OR_RETURN(ServerState before, Server(id));
  if (before.running_generation < generation) {
    // Never take a server down while another one is unhealthy (the server
    // itself may be: restarting it is how a broken server gets repaired).
    auto gate = WaitHealthy(timeout, {}, {id});
    if (!gate.ok()) return gate.status().WithContext("not restarting " + server + ": the ensemble is not healthy");
    ZK_RETURN_IF_ERROR(ctx_.platform.RestartServer(id, generation).status());
    const auto deadline = ctx_.clock.Now() + timeout;
    while (true) {
      ZK_ASSIGN_OR_RETURN(ServerState now, Server(id));
      if (now.running_generation >= generation && now.exists) break;
      if (now.restarts - before.restarts >= options_.crash_loop_exits)
        return Status::IOError(server + " keeps exiting after its restart (" + now.last_exit + "); the end of its log " +
                               now.log + ":\n" + LogEnd(now, options_.log_tail_lines));
      if (ctx_.clock.Now() >= deadline) return Status::IOError(server + " was not restarted within " + Seconds(timeout));
      ctx_.clock.Sleep(options_.poll / 2);
    }
  }
  ZK_ASSIGN_OR_RETURN(ServerState restarted, Server(id));
  auto back = WaitHealthy(timeout);
  if (!back.ok())
    return back.status().WithContext(server + " did not come back in sync (the other servers keep serving)");
  return (restarted.instance.empty() ? "" : restarted.instance + "; ") + *back;
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
    entry.client = Endpoint{e->bind_address.empty() ? e->host : e->bind_address, e->client_port};
    ZK_ASSIGN_OR_RETURN(updated, session->Reconfig(entry.ToConfigLine(), ""));
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
