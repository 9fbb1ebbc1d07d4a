// zkpilot's verbs with --platform kubernetes.
//
// On Kubernetes the command line does not run operations: it validates
// everything it can locally (package, values, rendering, the change rules of
// change_planner.h: immutable parameters, upgrade paths), writes the desired
// state — the package as ConfigMaps and the ZooKeeperCluster's spec, by
// server-side apply under field manager "zkpilot-cli" — and follows the
// resource's status while the operator (`zkpilot operator`) carries the
// operation out, printing its steps as a local command prints its own.
// Nothing is written before every check passed; --dry-run writes nothing
// (the API validates the resource as a server-side dry run).
//
// Exit codes as locally: errors are Status values (kInvalidInput → 2, e.g. a
// cluster that does not exist, invalid values, a change the package forbids,
// the API's 422); `status` of an unhealthy cluster and `alerts` with alerts
// active end with KubeOutput::exit_code 3.
//
// Thread-safety: a KubeSession is used by one thread at a time.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actions/kube_cluster_view.h"
#include "actions/kube_spec.h"
#include "actions/render_action.h"
#include "plan/executor.h"
#include "platform/kubernetes/kube_client.h"

namespace zkpilot {

// The API connection of one command and the namespace it works in (-n, else
// the kubeconfig context's namespace, else "default").
struct KubeSession {
  std::unique_ptr<KubeClient> client;
  std::string ns;
  // What a command says while it works, besides the operation's steps
  // ("installing the zkpilot operator ..."): stderr in the CLI.
  std::function<void(const std::string&)> note = [](const std::string&) {};
};
// --kubeconfig, --context, -n/--namespace; KUBECONFIG is honoured.
Result<KubeSession> OpenKubeSession(const KubeConfigOptions& options);

// What a command prints on stdout, and its exit code when it succeeded.
struct KubeOutput {
  std::string text;
  int exit_code = 0;                  // 3: `status` unhealthy, `alerts` active
  std::vector<std::string> warnings;  // for stderr
};

inline constexpr std::chrono::minutes kKubeFollowTimeout{10};

// deploy NAME PACKAGE: validate, check the operator (install it with
// `install_operator`), push the package, apply the resource, follow the
// deploy until the ensemble is healthy.
struct KubeDeployRequest {
  std::string name;
  std::string package_dir;
  ValuesRequest values;
  bool dry_run = false;
  bool install_operator = false;
  std::string operator_namespace = "zkpilot-system";
  std::string
      operator_image;  // empty: the operator manifests' default (ghcr.io/zkpilot/zkpilot:<version>)
  std::chrono::milliseconds timeout{
      kKubeFollowTimeout};  // following the operation, and installing the operator
};
Result<KubeOutput> KubeDeploy(KubeSession& session, const KubeDeployRequest& request,
                              ProgressSink& progress);

// configure / upgrade / rollback / restart / scale NAME.
struct KubeChangeRequest {
  std::string name;
  KubeChangeKind kind = KubeChangeKind::kConfigure;
  ValuesRequest values;  // configure: -f / --set
  std::string version;   // upgrade: --version
  int to_revision = 0;   // rollback: --to-revision (0: the one before the current)
  int replicas = 0;      // scale: --replicas
  bool dry_run = false;
  std::chrono::milliseconds timeout{kKubeFollowTimeout};
};
Result<KubeOutput> KubeApplyChange(KubeSession& session, const KubeChangeRequest& request,
                                   ProgressSink& progress);

// resume NAME: the operator resumes an interrupted operation by itself; this
// follows it. Nothing unfinished: InvalidInput (exit 2).
struct KubeResumeRequest {
  std::string name;
  std::chrono::milliseconds timeout{kKubeFollowTimeout};
};
Result<KubeOutput> KubeResume(KubeSession& session, const KubeResumeRequest& request,
                              ProgressSink& progress);

// delete NAME: sets spec.purgeDataOnDelete, deletes the resource, follows
// until it is gone (the operator runs the delete hooks and tears down; the
// claims stay unless purge_data).
struct KubeDeleteRequest {
  std::string name;
  bool purge_data = false;
  bool dry_run = false;
  std::chrono::milliseconds timeout{kKubeFollowTimeout};
};
Result<KubeOutput> KubeDelete(KubeSession& session, const KubeDeleteRequest& request,
                              ProgressSink& progress);

// Read-only views.
Result<KubeOutput> KubeStatus(KubeSession& session, const std::string& name, ViewFormat format);
Result<KubeOutput> KubeList(KubeSession& session, ViewFormat format, bool all_namespaces = false);
Result<KubeOutput> KubeHistory(KubeSession& session, const std::string& name, ViewFormat format);

// logs NAME [NODE] [-f]: the servers' pod logs, "[server N] " before each
// line when there are several. With `follow`, streams until interrupted or
// `print_line` returns false (a restarted or replaced pod is picked up
// again; lines of a container already printed are not printed twice).
// `print_line` is called for one line at a time.
struct KubeLogsRequest {
  std::string name;
  int node = 0;  // 0: every server
  bool follow = false;
  std::optional<int> tail_lines;
};
Status KubeLogs(KubeSession& session, const KubeLogsRequest& request,
                const std::function<bool(const std::string&)>& print_line);

// alerts NAME: the Prometheus add-on's /api/v1/alerts, through the API
// server's service proxy. exit_code 3 when some are pending or firing.
struct KubeAlertsRequest {
  std::string name;
  bool json = false;
};
Result<KubeOutput> KubeAlerts(KubeSession& session, const KubeAlertsRequest& request);

}  // namespace zkpilot
