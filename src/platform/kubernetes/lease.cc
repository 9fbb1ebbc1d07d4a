#include "platform/kubernetes/lease.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <mutex>

namespace zkpilot {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string StringAt(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int IntAt(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int>() : 0;
}

bool SameRecord(const LeaseRecord& a, const LeaseRecord& b) {
  return a.holder == b.holder && a.renew_time == b.renew_time &&
         a.resource_version == b.resource_version;
}

}  // namespace

LeaseRecord LeaseRecord::FromJson(const nlohmann::json& lease) {
  LeaseRecord r;
  const nlohmann::json spec = lease.value("spec", nlohmann::json::object());
  r.holder = StringAt(spec, "holderIdentity");
  r.duration_seconds = IntAt(spec, "leaseDurationSeconds");
  r.acquire_time = StringAt(spec, "acquireTime");
  r.renew_time = StringAt(spec, "renewTime");
  r.transitions = IntAt(spec, "leaseTransitions");
  r.resource_version =
      StringAt(lease.value("metadata", nlohmann::json::object()), "resourceVersion");
  return r;
}

nlohmann::json LeaseRecord::ToJson(const std::string& namespace_, const std::string& name) const {
  nlohmann::json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                          {"kind", "Lease"},
                          {"metadata", {{"name", name}, {"namespace", namespace_}}},
                          {"spec",
                           {{"holderIdentity", holder},
                            {"leaseDurationSeconds", duration_seconds},
                            {"leaseTransitions", transitions}}}};
  if (!acquire_time.empty()) lease["spec"]["acquireTime"] = acquire_time;
  if (!renew_time.empty()) lease["spec"]["renewTime"] = renew_time;
  if (!resource_version.empty()) lease["metadata"]["resourceVersion"] = resource_version;
  return lease;
}

void ObserveLease(LeaseObservation& seen, const std::optional<LeaseRecord>& current,
                  SteadyClock::time_point now) {
  const bool changed = seen.record.has_value() != current.has_value() ||
                       (current && !SameRecord(*seen.record, *current));
  if (changed || seen.changed_at == SteadyClock::time_point{}) {
    seen.record = current;
    seen.changed_at = now;
  }
}

LeaseAction DecideLease(const LeaseObservation& seen, const std::string& identity,
                        SteadyClock::time_point now) {
  if (!seen.record) return LeaseAction::kCreate;
  const LeaseRecord& r = *seen.record;
  if (r.holder == identity) return LeaseAction::kRenew;
  if (r.holder.empty()) return LeaseAction::kAcquire;
  if (now >= seen.changed_at + std::chrono::seconds(r.duration_seconds))
    return LeaseAction::kAcquire;
  return LeaseAction::kWait;
}

const char* LeaseActionName(LeaseAction action) {
  switch (action) {
    case LeaseAction::kCreate:
      return "create";
    case LeaseAction::kAcquire:
      return "acquire";
    case LeaseAction::kRenew:
      return "renew";
    case LeaseAction::kWait:
      return "wait";
  }
  return "?";
}

std::string MicroTime(std::chrono::system_clock::time_point t) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros % 1000000);
}

std::string DefaultLeaseIdentity() {
  std::string who;
  if (const char* pod = std::getenv("POD_NAME"); pod && *pod) who = pod;
  if (who.empty()) {
    char host[256] = {0};
    if (gethostname(host, sizeof(host) - 1) == 0) who = host;
  }
  if (who.empty()) who = "zkpilot";
  return who + "_" + std::to_string(getpid());
}

bool SleepUnlessStopped(std::stop_token stop, std::chrono::milliseconds d) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock<std::mutex> lock(mu);
  // wait_for returns the predicate's value, false both on timeout and on stop.
  (void)cv.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

LeaderElector::LeaderElector(KubeClient& client, LeaderElectionOptions options)
    : client_(client),
      options_(std::move(options)),
      leases_{"coordination.k8s.io", "v1", "leases", true, "Lease"} {}

Result<std::optional<LeaseRecord>> LeaderElector::Read() {
  ZK_ASSIGN_OR_RETURN(auto lease, client_.Get(leases_, options_.namespace_, options_.name));
  if (!lease) return std::optional<LeaseRecord>();
  return std::optional<LeaseRecord>(LeaseRecord::FromJson(*lease));
}

