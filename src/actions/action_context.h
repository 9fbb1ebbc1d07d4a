// ActionContext: what every verb that acts on a cluster is handed — instead
// of a state directory — by its front end.
//
//   platform  the cluster's Platform (platform/platform.h), bound to the
//             cluster and to the values the verb works towards: a deploy's
//             values, a change's target, an interrupted operation's pending
//             revision, the current revision for status and delete
//   store     the ReleaseStore (state/release_store.h): records and journal
//   progress  step-by-step progress for people (plan/executor.h)
//   clock     every wait's time (a fake one makes tests of waits instant)
//
// Front ends build it: the command line's local path opens the SQLite state
// and builds a LocalPlatform (platform/local/local_actions.h); the operator
// builds a KubernetesPlatform and the Kubernetes release store per
// ZooKeeperCluster; tests use platform/fake_platform.h. The verbs take the
// package and values in memory, never a directory.
//
// Platform and Clock are only declared here (platform/platform.h defines
// them): the verbs' header stays free of the platform interface's types.
#pragma once

#include "plan/executor.h"
#include "state/release_store.h"

namespace zkpilot {

class Platform;
class Clock;

struct ActionContext {
  Platform& platform;
  ReleaseStore& store;
  ProgressSink& progress;
  Clock& clock;
};

}  // namespace zkpilot
