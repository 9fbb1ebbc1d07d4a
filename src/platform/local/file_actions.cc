#include "platform/local/file_actions.h"

#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "platform/local/process.h"

namespace zkpilot {

namespace fs = std::filesystem;

Result<std::string> RemoveFiles(const LocalNode& node, const nlohmann::json& patterns) {
  if (!patterns.is_array()) return Status::InvalidInput("remove-files: paths must be a list of globs");
  int removed = 0;
  for (const auto& p : patterns) {
    const std::string pattern = p.is_string() ? p.get<std::string>() : "";
    if (pattern.empty() || pattern[0] == '/' || pattern.find("..") != std::string::npos)
      return Status::InvalidInput("remove-files: \"" + pattern + "\" must be relative to the data directory, without ..");
    glob_t g{};
    if (::glob((node.endpoint.data_dir + "/" + pattern).c_str(), 0, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        std::error_code ec;
        if (fs::remove_all(g.gl_pathv[i], ec) > 0) ++removed;
      }
    }
    ::globfree(&g);
  }
  return "removed " + std::to_string(removed) + " files";
}

Result<std::string> RemoveUncommittedSnapshots(const std::string& conf_dir) {
  std::ifstream cfg(conf_dir + "/zoo.cfg");
  if (!cfg) return std::string();  // never prepared: nothing of it on disk yet
  std::string data_dir;
  for (std::string line; std::getline(cfg, line);)
    if (line.rfind("dataDir=", 0) == 0) data_dir = line.substr(8);
  if (data_dir.empty()) return std::string();
  std::string removed;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(data_dir + "/version-2", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("snapshot.", 0) != 0 || entry.path().extension() != ".tmp") continue;
    std::error_code rm;
    if (!fs::remove(entry.path(), rm) && rm) return Status::IOError("removing " + entry.path().string() + ": " + rm.message());
    removed += (removed.empty() ? "" : ", ") + entry.path().string();
  }
  return removed;
}

namespace {

// Util.getZxidFromName: "snapshot.1a2b" (or "snapshot.1a2b.gz") -> 0x1a2b;
// -1 when the name is not <prefix>.<hex>[.<suffix>].
int64_t ZxidFromName(const std::string& name, const std::string& prefix) {
  if (name.rfind(prefix + ".", 0) != 0) return -1;
  const std::string rest = name.substr(prefix.size() + 1);
  const std::string hex = rest.substr(0, rest.find('.'));
  if (hex.empty() || hex.size() > 16 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    return -1;
  return static_cast<int64_t>(std::stoull(hex, nullptr, 16));
}

// SnapStream.isValidSnapshot for an uncompressed snapshot: it ends with the
// int 1 and '/' that FileSnap.serialize writes last. A compressed one
// (.gz, .snappy) counts as valid when it is not empty.
bool ValidSnapshot(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec || size == 0) return false;
  const std::string ext = file.extension().string();
  if (ext == ".gz" || ext == ".snappy") return true;
  if (size < 10) return false;
  std::ifstream in(file, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(size) - 5);
  char tail[5] = {};
  in.read(tail, 5);
  return in && tail[0] == 0 && tail[1] == 0 && tail[2] == 0 && tail[3] == 1 && tail[4] == '/';
}

std::vector<std::pair<int64_t, fs::path>> FilesWithZxid(const fs::path& dir, const std::string& prefix) {
  std::vector<std::pair<int64_t, fs::path>> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const int64_t zxid = ZxidFromName(e.path().filename().string(), prefix);
    if (zxid >= 0 && e.is_regular_file()) out.push_back({zxid, e.path()});
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

// Follows PurgeTxnLog.purge and purgeOlderSnapshots (ZooKeeper 3.8/3.9):
// the oldest kept snapshot's zxid X; every snapshot.* and log.* below X goes,
// except the newest log starting at or before X, which may hold the
// transactions right after snapshot X (FileTxnLog.getLogFiles).
Result<std::string> PurgeSnapshotDirs(const std::string& snap_dir, const std::string& log_dir, int64_t retain) {
  if (retain < 3) return Status::InvalidInput("purge-snapshots: retain must be at least 3 (ZooKeeper's own minimum)");
  const fs::path snaps_at = fs::path(snap_dir) / "version-2", logs_at = fs::path(log_dir) / "version-2";
  if (!fs::exists(snaps_at)) return std::string("no snapshots yet");
  auto snaps = FilesWithZxid(snaps_at, "snapshot");
  std::vector<int64_t> kept;  // newest first
  for (auto it = snaps.rbegin(); it != snaps.rend() && static_cast<int64_t>(kept.size()) < retain; ++it)
    if (ValidSnapshot(it->second)) kept.push_back(it->first);
  if (kept.empty()) return std::string("no valid snapshot: nothing removed");
  const int64_t least = kept.back();
  auto logs = FilesWithZxid(logs_at, "log");
  int64_t needed_log = 0;  // the newest log starting at or before `least`
  for (const auto& [zxid, path] : logs)
    if (zxid <= least) needed_log = std::max(needed_log, zxid);
  int removed = 0;
  auto drop = [&](const fs::path& p) -> Status {
    std::error_code ec;
    fs::remove(p, ec);
    if (ec) return Status::IOError("removing " + p.string() + ": " + ec.message());
    ++removed;
    return Status::Ok();
  };
  for (const auto& [zxid, path] : snaps)
    if (zxid < least) ZK_RETURN_IF_ERROR(drop(path));
  for (const auto& [zxid, path] : logs)
    if (zxid < least && zxid < needed_log) ZK_RETURN_IF_ERROR(drop(path));
  return "kept the newest " + std::to_string(kept.size()) + " snapshots, removed " + std::to_string(removed) + " files";
}

Result<std::string> PurgeSnapshots(const LocalNode& node, int64_t retain) {
  const auto& e = node.endpoint;
  if (!fs::exists(e.data_dir)) return std::string("no data directory yet");
  return PurgeSnapshotDirs(e.data_dir, e.data_log_dir.empty() ? e.data_dir : e.data_log_dir, retain);
}

Result<std::string> RemoveNodeData(const LocalNode& node) {
  for (const std::string& dir : {node.endpoint.data_dir, node.endpoint.data_log_dir}) {
    if (dir.empty()) continue;
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec) return Status::IOError("removing " + dir + ": " + ec.message());
  }
  return std::string("removed its data");
}

}  // namespace zkpilot
