// WorkQueue: the operator's queue of ZooKeeperClusters to reconcile, keyed by
// "namespace/name".
//
// Semantics (those of client-go's rate-limited work queue, which controllers
// are written against):
//  - a key is queued at most once: adding a queued key does nothing;
//  - a key being processed (between Get and Done) is never handed out twice;
//    adding it meanwhile marks it dirty, and Done queues it again;
//  - AddAfter queues a key once a delay has passed; AddRateLimited delays by
//    the key's backoff (BackoffDelay of its failures since the last Forget);
//  - Add hurries a key that waits out a delay (a watch event: the resource
//    changed, try now); Resync does not (a periodic resync must not defeat
//    the backoff of a failing key).
//
// Thread-safety: every method may be called from any thread. Get blocks.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace zkpilot {

struct BackoffPolicy {
  std::chrono::milliseconds base{500};
  std::chrono::milliseconds max{std::chrono::minutes(5)};
};

// base * 2^(failures-1), capped at max; 0 for no failures.
std::chrono::milliseconds BackoffDelay(int failures, const BackoffPolicy& policy);

class WorkQueue {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit WorkQueue(BackoffPolicy policy = {}) : policy_(policy) {}

  void Add(const std::string& key);
  void Resync(const std::string& key);
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  // Records a failure of `key` and queues it after its backoff; returns the delay.
  std::chrono::milliseconds AddRateLimited(const std::string& key);
  // Clears the key's failures (after a successful reconcile).
  void Forget(const std::string& key);
  int Failures(const std::string& key) const;

  // The next ready key, waiting at most `max_wait`; nullopt on timeout or
  // after ShutDown. REQUIRES: Done(key) once the key is processed.
  std::optional<std::string> Get(std::chrono::milliseconds max_wait);
  void Done(const std::string& key);

  // Wakes every Get; later Adds are ignored.
  void ShutDown();
  bool ShuttingDown() const;

  // Keys ready now (not counting delayed or in-process ones).
  size_t Len() const;

 private:
  void AddLocked(const std::string& key, std::unique_lock<std::mutex>& lock);
  void PromoteDueLocked(TimePoint now);

  const BackoffPolicy policy_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;             // ready keys, in order
  std::set<std::string> queued_;              // keys in queue_
  std::set<std::string> processing_;          // handed out, not Done yet
  std::set<std::string> dirty_;               // added while processing
  std::map<std::string, TimePoint> waiting_;  // key -> when it becomes ready
  std::map<std::string, int> failures_;
  bool shutting_down_ = false;
};

}  // namespace zkpilot
