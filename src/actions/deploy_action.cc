// zkpilot deploy: validate, plan, start the servers, wait for quorum health,
// run the deploy hooks.
#include <filesystem>
#include <fstream>

#include "actions/cluster_actions.h"
#include "platform/local/paths.h"
#include "platform/local/process.h"
#include "platform/local/supervisor.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Fails when a directory cannot be created or written, without leaving it
// behind: it is created (with a probe file) and what was created is removed.
// Trying beats access(2), which says yes to root everywhere (even in /proc).
Status CheckWritable(const std::string& dir, const std::string& what) {
  std::error_code ec;
  fs::path p = fs::path(dir).lexically_normal();
  fs::path existing = p;
  while (!existing.empty() && existing != existing.root_path() && !fs::exists(existing, ec)) existing = existing.parent_path();
  if (fs::exists(existing, ec) && !fs::is_directory(existing, ec))
    return Status::InvalidInput(what + " " + dir + ": " + existing.string() + " is not a directory");
  fs::create_directories(p, ec);
  if (ec) return Status::InvalidInput(what + " " + dir + ": cannot be created: " + ec.message());
  const fs::path probe = p / ".zkpilot-write-probe";
  bool ok = false;
  {
    std::ofstream out(probe);
    out << "probe\n";
    out.close();
    ok = static_cast<bool>(out);
  }
  fs::remove(probe, ec);
  // Remove the directories this check created, deepest first.
  for (fs::path q = p; !q.empty() && q != existing && q != q.root_path(); q = q.parent_path()) fs::remove(q, ec);
  if (!ok) return Status::InvalidInput(what + " " + dir + ": not writable");
  return Status::Ok();
}

Plan DeployPlan(const LocalCluster& cluster, std::chrono::milliseconds timeout) {
  Plan plan{"deploy", cluster.name, {}};
  for (const auto& n : cluster.nodes) plan.steps.push_back(PrepareNodeStep(n));
  for (const auto& n : cluster.nodes) plan.steps.push_back(StartNodeStep(n));
  plan.steps.push_back(WaitHealthyStep(timeout, std::to_string(cluster.nodes.size()) + " servers in quorum"));
  if (cluster.values.Get("prometheus.enabled") == true) plan.steps.push_back(ApplyAddonsStep());
  plan.steps.push_back(RunHooksStep(HookEvent::kDeploy, HookPhase::kInit));
  plan.steps.push_back(RunHooksStep(HookEvent::kDeploy, HookPhase::kCleanup));
  return plan;
}

}  // namespace

Result<std::unique_ptr<StateStore>> OpenState(const std::string& home) {
  std::error_code ec;
  fs::create_directories(home, ec);
  if (ec) return Status::IOError("state directory " + home + ": " + ec.message());
  return StateStore::Open(StateDbPath(home));
}

