#include "platform/local/file_actions.h"

#include <glob.h>

#include <filesystem>

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

Result<std::string> PurgeSnapshots(const LocalNode& node, const Distribution& distribution, int64_t retain) {
  const auto& e = node.endpoint;
  if (!fs::exists(e.data_dir)) return std::string("no data directory yet");
  const std::string log_dir = e.data_log_dir.empty() ? e.data_dir : e.data_log_dir;
  ZK_ASSIGN_OR_RETURN(CommandResult r,
                      RunCommand({FindInPath("java"), "-cp", distribution.ClasspathString(node.conf_dir),
                                  "org.apache.zookeeper.server.PurgeTxnLog", log_dir, e.data_dir, "-n",
                                  std::to_string(retain)},
                                 std::chrono::seconds(120)));
  if (r.exit_code != 0)
    return Status::IOError("PurgeTxnLog " + (r.timed_out ? std::string("timed out") : "exited with " + std::to_string(r.exit_code)) +
                           ": " + r.output.substr(r.output.size() > 2000 ? r.output.size() - 2000 : 0));
  return "kept the newest " + std::to_string(retain) + " snapshots";
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
