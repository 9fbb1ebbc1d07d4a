// Checks for command-line flags that take numbers, on the one strict reading
// of util/numbers.h: "--replicas 0x3", "--timeout 1e2" and "--timeout 0" are
// refused with a message naming the flag (CLI11 puts its name in front).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "util/numbers.h"

namespace zkpilot::cli {

// A whole number in [min, max]: "--replicas: expected integer (decimal digits, like 3), got \"0x3\"".
inline CLI::Validator WholeNumber(int64_t min, int64_t max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        auto v = ParseWholeNumber(text, min, max);
        return v.ok() ? std::string() : v.status().message();
      },
      "INT in [" + std::to_string(min) + " - " + std::to_string(max) + "]");
}

// The flags' time limits: long enough for any wait of an operation, short
// enough that a typo (an extra zero or two) is noticed.
inline constexpr std::chrono::seconds kMinTimeout{1};
inline constexpr std::chrono::seconds kMaxTimeout{std::chrono::hours(24)};

// A duration ("90", "90s", "10m", "2h") between kMinTimeout and kMaxTimeout,
// handed on as whole seconds: "--timeout: must be between 1s and 24h, got 0".
// Use with Option::transform.
inline CLI::Validator Timeout() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        auto v = ParseDuration(text, kMinTimeout, kMaxTimeout);
        if (!v.ok()) return v.status().message();
        text = std::to_string(v->count());
        return std::string();
      },
      "DURATION in [" + DurationText(kMinTimeout) + " - " + DurationText(kMaxTimeout) + "]");
}

}  // namespace zkpilot::cli
