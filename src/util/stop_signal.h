// SIGINT, SIGTERM and SIGHUP during a command that changes a cluster.
//
// The first one asks the command to stop at the next step boundary: the
// step that runs finishes (a server half restarted is worse than one
// restarted), the journal keeps the next steps pending, the operation stays
// unfinished, and `zkpilot resume NAME` continues it. A second one ends the
// process at once, as a kill would; the journal still says where it was.
//
// Thread-safety: the flag is a lock-free atomic, set by the handler and read
// by any thread.
#pragma once

#include <string>

namespace zkpilot {

// Installs the handlers (SIGINT, SIGTERM, SIGHUP).
void CatchStopSignals();

// 0, or the first stop signal received since CatchStopSignals.
int StopSignalReceived();

// "SIGINT", "SIGTERM", "SIGHUP", or "signal N".
std::string StopSignalName(int sig);

// For tests: as if `sig` had been received (0 clears).
void SetStopSignalForTesting(int sig);

}  // namespace zkpilot
