// operator_cores.h while the action cores of the Platform refactor
// (actions/cluster_actions.h with ActionContext) are not in the tree yet:
// every operation fails clearly, so the operator still validates resources,
// reports conditions and elects its leader. cmake/operator.cmake picks
// operator_cores.cc instead once actions/action_context.h exists.
#include "platform/kubernetes/operator_cores.h"

namespace zkpilot {
namespace {

Status Pending(const std::string& what) {
  return Status::Internal(what + ": this build of zkpilot has no Kubernetes action cores");
}

}  // namespace

Status OperatorDeploy(KubeClient&, ReleaseStore&, const ClusterCoordinates&, const Package&,
                      const Values&, const OperationSettled&, const CoreTimeouts&) {
  return Pending("deploy");
}

Status OperatorChange(KubeClient&, ReleaseStore&, const ClusterCoordinates&, const Package&,
                      const Values&, ReconcileOp op, const OperationSettled&, const CoreTimeouts&) {
  return Pending(ReconcileOpName(op));
}

Status OperatorResume(KubeClient&, ReleaseStore&, const ClusterCoordinates&, const Package&,
                      const OperationSettled&) {
  return Pending("resume");
}

Status OperatorDelete(KubeClient&, ReleaseStore& store, const ClusterCoordinates& cluster,
                      const Package*, bool, const CoreTimeouts&) {
  ZK_ASSIGN_OR_RETURN(auto record, store.GetCluster(cluster.name));
  if (!record) return Status::Ok();  // nothing recorded, so nothing was applied
  return Pending("delete");
}

Result<ClusterObservation> OperatorObserve(KubeClient&, const ClusterCoordinates&, const Package&,
                                           const Values&) {
  return Pending("observe");
}

}  // namespace zkpilot
