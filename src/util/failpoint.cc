#include "util/failpoint.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace zkpilot {

void Failpoint(std::string_view name) {
  const char* list = std::getenv("ZKPILOT_FAILPOINTS");
  if (list == nullptr || *list == '\0') return;
  std::string_view rest(list);
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    if (rest.substr(0, comma) == name) ::kill(::getpid(), SIGKILL);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
}

}  // namespace zkpilot
