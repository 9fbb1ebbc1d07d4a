#include "write_checker/server_log.h"

#include <sstream>

namespace zkpilot::testing {
namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

LookingCount& LookingCount::operator+=(const LookingCount& o) {
  transitions += o.transitions;
  not_at_startup += o.not_at_startup;
  jvm_starts += o.jvm_starts;
  return *this;
}

LookingCount CountLooking(const std::string& text) {
  // The log pattern ends "... [thread:Class@line] - %m"; the message is exactly "LOOKING".
  static const std::string kLooking = "] - LOOKING";
  static const std::string kStart = "Starting quorum peer";
  LookingCount c;
  bool starting = false;  // a JVM started in `text` and has not served yet
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find(kStart) != std::string::npos) {
      ++c.jvm_starts;
      starting = true;
    } else if (line.find("Peer state changed: ") != std::string::npos && EndsWith(line, " - broadcast")) {
      starting = false;
    } else if (EndsWith(line, kLooking)) {
      ++c.transitions;
      if (!starting) ++c.not_at_startup;
    }
  }
  return c;
}

}  // namespace zkpilot::testing
