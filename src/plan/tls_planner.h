// Switching TLS on a running ensemble (local platform): the stages of
// render/renderer.h TlsStage, one quorum-gated roll per stage, and the
// membership's client addresses by reconfig in between.
//
// Why no stage can be skipped (ZooKeeper 3.8.0 and 3.9.3):
//  - a server dials its peers over TLS iff sslQuorum, and accepts both only
//    with portUnification (QuorumCnxManager, Leader.createServerSocket,
//    Learner.createSocket): so 0 (plaintext) and 2 (dials TLS, accepts both)
//    meet only through 1 (dials plaintext, accepts both), and 3 (TLS only)
//    only next to 2;
//  - a TLS-only server given a client address by a committed config calls
//    reconfigure on its null plaintext factory (QuorumPeer.processReconfig),
//    and a server whose committed line has no client address and whose
//    zoo.cfg has no clientPort starts portless (QuorumPeer.setQuorumVerifier
//    rewrites zoo.cfg): so the membership drops its client addresses only
//    at stage 2 (clientPort in zoo.cfg) before 3, and gets them back at
//    stage 1 before 0; a reconfig to the address a factory is already bound
//    to is skipped (NettyServerCnxnFactory.reconfigure), so neither reconfig
//    drops a connection.
//
// Pure functions of the observed view.
#pragma once

#include "plan/change_planner.h"
#include "plan/plan.h"
#include "platform/ensemble_view.h"
#include "render/renderer.h"
#include "util/status.h"

namespace zkpilot {

// The steps that take every member from its observed stage
// (view.tls_stages; -1 entries must have been resolved by the caller, as
// PlanChange does from the current revision's values) to `target`:
//   forward  roll-to-stage up to 2, then (target 3) set-client-addresses
//            false and roll-to-stage 3;
//   back     roll-to-stage down to 1, set-client-addresses true, then
//            (target 0) roll-to-stage 0; a plan that stops at 2 coming from
//            3 gives the lines their addresses back too.
// From a mixed view (a failed half-migration) it starts at the stage the
// servers nearest the target run. Every step that changes what clients may
// do says so ("Clients: ..."). InvalidInput when the members run stages more
// than one apart (they cannot form a quorum; nothing zkpilot planned leaves
// that). No step when every member is at `target`.
Result<Plan> PlanTlsStages(const EnsembleView& view, TlsStage target, const PlanOptions& options);

}  // namespace zkpilot
