#include "platform/kubernetes/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace zkpilot {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds kNoWait{0};
constexpr milliseconds kLong{std::chrono::minutes(10)};  // "not now" in these tests

TEST(Backoff, DoublesFromBaseAndStopsAtMax) {
  const BackoffPolicy policy{milliseconds(500), seconds(5)};
  EXPECT_EQ(BackoffDelay(0, policy), milliseconds(0));
  EXPECT_EQ(BackoffDelay(1, policy), milliseconds(500));
  EXPECT_EQ(BackoffDelay(2, policy), milliseconds(1000));
  EXPECT_EQ(BackoffDelay(4, policy), milliseconds(4000));
  EXPECT_EQ(BackoffDelay(5, policy), seconds(5));
  EXPECT_EQ(BackoffDelay(1000, policy), seconds(5));  // no overflow
}

TEST(WorkQueue, HandsOutKeysInOrderAndOnlyOnce) {
  WorkQueue q;
  q.Add("ns/a");
  q.Add("ns/b");
  q.Add("ns/a");  // already queued
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_EQ(q.Get(kNoWait), "ns/a");
  EXPECT_EQ(q.Get(kNoWait), "ns/b");
  EXPECT_EQ(q.Get(kNoWait), std::nullopt);
}

TEST(WorkQueue, KeyAddedWhileProcessingComesBackAfterDone) {
  WorkQueue q;
  q.Add("ns/a");
  ASSERT_EQ(q.Get(kNoWait), "ns/a");
  q.Add("ns/a");  // changed while being reconciled
  EXPECT_EQ(q.Get(kNoWait), std::nullopt) << "never handed out twice at once";
  q.Done("ns/a");
  EXPECT_EQ(q.Get(kNoWait), "ns/a");
  q.Done("ns/a");
  EXPECT_EQ(q.Get(kNoWait), std::nullopt);
}

TEST(WorkQueue, DelayedKeyIsNotReadyBeforeItsTime) {
  WorkQueue q;
  q.AddAfter("ns/a", kLong);
  EXPECT_EQ(q.Get(kNoWait), std::nullopt);
  q.AddAfter("ns/b", milliseconds(1));
  EXPECT_EQ(q.Get(seconds(30)), "ns/b");  // returns as soon as it is due
}

TEST(WorkQueue, AddHurriesADelayedKeyButResyncDoesNot) {
  WorkQueue q;
  q.AddAfter("ns/a", kLong);
  q.Resync("ns/a");
  EXPECT_EQ(q.Get(kNoWait), std::nullopt) << "a resync must not defeat the backoff";
  q.Add("ns/a");  // the resource changed: try now
  EXPECT_EQ(q.Get(kNoWait), "ns/a");
  q.Done("ns/a");
  q.Resync("ns/b");  // not waiting: queued
  EXPECT_EQ(q.Get(kNoWait), "ns/b");
}

TEST(WorkQueue, RateLimitedRetriesBackOffUntilForgotten) {
  WorkQueue q(BackoffPolicy{milliseconds(100), seconds(60)});
  EXPECT_EQ(q.AddRateLimited("ns/a"), milliseconds(100));
  EXPECT_EQ(q.AddRateLimited("ns/a"), milliseconds(200));
  EXPECT_EQ(q.AddRateLimited("ns/a"), milliseconds(400));
  EXPECT_EQ(q.Failures("ns/a"), 3);
  q.Forget("ns/a");
  EXPECT_EQ(q.Failures("ns/a"), 0);
  EXPECT_EQ(q.AddRateLimited("ns/a"), milliseconds(100));
}

TEST(WorkQueue, DelayedKeyDueWhileProcessingIsQueuedAfterDone) {
  WorkQueue q;
  q.Add("ns/a");
  ASSERT_EQ(q.Get(kNoWait), "ns/a");
  q.AddAfter("ns/a", milliseconds(1));  // a requeue asked by the running reconcile
  EXPECT_EQ(q.Get(milliseconds(20)), std::nullopt);
  q.Done("ns/a");
  EXPECT_EQ(q.Get(seconds(30)), "ns/a");
}

TEST(WorkQueue, ShutDownWakesABlockedGet) {
  WorkQueue q;
  std::atomic<bool> returned{false};
  std::thread getter([&] {
    EXPECT_EQ(q.Get(kLong), std::nullopt);
    returned = true;
  });
  q.ShutDown();
  getter.join();
  EXPECT_TRUE(returned);
  q.Add("ns/a");  // ignored
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueue, GetWakesWhenAnotherThreadAdds) {
  WorkQueue q;
  std::thread adder([&] { q.Add("ns/a"); });
  EXPECT_EQ(q.Get(kLong), "ns/a");
  adder.join();
}

}  // namespace
}  // namespace zkpilot
