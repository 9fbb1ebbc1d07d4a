// Step builders: the one place each kind's arguments and description are
// written (the step runner, actions/step_runner.h, reads them back).
//
// `members` arguments are the server ids that make up the ensemble at that
// point of a plan (scaling changes it step by step); empty means "the target
// values' servers" (prepare, hooks) or "every server the platform knows"
// (waits). Timeouts are per wait, in the step so a resumed plan keeps them.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "package/package.h"
#include "plan/plan.h"
#include "render/renderer.h"

namespace zkpilot {

// `where` (optional, for people): "127.0.0.1:2181".
Step PrepareNodeStep(int id, const std::vector<int>& members = {}, const std::string& where = "");
// `learner`: the server joins a running ensemble (scaling): it syncs before it votes.
Step StartNodeStep(int id, bool learner = false);
// Healthy: every server of `members` in sync with one leader. Servers of
// `except` (about to be restarted: the plan repairs them) may be unhealthy
// as long as there is quorum.
Step WaitHealthyStep(std::chrono::milliseconds timeout, const std::string& why, const std::vector<int>& members = {},
                     const std::vector<int>& except = {});
// `nodes`: the servers file actions touch (all when empty); `purge`: they may
// remove data (remove-node-data).
Step RunHooksStep(HookEvent event, HookPhase phase, const std::vector<int>& members = {},
                  const std::vector<int>& nodes = {}, bool purge = false);
Step StopNodesStep(std::chrono::milliseconds timeout);
// `role` for people: "follower", "the leader, last".
Step RestartNodeStep(int id, int64_t generation, const std::string& role, std::chrono::milliseconds timeout);
// The leader's restart: hand leadership over to another voter by moving the
// leader's quorum port (reconfig), stop it as soon as a successor leads,
// start it at `generation`, wait until it is in sync. Falls back to a
// leader-last restart when the reconfig is refused.
Step HandOffLeaderStep(int id, int64_t generation, std::chrono::milliseconds timeout);
// Moves server `id`'s quorum port back to its normal one (after a hand-off).
Step RestoreQuorumPortStep(int id, std::chrono::milliseconds timeout);
Step ReconfigAddStep(int id);
Step ReconfigRemoveStep(int id);
Step StopNodeStep(int id, std::chrono::milliseconds timeout, const std::string& why = "");
// `addons`: names of the enabled add-ons, for people.
Step ApplyAddonsStep(const std::vector<std::string>& addons = {});
Step ForgetNodeStep(int id);
Step TearDownStep(bool purge_data, std::chrono::milliseconds timeout);
// Every server re-rendered at `render`'s stages and restarted, one at a
// time, quorum-gated (followers by id, the leader by hand-off); servers that
// already run them are skipped. Only `render`'s set fields are stage
// arguments. `clients_note` (may be empty): what clients may or must do from
// this step on, for people; it follows the description as "Clients: ...".
Step RollToStageStep(const ServerRender& render, std::chrono::milliseconds timeout, std::string clients_note);
// The committed membership with (`present`) or without client addresses,
// then every server's zoo.cfg rendered alike (no restart).
Step SetClientAddressesStep(bool present, std::string clients_note = "");
// The step's stages back (fields absent from its args stay empty).
ServerRender RollToStageRender(const Step& step);
// The TLS stage's name for people: "0 (plaintext)", "3 (TLS only)".
std::string TlsStageName(TlsStage stage);

}  // namespace zkpilot
