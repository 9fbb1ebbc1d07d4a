// Health: is the ensemble serving, and is every server part of it?
//
// Health is quorum health, never "the process answers ruok". From one `srvr`
// reading per server (ObserveEnsemble), EvaluateHealth decides, purely:
//  - a server is healthy when it is leader/follower/observer and its zxid has
//    caught up with the leader's (same epoch, at most `max_lag` transactions
//    behind — a little slack because the readings are not simultaneous);
//  - the ensemble has quorum when exactly one server leads and a majority of
//    the voters serve (leader + followers);
//  - the ensemble is healthy when it has quorum and every expected server is
//    healthy.
// Conditions follow Kubernetes' style: Ready (quorum, serving clients) and
// Degraded (some server is not healthy), each with a reason and message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"
#include "zk/endpoint.h"
#include "zk/four_letter.h"

namespace zkpilot {

struct NodeObservation {
  int id = 0;
  bool voter = true;                // participant (false: observer)
  std::optional<SrvrInfo> srvr;     // empty when the server did not answer
  std::string error;                // why not
  std::string not_ready;            // the platform's reason not to count it as serving (ServerState)
};

struct NodeHealth {
  int id = 0;
  std::string role;                 // leader, follower, observer, standalone, not-serving, down
  bool healthy = false;
  int64_t zxid = 0;
  int64_t lag = 0;                  // transactions behind the leader (0 for the leader)
  std::string problem;              // empty when healthy
  std::optional<SrvrInfo> srvr;
};

struct Condition {
  std::string type;     // "Ready", "Degraded", "Progressing"
  bool status = false;
  std::string reason;   // CamelCase: "QuorumAvailable", "NoLeader", ...
  std::string message;
};

struct EnsembleHealth {
  bool quorum = false;
  bool healthy = false;
  int leader = 0;                   // server id, 0 when none
  std::vector<NodeHealth> nodes;
  std::vector<Condition> conditions;

  // "healthy: leader 2, 3/3 in sync" or what is wrong.
  std::string Summary() const;
  const NodeHealth* Node(int id) const;
};

struct HealthPolicy {
  int64_t max_lag = 100;  // transactions a follower may trail the leader
};

EnsembleHealth EvaluateHealth(const std::vector<NodeObservation>& observations, const HealthPolicy& policy = {});

// Reads `srvr` from every server (id -> client endpoint).
std::vector<NodeObservation> ObserveEnsemble(const std::vector<std::pair<int, Endpoint>>& servers,
                                             const AdminClient& client);

}  // namespace zkpilot
