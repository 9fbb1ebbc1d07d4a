// The port registry: which local cluster owns which 127.0.0.1 port, for every
// ZKPILOT_HOME of this user on this machine.
//
// A local cluster's ports are derived from its clientPort (topology.h), so
// two clusters — in one state directory or in two — can be given overlapping
// blocks, and probing "is the port free?" cannot tell a cluster that is
// stopped, or still starting, from no cluster at all. So a command that is
// about to start servers first reserves its cluster's whole block (servers,
// exporter, Prometheus, Alertmanager) here; a port another cluster has
// reserved is refused naming that cluster and its state directory.
//
// Where: $ZKPILOT_PORTS_DIR, else $XDG_STATE_HOME/zkpilot-ports, else
// ~/.local/state/zkpilot-ports — deliberately outside ZKPILOT_HOME (one
// registry for all of them) and per user: reservations live as long as the
// clusters recorded in state directories do (a tmpfs such as XDG_RUNTIME_DIR
// forgets them at logout), a registry other users could write could be
// forged by them, and another user's state directory cannot be read to judge
// whether a reservation is stale. Between users the kernel arbitrates: a
// port another user's process listens on is refused when it is checked
// (Preflight) and again before each start.
//
// The file <dir>/reservations.json is read and rewritten whole while
// <dir>/registry.lock is held with flock(2), so two commands that reserve at
// the same instant are serialized and cannot both take a port. A reservation
// is stale — taken over silently — when its cluster is neither recorded in
// its state directory nor being deployed (its operation lock is free): a
// deleted or lost ZKPILOT_HOME, a deploy that was refused or killed before it
// recorded anything.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace zkpilot {

struct PortClaim {
  int port = 0;
  std::string what;  // "server 2 client port", "Prometheus"
};

struct PortOwner {
  std::string home;     // the ZKPILOT_HOME, absolute
  std::string cluster;
  std::string Describe() const;  // "cluster alpha of ZKPILOT_HOME /x"
};

// The owner `cluster` of `home` (made absolute: one home, one name).
PortOwner PortOwnerOf(const std::string& home, const std::string& cluster);

// $ZKPILOT_PORTS_DIR, else the per-user default above.
std::string PortRegistryDir();

struct ReserveOptions {
  // Ports below 1024 need root or CAP_NET_BIND_SERVICE, and a low clientPort
  // is more often a slip than a wish: refused unless asked for (a port this
  // cluster already holds stays allowed).
  bool allow_privileged = false;
  // Only check (a dry run): the registry is not written.
  bool check_only = false;
};

// Adds `ports` to the reservation of `owner`. A cluster keeps every port it
// has held until it is deleted: during a change of clientPort or a scale it
// runs on the old ports and the new ones, and a failed change leaves them
// recorded for `rollback`. Fails,
// changing nothing, with InvalidInput naming the port, what it is for and
// the owner when another live cluster holds one of them, or when a newly
// claimed port is below 1024 without options.allow_privileged.
// Thread-safety: safe across threads and processes (the registry's flock).
Status ReservePorts(const std::string& registry_dir, const PortOwner& owner, const std::vector<PortClaim>& ports,
                    const ReserveOptions& options = {});

// Drops every reservation of `owner` (delete).
Status ReleasePorts(const std::string& registry_dir, const PortOwner& owner);

}  // namespace zkpilot
