#include "platform/local/port_owner.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

#include "platform/local/process.h"
#include "zk/four_letter.h"

namespace zkpilot {
namespace {

constexpr const char* kListenState = "0A";  // TCP_LISTEN in /proc/net/tcp's "st" column

// Lines of /proc/net/tcp and tcp6: "sl local_address rem_address st tx:rx
// tr:when retrnsmt uid timeout inode ...", addresses as HEXADDR:HEXPORT.
void AddListeners(const char* table, int port, std::vector<uint64_t>& out) {
  std::ifstream in(table);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string sl, local, remote, state, queues, timer, retransmits, uid, timeout;
    uint64_t inode = 0;
    if (!(fields >> sl >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode))
      continue;
    if (state != kListenState || inode == 0) continue;
    const auto colon = local.rfind(':');
    if (colon == std::string::npos) continue;
    try {
      if (std::stoi(local.substr(colon + 1), nullptr, 16) == port) out.push_back(inode);
    } catch (const std::exception&) {
    }
  }
}

}  // namespace

std::vector<uint64_t> ListeningSocketInodes(int port) {
  std::vector<uint64_t> out;
  // The JVM listens on an IPv6 socket (::ffff:127.0.0.1) unless told to
  // prefer IPv4; other programs on IPv4 ones.
  AddListeners("/proc/net/tcp", port, out);
  AddListeners("/proc/net/tcp6", port, out);
  return out;
}

PortListener WhoListens(int port, int pid) {
  const std::vector<uint64_t> inodes = ListeningSocketInodes(port);
  if (inodes.empty()) return PortListener::kNone;
  if (pid <= 0) return PortListener::kOther;
  std::error_code ec;
  for (const auto& fd :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    char target[64];
    const ssize_t n = ::readlink(fd.path().c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    const std::string link(target, static_cast<size_t>(n));  // "socket:[12345]"
    if (link.rfind("socket:[", 0) != 0) continue;
    for (uint64_t inode : inodes)
      if (link == "socket:[" + std::to_string(inode) + "]") return PortListener::kProcess;
  }
  return PortListener::kOther;
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
