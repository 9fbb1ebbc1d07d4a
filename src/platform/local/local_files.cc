#include "platform/local/local_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

namespace zkpilot {

namespace fs = std::filesystem;

Status MakeWritableDir(const std::string& dir, const std::string& what) {
  std::error_code ec;
  std::vector<fs::path> created;
  for (fs::path p = fs::path(dir).lexically_normal();
       !p.empty() && p != p.root_path() && !fs::exists(p, ec); p = p.parent_path())
    created.push_back(p);
  fs::create_directories(dir, ec);
  if (ec) return Status::InvalidInput(what + " " + dir + ": cannot create: " + ec.message());
  for (const auto& p : created)
    fs::permissions(p, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (::access(dir.c_str(), W_OK) != 0)
    return Status::InvalidInput(what + " " + dir + ": not writable");
  return Status::Ok();
}

namespace {

// Drops group and other bits from `path` if it exists.
void OwnerOnly(const fs::path& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) return;
  if ((st.st_mode & 077) != 0) ::chmod(path.c_str(), st.st_mode & 07700);
}

}  // namespace

void RestrictStateDirectory(const std::string& home) {
  ::umask(077);
  struct stat st;
  if (::stat(home.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid() &&
      !(st.st_mode & S_ISVTX))
    OwnerOnly(home);
  const fs::path root(home);
  OwnerOnly(root / "clusters");
  OwnerOnly(root / "locks");
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    OwnerOnly(root / (std::string("state.db") + suffix));
  std::error_code ec;
  for (fs::directory_iterator it(root / "clusters", ec), end; !ec && it != end; it.increment(ec))
    OwnerOnly(it->path());
}

Status CheckWritable(const std::string& dir, const std::string& what) {
  std::error_code ec;
  fs::path p = fs::path(dir).lexically_normal();
  fs::path existing = p;
  while (!existing.empty() && existing != existing.root_path() && !fs::exists(existing, ec))
    existing = existing.parent_path();
  if (fs::exists(existing, ec) && !fs::is_directory(existing, ec))
    return Status::InvalidInput(what + " " + dir + ": " + existing.string() +
                                " is not a directory");
  fs::create_directories(p, ec);
  if (ec) return Status::InvalidInput(what + " " + dir + ": cannot be created: " + ec.message());
  const fs::path probe = p / ".zkpilot-write-probe";
  bool ok = false;
  {
    std::ofstream out(probe);
    out << "probe\n";
    out.close();
    ok = static_cast<bool>(out);
  }
  fs::remove(probe, ec);
  // Remove the directories this check created, deepest first.
  for (fs::path q = p; !q.empty() && q != existing && q != q.root_path(); q = q.parent_path())
    fs::remove(q, ec);
  if (!ok) return Status::InvalidInput(what + " " + dir + ": not writable");
  return Status::Ok();
}

}  // namespace zkpilot
