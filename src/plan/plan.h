// Plan: what an operation will do, as pure data.
//
// A Plan is an ordered list of Steps (start node 2, wait until healthy, run
// the deploy init hooks, ...). Planners (pure functions) build plans from the
// cluster's current and desired state; `--dry-run` prints them; the executor
// (executor.h) runs them step by step, journaling each step so that an
// interrupted operation resumes at its first unfinished step.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace zkpilot {

struct Step {
  std::string kind;      // "start-node", "wait-healthy", "run-hooks", ...
  nlohmann::json args = nlohmann::json::object();  // e.g. {"node": 2}
  std::string description;  // for people: "start node 2 (127.0.0.1:2191)"

  nlohmann::json ToJson() const;
  static Step FromJson(const nlohmann::json& j);
};

struct Plan {
  std::string operation;   // "deploy", "delete", ...
  std::string cluster;
  std::vector<Step> steps;

  // "Plan: deploy demo (7 steps)\n  1. ...\n" — what --dry-run prints.
  std::string ToText() const;
};

}  // namespace zkpilot
