#include "package/package.h"

namespace zkpilot {
namespace {

// "3.8.*" matches "3.8.0" and "3.8.4"; anything else must match exactly.
bool VersionMatches(const std::string& pattern, const std::string& version) {
  if (pattern.size() >= 2 && pattern.compare(pattern.size() - 2, 2, ".*") == 0) {
    std::string prefix = pattern.substr(0, pattern.size() - 1);  // keeps the dot
    return version.rfind(prefix, 0) == 0;
  }
  return pattern == version;
}

}  // namespace

const VersionSpec* Package::FindVersion(const std::string& v) const {
  for (const auto& spec : versions)
    if (spec.version == v) return &spec;
  return nullptr;
}

bool Package::UpgradeAllowed(const std::string& from, const std::string& to) const {
  if (from == to) return true;
  for (const auto& path : upgrade_paths) {
    if (!VersionMatches(path.from, from)) continue;
    for (const auto& t : path.to)
      if (VersionMatches(t, to)) return true;
  }
  return false;
}

const char* HookEventName(HookEvent e) {
  switch (e) {
    case HookEvent::kDeploy: return "deploy";
    case HookEvent::kUpgrade: return "upgrade";
    case HookEvent::kScale: return "scale";
    case HookEvent::kDelete: return "delete";
  }
  return "?";
}

const char* HookPhaseName(HookPhase p) { return p == HookPhase::kInit ? "init" : "cleanup"; }

}  // namespace zkpilot
