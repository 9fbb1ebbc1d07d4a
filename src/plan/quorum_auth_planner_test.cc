#include "plan/quorum_auth_planner.h"

#include <gtest/gtest.h>

#include <map>

namespace zkpilot {
namespace {

EnsembleView View(std::map<int, int> stages) {
  EnsembleView v;
  for (const auto& [id, stage] : stages) {
    v.members.push_back(id);
    v.quorum_auth_stages[id] = stage;
  }
  v.leader = v.members.empty() ? 0 : v.members.front();
  return v;
}

// The stage of each roll-to-stage step, in order; every step is one, about
// the quorum stage only (the TLS fields are left to the values), with the
// clients' sentence.
std::vector<int> Rolls(const Result<std::vector<Step>>& steps) {
  EXPECT_TRUE(steps.ok()) << steps.status().message();
  std::vector<int> out;
  if (!steps.ok()) return out;
  for (const Step& s : *steps) {
    EXPECT_EQ(s.KindName(), "roll-to-stage") << s.ToJson().dump();
    EXPECT_FALSE(s.args.contains("stage")) << s.ToJson().dump();
    EXPECT_FALSE(s.args.contains("client_addresses")) << s.ToJson().dump();
    EXPECT_NE(s.ToJson().dump().find("Clients: nothing to do"), std::string::npos) << s.ToJson().dump();
    EXPECT_EQ(s.args.value("timeout_ms", 0), 90000) << s.ToJson().dump();
    out.push_back(s.args.value("quorum_auth_stage", -1));
  }
  return out;
}

QuorumAuthPlanOptions Options(int unknown_as = -1) {
  QuorumAuthPlanOptions o;
  o.timeout = std::chrono::seconds(90);
  o.unknown_as = unknown_as;
  return o;
}

TEST(QuorumAuthPlanner, OnTakesThreeRollsAndOffTheSameBack) {
  EXPECT_EQ(Rolls(PlanQuorumAuthStages(View({{1, 0}, {2, 0}, {3, 0}}), 3, Options())), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(Rolls(PlanQuorumAuthStages(View({{1, 3}, {2, 3}, {3, 3}}), 0, Options())), (std::vector<int>{2, 1, 0}));
}

TEST(QuorumAuthPlanner, NothingWhenEveryServerIsAtTheTarget) {
  EXPECT_TRUE(Rolls(PlanQuorumAuthStages(View({{1, 3}, {2, 3}, {3, 3}}), 3, Options())).empty());
  EXPECT_TRUE(Rolls(PlanQuorumAuthStages(View({{1, 0}, {2, 0}}), 0, Options())).empty());
  EXPECT_FALSE(QuorumAuthStagesDiffer(View({{1, 0}, {2, 0}}), 0, -1));
  EXPECT_TRUE(QuorumAuthStagesDiffer(View({{1, 0}, {2, 1}}), 0, -1));
}

// An interrupted switch is finished from what the servers run: the
// stragglers first catch up with their neighbours, no stage is skipped.
TEST(QuorumAuthPlanner, FromAMixedEnsembleNoStageIsSkipped) {
  // Forward, stopped inside the second roll: 2 more rolls (2 for server 3, then 3).
  EXPECT_EQ(Rolls(PlanQuorumAuthStages(View({{1, 2}, {2, 2}, {3, 1}}), 3, Options())), (std::vector<int>{2, 3}));
  // The same ensemble taken back instead.
  EXPECT_EQ(Rolls(PlanQuorumAuthStages(View({{1, 2}, {2, 2}, {3, 1}}), 0, Options())), (std::vector<int>{1, 0}));
  // Backward, stopped inside the first roll.
  EXPECT_EQ(Rolls(PlanQuorumAuthStages(View({{1, 3}, {2, 2}, {3, 3}}), 0, Options())), (std::vector<int>{2, 1, 0}));
  EXPECT_EQ(Rolls(PlanQuorumAuthStages(View({{1, 3}, {2, 2}, {3, 3}}), 3, Options())), (std::vector<int>{3}));
  // A resting partial stage (1 or 2) is a target too.
  EXPECT_EQ(Rolls(PlanQuorumAuthStages(View({{1, 0}, {2, 0}}), 2, Options())), (std::vector<int>{1, 2}));
}

TEST(QuorumAuthPlanner, AnUnknownStageIsTheCurrentRevisionsOrAnError) {
  // Servers started before stages were observed run the current values' stage.
  EXPECT_EQ(Rolls(PlanQuorumAuthStages(View({{1, -1}, {2, -1}, {3, 0}}), 3, Options(0))),
            (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(Rolls(PlanQuorumAuthStages(View({{1, -1}, {2, 3}}), 3, Options(3))).empty());
  EnsembleView absent = View({{1, 0}});
  absent.members.push_back(2);  // no entry at all for server 2
  EXPECT_EQ(Rolls(PlanQuorumAuthStages(absent, 3, Options(0))), (std::vector<int>{1, 2, 3}));
  auto unknown = PlanQuorumAuthStages(View({{1, 0}, {2, -1}}), 3, Options());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(unknown.status().message().find("server 2"), std::string::npos) << unknown.status().message();
}

TEST(QuorumAuthPlanner, ATargetOutsideTheStagesIsRefused) {
  for (int target : {-1, 4}) {
    auto r = PlanQuorumAuthStages(View({{1, 0}}), target, Options());
    ASSERT_FALSE(r.ok()) << target;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
  }
}

}  // namespace
}  // namespace zkpilot
