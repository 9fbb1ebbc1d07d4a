// Switching quorum SASL (auth.quorum) on a running ensemble, and back: the
// rolls between quorum-auth stages (ServerRender::quorum_auth_stage).
//
// Stages, as zoo.cfg sets ZooKeeper's quorum.auth.* flags:
//   0  none (auth.quorum=false);
//   1  enableSasl: can authenticate, does not yet, accepts peers that do not;
//   2  + learnerRequireSasl: authenticates itself to every peer it dials;
//   3  + serverRequireSasl: refuses peers that do not (auth.quorum=true).
// Why only neighbouring stages may run side by side (both 3.8.0 and 3.9.3;
// QuorumPeer.initialize picks the Sasl* classes iff enableSasl, else the
// Null* ones that neither send nor read anything):
//  - a peer dialling (QuorumCnxManager.startConnection, Learner.
//    connectToLeader) sends an auth packet iff learnerRequireSasl
//    (SaslQuorumAuthLearner.authenticate: "Skipping SASL authentication"
//    otherwise), i.e. at stage >= 2;
//  - the answering peer (QuorumCnxManager.handleConnection, LearnerHandler)
//    at stage 0 reads no auth packet, so one sent to it is garbage in the
//    protocol; at stage >= 1 it authenticates a peer that sends one and, for
//    one that does not, refuses iff serverRequireSasl
//    (SaslQuorumAuthServer.authenticate), i.e. at stage 3.
// So a dialler at stage 2 or 3 fails against a stage-0 peer, and one at stage
// 0 or 1 is refused by a stage-3 peer: stages 0-1, 1-2 and 2-3 work together,
// 0-2 and 1-3 do not, and each roll moves every server one stage.
#pragma once

#include <chrono>
#include <vector>

#include "plan/plan.h"
#include "platform/ensemble_view.h"
#include "render/renderer.h"
#include "util/status.h"

namespace zkpilot {

inline constexpr int kQuorumAuthStages = 3;  // stages are 0..3

struct QuorumAuthPlanOptions {
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};  // per wait, in each roll
  // The stage a member whose stage is unknown (-1 in
  // EnsembleView::quorum_auth_stages, or absent: a server started before
  // zkpilot observed stages) is taken to run: the current revision's
  // (TargetQuorumAuthStage of its values). -1: such a member is an error.
  int unknown_as = -1;
};

// `roll-to-stage {quorum_auth_stage: k}` steps that take every member from
// its observed stage to `target` (0..3), one stage per roll, each saying
// "Clients: nothing to do" (only servers authenticate each other). From
// a mixed ensemble (an interrupted switch) the first roll brings the
// stragglers to their neighbours' stage; the step runner skips servers
// already at a roll's stage. Empty when every member is at `target`.
// InvalidInput for a target outside 0..3 or an unknown stage without
// `unknown_as`.
Result<std::vector<Step>> PlanQuorumAuthStages(const EnsembleView& view, int target,
                                               const QuorumAuthPlanOptions& options = {});

// Whether any member runs another stage than `target` (unknown: `unknown_as`).
bool QuorumAuthStagesDiffer(const EnsembleView& view, int target, int unknown_as);

}  // namespace zkpilot
