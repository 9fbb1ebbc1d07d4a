// The local front of `zkpilot alerts` and `zkpilot dashboards`
// (actions/monitoring_action.h).
#include "actions/cluster_actions.h"
#include "actions/monitoring_action.h"
#include "package/package_loader.h"
#include "platform/local/local_platform.h"

namespace zkpilot {
namespace {

// Runs `verb` with the cluster's context; its errors carry `context`.
template <typename T, typename Verb>
Result<T> WithCluster(const std::string& home, const std::string& name, const std::string& context, Verb verb) {
  ZK_ASSIGN_OR_RETURN(auto store, OpenExistingState(home));
  auto record = FindCluster(*store, name);
  if (!record.ok()) return record.status().WithContext(context);
  auto package = LoadPackage(record->package_dir);
  if (!package.ok()) return package.status().WithContext(context);
  auto values = RevisionValues(*store, name, *package);
  if (!values.ok()) return values.status().WithContext(context);
  auto platform = LocalPlatform::Create(*store, home, name, *package, *values);
  if (!platform.ok()) return platform.status().WithContext(context);
  NullProgress progress;
  ActionContext ctx{**platform, *store, progress, SystemClock()};
  return verb(ctx, *package);
}

}  // namespace

Result<int> AlertsCommand(const std::string& home, const std::string& name, bool json, std::string* out,
                          std::chrono::milliseconds timeout) {
  return WithCluster<int>(home, name, "alerts " + name, [&](ActionContext& ctx, const Package& package) {
    return Alerts(ctx, name, package, json, out, timeout);
  });
}

Result<std::string> DashboardsCommand(const std::string& home, const std::string& name,
                                      const std::string& output_dir) {
  return WithCluster<std::string>(home, name, "dashboards " + name, [&](ActionContext& ctx, const Package& package) {
    return Dashboards(ctx, name, package, output_dir);
  });
}

}  // namespace zkpilot
