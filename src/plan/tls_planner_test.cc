#include "plan/tls_planner.h"

#include <gtest/gtest.h>

#include <map>

#include "../../tests/test_package.h"
#include "plan/steps.h"

namespace zkpilot {
namespace {

EnsembleView View(std::map<int, int> stages, int leader = 2) {
  EnsembleView v;
  for (const auto& [id, stage] : stages) {
    v.members.push_back(id);
    v.tls_stages[id] = stage;
    v.generations[id] = 1;
    v.handoff_ports[id] = 2000 + id;
  }
  v.leader = leader;
  return v;
}

// "roll-to-stage 2 (addresses)", "set-client-addresses false", ...
std::vector<std::string> Shape(const std::vector<Step>& steps) {
  std::vector<std::string> out;
  for (const auto& s : steps) {
    std::string k = s.KindName();
    if (s.kind == StepKind::kRollToStage) {
      k += " " + std::to_string(s.args.at("stage").get<int>());
      if (s.args.contains("client_addresses")) k += s.args["client_addresses"].get<bool>() ? " +addr" : " -addr";
    } else if (s.kind == StepKind::kSetClientAddresses) {
      k += s.args.at("present").get<bool>() ? " true" : " false";
    } else if (s.kind == StepKind::kRestartNode || s.kind == StepKind::kHandOffLeader ||
               s.kind == StepKind::kPrepareNode) {
      k += ":" + std::to_string(s.Node());
    }
    out.push_back(k);
  }
  return out;
}

using Shapes = std::vector<std::string>;

Shapes Planned(const EnsembleView& view, TlsStage target) {
  PlanOptions options;
  options.cluster = "demo";
  auto plan = PlanTlsStages(view, target, options);
  EXPECT_TRUE(plan.ok()) << plan.status().message();
  return plan.ok() ? Shape(plan->steps) : Shapes{};
}

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(TlsPlanner, PlaintextToTlsPassesEveryStageAndDropsTheAddressesBeforeTheLast) {
  EXPECT_EQ(Planned(View({{1, 0}, {2, 0}, {3, 0}}), TlsStage::kTls),
            (Shapes{"roll-to-stage 1 +addr", "roll-to-stage 2 +addr", "set-client-addresses false",
                    "roll-to-stage 3 -addr"}));
}

TEST(TlsPlanner, PlaintextToAllowPlaintextStopsAtTwo) {
  EXPECT_EQ(Planned(View({{1, 0}, {2, 0}, {3, 0}}), TlsStage::kQuorumTls),
            (Shapes{"roll-to-stage 1 +addr", "roll-to-stage 2 +addr"}));
}

TEST(TlsPlanner, TwoToThreeIsTheReconfigAndTheLastRoll) {
  EXPECT_EQ(Planned(View({{1, 2}, {2, 2}, {3, 2}}), TlsStage::kTls),
            (Shapes{"set-client-addresses false", "roll-to-stage 3 -addr"}));
}

TEST(TlsPlanner, TlsToPlaintextIsTheMirrorImage) {
  EXPECT_EQ(Planned(View({{1, 3}, {2, 3}, {3, 3}}), TlsStage::kPlaintext),
            (Shapes{"roll-to-stage 2 -addr", "roll-to-stage 1 -addr", "set-client-addresses true",
                    "roll-to-stage 0 +addr"}));
}

TEST(TlsPlanner, FromTwoBackToPlaintextStatesTheAddressesAnyway) {
  // A forward switch that failed right after its reconfig leaves every
  // server at 2 without addresses: a server at 0 without one would be portless.
  EXPECT_EQ(Planned(View({{1, 2}, {2, 2}, {3, 2}}), TlsStage::kPlaintext),
            (Shapes{"roll-to-stage 1 +addr", "set-client-addresses true", "roll-to-stage 0 +addr"}));
}

TEST(TlsPlanner, TlsBackToAllowPlaintextGivesTheLinesTheirAddressesBack) {
  EXPECT_EQ(Planned(View({{1, 3}, {2, 3}, {3, 3}}), TlsStage::kQuorumTls),
            (Shapes{"roll-to-stage 2 -addr", "set-client-addresses true"}));
}

TEST(TlsPlanner, AMixedViewGoesOnFromTheServersNearestTheTarget) {
  // A forward switch that failed inside its roll to 2 (server 1 rolled):
  // no roll to 1, which would take server 1 back.
  EXPECT_EQ(Planned(View({{1, 2}, {2, 1}, {3, 1}}), TlsStage::kTls),
            (Shapes{"roll-to-stage 2 +addr", "set-client-addresses false", "roll-to-stage 3 -addr"}));
  // ...failed inside its roll to 3.
  EXPECT_EQ(Planned(View({{1, 3}, {2, 2}, {3, 2}}), TlsStage::kTls),
            (Shapes{"set-client-addresses false", "roll-to-stage 3 -addr"}));
  // ...and then turned back.
  EXPECT_EQ(Planned(View({{1, 3}, {2, 2}, {3, 2}}), TlsStage::kPlaintext),
            (Shapes{"roll-to-stage 2 -addr", "roll-to-stage 1 -addr", "set-client-addresses true",
                    "roll-to-stage 0 +addr"}));
  EXPECT_EQ(Planned(View({{1, 0}, {2, 1}, {3, 1}}), TlsStage::kPlaintext),
            (Shapes{"set-client-addresses true", "roll-to-stage 0 +addr"}));
}

TEST(TlsPlanner, NothingWhenEveryServerIsThere) {
  EXPECT_EQ(Planned(View({{1, 3}, {2, 3}, {3, 3}}), TlsStage::kTls), Shapes{});
  EXPECT_EQ(Planned(View({{1, 0}, {2, 0}, {3, 0}}), TlsStage::kPlaintext), Shapes{});
}

TEST(TlsPlanner, RefusesServersMoreThanOneStageApart) {
  auto plan = PlanTlsStages(View({{1, 0}, {2, 2}, {3, 1}}), TlsStage::kTls, {});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), ErrorCode::kInvalidInput);
  EXPECT_TRUE(Has(plan.status().message(), "TLS stages 0 and 2 at once")) << plan.status().message();
}

