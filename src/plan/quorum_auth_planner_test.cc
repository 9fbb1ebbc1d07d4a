#include "plan/quorum_auth_planner.h"

#include <gtest/gtest.h>

#include <map>

#include "../../tests/test_package.h"
#include "plan/change_planner.h"

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


// PlanChange: the switch's frame (gate, rolls, add-ons), its place after a TLS
// switch, and its refusals.
struct ChangeFixture {
  Package pkg;
  ChangeFixture() {
    auto p = ParsePackage(testing::MinimalPackageFiles());
    EXPECT_TRUE(p.ok()) << p.status().message();
    pkg = *p;
  }
  ChangeSet Switch(int from, int to) {
    ChangeSet c;
    c.changed = c.rolling = {"auth.quorum"};
    c.from_version = c.to_version = "3.8.0";
    c.from_replicas = c.to_replicas = 3;
    c.from_quorum_auth_stage = from;
    c.to_quorum_auth_stage = to;
    return c;
  }
};

// "wait-healthy", "roll-to-stage tls 1 quorum 0", ...
std::vector<std::string> Shape(const Plan& plan) {
  std::vector<std::string> out;
  for (const Step& s : plan.steps) {
    std::string k = s.KindName();
    if (s.args.contains("stage")) k += " tls " + std::to_string(s.args["stage"].get<int>());
    if (s.args.contains("quorum_auth_stage")) k += " quorum " + std::to_string(s.args["quorum_auth_stage"].get<int>());
    if (s.kind == StepKind::kSetClientAddresses) k += s.args["present"].get<bool>() ? " true" : " false";
    if (s.Node() > 0) k += ":" + std::to_string(s.Node());
    out.push_back(k);
  }
  return out;
}

TEST(QuorumAuthPlanner, PlanChangeSwitchesWithAGateAndEndsWithTheAddons) {
  ChangeFixture f;
  EnsembleView view = View({{1, -1}, {2, -1}, {3, -1}});  // started by an older zkpilot: the current values' stage
  auto plan = PlanChange("configure", "demo", f.pkg, f.Switch(0, 3), view, {});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(Shape(*plan), (std::vector<std::string>{"wait-healthy", "roll-to-stage quorum 1", "roll-to-stage quorum 2",
                                                    "roll-to-stage quorum 3", "apply-addons"}));
  auto back = PlanChange("configure", "demo", f.pkg, f.Switch(3, 0), View({{1, 3}, {2, 3}, {3, 3}}), {});
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(Shape(*back), (std::vector<std::string>{"wait-healthy", "roll-to-stage quorum 2", "roll-to-stage quorum 1",
                                                    "roll-to-stage quorum 0", "apply-addons"}));
  // Nothing to switch: no stage rolls (the plain plan).
  auto none = PlanChange("configure", "demo", f.pkg, f.Switch(3, 3), View({{1, 3}, {2, 3}, {3, 3}}), {});
  ASSERT_TRUE(none.ok()) << none.status().message();
  for (const Step& s : none->steps) EXPECT_NE(s.kind, StepKind::kRollToStage) << s.description;
}

TEST(QuorumAuthPlanner, PlanChangeFinishesAnInterruptedSwitchAndRollsWhatTheStageRollsSkip) {
  ChangeFixture f;
  ChangeSet again = f.Switch(3, 3);  // e.g. `configure` of something else after a failed switch
  EnsembleView view = View({{1, 3}, {2, 2}, {3, 2}});
  view.needs_restart = {1, 2, 3};
  auto plan = PlanChange("configure", "demo", f.pkg, again, view, {});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(Shape(*plan), (std::vector<std::string>{"wait-healthy", "roll-to-stage quorum 3", "prepare-node:1",
                                                    "restart-node:1", "apply-addons"}));
}

// TLS and quorum SASL in one change: TLS's rolls first, keeping the quorum
// stage the servers run (rendering it from the new values would put stage 3
// next to stage 0), then quorum SASL's three.
TEST(QuorumAuthPlanner, PlanChangeWithTlsTooRollsTlsFirstAtTheRunningQuorumStage) {
  ChangeFixture f;
  ChangeSet both = f.Switch(0, 3);
  both.changed = both.rolling = {"auth.quorum", "tls.enabled"};
  both.from_tls_stage = TlsStage::kPlaintext;
  both.to_tls_stage = TlsStage::kTls;
  EnsembleView view = View({{1, 0}, {2, 0}, {3, 0}});
  for (int id : view.members) view.tls_stages[id] = 0;
  auto plan = PlanChange("configure", "demo", f.pkg, both, view, {});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(Shape(*plan),
            (std::vector<std::string>{"wait-healthy", "roll-to-stage tls 1 quorum 0", "roll-to-stage tls 2 quorum 0",
                                      "set-client-addresses false", "roll-to-stage tls 3 quorum 0",
                                      "roll-to-stage quorum 1", "roll-to-stage quorum 2", "roll-to-stage quorum 3",
                                      "apply-addons"}));
  // Not from servers at different quorum stages: that switch is finished first.
  view.quorum_auth_stages[2] = 1;
  auto mixed = PlanChange("configure", "demo", f.pkg, both, view, {});
  ASSERT_FALSE(mixed.ok());
  EXPECT_EQ(mixed.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(mixed.status().message().find("finish switching auth.quorum first"), std::string::npos)
      << mixed.status().message();
}

TEST(QuorumAuthPlanner, PlanChangeRefusesTheSwitchWithAVersionOrReplicasAndOnKubernetes) {
  ChangeFixture f;
  const EnsembleView view = View({{1, 0}, {2, 0}, {3, 0}});
  ChangeSet version = f.Switch(0, 3);
  version.to_version = "3.9.3";
  ChangeSet replicas = f.Switch(0, 3);
  replicas.to_replicas = 5;
  for (const auto& [change, why] : std::vector<std::pair<ChangeSet, std::string>>{
           {version, "(auth.quorum) on a running cluster and the version at once is refused"},
           {replicas, "(auth.quorum) on a running cluster and replicas at once is refused"}}) {
    auto plan = PlanChange("configure", "demo", f.pkg, change, view, {});
    ASSERT_FALSE(plan.ok()) << why;
    EXPECT_EQ(plan.status().code(), ErrorCode::kInvalidInput);
    EXPECT_NE(plan.status().message().find(why), std::string::npos) << plan.status().message();
  }
  Status kube = CheckTlsSwitchSupported("kubernetes", f.Switch(0, 3));
  EXPECT_EQ(kube.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(kube.message().find("auth.quorum"), std::string::npos) << kube.message();
  EXPECT_TRUE(CheckTlsSwitchSupported("local", f.Switch(0, 3)).ok());
}

}  // namespace
}  // namespace zkpilot
