#include "actions/kube_follow.h"

#include <fmt/format.h>

#include <thread>

#include "actions/kube_objects.h"
#include "platform/kubernetes/kube_client.h"
#include "platform/kubernetes/operator_manifests.h"

namespace zkpilot {
namespace {

using nlohmann::json;

bool Finished(StepStatus s) {
  return s == StepStatus::kDone || s == StepStatus::kFailed || s == StepStatus::kSkipped;
}

// Our operation: the oldest with id >= first in status.operation and
// status.operations; the running one (with its steps) when it is that one.
std::optional<ClusterOperation> OurOperation(const ClusterStatus& status, int64_t first) {
  std::optional<ClusterOperation> found;
  for (const auto& op : status.operations)
    if (op.id >= first && (!found || op.id < found->id)) found = op;
  if (status.operation && status.operation->id >= first &&
      (!found || status.operation->id <= found->id))
    found = *status.operation;
  return found;
}

// A condition that speaks about `generation` (or a later one). One without
// observedGeneration counts when the status as a whole has seen it.
bool Covers(const ZooKeeperCluster& c, const ClusterCondition& cond, int64_t generation) {
  if (generation <= 0) return true;
  if (cond.observed_generation > 0) return cond.observed_generation >= generation;
  return c.status.observed_generation >= generation;
}

std::string FailedStepError(const ClusterOperation& op) {
  for (const auto& s : op.steps)
    if (s.status == StepStatus::kFailed)
      return fmt::format("step {}/{} ({}){}", s.index + 1, op.steps.size(), s.description,
                         s.detail.empty() ? "" : ": " + s.detail);
  return "";
}

}  // namespace

OperationTracker::OperationTracker(const FollowTarget& target, ProgressSink& progress)
    : target_(target), progress_(progress) {}

void OperationTracker::Report(const ClusterOperation& op, bool first_sight) {
  const size_t total = op.steps.size();
  for (size_t i = 0; i < total; ++i) {
    const OperationStep& s = op.steps[i];
    if (s.status == StepStatus::kPending) continue;
    if (first_sight && target_.quiet_finished_steps && Finished(s.status)) {
      started_.insert(i);
      finished_.insert(i);
      continue;
    }
    const Step step =
        Step::FromJson({{"kind", s.kind}, {"args", s.args}, {"description", s.description}});
    if (!started_.count(i)) {
      started_.insert(i);
      progress_.StepStarted(i, total, step);
    }
    if (Finished(s.status) && !finished_.count(i)) {
      finished_.insert(i);
      const int64_t took =
          s.started_at > 0 && s.finished_at >= s.started_at ? s.finished_at - s.started_at : 0;
      Status result = s.status == StepStatus::kFailed
                          ? Status::IOError(s.detail.empty() ? "failed" : s.detail)
                          : Status::Ok();
      std::string outcome = s.detail;
      if (s.status == StepStatus::kSkipped)
        outcome = s.detail.empty() ? "skipped" : "skipped: " + s.detail;
      if (s.status == StepStatus::kFailed) outcome.clear();
      progress_.StepFinished(i, total, step, result, outcome, std::chrono::milliseconds(took));
    }
  }
}

std::optional<FollowOutcome> OperationTracker::ObserveObject(const json* object) {
  if (!object) return Observe(nullptr);
  auto parsed = ClusterFromJson(*object);
  if (!parsed.ok()) {
    unreadable_ = parsed.status().message();
    return std::nullopt;
  }
  unreadable_.clear();
  return Observe(&*parsed);
}

std::optional<FollowOutcome> OperationTracker::Observe(const ZooKeeperCluster* cluster) {
  FollowOutcome out;
  if (!cluster) {
    last_.reset();
    if (target_.until_gone) return out;
    out.kind = FollowOutcome::Kind::kFailed;
    out.message = "the ZooKeeperCluster was deleted meanwhile";
    return out;
  }
  const bool first_sight = !seen_any_;
  seen_any_ = true;
  last_ = *cluster;
  out.cluster = *cluster;

  if (auto op = OurOperation(cluster->status, target_.first_operation_id)) {
    if (operation_id_ == 0) operation_id_ = op->id;
    out.operation = op;
    Report(*op, first_sight);  // a finished one from the history has no steps
    if (op->phase == OperationStatus::kSucceeded) {
      if (target_.until_gone) return std::nullopt;  // the finalizer goes next, then the object
      return out;
    }
    if (op->phase == OperationStatus::kFailed) {
      out.kind = FollowOutcome::Kind::kFailed;
      out.message = !op->error.empty() ? op->error : FailedStepError(*op);
      if (out.message.empty()) out.message = op->type + " failed";
      return out;
    }
    return std::nullopt;
  }

  // No operation of ours (yet): has the operator answered our generation otherwise?
  if (const ClusterCondition* valid = FindCondition(cluster->status.conditions, kConditionValid);
      valid && valid->status == "False" && Covers(*cluster, *valid, target_.generation)) {
    out.kind = FollowOutcome::Kind::kRejected;
    out.reason = valid->reason;
    out.message = valid->message;
    return out;
  }
  if (target_.failure_without_operation && !target_.until_gone &&
      cluster->status.observed_generation >= target_.generation) {
    const ClusterCondition* progressing = FindCondition(cluster->status.conditions, kConditionProgressing);
    if (progressing && progressing->status == "False" && progressing->reason == "OperationFailed" &&
        Covers(*cluster, *progressing, target_.generation)) {
      out.kind = FollowOutcome::Kind::kFailed;
      out.message = progressing->message;
      return out;
    }
  }
  if (!target_.require_operation && !target_.until_gone &&
      cluster->status.observed_generation >= target_.generation) {
    const ClusterCondition* progressing = FindCondition(cluster->status.conditions, kConditionProgressing);
    if (progressing && progressing->status == "False" &&
        Covers(*cluster, *progressing, target_.generation)) {
      out.kind = FollowOutcome::Kind::kNothingToDo;
      return out;
    }
  }
  return std::nullopt;
}

std::string OperationTracker::Describe() const {
  std::string out;
  if (!last_) {
    out = seen_any_ ? "the object is gone" : "the cluster was not read yet";
  } else if (operation_id_ == 0) {
    const ClusterStatus& status = last_->status;
    if (target_.until_gone)
      out = fmt::format(
          "the ZooKeeperCluster is still there: the operator tears the cluster down, then removes "
          "its finalizer {}; "
          "is it running? (kubectl -n {} get deployment {})",
          kClusterFinalizer, kOperatorNamespace, kOperatorName);
    else if (target_.generation > 0 && status.observed_generation < target_.generation)
      out = fmt::format(
          "the operator has not picked up generation {} (status.observedGeneration: {}); is it "
          "running? "
          "(kubectl -n {} get deployment {})",
          target_.generation, status.observed_generation, kOperatorNamespace, kOperatorName);
    else
      out = "no operation has started";
  } else if (auto op = OurOperation(last_->status, target_.first_operation_id)) {
    out = fmt::format("{} {}", op->type,
                      op->phase == OperationStatus::kRunning ? "running" : "finished");
    for (const auto& s : op->steps)
      if (!Finished(s.status)) {
        out = fmt::format("{} running, at step {}/{} ({}, {})", op->type, s.index + 1,
                          op->steps.size(), s.description, StepStatusName(s.status));
        break;
      }
  } else {
    out = fmt::format("operation {} is no longer in the status", operation_id_);
  }
  if (!unreadable_.empty()) out += "; the last status read was unreadable: " + unreadable_;
  return out;
}

Status OutcomeStatus(const FollowOutcome& outcome, const std::string& what) {
  switch (outcome.kind) {
    case FollowOutcome::Kind::kSucceeded:
    case FollowOutcome::Kind::kNothingToDo:
      return Status::Ok();
    case FollowOutcome::Kind::kFailed:
      return Status::IOError(what + " failed: " + outcome.message);
    case FollowOutcome::Kind::kRejected: {
      const std::string msg =
          what + ": the operator refused it (" + outcome.reason + "): " + outcome.message;
      if (outcome.reason == "PackageNotFound") return Status::NotFound(msg);
      if (outcome.reason == "PackageInvalid") return Status::IOError(msg);
      return Status::InvalidInput(msg);
    }
  }
  return Status::Internal(what + ": unknown outcome");
}

std::string OperationHealth(const FollowOutcome& outcome) {
  std::string health;
  if (!outcome.operation) return health;
  for (const auto& s : outcome.operation->steps)
    if (s.status == StepStatus::kDone && s.detail.find("healthy: ") != std::string::npos)
      health = s.detail.substr(s.detail.find("healthy: "));
  return health;
}

Result<FollowOutcome> FollowCluster(KubeClient& client, const std::string& ns,
                                    const std::string& name, OperationTracker& tracker,
                                    std::chrono::milliseconds timeout) {
  using SteadyClock = std::chrono::steady_clock;
  const auto deadline = SteadyClock::now() + timeout;
  const ResourceRef ref = kube::ClusterResource();
  ListOptions by_name;
  by_name.field_selector = "metadata.name=" + name;
  auto pause = std::chrono::milliseconds(200);
  while (true) {
    auto got = client.Get(ref, ns, name);
    if (!got.ok() && got.status().code() != ErrorCode::kUnavailable)
      return got.status().WithContext("following " + name);
    if (got.ok()) {
      pause = std::chrono::milliseconds(200);
      const json* object = got->has_value() ? &**got : nullptr;
      if (auto outcome = tracker.ObserveObject(object)) return *outcome;
      // Watch from what we read until something ends the stream.
      const auto left =
          std::chrono::duration_cast<std::chrono::seconds>(deadline - SteadyClock::now());
      if (left.count() >= 1) {
        std::optional<FollowOutcome> result;
        const std::string rv = kube::Str(kube::Member(**got, "metadata"), "resourceVersion");
        const auto watch_started = SteadyClock::now();
        Status watched =
            client.Watch(ref, ns, rv, by_name, std::min(left, std::chrono::seconds(60)),
                         [&](const WatchEvent& event) {
                           if (event.type == "ERROR") return false;  // e.g. 410 Gone: read again
                           if (event.type == "ADDED" || event.type == "MODIFIED") {
                             result = tracker.ObserveObject(&event.object);
                           } else if (event.type == "DELETED") {
                             // Its last state first: the steps written just before it went.
                             result = tracker.ObserveObject(&event.object);
                             if (!result) result = tracker.ObserveObject(nullptr);
                           }
                           return !result.has_value();
                         });
        if (result) return *result;
        // A stream that ends at once (refused, or not served) must not spin.
        if (!watched.ok() && SteadyClock::now() - watch_started < std::chrono::seconds(1))
          std::this_thread::sleep_for(std::chrono::milliseconds(500));
      } else {
        std::this_thread::sleep_for(
            std::chrono::milliseconds(200));  // the last moments: read again
      }
    } else {
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(5000));
    }
    if (SteadyClock::now() >= deadline)
      return Status::IOError(fmt::format(
          "gave up following {} after {}s: {}; the operation goes on in the cluster (`zkpilot "
          "status {} --platform "
          "kubernetes` shows it, `zkpilot resume {} --platform kubernetes` follows it again)",
          name, std::chrono::duration_cast<std::chrono::seconds>(timeout).count(),
          tracker.Describe(), name, name));
  }
}

}  // namespace zkpilot
