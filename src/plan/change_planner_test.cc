#include "plan/change_planner.h"

#include <gtest/gtest.h>

#include <map>

#include "../../tests/test_package.h"

namespace zkpilot {
namespace {

struct Fixture {
  Package pkg;
  Values base;
  Fixture() {
    auto p = ParsePackage(testing::MinimalPackageFiles());
    EXPECT_TRUE(p.ok()) << p.status().message();
    pkg = *p;
    auto v = ResolveValues(pkg.schema, {});
    EXPECT_TRUE(v.ok());
    base = *v;
  }
  Values With(std::vector<std::string> sets) {
    ValuesInput in;
    in.sets = std::move(sets);
    auto v = ResolveValues(pkg.schema, in);
    EXPECT_TRUE(v.ok()) << v.status().message();
    return *v;
  }
};

// The view planners get: members, leader, generations, servers needing a restart.
EnsembleView View(std::vector<int> members, int leader, std::map<int, int64_t> generations = {},
                  std::vector<int> needs_restart = {}) {
  EnsembleView v;
  v.members = std::move(members);
  v.leader = leader;
  v.generations = std::move(generations);
  v.needs_restart = std::move(needs_restart);
  return v;
}

std::vector<std::string> Kinds(const std::vector<Step>& steps) {
  std::vector<std::string> out;
  for (const auto& s : steps) out.push_back(std::string(StepKindName(s.kind)) + (s.args.contains("node") ? ":" + std::to_string(s.args["node"].get<int>()) : ""));
  return out;
}

TEST(RollPlanner, FollowersFirstLeaderLast) {
  EXPECT_EQ(RollOrder({1, 2, 3, 4, 5}, 2), (std::vector<int>{1, 3, 4, 5, 2}));
  EXPECT_EQ(RollOrder({3, 1, 2}, 1), (std::vector<int>{2, 3, 1}));
  EXPECT_EQ(RollOrder({1, 2, 3}, 0), (std::vector<int>{1, 2, 3})) << "no leader known: id order";
}

TEST(RollPlanner, OneServerAtATimeWithTargetGenerations) {
  EnsembleView view = View({1, 2, 3}, 1, {{1, 4}, {2, 0}, {3, 7}}, {});
  auto steps = PlanRoll(view, {}, true, {});
  EXPECT_EQ(Kinds(steps), (std::vector<std::string>{"prepare-node:2", "restart-node:2", "prepare-node:3",
                                                    "restart-node:3", "prepare-node:1", "restart-node:1"}));
  EXPECT_EQ(steps[1].args["generation"], 1);
  EXPECT_EQ(steps[3].args["generation"], 8);
  EXPECT_EQ(steps[5].args["generation"], 5);
  EXPECT_NE(steps[5].description.find("the leader, last; no hand-off: the platform offers no hand-off quorum port"),
            std::string::npos)
      << steps[5].description;
}

TEST(RollPlanner, TheLeaderHandsOverByReconfigAndGetsItsQuorumPortBack) {
  EnsembleView view = View({1, 2, 3}, 2, {{2, 3}}, {});
  view.handoff_ports = {{1, 2889}, {2, 2889}, {3, 2889}};
  auto steps = PlanRoll(view, {}, false, {});
  EXPECT_EQ(Kinds(steps), (std::vector<std::string>{"restart-node:1", "restart-node:3", "hand-off-leader:2",
                                                    "restore-quorum-port:2"}));
  EXPECT_EQ(steps[2].args["generation"], 4);
  EXPECT_NE(steps[2].description.find("hand leadership over by reconfig"), std::string::npos);
}

TEST(RollPlanner, ASingleServerHasNoOneToHandOverTo) {
  EnsembleView view = View({1}, 1);
  view.handoff_ports = {{1, 2889}};
  auto steps = PlanRoll(view, {}, false, {});
  ASSERT_EQ(Kinds(steps), (std::vector<std::string>{"restart-node:1"}));
  EXPECT_NE(steps[0].description.find("no hand-off: a single server has no one to hand over to"), std::string::npos);
}

TEST(RollPlanner, OnlyTheServersThatNeedIt) {
  EnsembleView view = View({1, 2, 3}, 3, {}, {});
  EXPECT_EQ(Kinds(PlanRoll(view, {3, 1}, false, {})), (std::vector<std::string>{"restart-node:1", "restart-node:3"}));
}

TEST(ScalePlanner, AddsVotersOneAtATimeWithoutTouchingMembers) {
  EnsembleView view = View({1, 2, 3}, 2, {}, {});
  auto steps = PlanScale(view, 5, {});
  EXPECT_EQ(Kinds(steps), (std::vector<std::string>{"prepare-node:4", "start-node:4", "reconfig-add:4", "wait-healthy",
                                                    "prepare-node:5", "start-node:5", "reconfig-add:5", "wait-healthy"}));
  EXPECT_EQ(steps[0].args["members"], (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(steps[7].args["members"], (std::vector<int>{1, 2, 3, 4, 5}));
  for (const auto& s : steps) EXPECT_NE(s.kind, StepKind::kRestartNode);
}

TEST(ScalePlanner, RemovesHighestFirstAndStopsOnlyAfterReconfig) {
  EnsembleView view = View({1, 2, 3, 4, 5}, 5, {}, {});
  auto steps = PlanScale(view, 3, {});
  EXPECT_EQ(Kinds(steps), (std::vector<std::string>{"reconfig-remove:5", "stop-node:5", "wait-healthy", "run-hooks",
                                                    "forget-node:5", "reconfig-remove:4", "stop-node:4", "wait-healthy",
                                                    "run-hooks", "forget-node:4"}));
  EXPECT_EQ(steps[3].args["nodes"], (std::vector<int>{5}));
  EXPECT_EQ(steps[3].args["event"], "scale");
  EXPECT_EQ(steps[2].args["members"], (std::vector<int>{1, 2, 3, 4}));
}

TEST(ChangePlanner, NothingChangedNothingPlanned) {
  Fixture f;
  auto plan = PlanChange("configure", "demo", f.pkg, DiffValues(f.pkg, f.base, f.base), View({1, 2, 3}, 1, {}, {}), {});
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->steps.empty());
}

TEST(ChangePlanner, DynamicChangeRestartsNothing) {
  Fixture f;
  auto change = DiffValues(f.pkg, f.base, f.With({"extra.enabled=true"}));
  ASSERT_EQ(change.dynamic, (std::vector<std::string>{"extra.enabled"}));
  auto plan = PlanChange("configure", "demo", f.pkg, change, View({1, 2, 3}, 1, {}, {}), {});
  ASSERT_TRUE(plan.ok());
  for (const auto& s : plan->steps) EXPECT_NE(s.kind, StepKind::kRestartNode);
}

TEST(ChangePlanner, VersionSwitchRunsUpgradeHooksAroundTheRoll) {
  Fixture f;
  auto change = DiffValues(f.pkg, f.base, f.With({"version=3.9.3"}));
  auto plan = PlanChange("upgrade", "demo", f.pkg, change, View({1, 2, 3}, 2, {}, {1, 2, 3}), {});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(Kinds(plan->steps), (std::vector<std::string>{"wait-healthy", "run-hooks", "prepare-node:1", "restart-node:1",
                                                          "prepare-node:3", "restart-node:3", "prepare-node:2",
                                                          "restart-node:2", "run-hooks"}));
  EXPECT_EQ(plan->steps[1].args["phase"], "init");
  EXPECT_EQ(plan->steps.back().args["phase"], "cleanup");
}

TEST(ChangePlanner, RefusesImmutableChangesAndUnlistedSwitches) {
  Fixture f;
  auto immutable = PlanChange("configure", "demo", f.pkg, DiffValues(f.pkg, f.base, f.With({"controller=deployment"})),
                              View({1, 2, 3}, 1, {}, {}), {});
  ASSERT_FALSE(immutable.ok());
  EXPECT_EQ(immutable.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(immutable.status().message().find("controller is immutable"), std::string::npos);

  Values on_393 = f.With({"version=3.9.3"});
  auto back = PlanChange("rollback", "demo", f.pkg, DiffValues(f.pkg, on_393, f.base), View({1, 2, 3}, 1, {}, {1, 2, 3}), {});
  ASSERT_FALSE(back.ok()) << "the mini package has no path from 3.9 to 3.8";
  EXPECT_NE(back.status().message().find("does not allow switching from 3.9.3 to 3.8.0"), std::string::npos)
      << back.status().message();
}

TEST(ChangePlanner, ScalingAndRollingInOneGoIsRefused) {
  Fixture f;
  auto change = DiffValues(f.pkg, f.base, f.With({"replicas=5", "tickTime=3000"}));
  auto plan = PlanChange("configure", "demo", f.pkg, change, View({1, 2, 3}, 1, {}, {1, 2, 3}), {});
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("change one at a time"), std::string::npos);
}

TEST(ChangePlanner, RepairWithoutValueChangeRollsOnlyTheBrokenServer) {
  Fixture f;
  auto plan = PlanChange("rollback", "demo", f.pkg, DiffValues(f.pkg, f.base, f.base), View({1, 2, 3}, 3, {}, {1}), {});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(Kinds(plan->steps), (std::vector<std::string>{"wait-healthy", "prepare-node:1", "restart-node:1"}));
  EXPECT_EQ(plan->steps[0].args["except"], (std::vector<int>{1}));
}

}  // namespace
}  // namespace zkpilot
