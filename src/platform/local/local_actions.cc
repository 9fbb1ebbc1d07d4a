#include "platform/local/local_actions.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>

#include "package/package_loader.h"
#include "util/yaml_json.h"
#include "platform/local/local_platform.h"
#include "platform/local/operation_lock.h"
#include "platform/local/orphans.h"
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
  // No state yet: no cluster, and nothing to create for saying so.
  ZK_ASSIGN_OR_RETURN(local.store, OpenExistingState(home));
  ZK_ASSIGN_OR_RETURN(local.record, FindCluster(*local.store, name));
  ZK_ASSIGN_OR_RETURN(local.package, LoadPackage(local.record.package_dir));
  return local;
}

// Lines naming the orphans and what to do about them ("" when none).
std::string OrphanLines(const std::vector<OrphanProcess>& orphans, const std::string& home) {
  if (orphans.empty()) return "";
  std::string out = "Running with no record in " + StateDbPath(home) + " (deleted or replaced?):\n";
  for (const auto& p : orphans) out += "  " + p.Describe(home) + "\n";
  return out + "`zkpilot delete --orphans` stops them (data kept unless --purge-data)\n";
}

// `no_record` (the cluster is not recorded), plus the lines naming its
// processes when they run all the same (state.db lost): a user looking for
// the cluster learns where it went.
Status WithOrphansOf(const std::string& home, const std::string& name, const Status& no_record) {
  if (no_record.code() != ErrorCode::kInvalidInput) return no_record;
  auto store = OpenExistingState(home);
  if (!store.ok()) return no_record;
  auto orphans = FindOrphans(**store, home);
  if (!orphans.ok()) return no_record;
  std::vector<OrphanProcess> mine;
  for (const auto& p : *orphans)
    if (p.cluster == name) mine.push_back(p);
  if (mine.empty()) return no_record;
  return Status::InvalidInput(no_record.message() + "\n" + OrphanLines(mine, home));
}

}  // namespace

Result<std::string> LocalDeleteOrphans(const std::string& home, const DeleteRequest& req) {
  ZK_ASSIGN_OR_RETURN(auto store, OpenExistingState(home));
  return StopOrphans(*store, home, StopOrphansRequest{req.name, req.purge_data, req.dry_run});
}

