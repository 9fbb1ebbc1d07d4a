// ZooKeeperCluster: the custom resource (zkpilot.io/v1alpha1) holding a
// cluster's desired state — the package it runs (stored in the cluster as
// ConfigMaps, see package_configmaps.h) and the user's values, nested by the
// package's dotted parameter names — and what the operator observed and did:
// conditions, members, the running operation with its step journal, and the
// history of operations. Revisions are ControllerRevisions owned by it.
//
// This header is the one C++ view of that resource: structs, JSON both ways,
// the nested <-> flat values conversion, metav1.Condition helpers and the
// record conversions the Kubernetes ReleaseStore needs. Everything here is
// pure (no API calls) and thread-compatible. Users' documentation of every
// field: docs/kubernetes-crd.md; the CRD itself: crd.h.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "package/schema.h"
#include "util/status.h"
#include "values/values.h"
#if __has_include("state/records.h")
#include "state/records.h"
#else
#include "state/state_store.h"
#endif

namespace zkpilot {

inline constexpr char kClusterGroup[] = "zkpilot.io";
inline constexpr char kClusterVersion[] = "v1alpha1";
inline constexpr char kClusterApiVersion[] = "zkpilot.io/v1alpha1";
inline constexpr char kClusterKind[] = "ZooKeeperCluster";
inline constexpr char kClusterPlural[] = "zookeeperclusters";
inline constexpr char kClusterSingular[] = "zookeepercluster";
inline constexpr char kClusterShortName[] = "zkc";
inline constexpr char kClusterFinalizer[] = "zkpilot.io/cleanup";
inline constexpr char kFieldManager[] =
    "zkpilot";  // server-side apply of everything the operator writes

// Labels and annotations zkpilot puts on the objects it owns.
inline constexpr char kLabelCluster[] = "zkpilot.io/cluster";
inline constexpr char kLabelRevision[] =
    "zkpilot.io/revision";  // only on zkpilot's ControllerRevisions
inline constexpr char kLabelInstance[] = "app.kubernetes.io/instance";
inline constexpr char kLabelManagedBy[] = "app.kubernetes.io/managed-by";
inline constexpr char kManagedByValue[] = "zkpilot";
inline constexpr char kAnnotationRevisionStatus[] = "zkpilot.io/revision-status";
inline constexpr char kAnnotationRevisionMessage[] = "zkpilot.io/revision-message";
inline constexpr char kAnnotationFinishedAt[] = "zkpilot.io/finished-at";

// Condition types and the reasons zkpilot uses (reasons are CamelCase).
inline constexpr char kConditionReady[] = "Ready";  // QuorumAvailable / NoQuorum
inline constexpr char kConditionDegraded[] =
    "Degraded";  // a server down or lagging while quorum holds
inline constexpr char kConditionProgressing[] =
    "Progressing";  // Deploying / Upgrading / RollingRestart / Scaling / Idle
inline constexpr char kConditionValid[] =
    "Valid";  // InvalidValues / PackageNotFound / ValuesAccepted

inline constexpr int kOperationHistoryLimit = 20;  // status.operations keeps the newest 20

// Timestamps are milliseconds since the Unix epoch in the structs (as in the
// records), RFC3339 in JSON: "2024-05-01T12:00:00Z", with ".123" only when
// the milliseconds are not zero. 0 means "not set" and is omitted.
std::string FormatKubeTime(int64_t millis);
// Accepts RFC3339 with or without a fraction, "Z" or a numeric offset.
Result<int64_t> ParseKubeTime(std::string_view text);

// ---------------------------------------------------------------- spec

struct PackageRef {
  std::string name;        // the package's own name: "zookeeper"
  std::string version;     // the package's version: "0.1.0"
  std::string config_map;  // the first ConfigMap holding it: zkpilot-pkg-zookeeper-<hash12>
  std::string hash;        // PackageHash of its files (package_configmaps.h), 64 hex digits
};

struct ClusterSpec {
  PackageRef package;
  nlohmann::json values = nlohmann::json::object();  // nested by the schema's dotted names
  std::string restart_request;                       // a new value asks for one rolling restart
  bool purge_data_on_delete = false;  // deleting the resource also deletes the claims
};

// ---------------------------------------------------------------- status

enum class ClusterPhase { kNone, kDeploying, kRunning, kUpdating, kFailed, kDeleting };
const char* ClusterPhaseName(ClusterPhase p);  // "Deploying", ...; "" for kNone
std::optional<ClusterPhase> ParseClusterPhase(std::string_view s);  // "" -> kNone

// metav1.Condition.
struct ClusterCondition {
  std::string type;
  std::string status = "Unknown";  // "True", "False" or "Unknown"
  std::string reason;              // CamelCase
  std::string message;
  int64_t last_transition_time = 0;  // millis; JSON keeps whole seconds
  int64_t observed_generation = 0;
};

struct MemberStatus {
  int id = 0;
  std::string role;     // "leader", "follower", "observer", "" (not answering)
  std::string version;  // ZooKeeper version it runs
  std::string zxid;     // "0x100000005"
  bool ready = false;
  std::string pod;
  std::string pod_uid;
  int restarts = 0;
};

// One step of an operation's plan, as the status journals it.
struct OperationStep {
  int index = 0;
  std::string kind;  // "wait-healthy", "restart-node", ...
  std::string description;
  nlohmann::json args = nlohmann::json::object();
  StepStatus status = StepStatus::kPending;
  std::string detail;
  int64_t started_at = 0;
  int64_t finished_at = 0;
};

// status.operation (with steps) and the entries of status.operations (without).
struct ClusterOperation {
  int64_t id = 0;
  std::string type;  // "deploy", "upgrade", "configure", "restart", "scale", "rollback", "delete"
  int revision = 0;
  OperationStatus phase = OperationStatus::kRunning;
  std::string error;
  int64_t started_at = 0;
  int64_t finished_at = 0;
  std::vector<OperationStep> steps;
};

struct ClusterStatus {
  int64_t observed_generation = 0;
  ClusterPhase phase = ClusterPhase::kNone;
  std::vector<ClusterCondition> conditions;
  int current_revision = 0;
  std::string current_version;
  std::string target_version;
  int replicas = 0;
  int ready_replicas = 0;  // JSON also carries ready: "<readyReplicas>/<replicas>" (printer column)
  int leader = 0;          // 0: none known
  std::vector<MemberStatus> members;
  std::string last_restart_request;
  std::optional<ClusterOperation> operation;
  std::vector<ClusterOperation> operations;  // history, newest last, steps not kept
};

// ---------------------------------------------------------------- resource

struct ZooKeeperCluster {
  nlohmann::json metadata = nlohmann::json::object();  // as the API returns it
  ClusterSpec spec;
  ClusterStatus status;

