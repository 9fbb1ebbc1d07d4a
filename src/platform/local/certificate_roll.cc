#include "platform/local/certificate_roll.h"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include "platform/local/local_pki.h"
#include "platform/local/operation_lock.h"
#include "platform/local/process.h"

namespace zkpilot {

std::chrono::milliseconds CertificateCheckInterval() {
  if (const char* ms = std::getenv("ZKPILOT_CERTIFICATE_CHECK_MS"); ms && *ms) {
    char* end = nullptr;
    const long long value = std::strtoll(ms, &end, 10);
    if (end && *end == '\0' && value > 0) return std::chrono::milliseconds(value);
    spdlog::warn(
        "ZKPILOT_CERTIFICATE_CHECK_MS={} is not a positive number of milliseconds; ignored", ms);
  }
  return std::chrono::minutes(10);
}

void CertificateRoll::Tick(const std::string& cluster_home, const std::vector<NodeRecord>& nodes,
                           bool tls, const PkiPolicy& policy, std::map<int, std::string>& exits) {
  const auto now = Clock::now();
  if (pid_ > 0) {
    auto it = exits.find(pid_);
    if (it == exits.end()) return;  // still rolling
    spdlog::info("certificate roll (pid {}) {}; its output: {}/certificate-roll.log", pid_,
                 it->second, cluster_home);
    exits.erase(it);
    pid_ = 0;
    next_check_ = now + interval_;
    return;
  }
  if (!tls || nodes.empty() || now < next_check_) return;
  next_check_ = now + interval_;

  std::vector<int> ids;
  for (const NodeRecord& n : nodes) {
    if (n.desired != "running") return;  // a stopped server is not restarted behind the user's back
    ids.push_back(n.id);
  }
  std::string due;
  for (const LocalCertificate& c :
       InspectLocalPki(LocalPkiAt(cluster_home), ids, policy.renew_before)) {
    if (c.name.rfind("server-", 0) != 0 || c.renewal.empty() || c.cert_pem.empty()) continue;
    due += (due.empty() ? "" : "; ") + c.name + ": " + c.renewal;
  }
  if (due.empty()) return;
  if (auto holder = HeldOperationLock(home_, cluster_)) {
    spdlog::info("server certificates due ({}); not rolling while `{}` (pid {}) runs", due,
                 holder->verb, holder->pid);
    next_check_ = now + std::min<std::chrono::milliseconds>(interval_, std::chrono::seconds(30));
    return;
  }
  SpawnOptions spawn;
  spawn.argv = {SelfExecutable(), "restart", cluster_, "--timeout", "600"};
  spawn.log_path = cluster_home + "/certificate-roll.log";
  spawn.extra_env = {"ZKPILOT_HOME=" + home_};
  spawn.new_session = true;
  auto pid = Spawn(spawn);
  if (!pid.ok()) {
    spdlog::warn("server certificates due ({}); cannot start `zkpilot restart {}`: {}", due,
                 cluster_, pid.status().message());
    return;
  }
  pid_ = *pid;
  spdlog::info(
      "server certificates due ({}); renewing them by a roll: `zkpilot restart {}` (pid {})", due,
      cluster_, pid_);
}

}  // namespace zkpilot
