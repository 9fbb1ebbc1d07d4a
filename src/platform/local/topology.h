// Local topology: where each server of a local cluster listens and keeps data.
//
// Ports are derived from `clientPort` and the server id, in blocks of
// kLocalPortStride: server N uses clientPort + (N-1)*10 for clients, +1 for
// the quorum, +2 for elections, +3 for its AdminServer and +4 for the quorum
// while it hands leadership over (a roll), all on 127.0.0.1.
// Data lives in the node's directory under the cluster's home, or — when
// `dataDir` differs from the schema's default (the Kubernetes mount path) —
// in <dataDir>/<cluster>-<id> (likewise a non-empty `dataLogDir`).
#pragma once

#include <string>
#include <vector>

#include "package/package.h"
#include "platform/local/port_registry.h"
#include "render/renderer.h"
#include "util/status.h"
#include "values/values.h"

namespace zkpilot {

inline constexpr int kLocalPortStride = 10;

struct LocalNode {
  NodeEndpoint endpoint;
  std::string dir;       // nodes/<id>: conf/, data/ (default), zookeeper.log
  std::string conf_dir;  // dir/conf
  std::string log_path;  // dir/zookeeper.log
};

// Where local servers keep data: "" for inside their node directory, else
// the host directory set as dataDir.
std::string LocalDataRoot(const Package& package, const Values& values);

// The node with this id. InvalidInput when its ports would pass 65535.
Result<LocalNode> LocalNodeFor(const Values& values, const std::string& data_root, const std::string& cluster,
                               const std::string& cluster_home, int id);

// Servers 1..replicas.
Result<std::vector<LocalNode>> LocalTopology(const Package& package, const Values& values, const std::string& cluster,
                                             const std::string& cluster_home);

std::vector<NodeEndpoint> Endpoints(const std::vector<LocalNode>& nodes);

// The key and trust stores (local_pki.h) zoo.cfg names for a server at TLS
// `stage`: set iff the stage has TLS files (>= 1), cleared otherwise.
// LocalNodeFor sets them for the values' stage; a server rendered at a stage
// of its own (ServerRender) gets them for that one.
void SetTlsStores(NodeEndpoint& endpoint, const std::string& cluster_home, TlsStage stage);

// Where a local cluster's monitoring listens on 127.0.0.1: in server 1's port
// block, clientPort+5 (exporter), +6 (Prometheus), +7 (Alertmanager).
struct LocalMonitoringPorts {
  int exporter = 0, prometheus = 0, alertmanager = 0;
};
LocalMonitoringPorts MonitoringPorts(const Values& values);

// The ports a server listens on, and the monitoring ports, each named for
// messages ("server 2 client port", "Prometheus"): what the port registry
// reserves (port_registry.h).
std::vector<PortClaim> ServerPortClaims(const NodeEndpoint& endpoint);
std::vector<PortClaim> MonitoringPortClaims(const Values& values);

}  // namespace zkpilot
