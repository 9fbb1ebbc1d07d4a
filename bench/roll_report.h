// bench/roll's results and their tables. One RunResult per run (zkpilot or
// the baseline, one part, one ensemble size); PrintPart prints the two side by
// side, and for rolls the targets zkpilot is held to, each PASS or FAIL.
// Pure formatting: nothing here touches a server.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "roll_observe.h"
#include "write_checker/write_checker.h"

namespace zkpilot::bench {

struct RunResult {
  testing::WriteReport report;
  LookingCount looking;                         // in the servers' logs during the operation
  std::vector<LookingCount> looking_by_server;  // server 1, 2, ...
  std::optional<JavaReport> java;               // the Java client writer, when it ran
  std::string java_error;                       // why it did not
  int64_t loaded = 0;                           // znodes loaded before the operation
  double load_s = 0;
  double operation_s = 0;  // the operation itself
  double healthy_s = 0;    // from the operation's start until the ensemble was healthy again
  std::vector<std::string> steps;
  std::string final_state;
};

enum class PartKind { kRoll, kScale };

// One target zkpilot's run is held to (rolls only).
struct Target {
  std::string name;   // "longest write gap <= 350 ms"
  std::string value;  // what was measured, as printed
  bool pass = false;
};

// Gap <= 350 ms and <= 0.4x the baseline's, failed writes <= 0.25x, roll
// time <= the baseline's, no LOOKING other than a JVM's start-up one, one
// leader change, nothing lost.
std::vector<Target> RollTargets(const RunResult& zkpilot, const RunResult& baseline);

// "2.50" for zkpilot / baseline; "-" when both are 0, "inf" when only the baseline is.
std::string Ratio(double zkpilot, double baseline);

void PrintPart(const std::string& title, const RunResult& zkpilot, const RunResult& baseline,
               const std::string& note, PartKind kind);

}  // namespace zkpilot::bench
