// Liveness of a local cluster's servers, as a kubelet's startup and liveness
// probes judge a container: the supervisor kills and restarts a server that
// stops answering.
//
// A background thread sends `ruok` to every watched server once a `period`.
// ruok is answered by the connection layer whatever the server's role
// (RuokCommand prints "imok" without asking ZooKeeperServer.isRunning()), so
// a server electing a leader or handing leadership over is alive; only a
// process that cannot answer at all (stopped, deadlocked, paused by the
// kernel or a runaway GC) is not. The verdict:
//   never answered since its start:
//     dead once startupTimeoutSeconds have passed since it started (a server
//     loading a large snapshot or replaying a long log is left alone);
//   answered once:
//     dead once liveness.timeoutSeconds have passed since its last answer.
// Only silence counts: a probe that cannot be made because of zkpilot's own
// files (missing, expired, of another CA) or whose certificate the server
// refuses counts as an answer and is logged once per cause; the supervisor
// then renews zkpilot's certificate (local_tls.h RenewOwnCertificate).
// A process found already running (a supervisor started again) counts as
// started at its recorded start time, so a hung server is still noticed
// within liveness.timeoutSeconds of the supervisor's own start.
//
// Thread-safety: all public methods may be called from one thread (the
// supervisor's loop) while the probe thread runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "platform/local/local_tls.h"
#include "state/state_store.h"
#include "zk/four_letter.h"
#include "zk/tls_transport.h"

namespace zkpilot {

// Every liveness kill's last_exit starts with this (status finds them by it).
inline constexpr const char* kLivenessExitPrefix = "liveness: ";

struct LivenessSettings {
  // Package parameters liveness.timeoutSeconds and startupTimeoutSeconds;
  // these defaults apply to packages that declare neither.
  std::chrono::seconds timeout{30};
  std::chrono::seconds startup_timeout{600};
  // How the probe connects: a TLS cluster's client ports speak nothing else
  // (local_tls.h). None: plaintext.
  std::optional<TlsClientFiles> tls;
  // tls.certificateValidityDays / renewBeforeDays: for renewing zkpilot's
  // own certificate (the supervisor).
  PkiPolicy pki;

  // From a revision's values (the flat JSON the state keeps); TLS with the
  // files under `cluster_home` when they switch it on.
  static LivenessSettings FromValuesJson(const std::string& values_json, const std::string& cluster_home = "");
};

// The settings of the revision `cluster` runs (the newest during its first
// deploy; its files under cluster.home); the defaults when they cannot be read.
LivenessSettings LivenessSettingsOf(StateStore& store, const ClusterRecord& cluster);

class LivenessMonitor {
 public:
  explicit LivenessMonitor(std::chrono::milliseconds period = std::chrono::milliseconds(1000));
  ~LivenessMonitor();
  LivenessMonitor(const LivenessMonitor&) = delete;
  LivenessMonitor& operator=(const LivenessMonitor&) = delete;

  // A reconciliation pass: Check every server that should be running and
  // runs; EndPass forgets the servers not checked since BeginPass.
  void BeginPass();
  void EndPass();

  // Watches server `id` (process `pid`, answering on `client`, started at
  // `started_unix_ms`) and returns why it must be killed now, or "" (alive,
  // or still within its grace). A new pid starts a new watch.
  std::string Check(int id, int pid, const Endpoint& client, int64_t started_unix_ms,
                    const LivenessSettings& settings);

  // True (once) when a probe since the last call could not be made or was
  // refused for credentials: zkpilot's certificate wants a look now.
  bool TakeCredentialProblem();

 private:
  using Clock = std::chrono::steady_clock;
  struct Watch {
    int pid = 0;
    Endpoint client;
    std::optional<TlsClientFiles> tls;  // the settings' at the last Check
    Clock::time_point first_seen{};
    Clock::duration age_when_seen{};  // how long it had run when first seen
    bool answered = false;
    Clock::time_point last_answer{};
    bool checked = false;  // in this pass
  };
  // One probe's verdict: answered (or alive for all we can tell), and when
  // only counted as alive, why it failed ("" otherwise).
  struct Probe {
    bool answered = false;
    std::string cause;
  };
  static Probe Classify(const Status& ruok, const Endpoint& client);
  void ProbeLoop();

  const std::chrono::milliseconds period_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::map<int, Watch> watches_;  // by server id
  std::set<std::string> warned_;  // causes logged since every probe last succeeded
  bool credential_problem_ = false;
  std::thread thread_;
};

}  // namespace zkpilot
