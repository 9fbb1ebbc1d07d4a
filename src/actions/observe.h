// The one observation of an ensemble: the platform's servers (Servers) joined
// with ZooKeeper's own reading of each (`srvr`, Platform::Observe), evaluated
// for quorum health (observe/health.h). The planners plan from it, the step
// runner waits on it, `status` prints it.
#pragma once

#include <vector>

#include "observe/health.h"
#include "platform/ensemble_view.h"
#include "platform/platform.h"
#include "util/status.h"

namespace zkpilot {

// One server as observed: the platform's state plus ZooKeeper's own reading.
struct ServerView {
  ServerState state;
  NodeHealth health;  // role, zxid, lag, problem (observe/health.h)
};

// What the planners plan from, and what status prints.
struct ObservedEnsemble : EnsembleView {
  std::vector<ServerView> servers;  // every server the platform knows, by id
  EnsembleHealth health;            // of the observed servers

  const ServerView* Server(int id) const;
};

struct ObserveOptions {
  // The servers whose health counts (empty: every server the platform
  // knows). A listed server the platform does not know counts as down.
  std::vector<int> only;
  // Fill EnsembleView::needs_restart: members whose configuration
  // fingerprint differs from the target's (Platform::TargetFingerprint).
  bool needs_restart = false;
};

// members, generations: every server the platform knows, by id; leader and
// health: from the readings of the observed servers.
Result<ObservedEnsemble> ObserveEnsembleView(Platform& platform, const ObserveOptions& options = {});

}  // namespace zkpilot
