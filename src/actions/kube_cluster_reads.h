// Reads the Kubernetes commands share: a ZooKeeperCluster by name (a
// missing one is the user's mistake, exit 2), its package from the
// ConfigMaps (hash checked), its revisions and the values it runs.
//
// Thread-safety: as the KubeClient passed in (one thread at a time).
#pragma once

#include <string>
#include <vector>

#include "package/package.h"
#include "platform/kubernetes/cluster_resource.h"
#include "platform/kubernetes/kube_client.h"
#include "util/status.h"
#include "values/values.h"

namespace zkpilot {

// The cluster `name` in `ns`; InvalidInput when there is none ("no
// ZooKeeperCluster named x in namespace y; zkpilot list --platform
// kubernetes shows them").
Result<ZooKeeperCluster> GetClusterResource(KubeClient& client, const std::string& ns,
                                            const std::string& name);

// The package of spec.package from its ConfigMaps; NotFound naming the
// ConfigMap when one is missing.
Result<Package> LoadClusterPackage(KubeClient& client, const ZooKeeperCluster& cluster);

// The cluster's revisions (its ControllerRevisions), ascending.
Result<std::vector<RevisionRecord>> ListClusterRevisions(KubeClient& client,
                                                         const ZooKeeperCluster& cluster);

// The values the cluster runs: its current revision's, or (nothing deployed
// yet) the spec's.
Result<Values> CurrentClusterValues(const Package& package, const ZooKeeperCluster& cluster,
                                    const std::vector<RevisionRecord>& revisions);

// The highest operation id the status records (0: none); the next operation
// the operator starts has a higher one.
int64_t LastOperationId(const ZooKeeperCluster& cluster);

}  // namespace zkpilot
