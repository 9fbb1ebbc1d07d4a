// Guardian: who brings a killed supervisor back when no command runs.
//
// The supervisor (supervisor.h) keeps the servers running; the guardian
// (`zkpilot guard NAME`, one per cluster, detached, holding guardian.lock)
// keeps the supervisor running. Every `poll` it looks at supervisor.lock: when
// no supervisor holds it and the cluster still has a server desired running,
// it starts one (EnsureSupervisor), with backoff (0.5 s doubling to 30 s;
// reset after 60 s without a restart). It exits when the cluster is gone or no
// server is desired running (then the supervisor has nothing to do either).
// The supervisor in turn starts a guardian again whenever none holds
// guardian.lock, so killing either one is repaired by the other; killing both
// at once is repaired by the next command (LocalPlatform::Servers, status).
//
// Under systemd: where a user instance of systemd runs, the supervisor is a
// transient unit instead (systemd-run --user, Restart=on-failure), and no
// guardian runs: systemd restarts a supervisor killed by a signal or ending in
// an error, while its exit 0 (nothing left to supervise, or SIGTERM) ends the
// unit; KillMode=process keeps the servers running when it ends. Elsewhere
// (PID 1 is not systemd, or `systemctl --user` is offline, as in most
// containers and CI runners) the guardian pair: two ordinary processes that
// need no unit files and behave the same everywhere. Both are found again by
// their locks, never by name; `delete` waits for both to exit
// (WaitGuardianExit).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "util/status.h"

namespace zkpilot {

struct GuardianOptions {
  std::string home;  // ZKPILOT_HOME
  std::string cluster;
  std::chrono::milliseconds poll{200};
};

// Runs the guardian in this process until the cluster needs no supervisor or
// SIGTERM/SIGINT arrives. Returns the process exit code.
int RunGuardian(const GuardianOptions& options);

// PID of the cluster's running guardian, or 0.
int GuardianPid(const std::string& home, const std::string& cluster);

// Starts the cluster's guardian unless one runs; waits until it does.
Status EnsureGuardian(const std::string& home, const std::string& cluster);

// Waits until the cluster's guardian has exited (it exits by itself once the
// supervisor has and no server is desired running); SIGTERMs it after
// `timeout`.
Status WaitGuardianExit(const std::string& home, const std::string& cluster, std::chrono::milliseconds timeout);

enum class Supervision {
  kGuardian,  // the guardian process pair
  kSystemd,   // a transient systemd user unit
};

// ZKPILOT_SUPERVISION=guardian|systemd chooses; otherwise systemd when
// `systemctl --user is-system-running` answers running or degraded and
// systemd-run is installed, else the guardian. Asked once per process.
Supervision ChooseSupervision();

// The systemd-run command that starts `exe supervise CLUSTER --home HOME` as
// the transient user unit zkpilot-<cluster>-<8 hex of the home>.service.
std::vector<std::string> SystemdSupervisorCommand(const std::string& exe, const std::string& home,
                                                  const std::string& cluster);

// True in a supervisor that systemd runs (it then starts no guardian).
bool SupervisedBySystemd();

// PID written in a lock file that a live process holds (flock), or 0 when
// nobody holds it (the file may still name a process that died).
int LockHolderPid(const std::string& lock_path);

}  // namespace zkpilot
