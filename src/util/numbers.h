// Whole numbers and durations typed by people: one strict reading for every
// place zkpilot expects an integer (--set values and values files of integer
// parameters, --replicas, --to-revision, a server id, --timeout).
//
// Only plain decimal digits with an optional leading '-' are a whole number:
// "0x3", "0o7", "3.0", " 3", "+3", "1e2" and "03" are refused, because each
// is read differently by different tools (YAML 1.1 reads "010" as octal,
// YAML 1.2 reads "0x3" as 3, JSON refuses both). A value that could mean two
// things is not guessed at. Errors are InvalidInput; their messages leave
// out the field, which callers put in front ("replicas: ..."), as
// Status::WithContext does.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace zkpilot {

// `text` as a decimal whole number, or nullopt (also when out of int64 range).
std::optional<int64_t> ParseDecimalInteger(std::string_view text);

// "expected integer (decimal digits, like 3), got \"0x3\"".
std::string NotAWholeNumber(std::string_view text);

// `text` as a whole number in [min, max]; InvalidInput saying the range otherwise.
Result<int64_t> ParseWholeNumber(std::string_view text, int64_t min, int64_t max);

// A duration: whole seconds ("90") or a whole number with a unit ("90s",
// "10m", "2h"), within [min, max]. Out of range, the message states the
// range in people's units: "must be between 1s and 24h, got 0".
Result<std::chrono::seconds> ParseDuration(std::string_view text, std::chrono::seconds min, std::chrono::seconds max);

// "90s", "10m", "24h": a duration in its largest whole unit.
std::string DurationText(std::chrono::seconds d);

}  // namespace zkpilot
