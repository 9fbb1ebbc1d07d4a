#include "util/proc_sockets.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace zkpilot {
namespace {

// "0100007F:0CEA" -> address "0100007F", port 3306. False when malformed.
bool SplitAddress(const std::string& field, std::string& address, int& port) {
  const auto colon = field.rfind(':');
  if (colon == std::string::npos) return false;
  try {
    port = std::stoi(field.substr(colon + 1), nullptr, 16);
    address = field.substr(0, colon);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// Lines of /proc/net/tcp and tcp6: "sl local_address rem_address st tx:rx
// tr:when retrnsmt uid timeout inode ...", addresses as HEXADDR:HEXPORT.
void AddRows(const char* table, std::vector<TcpSocketEntry>& out) {
  std::ifstream in(table);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string sl, local, remote, state, queues, timer, retransmits, uid, timeout;
    TcpSocketEntry entry;
    if (!(fields >> sl >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> entry.inode))
      continue;
    if (!SplitAddress(local, entry.local_address, entry.local_port) ||
        !SplitAddress(remote, entry.remote_address, entry.remote_port))
      continue;
    try {
      entry.state = std::stoi(state, nullptr, 16);
    } catch (const std::exception&) {
      continue;
    }
    out.push_back(std::move(entry));
  }
}

}  // namespace

std::vector<TcpSocketEntry> ReadTcpSockets() {
  std::vector<TcpSocketEntry> out;
  AddRows("/proc/net/tcp", out);
  AddRows("/proc/net/tcp6", out);
  return out;
}

bool ProcessHoldsSocket(const std::string& pid, const std::vector<uint64_t>& inodes) {
  if (inodes.empty()) return false;
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/" + pid + "/fd", ec)) {
    char target[64];
    const ssize_t n = ::readlink(fd.path().c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    const std::string link(target, static_cast<size_t>(n));  // "socket:[12345]"
    if (link.rfind("socket:[", 0) != 0) continue;
    for (uint64_t inode : inodes)
      if (link == "socket:[" + std::to_string(inode) + "]") return true;
  }
  return false;
}

}  // namespace zkpilot
