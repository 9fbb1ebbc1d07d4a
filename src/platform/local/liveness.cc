#include "platform/local/liveness.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

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
  s.pki = PkiPolicyFromJson(values_json);
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

LivenessMonitor::Probe LivenessMonitor::Classify(const Status& ruok, const Endpoint& client) {
  if (ruok.ok()) return Probe{true, ""};
  // Silence is what a hung process gives: no connection, or no handshake or
  // reply within the timeout (kIOError; tls_transport.h). A certificate
  // refused either way (kPermissionDenied: the server sent a TLS alert or a
  // certificate we reject) or zkpilot's own files unusable (kNotFound,
  // kInvalidInput, ...) say nothing about the server: killing for them would
  // kill every server at once, and a restart renews nothing.
  if (ruok.code() == ErrorCode::kIOError || ruok.code() == ErrorCode::kUnavailable)
    return Probe{false, ""};
  std::string cause = ruok.message();
  const std::string prefix = client.ToString() + ": ruok: ";
  if (cause.starts_with(prefix)) cause.erase(0, prefix.size());  // one warning for all servers
  return Probe{true, cause};
}

bool LivenessMonitor::TakeCredentialProblem() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(credential_problem_, false);
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
    std::vector<std::pair<std::pair<int, int>, std::future<Probe>>> probes;  // (id, pid), result
    for (const auto& [id, w] : round)
      probes.emplace_back(
          std::make_pair(id, w.pid),
          std::async(std::launch::async, [admin = AdminClient(timeout, w.tls), client = w.client] {
            return Classify(admin.Ruok(client), client);
          }));
    std::vector<std::pair<std::pair<int, int>, Probe>> results;
    for (auto& [who, probe] : probes) results.emplace_back(who, probe.get());
    lock.lock();
    const auto now = Clock::now();
    bool all_clean = !results.empty();
    for (const auto& [who, probe] : results) {
      if (!probe.cause.empty()) {
        all_clean = false;
        credential_problem_ = true;
        if (warned_.insert(probe.cause).second)
          spdlog::warn(
              "liveness: server {} counted as alive, but zkpilot could not probe it: {} (the "
              "supervisor "
              "renews zkpilot's certificate; no server is restarted for this)",
              who.first, probe.cause);
      }
      if (!probe.answered) {
        all_clean = false;
        continue;
      }
      auto it = watches_.find(who.first);
      if (it == watches_.end() || it->second.pid != who.second) continue;
      it->second.answered = true;
      it->second.last_answer = now;
    }
    if (all_clean && !warned_.empty()) {
      spdlog::info("liveness: every server answers ruok again");
      warned_.clear();  // a cause that comes back is said again
    }
    wake_.wait_for(lock, period_, [this] { return stop_; });
  }
}

}  // namespace zkpilot
