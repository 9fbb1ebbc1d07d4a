// zkpilot delete: delete hooks, stop every server and the supervisor, free
// every port, forget the cluster (and its data with --purge-data).
#include <algorithm>
#include <filesystem>

#include "actions/cluster_actions.h"
#include "package/package_loader.h"
#include "platform/local/paths.h"
#include "platform/local/supervisor.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;

}  // namespace

Result<Values> ValuesOfRevision(const Package& pkg, const RevisionRecord& rev) {
  ValuesInput in;
  in.files = {{"revision " + std::to_string(rev.revision) + " of " + rev.cluster, rev.values_json}};
  return ResolveValues(pkg.schema, in);
}

Result<LocalCluster> LoadLocalCluster(StateStore& store, const std::string& home, const std::string& name,
                                      bool need_distribution, int revision) {
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
  const int wanted = revision > 0 ? revision : record->current_revision;
  for (const auto& r : revisions)
    if (r.revision == wanted) rev = &r;

  LocalCluster cluster;
  cluster.home = home;
  cluster.name = name;
  cluster.cluster_home = record->home;
  ZK_ASSIGN_OR_RETURN(cluster.package, LoadPackage(record->package_dir));
  ZK_ASSIGN_OR_RETURN(cluster.values, ValuesOfRevision(cluster.package, *rev));
  ZK_ASSIGN_OR_RETURN(cluster.nodes, LocalTopology(cluster.package, cluster.values, name, cluster.cluster_home));
  // Servers the state still has beyond the values (mid-scale) stay known.
  ZK_ASSIGN_OR_RETURN(auto records, store.ListNodes(name));
  for (const auto& r : records) {
    auto it = std::find_if(cluster.nodes.begin(), cluster.nodes.end(), [&](const LocalNode& n) { return n.endpoint.id == r.id; });
    if (it == cluster.nodes.end()) {
      ZK_ASSIGN_OR_RETURN(LocalNode n, LocalNodeFor(cluster.values, LocalDataRoot(cluster.package, cluster.values), name, cluster.cluster_home, r.id));
      cluster.nodes.push_back(n);
      it = cluster.nodes.end() - 1;
    }
    it->endpoint.data_dir = r.data_dir;
  }
  std::sort(cluster.nodes.begin(), cluster.nodes.end(),
            [](const LocalNode& a, const LocalNode& b) { return a.endpoint.id < b.endpoint.id; });
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
