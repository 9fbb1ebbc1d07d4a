// Server certificates renewed by a roll, without a command.
//
// A ZooKeeper server reads its key store only when it starts (X509Util
// builds the SSLContext once per factory; NettyServerCnxnFactory and the
// quorum's QuorumX509Util keep it), and zkpilot issues a server's certificate
// again only right before it starts that server (EnsureClusterPki). So a
// certificate nearing its expiry is renewed by restarting its server, and the
// safe way to restart servers is the roll `zkpilot restart NAME` plans:
// quorum-gated, one server at a time, the leader by hand-off.
//
// The supervisor calls CertificateRoll::Tick on every pass. Every
// check_interval (and at its first pass) it looks at the servers'
// certificates (InspectLocalPki with tls.renewBeforeDays); when any is due,
// every server is desired running, and no command holds the cluster's
// operation lock, it starts `zkpilot restart NAME` as its own child, logging
// to <cluster>/certificate-roll.log. One roll at a time; the next check
// comes check_interval after the roll ends, so a roll that fails (an
// unfinished operation to resume, say) is not retried in a loop. The roll
// holds the operation lock like any command: a user's command meanwhile is
// refused with its name, as for any running command.
//
// Thread-safety: the supervisor's thread only.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "platform/local/local_tls.h"
#include "state/state_store.h"

namespace zkpilot {

// The check interval: every 10 minutes, like zkpilot's own certificate;
// ZKPILOT_CERTIFICATE_CHECK_MS (a test hook) sets it in milliseconds.
std::chrono::milliseconds CertificateCheckInterval();

class CertificateRoll {
 public:
  CertificateRoll(std::string home, std::string cluster, std::chrono::milliseconds check_interval)
      : home_(std::move(home)), cluster_(std::move(cluster)), interval_(check_interval) {}

  // `exits`: the supervisor's reaped children (pid -> how it ended); the
  // roll's own entry is taken from it. `tls`: whether the running revision
  // has TLS (nothing to do otherwise).
  void Tick(const std::string& cluster_home, const std::vector<NodeRecord>& nodes, bool tls,
            const PkiPolicy& policy, std::map<int, std::string>& exits);

 private:
  using Clock = std::chrono::steady_clock;
  const std::string home_, cluster_;
  const std::chrono::milliseconds interval_;
  Clock::time_point next_check_{};  // epoch: at the first pass
  int pid_ = 0;                     // the running roll, 0 when none
};

}  // namespace zkpilot
