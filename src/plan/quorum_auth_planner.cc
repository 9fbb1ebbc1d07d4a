#include "plan/quorum_auth_planner.h"

#include <algorithm>
#include <string>

#include "plan/steps.h"
#include "render/renderer.h"

namespace zkpilot {
namespace {

// What each roll means for clients (nothing: quorum authentication is between
// servers), and where the ensemble is after it; the step builder puts
// "Clients: " before it.
std::string ClientsNote(int stage) {
  switch (stage) {
    case 0: return "nothing to do (servers stop authenticating each other)";
    case 1: return "nothing to do (servers can authenticate each other, none needs to yet)";
    case 2: return "nothing to do (every server authenticates itself to its peers)";
    default: return "nothing to do (servers refuse peers that do not authenticate)";
  }
}

}  // namespace

namespace {

// Each member's stage, unknown ones as `unknown_as`; -1 stays for no answer.
std::vector<int> MemberStages(const EnsembleView& view, int unknown_as) {
  std::vector<int> out;
  for (int id : view.members) {
    auto it = view.quorum_auth_stages.find(id);
    int stage = it == view.quorum_auth_stages.end() ? -1 : it->second;
    if (stage < 0 || stage > kQuorumAuthStages) stage = unknown_as;
    out.push_back(stage);
  }
  return out;
}

}  // namespace

bool QuorumAuthStagesDiffer(const EnsembleView& view, int target, int unknown_as) {
  for (int stage : MemberStages(view, unknown_as))
    if (stage != target) return true;
  return false;
}

Result<std::vector<Step>> PlanQuorumAuthStages(const EnsembleView& view, int target,
                                               const QuorumAuthPlanOptions& options) {
  if (target < 0 || target > kQuorumAuthStages)
    return Status::InvalidInput("quorum authentication stage " + std::to_string(target) + " is not one of 0.." +
                                std::to_string(kQuorumAuthStages));
  const std::vector<int> stages = MemberStages(view, options.unknown_as);
  for (size_t i = 0; i < stages.size(); ++i)
    if (stages[i] < 0)
      return Status::InvalidInput("server " + std::to_string(view.members[i]) +
                                  ": which quorum authentication stage it runs is not known");
  std::vector<Step> steps;
  if (stages.empty()) return steps;
  const int lo = *std::min_element(stages.begin(), stages.end());
  const int hi = *std::max_element(stages.begin(), stages.end());
  if (lo == target && hi == target) return steps;
  // Each roll takes every server to one stage; servers already there are
  // skipped. Servers more than one stage apart cannot talk (see the header),
  // so from a mixed ensemble the first roll is to the stage next to the
  // stragglers, and no stage is skipped.
  std::vector<int> rolls;
  if (target >= hi) {
    for (int k = lo + 1; k <= target; ++k) rolls.push_back(k);
  } else if (target <= lo) {
    for (int k = hi - 1; k >= target; --k) rolls.push_back(k);
  } else {
    rolls.push_back(target);  // stages more than one apart: already split; the one roll that ends it
  }
  for (int k : rolls) {
    ServerRender render;
    render.quorum_auth_stage = k;
    steps.push_back(RollToStageStep(render, options.timeout, ClientsNote(k)));
  }
  return steps;
}

}  // namespace zkpilot
