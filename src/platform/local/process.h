// Processes the local platform starts: detached, logged, found again by PID.
//
// A node's JVM must outlive the zkpilot command (and the supervisor) that
// started it, so processes are started in their own session with stdin from
// /dev/null and stdout/stderr appended to a log file. A PID alone is not
// proof of identity (PIDs are reused), so liveness checks also look for a
// marker string in the process's command line.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "util/status.h"

namespace zkpilot {

struct SpawnOptions {
  std::vector<std::string> argv;       // argv[0] is looked up in PATH
  std::string working_dir;             // empty: inherit
  std::string log_path;                // stdout and stderr, appended
  std::vector<std::string> extra_env;  // "KEY=value"
  bool new_session = true;             // setsid(): survive the parent's terminal and death
};

// Starts the process and returns its PID. Fails if the program cannot be executed.
Result<int> Spawn(const SpawnOptions& options);

// True when `pid` runs and its command line contains `marker` (any argument).
bool ProcessAlive(int pid, const std::string& marker);

// How a process is stopped.
enum class StopMode {
  kTerminate,  // SIGTERM, SIGKILL after the grace period: lets the program clean up
  kKill,       // SIGKILL at once: for programs whose SIGTERM does nothing SIGKILL skips
};

// Stops the process and waits until it is gone, reaping it if it is our
// child. Returns how it ended ("killed by signal 9", "exited with code 143";
// "gone" when it was not our child, "not running" when it had already
// ended). An error only when it survives SIGKILL for 10 s.
Result<std::string> StopProcess(int pid, const std::string& marker, StopMode mode, std::chrono::milliseconds grace);

// StopProcess with StopMode::kTerminate.
Status TerminateProcess(int pid, const std::string& marker, std::chrono::milliseconds grace);

// A waitpid status in words: "exited with code N" or "killed by signal N".
std::string DescribeWaitStatus(int status);

// The last `lines` lines of a text file ("" if it cannot be read).
std::string TailFile(const std::string& path, int lines);

// True when nothing listens on 127.0.0.1:port and it can be bound.
bool PortFree(int port);

// A port on 127.0.0.1 that nothing listens on now (the kernel's choice, in
// the ephemeral range); someone else may take it before the caller binds it.
Result<int> FreeLoopbackPort();

// Absolute path of the running zkpilot executable.
std::string SelfExecutable();

}  // namespace zkpilot

namespace zkpilot {

struct CommandResult {
  int exit_code = -1;   // -1 when killed by a signal or timed out
  std::string output;   // stdout and stderr
  bool timed_out = false;
};

// Runs a command to completion (stdin /dev/null), killing it after `timeout`.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

// Full path of `program` found in PATH, or "" when absent.
std::string FindInPath(const std::string& program);

}  // namespace zkpilot
