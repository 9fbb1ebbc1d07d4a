#include "util/stop_signal.h"

#include <signal.h>

#include <atomic>

namespace zkpilot {
namespace {

std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "set from a signal handler");

void OnStopSignal(int sig) {
  int expected = 0;
  if (!g_signal.compare_exchange_strong(expected, sig)) {
    // The second one: end now, with the signal's own default action.
    ::signal(sig, SIG_DFL);
    ::raise(sig);
  }
}

}  // namespace

void CatchStopSignals() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // a read or wait in progress goes on
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

int StopSignalReceived() { return g_signal.load(); }

std::string StopSignalName(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "signal " + std::to_string(sig);
  }
}

void SetStopSignalForTesting(int sig) { g_signal.store(sig); }

}  // namespace zkpilot
