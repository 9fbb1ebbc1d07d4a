// The pure parts of bench/roll: LOOKING counting from ZooKeeper's log lines,
// the log window, the Java writer's result line and the roll targets.
#include "roll_observe.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "roll_report.h"

namespace zkpilot::bench {
namespace {

// As logback.xml.mustache's pattern prints them (3.8.0 and 3.9.3).
const std::string kStart =
    "2026-11-30 08:40:00,001 [myid:] - INFO  [main:QuorumPeerMain@152] - Starting quorum peer, "
    "myid=2\n";
const std::string kLooking =
    "2026-11-30 08:40:01,123 [myid:2] - INFO  "
    "[QuorumPeer[myid=2](plain=127.0.0.1:20010)(secure=disabled):QuorumPeer@1455] - LOOKING\n";
const std::string kSetLooking =
    "2026-11-30 08:40:01,120 [myid:2] - WARN  "
    "[QuorumPeer[myid=2](plain=127.0.0.1:20010)(secure=disabled):QuorumPeer@1585] - PeerState set "
    "to LOOKING\n";
const std::string kFollowing =
    "2026-11-30 08:40:01,500 [myid:2] - INFO  "
    "[QuorumPeer[myid=2](plain=127.0.0.1:20010)(secure=disabled):QuorumPeer@903] - Peer state "
    "changed: following - discovery\n";

const std::string kBroadcast =
    "2026-11-30 08:40:01,700 [myid:2] - INFO  "
    "[QuorumPeer[myid=2](plain=127.0.0.1:20010)(secure=disabled):QuorumPeer@917] - Peer state "
    "changed: following - broadcast\n";

TEST(CountLooking, StartUpLookingIsToldApart) {
  const LookingCount c = CountLooking(kStart + kLooking + kFollowing);
  EXPECT_EQ(c.jvm_starts, 1);
  EXPECT_EQ(c.transitions, 1);
  EXPECT_EQ(c.not_at_startup, 0);
}

TEST(CountLooking, ElectionOfARunningServerCounts) {
  // A follower that lost its leader: "PeerState set to LOOKING", then the loop's "LOOKING".
  const LookingCount c = CountLooking(kFollowing + kSetLooking + kLooking + kFollowing);
  EXPECT_EQ(c.transitions, 1);
  EXPECT_EQ(c.not_at_startup, 1);
}

TEST(CountLooking, AFreshJvmLooksUntilItFirstServes) {
  // Looking again before it first serves (a failed first sync) is start-up;
  // after "... - broadcast" it is a lost leader.
  const LookingCount c =
      CountLooking(kStart + kLooking + kFollowing + kSetLooking + kLooking + kBroadcast + kSetLooking + kLooking);
  EXPECT_EQ(c.transitions, 3);
  EXPECT_EQ(c.not_at_startup, 1);
}

TEST(LogWindow, CountsOnlyWhatWasAppendedAfterTheMark) {
  const std::string path = ::testing::TempDir() + "/roll_observe_test.log";
  std::ofstream(path, std::ios::trunc) << kStart << kLooking << kFollowing;
  LogWindow w;
  w.Mark({path, ::testing::TempDir() + "/not-yet.log"});
  ASSERT_EQ(w.Count().size(), 2u);
  EXPECT_EQ(w.Count()[0].transitions, 0);
  std::ofstream(path, std::ios::app) << kSetLooking << kLooking << kStart << kLooking;
  const LookingCount c = w.Count()[0];
  EXPECT_EQ(c.transitions, 2);
  EXPECT_EQ(c.not_at_startup, 1);
  EXPECT_EQ(c.jvm_starts, 1);
  std::filesystem::remove(path);
}

TEST(ParseJavaResult, ReadsTheClosingLine) {
  auto r = ParseJavaResult(
      "ready\nresult acknowledged=812 failed=3 longest_gap_ms=1204 sessions=1 "
      "first_error=org.apache.zookeeper.KeeperException$ConnectionLossException: x\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->acknowledged, 812);
  EXPECT_EQ(r->failed, 3);
  EXPECT_EQ(r->longest_gap_ms, 1204);
  EXPECT_EQ(r->sessions, 1);
  EXPECT_FALSE(ParseJavaResult("ready\n").ok());
}

TEST(RollTargets, PassAndFailAgainstTheBaseline) {
  RunResult z, b;
  z.report.leaders = {3, 1};
  z.report.longest_gap_ms = 300;
  z.report.failed = 2;
  z.operation_s = 20;
  b.report.leaders = {3, 2, 1};
  b.report.longest_gap_ms = 1000;
  b.report.failed = 10;
  b.operation_s = 25;
  for (const auto& t : RollTargets(z, b)) EXPECT_TRUE(t.pass) << t.name << " " << t.value;
  z.looking.not_at_startup = 1;
  z.report.longest_gap_ms = 500;
  z.operation_s = 30;
  int failed = 0;
  for (const auto& t : RollTargets(z, b)) failed += t.pass ? 0 : 1;
  EXPECT_EQ(failed, 4);  // LOOKING, gap <= 350, gap <= 0.4x, roll time
}

TEST(Ratio, ZkpilotOverBaseline) {
  EXPECT_EQ(Ratio(1, 4), "0.25");
  EXPECT_EQ(Ratio(0, 0), "-");
  EXPECT_EQ(Ratio(3, 0), "inf");
}

}  // namespace
}  // namespace zkpilot::bench
