#include "observe/health.h"

#include <algorithm>

namespace zkpilot {
namespace {

constexpr int64_t kEpochShift = 32;

bool IsVoterRole(const std::string& mode) { return mode == "leader" || mode == "follower"; }

}  // namespace

std::string EnsembleHealth::Summary() const {
  int in_sync = 0;
  for (const auto& n : nodes) in_sync += n.healthy;
  std::string counts = std::to_string(in_sync) + "/" + std::to_string(nodes.size()) + " servers in sync";
  if (healthy) return "healthy: leader " + std::to_string(leader) + ", " + counts;
  std::string out = quorum ? "degraded: leader " + std::to_string(leader) + ", " + counts : "no quorum: " + counts;
  for (const auto& n : nodes)
    if (!n.healthy) out += "; server " + std::to_string(n.id) + ": " + n.problem;
  return out;
}

const NodeHealth* EnsembleHealth::Node(int id) const {
  for (const auto& n : nodes)
    if (n.id == id) return &n;
  return nullptr;
}

EnsembleHealth EvaluateHealth(const std::vector<NodeObservation>& observations, const HealthPolicy& policy) {
  EnsembleHealth h;
  int leaders = 0;
  int64_t leader_zxid = 0;
  int voters = 0, serving_voters = 0;
  for (const auto& o : observations) {
    voters += o.voter;
    if (o.srvr && o.srvr->mode == "leader") {
      ++leaders;
      h.leader = o.id;
      leader_zxid = o.srvr->zxid;
    }
  }
  for (const auto& o : observations) {
    NodeHealth n;
    n.id = o.id;
    n.srvr = o.srvr;
    if (!o.srvr) {
      n.role = "down";
      n.problem = o.error.empty() ? "not answering" : o.error;
      if (!o.not_ready.empty()) n.problem += " (" + o.not_ready + ")";
      h.nodes.push_back(n);
      continue;
    }
    n.role = o.srvr->mode;
    n.zxid = o.srvr->zxid;
    if (o.voter && IsVoterRole(n.role)) ++serving_voters;
    if (n.role == std::string(kModeNotServing)) {
      n.problem = "not serving (electing a leader or without quorum)";
    } else if (n.role == "standalone") {
      n.problem = "running standalone, not in the ensemble";
    } else if (!IsVoterRole(n.role) && n.role != "observer") {
      n.problem = "mode " + n.role;
    } else if (leaders == 1 && n.role != "leader") {
      // A follower reaches "following" only after syncing with the leader, up
      // to the end of the previous epoch at least. Its zxid stays in the old
      // epoch until it applies the first transaction of the new one, so in
      // another epoch it lags by the transactions of the leader's epoch.
      const int64_t epoch = n.zxid >> kEpochShift, leader_epoch = leader_zxid >> kEpochShift;
      if (epoch == leader_epoch) n.lag = std::max<int64_t>(0, leader_zxid - n.zxid);
      else n.lag = leader_zxid & ((int64_t{1} << kEpochShift) - 1);
      if (epoch > leader_epoch) n.problem = "ahead of the leader's epoch";
      else if (n.lag > policy.max_lag) n.problem = std::to_string(n.lag) + " transactions behind the leader";
    } else if (leaders != 1 && n.role != "leader") {
      n.problem = leaders == 0 ? "no leader to follow" : "more than one leader";
    }
    // ZooKeeper says it serves; the platform may not route to it yet.
    if (n.problem.empty() && !o.not_ready.empty()) n.problem = o.not_ready;
    n.healthy = n.problem.empty();
    h.nodes.push_back(n);
  }
  std::sort(h.nodes.begin(), h.nodes.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  if (leaders != 1) h.leader = 0;
  h.quorum = leaders == 1 && serving_voters * 2 > voters;
  bool all = true;
  for (const auto& n : h.nodes) all = all && n.healthy;
  h.healthy = h.quorum && all && !h.nodes.empty();

  Condition ready{"Ready", h.quorum, "", ""};
  if (h.quorum) {
    ready.reason = "QuorumAvailable";
    ready.message = std::to_string(serving_voters) + " of " + std::to_string(voters) + " voters serve, leader is server " +
                    std::to_string(h.leader);
  } else if (leaders > 1) {
    ready.reason = "MultipleLeaders";
    ready.message = std::to_string(leaders) + " servers claim to lead";
  } else if (leaders == 0) {
    ready.reason = "NoLeader";
    ready.message = "no server leads: " + std::to_string(serving_voters) + " of " + std::to_string(voters) + " voters serve";
  } else {
    ready.reason = "NoQuorum";
    ready.message = "only " + std::to_string(serving_voters) + " of " + std::to_string(voters) + " voters serve";
  }
  Condition degraded{"Degraded", !all, all ? "AllServersInSync" : "ServersUnhealthy", ""};
  for (const auto& n : h.nodes)
    if (!n.healthy) degraded.message += (degraded.message.empty() ? "" : "; ") + ("server " + std::to_string(n.id) + ": " + n.problem);
  h.conditions = {ready, degraded};
  return h;
}

std::vector<NodeObservation> ObserveEnsemble(const std::vector<std::pair<int, Endpoint>>& servers,
                                             const AdminClient& client) {
  std::vector<NodeObservation> out;
  for (const auto& [id, endpoint] : servers) {
    NodeObservation o;
    o.id = id;
    auto srvr = client.Srvr(endpoint);
    if (srvr.ok()) o.srvr = *srvr;
    else o.error = srvr.status().message();
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace zkpilot
