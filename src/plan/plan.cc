#include "plan/plan.h"

namespace zkpilot {

nlohmann::json Step::ToJson() const {
  return {{"kind", kind}, {"args", args}, {"description", description}};
}

Step Step::FromJson(const nlohmann::json& j) {
  Step s;
  s.kind = j.value("kind", "");
  s.args = j.value("args", nlohmann::json::object());
  s.description = j.value("description", "");
  return s;
}

std::string Plan::ToText() const {
  std::string out = "Plan: " + operation + " " + cluster + " (" + std::to_string(steps.size()) + " steps)\n";
  for (size_t i = 0; i < steps.size(); ++i)
    out += "  " + std::to_string(i + 1) + ". " + steps[i].description + "\n";
  return out;
}

}  // namespace zkpilot
