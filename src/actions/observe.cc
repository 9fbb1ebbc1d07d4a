#include "actions/observe.h"

#include <algorithm>

namespace zkpilot {

const ServerView* ObservedEnsemble::Server(int id) const {
  for (const auto& s : servers)
    if (s.state.id == id) return &s;
  return nullptr;
}

Result<ObservedEnsemble> ObserveEnsembleView(Platform& platform, const ObserveOptions& options) {
  ZK_ASSIGN_OR_RETURN(std::vector<ServerState> servers, platform.Servers());
  std::sort(servers.begin(), servers.end(), [](const ServerState& a, const ServerState& b) { return a.id < b.id; });
  ObservedEnsemble view;
  for (const auto& s : servers) {
    view.members.push_back(s.id);
    view.generations[s.id] = s.generation;
    view.tls_stages[s.id] = s.tls_stage;
    view.quorum_auth_stages[s.id] = s.quorum_auth_stage;
  }
  std::vector<NodeObservation> observations;
  std::vector<int> observed = options.only.empty() ? view.members : options.only;
  std::sort(observed.begin(), observed.end());
  for (int id : observed) {
    auto it = std::find_if(servers.begin(), servers.end(), [&](const ServerState& s) { return s.id == id; });
    if (it == servers.end()) {
      NodeObservation o;
      o.id = id;
      o.error = "not known to the " + platform.Name() + " platform";
      observations.push_back(o);
      continue;
    }
    observations.push_back(platform.Observe(*it));
  }
  view.health = EvaluateHealth(observations);
  view.leader = view.health.leader;
  for (const auto& s : servers) {
    ServerView sv;
    sv.state = s;
    if (const NodeHealth* h = view.health.Node(s.id)) {
      sv.health = *h;
    } else {  // outside the observed servers
      sv.health.id = s.id;
      sv.health.role = "down";
      sv.health.problem = "not observed";
    }
    view.servers.push_back(std::move(sv));
  }
  if (auto topology = platform.Topology(); topology.ok())
    for (const auto& e : *topology)
      if (e.handoff_quorum_port > 0) view.handoff_ports[e.id] = e.handoff_quorum_port;
  if (options.needs_restart) {
    for (const auto& s : servers) {
      ZK_ASSIGN_OR_RETURN(std::string fingerprint, platform.TargetFingerprint(s.id));
      if (fingerprint != s.config_fingerprint) view.needs_restart.push_back(s.id);
    }
  }
  return view;
}

}  // namespace zkpilot
