// TCP sockets as Linux's /proc shows them: which socket (inode) has a given
// address, and whether a process holds it.
//
// Two users. The local platform asks who listens on a server's port
// (platform/local/port_owner.h); the TLS tunnel (zk/tls_transport.h) asks
// whether the peer of a connection it accepted on 127.0.0.1 is a socket of
// its own process. /proc/net/tcp{,6} lists every socket of the network
// namespace with its inode; /proc/<pid>/fd links each descriptor of a
// process to "socket:[<inode>]" (readable for our own processes).
// Thread-safety: free functions without shared state.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace zkpilot {

// The "st" column of /proc/net/tcp (the kernel's TCP_* states).
inline constexpr int kTcpEstablished = 0x01;
inline constexpr int kTcpListen = 0x0A;

struct TcpSocketEntry {
  std::string local_address;  // as /proc writes it: "0100007F" (127.0.0.1), 32 hex digits for IPv6
  int local_port = 0;
  std::string remote_address;
  int remote_port = 0;
  int state = 0;       // kTcpEstablished, kTcpListen, ...
  uint64_t inode = 0;  // 0 for a socket no process holds (e.g. TIME_WAIT)
};

// Every row of /proc/net/tcp and /proc/net/tcp6 (IPv4 first). Rows that do
// not parse are skipped; a missing table reads as empty.
std::vector<TcpSocketEntry> ReadTcpSockets();

// True when process `pid` ("self" or a number) holds an open descriptor on
// one of the sockets `inodes`.
bool ProcessHoldsSocket(const std::string& pid, const std::vector<uint64_t>& inodes);

}  // namespace zkpilot
