// zkpilot's command line: parses flags, calls the library, maps errors to
// exit codes (0 success, 2 invalid input or usage, 1 any other failure).
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "actions/cluster_actions.h"
#include "actions/monitoring_action.h"
#include "actions/render_action.h"
#include "cli/certs_command.h"
#include "cli/kube_dispatch.h"
#include "cli/number_flags.h"
#include "platform/local/local_actions.h"
#include "platform/local/guardian.h"
#include "platform/local/local_files.h"
#include "platform/local/paths.h"
#include "platform/local/supervisor.h"
#include "util/stop_signal.h"

namespace {

using zkpilot::OutputFormat;
using zkpilot::Status;

constexpr int kExitUsage = 2;

int Fail(const Status& status) {
  spdlog::error("{}", status.message());
  return zkpilot::ExitCodeFor(status);
}

// A command that changes cluster `name`, stopped between two steps by a
// signal (util/stop_signal.h): 128 + the signal, and how to go on.
int FailOrStopped(const Status& status, const std::string& name) {
  const int sig = zkpilot::StopSignalReceived();
  if (sig == 0) return Fail(status);
  spdlog::error("{}", status.message());
  spdlog::error("the operation is journaled and unfinished: continue it with `zkpilot resume {}`", name);
  return 128 + sig;
}

void AddValuesFlags(CLI::App* cmd, zkpilot::ValuesRequest& values) {
  cmd->add_option("--set", values.sets,
                  "Set a parameter: key=value, nested keys with dots (repeatable; later wins)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  cmd->add_option("-f,--values", values.files, "YAML values file (repeatable; later files win)")
      ->type_name("FILE")
      ->allow_extra_args(false);
}

// Progress of a plan, one line per step on stderr.
class StderrProgress : public zkpilot::ProgressSink {
 public:
  void StepStarted(size_t index, size_t total, const zkpilot::Step& step) override {
    fmt::print(stderr, "[{}/{}] {} ...\n", index + 1, total, step.description);
    std::fflush(stderr);
  }
  void StepFinished(size_t index, size_t total, const zkpilot::Step& step, const Status& status,
                    const std::string& outcome, std::chrono::milliseconds took) override {
    if (status.ok())
      fmt::print(stderr, "[{}/{}] done in {:.1f}s{}\n", index + 1, total, took.count() / 1000.0,
                 outcome.empty() ? "" : ": " + outcome);
    else
      fmt::print(stderr, "[{}/{}] FAILED after {:.1f}s\n", index + 1, total, took.count() / 1000.0);
    std::fflush(stderr);
  }
  void Warning(const std::string& message) override { spdlog::warn("{}", message); }
};

const std::map<std::string, zkpilot::Format> kViewFormats = {
    {"table", zkpilot::Format::kTable}, {"json", zkpilot::Format::kJson}, {"yaml", zkpilot::Format::kYaml}};

// `zkpilot logs -f`: print what the files gain, forever (until interrupted).
int FollowLogs(const std::vector<std::pair<int, std::string>>& files, bool follow) {
  std::vector<std::streamoff> offsets(files.size(), 0);
  const bool prefix = files.size() > 1;
  do {
    for (size_t i = 0; i < files.size(); ++i) {
      std::ifstream in(files[i].second);
      if (!in) continue;
      in.seekg(0, std::ios::end);
      std::streamoff size = in.tellg();
      if (size < offsets[i]) offsets[i] = 0;  // truncated
      in.seekg(offsets[i]);
      std::string line;
      while (std::getline(in, line)) {
        if (in.eof()) {  // an unfinished last line: wait for the rest
          break;
        }
        if (prefix) fmt::print("[server {}] ", files[i].first);
        fmt::print("{}\n", line);
        offsets[i] = in.tellg();
      }
      if (!follow && in.eof() && !line.empty()) {
        if (prefix) fmt::print("[server {}] ", files[i].first);
        fmt::print("{}\n", line);
      }
    }
    std::fflush(stdout);
    if (follow) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  } while (follow);
  return 0;
}

const std::map<std::string, OutputFormat> kFormats = {{"yaml", OutputFormat::kYaml},
                                                      {"json", OutputFormat::kJson}};

}  // namespace

int main(int argc, char** argv) {
  // Output piped into a reader that quit (`zkpilot configure ... | head`)
  // must not kill an operation halfway: writes fail quietly instead.
  ::signal(SIGPIPE, SIG_IGN);
  auto logger = spdlog::stderr_color_st("zkpilot");
  logger->set_pattern("zkpilot: %^%l%$: %v");
  spdlog::set_default_logger(logger);

  CLI::App app{
      "zkpilot deploys and operates Apache ZooKeeper ensembles.\n"
      "Packages describe versions, parameters, Kubernetes templates, hooks and add-ons;\n"
      "see docs/package-format.md.",
      "zkpilot"};
  app.set_version_flag("--version", std::string("zkpilot ") + ZKPILOT_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Log more detail");
  app.footer(
      "State (clusters, revisions, journals) lives in $ZKPILOT_HOME (default ~/.local/state/zkpilot).\n"
      "Exit codes: 0 success, 2 invalid input (package, values, usage, unknown cluster), 1 any other failure,\n"
      "3 `status` of an unhealthy cluster.\n"
      "Kubernetes: the cluster verbs take --platform kubernetes (or ZKPILOT_PLATFORM=kubernetes) with\n"
      "--kubeconfig, --context and -n, before or after the verb; the zkpilot operator does the work\n"
      "(`zkpilot operator manifests PACKAGE`).");
  zkpilot::cli::PlatformFlags pf;
  // Also before the verb, as kubectl takes them: `zkpilot -n NS status NAME`.
  AddPlatformFlags(&app, pf);

  // render
  zkpilot::RenderRequest render;
  std::string render_format = "yaml";
  auto* render_cmd = app.add_subcommand(
      "render", "Render the package's Kubernetes objects (no side effects).\n"
                "Prints multi-document YAML, or writes one file per object with --output-dir.");
  render_cmd->add_option("package", render.package_dir, "Package directory")->required()->type_name("PACKAGE");
  AddValuesFlags(render_cmd, render.values);
  render_cmd->add_option("--name", render.options.cluster_name, "Cluster (release) name; object names derive from it")
      ->capture_default_str();
  render_cmd->add_option("-n,--namespace", render.options.namespace_name, "Kubernetes namespace")
      ->capture_default_str();
  render_cmd->add_option("--format,-o", render_format, "Output format")
      ->check(CLI::IsMember({"yaml", "json"}))
      ->capture_default_str();
  render_cmd->add_option("--output-dir", render.output_dir,
                         "Write one file per object into DIR (must not exist or be empty); nothing is written on error")
      ->type_name("DIR");

  // lint
  std::string lint_package;
  zkpilot::ValuesRequest lint_values;
  auto* lint_cmd = app.add_subcommand(
      "lint", "Check a package and values: schema, templates (including disabled add-ons), rendering.");
  lint_cmd->add_option("package", lint_package, "Package directory")->required()->type_name("PACKAGE");
  AddValuesFlags(lint_cmd, lint_values);

  // params
  std::string params_package;
  std::string params_format = "table";
  auto* params_cmd = app.add_subcommand("params", "List the package's parameters: type, default, change, description.");
  params_cmd->add_option("package", params_package, "Package directory")->required()->type_name("PACKAGE");
  params_cmd->add_option("--format,-o", params_format, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();

  const std::string home = zkpilot::ZkpilotHome();

  // deploy
  zkpilot::DeployRequest deploy;
  double deploy_timeout_s = 180;
  auto* deploy_cmd = app.add_subcommand(
      "deploy", "Deploy an ensemble: validate, plan, start the servers, wait until the ensemble is healthy\n"
                "(a leader, every server following in sync), run the deploy hooks.");
  deploy_cmd->add_option("name", deploy.name, "Cluster name (lower-case letters, digits, '-')")->required();
  deploy_cmd->add_option("package", deploy.package_dir, "Package directory")->required()->type_name("PACKAGE");
  AddValuesFlags(deploy_cmd, deploy.values);
  AddPlatformFlags(deploy_cmd, pf);
  bool deploy_install_operator = false;
  std::string deploy_operator_image, deploy_operator_namespace = "zkpilot-system";
  deploy_cmd->add_flag("--install-operator", deploy_install_operator,
                       "Kubernetes: install the CRD and the operator when they are missing");
  deploy_cmd->add_option("--operator-image", deploy_operator_image, "Kubernetes: image of the operator to install");
  deploy_cmd->add_option("--operator-namespace", deploy_operator_namespace, "Kubernetes: namespace of the operator")
      ->capture_default_str();
  deploy_cmd->add_flag("--dry-run", deploy.dry_run, "Validate and print the plan; change nothing");
  deploy_cmd->add_flag("--allow-privileged-ports", deploy.allow_privileged_ports,
                       "Local: let the cluster take ports below 1024 (needs root or CAP_NET_BIND_SERVICE)");
  deploy_cmd->footer(
      "Examples:\n"
      "  zkpilot deploy demo packages/zookeeper\n"
      "  zkpilot deploy orders packages/zookeeper --set replicas=5 --set version=3.9.3 --set clientPort=3181\n"
      "Locally server N listens on 127.0.0.1, ports clientPort+(N-1)*10 (client) .. +4 (quorum port during a leader hand-off).");
  deploy_cmd->add_option("--timeout", deploy_timeout_s, "Time to wait for the ensemble to become healthy: seconds, or 90s, 10m, 2h")
      ->transform(zkpilot::cli::Timeout())
      ->capture_default_str();

  // status
  std::string status_name, status_format = "table";
  auto* status_cmd = app.add_subcommand(
      "status", "Show a cluster: per server role, state, version, zxid and lag, connections, latency, uptime,\n"
                "pid and restarts; for the ensemble quorum, leader and conditions (Ready, Degraded, Progressing).\n"
                "Exit code 0 when healthy, 3 when not.");
  status_cmd->add_option("name", status_name, "Cluster name")->required();
  AddPlatformFlags(status_cmd, pf);
  status_cmd->add_option("-o,--output", status_format, "Output format")
      ->check(CLI::IsMember({"table", "json", "yaml"}))
      ->capture_default_str();

  // list
  std::string list_format = "table";
  auto* list_cmd = app.add_subcommand("list", "List the clusters zkpilot manages (on this machine, or in a namespace)");
  AddPlatformFlags(list_cmd, pf);
  bool list_all_namespaces = false;
  list_cmd->add_flag("-A,--all-namespaces", list_all_namespaces, "Kubernetes: every namespace");
  list_cmd->add_option("-o,--output", list_format, "Output format")
      ->check(CLI::IsMember({"table", "json", "yaml"}))
      ->capture_default_str();

  // delete
  zkpilot::DeleteRequest del;
  bool delete_orphans = false;
  auto* delete_cmd = app.add_subcommand(
      "delete", "Delete a cluster: run its delete hooks, stop every server and its supervisor, free its ports.\n"
                "Data is kept unless --purge-data.");
  delete_cmd->add_option("name", del.name, "Cluster name (with --orphans: only its orphans)");
  delete_cmd->add_flag("--orphans", delete_orphans,
                       "Local: stop the processes of this state directory's clusters that have no record\n"
                       "(state.db deleted or replaced; `zkpilot list` shows them)");
  AddPlatformFlags(delete_cmd, pf);
  delete_cmd->add_flag("--purge-data", del.purge_data, "Also remove the servers' data directories");
  delete_cmd->add_flag("--dry-run", del.dry_run, "Print the plan; change nothing");
  delete_cmd->add_flag("--force", del.force,
                       "Local: when another command is changing the cluster (a stuck upgrade, say), kill it\n"
                       "(SIGKILL, after checking its PID and start time) and delete anyway");
  double delete_timeout_s = 300;
  delete_cmd->add_option("--timeout", delete_timeout_s, "Kubernetes: seconds to wait for the cluster's objects to go")
      ->transform(zkpilot::cli::Timeout())
      ->capture_default_str();

  // logs
  std::string logs_name;
  int logs_node = 0;
  bool logs_follow = false;
  auto* logs_cmd = app.add_subcommand("logs", "Print the servers' logs (one server with NODE)");
  logs_cmd->add_option("name", logs_name, "Cluster name")->required();
  AddPlatformFlags(logs_cmd, pf);
  logs_cmd->add_option("node", logs_node, "Server id")->check(zkpilot::cli::WholeNumber(1, 255));
  logs_cmd->add_flag("-f,--follow", logs_follow, "Keep printing new lines");

  // history
  std::string history_name, history_format = "table";
  auto* history_cmd = app.add_subcommand("history", "List a cluster's revisions: operation, version, outcome, duration");
  history_cmd->add_option("name", history_name, "Cluster name")->required();
  AddPlatformFlags(history_cmd, pf);
  history_cmd->add_option("-o,--output", history_format, "Output format")
      ->check(CLI::IsMember({"table", "json", "yaml"}))
      ->capture_default_str();

  // Day-2 operations share their flags.
  zkpilot::ChangeRequest change;
  double change_timeout_s = 120;
  auto add_change_flags = [&](CLI::App* cmd) {
    cmd->add_option("name", change.name, "Cluster name")->required();
    AddPlatformFlags(cmd, pf);
    cmd->add_flag("--dry-run", change.dry_run, "Validate and print the plan; change nothing");
    cmd->add_flag("--allow-privileged-ports", change.allow_privileged_ports,
                  "Local: let the change take new ports below 1024 (needs root or CAP_NET_BIND_SERVICE)");
    cmd->add_option("--timeout", change_timeout_s, "Time each wait (healthy before, back in sync after) may take: seconds, or 90s, 10m, 2h")
        ->transform(zkpilot::cli::Timeout())
        ->capture_default_str();
  };
  auto* upgrade_cmd = app.add_subcommand(
      "upgrade", "Switch the ensemble to another ZooKeeper version (upgrade or downgrade, as the package allows):\n"
                 "upgrade hooks, then a rolling restart - followers first, the leader last, one server at a time,\n"
                 "each gated on the ensemble being healthy.");
  add_change_flags(upgrade_cmd);
  upgrade_cmd->add_option("--version", change.version, "Target ZooKeeper version")->required();
  upgrade_cmd->footer("Example: zkpilot upgrade demo --version 3.9.3 --dry-run");
  auto* rollback_cmd = app.add_subcommand(
      "rollback", "Go back to an earlier revision's values (version, configuration) through the same planner.");
  add_change_flags(rollback_cmd);
  rollback_cmd->add_option("--to-revision", change.to_revision, "Revision to go back to (default: the previous one)")
      ->check(zkpilot::cli::WholeNumber(1, INT32_MAX));
  auto* configure_cmd = app.add_subcommand(
      "configure", "Change parameters: validated against the schema; immutable ones are refused; changes that need\n"
                   "a restart roll the ensemble (quorum-gated); no change, no restart.");
  add_change_flags(configure_cmd);
  AddValuesFlags(configure_cmd, change.values);
  configure_cmd->footer("Example: zkpilot configure demo --set tickTime=3000   (zkpilot params PACKAGE: what each change needs)");
  auto* restart_cmd = app.add_subcommand("restart", "A safe rolling restart: followers first, the leader last.");
  add_change_flags(restart_cmd);
  auto* scale_cmd = app.add_subcommand(
      "scale", "Add or remove voters one at a time by dynamic reconfiguration; existing servers keep running.");
  add_change_flags(scale_cmd);
  scale_cmd->add_option("--replicas", change.replicas, "Target number of servers")->required()->check(zkpilot::cli::WholeNumber(1, 255));
  scale_cmd->footer("Example: zkpilot scale demo --replicas 5   (odd sizes tolerate the most failures)");
  std::string resume_name;
  auto* resume_cmd = app.add_subcommand(
      "resume", "Continue an interrupted operation (e.g. zkpilot was killed) from its first unfinished step.");
  resume_cmd->add_option("name", resume_name, "Cluster name")->required();
  AddPlatformFlags(resume_cmd, pf);
  double resume_timeout_s = 600;
  resume_cmd->add_option("--timeout", resume_timeout_s, "Kubernetes: seconds to follow the resumed operation")
      ->transform(zkpilot::cli::Timeout())
      ->capture_default_str();

  // alerts, dashboards
  std::string alerts_name, alerts_format = "table";
  auto* alerts_cmd = app.add_subcommand(
      "alerts", "The cluster's alerts that are firing or pending (from its Prometheus): severity, summary,\n"
                "since when, the server concerned. Exit code 0 when none, 3 when some.");
  alerts_cmd->add_option("name", alerts_name, "Cluster name")->required();
  AddPlatformFlags(alerts_cmd, pf);
  alerts_cmd->add_option("-o,--output", alerts_format, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  std::string dashboards_name, dashboards_dir;
  auto* dashboards_cmd = app.add_subcommand(
      "dashboards", "Write the package's Grafana dashboards, set up for the cluster's Prometheus, with Grafana\n"
                    "provisioning files, ready to import (see docs/local-monitoring.md).");
  dashboards_cmd->add_option("name", dashboards_name, "Cluster name")->required();
  dashboards_cmd->add_option("--output-dir", dashboards_dir, "Directory to write (must not exist, or be empty)")
      ->required()
      ->type_name("DIR");

  // certs, connect
  zkpilot::cli::CertsFlags certs_flags;
  auto* certs_cmd = zkpilot::cli::AddCertsCommand(app, certs_flags);
  zkpilot::cli::ConnectFlags connect_flags;
  auto* connect_cmd = zkpilot::cli::AddConnectCommand(app, connect_flags);

  // operator, operator manifests
  zkpilot::cli::OperatorFlags operator_flags;
  CLI::App* operator_manifests_cmd = nullptr;
  auto* operator_cmd = zkpilot::cli::AddOperatorCommand(app, operator_flags, &operator_manifests_cmd);

  // supervise (internal: started in the background by the other commands)
  zkpilot::SupervisorOptions supervise;
  auto* supervise_cmd = app.add_subcommand("supervise", "Run a cluster's supervisor in the foreground (internal)");
  supervise_cmd->group("");
  supervise_cmd->add_option("name", supervise.cluster, "Cluster name")->required();
  supervise_cmd->add_option("--home", supervise.home, "State directory");
  // guard (internal: started in the background by the supervisor)
  zkpilot::GuardianOptions guard;
  auto* guard_cmd = app.add_subcommand("guard", "Keep a cluster's supervisor running (internal)");
  guard_cmd->group("");
  guard_cmd->add_option("name", guard.cluster, "Cluster name")->required();
  guard_cmd->add_option("--home", guard.home, "State directory");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  if (verbose) spdlog::set_level(spdlog::level::debug);
  if (delete_cmd->parsed() && del.name.empty() && !delete_orphans) {
    spdlog::error("delete: a cluster name is required (or --orphans)");
    return kExitUsage;
  }

  if (render_cmd->parsed()) {
    render.format = kFormats.at(render_format);
    auto text = zkpilot::RunRender(render);
    if (!text.ok()) return Fail(text.status().WithContext("render"));
    std::fwrite(text->data(), 1, text->size(), stdout);
    if (!render.output_dir.empty()) spdlog::info("wrote objects to {}", render.output_dir);
    return std::fflush(stdout) == 0 ? 0 : 1;
  }
  if (lint_cmd->parsed()) {
    auto report = zkpilot::RunLint(lint_package, lint_values);
    for (const auto& e : report.errors) fmt::print("ERROR    {}\n", e);
    for (const auto& w : report.warnings) fmt::print("WARNING  {}\n", w);
    fmt::print("{}: {} error(s), {} warning(s), {} object(s) rendered\n", lint_package, report.errors.size(),
               report.warnings.size(), report.objects_rendered);
    return report.errors.empty() ? 0 : kExitUsage;
  }
  StderrProgress progress;
  using zkpilot::cli::RunKube;
  using zkpilot::KubeSession;
  const auto view_format = [](const std::string& f) {
    return f == "json" ? zkpilot::ViewFormat::kJson : f == "yaml" ? zkpilot::ViewFormat::kYaml : zkpilot::ViewFormat::kTable;
  };
  const auto kube_timeout = [](CLI::App* cmd, double seconds, std::chrono::milliseconds fallback) {
    return cmd->count("--timeout") ? std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000)) : fallback;
  };
  if (operator_manifests_cmd->parsed()) return zkpilot::cli::RunOperatorManifestsCommand(operator_flags);
  if (operator_cmd->parsed()) {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %l %v");
    // Credentials given before the verb (`zkpilot --kubeconfig F operator`).
    if (operator_flags.run.kubeconfig.empty()) operator_flags.run.kubeconfig = pf.kube.kubeconfig;
    if (operator_flags.run.context.empty()) operator_flags.run.context = pf.kube.context;
    if (operator_flags.run.namespace_.empty()) operator_flags.run.namespace_ = pf.kube.namespace_;
    return zkpilot::cli::RunOperatorCommand(operator_flags);
  }
  if (pf.Kubernetes()) {
    for (CLI::App* cmd : {certs_cmd, connect_cmd})
      if (cmd->parsed()) {
        spdlog::error("{}: the local platform only for now (on Kubernetes the certificates are in the cluster's "
                      "Secrets, the CA in <cluster>-tls-ca; this command does not issue client certificates there "
                      "yet)", cmd->get_name());
        return kExitUsage;
      }
    if (deploy_cmd->parsed()) {
      zkpilot::KubeDeployRequest r;
      r.name = deploy.name;
      r.package_dir = deploy.package_dir;
      r.values = deploy.values;
      r.dry_run = deploy.dry_run;
      r.install_operator = deploy_install_operator;
      r.operator_image = deploy_operator_image;
      r.operator_namespace = deploy_operator_namespace;
      r.timeout = kube_timeout(deploy_cmd, deploy_timeout_s, r.timeout);
      return RunKube(pf, [&](KubeSession& s) { return zkpilot::KubeDeploy(s, r, progress); });
    }
    if (status_cmd->parsed())
      return RunKube(pf, [&](KubeSession& s) { return zkpilot::KubeStatus(s, status_name, view_format(status_format)); });
    if (list_cmd->parsed())
      return RunKube(pf, [&](KubeSession& s) { return zkpilot::KubeList(s, view_format(list_format), list_all_namespaces); });
    if (history_cmd->parsed())
      return RunKube(pf, [&](KubeSession& s) { return zkpilot::KubeHistory(s, history_name, view_format(history_format)); });
    if (delete_cmd->parsed()) {
      if (del.force) {
        spdlog::error("delete --force: the local platform only (on Kubernetes the operator's lease decides who "
                      "changes a cluster)");
        return kExitUsage;
      }
      if (delete_orphans) {
        spdlog::error("delete --orphans: the local platform only (orphans are processes of a local state directory)");
        return kExitUsage;
      }
      zkpilot::KubeDeleteRequest r{del.name, del.purge_data, del.dry_run};
      r.timeout = kube_timeout(delete_cmd, delete_timeout_s, r.timeout);
      return RunKube(pf, [&](KubeSession& s) { return zkpilot::KubeDelete(s, r, progress); });
    }
    if (logs_cmd->parsed()) return zkpilot::cli::RunKubeLogs(pf, zkpilot::KubeLogsRequest{logs_name, logs_node, logs_follow, std::nullopt});
    if (resume_cmd->parsed()) {
      zkpilot::KubeResumeRequest r{resume_name};
      r.timeout = kube_timeout(resume_cmd, resume_timeout_s, r.timeout);
      return RunKube(pf, [&](KubeSession& s) { return zkpilot::KubeResume(s, r, progress); });
    }
    if (alerts_cmd->parsed()) {
      zkpilot::KubeAlertsRequest r{alerts_name, alerts_format == "json"};
      return RunKube(pf, [&](KubeSession& s) { return zkpilot::KubeAlerts(s, r); });
    }
    const std::vector<std::pair<CLI::App*, zkpilot::KubeChangeKind>> kube_change_cmds = {
        {upgrade_cmd, zkpilot::KubeChangeKind::kUpgrade}, {rollback_cmd, zkpilot::KubeChangeKind::kRollback},
        {configure_cmd, zkpilot::KubeChangeKind::kConfigure}, {restart_cmd, zkpilot::KubeChangeKind::kRestart},
        {scale_cmd, zkpilot::KubeChangeKind::kScale}};
    for (const auto& [cmd, kind] : kube_change_cmds) {
      if (!cmd->parsed()) continue;
      zkpilot::KubeChangeRequest r;
      r.name = change.name;
      r.kind = kind;
      r.values = change.values;
      r.version = change.version;
      r.to_revision = change.to_revision;
      r.replicas = change.replicas;
      r.dry_run = change.dry_run;
      r.timeout = kube_timeout(cmd, change_timeout_s, r.timeout);
      return RunKube(pf, [&](KubeSession& s) { return zkpilot::KubeApplyChange(s, r, progress); });
    }
  }
  // From here on every verb is the local platform's: what it and the
  // servers it starts create under the state directory is the owner's only.
  // Not `dashboards`: what it writes is for Grafana, another user, to read.
  if (!dashboards_cmd->parsed())
    zkpilot::RestrictStateDirectory(supervise_cmd->parsed() && !supervise.home.empty() ? supervise.home
                                    : guard_cmd->parsed() && !guard.home.empty()   ? guard.home
                                                                                    : home);
  if (deploy_cmd->parsed()) {
    deploy.timeout = std::chrono::milliseconds(static_cast<int64_t>(deploy_timeout_s * 1000));
    zkpilot::CatchStopSignals();
    auto result = zkpilot::LocalDeploy(home, deploy, progress);
    if (!result.ok()) return FailOrStopped(result.status(), deploy.name);
    if (result->dry_run) {
      fmt::print("{}(dry run: nothing was changed)\n", result->plan_text);
      return 0;
    }
    fmt::print("deployed {} (revision {}): {}\ntime to healthy: {:.1f}s\n", deploy.name, result->revision,
               result->health, result->took.count() / 1000.0);
    return 0;
  }
  if (status_cmd->parsed()) {
    auto status = zkpilot::LocalStatus(home, status_name);
    if (!status.ok()) return Fail(status.status());
    fmt::print("{}", zkpilot::FormatLocalStatus(*status, kViewFormats.at(status_format)));
    return (*status)["healthy"].get<bool>() ? 0 : 3;
  }
  if (list_cmd->parsed()) {
    auto text = zkpilot::LocalList(home, kViewFormats.at(list_format));
    if (!text.ok()) return Fail(text.status());
    fmt::print("{}", *text);
    return 0;
  }
  if (delete_cmd->parsed() && delete_orphans) {
    auto text = zkpilot::LocalDeleteOrphans(home, del);
    if (!text.ok()) return Fail(text.status());
    fmt::print("{}{}", *text, del.dry_run ? "(dry run: nothing was changed)\n" : "");
    return 0;
  }
  if (delete_cmd->parsed()) {
    auto text = zkpilot::LocalDelete(home, del, progress);
    if (!text.ok()) return Fail(text.status());
    fmt::print("{}{}\n", *text, del.dry_run ? "(dry run: nothing was changed)" : "");
    return 0;
  }
  if (logs_cmd->parsed()) {
    auto files = zkpilot::LocalLogFiles(home, logs_name, logs_node);
    if (!files.ok()) return Fail(files.status());
    return FollowLogs(*files, logs_follow);
  }
  if (history_cmd->parsed()) {
    auto text = zkpilot::LocalHistory(home, history_name, kViewFormats.at(history_format));
    if (!text.ok()) return Fail(text.status());
    fmt::print("{}", *text);
    return 0;
  }
  const std::vector<std::pair<CLI::App*, zkpilot::ChangeKind>> change_cmds = {
      {upgrade_cmd, zkpilot::ChangeKind::kUpgrade}, {rollback_cmd, zkpilot::ChangeKind::kRollback},
      {configure_cmd, zkpilot::ChangeKind::kConfigure}, {restart_cmd, zkpilot::ChangeKind::kRestart},
      {scale_cmd, zkpilot::ChangeKind::kScale}};
  for (const auto& [cmd, kind] : change_cmds) {
    if (!cmd->parsed()) continue;
    change.kind = kind;
    change.timeout = std::chrono::milliseconds(static_cast<int64_t>(change_timeout_s * 1000));
    zkpilot::CatchStopSignals();
    auto result = zkpilot::LocalChange(home, change, progress);
    if (!result.ok()) return FailOrStopped(result.status(), change.name);
    for (const auto& w : result->warnings) spdlog::warn("{}", w);
    if (result->nothing_to_do) {
      fmt::print("{}: nothing to change{}; nothing restarted\n", change.name,
                 result->changes.empty() ? "" : " (" + result->changes + ")");
      return 0;
    }
    if (result->dry_run) {
      fmt::print("{}{}(dry run: nothing was changed)\n", result->changes.empty() ? "" : "Changes: " + result->changes + "\n",
                 result->plan_text);
      return 0;
    }
    fmt::print("{} {}: revision {}{}\n{}\ntook {:.1f}s\n", cmd->get_name(), change.name, result->revision,
               result->changes.empty() ? "" : " (" + result->changes + ")", result->health, result->took.count() / 1000.0);
    return 0;
  }
  if (resume_cmd->parsed()) {
    zkpilot::CatchStopSignals();
    auto result = zkpilot::LocalResume(home, resume_name, progress);
    if (!result.ok()) return FailOrStopped(result.status(), resume_name);
    fmt::print("resumed {}: revision {} done\n{}\ntook {:.1f}s\n", resume_name, result->revision, result->health,
               result->took.count() / 1000.0);
    return 0;
  }
  if (alerts_cmd->parsed()) {
    std::string text;
    auto code = zkpilot::AlertsCommand(home, alerts_name, alerts_format == "json", &text);
    if (!code.ok()) return Fail(code.status());
    fmt::print("{}", text);
    return *code;
  }
  if (dashboards_cmd->parsed()) {
    auto text = zkpilot::DashboardsCommand(home, dashboards_name, dashboards_dir);
    if (!text.ok()) return Fail(text.status());
    fmt::print("{}\n", *text);
    return 0;
  }
  if (certs_cmd->parsed()) return zkpilot::cli::RunCertsCommand(home, certs_flags);
  if (connect_cmd->parsed()) return zkpilot::cli::RunConnectCommand(home, connect_flags);
  if (supervise_cmd->parsed()) {
    if (supervise.home.empty()) supervise.home = home;
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %l %v");
    return zkpilot::RunSupervisor(supervise);
  }
  if (guard_cmd->parsed()) {
    if (guard.home.empty()) guard.home = home;
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %l %v");
    return zkpilot::RunGuardian(guard);
  }
  if (params_cmd->parsed()) {
    auto text = zkpilot::RunParams(params_package, params_format == "json" ? OutputFormat::kJson : OutputFormat::kYaml);
    if (!text.ok()) return Fail(text.status().WithContext("params"));
    fmt::print("{}", *text);
    return 0;
  }
  return kExitUsage;
}
