#include "platform/local/topology.h"

#include "platform/local/local_pki.h"
#include "platform/local/local_tls.h"
#include "platform/local/paths.h"

namespace zkpilot {

std::string LocalDataRoot(const Package& package, const Values& values) {
  const ParamSpec* spec = package.schema.Find("dataDir");
  if (!values.Has("dataDir")) return "";
  if (spec && values.Get("dataDir") == spec->default_value) return "";
  return values.Get("dataDir").get<std::string>();
}

Result<LocalNode> LocalNodeFor(const Values& values, const std::string& data_root, const std::string& cluster,
                               const std::string& cluster_home, int id) {
  const int client_port = values.Get("clientPort").get<int>();
  const int base = client_port + (id - 1) * kLocalPortStride;
  if (base + 4 > 65535)
    return Status::InvalidInput("clientPort=" + std::to_string(client_port) + " leaves no room for server " +
                                std::to_string(id) + "'s ports: locally server N uses clientPort+(N-1)*10 .. +4");
  LocalNode n;
  n.dir = NodeDir(cluster_home, id);
  n.conf_dir = n.dir + "/conf";
  n.log_path = n.dir + "/zookeeper.log";
  NodeEndpoint& e = n.endpoint;
  e.id = id;
  e.name = cluster + "-" + std::to_string(id);
  e.pod_name = e.name;
  e.host = "127.0.0.1";
  e.bind_address = "127.0.0.1";
  e.client_port = base;
  e.quorum_port = base + 1;
  e.election_port = base + 2;
  e.admin_server_port = base + 3;
  e.handoff_quorum_port = base + 4;  // a leader's quorum port during a hand-off
  e.metrics_port = MonitoringPorts(values).exporter;  // zkpilot's exporter, /metrics?node=<id>
  e.data_dir = data_root.empty() ? n.dir + "/data" : data_root + "/" + e.name;
  const std::string log_dir = values.Has("dataLogDir") ? values.Get("dataLogDir").get<std::string>() : "";
  e.data_log_dir = log_dir.empty() ? "" : log_dir + "/" + e.name;
  SetTlsStores(e, cluster_home, TargetTlsStage(values));
  return n;
}

void SetTlsStores(NodeEndpoint& e, const std::string& cluster_home, TlsStage stage) {
  e.tls_key_store.clear();
  e.tls_trust_store.clear();
  if (stage < TlsStage::kOpen) return;
  const LocalPki pki = LocalPkiAt(cluster_home);
  e.tls_key_store = pki.ServerPem(e.id);
  e.tls_trust_store = pki.ca_cert;
}

Result<std::vector<LocalNode>> LocalTopology(const Package& package, const Values& values, const std::string& cluster,
                                             const std::string& cluster_home) {
  std::vector<LocalNode> nodes;
  const std::string data_root = LocalDataRoot(package, values);
  const int replicas = values.Get("replicas").get<int>();
  for (int id = 1; id <= replicas; ++id) {
    ZK_ASSIGN_OR_RETURN(LocalNode n, LocalNodeFor(values, data_root, cluster, cluster_home, id));
    nodes.push_back(std::move(n));
  }
  return nodes;
}

LocalMonitoringPorts MonitoringPorts(const Values& values) {
  const int base = values.Get("clientPort").get<int>();
  return {base + 5, base + 6, base + 7};
}

std::vector<PortClaim> ServerPortClaims(const NodeEndpoint& e) {
  const std::string server = "server " + std::to_string(e.id) + " ";
  std::vector<PortClaim> out;
  for (auto [port, what] : {std::pair{e.client_port, "client port"}, {e.quorum_port, "quorum port"},
                            {e.election_port, "election port"}, {e.admin_server_port, "admin port"},
                            {e.handoff_quorum_port, "hand-off quorum port"}})
    out.push_back({port, server + what});
  return out;
}

std::vector<PortClaim> MonitoringPortClaims(const Values& values) {
  const auto ports = MonitoringPorts(values);
  return {{ports.exporter, "exporter"}, {ports.prometheus, "Prometheus"}, {ports.alertmanager, "Alertmanager"}};
}

std::vector<NodeEndpoint> Endpoints(const std::vector<LocalNode>& nodes) {
  std::vector<NodeEndpoint> out;
  for (const auto& n : nodes) out.push_back(n.endpoint);
  return out;
}

}  // namespace zkpilot
