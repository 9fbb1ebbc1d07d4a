// Plan: what an operation will do, as pure data.
//
// A Plan is an ordered list of Steps (start server 2, wait until healthy, run
// the deploy init hooks, ...). Planners (pure functions, change_planner.h)
// build plans from the cluster's current and desired state; `--dry-run`
// prints them; the executor (executor.h) runs them step by step, journaling
// each step so that an interrupted operation resumes at its first unfinished
// step. Steps are platform-neutral: the step runner (actions/step_runner.h)
// carries out every kind through the Platform interface.
//
// A step is journaled as JSON {"kind": "<name>", "args": {...},
// "description": "..."}; the kind names below are what journals hold, so they
// never change. A name this version does not know reads back as kInvalid,
// which fails when run (naming it) instead of being skipped.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace zkpilot {

enum class StepKind {
  kInvalid,         // not a step this version knows (a newer journal, a damaged one)
  kPrepareNode,     // "prepare-node" {node, members?}: write/apply the server's configuration
  kStartNode,       // "start-node" {node}: ask for the server to run
  kWaitHealthy,     // "wait-healthy" {timeout_ms, members?, except?}: quorum health, by srvr
  kRunHooks,        // "run-hooks" {event, phase, members?, nodes?, purge?}: the package's hooks
  kStopNodes,       // "stop-nodes" {timeout_ms?}: stop every server
  kRestartNode,     // "restart-node" {node, generation, timeout_ms}: quorum-gated restart
  kReconfigAdd,     // "reconfig-add" {node}: make the server a voter (dynamic reconfiguration)
  kReconfigRemove,  // "reconfig-remove" {node}: remove it from the voters
  kStopNode,        // "stop-node" {node, timeout_ms?}: stop one server
  kApplyAddons,     // "apply-addons": the add-ons as the values switch them on/off
  kForgetNode,      // "forget-node" {node}: drop a removed server from the platform
  kTearDown,        // "tear-down" {purge, timeout_ms?}: remove what the platform made
  // "hand-off-leader" {node, generation, timeout_ms}: the leader's restart by
  // a leadership hand-off (reconfig of its quorum port), else leader-last
  kHandOffLeader,
  // "restore-quorum-port" {node, timeout_ms}: the server's normal quorum port again
  kRestoreQuorumPort,
  // "roll-to-stage" {stage?, client_addresses?, quorum_auth_stage?, timeout_ms}:
  // every server whose observed stages differ is re-rendered at them
  // (render/renderer.h ServerRender) and restarted, quorum-gated, followers
  // by id, then the leader by hand-off (switching TLS or quorum SASL)
  kRollToStage,
  // "set-client-addresses" {present}: the membership with or without client
  // addresses (one non-incremental reconfig), every zoo.cfg re-rendered alike
  kSetClientAddresses,
};

// The journal name of a kind ("prepare-node"); "invalid" for kInvalid.
const char* StepKindName(StepKind kind);
// kInvalid for a name this version does not know.
StepKind ParseStepKind(std::string_view name);

struct Step {
  StepKind kind = StepKind::kInvalid;
  nlohmann::json args = nlohmann::json::object();  // e.g. {"node": 2}
  std::string description;  // for people: "start server 2"
  // The kind as a journal named it, kept when this version does not know it
  // (kind kInvalid): messages name it and ToJson writes it back unchanged.
  std::string unknown_kind;

  nlohmann::json ToJson() const;
  static Step FromJson(const nlohmann::json& j);
  // The server the step is about (args.node), 0 when none.
  int Node() const;
  // The kind's name: StepKindName, or the unknown name a journal held.
  std::string KindName() const;
};

struct Plan {
  std::string operation;   // "deploy", "delete", ...
  std::string cluster;
  std::vector<Step> steps;

  // "Plan: deploy demo (7 steps)\n  1. ...\n" — what --dry-run prints.
  std::string ToText() const;
};

}  // namespace zkpilot
