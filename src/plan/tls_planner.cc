#include "plan/tls_planner.h"

#include <algorithm>

#include "plan/steps.h"

namespace zkpilot {
namespace {

ServerRender At(int stage, bool client_addresses) {
  ServerRender r;
  r.tls_stage = static_cast<TlsStage>(stage);
  r.client_addresses = client_addresses;
  return r;
}

}  // namespace

Result<Plan> PlanTlsStages(const EnsembleView& view, TlsStage target, const PlanOptions& options) {
  const int to = static_cast<int>(target);
  if (to < 0 || to > 3) return Status::Internal("PlanTlsStages: no target stage");
  int lo = 4, hi = -1;
  for (int id : view.members) {
    auto it = view.tls_stages.find(id);
    const int stage = it == view.tls_stages.end() ? -1 : it->second;
    if (stage < 0) continue;
    lo = std::min(lo, stage);
    hi = std::max(hi, stage);
  }
  // Nothing known (no member observed): take the servers for being where the
  // other end of the switch is, so that every stage on the way is rolled.
  if (hi < 0) lo = hi = to >= 2 ? 0 : 3;
  if (hi - lo > 1)
    return Status::InvalidInput("the servers run TLS stages " + std::to_string(lo) + " and " + std::to_string(hi) +
                                " at once, which cannot form a quorum together; restart the servers at stage " +
                                std::to_string(lo) + " or " + std::to_string(hi) + " first");
  Plan plan;
  const std::string cluster = options.cluster.empty() ? "NAME" : options.cluster;
  if (lo == to && hi == to) return plan;
  if (to >= hi) {
    // Forward. A mixed view rolls on to the stage its front runs. The lines
    // keep their client addresses up to 2 (a view whose front is at 3 has
    // dropped them already: only the roll to 3 is left).
    for (int k = lo < hi ? hi : lo + 1; k <= to; ++k) {
      if (k == 1) {
        plan.steps.push_back(RollToStageStep(At(1, true), options.timeout,
                                             "nothing to do (every port still takes plaintext)"));
      } else if (k == 2) {
        plan.steps.push_back(RollToStageStep(
            At(2, true), options.timeout,
            "every server now also serves TLS on the same client port; move clients to TLS (CA: the cluster's "
            "pki/ca.crt, `zkpilot connect " + cluster + "` prints its path; a client certificate: `zkpilot certs " +
                cluster + " --client CLIENT -o DIR`)"));
      } else if (k == 3) {
        plan.steps.push_back(SetClientAddressesStep(
            false, "nothing changes yet (each server keeps its plaintext port until its restart below)"));
        plan.steps.push_back(RollToStageStep(At(3, false), options.timeout,
                                             "must use TLS before this step: each server stops taking plaintext "
                                             "at its restart"));
      }
    }
    return plan;
  }
  // Back (to <= lo). The server lines have had no client address since the
  // forward switch's reconfig; they get them back at stage 1 (or 2, resting
  // there), where clientPort in zoo.cfg keeps the plaintext factory bound to
  // that very address, so the reconfig is a no-op for the factories. It is
  // stated even when the view suggests the addresses are there: a forward
  // switch that failed after its reconfig leaves every server at 2 without
  // them, and a server at 0 without one would start portless.
  const bool addresses = hi < 3;
  for (int k = lo < hi ? lo : hi - 1; k >= std::max(to, 1); --k) {
    if (k == 2)
      plan.steps.push_back(RollToStageStep(At(2, addresses), options.timeout,
                                           "each server takes plaintext again on its client port after its restart "
                                           "(TLS too)"));
    if (k == 1) plan.steps.push_back(RollToStageStep(At(1, addresses), options.timeout, ""));
  }
  plan.steps.push_back(SetClientAddressesStep(true));
  if (to == 0)
    plan.steps.push_back(RollToStageStep(At(0, true), options.timeout,
                                         "must use plaintext before this step: each server stops taking TLS at its "
                                         "restart"));
  return plan;
}

}  // namespace zkpilot
