// The command line's Kubernetes side: `--platform kubernetes` flags on every
// cluster verb, `zkpilot operator` and `zkpilot operator manifests`. main.cc
// adds the flags with AddPlatformFlags and, when a verb runs with
// `--platform kubernetes`, hands it to the Run* functions here, which call
// the actions (src/actions/kube_commands.h, operator_action.h,
// operator_manifests_action.h) and return the exit code.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "actions/kube_commands.h"
#include "actions/operator_action.h"
#include "actions/operator_manifests_action.h"
#include "plan/executor.h"

namespace zkpilot::cli {

// --platform, --kubeconfig, --context, -n/--namespace of one verb.
struct PlatformFlags {
  std::string platform = "local";
  KubeConfigOptions kube;
  bool Kubernetes() const { return platform == "kubernetes"; }
};

// Adds the flags to `cmd`. `--platform` defaults to $ZKPILOT_PLATFORM, else
// local. `with_namespace` is false where the verb already has -n.
void AddPlatformFlags(CLI::App* cmd, PlatformFlags& flags, bool with_namespace = true);

// Exit code of a failed action (2 for the user's fault, else 1), after
// printing its message.
int FailWith(const Status& status);

// A Kubernetes verb: opens the session, runs `body`, prints its output and
// warnings; returns the exit code.
int RunKube(const PlatformFlags& flags, const std::function<Result<KubeOutput>(KubeSession&)>& body);

// `zkpilot logs` on Kubernetes: streams lines to stdout.
int RunKubeLogs(const PlatformFlags& flags, const KubeLogsRequest& request);

// The `operator` verb and its `manifests` subcommand.
struct OperatorFlags {
  OperatorRequest run;
  OperatorManifestsRequest manifests;
};
CLI::App* AddOperatorCommand(CLI::App& app, OperatorFlags& flags, CLI::App** manifests_cmd);
int RunOperatorCommand(const OperatorFlags& flags);
int RunOperatorManifestsCommand(const OperatorFlags& flags);

}  // namespace zkpilot::cli
