// The verbs that act on clusters, on any platform: deploy, delete, status,
// list, history and the day-2 operations (configure, upgrade, rollback,
// restart, scale, resume).
//
// Each takes an ActionContext (actions/action_context.h: the cluster's
// platform, the release store, progress, the clock) and the package and
// values in memory. Each validates everything it can before touching
// anything: a bad name, values, a version the package does not allow, what
// the platform's preflight refuses (a port in use, a missing distribution)
// fail before any state is recorded or any server started. Mutating verbs
// plan first (`dry_run` returns the plan), journal the plan, then execute it
// step by step (actions/step_runner.h).
//
// The command line's local front (platform/local/local_actions.h) reads the
// package directory and -f files, opens the SQLite state and builds the
// LocalPlatform; the operator builds the Kubernetes ones.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actions/action_context.h"
#include "actions/render_action.h"
#include "package/package.h"
#include "platform/ensemble_view.h"
#include "state/state_store.h"
#include "values/values.h"

namespace zkpilot {

enum class Format { kTable, kJson, kYaml };

// --- deploy (deploy_action.cc) --------------------------------------------

struct DeploySpec {
  std::string name;
  Package package;
  Values values;               // resolved against package.schema
  std::string package_source;  // recorded as where the package came from (a directory, a ConfigMap)
  std::string location;        // recorded as where the platform keeps the cluster (local: its directory)
  bool dry_run = false;
  std::chrono::milliseconds timeout{std::chrono::minutes(3)};  // to become healthy
};

struct DeployResult {
  std::string plan_text;
  bool dry_run = false;
  int revision = 0;
  std::string health;                 // summary once healthy
  std::chrono::milliseconds took{0};  // command start to healthy
};

// ctx.platform is bound to spec.values. A failed deploy leaves nothing
// running (Platform::TearDown, data kept) and the cluster recorded "failed".
Result<DeployResult> Deploy(ActionContext& ctx, const DeploySpec& spec);

// --- delete (delete_action.cc) --------------------------------------------

struct DeleteSpec {
  std::string name;
  const Package* package = nullptr;  // null (package gone): no hooks, just tear down
  bool purge_data = false;
  bool dry_run = false;
  std::chrono::milliseconds timeout{std::chrono::minutes(1)};  // per stop
};

// ctx.platform is bound to the current revision's values. Returns what was
// done ("deleted demo; data kept under ..."), or with dry_run the plan.
Result<std::string> Delete(ActionContext& ctx, const DeleteSpec& spec);

// --- status, list, history (status_action.cc) -----------------------------

// Status of one cluster, as data (format with FormatStatus); ctx.platform is
// bound to the current revision's values.
Result<nlohmann::ordered_json> DescribeCluster(ActionContext& ctx, const std::string& name, const Package& package);
std::string FormatStatus(const nlohmann::ordered_json& status, Format format);

// The servers of each cluster as its platform knows them.
using ServersOf = std::function<Result<std::vector<ServerState>>(const ClusterRecord&)>;
Result<std::string> ListClusters(ReleaseStore& store, const ServersOf& servers, Format format);
Result<std::string> History(ReleaseStore& store, const std::string& name, Format format);

// --- day-2 operations (change_action.cc) ----------------------------------

enum class ChangeKind { kConfigure, kUpgrade, kRollback, kRestart, kScale };
const char* ChangeKindName(ChangeKind kind);  // "configure", "upgrade", ...

struct ChangeSpec {
  std::string name;
  ChangeKind kind = ChangeKind::kConfigure;
  Package package;
  Values target;  // what the cluster is to run (TargetValues builds it from a request)
  bool dry_run = false;
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};  // per wait
};

struct ChangeResult {
  std::string plan_text;
  bool dry_run = false;
  bool nothing_to_do = false;
  bool resumed = false;
  int revision = 0;
  std::string changes;                 // "tickTime: 2000 -> 3000"
  std::vector<std::string> warnings;
  std::string health;                  // once done
  std::chrono::milliseconds took{0};
};

// ctx.platform is bound to spec.target. The same change as an interrupted
// one (same operation, same target) carries it on (Resume).
Result<ChangeResult> ApplyChange(ActionContext& ctx, const ChangeSpec& spec);

// Continues the cluster's interrupted operation from its first unfinished
// step; ctx.platform is bound to ResumeValues.
Result<ChangeResult> Resume(ActionContext& ctx, const std::string& name, const Package& package);

// What a person asks for, on top of the cluster's current values.
struct ChangeRequest {
  std::string name;
  ChangeKind kind = ChangeKind::kConfigure;
  ValuesRequest values;      // configure: -f / --set
  std::string version;       // upgrade
  int to_revision = 0;       // rollback: 0 = the revision before the current one
  int replicas = 0;          // scale
  bool dry_run = false;
  bool allow_privileged_ports = false;  // local: new ports below 1024 may be reserved
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};  // per wait
};

// The values `request` asks for (reads its -f files). InvalidInput for
// values the schema refuses, an unknown revision, nothing to configure.
Result<Values> TargetValues(ReleaseStore& store, const Package& package, const ChangeRequest& request);

// --- shared by the verbs and their front ends ------------------------------

// The cluster's record; InvalidInput naming the known clusters when there is none.
Result<ClusterRecord> FindCluster(ReleaseStore& store, const std::string& name);

// Values stored with a revision, validated against the package's schema.
Result<Values> ValuesOfRevision(const Package& package, const RevisionRecord& revision);
// The values of revision `revision` of a cluster (0: the one it runs; during
// or after a failed first deploy, the newest).
Result<Values> RevisionValues(ReleaseStore& store, const std::string& name, const Package& package, int revision = 0);
// The values an interrupted operation was taking the cluster to.
// InvalidInput when there is none to resume (or it is a delete).
Result<Values> ResumeValues(ReleaseStore& store, const std::string& name, const Package& package);
// Values as the flat JSON object revisions keep.
std::string ValuesJson(const Values& values);

// The SQLite state of a state directory ($ZKPILOT_HOME), created if needed.
inline Result<std::unique_ptr<StateStore>> OpenState(const std::string& home) {
  return StateStore::OpenInDirectory(home);
}

// The state of a state directory when it has a database, else an empty one
// in memory: for checking a command and for verbs that only read, so that a
// refused command or a look at an empty directory creates nothing.
inline Result<std::unique_ptr<StateStore>> OpenExistingState(const std::string& home) {
  if (std::filesystem::exists(StateStore::DatabasePath(home))) return OpenState(home);
  return StateStore::OpenInMemory();
}

}  // namespace zkpilot