  std::string Name() const;
  std::string Namespace() const;
  std::string Uid() const;
  int64_t Generation() const;
  bool Deleting() const;  // metadata.deletionTimestamp is set
  bool HasFinalizer(std::string_view finalizer) const;
};

// JSON <-> structs. Parsing fails with InvalidInput naming the field
// ("spec.package.hash: expected a string"); absent fields keep their defaults.
nlohmann::json SpecToJson(const ClusterSpec& spec);
Result<ClusterSpec> SpecFromJson(const nlohmann::json& spec);
nlohmann::json StatusToJson(const ClusterStatus& status);
Result<ClusterStatus> StatusFromJson(const nlohmann::json& status);
nlohmann::json ClusterToJson(
    const ZooKeeperCluster& cluster);  // apiVersion, kind, metadata, spec, status
Result<ZooKeeperCluster> ClusterFromJson(const nlohmann::json& object);

// The object to server-side apply for a cluster's desired state (no status).
nlohmann::json ClusterApplyObject(const std::string& name, const std::string& namespace_,
                                  const ClusterSpec& spec);

// ---------------------------------------------------------------- conditions

// Adds or replaces the condition of c.type. lastTransitionTime becomes `now`
// when the condition is new or its status changes, else it is kept. Returns
// true when anything changed (callers skip writing an unchanged status).
bool SetCondition(std::vector<ClusterCondition>& conditions, ClusterCondition c, int64_t now_millis);
const ClusterCondition* FindCondition(const std::vector<ClusterCondition>& conditions, std::string_view type);
bool IsConditionTrue(const std::vector<ClusterCondition>& conditions, std::string_view type);
bool RemoveCondition(std::vector<ClusterCondition>& conditions, std::string_view type);

// ---------------------------------------------------------------- values

// spec.values (nested) -> parameter name -> value, for the parameters given.
// Object and list parameters are leaves. Each value is checked against its
// parameter (type, bounds, enum, pattern); unknown keys, wrong types and a
// non-object where the schema nests are InvalidInput naming the path:
// "spec.values.tickTime: 50 is below the minimum 100".
Result<std::map<std::string, nlohmann::json>> FlattenValues(const Schema& schema,
                                                            const nlohmann::json& nested);
// Parameter name -> value to nested objects ("metrics.enabled" -> metrics: {enabled}).
nlohmann::json NestValues(const std::map<std::string, nlohmann::json>& flat);
// Defaults < spec.values, validated as the CLI validates values (types,
// bounds, required parameters, constraints). Origins are "spec.values".
Result<Values> ResolveSpecValues(const Schema& schema, const nlohmann::json& nested);

// ---------------------------------------------------------------- records

// The ZooKeeperCluster that owns a cluster's ControllerRevisions.
struct ClusterOwner {
  std::string name;
  std::string namespace_;
  std::string uid;
};

// "<cluster>-r<N>".
std::string ControllerRevisionName(const std::string& cluster, int revision);
// Label selector of a cluster's revisions (not the StatefulSets' own ones).
std::string RevisionLabelSelector(const std::string& cluster);
// apps/v1 ControllerRevision of a revision: revision N, data {operation,
// values (flat object), packageVersion, zkVersion, startedAt}, the outcome
// in annotations (data is immutable), owned by the cluster (controller).
// Fails (kInternal) when the record's values_json is not a JSON object.
// Without owner.uid there is no ownerReference (dry runs, tests).
Result<nlohmann::json> RevisionToControllerRevision(const RevisionRecord& revision,
                                                    const ClusterOwner& owner);
Result<RevisionRecord> RevisionFromControllerRevision(const nlohmann::json& object);
// Merge patch that records a revision's outcome (its annotations).
nlohmann::json RevisionOutcomePatch(RevisionStatus status, const std::string& message,
                                    int64_t finished_at);

// status.operation <-> the journal's records. A step record's spec_json is
// the step as data ({"kind", "args", "description"}); other keys of it are
// kept in args.
ClusterOperation OperationToStatus(const OperationRecord& op);
OperationRecord OperationFromStatus(const ClusterOperation& op, const std::string& cluster);
// Adds (or replaces, by id) op's summary in status.operations, keeping the
// newest kOperationHistoryLimit.
void RecordOperationHistory(ClusterStatus& status, const ClusterOperation& op);

}  // namespace zkpilot
