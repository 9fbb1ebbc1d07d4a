// Metrics: per-server ZooKeeper readings in Prometheus text format 0.0.4.
//
// Pure: readings in, exposition text out. The exporter (exporter.h) gathers
// the readings; this file decides names, types, labels and order.
//
// Names. ZooKeeper metrics keep the names of ZooKeeper's own
// PrometheusMetricsProvider, so the package's alert rules and dashboards
// (packages/zookeeper/addons/metrics.txt) work unchanged against either:
//  - gauges: the `mntr` key without "zk_" (`zk_avg_latency` -> avg_latency),
//    for the gauges ZooKeeper 3.8 registers (kZooKeeperGauges in metrics.cc);
//    the leader-only ones (leader_uptime, synced_followers, learners,
//    pending_syncs, ...) only for a server whose role is "leader";
//  - summaries: mntr flattens a summary X into zk_{avg,min,max,cnt,sum}_X
//    (and zk_p50_X ... for detailed ones); they become X_count, X_sum and,
//    when mntr has them, X{quantile="0.5"} and X{quantile="0.99"}. Summary
//    sets (zk_cnt_<key>_learner_handler_qp_size, ...) get a `key` label, as
//    in the provider;
//  - counters are left out: the provider names them with or without a
//    "_total" suffix depending on the Prometheus client bundled with the
//    ZooKeeper release (docs/monitoring.md), so no rule may rely on them.
//  - quorum_size falls back to `voters` when a serving server's mntr lacks it.
// Every ZooKeeper series carries cluster, node (server id) and role labels;
// job and instance are Prometheus's. The exporter's own series are
// zkpilot_*; a server that does not answer is never dropped: it keeps its
// zkpilot_node_up (0), zkpilot_node_role (role "down" or as given) and
// zkpilot_last_scrape_success_timestamp_seconds series.
//
// Order is deterministic: families sorted by name; within a family by node
// id, then by label values. Families without samples are omitted.
// Thread-safety: pure functions without shared state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zkpilot {

// One server as seen by one scrape.
struct ServerReading {
  int id = 0;
  // leader | follower | observer | standalone | read-only | not-serving |
  // down (no answer) | whatever the caller reports for a node it knows is off.
  std::string role;
  bool up = false;                          // the server answered
  std::map<std::string, std::string> mntr;  // from ParseMntr; empty when unavailable
  int64_t last_success_ms = 0;              // Unix ms of the last answer; 0: never
};

// What the zkpilot side knows about the cluster (from its state store).
struct ExporterSelf {
  std::map<std::pair<std::string, std::string>, int64_t> operations;  // (type, outcome) -> count
  std::map<int, int64_t> node_restarts;                               // server id -> restarts
};

struct MetricsSnapshot {
  std::string cluster;
  std::vector<ServerReading> servers;  // any order. REQUIRES: distinct ids
  ExporterSelf self;
  // zkpilot_scrape_duration_seconds; left out when empty (e.g. one node's view).
  std::optional<double> scrape_duration_seconds;
  // Voting members, used for quorum_size when mntr lacks zk_quorum_size; 0: unknown.
  int voters = 0;
};

// The exposition text (Content-Type "text/plain; version=0.0.4").
std::string RenderPrometheusText(const MetricsSnapshot& snapshot);

// A label value as the text format wants it: \\, \" and \n escaped.
std::string EscapeLabelValue(std::string_view value);

}  // namespace zkpilot
