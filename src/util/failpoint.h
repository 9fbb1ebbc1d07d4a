// Failpoints: named places where a test can have zkpilot die, to prove that
// an operation interrupted exactly there is finished by `zkpilot resume`.
//
// ZKPILOT_FAILPOINTS is a comma-separated list of names; when the running
// process reaches a listed name it kills itself with SIGKILL (as `kill -9`
// would: nothing is journaled, no destructor runs). Unset, a failpoint costs
// one getenv. Names in use: handoff.after-reconfig, handoff.after-successor,
// handoff.after-restart (actions/step_runner.cc); tls.before-stage-3 (the
// roll to TLS stage 3, before its first restart) and tls.after-client-addresses
// (right after set-client-addresses' reconfig committed; actions/tls_steps.cc).
#pragma once

#include <string_view>

namespace zkpilot {

void Failpoint(std::string_view name);

}  // namespace zkpilot
