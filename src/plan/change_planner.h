// Change planners: what to do to take a running ensemble from its current
// values to new ones. Pure functions of data (the EnsembleView observed
// before planning, platform/ensemble_view.h); platform-neutral steps
// (plan/steps.h) that the step runner carries out on any platform.
//
// Rules they encode (the reason zkpilot exists):
//  - a rolling restart goes followers first (ascending id), the leader last,
//    one server at a time; each restart waits for the ensemble to be healthy
//    before and for the server to be back in sync after; the leader hands
//    leadership over by reconfig before its restart (no election), and its
//    quorum port is moved back afterwards;
//  - membership changes use dynamic reconfiguration, one voter at a time,
//    without restarting existing members; a removed server is stopped only
//    after the reconfig is committed;
//  - immutable parameters never change; version switches follow the
//    package's upgrade paths.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "package/package.h"
#include "plan/plan.h"
#include "platform/ensemble_view.h"
#include "render/renderer.h"
#include "util/status.h"
#include "values/values.h"

namespace zkpilot {

// What differs between two sets of values, by what a change needs.
struct ChangeSet {
  std::vector<std::string> changed;    // every parameter that differs, sorted
  std::vector<std::string> rolling;    // those needing a rolling restart
  std::vector<std::string> dynamic;    // those needing no restart
  std::vector<std::string> immutable;  // those that may not change
  std::string from_version, to_version;
  int from_replicas = 0, to_replicas = 0;
  // The resting TLS stages the values ask for (render/renderer.h TargetTlsStage).
  TlsStage from_tls_stage = TlsStage::kPlaintext, to_tls_stage = TlsStage::kPlaintext;
  bool enforce_turns_on = false;  // auth.enforce false -> true

  bool Empty() const { return changed.empty(); }
  bool VersionChanged() const { return from_version != to_version; }
  bool ReplicasChanged() const { return from_replicas != to_replicas; }
  bool TlsStageChanged() const { return from_tls_stage != to_tls_stage; }
  // "tickTime: 2000 -> 3000, version: 3.8.0 -> 3.9.3"
  static std::string Describe(const Values& from, const Values& to, const std::vector<std::string>& names);
};

ChangeSet DiffValues(const Package& package, const Values& from, const Values& to);

// Checks a change against the package: immutable parameters and upgrade paths.
Status CheckChangeAllowed(const Package& package, const ChangeSet& change);

// Switching TLS on a running cluster needs the platform to observe which
// stage each server runs (EnsembleView::tls_stages): the local (and the
// fake) platform does, Kubernetes not yet: InvalidInput there.
Status CheckTlsSwitchSupported(const std::string& platform, const ChangeSet& change);

// Followers in ascending id, then the leader.
std::vector<int> RollOrder(const std::vector<int>& members, int leader);

struct PlanOptions {
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};  // per wait
  std::string cluster;  // for commands the plan tells people to run (PlanChange sets it)
};

// Why the leader `leader` cannot hand leadership over by reconfig ("" when it can).
std::string HandOffUnavailable(const EnsembleView& view, int leader);

// A quorum-gated rolling restart of `servers` (all members when empty);
// `prepare` re-renders each server's configuration right before its restart
// (config or version change).
std::vector<Step> PlanRoll(const EnsembleView& view, const std::vector<int>& servers, bool prepare,
                           const PlanOptions& options);

// Adds or removes voters one at a time until there are `to_replicas`.
// New servers get the next ids; the highest ids leave first.
std::vector<Step> PlanScale(const EnsembleView& view, int to_replicas, const PlanOptions& options);

// The whole plan for a change of values (configure, upgrade, rollback).
// An empty ChangeSet gives an empty plan. Dynamic-only changes give a plan
// that re-renders the configuration without restarting anything. When the
// TLS stage changes, or a server runs another stage than the target's
// (view.tls_stages; -1 read as the current values' stage), the plan is
// plan/tls_planner.h's, with the other rolling changes riding in its rolls;
// refused (InvalidInput) together with a version or replicas change, or with
// auth.enforce turning on.
Result<Plan> PlanChange(const std::string& operation, const std::string& cluster, const Package& package,
                        const ChangeSet& change, const EnsembleView& view, const PlanOptions& options);

// Names of the package's add-ons the values switch on, in package order.
std::vector<std::string> EnabledAddons(const Package& package, const Values& values);

// Gate step: the ensemble must be healthy before anything is touched, except
// for `about_to_restart` (servers the plan repairs), as long as it has quorum.
Step CheckHealthyStep(const std::vector<int>& members, std::chrono::milliseconds timeout,
                      const std::vector<int>& about_to_restart = {});

}  // namespace zkpilot
