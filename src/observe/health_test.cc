#include "observe/health.h"

#include <gtest/gtest.h>

namespace zkpilot {
namespace {

NodeObservation Serving(int id, const std::string& mode, int64_t zxid) {
  NodeObservation o;
  o.id = id;
  SrvrInfo s;
  s.mode = mode;
  s.zxid = zxid;
  o.srvr = s;
  return o;
}

NodeObservation Down(int id) {
  NodeObservation o;
  o.id = id;
  o.error = "127.0.0.1:2181: srvr: connection refused";
  return o;
}

constexpr int64_t kEpoch1 = int64_t{1} << 32;
constexpr int64_t kEpoch2 = int64_t{2} << 32;

TEST(Health, LeaderAndSyncedFollowersAreHealthy) {
  auto h = EvaluateHealth({Serving(1, "follower", kEpoch1 + 5), Serving(2, "leader", kEpoch1 + 5),
                           Serving(3, "follower", kEpoch1 + 5)});
  EXPECT_TRUE(h.healthy);
  EXPECT_TRUE(h.quorum);
  EXPECT_EQ(h.leader, 2);
  EXPECT_EQ(h.Summary(), "healthy: leader 2, 3/3 servers in sync");
  EXPECT_TRUE(h.conditions[0].status);
  EXPECT_EQ(h.conditions[0].reason, "QuorumAvailable");
  EXPECT_FALSE(h.conditions[1].status);
}

TEST(Health, FreshEpochWithoutTransactionsIsInSync) {
  // After an election the leader's zxid is in the new epoch; idle followers
  // still report the last zxid of the previous one.
  auto h = EvaluateHealth({Serving(1, "follower", 7), Serving(2, "leader", kEpoch1), Serving(3, "follower", 7)});
  EXPECT_TRUE(h.healthy) << h.Summary();
}

TEST(Health, LaggingFollowerIsNotHealthyButQuorumHolds) {
  auto h = EvaluateHealth({Serving(1, "follower", kEpoch2 + 10), Serving(2, "leader", kEpoch2 + 500),
                           Serving(3, "follower", kEpoch2 + 499)},
                          HealthPolicy{100});
  EXPECT_TRUE(h.quorum);
  EXPECT_FALSE(h.healthy);
  EXPECT_EQ(h.Node(1)->lag, 490);
  EXPECT_EQ(h.Node(1)->problem, "490 transactions behind the leader");
  EXPECT_TRUE(h.Node(3)->healthy);
  EXPECT_TRUE(h.conditions[1].status) << "Degraded";
}

TEST(Health, ServerThePlatformDoesNotRouteToIsNotInSyncButVotes) {
  NodeObservation pending = Serving(3, "follower", kEpoch1 + 5);
  pending.not_ready = "pod demo-3-0 is not Ready yet";
  auto h = EvaluateHealth({Serving(1, "follower", kEpoch1 + 5), Serving(2, "leader", kEpoch1 + 5), pending});
  EXPECT_FALSE(h.healthy);
  EXPECT_TRUE(h.quorum);
  EXPECT_EQ(h.Node(3)->role, "follower");
  EXPECT_EQ(h.Summary(), "degraded: leader 2, 2/3 servers in sync; server 3: pod demo-3-0 is not Ready yet");
}

TEST(Health, DownServerDegradesButMajorityKeepsQuorum) {
  auto h = EvaluateHealth({Down(1), Serving(2, "leader", kEpoch1), Serving(3, "follower", kEpoch1)});
  EXPECT_TRUE(h.quorum);
  EXPECT_FALSE(h.healthy);
  EXPECT_EQ(h.Node(1)->role, "down");
  EXPECT_NE(h.Summary().find("server 1: 127.0.0.1:2181: srvr: connection refused"), std::string::npos) << h.Summary();
}

TEST(Health, MinorityIsNoQuorum) {
  auto h = EvaluateHealth({Down(1), Down(2), Serving(3, "leader", kEpoch1)});
  EXPECT_FALSE(h.quorum);
  EXPECT_EQ(h.conditions[0].reason, "NoQuorum");
}

TEST(Health, NoLeaderWhileElecting) {
  NodeObservation looking = Serving(1, std::string(kModeNotServing), 0);
  auto h = EvaluateHealth({looking, Serving(2, std::string(kModeNotServing), 0), Down(3)});
  EXPECT_FALSE(h.quorum);
  EXPECT_EQ(h.leader, 0);
  EXPECT_EQ(h.conditions[0].reason, "NoLeader");
  EXPECT_EQ(h.Node(1)->problem, "not serving (electing a leader or without quorum)");
}

TEST(Health, TwoLeadersIsNeverQuorum) {
  auto h = EvaluateHealth({Serving(1, "leader", kEpoch1), Serving(2, "leader", kEpoch1), Serving(3, "follower", kEpoch1)});
  EXPECT_FALSE(h.quorum);
  EXPECT_EQ(h.conditions[0].reason, "MultipleLeaders");
}

TEST(Health, StandaloneIsNotPartOfAnEnsemble) {
  auto h = EvaluateHealth({Serving(1, "standalone", 0)});
  EXPECT_FALSE(h.healthy);
}

TEST(Health, SingleServerQuorumLeads) {
  auto h = EvaluateHealth({Serving(1, "leader", kEpoch1)});
  EXPECT_TRUE(h.healthy);
}

}  // namespace
}  // namespace zkpilot
