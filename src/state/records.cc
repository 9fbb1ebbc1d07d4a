#include "state/records.h"

#include <chrono>

namespace zkpilot {
namespace {

// The names enums are stored as, in the order of the enumerators.
constexpr const char* kClusterStateNames[] = {"deploying", "deployed",      "failed",        "updating",
                                              "update-failed", "deleting", "delete-failed"};
constexpr const char* kRevisionStatusNames[] = {"pending", "deployed", "failed", "superseded"};
constexpr const char* kStepStatusNames[] = {"pending", "running", "done", "failed", "skipped"};
constexpr const char* kOperationStatusNames[] = {"running", "succeeded", "failed"};

template <typename E>
size_t Index(E e) {
  return static_cast<size_t>(e);
}
template <typename E, size_t N>
std::optional<E> ParseName(const char* const (&names)[N], const std::string& s) {
  for (size_t i = 0; i < N; ++i)
    if (s == names[i]) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* ClusterStateName(ClusterState s) { return kClusterStateNames[Index(s)]; }
std::optional<ClusterState> ParseClusterState(const std::string& s) {
  return ParseName<ClusterState>(kClusterStateNames, s);
}
const char* RevisionStatusName(RevisionStatus s) { return kRevisionStatusNames[Index(s)]; }
std::optional<RevisionStatus> ParseRevisionStatus(const std::string& s) {
  return ParseName<RevisionStatus>(kRevisionStatusNames, s);
}
const char* StepStatusName(StepStatus s) { return kStepStatusNames[Index(s)]; }
std::optional<StepStatus> ParseStepStatus(const std::string& s) { return ParseName<StepStatus>(kStepStatusNames, s); }
const char* OperationStatusName(OperationStatus s) { return kOperationStatusNames[Index(s)]; }
std::optional<OperationStatus> ParseOperationStatus(const std::string& s) {
  return ParseName<OperationStatus>(kOperationStatusNames, s);
}

}  // namespace zkpilot
