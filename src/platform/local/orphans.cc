#include "platform/local/orphans.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <tuple>

#include "platform/local/operation_lock.h"
#include "platform/local/paths.h"
#include "platform/local/process.h"
#include "platform/local/supervisor.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;

constexpr const char* kNodeMarker = "-Dzkpilot.node=";
constexpr const char* kConfigMarker = "--config.file=";
constexpr const char* kSupervisorMarker = "supervise";
constexpr const char* kGuardianMarker = "guard";
constexpr auto kServiceGrace = std::chrono::seconds(15);
constexpr auto kSupervisorGrace = std::chrono::seconds(5);

std::vector<std::string> Arguments(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  size_t start = 0;
  while (start < all.size()) {
    size_t end = all.find('\0', start);
    if (end == std::string::npos) end = all.size();
    args.push_back(all.substr(start, end - start));
    start = end + 1;
  }
  return args;
}

std::string WorkingDir(int pid) {
  std::error_code ec;
  auto cwd = fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
  return ec ? std::string() : cwd.string();
}

// A path from a process's command line, absolute (relative ones are the
// process's: it was started from the command's working directory).
std::string Absolute(int pid, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return WorkingDir(pid) + "/" + path;
}

// "<home>/clusters/<cluster>/<rest>" → home, cluster, rest.
bool SplitClusterPath(const std::string& path, std::string* home, std::string* cluster, std::string* rest) {
  const size_t at = path.rfind("/clusters/");
  if (at == std::string::npos) return false;
  const size_t name_start = at + std::string("/clusters/").size();
  const size_t slash = path.find('/', name_start);
  *home = path.substr(0, at);
  *cluster = path.substr(name_start, slash == std::string::npos ? std::string::npos : slash - name_start);
  *rest = slash == std::string::npos ? "" : path.substr(slash + 1);
  return !cluster->empty();
}

// What a process is to the local platform, and the state directory it names.
std::optional<std::pair<OrphanProcess, std::string>> Classify(int pid, const std::vector<std::string>& args) {
  OrphanProcess p;
  p.pid = pid;
  std::string home, rest;
  // The supervisor and its guardian (guardian.h): "zkpilot supervise|guard C --home H".
  if (args.size() >= 5 && (args[1] == kSupervisorMarker || args[1] == kGuardianMarker)) {
    auto h = std::find(args.begin(), args.end(), "--home");
    if (h == args.end() || h + 1 == args.end()) return std::nullopt;
    p.kind = OrphanKind::kSupervisor;
    p.cluster = args[2];
    p.marker = args[1];
    return std::make_pair(p, Absolute(pid, *(h + 1)));
  }
  for (const auto& a : args) {
    if (a.rfind(kNodeMarker, 0) == 0) {
      // A server runs in its node's directory: that is its absolute path.
      std::string dir = a.substr(std::string(kNodeMarker).size());
      if (dir.empty() || dir[0] != '/') dir = WorkingDir(pid);
      if (!SplitClusterPath(dir, &home, &p.cluster, &rest) || rest.rfind("nodes/", 0) != 0) return std::nullopt;
      try {
        p.server = std::stoi(rest.substr(6));
      } catch (const std::exception&) {
        return std::nullopt;
      }
      p.kind = OrphanKind::kServer;
      p.marker = a;
      return std::make_pair(p, home);
    }
    if (a.rfind(kConfigMarker, 0) == 0) {
      const std::string cfg = Absolute(pid, a.substr(std::string(kConfigMarker).size()));
      if (!SplitClusterPath(cfg, &home, &p.cluster, &rest) || rest.rfind("monitoring/", 0) != 0) continue;
      rest = rest.substr(std::string("monitoring/").size());
      p.kind = OrphanKind::kService;
      p.service = rest.substr(0, rest.find('/'));
      p.marker = a;
      return std::make_pair(p, home);
    }
  }
  return std::nullopt;
}

bool SameDirectory(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec) && !ec;
}

auto SortKey(const OrphanProcess& p) { return std::make_tuple(p.cluster, static_cast<int>(p.kind), p.server, p.service, p.pid); }

}  // namespace

std::string OrphanProcess::Describe(const std::string& home) const {
  std::string what;
  switch (kind) {
    case OrphanKind::kSupervisor: what = marker == kGuardianMarker ? "guardian" : "supervisor"; break;
    case OrphanKind::kServer: what = "server " + std::to_string(server); break;
    case OrphanKind::kService: what = service; break;
  }
  return what + " of cluster " + cluster + " from " + home + ": pid " + std::to_string(pid) + ", no record";
}

