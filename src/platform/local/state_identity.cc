#include "platform/local/state_identity.h"

#include <filesystem>

#include "platform/local/paths.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace zkpilot {

Result<StateDbIdentity> TakeStateDbIdentity(StateStore& store, const std::string& path, const std::string& cluster) {
  StateDbIdentity id;
  id.path = path;
  id.cluster = cluster;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return Status::IOError("state database " + path + ": " + std::strerror(errno));
  id.device = st.st_dev;
  id.inode = st.st_ino;
  ZK_ASSIGN_OR_RETURN(id.cluster_uid, store.EnsureClusterUid(cluster));
  return id;
}

Status CheckStateDbIdentity(const StateDbIdentity& id, StateStore& store) {
  struct stat st {};
  if (::stat(id.path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Conflict("state database " + id.path + " was deleted");
    return Status::Conflict("state database " + id.path + ": " + std::strerror(errno));
  }
  if (st.st_dev != id.device || st.st_ino != id.inode)
    return Status::Conflict("state database " + id.path + " was replaced by another file (inode " +
                            std::to_string(id.inode) + ", now " + std::to_string(st.st_ino) + ")");
  // The same file may have been overwritten in place (cp onto it, a restore).
  auto uid = store.GetClusterUid(id.cluster);
  if (!uid.ok()) return Status::Ok();  // unreadable for now (busy): the pass itself will say so
  if (uid->has_value() && **uid != id.cluster_uid)
    return Status::Conflict("state database " + id.path + " records cluster " + id.cluster +
                            " under another id (" + id.cluster_uid + ", now " +
                            ((**uid).empty() ? std::string("none") : **uid) + ")");
  return Status::Ok();
}

void RemoveStaleJournal(const StateDbIdentity& id) {
  struct stat db {};
  if (::stat(id.path.c_str(), &db) == 0 && db.st_dev == id.device && db.st_ino == id.inode) return;  // still ours
  for (const char* suffix : {"-wal", "-shm"}) {
    const std::string path = id.path + suffix;
    struct stat file {};
    if (::stat(path.c_str(), &file) != 0) continue;
    DIR* fds = ::opendir("/proc/self/fd");
    if (!fds) return;
    bool ours = false;
    while (dirent* e = ::readdir(fds)) {
      struct stat open {};
      if (e->d_name[0] != '.' && ::stat(("/proc/self/fd/" + std::string(e->d_name)).c_str(), &open) == 0 &&
          open.st_dev == file.st_dev && open.st_ino == file.st_ino)
        ours = true;
    }
    ::closedir(fds);
    if (ours) ::unlink(path.c_str());
  }
}

bool RecordedForThisHome(const ClusterRecord& record, const std::string& home) {
  const std::string mine = ClusterHome(home, record.name);
  std::error_code ec;
  if (std::filesystem::equivalent(record.home, mine, ec) && !ec) return true;
  // Either directory missing (not made yet, or removed): compare the paths.
  return std::filesystem::absolute(record.home, ec).lexically_normal() ==
         std::filesystem::absolute(mine, ec).lexically_normal();
}

}  // namespace zkpilot