Result<DeployResult> Deploy(const DeployRequest& req, ProgressSink& progress) {
  const auto started = Clock::now();
  ZK_RETURN_IF_ERROR(ValidateClusterName(req.name));
  ZK_ASSIGN_OR_RETURN(LoadedCluster loaded, LoadAndResolve(req.package_dir, req.values));
  ZK_ASSIGN_OR_RETURN(auto store, OpenState(req.home));
  ZK_ASSIGN_OR_RETURN(auto existing, store->GetCluster(req.name));
  if (existing)
    return Status::InvalidInput("cluster " + req.name + " already exists (status " + existing->status +
                                "); pick another name or run `zkpilot delete " + req.name + "` first");

  LocalCluster cluster;
  cluster.home = req.home;
  cluster.name = req.name;
  cluster.cluster_home = ClusterHome(req.home, req.name);
  cluster.package = std::move(loaded.package);
  cluster.values = std::move(loaded.values);
  ZK_ASSIGN_OR_RETURN(cluster.nodes, LocalTopology(cluster.package, cluster.values, cluster.name, cluster.cluster_home));

  // Everything that can be checked before touching anything.
  if (FindInPath("java").empty())
    return Status::NotFound("java is not installed; the local platform runs ZooKeeper on a JVM "
                            "(apt-get install default-jre-headless)");
  ZK_ASSIGN_OR_RETURN(cluster.distribution, DistributionForVersion(cluster.package, cluster.values, req.home));
  ZK_RETURN_IF_ERROR(CheckAddonPrograms(cluster.values));
  for (const auto& n : cluster.nodes) {
    const auto& e = n.endpoint;
    for (auto [port, what] : {std::pair{e.client_port, "client"}, {e.quorum_port, "quorum"},
                              {e.election_port, "election"}, {e.admin_server_port, "admin"}}) {
      if (!PortFree(port))
        return Status::InvalidInput("port " + std::to_string(port) + " (server " + std::to_string(e.id) + " " + what +
                                    " port) is already in use on 127.0.0.1; choose another base with --set clientPort=N "
                                    "(server N uses clientPort+(N-1)*10 .. +3)");
    }
    ZK_RETURN_IF_ERROR(CheckWritable(e.data_dir, "dataDir"));
    if (!e.data_log_dir.empty()) ZK_RETURN_IF_ERROR(CheckWritable(e.data_log_dir, "dataLogDir"));
  }
  ZK_RETURN_IF_ERROR(CheckWritable(cluster.cluster_home, "state directory"));

  Plan plan = DeployPlan(cluster, req.timeout);
  DeployResult result;
  result.plan_text = plan.ToText();
  if (req.dry_run) {
    result.dry_run = true;
    return result;
  }

  // Record, then act.
  ZK_ASSIGN_OR_RETURN(cluster.super_password, EnsureSuperPassword(cluster.cluster_home));
  ClusterRecord record;
  record.name = req.name;
  record.package_dir = fs::absolute(req.package_dir).lexically_normal().string();
  while (record.package_dir.size() > 1 && record.package_dir.back() == '/') record.package_dir.pop_back();
  record.package_name = cluster.package.name;
  record.platform = "local";
  record.status = "deploying";
  record.home = cluster.cluster_home;
  record.created_at = record.updated_at = NowMillis();
  ZK_RETURN_IF_ERROR(store->CreateCluster(record));
  RevisionRecord rev;
  rev.cluster = req.name;
  rev.operation = "deploy";
  nlohmann::json flat = nlohmann::json::object();
  for (const auto& [k, v] : cluster.values.Flat()) flat[k] = v;
  rev.values_json = flat.dump();
  rev.package_version = cluster.package.version;
  rev.zk_version = cluster.values.Get(cluster.package.version_parameter).get<std::string>();
  rev.status = RevisionStatus::kPending;
  rev.started_at = NowMillis();
  ZK_ASSIGN_OR_RETURN(result.revision, store->AddRevision(rev));
  ZK_ASSIGN_OR_RETURN(int64_t op, JournalPlan(*store, plan, result.revision));

  LocalPlatform platform(*store, cluster, op);
  Status run = ExecutePlan(*store, op, plan.steps, 0, platform, progress);
  if (!run.ok()) {
    // Leave nothing running: a failed deploy stops its servers. The state
    // says what happened; `zkpilot delete` removes it.
    auto stopped = platform.RunStep(StopNodesStep());
    (void)stopped;
    (void)store->FinishOperation(op, OperationStatus::kFailed, run.message());
    (void)store->FinishRevision(req.name, result.revision, RevisionStatus::kFailed, run.message());
    (void)store->SetClusterStatus(req.name, "failed");
    return run.WithContext("deploy " + req.name);
  }
  ZK_RETURN_IF_ERROR(store->FinishOperation(op, OperationStatus::kSucceeded, ""));
  ZK_RETURN_IF_ERROR(store->FinishRevision(req.name, result.revision, RevisionStatus::kDeployed, "deployed"));
  ZK_RETURN_IF_ERROR(store->SetClusterStatus(req.name, "deployed", result.revision));
  ZK_ASSIGN_OR_RETURN(auto final_op, store->GetOperation(op));
  for (const auto& s : final_op->steps)
    if (s.name.rfind("wait until healthy", 0) == 0) result.health = s.detail;
  result.took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return result;
}

}  // namespace zkpilot
