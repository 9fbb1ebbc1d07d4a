#include "plan/change_planner.h"

#include <algorithm>

namespace zkpilot {
namespace {

using nlohmann::json;

std::string Id(int id) { return std::to_string(id); }

Step Prepare(int id, const std::vector<int>& members) {
  Step s{"prepare-node", {{"node", id}}, "prepare server " + Id(id) + "'s configuration"};
  if (!members.empty()) s.args["members"] = members;
  return s;
}

Step Restart(int id, int64_t generation, const std::string& role, std::chrono::milliseconds timeout) {
  return {"restart-node",
          {{"node", id}, {"generation", generation}, {"timeout_ms", timeout.count()}},
          "restart server " + Id(id) + " (" + role + ") and wait until it is back in sync"};
}

Step WaitHealthy(const std::vector<int>& members, std::chrono::milliseconds timeout, const std::string& why) {
  return {"wait-healthy", {{"members", members}, {"timeout_ms", timeout.count()}}, "wait until healthy: " + why};
}

Step Hooks(const std::string& event, const std::string& phase, const std::vector<int>& members, json extra = json::object()) {
  Step s{"run-hooks", {{"event", event}, {"phase", phase}, {"members", members}},
         "run the " + event + " " + phase + " hooks"};
  for (auto it = extra.begin(); it != extra.end(); ++it) s.args[it.key()] = it.value();
  return s;
}

}  // namespace

std::string ChangeSet::Describe(const Values& from, const Values& to, const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    auto show = [&](const Values& v) { return v.Has(n) ? DisplayValue(v.Get(n)) : std::string("(unset)"); };
    out += (out.empty() ? "" : ", ") + n + ": " + show(from) + " -> " + show(to);
  }
  return out;
}

ChangeSet DiffValues(const Package& package, const Values& from, const Values& to) {
  ChangeSet c;
  for (const auto& p : package.schema.params) {
    const bool a = from.Has(p.name), b = to.Has(p.name);
    if (a == b && (!a || from.Get(p.name) == to.Get(p.name))) continue;
    c.changed.push_back(p.name);
    switch (p.change) {
      case ChangePolicy::kDynamic: c.dynamic.push_back(p.name); break;
      case ChangePolicy::kRolling: c.rolling.push_back(p.name); break;
      case ChangePolicy::kImmutable: c.immutable.push_back(p.name); break;
      case ChangePolicy::kReconfig: break;  // replicas: scaling
    }
  }
  auto version = [&](const Values& v) {
    return v.Has(package.version_parameter) ? v.Get(package.version_parameter).get<std::string>() : "";
  };
  c.from_version = version(from);
  c.to_version = version(to);
  c.from_replicas = from.Has("replicas") ? from.Get("replicas").get<int>() : 0;
  c.to_replicas = to.Has("replicas") ? to.Get("replicas").get<int>() : 0;
  return c;
}

Status CheckChangeAllowed(const Package& package, const ChangeSet& change) {
  if (!change.immutable.empty()) {
    std::string list;
    for (const auto& n : change.immutable) list += (list.empty() ? "" : ", ") + n;
    return Status::InvalidInput(list + (change.immutable.size() > 1 ? " are" : " is") +
                                " immutable: fixed when the cluster was deployed (deploy a new cluster to change it)");
  }
  if (change.VersionChanged() && !package.UpgradeAllowed(change.from_version, change.to_version)) {
    std::string allowed;
    for (const auto& v : package.versions)
      if (v.version != change.from_version && package.UpgradeAllowed(change.from_version, v.version))
        allowed += (allowed.empty() ? "" : ", ") + v.version;
    return Status::InvalidInput("package " + package.name + " does not allow switching from " + change.from_version +
                                " to " + change.to_version +
                                (allowed.empty() ? " (it allows no switch from " + change.from_version + ")"
                                                 : " (allowed from " + change.from_version + ": " + allowed + ")"));
  }
  return Status::Ok();
}

std::vector<int> RollOrder(const std::vector<int>& members, int leader) {
  std::vector<int> order;
  for (int id : members)
    if (id != leader) order.push_back(id);
  std::sort(order.begin(), order.end());
  if (std::find(members.begin(), members.end(), leader) != members.end()) order.push_back(leader);
  return order;
}

