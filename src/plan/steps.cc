#include "plan/steps.h"

namespace zkpilot {
namespace {

using nlohmann::json;

std::string Id(int id) { return std::to_string(id); }

Step Make(StepKind kind, json args, std::string description) {
  Step s;
  s.kind = kind;
  s.args = std::move(args);
  s.description = std::move(description);
  return s;
}

}  // namespace

Step PrepareNodeStep(int id, const std::vector<int>& members, const std::string& where) {
  Step s = Make(StepKind::kPrepareNode, {{"node", id}},
         "prepare server " + Id(id) + (where.empty() ? "'s configuration" : " (" + where + ")"));
  if (!members.empty()) s.args["members"] = members;
  return s;
}

Step StartNodeStep(int id, bool learner) {
  return Make(StepKind::kStartNode, {{"node", id}},
          "start server " + Id(id) + (learner ? " (it syncs as a non-voting learner)" : ""));
}

Step WaitHealthyStep(std::chrono::milliseconds timeout, const std::string& why, const std::vector<int>& members,
                     const std::vector<int>& except) {
  Step s = Make(StepKind::kWaitHealthy, {{"timeout_ms", timeout.count()}}, "wait until healthy: " + why);
  if (!members.empty()) s.args["members"] = members;
  if (!except.empty()) s.args["except"] = except;
  return s;
}

Step RunHooksStep(HookEvent event, HookPhase phase, const std::vector<int>& members, const std::vector<int>& nodes,
                  bool purge) {
  Step s = Make(StepKind::kRunHooks,
         {{"event", HookEventName(event)}, {"phase", HookPhaseName(phase)}},
         std::string("run the ") + HookEventName(event) + " " + HookPhaseName(phase) + " hooks");
  if (!members.empty()) s.args["members"] = members;
  if (!nodes.empty()) s.args["nodes"] = nodes;
  if (purge) s.args["purge"] = true;
  return s;
}

Step StopNodesStep(std::chrono::milliseconds timeout) {
  return Make(StepKind::kStopNodes, {{"timeout_ms", timeout.count()}}, "stop every server");
}

Step RestartNodeStep(int id, int64_t generation, const std::string& role, std::chrono::milliseconds timeout) {
  return Make(StepKind::kRestartNode,
          {{"node", id}, {"generation", generation}, {"timeout_ms", timeout.count()}},
          "restart server " + Id(id) + (role.empty() ? "" : " (" + role + ")") + " and wait until it is back in sync");
}

Step HandOffLeaderStep(int id, int64_t generation, std::chrono::milliseconds timeout) {
  return Make(StepKind::kHandOffLeader, {{"node", id}, {"generation", generation}, {"timeout_ms", timeout.count()}},
              "restart server " + Id(id) +
                  " (the leader, last): hand leadership over by reconfig, then restart it and wait until it is "
                  "back in sync");
}

Step RestoreQuorumPortStep(int id, std::chrono::milliseconds timeout) {
  return Make(StepKind::kRestoreQuorumPort, {{"node", id}, {"timeout_ms", timeout.count()}},
              "move server " + Id(id) + "'s quorum port back (dynamic reconfiguration; no restart)");
}

Step ReconfigAddStep(int id) {
  return Make(StepKind::kReconfigAdd, {{"node", id}}, "add server " + Id(id) + " as a voter (dynamic reconfiguration)");
}

Step ReconfigRemoveStep(int id) {
  return Make(StepKind::kReconfigRemove, {{"node", id}},
          "remove server " + Id(id) + " from the voters (dynamic reconfiguration)");
}

Step StopNodeStep(int id, std::chrono::milliseconds timeout, const std::string& why) {
  return Make(StepKind::kStopNode, {{"node", id}, {"timeout_ms", timeout.count()}},
          "stop server " + Id(id) + (why.empty() ? "" : " (" + why + ")"));
}

Step ApplyAddonsStep(const std::vector<std::string>& addons) {
  std::string list;
  for (const auto& a : addons) list += (list.empty() ? "" : ", ") + a;
  return Make(StepKind::kApplyAddons, json::object(), "apply the add-ons" + (list.empty() ? "" : " (" + list + ")"));
}

Step ForgetNodeStep(int id) { return Make(StepKind::kForgetNode, {{"node", id}}, "forget server " + Id(id)); }

Step TearDownStep(bool purge_data, std::chrono::milliseconds timeout) {
  return Make(StepKind::kTearDown,
          {{"purge", purge_data}, {"timeout_ms", timeout.count()}},
          purge_data ? "remove the cluster from the platform, with its data"
                     : "remove the cluster from the platform, keeping its data");
}

}  // namespace zkpilot
