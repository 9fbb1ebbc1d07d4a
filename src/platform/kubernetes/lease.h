// Leader election with a coordination.k8s.io/v1 Lease, so that two operator
// replicas never reconcile at once.
//
// The rules are client-go's:
//  - the holder renews the Lease every `renew_period`; a Lease nobody renewed
//    for its leaseDurationSeconds has expired and any replica may take it;
//  - expiry is judged on this replica's own clock, from when it last saw the
//    record change (never by comparing another machine's renewTime with
//    ours): a replica that just started waits a whole lease duration;
//  - every write carries the resourceVersion it read (create, or replace):
//    of two replicas racing for an expired Lease the API lets one win and
//    answers the other 409 Conflict;
//  - a leader that has not renewed for `renew_deadline` (less than the lease
//    duration, so it stops before anyone else may start) has lost the lease.
//
// Thread-safety: a LeaderElector is used by one thread (its KubeClient too);
// leading() and last_renewed() may be read from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <stop_token>
#include <string>

#include "platform/kubernetes/kube_client.h"
#include "util/status.h"

namespace zkpilot {

struct LeaderElectionOptions {
  std::string namespace_;  // where the Lease lives
  std::string name = "zkpilot-operator";
  std::string identity;  // holderIdentity: pod name (or host name) + pid
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::milliseconds renew_period{5000};  // the leader's renewals
  std::chrono::milliseconds retry_period{2000};  // a standby's attempts
};

// A Lease as leader election reads and writes it.
struct LeaseRecord {
  std::string holder;        // spec.holderIdentity ("" when released)
  int duration_seconds = 0;  // spec.leaseDurationSeconds
  std::string acquire_time;  // spec.acquireTime (RFC 3339, microseconds)
  std::string renew_time;    // spec.renewTime
  int transitions = 0;       // spec.leaseTransitions
  std::string resource_version;

  static LeaseRecord FromJson(const nlohmann::json& lease);
  // The Lease object for a write (metadata.resourceVersion when known).
  nlohmann::json ToJson(const std::string& namespace_, const std::string& name) const;
};

// What this replica knows of the Lease: the last record seen and when (on
// its own clock) that record last changed.
struct LeaseObservation {
  std::optional<LeaseRecord> record;  // empty: no Lease object
  std::chrono::steady_clock::time_point changed_at{};
};

// Records `current` (nullopt: the Lease does not exist) as seen at `now`.
void ObserveLease(LeaseObservation& seen, const std::optional<LeaseRecord>& current,
                  std::chrono::steady_clock::time_point now);

enum class LeaseAction {
  kCreate,   // no Lease yet
  kAcquire,  // released or expired: take it over
  kRenew,    // ours: renew it
  kWait,     // someone else holds it and renews it
};
LeaseAction DecideLease(const LeaseObservation& seen, const std::string& identity,
                        std::chrono::steady_clock::time_point now);
const char* LeaseActionName(LeaseAction action);

// "2024-05-01T10:00:00.123456Z" for a system-clock time.
std::string MicroTime(std::chrono::system_clock::time_point t);

// The default holder identity: $POD_NAME, else the host name, plus "_<pid>".
std::string DefaultLeaseIdentity();

// Sleeps `d` unless `stop` is requested first; returns false when stopped.
bool SleepUnlessStopped(std::stop_token stop, std::chrono::milliseconds d);

class LeaderElector {
 public:
  LeaderElector(KubeClient& client, LeaderElectionOptions options);

  // One attempt: reads the Lease and creates, takes over or renews it as
  // DecideLease says. Returns whether this replica holds it now; a lost race
  // (409) is `false`, not an error.
  Result<bool> TryAcquireOrRenew();

  // Tries every retry_period until this replica leads (Ok) or `stop` is
  // requested (Ok, leading() false).
  Status Acquire(std::stop_token stop);

  // While leading: renews every renew_period until `stop` is requested
  // (Ok) or the lease is lost (an error saying why: another holder, or no
  // renewal for renew_deadline).
  Status KeepRenewing(std::stop_token stop);

  // Gives the lease up (empty holder, so a standby need not wait for it to
  // expire). REQUIRES: nothing is reconciled any more.
  Status Release();

  // Readable from any thread (a watchdog: a renewal stuck in a slow request
  // must not let this replica reconcile past its lease).
  bool leading() const { return leading_.load(); }
  // When the lease was last written by this replica (steady clock).
  std::chrono::steady_clock::time_point last_renewed() const {
    return std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(last_renewed_.load()));
  }
  const LeaderElectionOptions& options() const { return options_; }

 private:
  Result<std::optional<LeaseRecord>> Read();
  Result<bool> Write(const LeaseRecord& record, bool create);

  KubeClient& client_;
  const LeaderElectionOptions options_;
  const ResourceRef leases_;
  LeaseObservation seen_;
  std::atomic<bool> leading_{false};
  std::atomic<std::chrono::steady_clock::rep> last_renewed_{0};
};

}  // namespace zkpilot
