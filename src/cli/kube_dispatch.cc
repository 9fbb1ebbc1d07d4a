#include "cli/kube_dispatch.h"

#include "cli/number_flags.h"

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actions/render_action.h"

namespace zkpilot::cli {

void AddPlatformFlags(CLI::App* cmd, PlatformFlags& flags, bool with_namespace) {
  if (const char* env = std::getenv("ZKPILOT_PLATFORM"); env && *env) flags.platform = env;
  cmd->add_option("--platform", flags.platform,
                  "Where the cluster runs: local (this machine) or kubernetes (through the zkpilot operator); "
                  "default $ZKPILOT_PLATFORM, else local")
      ->check(CLI::IsMember({"local", "kubernetes"}));
  cmd->add_option("--kubeconfig", flags.kube.kubeconfig,
                  "Kubernetes: kubeconfig file (default $KUBECONFIG, else ~/.kube/config, else the pod's service account)")
      ->type_name("FILE");
  cmd->add_option("--context", flags.kube.context, "Kubernetes: kubeconfig context (default: its current-context)")
      ->type_name("NAME");
  if (with_namespace)
    cmd->add_option("-n,--namespace", flags.kube.namespace_,
                    "Kubernetes: namespace of the cluster (default: the context's, else default)")
        ->type_name("NS");
}

int FailWith(const Status& status) {
  spdlog::error("{}", status.message());
  return ExitCodeFor(status);
}

namespace {

Result<KubeSession> Open(const PlatformFlags& flags) {
  auto session = OpenKubeSession(flags.kube);
  if (!session.ok()) return session.status();
  session->note = [](const std::string& line) {
    fmt::print(stderr, "{}\n", line);
    std::fflush(stderr);
  };
  return session;
}

}  // namespace

int RunKube(const PlatformFlags& flags, const std::function<Result<KubeOutput>(KubeSession&)>& body) {
  auto session = Open(flags);
  if (!session.ok()) return FailWith(session.status());
  auto out = body(*session);
  if (!out.ok()) return FailWith(out.status());
  for (const auto& w : out->warnings) spdlog::warn("{}", w);
  if (!out->text.empty()) {
    std::fputs(out->text.c_str(), stdout);
    if (out->text.back() != '\n') std::fputc('\n', stdout);
  }
  return out->exit_code;
}

int RunKubeLogs(const PlatformFlags& flags, const KubeLogsRequest& request) {
  auto session = Open(flags);
  if (!session.ok()) return FailWith(session.status());
  Status s = KubeLogs(*session, request, [](const std::string& line) {
    std::fputs(line.c_str(), stdout);
    if (line.empty() || line.back() != '\n') std::fputc('\n', stdout);
    std::fflush(stdout);
    return true;
  });
  return s.ok() ? 0 : FailWith(s);
}

CLI::App* AddOperatorCommand(CLI::App& app, OperatorFlags& flags, CLI::App** manifests_cmd) {
  auto* cmd = app.add_subcommand(
      "operator",
      "Run the zkpilot operator: reconciles ZooKeeperCluster resources (deploy, rolls, scaling, hooks),\n"
      "in a pod with its service account or from outside with a kubeconfig. `operator manifests` prints\n"
      "what installs it.");
  cmd->add_option("--kubeconfig", flags.run.kubeconfig,
                  "kubeconfig file (default $KUBECONFIG, else ~/.kube/config, else the pod's service account)")
      ->type_name("FILE");
  cmd->add_option("--context", flags.run.context, "kubeconfig context")->type_name("NAME");
  cmd->add_option("-n,--namespace", flags.run.namespace_, "Watch only this namespace (default: all)")->type_name("NS");
  cmd->add_flag("--leader-elect", flags.run.leader_elect,
                "Take part in leader election through a Lease, so that several replicas run safely");
  cmd->add_option("--lease-namespace", flags.run.lease_namespace,
                  "Namespace of the Lease (default $POD_NAMESPACE, else the kubeconfig's)")
      ->type_name("NS");
  cmd->add_option("--health-addr", flags.run.health_addr, "Address of /healthz and /readyz ([HOST]:PORT, or off)")
      ->default_str(":8081");
  cmd->add_option("--resync", flags.run.resync, "Reconcile every cluster at least this often (30s, 2m, ...)")
      ->default_str("30s");
  cmd->add_flag("--once", flags.run.once, "Reconcile every cluster once and exit");
  cmd->add_option("--identity", flags.run.identity, "Lease holder identity (default: pod name or host name + pid)");

  auto* m = cmd->add_subcommand("manifests",
                                "Print the operator's manifests: the ZooKeeperCluster CRD (typed by PACKAGE's\n"
                                "parameters), namespace, RBAC (least privilege) and Deployment, for\n"
                                "`kubectl apply --server-side -f -`");
  m->add_option("package", flags.manifests.package_dir, "Package directory")->required()->type_name("PACKAGE");
  m->add_option("--namespace", flags.manifests.options.namespace_, "Namespace of the operator")
      ->default_str(flags.manifests.options.namespace_);
  m->add_option("--image", flags.manifests.options.image, "Operator image (default ghcr.io/zkpilot/zkpilot:<version>)");
  m->add_option("--replicas", flags.manifests.options.replicas, "Operator replicas (leader-elected)")
      ->check(WholeNumber(1, 5));
  m->add_option("--output-dir", flags.manifests.output_dir, "Write one file per object here instead of stdout")
      ->type_name("DIR");
  *manifests_cmd = m;
  return cmd;
}

int RunOperatorCommand(const OperatorFlags& flags) {
  Status s = RunOperator(flags.run);
  return s.ok() ? 0 : FailWith(s);
}

int RunOperatorManifestsCommand(const OperatorFlags& flags) {
  auto out = RunOperatorManifests(flags.manifests);
  if (!out.ok()) return FailWith(out.status());
  std::fputs(out->c_str(), stdout);
  return 0;
}

}  // namespace zkpilot::cli