Result<bool> LeaderElector::Write(const LeaseRecord& record, bool create) {
  const nlohmann::json body = record.ToJson(options_.namespace_, options_.name);
  Result<nlohmann::json> written = create ? client_.Create(leases_, options_.namespace_, body)
                                          : client_.Replace(leases_, options_.namespace_, body);
  if (!written.ok()) {
    // 409: another replica wrote first (created it, or changed it since we read).
    if (written.status().code() == ErrorCode::kConflict) return false;
    return written.status();
  }
  const auto now = SteadyClock::now();
  seen_.record = LeaseRecord::FromJson(*written);
  seen_.changed_at = now;
  last_renewed_.store(now.time_since_epoch().count());
  return true;
}

Result<bool> LeaderElector::TryAcquireOrRenew() {
  const std::string where = fmt::format("lease {}/{}", options_.namespace_, options_.name);
  auto current = Read();
  if (!current.ok()) return current.status().WithContext(where);
  const auto now = SteadyClock::now();
  ObserveLease(seen_, *current, now);
  const LeaseAction action = DecideLease(seen_, options_.identity, now);
  if (action == LeaseAction::kWait) {
    leading_.store(false);
    return false;
  }
  LeaseRecord record = current->value_or(LeaseRecord{});
  const std::string stamp = MicroTime(std::chrono::system_clock::now());
  if (action != LeaseAction::kRenew) {
    if (action == LeaseAction::kAcquire) ++record.transitions;
    record.holder = options_.identity;
    record.acquire_time = stamp;
  }
  record.renew_time = stamp;
  record.duration_seconds = static_cast<int>(options_.lease_duration.count());
  auto won = Write(record, action == LeaseAction::kCreate);
  if (!won.ok()) return won.status().WithContext(where + ": " + LeaseActionName(action));
  leading_.store(*won);
  return *won;
}

Status LeaderElector::Acquire(std::stop_token stop) {
  int errors = 0;
  while (!stop.stop_requested()) {
    auto won = TryAcquireOrRenew();
    if (won.ok() && *won) return Status::Ok();
    // An unreachable API (or a missing permission) is retried like a lost
    // race: leading needs the API anyway. Said now and then, not every time.
    if (!won.ok() && errors++ % 15 == 0)
      spdlog::warn("leader election: {}", won.status().message());
    if (!SleepUnlessStopped(stop, options_.retry_period)) break;
  }
  return Status::Ok();
}

Status LeaderElector::KeepRenewing(std::stop_token stop) {
  const std::string where = fmt::format("lease {}/{}", options_.namespace_, options_.name);
  std::chrono::milliseconds wait = options_.renew_period;
  while (SleepUnlessStopped(stop, wait)) {
    auto renewed = TryAcquireOrRenew();
    if (renewed.ok() && *renewed) {
      wait = options_.renew_period;
      continue;
    }
    if (renewed.ok()) {
      leading_.store(false);
      const std::string holder = seen_.record ? seen_.record->holder : "";
      return Status::Conflict(where + ": lost: now held by " +
                              (holder.empty() ? "nobody" : holder));
    }
    if (SteadyClock::now() - last_renewed() >= options_.renew_deadline) {
      leading_.store(false);
      return Status::Unavailable(fmt::format("{}: lost: not renewed for {}s: {}", where,
                                             options_.renew_deadline.count(),
                                             renewed.status().message()));
    }
    wait = std::min(options_.retry_period, options_.renew_period);
  }
  return Status::Ok();
}

Status LeaderElector::Release() {
  if (!leading_.load() || !seen_.record) return Status::Ok();
  LeaseRecord record = *seen_.record;
  record.holder.clear();
  record.duration_seconds = 1;
  record.renew_time = MicroTime(std::chrono::system_clock::now());
  auto released = Write(record, false);
  leading_.store(false);
  if (!released.ok())
    return released.status().WithContext(
        fmt::format("lease {}/{}: release", options_.namespace_, options_.name));
  return Status::Ok();
}

}  // namespace zkpilot
