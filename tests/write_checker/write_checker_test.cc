// The write checker's arithmetic: what counts as lost, gaps, percentiles and
// elections. No network: the checker itself is exercised by day2_test.cc.
#include "write_checker/write_checker.h"

#include <gtest/gtest.h>

namespace zkpilot::testing {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

AckedWrite Acked(int64_t counter, int at_ms, int latency_us = 1000) {
  char name[32];
  std::snprintf(name, sizeof name, "w-%010lld", static_cast<long long>(counter));
  return {counter, std::string("/root/") + name, milliseconds(at_ms), microseconds(latency_us)};
}

std::pair<std::string, std::string> Present(const AckedWrite& w) {
  return {w.path.substr(w.path.rfind('/') + 1), std::to_string(w.counter)};
}

TEST(Percentile, NearestRank) {
  EXPECT_EQ(Percentile({}, 50), 0);
  EXPECT_EQ(Percentile({7}, 99), 7);
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);  // unsorted input
  EXPECT_EQ(Percentile(v, 50), 50);
  EXPECT_EQ(Percentile(v, 99), 99);
  EXPECT_EQ(Percentile(v, 100), 100);
  EXPECT_EQ(Percentile(v, 0), 1);
  EXPECT_EQ(Percentile({1, 2, 3}, 50), 2);
}

TEST(LongestGap, CountsBothEnds) {
  EXPECT_EQ(LongestGap({}, milliseconds(900)), milliseconds(900));
  EXPECT_EQ(LongestGap({Acked(1, 10), Acked(2, 20), Acked(3, 530)}, milliseconds(600)),
            milliseconds(510));
  EXPECT_EQ(LongestGap({Acked(1, 300), Acked(2, 310)}, milliseconds(320)),
            milliseconds(300));  // from start
  EXPECT_EQ(LongestGap({Acked(1, 10), Acked(2, 20)}, milliseconds(2020)),
            milliseconds(2000));  // to the end
}

TEST(Summarize, EverythingReadBackIsNothingLost) {
  std::vector<AckedWrite> acked = {Acked(1, 10, 1000), Acked(2, 20, 3000), Acked(4, 40, 2000)};
  std::vector<std::pair<std::string, std::string>> back = {
      Present(acked[0]),
      Present(acked[1]),
      Present(acked[2]),
      {"w-0000000003", "3"}};  // failed, applied anyway
  WriteReport r = Summarize(acked, 1, back, milliseconds(50));
  EXPECT_EQ(r.acknowledged, 3);
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(r.lost, 0);
  EXPECT_EQ(r.unacknowledged_present, 1);
  EXPECT_TRUE(r.lost_examples.empty());
  EXPECT_DOUBLE_EQ(r.p50_latency_ms, 2.0);
  EXPECT_DOUBLE_EQ(r.p99_latency_ms, 3.0);
  EXPECT_DOUBLE_EQ(r.max_latency_ms, 3.0);
  EXPECT_DOUBLE_EQ(r.longest_gap_ms, 20.0);
  EXPECT_DOUBLE_EQ(r.duration_ms, 50.0);
}

TEST(Summarize, MissingOrOverwrittenAcknowledgedWritesAreLost) {
  std::vector<AckedWrite> acked = {Acked(1, 10), Acked(2, 20), Acked(3, 30)};
  std::vector<std::pair<std::string, std::string>> back = {Present(acked[0]),
                                                           {"w-0000000003", "99"}};
  WriteReport r = Summarize(acked, 0, back, milliseconds(30));
  EXPECT_EQ(r.lost, 2);
  ASSERT_EQ(r.lost_examples.size(), 2u);
  EXPECT_EQ(r.lost_examples[0], "w-0000000002 (counter 2): missing");
  EXPECT_EQ(r.lost_examples[1], "w-0000000003 (counter 3): holds '99'");
  EXPECT_EQ(r.unacknowledged_present, 0);
}

TEST(Summarize, LostExamplesAreCapped) {
  std::vector<AckedWrite> acked;
  for (int i = 1; i <= 25; ++i) acked.push_back(Acked(i, i));
  WriteReport r = Summarize(acked, 0, {}, milliseconds(30));
  EXPECT_EQ(r.lost, 25);
  EXPECT_EQ(r.lost_examples.size(), 10u);
  EXPECT_NE(r.Summary().find("lost 25"), std::string::npos) << r.Summary();
}

constexpr int64_t Zxid(int64_t epoch, int64_t counter) { return (epoch << 32) | counter; }

TEST(ElectionCounter, FollowerRestartsAreNoElection) {
  ElectionCounter c;
  c.Observe({{1, "follower", Zxid(1, 5)}, {2, "follower", Zxid(1, 5)}, {3, "leader", Zxid(1, 5)}});
  c.Observe({{2, "follower", Zxid(1, 9)}, {3, "leader", Zxid(1, 9)}});  // server 1 down
  c.Observe({{1, "not-serving", 0}, {2, "follower", Zxid(1, 12)}, {3, "leader", Zxid(1, 12)}});
  c.Observe(
      {{1, "follower", Zxid(1, 20)}, {2, "follower", Zxid(1, 20)}, {3, "leader", Zxid(1, 20)}});
  EXPECT_EQ(c.elections(), 0);
  EXPECT_EQ(c.first_epoch(), 1);
  EXPECT_EQ(c.leaders(), std::vector<int>{3});
}

TEST(ElectionCounter, EachEpochIncreaseIsOneElection) {
  ElectionCounter c;
  c.Observe({});  // nobody answered: no baseline yet
  c.Observe({{1, "follower", Zxid(4, 1)}, {3, "leader", Zxid(4, 1)}});
  c.Observe({{1, "not-serving", 0}, {2, "not-serving", 0}});  // election under way
  c.Observe({{1, "leader", Zxid(5, 0)},
             {2, "follower", Zxid(4, 7)},
             {3, "leader", Zxid(4, 7)}});  // 3 deposed
  c.Observe({{1, "leader", Zxid(5, 3)}, {2, "follower", Zxid(5, 3)}});
  c.Observe({{1, "looking", Zxid(5, 3)},
             {2, "leader", Zxid(7, 0)}});  // epoch jumps by 2: still one increase
  EXPECT_EQ(c.elections(), 2);
  EXPECT_EQ(c.first_epoch(), 4);
  EXPECT_EQ(c.epoch(), 7);
  EXPECT_EQ(c.leaders(), (std::vector<int>{3, 1, 2}));
}

}  // namespace
}  // namespace zkpilot::testing
