// zkpilot delete: delete hooks, stop every server and the supervisor, free
// every port, forget the cluster (and its data with --purge-data).
#include <filesystem>

#include "actions/cluster_actions.h"
#include "package/package_loader.h"
#include "platform/local/paths.h"
#include "platform/local/supervisor.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;

Result<Values> ValuesOfRevision(const Package& pkg, const RevisionRecord& rev) {
  ValuesInput in;
  in.files = {{"revision " + std::to_string(rev.revision) + " of " + rev.cluster, rev.values_json}};
  return ResolveValues(pkg.schema, in);
}

}  // namespace

Result<LocalCluster> LoadLocalCluster(StateStore& store, const std::string& home, const std::string& name,
                                      bool need_distribution) {
  ZK_ASSIGN_OR_RETURN(auto record, store.GetCluster(name));
  if (!record) {
    ZK_ASSIGN_OR_RETURN(auto all, store.ListClusters());
    std::string known;
    for (const auto& c : all) known += (known.empty() ? "" : ", ") + c.name;
    return Status::InvalidInput("no cluster named " + name + (known.empty() ? " (there are none; zkpilot deploy creates one)"
                                                                            : " (clusters: " + known + ")"));
  }
  ZK_ASSIGN_OR_RETURN(auto revisions, store.ListRevisions(name));
  if (revisions.empty()) return Status::Internal("cluster " + name + " has no revision");
  // The revision it runs; during or after a failed first deploy, the newest.
  const RevisionRecord* rev = &revisions.back();
  for (const auto& r : revisions)
    if (r.revision == record->current_revision) rev = &r;

  LocalCluster cluster;
  cluster.home = home;
  cluster.name = name;
  cluster.cluster_home = record->home;
  ZK_ASSIGN_OR_RETURN(cluster.package, LoadPackage(record->package_dir));
  ZK_ASSIGN_OR_RETURN(cluster.values, ValuesOfRevision(cluster.package, *rev));
  ZK_ASSIGN_OR_RETURN(cluster.nodes, LocalTopology(cluster.values, name, cluster.cluster_home));
  // Nodes recorded in the state win over the values (e.g. mid-scale).
  ZK_ASSIGN_OR_RETURN(auto records, store.ListNodes(name));
  if (!records.empty()) {
    std::vector<LocalNode> nodes;
    for (const auto& r : records) {
      ZK_ASSIGN_OR_RETURN(LocalNode n, LocalNodeFor(cluster.values, name, cluster.cluster_home, r.id));
      n.endpoint.data_dir = r.data_dir;
      nodes.push_back(n);
    }
    cluster.nodes = nodes;
  }
  auto distribution = DistributionForVersion(cluster.package, cluster.values, home);
  if (distribution.ok()) cluster.distribution = *distribution;
  else if (need_distribution) return distribution.status();
  ZK_ASSIGN_OR_RETURN(cluster.super_password, EnsureSuperPassword(cluster.cluster_home));
  return cluster;
}

Result<std::string> Delete(const DeleteRequest& req, ProgressSink& progress) {
  ZK_ASSIGN_OR_RETURN(auto store, OpenState(req.home));
  ZK_ASSIGN_OR_RETURN(LocalCluster cluster, LoadLocalCluster(*store, req.home, req.name, false));
  ZK_ASSIGN_OR_RETURN(auto record, store->GetCluster(req.name));

  Plan plan{"delete", req.name, {}};
  // Init hooks need a serving ensemble; a cluster that never came up (or is
  // already stopped) skips them.
  const bool running = record->status == "deployed";
  if (running) plan.steps.push_back(RunHooksStep(HookEvent::kDelete, HookPhase::kInit));
  plan.steps.push_back(StopNodesStep());
  plan.steps.push_back(WaitPortsFreeStep());
  plan.steps.push_back(RunHooksStep(HookEvent::kDelete, HookPhase::kCleanup));
  if (req.dry_run) return plan.ToText();

  ZK_RETURN_IF_ERROR(store->SetClusterStatus(req.name, "deleting"));
  ZK_ASSIGN_OR_RETURN(int64_t op, JournalPlan(*store, plan, record->current_revision));
  LocalPlatformOptions options;
  options.purge_data = req.purge_data;
  LocalPlatform platform(*store, cluster, op, options);
  Status run = ExecutePlan(*store, op, plan.steps, 0, platform, progress);
  if (!run.ok()) {
    (void)store->FinishOperation(op, OperationStatus::kFailed, run.message());
    (void)store->SetClusterStatus(req.name, "delete-failed");
    return run.WithContext("delete " + req.name);
  }
  ZK_RETURN_IF_ERROR(store->DeleteCluster(req.name));
  std::error_code ec;
  std::string kept;
  if (req.purge_data) {
    fs::remove_all(cluster.cluster_home, ec);
    if (ec) return Status::IOError("delete " + req.name + ": removing " + cluster.cluster_home + ": " + ec.message());
  } else {
    // Keep the data; drop what only made sense while it ran.
    for (const char* f : {"/supervisor.lock", "/super.secret"}) fs::remove(cluster.cluster_home + f, ec);
    kept = "; data kept under " + cluster.cluster_home;
    for (const auto& n : cluster.nodes)
      if (n.endpoint.data_dir.rfind(cluster.cluster_home, 0) != 0) kept += " and " + n.endpoint.data_dir;
    kept += " (--purge-data removes it)";
  }
  return "deleted " + req.name + kept;
}

}  // namespace zkpilot
