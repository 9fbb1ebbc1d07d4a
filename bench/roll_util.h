// bench/roll's small shared helpers: its log line, polling with a deadline,
// and the Ctrl-C flag every wait honours. Used by roll_bench.cc and
// roll_observe.cc; not a library for anything else.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "util/status.h"

namespace zkpilot::bench {

using Clock = std::chrono::steady_clock;

// Set by the SIGINT/SIGTERM handler; every WaitFor gives up once it is set.
extern std::atomic<bool> g_interrupted;

double Seconds(Clock::duration d);

// "bench/roll: <line>" on stderr.
void Log(const std::string& line);

// Polls `done` every `interval` until it holds; fails after `timeout` or on Ctrl-C.
Status WaitFor(const std::string& what, std::chrono::milliseconds timeout,
               const std::function<bool()>& done,
               std::chrono::milliseconds interval = std::chrono::milliseconds(50));

}  // namespace zkpilot::bench
