#include "platform/local/port_registry.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "platform/local/local_files.h"
#include "platform/local/operation_lock.h"
#include "platform/local/paths.h"
#include "state/state_store.h"
#include "util/files.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;

struct Reservation {
  int port = 0;
  PortOwner owner;
  std::string what;
};

bool SameOwner(const PortOwner& a, const PortOwner& b) { return a.home == b.home && a.cluster == b.cluster; }

// The registry's lock, held (flock, close-on-exec) while the object lives.
class RegistryLock {
 public:
  static Result<RegistryLock> Take(const std::string& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status::IOError("port registry " + dir + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);  // reservations name state directories: the owner's business
    const std::string path = dir + "/registry.lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Status::IOError("port registry " + path + ": " + std::strerror(errno));
    // Holders only read and rewrite one small file (and look up owners), so
    // the wait is short — unless a holder is stopped (SIGSTOP): then say so
    // rather than hang.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      if (err == EWOULDBLOCK && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      ::close(fd);
      return Status::IOError("port registry " + path + ": lock: " +
                             (err == EWOULDBLOCK ? std::string("still held by another zkpilot after 30s")
                                                 : std::string(std::strerror(err))));
    }
    return RegistryLock(fd);
  }
  RegistryLock(RegistryLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  RegistryLock(const RegistryLock&) = delete;
  RegistryLock& operator=(const RegistryLock&) = delete;
  ~RegistryLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit RegistryLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

std::string FileOf(const std::string& dir) { return dir + "/reservations.json"; }

Result<std::vector<Reservation>> Load(const std::string& dir) {
  std::vector<Reservation> out;
  if (!fs::exists(FileOf(dir))) return out;
  ZK_ASSIGN_OR_RETURN(std::string text, ReadFile(FileOf(dir)));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array())
    return Status::IOError("port registry " + FileOf(dir) + ": not a JSON array; remove it to start afresh");
  for (const auto& e : j) {
    if (!e.is_object() || !e.value("port", nlohmann::json()).is_number_integer()) continue;
    out.push_back({e["port"].get<int>(), {e.value("home", ""), e.value("cluster", "")}, e.value("what", "")});
  }
  return out;
}

Status Save(const std::string& dir, std::vector<Reservation> entries) {
  std::sort(entries.begin(), entries.end(), [](const Reservation& a, const Reservation& b) { return a.port < b.port; });
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (const auto& r : entries)
    j.push_back({{"port", r.port}, {"home", r.owner.home}, {"cluster", r.owner.cluster}, {"what", r.what}});
  return WriteFileAtomically(FileOf(dir), j.dump(1) + "\n", 0600);
}

// Whether `owner` still stands behind its reservation: its cluster is being
// deployed (the operation lock is held: the record comes after the ports), or
// it is recorded in its state directory. When in doubt (a database that
// cannot be read now), it does.
bool OwnerLive(const PortOwner& owner) {
  if (HeldOperationLock(owner.home, owner.cluster)) return true;
  const std::string db = StateDbPath(owner.home);
  std::error_code ec;
  if (!fs::exists(db, ec)) return static_cast<bool>(ec);
  auto store = StateStore::Open(db);
  if (!store.ok()) return true;
  auto record = (*store)->GetCluster(owner.cluster);
  return !record.ok() || record->has_value();
}

}  // namespace

std::string PortOwner::Describe() const { return "cluster " + cluster + " of ZKPILOT_HOME " + home; }

PortOwner PortOwnerOf(const std::string& home, const std::string& cluster) {
  return {fs::absolute(home).lexically_normal().string(), cluster};
}

std::string PortRegistryDir() {
  if (const char* d = std::getenv("ZKPILOT_PORTS_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/zkpilot-ports";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.local/state/zkpilot-ports";
}

Status ReservePorts(const std::string& dir, const PortOwner& owner, const std::vector<PortClaim>& ports,
                    const ReserveOptions& options) {
  ZK_ASSIGN_OR_RETURN(RegistryLock lock, RegistryLock::Take(dir));
  ZK_ASSIGN_OR_RETURN(std::vector<Reservation> entries, Load(dir));
  std::map<int, const Reservation*> held;
  for (const auto& r : entries) held[r.port] = &r;
  std::map<std::string, bool> live;  // by owner, looked up once
  for (const auto& claim : ports) {
    auto it = held.find(claim.port);
    const bool ours = it != held.end() && SameOwner(it->second->owner, owner);
    if (claim.port < 1024 && !ours && !options.allow_privileged)
      return Status::InvalidInput("port " + std::to_string(claim.port) + " (" + claim.what +
                                  ") is below 1024: binding it needs root or CAP_NET_BIND_SERVICE; choose another "
                                  "base with --set clientPort=N, or pass --allow-privileged-ports to take it");
    if (it == held.end() || ours) continue;
    const PortOwner& other = it->second->owner;
    const std::string key = other.home + '\0' + other.cluster;
    if (!live.count(key)) live[key] = OwnerLive(other);
    if (live[key])
      return Status::InvalidInput("port " + std::to_string(claim.port) + " (" + claim.what + ") is reserved by " +
                                  other.Describe() + " (its " + it->second->what +
                                  "); choose another base with --set clientPort=N (server N uses "
                                  "clientPort+(N-1)*10 .. +4, monitoring clientPort+5 .. +7)");
  }
  if (options.check_only) return Status::Ok();
  // Every claim is free, stale or ours: stale reservations of the claimed
  // ports are dropped, and the claims join the owner's reservation.
  std::vector<Reservation> kept;
  for (const auto& r : entries) {
    const bool claimed =
        std::any_of(ports.begin(), ports.end(), [&](const PortClaim& c) { return c.port == r.port; });
    if (!claimed || SameOwner(r.owner, owner)) kept.push_back(r);
  }
  for (const auto& c : ports) {
    auto it = held.find(c.port);
    if (it == held.end() || !SameOwner(it->second->owner, owner)) kept.push_back({c.port, owner, c.what});
  }
  return Save(dir, std::move(kept));
}

Status ReleasePorts(const std::string& dir, const PortOwner& owner) {
  if (!fs::exists(FileOf(dir))) return Status::Ok();
  ZK_ASSIGN_OR_RETURN(RegistryLock lock, RegistryLock::Take(dir));
  ZK_ASSIGN_OR_RETURN(std::vector<Reservation> entries, Load(dir));
  std::vector<Reservation> kept;
  for (const auto& r : entries)
    if (!SameOwner(r.owner, owner)) kept.push_back(r);
  if (kept.size() == entries.size()) return Status::Ok();
  return Save(dir, std::move(kept));
}

}  // namespace zkpilot
