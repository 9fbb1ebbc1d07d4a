// Views of ZooKeeperCluster resources for people: what `zkpilot status`,
// `list` and `history` print with --platform kubernetes.
//
// Pure: the resource (platform/kubernetes/cluster_resource.h) in, data and
// text out. The data keeps the keys of the local views where they mean the
// same thing (name, platform, status, revision, version, healthy, quorum,
// leader, summary, nodes, conditions), so scripts reading `-o json` work on
// both platforms; the table has the same layout (a heading line, a summary,
// the servers, the conditions), plus the operation the operator runs.
// Thread-safety: free functions without shared state.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "platform/kubernetes/cluster_resource.h"

namespace zkpilot {

// -o table|json|yaml of the read-only views.
enum class ViewFormat { kTable, kJson, kYaml };

// `zkpilot status NAME` as data:
//   name, namespace, platform ("kubernetes"), status (the phase), revision,
//   package, version, target_version, healthy, quorum, leader, replicas,
//   ready_replicas, summary, generation, observed_generation,
//   nodes [{id, role, ready, version, zxid, pod, restarts}],
//   conditions [{type, status ("True"/"False"/"Unknown"), reason, message}],
//   operation (the running or last one with its steps; null when none).
nlohmann::ordered_json ClusterStatusView(const ZooKeeperCluster& cluster);

// Healthy as `zkpilot status` counts it (exit 0, else 3): condition Ready
// True and Degraded not True — a leader and every server in sync, as the
// local platform counts it.
bool ClusterHealthy(const ZooKeeperCluster& cluster);

std::string FormatClusterStatus(const nlohmann::ordered_json& status, ViewFormat format);

// `zkpilot list`: one row per cluster.
std::string FormatClusterList(const std::vector<ZooKeeperCluster>& clusters, ViewFormat format);

// `zkpilot history NAME`: the cluster's revisions (its ControllerRevisions,
// in any order) with what each changed against the one before, and the
// operations its status records. JSON/YAML: the local history's array of
// revisions, each with the operations of that revision.
std::string FormatClusterHistory(const ZooKeeperCluster& cluster,
                                 const std::vector<RevisionRecord>& revisions, ViewFormat format);

// "2024-05-01 12:00:03" in local time, "-" for 0.
std::string LocalTime(int64_t millis);

}  // namespace zkpilot
