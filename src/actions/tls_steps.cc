// The step runner's stage switches (actions/step_runner.h): roll-to-stage and
// set-client-addresses, the steps of plan/tls_planner.h (and of the quorum
// SASL switch, which rolls by quorum_auth_stage).
#include <algorithm>
#include <set>

#include "actions/observe.h"
#include "actions/step_runner.h"
#include "plan/change_planner.h"
#include "plan/steps.h"
#include "util/failpoint.h"
#include "zk/ensemble_config.h"

namespace zkpilot {
namespace {

using std::chrono::milliseconds;

// Whether `server` runs every stage `render` names (observed at its start,
// ServerState::tls_stage / quorum_auth_stage). client_addresses is not a
// stage of a server: the membership says it (set-client-addresses).
bool RunsStages(const ServerState& server, const ServerRender& render) {
  if (render.tls_stage && server.tls_stage != static_cast<int>(*render.tls_stage)) return false;
  if (render.quorum_auth_stage && server.quorum_auth_stage != *render.quorum_auth_stage) return false;
  return true;
}

std::string Ids(const std::vector<int>& ids) {
  std::string out;
  for (int id : ids) out += (out.empty() ? "" : ", ") + std::to_string(id);
  return out;
}

}  // namespace

Result<std::string> PlatformStepRunner::RollToStage(const Step& step, milliseconds timeout) {
  if (auto s = step.args.find("stage");
      s != step.args.end() && (!s->is_number_integer() || s->get<int>() < 0 || s->get<int>() > 3))
    return Status::Internal("step roll-to-stage: stage " + s->dump() + " is not a TLS stage (0-3)");
  if (auto q = step.args.find("quorum_auth_stage");
      q != step.args.end() && (!q->is_number_integer() || q->get<int>() < 0 || q->get<int>() > 3))
    return Status::Internal("step roll-to-stage: quorum_auth_stage " + q->dump() + " is not a stage (0-3)");
  const ServerRender render = RollToStageRender(step);
  if (!render.tls_stage && !render.quorum_auth_stage)
    return Status::Internal("step roll-to-stage names no stage (stage or quorum_auth_stage)");

  // One step for the whole roll, each server chosen from a fresh
  // observation: followers by id, whoever leads last (a hand-off makes
  // another server the leader, so a plan of per-server steps would restart a
  // new leader without one). A server already running the stages is skipped:
  // what runs is observed, so a resumed step restarts nobody twice.
  std::set<int> rolled;
  std::vector<std::string> done;
  bool first = true;
  while (true) {
    ZK_ASSIGN_OR_RETURN(ObservedEnsemble view, ObserveEnsembleView(ctx_.platform));
    std::vector<int> pending;
    for (const auto& sv : view.servers)
      if (!RunsStages(sv.state, render)) pending.push_back(sv.state.id);
    if (pending.empty()) break;
    int next = pending.front();
    for (int id : pending)
      if (id != view.leader) {
        next = id;
        break;
      }
    const ServerState& state = view.Server(next)->state;
    if (rolled.count(next))
      return Status::IOError("server " + std::to_string(next) + " was restarted with its new configuration but runs " +
                             "TLS stage " + std::to_string(state.tls_stage) + ", quorum SASL stage " +
                             std::to_string(state.quorum_auth_stage) + " (as its zoo.cfg was classified at its start)");
    // Between set-client-addresses false and the first TLS-only server.
    if (first && render.tls_stage == TlsStage::kTls) Failpoint("tls.before-stage-3");
    first = false;
    auto applied = ctx_.platform.ApplyServerConfig(next, view.members, render);
    if (!applied.ok()) return applied.status().WithContext("server " + std::to_string(next));
    const int64_t generation = std::max(state.generation, state.running_generation) + 1;
    const bool leads = next == view.leader;
    Result<std::string> restarted = std::string();
    if (leads && HandOffUnavailable(view, next).empty()) {
      restarted = HandOff(next, generation, timeout);
      if (restarted.ok()) {
        auto port = RestoreQuorumPort(next, timeout);
        if (!port.ok()) return port.status();
        *restarted += "; " + *port;
      }
    } else {
      restarted = Restart(next, generation, timeout);
    }
    if (!restarted.ok()) return restarted.status();
    rolled.insert(next);
    done.push_back("server " + std::to_string(next) + (leads ? " (the leader)" : "") + ": " + *restarted);
  }
  std::vector<int> skipped;
  ZK_ASSIGN_OR_RETURN(auto servers, ctx_.platform.Servers());
  for (const auto& s : servers)
    if (!rolled.count(s.id)) skipped.push_back(s.id);
  std::string out;
  for (const auto& d : done) out += (out.empty() ? "" : "; ") + d;
  if (!skipped.empty())
    out += (out.empty() ? "" : "; ") + std::string("already there: server") + (skipped.size() > 1 ? "s " : " ") +
           Ids(skipped);
  return out;
}

Result<std::string> PlatformStepRunner::SetClientAddresses(bool present) {
  ZK_ASSIGN_OR_RETURN(ObservedEnsemble view, ObserveEnsembleView(ctx_.platform));
  // Each server's zoo.cfg as the membership will have it, at the stages it
  // runs (no restart). Rendered before the reconfig too when the addresses
  // go: ZooKeeper rewrites zoo.cfg at each committed config and drops
  // clientPort when a committed line carried the server's address
  // (QuorumPeer.setQuorumVerifier, needEraseClientInfoFromStaticConfig,
  // QuorumPeerConfig.editStaticConfig keeps every other key), as the
  // hand-offs of the rolls before did; without our clientPort, a server
  // crash-restarted after the reconfig would find neither it nor an address
  // on its line and serve no client port at all.
  auto render_all = [&]() -> Result<std::string> {
    std::vector<int> unknown;
    for (const auto& sv : view.servers) {
      const ServerState& s = sv.state;
      if (s.tls_stage < 0) {
        unknown.push_back(s.id);
        continue;
      }
      ServerRender r;
      r.tls_stage = static_cast<TlsStage>(s.tls_stage);
      r.client_addresses = present;
      if (s.quorum_auth_stage >= 0) r.quorum_auth_stage = s.quorum_auth_stage;
      auto applied = ctx_.platform.ApplyServerConfig(s.id, view.members, r);
      if (!applied.ok()) return applied.status().WithContext("server " + std::to_string(s.id));
    }
    return unknown.empty() ? std::string()
                           : "; zoo.cfg of server" + std::string(unknown.size() > 1 ? "s " : " ") + Ids(unknown) +
                                 " left as it was (TLS stage unknown)";
  };
  std::string before;
  if (!present) {
    ZK_ASSIGN_OR_RETURN(before, render_all());
  }
  ZK_ASSIGN_OR_RETURN(auto session, ctx_.platform.OpenZkSession({}));
  ZK_ASSIGN_OR_RETURN(std::string text, session->GetConfig());
  ZK_ASSIGN_OR_RETURN(EnsembleConfig config, ParseEnsembleConfig(text));
  const bool already = std::all_of(config.servers.begin(), config.servers.end(),
                                   [&](const auto& s) { return (s.second.client.port != 0) == present; });
  std::string how;
  if (already) {
    how = present ? "every server line already has its client address" : "no server line has a client address already";
  } else {
    ZK_ASSIGN_OR_RETURN(auto topology, ctx_.platform.Topology());
    std::string members;
    for (auto [id, entry] : config.servers) {
      entry.client = Endpoint{};
      if (present) {
        auto e = std::find_if(topology.begin(), topology.end(), [&](const NodeEndpoint& n) { return n.id == id; });
        if (e == topology.end())
          return Status::Internal("server " + std::to_string(id) + " is not one of the target's servers");
        entry.client = Endpoint{e->bind_address.empty() ? e->host : e->bind_address, e->client_port};
      }
      members += (members.empty() ? "" : ",") + entry.ToConfigLine();
    }
    // The whole membership, at the version just read: an incremental
    // reconfig refuses a joining line without a client address
    // (PrepRequestProcessor), and a change in between fails this one rather
    // than being lost. Running servers keep their client ports either way: a
    // null address changes nothing, and one a factory is bound to already is
    // skipped (QuorumPeer.processReconfig, NettyServerCnxnFactory.reconfigure).
    ZK_ASSIGN_OR_RETURN(std::string updated, session->SetMembers(members, config.version));
    Failpoint("tls.after-client-addresses");
    ZK_ASSIGN_OR_RETURN(EnsembleConfig after, ParseEnsembleConfig(updated));
    how = std::string(present ? "client addresses added" : "client addresses removed") + ", config version " +
          std::to_string(after.version);
  }
  // After it as well (and on a resumed step, whose reconfig is done).
  ZK_ASSIGN_OR_RETURN(std::string after, render_all());
  return how + "; every zoo.cfg rendered " + (present ? "with" : "without") + " them (no restart)" + after;
}

}  // namespace zkpilot
