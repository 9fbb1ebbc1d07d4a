#include "platform/local/guardian.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include <spdlog/spdlog.h>

#include "platform/local/paths.h"
#include "platform/local/process.h"
#include "platform/local/state_identity.h"
#include "platform/local/supervisor.h"
#include "state/state_store.h"
#include "util/hash.h"

namespace zkpilot {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kMinBackoff = std::chrono::milliseconds(500);
constexpr auto kMaxBackoff = std::chrono::milliseconds(30000);
constexpr auto kStable = std::chrono::seconds(60);

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

std::string GuardianLockPath(const std::string& home, const std::string& cluster) {
  return ClusterHome(home, cluster) + "/guardian.lock";
}

// Whether the cluster still needs a supervisor: it is recorded and some
// server is desired running. Unknown (the state cannot be read just now)
// counts as needed, so a busy database never ends the guardian. The database
// is opened afresh each time: a state.db replaced or removed under a running
// cluster is judged by what the state directory holds now, not by the file
// the guardian once opened.
bool SupervisorNeeded(const std::string& home, const std::string& cluster) {
  std::error_code ec;
  if (!std::filesystem::exists(StateDbPath(home), ec) && !ec) return false;  // never create one
  auto opened = StateStore::Open(StateDbPath(home));
  if (!opened.ok()) return true;
  StateStore& store = **opened;
  auto record = store.GetCluster(cluster);
  if (!record.ok()) return true;
  if (!record->has_value()) return false;
  if (!RecordedForThisHome(**record, home)) return false;  // a state.db moved in from elsewhere
  auto nodes = store.ListNodes(cluster);
  if (!nodes.ok()) return true;
  return std::any_of(nodes->begin(), nodes->end(), [](const NodeRecord& n) { return n.desired == "running"; });
}

constexpr const char* kSupervisedByEnv = "ZKPILOT_SUPERVISED_BY";

Supervision DetectSupervision() {
  if (const char* forced = std::getenv("ZKPILOT_SUPERVISION"); forced && *forced)
    return std::string(forced) == "systemd" ? Supervision::kSystemd : Supervision::kGuardian;
  if (FindInPath("systemctl").empty() || FindInPath("systemd-run").empty()) return Supervision::kGuardian;
  auto state = RunCommand({"systemctl", "--user", "is-system-running"}, std::chrono::seconds(5));
  if (!state.ok() || state->timed_out) return Supervision::kGuardian;
  // "degraded" still runs units (some other unit failed); "offline", "starting"
  // or an error message mean no usable user instance.
  const std::string& out = state->output;
  return out.rfind("running", 0) == 0 || out.rfind("degraded", 0) == 0 ? Supervision::kSystemd
                                                                         : Supervision::kGuardian;
}

}  // namespace

Supervision ChooseSupervision() {
  static const Supervision chosen = DetectSupervision();
  return chosen;
}

std::vector<std::string> SystemdSupervisorCommand(const std::string& exe, const std::string& home,
                                                  const std::string& cluster) {
  const std::string log = ClusterHome(home, cluster) + "/supervisor.log";
  return {"systemd-run", "--user", "--collect", "--quiet",
          "--unit=zkpilot-" + cluster + "-" + Sha256Hex(home).substr(0, 8),
          // Exit 0 (nothing to supervise, SIGTERM) ends the unit; a signal or
          // an error restarts it.
          "--property=Restart=on-failure", "--property=RestartSec=1",
          // The servers are the supervisor's children but must outlive it.
          "--property=KillMode=process",
          "--property=StandardOutput=append:" + log, "--property=StandardError=append:" + log,
          std::string("--setenv=") + kSupervisedByEnv + "=systemd", exe, "supervise", cluster, "--home", home};
}

bool SupervisedBySystemd() {
  const char* by = std::getenv(kSupervisedByEnv);
  return by && std::string(by) == "systemd";
}

int LockHolderPid(const std::string& lock_path) {
  int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  int pid = 0;
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
    ::flock(fd, LOCK_UN);  // nobody holds it
  } else {
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n > 0) pid = std::atoi(buf);
  }
  ::close(fd);
  return pid;
}

int GuardianPid(const std::string& home, const std::string& cluster) {
  return LockHolderPid(GuardianLockPath(home, cluster));
}

int RunGuardian(const GuardianOptions& options) {
  const std::string lock_path = GuardianLockPath(options.home, options.cluster);
  std::error_code ec;
  std::filesystem::create_directories(ClusterHome(options.home, options.cluster), ec);
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    spdlog::info("another guardian runs for {}; exiting", options.cluster);
    return 0;
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  (void)!::ftruncate(fd, 0);
  (void)!::pwrite(fd, pid.data(), pid.size(), 0);

  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  spdlog::info("guardian for {} started, pid {}", options.cluster, ::getpid());

  int failures = 0;
  Clock::time_point next_start{}, last_start{};
  while (!g_stop) {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }  // supervisors started here that have exited
    if (SupervisorPid(options.home, options.cluster) == 0) {
      if (!SupervisorNeeded(options.home, options.cluster)) {
        spdlog::info("guardian: {} needs no supervisor; exiting", options.cluster);
        break;
      }
      if (Clock::now() >= next_start) {
        failures = last_start != Clock::time_point{} && Clock::now() - last_start > kStable ? 1 : failures + 1;
        last_start = Clock::now();
        next_start = last_start + std::min<std::chrono::milliseconds>(kMinBackoff * (1 << std::min(failures - 1, 6)),
                                                                      kMaxBackoff);
        spdlog::warn("guardian: the supervisor of {} is not running; starting it (restart {})", options.cluster,
                     failures);
        Status s = EnsureSupervisor(options.home, options.cluster);
        if (!s.ok()) spdlog::error("guardian: {}", s.message());
      }
    }
    std::this_thread::sleep_for(options.poll);
  }
  spdlog::info("guardian for {} exits", options.cluster);
  ::close(fd);
  return 0;
}

Status EnsureGuardian(const std::string& home, const std::string& cluster) {
  if (GuardianPid(home, cluster) > 0) return Status::Ok();
  SpawnOptions spawn;
  spawn.argv = {SelfExecutable(), "guard", cluster, "--home", home};
  spawn.log_path = ClusterHome(home, cluster) + "/guardian.log";
  spawn.new_session = true;
  ZK_ASSIGN_OR_RETURN(int pid, Spawn(spawn));
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    if (GuardianPid(home, cluster) > 0) return Status::Ok();
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      if (GuardianPid(home, cluster) > 0) return Status::Ok();  // another one won the race
      return Status::IOError("guardian for " + cluster + " " + DescribeWaitStatus(status) + ":\n" +
                             TailFile(spawn.log_path, 10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::IOError("guardian for " + cluster + " did not start within 10s:\n" + TailFile(spawn.log_path, 10));
}

Status WaitGuardianExit(const std::string& home, const std::string& cluster, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const int pid = GuardianPid(home, cluster);
    if (pid == 0) return Status::Ok();
    ::waitpid(pid, nullptr, WNOHANG);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int pid = GuardianPid(home, cluster);
  if (pid == 0) return Status::Ok();
  return TerminateProcess(pid, "guard", std::chrono::seconds(5));
}

}  // namespace zkpilot
