// The operator as a process, for the tests of the operator loop
// (operator_test.cc) until `zkpilot operator` runs it: the same flags as
// the command, the same action (RunOperator), the same exit codes.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "actions/operator_action.h"

int main(int argc, char** argv) {
  auto logger = spdlog::stderr_color_st("zkpilot");
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %l %v");
  spdlog::set_default_logger(logger);

  zkpilot::OperatorRequest request;
  CLI::App app{"zkpilot operator (test driver)"};
  // As the image's entrypoint runs it: `zkpilot operator ...`.
  std::string subcommand;
  app.add_option("subcommand", subcommand)->check(CLI::IsMember({"operator"}));
  app.add_option("--kubeconfig", request.kubeconfig);
  app.add_option("--context", request.context);
  app.add_option("-n,--namespace", request.namespace_);
  app.add_flag("--leader-elect", request.leader_elect);
  app.add_option("--lease-namespace", request.lease_namespace);
  app.add_option("--health-addr", request.health_addr);
  app.add_option("--resync", request.resync);
  app.add_flag("--once", request.once);
  app.add_option("--identity", request.identity);
  CLI11_PARSE(app, argc, argv);
  const zkpilot::Status status = zkpilot::RunOperator(request);
  if (!status.ok()) spdlog::error("{}", status.message());
  return zkpilot::ExitCodeFor(status);
}
