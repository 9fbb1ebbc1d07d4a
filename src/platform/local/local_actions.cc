#include "platform/local/local_actions.h"

#include <chrono>
#include <filesystem>
#include <optional>

#include "package/package_loader.h"
#include "platform/local/local_platform.h"
#include "platform/local/operation_lock.h"
#include "platform/local/paths.h"
#include "platform/local/port_registry.h"

namespace zkpilot {
namespace {

// What a verb on an existing cluster works with.
struct Local {
  std::unique_ptr<StateStore> store;
  ClusterRecord record;
  Package package;
};

Result<Local> OpenCluster(const std::string& home, const std::string& name) {
  Local local;
  ZK_ASSIGN_OR_RETURN(local.store, OpenState(home));
  ZK_ASSIGN_OR_RETURN(local.record, FindCluster(*local.store, name));
  ZK_ASSIGN_OR_RETURN(local.package, LoadPackage(local.record.package_dir));
  return local;
}

}  // namespace

Result<DeployResult> LocalDeploy(const std::string& home, const DeployRequest& req, ProgressSink& progress) {
  ZK_RETURN_IF_ERROR(ValidateClusterName(req.name));
  ZK_ASSIGN_OR_RETURN(LoadedCluster loaded, LoadAndResolve(req.package_dir, req.values));
  std::optional<OperationLock> lock;
  if (!req.dry_run) {
    ZK_ASSIGN_OR_RETURN(OperationLock held, OperationLock::Acquire(home, req.name, "deploy"));
    lock.emplace(std::move(held));
  }
  ZK_ASSIGN_OR_RETURN(auto store, OpenState(home));
  DeploySpec spec;
  spec.name = req.name;
  spec.package_source = std::filesystem::absolute(req.package_dir).lexically_normal().string();
  while (spec.package_source.size() > 1 && spec.package_source.back() == '/') spec.package_source.pop_back();
  spec.location = ClusterHome(home, req.name);
  spec.dry_run = req.dry_run;
  spec.timeout = req.timeout;
  // An existing name is refused by the core before the platform is asked anything.
  ZK_ASSIGN_OR_RETURN(auto platform, LocalPlatform::Create(*store, home, req.name, loaded.package, loaded.values));
  platform->SetPortOptions({!req.dry_run, req.allow_privileged_ports});
  spec.package = std::move(loaded.package);
  spec.values = std::move(loaded.values);
  ActionContext ctx{*platform, *store, progress, SystemClock()};
  auto deployed = Deploy(ctx, spec);
  if (!deployed.ok() && !req.dry_run) {
    // Refused before anything was recorded (another cluster exists under this
    // name, a later check failed): its reservation, if any, goes with it.
    auto recorded = store->GetCluster(req.name);
    if (recorded.ok() && !recorded->has_value()) (void)ReleasePorts(PortRegistryDir(), PortOwnerOf(home, req.name));
  }
  return deployed;
}

Result<std::string> LocalDelete(const std::string& home, const DeleteRequest& req, ProgressSink& progress) {
  ZK_ASSIGN_OR_RETURN(Local local, OpenCluster(home, req.name));
  std::optional<OperationLock> lock;
  if (!req.dry_run) {
    ZK_ASSIGN_OR_RETURN(OperationLock held, OperationLock::Acquire(home, req.name, "delete"));
    lock.emplace(std::move(held));
  }
  ZK_ASSIGN_OR_RETURN(Values values, RevisionValues(*local.store, req.name, local.package));
  ZK_ASSIGN_OR_RETURN(auto platform, LocalPlatform::Create(*local.store, home, req.name, local.package, values));
  ActionContext ctx{*platform, *local.store, progress, SystemClock()};
  DeleteSpec spec;
  spec.name = req.name;
  spec.package = &local.package;
  spec.purge_data = req.purge_data;
  spec.dry_run = req.dry_run;
  ZK_ASSIGN_OR_RETURN(std::string deleted, Delete(ctx, spec));
  if (!req.dry_run) ZK_RETURN_IF_ERROR(ReleasePorts(PortRegistryDir(), PortOwnerOf(home, req.name)));
  return deleted;
}

Result<ChangeResult> LocalChange(const std::string& home, const ChangeRequest& req, ProgressSink& progress) {
  ZK_ASSIGN_OR_RETURN(Local local, OpenCluster(home, req.name));
  std::optional<OperationLock> lock;
  if (!req.dry_run) {
    ZK_ASSIGN_OR_RETURN(OperationLock held, OperationLock::Acquire(home, req.name, ChangeKindName(req.kind)));
    lock.emplace(std::move(held));
  }
  ZK_ASSIGN_OR_RETURN(Values target, TargetValues(*local.store, local.package, req));
  ZK_ASSIGN_OR_RETURN(auto platform, LocalPlatform::Create(*local.store, home, req.name, local.package, target));
  platform->SetPortOptions({!req.dry_run, req.allow_privileged_ports});
  ActionContext ctx{*platform, *local.store, progress, SystemClock()};
  ChangeSpec spec;
  spec.name = req.name;
  spec.kind = req.kind;
  spec.package = std::move(local.package);
  spec.target = std::move(target);
  spec.dry_run = req.dry_run;
  spec.timeout = req.timeout;
  return ApplyChange(ctx, spec);
}

Result<ChangeResult> LocalResume(const std::string& home, const std::string& name, ProgressSink& progress) {
  ZK_ASSIGN_OR_RETURN(Local local, OpenCluster(home, name));
  // An operation whose command still runs is not interrupted: refused.
  ZK_ASSIGN_OR_RETURN(OperationLock lock, OperationLock::Acquire(home, name, "resume"));
  ZK_ASSIGN_OR_RETURN(Values values, ResumeValues(*local.store, name, local.package));
  ZK_ASSIGN_OR_RETURN(auto platform, LocalPlatform::Create(*local.store, home, name, local.package, values));
  ActionContext ctx{*platform, *local.store, progress, SystemClock()};
  return Resume(ctx, name, local.package);
}

Result<nlohmann::ordered_json> LocalStatus(const std::string& home, const std::string& name) {
  ZK_ASSIGN_OR_RETURN(Local local, OpenCluster(home, name));
  ZK_ASSIGN_OR_RETURN(Values values, RevisionValues(*local.store, name, local.package));
  ZK_ASSIGN_OR_RETURN(auto platform, LocalPlatform::Create(*local.store, home, name, local.package, values));
  NullProgress progress;
  ActionContext ctx{*platform, *local.store, progress, SystemClock()};
  ZK_ASSIGN_OR_RETURN(nlohmann::ordered_json out, DescribeCluster(ctx, name, local.package));
  // An unfinished operation is running (its command holds the lock) or was
  // interrupted (nobody holds it): `status` says which.
  const auto holder = HeldOperationLock(home, name);
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  if (out.contains("conditions"))
    for (auto& c : out["conditions"]) {
      if (c.value("reason", "") != "OperationInProgress") continue;
      if (holder) {
        c["message"] = c["message"].get<std::string>() + "; run by " + holder->Describe(now);
      } else {
        c["reason"] = "OperationInterrupted";
        c["message"] = c["message"].get<std::string>() + "; interrupted (no zkpilot runs it): `zkpilot resume " +
                       name + "` continues it";
      }
    }
  return out;
}

Result<std::string> LocalList(const std::string& home, Format format) {
  ZK_ASSIGN_OR_RETURN(auto store, OpenState(home));
  return ListClusters(
      *store, [&](const ClusterRecord& c) { return LocalServerStates(*store, c.name); }, format);
}

Result<std::string> LocalHistory(const std::string& home, const std::string& name, Format format) {
  ZK_ASSIGN_OR_RETURN(auto store, OpenState(home));
  return History(*store, name, format);
}

Result<std::vector<std::pair<int, std::string>>> LocalLogFiles(const std::string& home, const std::string& name,
                                                               int node) {
  ZK_ASSIGN_OR_RETURN(auto store, OpenState(home));
  ZK_RETURN_IF_ERROR(FindCluster(*store, name).status());
  ZK_ASSIGN_OR_RETURN(auto nodes, store->ListNodes(name));
  std::vector<std::pair<int, std::string>> out;
  for (const auto& n : nodes)
    if (node <= 0 || n.id == node) out.push_back({n.id, n.dir + "/zookeeper.log"});
  if (out.empty()) return Status::InvalidInput("cluster " + name + " has no server " + std::to_string(node));
  return out;
}

}  // namespace zkpilot
