// The verbs that act on running clusters (local platform): deploy, delete,
// status, list, history, logs.
//
// Each validates everything it can before touching anything: a bad name,
// package, values, version without a distribution, missing java, a port in
// use or an unwritable dataDir fail before any state is recorded or any
// process started. Mutating verbs plan first (`dry_run` returns the plan),
// journal the plan, then execute it step by step.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actions/render_action.h"
#include "plan/executor.h"
#include "platform/local/local_platform.h"
#include "state/state_store.h"

namespace zkpilot {

enum class Format { kTable, kJson, kYaml };

struct DeployRequest {
  std::string home;         // ZKPILOT_HOME
  std::string name;
  std::string package_dir;
  ValuesRequest values;
  bool dry_run = false;
  std::chrono::milliseconds timeout{std::chrono::minutes(3)};
};

struct DeployResult {
  std::string plan_text;
  bool dry_run = false;
  int revision = 0;
  std::string health;                 // summary once healthy
  std::chrono::milliseconds took{0};  // command start to healthy
};

Result<DeployResult> Deploy(const DeployRequest& request, ProgressSink& progress);

struct DeleteRequest {
  std::string home;
  std::string name;
  bool purge_data = false;
  bool dry_run = false;
};
// Returns what was done (or, with dry_run, the plan).
Result<std::string> Delete(const DeleteRequest& request, ProgressSink& progress);

// Status of one cluster, as data (format with FormatStatus).
Result<nlohmann::ordered_json> ClusterStatus(const std::string& home, const std::string& name);
std::string FormatStatus(const nlohmann::ordered_json& status, Format format);

Result<std::string> ListClusters(const std::string& home, Format format);
Result<std::string> History(const std::string& home, const std::string& name, Format format);

// Log files of a cluster's servers (all, or the one with id `node` when > 0).
Result<std::vector<std::pair<int, std::string>>> LogFiles(const std::string& home, const std::string& name, int node);

// --- shared by the verbs -------------------------------------------------

Result<std::unique_ptr<StateStore>> OpenState(const std::string& home);

// Rebuilds a deployed cluster from its record and a revision (0: the current
// one). Its servers are those of the revision's values plus any the state
// still has (mid-scale). `need_distribution`: fail when the version's
// distribution is missing.
Result<LocalCluster> LoadLocalCluster(StateStore& store, const std::string& home, const std::string& name,
                                      bool need_distribution, int revision = 0);

// Values stored with a revision, validated against the package's schema.
Result<Values> ValuesOfRevision(const Package& package, const RevisionRecord& revision);

// --- day-2 operations (change_action.cc) ---------------------------------

enum class ChangeKind { kConfigure, kUpgrade, kRollback, kRestart, kScale };

struct ChangeRequest {
  std::string home;
  std::string name;
  ChangeKind kind = ChangeKind::kConfigure;
  ValuesRequest values;      // configure: -f / --set
  std::string version;       // upgrade
  int to_revision = 0;       // rollback: 0 = the revision before the current one
  int replicas = 0;          // scale
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

Result<ChangeResult> ApplyChange(const ChangeRequest& request, ProgressSink& progress);

// Continues the cluster's interrupted operation from its first unfinished step.
Result<ChangeResult> Resume(const std::string& home, const std::string& name, ProgressSink& progress);

}  // namespace zkpilot