TEST(TlsPlanner, StepsSayWhatClientsMayDo) {
  PlanOptions options;
  options.cluster = "demo";
  auto forward = PlanTlsStages(View({{1, 0}, {2, 0}, {3, 0}}), TlsStage::kTls, options);
  ASSERT_TRUE(forward.ok());
  const auto& f = forward->steps;
  EXPECT_TRUE(Has(f[1].description, "Clients: every server now also serves TLS on the same client port; move "
                                    "clients to TLS"))
      << f[1].description;
  EXPECT_TRUE(Has(f[1].description, "`zkpilot certs demo --client CLIENT -o DIR`")) << f[1].description;
  EXPECT_TRUE(Has(f[3].description, "Clients: must use TLS before this step")) << f[3].description;
  auto back = PlanTlsStages(View({{1, 3}, {2, 3}, {3, 3}}), TlsStage::kPlaintext, options);
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(Has(back->steps[0].description, "Clients: each server takes plaintext again")) << back->steps[0].description;
  EXPECT_TRUE(Has(back->steps[3].description, "Clients: must use plaintext before this step"))
      << back->steps[3].description;
  EXPECT_EQ(back->steps[3].args["timeout_ms"], std::chrono::milliseconds(options.timeout).count());
}

// PlanChange: the switch's refusals and its frame (gate, rolls, add-ons).
struct ChangeFixture {
  Package pkg;
  ChangeFixture() {
    auto p = ParsePackage(testing::MinimalPackageFiles());
    EXPECT_TRUE(p.ok()) << p.status().message();
    pkg = *p;
  }
  ChangeSet Switch(TlsStage from, TlsStage to) {
    ChangeSet c;
    c.changed = {"tls.enabled"};
    c.rolling = {"tls.enabled"};
    c.from_version = c.to_version = "3.8.0";
    c.from_replicas = c.to_replicas = 3;
    c.from_tls_stage = from;
    c.to_tls_stage = to;
    return c;
  }
};

