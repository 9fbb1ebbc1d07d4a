// Where the local platform keeps things.
//
//   $ZKPILOT_HOME                    default: $XDG_STATE_HOME/zkpilot, else ~/.local/state/zkpilot
//     state.db                       the SQLite state (state/state_store.h); a supervisor
//                                    acts only while it is the file it opened (state_identity.h)
//     distributions/<id>/            fetched ZooKeeper distributions ($ZKPILOT_DISTRIBUTIONS overrides)
//     clusters/<name>/               one directory per cluster
//       supervisor.lock, supervisor.log, guardian.lock, guardian.log
//       nodes/<id>/conf/             zoo.cfg, myid's conf dir, log configuration, launch.json
//       nodes/<id>/data/             snapshots and logs (unless dataDir is set)
//       nodes/<id>/zookeeper.log     the server's output
//       pki/                         tls.enabled: CA, zkpilot's and the servers' certificates (local_pki.h)
#pragma once

#include <string>

namespace zkpilot {

std::string ZkpilotHome();
std::string StateDbPath(const std::string& home);
std::string DistributionsDir(const std::string& home);
std::string ClusterHome(const std::string& home, const std::string& cluster);
std::string NodeDir(const std::string& cluster_home, int id);

}  // namespace zkpilot
