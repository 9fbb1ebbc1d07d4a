#include "roll_util.h"

#include <fmt/format.h>

#include <cstdio>
#include <thread>

namespace zkpilot::bench {

std::atomic<bool> g_interrupted{false};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

void Log(const std::string& line) {
  fmt::print(stderr, "bench/roll: {}\n", line);
  std::fflush(stderr);
}

Status WaitFor(const std::string& what, std::chrono::milliseconds timeout,
               const std::function<bool()>& done, std::chrono::milliseconds interval) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (done()) return Status::Ok();
    if (g_interrupted.load()) return Status::Internal("interrupted while waiting for " + what);
    if (Clock::now() >= deadline)
      return Status::IOError(
          fmt::format("timed out after {:.0f} s waiting for {}", timeout.count() / 1000.0, what));
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace zkpilot::bench
