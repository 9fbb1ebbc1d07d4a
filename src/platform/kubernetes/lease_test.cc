#include "platform/kubernetes/lease.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

namespace zkpilot {
namespace {

using std::chrono::seconds;
using TimePoint = std::chrono::steady_clock::time_point;

const TimePoint kT0 = TimePoint(seconds(1000));

LeaseRecord Held(const std::string& holder, const std::string& renewed, const std::string& rv) {
  LeaseRecord r;
  r.holder = holder;
  r.duration_seconds = 15;
  r.renew_time = renewed;
  r.resource_version = rv;
  return r;
}

TEST(LeaseDecision, NoLeaseIsCreated) {
  LeaseObservation seen;
  ObserveLease(seen, std::nullopt, kT0);
  EXPECT_EQ(DecideLease(seen, "me", kT0), LeaseAction::kCreate);
}

TEST(LeaseDecision, OwnLeaseIsRenewed) {
  LeaseObservation seen;
  ObserveLease(seen, Held("me", "t1", "1"), kT0);
  EXPECT_EQ(DecideLease(seen, "me", kT0 + seconds(60)), LeaseAction::kRenew);
}

TEST(LeaseDecision, ReleasedLeaseIsTakenAtOnce) {
  LeaseObservation seen;
  ObserveLease(seen, Held("", "t1", "1"), kT0);
  EXPECT_EQ(DecideLease(seen, "me", kT0), LeaseAction::kAcquire);
}

TEST(LeaseDecision, AReplicaThatJustStartedWaitsAWholeLeaseDuration) {
  // Another machine's renewTime is never compared with our clock: a lease
  // first seen now counts as renewed now.
  LeaseObservation seen;
  ObserveLease(seen, Held("other", "2001-01-01T00:00:00.000000Z", "1"), kT0);
  EXPECT_EQ(DecideLease(seen, "me", kT0 + seconds(14)), LeaseAction::kWait);
  ObserveLease(seen, Held("other", "2001-01-01T00:00:00.000000Z", "1"), kT0 + seconds(14));
  EXPECT_EQ(DecideLease(seen, "me", kT0 + seconds(15)), LeaseAction::kAcquire);
}

TEST(LeaseDecision, RenewalsSeenKeepTheHolder) {
  LeaseObservation seen;
  ObserveLease(seen, Held("other", "t1", "1"), kT0);
  ObserveLease(seen, Held("other", "t2", "2"), kT0 + seconds(10));  // renewed
  EXPECT_EQ(DecideLease(seen, "me", kT0 + seconds(20)), LeaseAction::kWait);
  EXPECT_EQ(DecideLease(seen, "me", kT0 + seconds(25)), LeaseAction::kAcquire);
}

TEST(LeaseDecision, UnchangedRecordDoesNotResetTheClock) {
  LeaseObservation seen;
  ObserveLease(seen, Held("other", "t1", "1"), kT0);
  for (int i = 1; i <= 15; ++i) ObserveLease(seen, Held("other", "t1", "1"), kT0 + seconds(i));
  EXPECT_EQ(seen.changed_at, kT0);
  EXPECT_EQ(DecideLease(seen, "me", kT0 + seconds(15)), LeaseAction::kAcquire);
}

TEST(LeaseRecord, JsonRoundTrip) {
  LeaseRecord r = Held("pod-a_42", "2024-05-01T10:00:00.123456Z", "77");
  r.acquire_time = "2024-05-01T09:00:00.000000Z";
  r.transitions = 3;
  const nlohmann::json j = r.ToJson("zkpilot-system", "zkpilot-operator");
  EXPECT_EQ(j["apiVersion"], "coordination.k8s.io/v1");
  EXPECT_EQ(j["kind"], "Lease");
  EXPECT_EQ(j["metadata"]["namespace"], "zkpilot-system");
  EXPECT_EQ(j["metadata"]["resourceVersion"], "77");
  EXPECT_EQ(j["spec"]["leaseDurationSeconds"], 15);
  const LeaseRecord back = LeaseRecord::FromJson(j);
  EXPECT_EQ(back.holder, r.holder);
  EXPECT_EQ(back.duration_seconds, 15);
  EXPECT_EQ(back.acquire_time, r.acquire_time);
  EXPECT_EQ(back.renew_time, r.renew_time);
  EXPECT_EQ(back.transitions, 3);
  EXPECT_EQ(back.resource_version, "77");
}

TEST(LeaseRecord, MicroTimeHasMicroseconds) {
  const auto t =
      std::chrono::system_clock::time_point(std::chrono::microseconds(1714557600123456LL));
  EXPECT_EQ(MicroTime(t), "2024-05-01T10:00:00.123456Z");
}

TEST(LeaseRecord, SleepEndsWhenStopped) {
  std::stop_source source;
  EXPECT_TRUE(SleepUnlessStopped(source.get_token(), std::chrono::milliseconds(1)));
  std::thread stopper([&] { source.request_stop(); });
  EXPECT_FALSE(SleepUnlessStopped(source.get_token(), std::chrono::minutes(10)));
  stopper.join();
  EXPECT_FALSE(SleepUnlessStopped(source.get_token(), std::chrono::minutes(10)))
      << "already stopped";
}

TEST(LeaseRecord, DefaultIdentityEndsInThePid) {
  const std::string id = DefaultLeaseIdentity();
  EXPECT_NE(id.find('_'), std::string::npos);
  EXPECT_EQ(id.substr(id.rfind('_') + 1), std::to_string(getpid()));
}

}  // namespace
}  // namespace zkpilot
