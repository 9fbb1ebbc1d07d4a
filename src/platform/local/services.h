// Services: processes a local cluster runs besides its ZooKeeper servers —
// Prometheus and Alertmanager (add-ons) — and the exporter, which the
// supervisor hosts in its own process.
//
// Commands declare what should run by writing one spec file per service
// (<cluster home>/services/<name>.json: enabled, launch, address); the
// supervisor reads them on every pass, starts what is enabled and not running
// (no faster than once per few seconds), stops what is disabled, and records
// each process's PID in <name>.pid. Like nodes, services survive the
// supervisor and are found again by PID plus a command-line marker.
#pragma once

#include <string>
#include <vector>

#include "platform/local/supervisor.h"
#include "util/status.h"

namespace zkpilot {

inline constexpr const char* kExporterService = "exporter";  // hosted by the supervisor

struct ServiceSpec {
  std::string name;      // "prometheus", "alertmanager", "exporter"
  bool enabled = false;
  std::string address;   // "127.0.0.1:2187", for people and `status`
  LaunchSpec launch;     // empty argv for the exporter
  int port = 0;          // the exporter's port
};

std::string ServicesDir(const std::string& cluster_home);
Status WriteService(const std::string& cluster_home, const ServiceSpec& spec);
Result<std::vector<ServiceSpec>> ReadServices(const std::string& cluster_home);
// Marks every service disabled (the supervisor then stops them).
Status DisableServices(const std::string& cluster_home);

int ServicePid(const std::string& cluster_home, const std::string& name);
void SetServicePid(const std::string& cluster_home, const std::string& name, int pid);

}  // namespace zkpilot
