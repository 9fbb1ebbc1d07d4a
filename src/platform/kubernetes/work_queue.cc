#include "platform/kubernetes/work_queue.h"

#include <algorithm>

namespace zkpilot {

std::chrono::milliseconds BackoffDelay(int failures, const BackoffPolicy& policy) {
  if (failures <= 0) return std::chrono::milliseconds(0);
  std::chrono::milliseconds delay = policy.base;
  for (int i = 1; i < failures && delay < policy.max; ++i) delay *= 2;
  return std::min(delay, policy.max);
}

void WorkQueue::AddLocked(const std::string& key, std::unique_lock<std::mutex>& lock) {
  if (shutting_down_) return;
  if (processing_.count(key)) {
    dirty_.insert(key);
    return;
  }
  if (queued_.insert(key).second) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::PromoteDueLocked(TimePoint now) {
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    const std::string key = it->first;
    it = waiting_.erase(it);
    if (processing_.count(key)) {
      dirty_.insert(key);
    } else if (queued_.insert(key).second) {
      queue_.push_back(key);
    }
  }
}

void WorkQueue::Add(const std::string& key) {
  std::unique_lock<std::mutex> lock(mu_);
  waiting_.erase(key);
  AddLocked(key, lock);
}

void WorkQueue::Resync(const std::string& key) {
  std::unique_lock<std::mutex> lock(mu_);
  if (waiting_.count(key)) return;
  AddLocked(key, lock);
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mu_);
  if (shutting_down_) return;
  if (delay <= std::chrono::milliseconds(0)) {
    waiting_.erase(key);
    AddLocked(key, lock);
    return;
  }
  if (queued_.count(key)) return;  // it is about to be processed anyway
  const TimePoint when = std::chrono::steady_clock::now() + delay;
  auto it = waiting_.find(key);
  if (it == waiting_.end() || when < it->second) waiting_[key] = when;
  cv_.notify_all();  // a Get may have to wake earlier
}

std::chrono::milliseconds WorkQueue::AddRateLimited(const std::string& key) {
  std::chrono::milliseconds delay;
  {
    std::lock_guard<std::mutex> lock(mu_);
    delay = BackoffDelay(++failures_[key], policy_);
  }
  AddAfter(key, delay);
  return delay;
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

int WorkQueue::Failures(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

std::optional<std::string> WorkQueue::Get(std::chrono::milliseconds max_wait) {
  const TimePoint deadline = std::chrono::steady_clock::now() + max_wait;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    const TimePoint now = std::chrono::steady_clock::now();
    PromoteDueLocked(now);
    if (!queue_.empty()) {
      std::string key = queue_.front();
      queue_.pop_front();
      queued_.erase(key);
      processing_.insert(key);
      return key;
    }
    if (shutting_down_ || now >= deadline) return std::nullopt;
    TimePoint wake = deadline;
    for (const auto& [key, when] : waiting_) wake = std::min(wake, when);
    cv_.wait_until(lock, wake);
  }
}

void WorkQueue::Done(const std::string& key) {
  std::unique_lock<std::mutex> lock(mu_);
  processing_.erase(key);
  if (dirty_.erase(key)) AddLocked(key, lock);
}

void WorkQueue::ShutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutting_down_;
}

size_t WorkQueue::Len() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

}  // namespace zkpilot
