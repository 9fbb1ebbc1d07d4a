#include "platform/local/liveness.h"

#include <future>

#include <algorithm>
#include <vector>

#include <nlohmann/json.hpp>

#include "platform/local/local_tls.h"
#include "state/records.h"

namespace zkpilot {
namespace {

std::chrono::seconds SecondsOr(const nlohmann::json& values, const char* name, std::chrono::seconds fallback) {
  auto it = values.find(name);
  if (it == values.end() || !it->is_number_integer() || it->get<int64_t>() <= 0) return fallback;
  return std::chrono::seconds(it->get<int64_t>());
}

}  // namespace

LivenessSettings LivenessSettings::FromValuesJson(const std::string& values_json, const std::string& cluster_home) {
  LivenessSettings s;
  nlohmann::json values = nlohmann::json::parse(values_json, nullptr, false);
  if (!values.is_object()) return s;
  s.timeout = SecondsOr(values, "liveness.timeoutSeconds", s.timeout);
  s.startup_timeout = SecondsOr(values, "startupTimeoutSeconds", s.startup_timeout);
  s.tls = LocalTlsClientFilesFromJson(values_json, cluster_home);
  return s;
}

LivenessSettings LivenessSettingsOf(StateStore& store, const ClusterRecord& cluster) {
  // Read at every pass of the supervisor: one row when the cluster runs a revision.
  if (cluster.current_revision > 0) {
    auto current = store.GetRevision(cluster.name, cluster.current_revision);
    if (current.ok() && current->has_value())
      return LivenessSettings::FromValuesJson((*current)->values_json, cluster.home);
  }
  auto revisions = store.ListRevisions(cluster.name);
  if (!revisions.ok() || revisions->empty()) return LivenessSettings{};
  const RevisionRecord* rev = &revisions->back();
  for (const auto& r : *revisions)
    if (r.revision == cluster.current_revision) rev = &r;
  return LivenessSettings::FromValuesJson(rev->values_json, cluster.home);
}

namespace {
// A process older than this when first seen was not started by this
// supervisor moments ago: it was adopted.
constexpr std::chrono::seconds kAdoptedAfter{10};
}  // namespace

LivenessMonitor::LivenessMonitor(std::chrono::milliseconds period)
    : period_(period), thread_([this] { ProbeLoop(); }) {}

LivenessMonitor::~LivenessMonitor() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void LivenessMonitor::BeginPass() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, w] : watches_) w.checked = false;
}

void LivenessMonitor::EndPass() {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(watches_, [](const auto& entry) { return !entry.second.checked; });
}

std::string LivenessMonitor::Check(int id, int pid, const Endpoint& client, int64_t started_unix_ms,
                                   const LivenessSettings& settings) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = Clock::now();
  Watch& w = watches_[id];
  w.checked = true;
  w.tls = settings.tls;
  if (w.pid != pid || w.client.port != client.port) {
    w = Watch{};
    w.pid = pid;
    w.client = client;
    w.tls = settings.tls;
    w.first_seen = now;
    w.checked = true;
    const int64_t age_ms = started_unix_ms > 0 ? std::max<int64_t>(0, NowMillis() - started_unix_ms) : 0;
    w.age_when_seen = std::chrono::milliseconds(age_ms);
    return "";
  }
  if (w.answered) {
    if (now - w.last_answer < settings.timeout) return "";
    return std::string(kLivenessExitPrefix) + "did not answer ruok for " +
           std::to_string(duration_cast<seconds>(now - w.last_answer).count()) +
           "s (liveness.timeoutSeconds=" + std::to_string(settings.timeout.count()) + ")";
  }
  // Never answered: the startup grace, counted from the process's start, for
  // a process this supervisor saw start. One it adopted (already running for
  // a while when first seen: a supervisor started again) gets
  // liveness.timeoutSeconds from the adoption: it may have served for long
  // and hung just before (a SIGSTOP right after a supervisor was killed was
  // otherwise left alone for the rest of the startup grace). The cost: a
  // server adopted in the middle of a long start is restarted once, and then
  // has its full grace as this supervisor's own.
  const auto watched = now - w.first_seen;
  const bool adopted = w.age_when_seen > kAdoptedAfter;
  if ((!adopted && w.age_when_seen + watched < settings.startup_timeout) || watched < settings.timeout) return "";
  return std::string(kLivenessExitPrefix) + "did not answer ruok within " +
         std::to_string(duration_cast<seconds>(w.age_when_seen + watched).count()) +
         "s of its start (startupTimeoutSeconds=" + std::to_string(settings.startup_timeout.count()) + ")";
}

void LivenessMonitor::ProbeLoop() {
  // A probe may not take longer than the period (a stopped server accepts
  // the connection in the kernel's backlog and never answers).
  const auto timeout = std::min<std::chrono::milliseconds>(period_, std::chrono::milliseconds(2000));
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    std::vector<std::pair<int, Watch>> round(watches_.begin(), watches_.end());
    lock.unlock();
    // All servers at once: a hung one's timeout must not delay the others'
    // answers (and so count as their silence).
    std::vector<std::pair<std::pair<int, int>, std::future<bool>>> probes;  // (id, pid), answered
    for (const auto& [id, w] : round)
      probes.emplace_back(std::make_pair(id, w.pid),
                          std::async(std::launch::async, [admin = AdminClient(timeout, w.tls), client = w.client] {
                            return admin.Ruok(client).ok();
                          }));
    std::vector<std::pair<int, int>> answered;  // id, pid
    for (auto& [who, probe] : probes)
      if (probe.get()) answered.push_back(who);
    lock.lock();
    const auto now = Clock::now();
    for (const auto& [id, pid] : answered) {
      auto it = watches_.find(id);
      if (it == watches_.end() || it->second.pid != pid) continue;
      it->second.answered = true;
      it->second.last_answer = now;
    }
    wake_.wait_for(lock, period_, [this] { return stop_; });
  }
}

}  // namespace zkpilot
