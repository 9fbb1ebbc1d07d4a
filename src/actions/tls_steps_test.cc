// roll-to-stage and set-client-addresses on the fake platform: order,
// skipping what runs already, resume after a crash, idempotence.
#include <gtest/gtest.h>

#include "actions/action_test_util.h"
#include "actions/step_runner.h"
#include "plan/steps.h"

namespace zkpilot {
namespace {

using std::chrono::seconds;

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

ServerRender Stage(TlsStage stage, bool addresses) {
  ServerRender r;
  r.tls_stage = stage;
  r.client_addresses = addresses;
  return r;
}

class TlsStepsTest : public testing::ActionTest {
 protected:
  void SetUp() override {
    testing::ActionTest::SetUp();
    values_ = With({});
    platform_ = &PlatformFor(values_);
    ctx_ = std::make_unique<ActionContext>(Context(*platform_));
    ClusterRecord c;
    c.name = "demo";
    c.status = ClusterStateName(ClusterState::kDeployed);
    ASSERT_TRUE(store_->CreateCluster(c).ok());
    auto op = JournalPlan(*store_, Plan{"test", "demo", {}}, 0);
    ASSERT_TRUE(op.ok()) << op.status().message();
    op_ = *op;
  }

  // A new runner each time: a resumed step runs in a new zkpilot.
  Result<std::string> Run(const Step& step) {
    PlatformStepRunner runner(*ctx_, package_, values_, op_);
    return runner.RunStep(step);
  }

  // Servers 1..3 at stage 0, server 2 leading.
  void StartEnsemble() {
    for (int id = 1; id <= 3; ++id) ASSERT_TRUE(Run(PrepareNodeStep(id)).ok());
    for (int id = 1; id <= 3; ++id) ASSERT_TRUE(Run(StartNodeStep(id)).ok());
    ASSERT_EQ(world_.leader, 2);
    for (int id = 1; id <= 3; ++id) ASSERT_EQ(world_.servers[id].tls_stage, 0);
  }

  std::vector<std::string> Restarts() const { return world_.Calls("RestartServer"); }

  Values values_;
  FakePlatform* platform_ = nullptr;
  std::unique_ptr<ActionContext> ctx_;
  int64_t op_ = 0;
};

TEST_F(TlsStepsTest, RollToStageRendersEachServerAtTheStageFollowersFirstTheLeaderByHandOff) {
  StartEnsemble();
  const int elections = world_.elections;
  auto r = Run(RollToStageStep(Stage(TlsStage::kOpen, true), seconds(60), ""));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(Restarts(), (std::vector<std::string>{"RestartServer(1, 1)", "RestartServer(3, 1)",
                                                  "RestartServer(2, 1)"}));
  for (int id = 1; id <= 3; ++id) {
    EXPECT_EQ(platform_->last_render(id), Stage(TlsStage::kOpen, true)) << "server " << id;
    EXPECT_EQ(world_.servers[id].tls_stage, 1) << "server " << id;
    EXPECT_EQ(world_.Restarts(id), 1) << "server " << id;
  }
  EXPECT_EQ(world_.handoffs, 1);
  EXPECT_EQ(world_.elections, elections) << "the leader handed over: no election";
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(world_.QuorumPort(id), 2888) << "server " << id << "'s quorum port back";
  EXPECT_TRUE(Has(*r, "server 2 (the leader): ")) << *r;

  // Again: every server runs stage 1 already.
  auto again = Run(RollToStageStep(Stage(TlsStage::kOpen, true), seconds(60), ""));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(Restarts().size(), 3u) << "nobody restarted twice";
  EXPECT_EQ(*again, "already there: servers 1, 2, 3");
}

TEST_F(TlsStepsTest, ARollToStageResumedAfterACrashRestartsOnlyTheServersNotThereYet) {
  StartEnsemble();
  world_.CrashAfter("RestartServer", 1);  // server 1 restarted, server 3's restart asked for, then zkpilot dies
  const Step step = RollToStageStep(Stage(TlsStage::kOpen, true), seconds(60), "");
  EXPECT_THROW((void)Run(step), FakeCrash);
  EXPECT_EQ(Restarts().size(), 2u);
  auto r = Run(step);  // resume: the journal's unfinished step, run again
  ASSERT_TRUE(r.ok()) << r.status().message();
  for (int id = 1; id <= 3; ++id) {
    EXPECT_EQ(world_.Restarts(id), 1) << "server " << id << " restarted once";
    EXPECT_EQ(world_.servers[id].tls_stage, 1) << "server " << id;
  }
  EXPECT_EQ(Restarts().back(), "RestartServer(2, 1)") << "the leader last";
}

TEST_F(TlsStepsTest, RollToStageRefusesAStageItDoesNotKnow) {
  StartEnsemble();
  Step step = RollToStageStep(Stage(TlsStage::kOpen, true), seconds(60), "");
  step.args["stage"] = 7;
  auto r = Run(step);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Has(r.status().message(), "stage 7 is not a TLS stage")) << r.status().message();
  EXPECT_TRUE(Restarts().empty());
}

TEST_F(TlsStepsTest, SetClientAddressesTwiceReconfiguresOnceAndRendersEveryServerEachTime) {
  StartEnsemble();
  ASSERT_TRUE(Run(RollToStageStep(Stage(TlsStage::kOpen, true), seconds(60), "")).ok());
  ASSERT_TRUE(Run(RollToStageStep(Stage(TlsStage::kQuorumTls, true), seconds(60), "")).ok());
  const size_t restarts = Restarts().size();
  auto r = Run(SetClientAddressesStep(false));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(world_.client_addresses) << world_.ConfigText();
  ASSERT_EQ(world_.Calls("SetMembers").size(), 1u);
  EXPECT_EQ(world_.Calls("SetMembers")[0].find(";"), std::string::npos) << "no client address in the members";
  for (int id = 1; id <= 3; ++id) {
    // At the stages it runs (the quorum SASL one too), lines without addresses.
    ServerRender want = Stage(TlsStage::kQuorumTls, false);
    want.quorum_auth_stage = world_.servers[id].quorum_auth_stage;
    EXPECT_EQ(platform_->last_render(id), want) << "server " << id;
  }
  EXPECT_TRUE(Has(*r, "client addresses removed")) << *r;

  auto again = Run(SetClientAddressesStep(false));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(world_.Calls("SetMembers").size(), 1u) << "already without: no reconfig";
  EXPECT_TRUE(Has(*again, "no server line has a client address already")) << *again;
  EXPECT_EQ(Restarts().size(), restarts) << "no restart";

  // And back: the addresses are the topology's client endpoints.
  auto back = Run(SetClientAddressesStep(true));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(world_.client_addresses) << world_.ConfigText();
  ASSERT_EQ(world_.Calls("SetMembers").size(), 2u);
  EXPECT_TRUE(Has(world_.Calls("SetMembers")[1], "participant;0.0.0.0:2181")) << world_.Calls("SetMembers")[1];
  for (int id = 1; id <= 3; ++id) {
    ServerRender want = Stage(TlsStage::kQuorumTls, true);
    want.quorum_auth_stage = world_.servers[id].quorum_auth_stage;
    EXPECT_EQ(platform_->last_render(id), want) << "server " << id;
  }
  auto back_again = Run(SetClientAddressesStep(true));
  ASSERT_TRUE(back_again.ok());
  EXPECT_EQ(world_.Calls("SetMembers").size(), 2u);
  EXPECT_EQ(Restarts().size(), restarts) << "no restart";
}

}  // namespace
}  // namespace zkpilot
