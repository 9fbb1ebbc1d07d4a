#include "plan/plan.h"

#include <utility>

namespace zkpilot {
namespace {

constexpr std::pair<StepKind, const char*> kKindNames[] = {
    {StepKind::kPrepareNode, "prepare-node"}, {StepKind::kStartNode, "start-node"},
    {StepKind::kWaitHealthy, "wait-healthy"}, {StepKind::kRunHooks, "run-hooks"},
    {StepKind::kStopNodes, "stop-nodes"},     {StepKind::kRestartNode, "restart-node"},
    {StepKind::kReconfigAdd, "reconfig-add"}, {StepKind::kReconfigRemove, "reconfig-remove"},
    {StepKind::kStopNode, "stop-node"},       {StepKind::kApplyAddons, "apply-addons"},
    {StepKind::kForgetNode, "forget-node"},   {StepKind::kTearDown, "tear-down"},
    {StepKind::kHandOffLeader, "hand-off-leader"}, {StepKind::kRestoreQuorumPort, "restore-quorum-port"},
    {StepKind::kRollToStage, "roll-to-stage"}, {StepKind::kSetClientAddresses, "set-client-addresses"},
};

}  // namespace

const char* StepKindName(StepKind kind) {
  for (const auto& [k, name] : kKindNames)
    if (k == kind) return name;
  return "invalid";
}

StepKind ParseStepKind(std::string_view name) {
  for (const auto& [k, n] : kKindNames)
    if (name == n) return k;
  return StepKind::kInvalid;
}

std::string Step::KindName() const {
  return kind == StepKind::kInvalid && !unknown_kind.empty() ? unknown_kind : StepKindName(kind);
}

nlohmann::json Step::ToJson() const { return {{"kind", KindName()}, {"args", args}, {"description", description}}; }

Step Step::FromJson(const nlohmann::json& j) {
  Step s;
  if (!j.is_object()) return s;
  const nlohmann::json kind = j.value("kind", nlohmann::json());
  const std::string name = kind.is_string() ? kind.get<std::string>() : kind.dump();
  s.kind = ParseStepKind(name);
  if (s.kind == StepKind::kInvalid) s.unknown_kind = name;
  s.args = j.value("args", nlohmann::json::object());
  if (!s.args.is_object()) s.args = nlohmann::json::object();
  const nlohmann::json description = j.value("description", nlohmann::json());
  if (description.is_string()) s.description = description.get<std::string>();
  return s;
}

int Step::Node() const {
  auto it = args.find("node");
  return it != args.end() && it->is_number_integer() ? it->get<int>() : 0;
}

std::string Plan::ToText() const {
  std::string out = "Plan: " + operation + " " + cluster + " (" + std::to_string(steps.size()) + " steps)\n";
  for (size_t i = 0; i < steps.size(); ++i)
    out += "  " + std::to_string(i + 1) + ". " + steps[i].description + "\n";
  return out;
}

}  // namespace zkpilot
