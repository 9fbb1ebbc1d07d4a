// Alerts: what a cluster's Prometheus says is pending or firing.
//
// FetchAlerts asks Prometheus's HTTP API (GET /api/v1/alerts) for the active
// alerts — those whose rule expression currently holds: "pending" while its
// `for` duration has not elapsed yet, then "firing" — and keeps one cluster's.
// The package's rules (packages/zookeeper/addons/prometheus/rules/) put the
// label contract of docs/monitoring.md on every alert: `cluster`, `node`
// (absent on cluster-wide alerts), `severity`, and the annotations `summary`
// and `description`.
//
// ParseAlertsResponse and FormatAlerts are pure; only FetchAlerts does I/O.
// Thread-safety: free functions without shared state.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"
#include "zk/endpoint.h"

namespace zkpilot {

struct Alert {
  std::string name;         // label alertname
  std::string state;        // "pending" or "firing"
  std::string severity;     // label severity: critical, warning, info ("" if none)
  std::string summary;      // annotation summary
  std::string description;  // annotation description
  std::string cluster;      // label cluster
  std::string node;         // label node: the server id; "" for cluster-wide alerts
  std::string active_at;    // RFC3339: when the expression started to hold
  std::map<std::string, std::string> labels;  // every label, alertname included
};

// The alerts of a /api/v1/alerts answer, in the order Prometheus gave them.
// An answer with status "error", or that is not the API's JSON, is an
// IOError saying what Prometheus said.
Result<std::vector<Alert>> ParseAlertsResponse(std::string_view json);

// The alerts whose `cluster` label is `cluster`; all of them when it is "".
std::vector<Alert> AlertsOfCluster(std::vector<Alert> alerts, const std::string& cluster);

// Queries Prometheus at `prometheus` (plain HTTP) and returns the active
// alerts of `cluster` (all when ""). Connecting, sending and receiving are
// each bounded by `timeout`. Errors are IOErrors that name the address:
// "prometheus 127.0.0.1:9090: connection refused — is monitoring enabled for
// this cluster? (prometheus.enabled=true)".
Result<std::vector<Alert>> FetchAlerts(const Endpoint& prometheus, const std::string& cluster,
                                       std::chrono::milliseconds timeout);

// Firing before pending, then severity (critical, warning, info, others),
// then alert name, node (numerically when both are numbers) and cluster.
void SortAlerts(std::vector<Alert>& alerts);

// A table (SEVERITY ALERT STATE NODE SINCE SUMMARY; SINCE is the time the
// alert has been active, as of `now`) or, with `json`, a JSON array of the
// alerts' fields. Sorted with SortAlerts. With no alerts, the table is the
// line "no alerts firing or pending" and the JSON "[]". Ends in a newline.
std::string FormatAlerts(const std::vector<Alert>& alerts, bool json,
                         std::chrono::system_clock::time_point now);
// As above, as of the current time.
std::string FormatAlerts(const std::vector<Alert>& alerts, bool json);

// Parses an RFC3339 timestamp ("2024-05-01T10:00:03.123456789Z",
// "2024-05-01T12:00:03+02:00"). InvalidInput when it is not one.
Result<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text);

}  // namespace zkpilot
