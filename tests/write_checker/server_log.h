// LOOKING transitions read from ZooKeeper servers' logs: how the day-2 tests
// and bench/roll tell that a roll made a server lose its leader.
//
// ZooKeeper 3.8.0 and 3.9.3 (QuorumPeer.run) log the message "LOOKING" each
// time the peer's main loop enters the LOOKING state; QuorumPeer.setPeerState
// logs "Peer state changed: ..." for the other states, with " - broadcast"
// once the server serves (setZabState). A JVM logs "Starting quorum peer,
// myid=N" (QuorumPeerMain.runFromConfig) once at start.
//
// A fresh JVM is LOOKING until it finds its leader, and may look again
// before it first serves (a failed first sync): that is its start-up, which
// every restarted server goes through. Any other LOOKING is a serving server
// that lost its leader: an election, what a leadership hand-off avoids.
#pragma once

#include <string>

namespace zkpilot::testing {

struct LookingCount {
  int transitions = 0;     // "LOOKING" lines
  int not_at_startup = 0;  // those of a server that was serving (not in a start-up)
  int jvm_starts = 0;      // "Starting quorum peer" lines
  LookingCount& operator+=(const LookingCount& o);
};

// Counts in `text`, whole lines of one server's log. A JVM that started
// before `text` begins is taken as serving.
LookingCount CountLooking(const std::string& text);

}  // namespace zkpilot::testing