std::vector<OrphanProcess> FindHomeProcesses(const std::string& home) {
  std::vector<OrphanProcess> out;
  DIR* proc = ::opendir("/proc");
  if (!proc) return out;
  const uid_t me = ::geteuid();
  while (dirent* e = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0' || pid == ::getpid()) continue;
    struct stat st {};
    if (::stat(("/proc/" + std::string(e->d_name)).c_str(), &st) != 0 || st.st_uid != me) continue;
    auto found = Classify(static_cast<int>(pid), Arguments(static_cast<int>(pid)));
    if (!found || !SameDirectory(found->second, home)) continue;
    if (!ProcessAlive(found->first.pid, found->first.marker)) continue;  // a zombie
    out.push_back(found->first);
  }
  ::closedir(proc);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return SortKey(a) < SortKey(b); });
  return out;
}

Result<std::vector<OrphanProcess>> FindOrphans(StateStore& store, const std::string& home) {
  std::map<std::string, bool> recorded;
  std::vector<OrphanProcess> out;
  for (auto& p : FindHomeProcesses(home)) {
    if (!recorded.count(p.cluster)) {
      ZK_ASSIGN_OR_RETURN(auto record, store.GetCluster(p.cluster));
      recorded[p.cluster] = record.has_value();
    }
    if (!recorded[p.cluster]) out.push_back(std::move(p));
  }
  return out;
}

Result<std::string> StopOrphans(StateStore& store, const std::string& home, const StopOrphansRequest& req) {
  if (!req.cluster.empty()) {
    ZK_ASSIGN_OR_RETURN(auto record, store.GetCluster(req.cluster));
    if (record)
      return Status::InvalidInput("cluster " + req.cluster + " is recorded, so its processes are not orphans (`zkpilot delete " +
                                  req.cluster + "` deletes it)");
  }
  ZK_ASSIGN_OR_RETURN(auto orphans, FindOrphans(store, home));
  std::map<std::string, std::vector<OrphanProcess>> by_cluster;
  for (auto& p : orphans)
    if (req.cluster.empty() || p.cluster == req.cluster) by_cluster[p.cluster].push_back(std::move(p));
  // A named cluster's leftover directory may be purged even with nothing running.
  if (!req.cluster.empty() && req.purge_data && fs::exists(ClusterHome(home, req.cluster))) by_cluster[req.cluster];
  if (by_cluster.empty())
    return "no orphans" + (req.cluster.empty() ? "" : " of cluster " + req.cluster) + " in " + home + "\n";

  std::string out;
  for (auto& [cluster, procs] : by_cluster) {
    const std::string dir = ClusterHome(home, cluster);
    if (req.dry_run) {
      for (const auto& p : procs) out += "would stop " + p.Describe(home) + "\n";
      if (req.purge_data) out += "would remove " + dir + "\n";
      continue;
    }
    // No deploy of the same name may start meanwhile; and one may have just recorded it.
    ZK_ASSIGN_OR_RETURN(OperationLock lock, OperationLock::Acquire(home, cluster, "delete --orphans"));
    ZK_ASSIGN_OR_RETURN(auto record, store.GetCluster(cluster));
    if (record) {
      out += "cluster " + cluster + " is recorded now; its processes were left alone\n";
      continue;
    }
    for (const auto& p : procs) {
      Result<std::string> how = std::string("stopped");
      if (p.kind == OrphanKind::kServer) {
        how = StopServerProcess(p.pid, p.marker);
      } else {
        const auto grace = p.kind == OrphanKind::kSupervisor ? kSupervisorGrace : kServiceGrace;
        how = StopProcess(p.pid, p.marker, StopMode::kTerminate, grace);
      }
      if (!how.ok()) return how.status().WithContext("stopping " + p.Describe(home));
      out += "stopped " + p.Describe(home) + " (" + *how + ")\n";
    }
    std::error_code ec;
    if (req.purge_data) {
      fs::remove_all(dir, ec);
      if (ec) return Status::IOError("removing " + dir + ": " + ec.message());
      out += "removed " + dir + "\n";
    } else if (fs::exists(dir, ec)) {
      out += "data kept under " + dir + " (--purge-data removes it; deploying " + cluster +
             " again with the same values starts on it)\n";
    }
  }
  return out;
}

}  // namespace zkpilot
