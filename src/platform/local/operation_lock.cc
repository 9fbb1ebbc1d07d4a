#include "platform/local/operation_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace zkpilot {
namespace {

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string LockPathOf(const std::string& home, const std::string& cluster) {
  return home + "/locks/" + cluster + ".lock";
}

std::optional<OperationLockHolder> ParseHolder(const std::string& text) {
  std::istringstream in(text);
  OperationLockHolder h;
  if (!(in >> h.pid >> h.verb >> h.since_unix_ms) || h.pid <= 0) return std::nullopt;
  if (!(in >> h.start_ticks)) h.start_ticks = 0;
  return h;
}

// Field 22 of /proc/PID/stat: when the process started, in clock ticks since
// boot (proc(5)); 0 when there is no such process. The command name (field 2)
// may hold spaces and parentheses, so fields are counted from the last ')'.
int64_t ProcessStartTicks(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return 0;
  const size_t name_end = stat.rfind(')');
  if (name_end == std::string::npos) return 0;
  std::istringstream fields(stat.substr(name_end + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i)
    if (!(fields >> field)) return 0;
  try {
    return std::stoll(field);
  } catch (...) {
    return 0;
  }
}

// The holder a lock file's text names, when that process still runs: the
// same PID started at the recorded time (a line without a start time: the
// PID exists).
std::optional<OperationLockHolder> LiveHolder(const std::string& text) {
  std::optional<OperationLockHolder> h = ParseHolder(text);
  if (!h) return std::nullopt;
  const int64_t ticks = ProcessStartTicks(h->pid);
  if (ticks == 0 || (h->start_ticks != 0 && ticks != h->start_ticks)) return std::nullopt;
  return h;
}

// Kills the stuck command that holds the lock on `fd` and takes the lock
// once the kernel has dropped it. Refuses when the PID now belongs to another
// process (its start time differs) or when the lock file cannot tell.
Status KillHolderAndLock(int fd, const std::string& path, const OperationLockHolder& holder) {
  const int64_t ticks = ProcessStartTicks(holder.pid);
  if (ticks != 0) {
    if (holder.start_ticks == 0)
      return Status::Conflict("cannot force: " + path + " does not record when pid " + std::to_string(holder.pid) +
                              " started (written by an older zkpilot), so it may be another process; stop it "
                              "yourself (kill -9 " + std::to_string(holder.pid) + ") if it is the stuck command");
    if (ticks != holder.start_ticks)
      return Status::Conflict("cannot force: pid " + std::to_string(holder.pid) +
                              " is not the command that took " + path + " (it started at another time), yet the "
                              "lock is held; find its holder with `fuser " + path + "`");
    if (::kill(holder.pid, SIGKILL) != 0 && errno != ESRCH)
      return Status::IOError("killing zkpilot pid " + std::to_string(holder.pid) + ": " + std::strerror(errno));
  }
  // The kernel drops the lock once the holder has ended; SIGKILL ends even a
  // stopped process.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return Status::IOError("locking " + path + ": " + std::strerror(errno));
    if (std::chrono::steady_clock::now() >= deadline)
      return Status::Unavailable("the lock " + path + " is still held 10 s after killing zkpilot pid " +
                             std::to_string(holder.pid) + " (another process shares it?)");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Status::Ok();
}

std::string ReadAll(int fd) {
  std::string text;
  char buf[256];
  off_t at = 0;
  for (ssize_t n; (n = ::pread(fd, buf, sizeof buf, at)) > 0; at += n) text.append(buf, static_cast<size_t>(n));
  return text;
}

}  // namespace

std::string OperationLockHolder::Describe(int64_t now_unix_ms) const {
  const int64_t seconds = std::max<int64_t>(0, (now_unix_ms - since_unix_ms) / 1000);
  return "`" + verb + "` (zkpilot pid " + std::to_string(pid) + "), running for " + std::to_string(seconds) + "s";
}

Result<OperationLock> OperationLock::Acquire(const std::string& home, const std::string& cluster,
                                             const std::string& verb, LockTakeover takeover,
                                             std::string* taken_over) {
  if (taken_over) taken_over->clear();
  std::error_code ec;
  std::filesystem::create_directories(home + "/locks", ec);
  if (ec) return Status::IOError("creating " + home + "/locks: " + ec.message());
  const std::string path = LockPathOf(home, cluster);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("opening " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK) {
      ::close(fd);
      return Status::IOError("locking " + path + ": " + std::strerror(err));
    }
    // Who holds it: the holder writes its line right after taking the lock,
    // so a command that lost a race by microseconds waits for the line; a
    // line left by a command that was killed names a process that is gone
    // (or a reused PID started at another time) and is waited past too.
    std::optional<OperationLockHolder> holder = LiveHolder(ReadAll(fd));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    while (!holder && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      holder = LiveHolder(ReadAll(fd));
    }
    const std::string who = holder ? holder->Describe(NowUnixMs()) : "another zkpilot command";
    if (takeover == LockTakeover::kKill && !holder) {
      // Held, but not by the process the file names: never kill on a guess.
      const std::optional<OperationLockHolder> named = ParseHolder(ReadAll(fd));
      ::close(fd);
      return Status::Conflict("cannot force: " +
                              (named ? "pid " + std::to_string(named->pid) + " is not the command that took " + path +
                                           " (it has ended, or its PID was reused)"
                                     : path + " names no command") +
                              ", yet the lock is held; find its holder with `fuser " + path + "`");
    }
    if (takeover == LockTakeover::kKill) {
      Status killed = KillHolderAndLock(fd, path, *holder);
      if (!killed.ok()) {
        ::close(fd);
        return killed;
      }
      if (taken_over) *taken_over = who;
    } else {
      ::close(fd);
      return Status::Conflict(cluster + " is being changed by " + who + ": one command at a time changes a cluster. " +
                              "Wait until it ends (`zkpilot status " + cluster + "` shows its progress), or stop it " +
                              "(Ctrl-C or kill" + (holder ? " " + std::to_string(holder->pid) : std::string()) +
                              ": it stops after its current step, and `zkpilot resume " + cluster +
                              "` continues it)" +
                              (verb == "delete" ? "; `zkpilot delete " + cluster + " --force` kills a stuck one"
                                                : std::string()));
    }
  }
  const std::string line = std::to_string(::getpid()) + " " + verb + " " + std::to_string(NowUnixMs()) + " " +
                           std::to_string(ProcessStartTicks(::getpid())) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, line.data(), line.size(), 0) != static_cast<ssize_t>(line.size())) {
    const int err = errno;
    ::close(fd);
    return Status::IOError("writing " + path + ": " + std::strerror(err));
  }
  return OperationLock(fd);
}

OperationLock::OperationLock(OperationLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

OperationLock& OperationLock::operator=(OperationLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

OperationLock::~OperationLock() {
  if (fd_ < 0) return;
  // Emptied while still held, so that the next holder's rivals never read
  // this command's line as theirs.
  (void)!::ftruncate(fd_, 0);
  ::close(fd_);  // releases the lock
}

std::optional<OperationLockHolder> HeldOperationLock(const std::string& home, const std::string& cluster) {
  const int fd = ::open(LockPathOf(home, cluster).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<OperationLockHolder> holder;
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
    ::flock(fd, LOCK_UN);  // nobody holds it
  } else {
    holder = LiveHolder(ReadAll(fd));
    if (!holder) holder = OperationLockHolder{};  // held, by a command not yet (or no longer) named
  }
  ::close(fd);
  return holder;
}

}  // namespace zkpilot
