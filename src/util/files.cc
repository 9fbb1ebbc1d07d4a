#include "util/files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <unistd.h>

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
  fs::path tmp = parent / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  auto fail = [&](Status s) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    return s;
  };
  fs::create_directories(tmp, ec);
  if (ec) return fail(Status::IOError(tmp.string() + ": " + ec.message()));
  for (const auto& [rel, content] : files) {
    fs::path p = tmp / rel;
    fs::create_directories(p.parent_path(), ec);
    std::ofstream out(p, std::ios::binary);
    out << content;
    out.close();
    if (!out) return fail(Status::IOError(p.string() + ": write failed"));
  }
  if (fs::exists(target, ec)) fs::remove(target, ec);  // empty directory
  fs::rename(tmp, target, ec);
  if (ec) return fail(Status::IOError(dir + ": " + ec.message()));
  return Status::Ok();
}

}  // namespace zkpilot
