// bench/roll's measurements besides the write checker: LOOKING transitions
// read from the servers' logs, a bulk loader that gives the ensemble data to
// carry through the operation, and a writer on ZooKeeper's own Java client.
//
// LOOKING: counted by tests/write_checker/server_log.h, as the day-2 tests do.
//
// Not thread-safe; one thread at a time per object.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "util/status.h"
#include "write_checker/server_log.h"

namespace zkpilot::bench {

using testing::CountLooking;
using testing::LookingCount;

// The logs' sizes when the operation started, and what was appended since.
class LogWindow {
 public:
  // Remembers each file's current size (0 for a file that does not exist yet).
  void Mark(const std::vector<std::string>& paths);
  // Counts over what each marked file gained since Mark(), one entry per file
  // in Mark()'s order; a file that shrank (replaced) is read whole.
  std::vector<LookingCount> Count() const;

 private:
  std::vector<std::pair<std::string, uintmax_t>> start_;  // path, size at Mark()
};

// --- bulk load -----------------------------------------------------------------

struct LoadOptions {
  std::string connect;    // "127.0.0.1:p1,127.0.0.1:p2,..."
  int64_t count = 0;      // znodes to create
  size_t bytes = 1024;    // data per znode
  int per_parent = 1000;  // znodes under each /zkpilot-bench-data/d-NNNN
  int per_multi = 10;     // creates per multi request (one transaction); divides per_parent
  int in_flight = 100;    // multi requests outstanding at once
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
};

struct LoadReport {
  int64_t created = 0;
  double seconds = 0;
};

// Creates `count` persistent znodes of `bytes` bytes through the C client's
// asynchronous multi requests of `per_multi` creates, `in_flight` requests at
// a time (a multi is one transaction: one proposal and one log record instead
// of `per_multi`). 100 000 znodes of 1 KiB on a 3-server ensemble here: about
// 30 s one create per request (1000 in flight), about 11 s with the defaults;
// multis of 100 creates, 20 in flight, stalled the ensemble until the client's
// connection timed out. Fails on the first error.
Result<LoadReport> LoadZnodes(const LoadOptions& options);

// --- Java client writer ----------------------------------------------------------

struct JavaReport {
  int64_t acknowledged = 0;
  int64_t failed = 0;
  double longest_gap_ms = 0;
  int sessions = 0;
  std::string first_error;
};

// Parses RollWriter's closing line ("result acknowledged=N failed=N ...").
Result<JavaReport> ParseJavaResult(const std::string& output);

// bench/java/RollWriter.java, compiled into `dir` and run there.
class JavaWriter {
 public:
  // Compiles `source` with javac against `classpath` (the jars of a ZooKeeper
  // distribution) into `dir`. Fails, saying why, when javac is missing or the
  // compilation fails.
  static Result<JavaWriter> Build(const std::string& source, const std::string& dir,
                                  std::vector<std::string> classpath);
  JavaWriter(JavaWriter&& other) noexcept;
  JavaWriter& operator=(JavaWriter&&) = delete;
  ~JavaWriter();  // kills a writer still running (by PID)

  // Starts a writer in the new directory `run_dir` and waits until it has 100
  // acknowledged writes.
  Status Start(const std::string& run_dir, const std::string& connect,
               std::chrono::milliseconds interval, int session_timeout_ms);
  // Asks the writer to stop (the file run_dir/stop), waits for its result and
  // for its exit.
  Result<JavaReport> Stop();
  // Stops a running writer at once (SIGTERM, then SIGKILL), without a result.
  void Kill();

 private:
  JavaWriter(std::string dir, std::vector<std::string> classpath);

  std::string dir_;
  std::vector<std::string> classpath_;
  std::string run_dir_;
  int pid_ = 0;
};

}  // namespace zkpilot::bench