Result<DeployResult> LocalDeploy(const std::string& home, const DeployRequest& req, ProgressSink& progress) {
  ZK_RETURN_IF_ERROR(ValidateClusterName(req.name));
  ZK_ASSIGN_OR_RETURN(LoadedCluster loaded, LoadAndResolve(req.package_dir, req.values, "local"));
  DeploySpec spec;
  spec.name = req.name;
  spec.package_source = std::filesystem::absolute(req.package_dir).lexically_normal().string();
  while (spec.package_source.size() > 1 && spec.package_source.back() == '/') spec.package_source.pop_back();
  spec.location = ClusterHome(home, req.name);
  spec.timeout = req.timeout;
  spec.package = std::move(loaded.package);
  spec.values = std::move(loaded.values);
  {
    // First the whole deploy as a dry run against the state as it is (an
    // empty one in memory when the directory has none): every check, every
    // file rendered, the plan. A deploy refused here has created nothing -
    // no state.db, lock, secret or directory.
    ZK_ASSIGN_OR_RETURN(auto state, OpenExistingState(home));
    ZK_ASSIGN_OR_RETURN(auto platform, LocalPlatform::Create(*state, home, req.name, spec.package, spec.values));
    platform->SetPortOptions({/*reserve=*/false, req.allow_privileged_ports});
    NullProgress quiet;  // the real run below says it all again
    ActionContext ctx{*platform, *state, req.dry_run ? progress : static_cast<ProgressSink&>(quiet), SystemClock()};
    DeploySpec check = spec;
    check.dry_run = true;
    ZK_ASSIGN_OR_RETURN(DeployResult checked, Deploy(ctx, check));
    if (req.dry_run) return checked;
  }
  ZK_ASSIGN_OR_RETURN(OperationLock lock, OperationLock::Acquire(home, req.name, "deploy"));
  ZK_ASSIGN_OR_RETURN(auto store, OpenState(home));
  // An existing name is refused by the core before the platform is asked anything.
  ZK_ASSIGN_OR_RETURN(auto platform, LocalPlatform::Create(*store, home, req.name, spec.package, spec.values));
  platform->SetPortOptions({/*reserve=*/true, req.allow_privileged_ports});
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
  auto opened = OpenCluster(home, req.name);
  if (!opened.ok()) return WithOrphansOf(home, req.name, opened.status());
  Local local = std::move(opened).value();
  std::optional<OperationLock> lock;
  std::string killed;
  if (!req.dry_run) {
    ZK_ASSIGN_OR_RETURN(OperationLock held,
                        OperationLock::Acquire(home, req.name, "delete",
                                               req.force ? LockTakeover::kKill : LockTakeover::kRefuse, &killed));
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
  if (killed.empty()) return deleted;
  return "killed the stuck " + killed + " (--force); its operation was abandoned\n" + deleted;
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
  auto opened = OpenCluster(home, name);
  if (!opened.ok()) return WithOrphansOf(home, name, opened.status());
  Local local = std::move(opened).value();
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
  ZK_ASSIGN_OR_RETURN(auto orphans, FindOrphans(*local.store, home));
  if (!orphans.empty()) {
    out["orphans"] = nlohmann::ordered_json::array();
    for (const auto& p : orphans) out["orphans"].push_back(p.Describe(home));
  }
  return out;
}

std::string FormatLocalStatus(const nlohmann::ordered_json& status, Format format) {
  std::string out = FormatStatus(status, format);
  if (format != Format::kTable || !status.contains("orphans")) return out;
  out += "\nRunning with no record in this state directory:\n";
  for (const auto& line : status["orphans"]) out += "  " + line.get<std::string>() + "\n";
  return out + "`zkpilot delete --orphans` stops them (data kept unless --purge-data)\n";
}

Result<std::string> LocalList(const std::string& home, Format format) {
  ZK_ASSIGN_OR_RETURN(auto store, OpenExistingState(home));
  auto servers_of = [&](const ClusterRecord& c) { return LocalServerStates(*store, c.name); };
  ZK_ASSIGN_OR_RETURN(auto orphans, FindOrphans(*store, home));
  if (format == Format::kTable) {
    ZK_ASSIGN_OR_RETURN(std::string table, ListClusters(*store, servers_of, format));
    return orphans.empty() ? table : table + "\n" + OrphanLines(orphans, home);
  }
  // Each orphaned cluster is one more entry, in the recorded ones' shape.
  ZK_ASSIGN_OR_RETURN(std::string text, ListClusters(*store, servers_of, Format::kJson));
  auto list = nlohmann::ordered_json::parse(text);
  std::map<std::string, nlohmann::ordered_json> orphaned;
  for (const auto& p : orphans) {
    auto& c = orphaned[p.cluster];
    if (c.is_null())
      c = {{"name", p.cluster}, {"platform", "local"}, {"status", "orphaned"}, {"servers", 0}, {"running", 0},
           {"version", ""}, {"revision", 0}, {"package", ""}, {"created", "-"},
           {"orphans", nlohmann::ordered_json::array()}};
    if (p.kind == OrphanKind::kServer) {
      c["servers"] = c["servers"].get<int>() + 1;
      c["running"] = c["running"].get<int>() + 1;
    }
    c["orphans"].push_back(p.Describe(home));
  }
  for (auto& [name, c] : orphaned) list.push_back(std::move(c));
  return format == Format::kJson ? list.dump(2) + "\n" : EmitYaml(list);
}

Result<std::string> LocalHistory(const std::string& home, const std::string& name, Format format) {
  ZK_ASSIGN_OR_RETURN(auto store, OpenExistingState(home));
  return History(*store, name, format);
}

Result<std::vector<std::pair<int, std::string>>> LocalLogFiles(const std::string& home, const std::string& name,
                                                               int node) {
  ZK_ASSIGN_OR_RETURN(auto store, OpenExistingState(home));
  ZK_RETURN_IF_ERROR(FindCluster(*store, name).status());
  ZK_ASSIGN_OR_RETURN(auto nodes, store->ListNodes(name));
  std::vector<std::pair<int, std::string>> out;
  for (const auto& n : nodes)
    if (node <= 0 || n.id == node) out.push_back({n.id, n.dir + "/zookeeper.log"});
  if (out.empty()) return Status::InvalidInput("cluster " + name + " has no server " + std::to_string(node));
  return out;
}

}  // namespace zkpilot
