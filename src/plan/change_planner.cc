#include "plan/change_planner.h"

#include <algorithm>

#include "plan/steps.h"
#include "plan/tls_planner.h"

namespace zkpilot {

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
  c.from_tls_stage = TargetTlsStage(from);
  c.to_tls_stage = TargetTlsStage(to);
  auto enforced = [](const Values& v) { return v.Has("auth.enforce") && v.Get("auth.enforce") == true; };
  c.enforce_turns_on = !enforced(from) && enforced(to);
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

Status CheckTlsSwitchSupported(const std::string& platform, const ChangeSet& change) {
  // Kubernetes would need a ConfigMap key per stage; its servers' stages are
  // not observed.
  if (platform != "kubernetes" || !change.TlsStageChanged()) return Status::Ok();
  return Status::InvalidInput("switching TLS on a running cluster (tls.enabled, tls.allowPlaintext) is not yet "
                              "possible on the " + platform + " platform (the local platform has it); deploy a new "
                              "cluster with the TLS setting it should have");
}

std::vector<std::string> EnabledAddons(const Package& package, const Values& values) {
  std::vector<std::string> on;
  for (const auto& addon : package.addons)
    if (values.Has(addon.enabled_by) && values.Get(addon.enabled_by) == true) on.push_back(addon.name);
  return on;
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
  return WaitHealthyStep(timeout, "the ensemble must be healthy before anything changes", members, about_to_restart);
}

std::string HandOffUnavailable(const EnsembleView& view, int leader) {
  if (view.members.size() < 2) return "a single server has no one to hand over to";
  auto port = view.handoff_ports.find(leader);
  if (port == view.handoff_ports.end() || port->second <= 0) return "the platform offers no hand-off quorum port";
  return "";
}

std::vector<Step> PlanRoll(const EnsembleView& view, const std::vector<int>& servers, bool prepare,
                           const PlanOptions& options) {
  std::vector<Step> steps;
  for (int id : RollOrder(servers.empty() ? view.members : servers, view.leader)) {
    if (prepare) steps.push_back(PrepareNodeStep(id, view.members));
    auto gen = view.generations.find(id);
    const int64_t generation = (gen == view.generations.end() ? 0 : gen->second) + 1;
    if (id != view.leader) {
      steps.push_back(RestartNodeStep(id, generation, "follower", options.timeout));
      continue;
    }
    const std::string no_handoff = HandOffUnavailable(view, id);
    if (no_handoff.empty()) {
      steps.push_back(HandOffLeaderStep(id, generation, options.timeout));
      steps.push_back(RestoreQuorumPortStep(id, options.timeout));
    } else {
      steps.push_back(RestartNodeStep(id, generation, "the leader, last; no hand-off: " + no_handoff, options.timeout));
    }
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
    steps.push_back(PrepareNodeStep(id, members));
    steps.push_back(StartNodeStep(id, /*learner=*/true));
    steps.push_back(ReconfigAddStep(id));
    steps.push_back(WaitHealthyStep(options.timeout, std::to_string(members.size()) + " voters in sync", members));
  }
  while (static_cast<int>(members.size()) > to_replicas) {
    const int id = members.back();
    members.pop_back();
    steps.push_back(ReconfigRemoveStep(id));
    steps.push_back(StopNodeStep(id, options.timeout, "after the reconfig committed"));
    steps.push_back(WaitHealthyStep(options.timeout, std::to_string(members.size()) + " voters in sync", members));
    steps.push_back(RunHooksStep(HookEvent::kScale, HookPhase::kCleanup, members, {id}, /*purge=*/true));
    steps.push_back(ForgetNodeStep(id));
  }
  return steps;
}

namespace {

// The view with each unknown (-1) or missing stage read as `current`'s: a
// server nobody classified (started by an older zkpilot) runs the current
// revision's configuration.
EnsembleView WithStagesResolved(EnsembleView view, TlsStage current) {
  for (int id : view.members) {
    auto it = view.tls_stages.find(id);
    if (it == view.tls_stages.end() || it->second < 0) view.tls_stages[id] = static_cast<int>(current);
  }
  return view;
}

bool AnyStageDiffers(const EnsembleView& view, TlsStage target) {
  for (int id : view.members)
    if (view.tls_stages.at(id) != static_cast<int>(target)) return true;
  return false;
}

// Switching TLS: the stages' rolls (other rolling changes ride in them), then
// the servers the rolls skip (already at the target stage) that still run
// another configuration, then the add-ons.
Result<Plan> PlanTlsSwitch(const std::string& operation, const std::string& cluster, const ChangeSet& change,
                           const EnsembleView& view, PlanOptions options) {
  const std::string what = "switching TLS (tls.enabled, tls.allowPlaintext) on a running cluster";
  if (change.VersionChanged())
    return Status::InvalidInput(what + " and the version at once is refused: change one at a time (TLS first, "
                                "then zkpilot upgrade)");
  if (change.ReplicasChanged())
    return Status::InvalidInput(what + " and replicas at once is refused: change one at a time (zkpilot scale "
                                "first, then TLS)");
  if (change.enforce_turns_on)
    return Status::InvalidInput(what + " and turning auth.enforce on at once is refused: TLS first, then enforce "
                                "(clients must be able to authenticate over the new transport before it is required)");
  options.cluster = cluster;
  Plan plan{operation, cluster, {}};
  plan.steps.push_back(CheckHealthyStep(view.members, options.timeout, view.needs_restart));
  ZK_ASSIGN_OR_RETURN(Plan stages, PlanTlsStages(view, change.to_tls_stage, options));
  for (auto& s : stages.steps) plan.steps.push_back(std::move(s));
  // Hook point for switching quorum SASL in the same change: its
  // roll-to-stage steps come after TLS's (plan/quorum_auth_planner.h).
  std::vector<int> skipped;
  for (int id : view.needs_restart)
    if (view.tls_stages.count(id) && view.tls_stages.at(id) == static_cast<int>(change.to_tls_stage))
      skipped.push_back(id);
  if (!skipped.empty())
    for (auto& s : PlanRoll(view, skipped, true, options)) plan.steps.push_back(std::move(s));
  plan.steps.push_back(ApplyAddonsStep());
  return plan;
}

}  // namespace

Result<Plan> PlanChange(const std::string& operation, const std::string& cluster, const Package& package,
                        const ChangeSet& change, const EnsembleView& observed, const PlanOptions& options) {
  ZK_RETURN_IF_ERROR(CheckChangeAllowed(package, change));
  const EnsembleView view = WithStagesResolved(observed, change.from_tls_stage);
  if (change.TlsStageChanged() || AnyStageDiffers(view, change.to_tls_stage))
    return PlanTlsSwitch(operation, cluster, change, view, options);
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
  if (change.VersionChanged()) plan.steps.push_back(RunHooksStep(HookEvent::kUpgrade, HookPhase::kInit, view.members));
  if (!view.needs_restart.empty()) {
    for (auto& s : PlanRoll(view, view.needs_restart, true, options)) plan.steps.push_back(std::move(s));
  }
  // Dynamic changes only: nothing in a server's configuration changes, nothing
  // restarts; the new revision records the values.
  if (change.VersionChanged()) plan.steps.push_back(RunHooksStep(HookEvent::kUpgrade, HookPhase::kCleanup, view.members));
  // Add-ons (dynamic parameters) are applied without touching the servers.
  if (!change.dynamic.empty()) plan.steps.push_back(ApplyAddonsStep());
  return plan;
}

}  // namespace zkpilot
