// Helpers for the local platform's end-to-end tests: run a program the way a
// user does (environment, stdin /dev/null, separate stdout and stderr, exit
// code), find free blocks of 127.0.0.1 ports, find the processes a test left
// behind, wait for a condition with a deadline, read a znode's ACL.
//
// These helpers deliberately do not use the local platform's own process and
// port functions: the tests check that code, so they look for themselves.
// Thread-safety: RunProcess forks; call it from one thread at a time.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "util/status.h"

namespace zkpilot::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  bool timed_out = false;
  std::string out;  // stdout
  std::string err;  // stderr
  std::string All() const { return out + err; }
};

struct RunOptions {
  std::vector<std::string> env;  // "KEY=value": replaces or extends the test's environment
  std::string working_dir;       // empty: inherit
  std::string capture_dir;       // where stdout and stderr are collected (must exist)
  std::chrono::milliseconds timeout{std::chrono::minutes(3)};  // then SIGKILL
};

// Runs `argv` (argv[0] an absolute path) to completion, stdin /dev/null.
ProcessResult RunProcess(const std::vector<std::string>& argv, const RunOptions& options);

// True when a TCP socket can bind and listen on 127.0.0.1:port (with
// SO_REUSEADDR, as ZooKeeper's JVM sets it: TIME_WAIT leftovers do not count).
bool PortBindable(int port);

// A base port in a random region of 10000..32000 (below the kernel's
// ephemeral range, so outgoing connections cannot take it) such that
// base..base+span all bind; blocks handed out by this process never overlap.
// Returns 0 when no free block is found.
int FindFreePortBlock(int span);

// Listens on 127.0.0.1:port until destroyed (to make a port "in use").
class Listener {
 public:
  explicit Listener(int port);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// True when `pid` exists and is not a zombie.
bool PidAlive(int pid);
// The process's command line, arguments joined by spaces ("" if gone).
std::string Cmdline(int pid);
// Live (non-zombie) processes whose command line contains `needle`.
std::vector<int> PidsWithCmdline(const std::string& needle);

// Calls `done` every `interval` until it returns true (then true) or
// `timeout` has passed (then false).
bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval = std::chrono::milliseconds(100));

// The ACL of a znode as "scheme:id:perms" entries joined by ',', perms in
// the order "cdrwa" (the notation of the package's hooks.yaml). With
// `digest_credentials` ("user:password") the session authenticates first.
Result<std::string> ZnodeAcl(const std::string& connect_string, const std::string& path,
                             const std::string& digest_credentials = "");

}  // namespace zkpilot::testing

namespace zkpilot::testing {

// The distribution store tests use: $ZKPILOT_DISTRIBUTIONS, else the default
// store that scripts/setup.sh fills.
std::string DistributionStore();

// A test's own zkpilot world: a temporary ZKPILOT_HOME, a directory for
// captured output and a block of free 127.0.0.1 ports. Cleanup() leaves
// nothing behind even after a failed test: it deletes every recorded cluster
// with `zkpilot delete --purge-data`, SIGKILLs whatever still runs with the
// home in its command line (servers' markers, supervisors' --home, add-ons'
// config paths), waits until it is gone, and removes the directory.
class TestHome {
 public:
  // False (with a reason in `error`) when no directory or port block could be had.
  bool Create(const std::string& prefix, int port_span, std::string* error);
  // REQUIRES: `zkpilot` is the binary's absolute path. Returns false when
  // processes survived SIGKILL.
  bool Cleanup(const std::string& zkpilot);

  const std::string& root() const { return root_; }
  const std::string& home() const { return home_; }
  const std::string& capture() const { return capture_; }
  int base_port() const { return base_; }
  // ZKPILOT_HOME, ZKPILOT_DISTRIBUTIONS, a port registry of the test's own
  // (ZKPILOT_PORTS_DIR under root()) and ZKPILOT_SUPERVISION=guardian for the
  // binary's environment.
  std::vector<std::string> Env() const;

 private:
  std::string root_, home_, capture_;
  int base_ = 0;
};

}  // namespace zkpilot::testing