Step CheckHealthyStep(const std::vector<int>& members, std::chrono::milliseconds timeout,
                      const std::vector<int>& about_to_restart) {
  Step s = WaitHealthy(members, timeout, "the ensemble must be healthy before anything changes");
  if (!about_to_restart.empty()) s.args["except"] = about_to_restart;
  return s;
}

std::vector<Step> PlanRoll(const EnsembleView& view, const std::vector<int>& servers, bool prepare,
                           const PlanOptions& options) {
  std::vector<Step> steps;
  for (int id : RollOrder(servers.empty() ? view.members : servers, view.leader)) {
    if (prepare) steps.push_back(Prepare(id, view.members));
    auto gen = view.generations.find(id);
    steps.push_back(Restart(id, (gen == view.generations.end() ? 0 : gen->second) + 1,
                            id == view.leader ? "the leader, last" : "follower", options.timeout));
  }
  return steps;
}

std::vector<Step> PlanScale(const EnsembleView& view, int to_replicas, const PlanOptions& options) {
  std::vector<Step> steps;
  std::vector<int> members = view.members;
  std::sort(members.begin(), members.end());
  int next = members.empty() ? 1 : members.back() + 1;
  while (static_cast<int>(members.size()) < to_replicas) {
    const int id = next++;
    members.push_back(id);
    steps.push_back(Prepare(id, members));
    steps.push_back({"start-node", {{"node", id}}, "start server " + Id(id) + " (it syncs as a non-voting learner)"});
    steps.push_back({"reconfig-add", {{"node", id}}, "add server " + Id(id) + " as a voter (dynamic reconfiguration)"});
    steps.push_back(WaitHealthy(members, options.timeout, Id(static_cast<int>(members.size())) + " voters in sync"));
  }
  while (static_cast<int>(members.size()) > to_replicas) {
    const int id = members.back();
    members.pop_back();
    steps.push_back({"reconfig-remove", {{"node", id}}, "remove server " + Id(id) + " from the voters (dynamic reconfiguration)"});
    steps.push_back({"stop-node", {{"node", id}}, "stop server " + Id(id) + " (after the reconfig committed)"});
    steps.push_back(WaitHealthy(members, options.timeout, Id(static_cast<int>(members.size())) + " voters in sync"));
    steps.push_back(Hooks("scale", "cleanup", members, {{"nodes", json::array({id})}, {"purge", true}}));
    steps.push_back({"forget-node", {{"node", id}}, "forget server " + Id(id)});
  }
  return steps;
}

Result<Plan> PlanChange(const std::string& operation, const std::string& cluster, const Package& package,
                        const ChangeSet& change, const EnsembleView& view, const PlanOptions& options) {
  ZK_RETURN_IF_ERROR(CheckChangeAllowed(package, change));
  Plan plan{operation, cluster, {}};
  if (change.Empty() && view.needs_restart.empty()) return plan;
  if (change.ReplicasChanged() && (change.VersionChanged() || !change.rolling.empty()))
    return Status::InvalidInput("replicas changes by dynamic reconfiguration, other changes by a rolling restart: "
                                "change one at a time (zkpilot scale first, then the rest)");
  if (change.ReplicasChanged()) {
    plan.steps.push_back(CheckHealthyStep(view.members, options.timeout));
    for (auto& s : PlanScale(view, change.to_replicas, options)) plan.steps.push_back(std::move(s));
    return plan;
  }
  plan.steps.push_back(CheckHealthyStep(view.members, options.timeout, view.needs_restart));
  if (change.VersionChanged()) plan.steps.push_back(Hooks("upgrade", "init", view.members));
  if (!view.needs_restart.empty()) {
    for (auto& s : PlanRoll(view, view.needs_restart, true, options)) plan.steps.push_back(std::move(s));
  }
  // Dynamic changes only: nothing in a server's configuration changes, nothing
  // restarts; the new revision records the values.
  if (change.VersionChanged()) plan.steps.push_back(Hooks("upgrade", "cleanup", view.members));
  // Add-ons (dynamic parameters) are applied without touching the servers.
  if (!change.dynamic.empty()) plan.steps.push_back({"apply-addons", json::object(), "apply the add-ons"});
  return plan;
}

}  // namespace zkpilot
