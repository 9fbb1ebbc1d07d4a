// Who listens on a local TCP port: the identity check behind every reading
// the local platform takes of a server.
//
// Anything may answer on a server's client port — another cluster's server
// (another ZKPILOT_HOME, a hand-started ZooKeeper) once this cluster's has
// stopped. A reply to `srvr` says nothing of whose server replied, so a
// reading counts only when the listening socket belongs to the process
// recorded for the server (whose PID is checked together with its marker,
// process.h). Linux: the listening socket's inode from /proc/net/tcp{,6} and
// the process's open descriptors in /proc/<pid>/fd (our own processes, so
// always readable).
//
// Why not an identity the server reports (its `conf`: serverId, dataDir)?
// `conf` answers only while the server serves (ConfCommand checks
// isZKServerRunning(), FourLetterCommands/Commands in ZooKeeper 3.8 and
// 3.9), so a looking or starting server could not be identified, and it
// needs `conf` in 4lw.commands.whitelist; rendering a cluster id into
// zoo.cfg or the JVM command line would change every existing cluster's
// configuration fingerprint and roll it on the first change after an
// upgrade of zkpilot. The socket's owner needs none of that. `conf` is still
// used to describe a foreign server to people (ForeignServerDescription).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"
#include "zk/tls_transport.h"

namespace zkpilot {

enum class PortListener {
  kNone,     // nothing listens on the port
  kProcess,  // the given process listens on it
  kOther,    // something else listens on it
};

// Inodes of the TCP sockets listening on `port` (IPv4 and IPv6, any address).
std::vector<uint64_t> ListeningSocketInodes(int port);

// Who listens on `port`: process `pid` (0: none of ours runs), another, nobody.
PortListener WhoListens(int port, int pid);

// For people: what answers on `port` when it is not this cluster's server
// `id`: "port 2181 is served by another ZooKeeper (dataDir /x, serverId 3),
// not this cluster's server 1". Asks the server's `conf` (one second at
// most) the way this cluster's servers are asked (`tls`: over TLS with these
// files), then, if that fails, in plaintext: another program may speak
// either. Without an answer, says what it is not.
std::string ForeignServerDescription(int port, int id, const std::optional<TlsClientFiles>& tls = {});

// Waits until each of server `id`'s `ports` (client port first) can be
// bound, or something listens on it although the caller's processes are
// gone: another's, not waited for. Returns "" or what holds ports, for people
// ("port 2181 is served by another ZooKeeper (...), not this cluster's
// server 1 (it holds ports 2181, 2183)"). IOError when a port stays in use
// without a listener until `deadline`.
Result<std::string> WaitServerPortsFree(int id, const std::vector<int>& ports,
                                        std::chrono::steady_clock::time_point deadline,
                                        const std::optional<TlsClientFiles>& tls = {});

}  // namespace zkpilot
