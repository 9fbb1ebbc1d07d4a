#include "platform/local/port_owner.h"

#include <chrono>
#include <thread>

#include "platform/local/process.h"
#include "util/proc_sockets.h"
#include "zk/four_letter.h"

namespace zkpilot {

std::vector<uint64_t> ListeningSocketInodes(int port) {
  // The JVM listens on an IPv6 socket (::ffff:127.0.0.1) unless told to
  // prefer IPv4; other programs on IPv4 ones. ReadTcpSockets reads both.
  std::vector<uint64_t> out;
  for (const TcpSocketEntry& socket : ReadTcpSockets())
    if (socket.state == kTcpListen && socket.inode != 0 && socket.local_port == port)
      out.push_back(socket.inode);
  return out;
}

PortListener WhoListens(int port, int pid) {
  const std::vector<uint64_t> inodes = ListeningSocketInodes(port);
  if (inodes.empty()) return PortListener::kNone;
  if (pid <= 0) return PortListener::kOther;
  return ProcessHoldsSocket(std::to_string(pid), inodes) ? PortListener::kProcess
                                                         : PortListener::kOther;
}

std::string ForeignServerDescription(int port, int id, const std::optional<TlsClientFiles>& tls) {
  const std::string not_ours = "not this cluster's server " + std::to_string(id);
  const std::string what = "port " + std::to_string(port) + " is served by ";
  const Endpoint endpoint{"127.0.0.1", port};
  auto conf = AdminClient(std::chrono::milliseconds(1000), tls).Conf(endpoint);
  if (!conf.ok() && tls) conf = AdminClient(std::chrono::milliseconds(1000)).Conf(endpoint);
  if (!conf.ok()) return what + "another process (" + conf.status().message() + "), " + not_ours;
  std::string facts;
  if (auto d = conf->find("dataDir"); d != conf->end()) {
    // `conf` prints the snapshot directory, dataDir + "/version-2"
    // (ZooKeeperServer.dumpConf: zkDb.snapLog.getSnapDir()).
    std::string dir = d->second;
    const std::string suffix = "/version-2";
    if (dir.size() > suffix.size() &&
        dir.compare(dir.size() - suffix.size(), suffix.size(), suffix) == 0)
      dir.resize(dir.size() - suffix.size());
    facts = "dataDir " + dir;
  }
  if (auto s = conf->find("serverId"); s != conf->end())
    facts += (facts.empty() ? "" : ", ") + ("serverId " + s->second);
  return what + "another ZooKeeper" + (facts.empty() ? "" : " (" + facts + ")") + ", " + not_ours;
}

Result<std::string> WaitServerPortsFree(int id, const std::vector<int>& ports,
                                        std::chrono::steady_clock::time_point deadline,
                                        const std::optional<TlsClientFiles>& tls) {
  std::vector<int> held;
  for (int port : ports) {
    while (!PortFree(port)) {
      if (WhoListens(port, 0) == PortListener::kOther) {
        held.push_back(port);
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline)
        return Status::IOError("port " + std::to_string(port) + " is still in use");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  if (held.empty()) return std::string();
  std::string list;
  for (int port : held) list += (list.empty() ? "" : ", ") + std::to_string(port);
  if (!ports.empty() && held.front() == ports.front())
    return ForeignServerDescription(ports.front(), id, tls) + " (it holds ports " + list + ")";
  return "ports " + list + " of server " + std::to_string(id) + " are held by another process";
}

}  // namespace zkpilot
