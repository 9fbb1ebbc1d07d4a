#include "platform/local/local_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace zkpilot {

namespace fs = std::filesystem;

Status WriteFileAtomically(const std::string& path, const std::string& content, mode_t mode) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) return Status::IOError(path + ": cannot write");
  }
  ::chmod(tmp.c_str(), mode);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Status::IOError(path + ": " + ec.message());
  return Status::Ok();
}

Status MakeWritableDir(const std::string& dir, const std::string& what) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::InvalidInput(what + " " + dir + ": cannot create: " + ec.message());
  if (::access(dir.c_str(), W_OK) != 0) return Status::InvalidInput(what + " " + dir + ": not writable");
  return Status::Ok();
}

Status CheckWritable(const std::string& dir, const std::string& what) {
  std::error_code ec;
  fs::path p = fs::path(dir).lexically_normal();
  fs::path existing = p;
  while (!existing.empty() && existing != existing.root_path() && !fs::exists(existing, ec)) existing = existing.parent_path();
  if (fs::exists(existing, ec) && !fs::is_directory(existing, ec))
    return Status::InvalidInput(what + " " + dir + ": " + existing.string() + " is not a directory");
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
  for (fs::path q = p; !q.empty() && q != existing && q != q.root_path(); q = q.parent_path()) fs::remove(q, ec);
  if (!ok) return Status::InvalidInput(what + " " + dir + ": not writable");
  return Status::Ok();
}

}  // namespace zkpilot
