// The Kubernetes session, and zkpilot resume / delete --platform kubernetes.
// deploy: kube_deploy.cc; the changes: kube_change.cc; the read-only
// views: kube_read_commands.cc.
#include "actions/kube_commands.h"

#include <fmt/format.h>

#include "actions/kube_cluster_reads.h"
#include "actions/kube_follow.h"
#include "actions/kube_objects.h"
#include "actions/kube_writes.h"

namespace zkpilot {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

std::string Took(SteadyClock::time_point started) {
  return fmt::format("{:.1f}s",
                     std::chrono::duration<double>(SteadyClock::now() - started).count());
}

// The claims of a cluster's servers (their data), as the package labels them.
std::vector<std::string> ServerClaims(KubeClient& client, const std::string& ns,
                                      const std::string& name) {
  ListOptions options;
  options.label_selector =
      std::string(kLabelInstance) + "=" + name + ",app.kubernetes.io/component=server";
  auto list =
      client.List({"", "v1", "persistentvolumeclaims", true, "PersistentVolumeClaim"}, ns, options);
  std::vector<std::string> names;
  if (!list.ok()) return names;  // only for the message: reading claims may not be allowed
  for (const auto& item : kube::Member(*list, "items"))
    names.push_back(kube::Str(kube::Member(item, "metadata"), "name"));
  return names;
}

}  // namespace

Result<KubeSession> OpenKubeSession(const KubeConfigOptions& options) {
  ZK_ASSIGN_OR_RETURN(KubeConnection connection, LoadKubeConnection(options));
  KubeSession session;
  session.ns = !options.namespace_.empty() ? options.namespace_ : connection.default_namespace;
  if (session.ns.empty()) session.ns = "default";
  ZK_ASSIGN_OR_RETURN(session.client, KubeClient::Create(connection));
  return session;
}

Result<KubeOutput> KubeResume(KubeSession& session, const KubeResumeRequest& req,
                              ProgressSink& progress) {
  const auto started = SteadyClock::now();
  KubeClient& client = *session.client;
  ZK_ASSIGN_OR_RETURN(ZooKeeperCluster cluster, GetClusterResource(client, session.ns, req.name));
  FollowTarget target;
  target.quiet_finished_steps = true;
  target.failure_without_operation = false;
  target.generation = cluster.Generation();
  const auto& op = cluster.status.operation;
  std::string what;
  if (cluster.Deleting()) {
    target.until_gone = true;
    target.require_operation = false;
    target.first_operation_id = op && op->type == "delete" ? op->id : LastOperationId(cluster) + 1;
    what = "delete " + req.name;
  } else if (op && op->phase == OperationStatus::kRunning) {
    target.first_operation_id = op->id;
    what = op->type + " " + req.name;
  } else if (op && op->phase == OperationStatus::kFailed) {
    // A failed operation's change is still the spec: the operator tries it
    // again as a new operation (from the ensemble as it is now) at its next
    // reconcile. Follow that one.
    target.first_operation_id = op->id + 1;
    what = "the retry of " + op->type + " " + req.name + " (operation " + std::to_string(op->id) +
           " failed: " + op->error + ")";
  } else if (cluster.status.observed_generation < cluster.Generation()) {
    // A change written but not picked up yet: its operation is still to come.
    target.first_operation_id = LastOperationId(cluster) + 1;
    what = "the change of " + req.name;
  } else {
    return Status::InvalidInput(
        req.name +
        " has no interrupted operation to resume (the operator resumes one by itself; "
        "this follows it)");
  }
  session.note(fmt::format("following {} (the operator carries it out)", what));
  OperationTracker tracker(target, progress);
  // What was read above is where the progress starts.
  std::optional<FollowOutcome> first = tracker.Observe(&cluster);
  ZK_ASSIGN_OR_RETURN(FollowOutcome outcome,
                      first ? Result<FollowOutcome>(*first)
                            : FollowCluster(client, session.ns, req.name, tracker, req.timeout));
  ZK_RETURN_IF_ERROR(OutcomeStatus(outcome, "resume " + req.name));
  KubeOutput out;
  if (target.until_gone) {
    out.text =
        fmt::format("deleted {} (namespace {})\ntook {}\n", req.name, session.ns, Took(started));
    return out;
  }
  out.text = fmt::format("resumed {}: revision {} done\n{}\ntook {}\n", req.name,
                         outcome.operation ? outcome.operation->revision : 0,
                         OperationHealth(outcome), Took(started));
  return out;
}

Result<KubeOutput> KubeDelete(KubeSession& session, const KubeDeleteRequest& req,
                              ProgressSink& progress) {
  const auto started = SteadyClock::now();
  KubeClient& client = *session.client;
  const std::string what = "delete " + req.name;
  ZK_ASSIGN_OR_RETURN(ZooKeeperCluster cluster, GetClusterResource(client, session.ns, req.name));
  ClusterSpec spec = cluster.spec;
  spec.purge_data_on_delete = req.purge_data;
  const json object = ClusterApplyObject(req.name, session.ns, spec);
  const std::string data = req.purge_data
                               ? "its data (the servers' PersistentVolumeClaims) is deleted too"
                               : "its data stays in the servers' PersistentVolumeClaims";
  KubeOutput out;
  if (req.dry_run) {
    ZK_RETURN_IF_ERROR(ApplyClusterObject(client, object, true).status());
    out.text = fmt::format(
        "would set spec.purgeDataOnDelete={} and delete ZooKeeperCluster {}/{}: the operator runs "
        "the delete hooks and "
        "removes the servers; {}\n(dry run: nothing was changed)\n",
        req.purge_data, session.ns, req.name, data);
    return out;
  }
  if (cluster.spec.purge_data_on_delete != req.purge_data)
    ZK_RETURN_IF_ERROR(ApplyClusterObject(client, object, false).status());
  FollowTarget target;
  target.until_gone = true;
  target.require_operation = false;
  target.first_operation_id = LastOperationId(cluster) + 1;
  Status deleted = Retrying(TransientDeadline(), [&] {
    return client.Delete(kube::ClusterResource(), session.ns, req.name, /*ignore_missing=*/true);
  });
  if (!deleted.ok()) return deleted.WithContext(what);
  session.note(fmt::format(
      "deleted ZooKeeperCluster {}/{}; the operator tears it down:", session.ns, req.name));
  OperationTracker tracker(target, progress);
  ZK_ASSIGN_OR_RETURN(FollowOutcome outcome,
                      FollowCluster(client, session.ns, req.name, tracker, req.timeout));
  ZK_RETURN_IF_ERROR(OutcomeStatus(outcome, what));
  out.text = fmt::format("deleted {} (namespace {})", req.name, session.ns);
  if (!req.purge_data) {
    auto claims = ServerClaims(client, session.ns, req.name);
    if (!claims.empty())
      out.text += fmt::format(
          "; its data stays in {} PersistentVolumeClaims (kubectl -n {} delete pvc -l {}={} "
          "removes "
          "them)",
          claims.size(), session.ns, kLabelInstance, req.name);
  } else {
    out.text += "; its data was deleted";
  }
  out.text += "\ntook " + Took(started) + "\n";
  return out;
}

}  // namespace zkpilot
