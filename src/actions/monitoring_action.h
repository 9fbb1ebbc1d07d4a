// zkpilot alerts and zkpilot dashboards: a cluster's monitoring, seen from
// the command line and handed to Grafana.
//
// Both read the cluster's current revision; the cluster's Prometheus (when
// `prometheus.enabled` is true) is where the platform says it answers
// (Platform::AddonEndpoint; locally 127.0.0.1 in server 1's port block).
#pragma once

#include <chrono>
#include <string>

#include "package/package.h"
#include "util/status.h"

namespace zkpilot {

struct ActionContext;  // actions/action_context.h

// Exit code of `zkpilot alerts` when some alert is firing or pending.
inline constexpr int kAlertsActiveExitCode = 3;

// Writes the cluster's pending and firing alerts to `out` (a table, or JSON
// with `json`; observe/alerts.h FormatAlerts) and returns the exit code: 0
// when there are none, kAlertsActiveExitCode when there are some.
// InvalidInput for an unknown cluster or when prometheus.enabled is false;
// IOError when its Prometheus does not answer within `timeout`.
// ctx.platform is bound to the current revision's values.
// REQUIRES: out != nullptr.
Result<int> Alerts(ActionContext& ctx, const std::string& name, const Package& package, bool json, std::string* out,
                   std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Writes into `output_dir`, all or nothing (it must not exist, or be empty):
//   <dashboard>.json          each Grafana dashboard the package declares
//                             (declared files named grafanaDashboard*.json),
//                             set up for this cluster: its `datasource`
//                             variable defaults to the datasource below, its
//                             `cluster` variable to the cluster, and its uid
//                             and title name the cluster
//   datasource.yaml           Grafana datasource provisioning: the cluster's
//                             Prometheus, http://127.0.0.1:<port>
//   dashboard-provider.yaml   Grafana dashboard provisioning: the dashboards
//                             from output_dir (as an absolute path)
//   README.txt                how to use the files
// Returns a one-line summary. Works whether monitoring is on or off (the
// summary says when it is off: the dashboards would stay empty).
Result<std::string> Dashboards(ActionContext& ctx, const std::string& name, const Package& package,
                               const std::string& output_dir);

// The local front of both ($ZKPILOT_HOME's clusters; defined with the local
// platform, platform/local/local_monitoring.cc).
Result<int> AlertsCommand(const std::string& home, const std::string& name, bool json, std::string* out,
                          std::chrono::milliseconds timeout = std::chrono::seconds(5));
Result<std::string> DashboardsCommand(const std::string& home, const std::string& name,
                                      const std::string& output_dir);

// Grafana names of a cluster's datasource. The uid fits Grafana's 40
// characters: "zkpilot-<name>", shortened with a hash for long names.
std::string GrafanaDatasourceUid(const std::string& cluster);
std::string GrafanaDatasourceName(const std::string& cluster);  // "zkpilot <name>"

}  // namespace zkpilot
