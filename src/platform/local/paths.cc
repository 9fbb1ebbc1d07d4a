#include "platform/local/paths.h"

#include <cstdlib>

#include "state/state_store.h"

namespace zkpilot {

std::string ZkpilotHome() {
  if (const char* h = std::getenv("ZKPILOT_HOME"); h && *h) return h;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/zkpilot";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.local/state/zkpilot";
}

std::string StateDbPath(const std::string& home) { return StateStore::DatabasePath(home); }
std::string DistributionsDir(const std::string& home) {
  if (const char* d = std::getenv("ZKPILOT_DISTRIBUTIONS"); d && *d) return d;
  return home + "/distributions";
}
std::string ClusterHome(const std::string& home, const std::string& cluster) { return home + "/clusters/" + cluster; }
std::string NodeDir(const std::string& cluster_home, int id) { return cluster_home + "/nodes/" + std::to_string(id); }

}  // namespace zkpilot