TEST(TlsPlanner, PlanChangeSwitchesWithAGateAndEndsWithTheAddons) {
  ChangeFixture f;
  EnsembleView view = View({{1, -1}, {2, -1}, {3, -1}});  // started by an older zkpilot: the current values' stage
  auto plan = PlanChange("configure", "demo", f.pkg, f.Switch(TlsStage::kPlaintext, TlsStage::kTls), view, {});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(Shape(plan->steps),
            (Shapes{"wait-healthy", "roll-to-stage 1 +addr", "roll-to-stage 2 +addr", "set-client-addresses false",
                    "roll-to-stage 3 -addr", "apply-addons"}));
}

TEST(TlsPlanner, PlanChangeFinishesAHalfMigrationEvenWithoutAChangeOfValues) {
  ChangeFixture f;
  ChangeSet none = f.Switch(TlsStage::kTls, TlsStage::kTls);
  none.changed.clear();
  none.rolling.clear();
  auto plan = PlanChange("rollback", "demo", f.pkg, none, View({{1, 3}, {2, 2}, {3, 2}}), {});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(Shape(plan->steps),
            (Shapes{"wait-healthy", "set-client-addresses false", "roll-to-stage 3 -addr", "apply-addons"}));
}

TEST(TlsPlanner, PlanChangeRollsTheServersTheStageRollsSkipWhenOtherValuesChanged) {
  ChangeFixture f;
  EnsembleView view = View({{1, 3}, {2, 2}, {3, 2}});
  view.needs_restart = {1, 2, 3};  // tickTime changed as well: server 1 runs stage 3 with the old one
  auto plan = PlanChange("configure", "demo", f.pkg, f.Switch(TlsStage::kTls, TlsStage::kTls), view, {});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(Shape(plan->steps), (Shapes{"wait-healthy", "set-client-addresses false", "roll-to-stage 3 -addr",
                                        "prepare-node:1", "restart-node:1", "apply-addons"}));
}

TEST(TlsPlanner, PlanChangeRefusesTheSwitchWithAVersionReplicasOrEnforcement) {
  ChangeFixture f;
  const EnsembleView view = View({{1, 0}, {2, 0}, {3, 0}});
  ChangeSet version = f.Switch(TlsStage::kPlaintext, TlsStage::kTls);
  version.to_version = "3.9.3";
  ChangeSet replicas = f.Switch(TlsStage::kPlaintext, TlsStage::kTls);
  replicas.to_replicas = 5;
  ChangeSet enforce = f.Switch(TlsStage::kPlaintext, TlsStage::kTls);
  enforce.enforce_turns_on = true;
  for (const auto& [change, why] : std::vector<std::pair<ChangeSet, std::string>>{
           {version, "the version at once is refused"},
           {replicas, "replicas at once is refused"},
           {enforce, "TLS first, then enforce"}}) {
    auto plan = PlanChange("configure", "demo", f.pkg, change, view, {});
    ASSERT_FALSE(plan.ok()) << why;
    EXPECT_EQ(plan.status().code(), ErrorCode::kInvalidInput);
    EXPECT_TRUE(Has(plan.status().message(), why)) << plan.status().message();
  }
}

}  // namespace
}  // namespace zkpilot

namespace zkpilot {
namespace {

TEST(TlsPlanner, KubernetesRefusesTheSwitchForNow) {
  ChangeSet change;
  change.from_tls_stage = TlsStage::kPlaintext;
  change.to_tls_stage = TlsStage::kTls;
  auto refused = CheckTlsSwitchSupported("kubernetes", change);
  EXPECT_EQ(refused.code(), ErrorCode::kInvalidInput);
  EXPECT_NE(refused.message().find("not yet possible on the kubernetes platform"), std::string::npos)
      << refused.message();
  EXPECT_TRUE(CheckTlsSwitchSupported("local", change).ok());
  change.to_tls_stage = TlsStage::kPlaintext;
  EXPECT_TRUE(CheckTlsSwitchSupported("kubernetes", change).ok()) << "no switch, nothing to refuse";
}

}  // namespace
}  // namespace zkpilot
