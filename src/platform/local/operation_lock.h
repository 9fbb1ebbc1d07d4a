// One command that changes a local cluster at a time.
//
// deploy, the changes (configure, upgrade, rollback, restart, scale),
// resume and delete hold <home>/locks/<cluster>.lock with flock(2) for as
// long as they run. The kernel drops the lock when the process ends,
// however it ends (a SIGKILLed command's operation can be resumed at once),
// and the descriptor is close-on-exec, so processes the command starts (the
// supervisor, the servers) never hold it. The file also says who holds it:
// "PID VERB SINCE_UNIX_MS START_TICKS", for the message a second command gets
// and for `status`; START_TICKS (the process's start time, /proc/PID/stat)
// tells that PID from a later process that reuses it, so `delete --force`
// never kills a stranger.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "util/status.h"

namespace zkpilot {

struct OperationLockHolder {
  int pid = 0;
  std::string verb;
  int64_t since_unix_ms = 0;
  int64_t start_ticks = 0;  // 0: not recorded (a lock written by an older zkpilot)
  // "`configure` (zkpilot pid 4242), running for 12s"
  std::string Describe(int64_t now_unix_ms) const;
};

// What Acquire does when another command holds the lock.
enum class LockTakeover {
  kRefuse,  // fail (kConflict) naming the holder
  kKill,    // SIGKILL the holder (a stuck command) once its PID and start time
            // match the lock file, then take the lock; its operation is left
            // unfinished, as any killed command's is
};

class OperationLock {
 public:
  // Takes the lock for `verb`, or fails (kConflict) naming the command that
  // holds it, its PID and how long it has run, and what to do. With
  // LockTakeover::kKill, `*taken_over` (when given) describes the command
  // that was killed ("" when the lock was free).
  static Result<OperationLock> Acquire(const std::string& home, const std::string& cluster, const std::string& verb,
                                       LockTakeover takeover = LockTakeover::kRefuse,
                                       std::string* taken_over = nullptr);

  OperationLock(OperationLock&& other) noexcept;
  OperationLock& operator=(OperationLock&& other) noexcept;
  OperationLock(const OperationLock&) = delete;
  OperationLock& operator=(const OperationLock&) = delete;
  ~OperationLock();

 private:
  explicit OperationLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Who holds the lock of `cluster` now (nobody: nullopt).
std::optional<OperationLockHolder> HeldOperationLock(const std::string& home, const std::string& cluster);

}  // namespace zkpilot
