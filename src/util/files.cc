#include "util/files.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>

namespace zkpilot {
namespace fs = std::filesystem;

Result<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::NotFound(path + ": no such file");
  if (fs::is_directory(path, ec)) return Status::InvalidInput(path + ": is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot open for reading");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": read error");
  return ss.str();
}

namespace {

// 16 random hex digits from the kernel's generator: a temporary name no
// other user can guess and place a file or symlink at beforehand.
Result<std::string> RandomSuffix() {
  unsigned char bytes[8];
  size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IOError(std::string("getrandom: ") + std::strerror(errno));
    got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

Status Errno(const std::string& path, const char* what) {
  return Status::IOError(path + ": " + what + ": " + std::strerror(errno));
}

// fsync(2) on a directory, so that a rename in it survives a crash.
Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno(dir, "cannot open directory to sync");
  const bool synced = ::fsync(fd) == 0;
  const int sync_errno = errno;
  ::close(fd);
  if (!synced) {
    errno = sync_errno;
    return Errno(dir, "cannot sync directory");
  }
  return Status::Ok();
}

// The process's umask, from /proc/self/status (Linux 4.7+): reading it with
// umask(2) means setting it for a moment, which other threads would see.
std::optional<mode_t> CurrentUmask() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Umask:", 0) != 0) continue;
    try {
      return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8) & 0777);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

Status WriteFileAtomically(const std::string& path, const std::string& content, mode_t mode) {
  const fs::path target(path);
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  // Hidden, so that nothing listing the directory takes it for a real file.
  const std::string prefix = (fs::path(dir) / ("." + target.filename().string() + ".tmp-")).string();
  // O_EXCL: never an existing file (someone else's, or one they hold open);
  // O_NOFOLLOW: never through a symlink, even a dangling one. A name already
  // taken is a collision (or a guess); another name is tried.
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    auto suffix = RandomSuffix();
    if (!suffix.ok()) return suffix.status().WithContext(path);
    tmp = prefix + *suffix;
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0 && (errno != EEXIST || attempt >= 16)) return Errno(path, "cannot create a temporary file");
  }
  auto fail = [&](Status s) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  };
  // The umask may have taken bits from open(2)'s mode; set exactly `mode`
  // before any content is in the file (fchmod, unlike chmod, is not subject
  // to the umask). It only ever adds back bits the caller asked for.
  if (::fchmod(fd, mode) != 0) return fail(Errno(path, "cannot set the mode of the temporary file"));
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Errno(path, "cannot write"));
    done += static_cast<size_t>(n);
  }
  // Synced before the rename: otherwise a crash can leave `path` renamed but
  // empty (ext4 and xfs order only metadata).
  if (::fsync(fd) != 0) return fail(Errno(path, "cannot sync"));
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) return fail(Errno(path, "cannot write"));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(Errno(path, "cannot rename the temporary file into place"));
  return SyncDirectory(dir).WithContext(path);
}

Result<std::vector<std::string>> ListFilesRecursive(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> out;
  if (!fs::is_directory(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) out.push_back(fs::relative(it->path(), dir, ec).generic_string());
  }
  if (ec) return Status::IOError(dir + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

Status WriteDirectoryAtomically(const std::string& dir,
                                const std::vector<std::pair<std::string, std::string>>& files) {
  std::error_code ec;
  fs::path target = fs::absolute(dir, ec);
  if (fs::exists(target, ec)) {
    if (!fs::is_directory(target, ec)) return Status::InvalidInput(dir + ": exists and is not a directory");
    if (!fs::is_empty(target, ec))
      return Status::InvalidInput(dir + ": output directory exists and is not empty");
  }
  fs::path parent = target.parent_path();
  fs::create_directories(parent, ec);
  if (ec) return Status::IOError(parent.string() + ": " + ec.message());
  // mkdtemp: a new directory under an unguessable name, the creator's only
  // (0700), so that in a parent others can write no one can have it in place
  // beforehand or add files to it while it fills.
  std::string tmpl = (parent / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    return Status::IOError(parent.string() + ": cannot create a temporary directory: " + std::strerror(errno));
  const fs::path tmp = tmpl;
  auto fail = [&](Status s) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    return s;
  };
  for (const auto& [rel, content] : files) {
    fs::path p = tmp / rel;
    fs::create_directories(p.parent_path(), ec);
    std::ofstream out(p, std::ios::binary);
    out << content;
    out.close();
    if (!out) return fail(Status::IOError(p.string() + ": write failed"));
  }
  // Once full, the mode a plain mkdir(2) would have given it; when the umask
  // cannot be read, it stays the owner's only.
  if (const auto mask = CurrentUmask()) {
    fs::permissions(tmp, static_cast<fs::perms>(0777 & ~*mask), fs::perm_options::replace, ec);
    if (ec) return fail(Status::IOError(tmp.string() + ": " + ec.message()));
  }
  if (fs::exists(target, ec)) fs::remove(target, ec);  // empty directory
  fs::rename(tmp, target, ec);
  if (ec) return fail(Status::IOError(dir + ": " + ec.message()));
  return Status::Ok();
}

}  // namespace zkpilot
