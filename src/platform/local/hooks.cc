#include "platform/local/hooks.h"

#include <glob.h>

#include <filesystem>

#include "platform/local/process.h"
#include "zk/zk_client.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;

constexpr auto kConnectTimeout = std::chrono::seconds(15);

std::string ArgString(const nlohmann::json& args, const std::string& key, const std::string& fallback = "") {
  if (!args.contains(key) || args[key].is_null()) return fallback;
  return args[key].is_string() ? args[key].get<std::string>() : args[key].dump();
}

bool ArgBool(const nlohmann::json& args, const std::string& key) {
  return args.contains(key) && args[key].is_boolean() && args[key].get<bool>();
}

class HookRunner {
 public:
  explicit HookRunner(const HookEnv& env) : env_(env) {}

  Result<std::string> Run(const HookStep& step) {
    const auto& a = step.args;
    if (step.action == "create-znode") {
      ZK_ASSIGN_OR_RETURN(ZkClient * zk, Client());
      CreateOptions opts;
      opts.acl = ArgString(a, "acl", "world:anyone:cdrwa");
      opts.make_parents = ArgBool(a, "parents");
      opts.ignore_existing = true;
      ZK_ASSIGN_OR_RETURN(CreatedNode node, zk->CreateNode(ArgString(a, "path"), ArgString(a, "data"), opts));
      return node.outcome == CreatedNode::Outcome::kCreated ? "created " + node.path : node.path + " exists";
    }
    if (step.action == "delete-znode") {
      ZK_ASSIGN_OR_RETURN(ZkClient * zk, Client());
      Status s = zk->Delete(ArgString(a, "path"), ArgBool(a, "recursive") ? DeleteMode::kRecursive : DeleteMode::kNodeOnly);
      if (s.code() == ErrorCode::kNotFound) return ArgString(a, "path") + " was not there";
      ZK_RETURN_IF_ERROR(s);
      return "deleted " + ArgString(a, "path");
    }
    if (step.action == "set-quota") {
      ZK_ASSIGN_OR_RETURN(ZkClient * zk, Client());
      int64_t bytes = a.contains("bytes") && a["bytes"].is_number_integer() ? a["bytes"].get<int64_t>() : -1;
      int64_t count = a.contains("count") && a["count"].is_number_integer() ? a["count"].get<int64_t>() : -1;
      ZK_RETURN_IF_ERROR(zk->SetQuota(ArgString(a, "path"), bytes, count));
      return "quota set on " + ArgString(a, "path");
    }
    if (step.action == "purge-snapshots") return PurgeSnapshots(a["retain"].get<int64_t>());
    if (step.action == "remove-files") return RemoveFiles(a["paths"]);
    if (step.action == "remove-node-data") return RemoveNodeData();
    return Status::Internal("unknown hook action " + step.action);
  }

 private:
  Result<ZkClient*> Client() {
    if (client_) return client_.get();
    ZK_ASSIGN_OR_RETURN(client_, ZkClient::Connect(env_.connect_string, kConnectTimeout));
    if (!env_.super_password.empty()) ZK_RETURN_IF_ERROR(client_->AddAuth("digest", "super:" + env_.super_password));
    return client_.get();
  }

  Result<std::string> PurgeSnapshots(int64_t retain) {
    if (!env_.distribution) return Status::Internal("purge-snapshots needs a distribution");
    std::string java = FindInPath("java");
    for (const auto& n : env_.nodes) {
      const auto& e = n.endpoint;
      if (!fs::exists(e.data_dir)) continue;
      const std::string log_dir = e.data_log_dir.empty() ? e.data_dir : e.data_log_dir;
      ZK_ASSIGN_OR_RETURN(CommandResult r,
                          RunCommand({java, "-cp", env_.distribution->ClasspathString(n.conf_dir),
                                      "org.apache.zookeeper.server.PurgeTxnLog", log_dir, e.data_dir, "-n",
                                      std::to_string(retain)},
                                     std::chrono::seconds(120)));
      if (r.exit_code != 0)
        return Status::IOError("server " + std::to_string(e.id) + ": PurgeTxnLog " +
                               (r.timed_out ? "timed out" : "exited with " + std::to_string(r.exit_code)) + ": " +
                               r.output.substr(r.output.size() > 2000 ? r.output.size() - 2000 : 0));
    }
    return "kept the newest " + std::to_string(retain) + " snapshots on " + std::to_string(env_.nodes.size()) + " servers";
  }

  Result<std::string> RemoveFiles(const nlohmann::json& patterns) {
    if (!patterns.is_array()) return Status::InvalidInput("remove-files: paths must be a list of globs");
    int removed = 0;
    for (const auto& n : env_.nodes) {
      for (const auto& p : patterns) {
        const std::string pattern = p.is_string() ? p.get<std::string>() : "";
        if (pattern.empty() || pattern[0] == '/' || pattern.find("..") != std::string::npos)
          return Status::InvalidInput("remove-files: \"" + pattern + "\" must be relative to the data directory, without ..");
        glob_t g{};
        if (::glob((n.endpoint.data_dir + "/" + pattern).c_str(), 0, nullptr, &g) == 0) {
          for (size_t i = 0; i < g.gl_pathc; ++i) {
            std::error_code ec;
            if (fs::remove_all(g.gl_pathv[i], ec) > 0) ++removed;
          }
        }
        ::globfree(&g);
      }
    }
    return "removed " + std::to_string(removed) + " files";
  }

  Result<std::string> RemoveNodeData() {
    if (!env_.purge_data) return std::string("skipped: data kept (--purge-data removes it)");
    for (const auto& n : env_.nodes) {
      std::error_code ec;
      for (const std::string& dir : {n.endpoint.data_dir, n.endpoint.data_log_dir}) {
        if (dir.empty()) continue;
        fs::remove_all(dir, ec);
        if (ec) return Status::IOError("removing " + dir + ": " + ec.message());
      }
    }
    return "removed the data of " + std::to_string(env_.nodes.size()) + " servers";
  }

  const HookEnv& env_;
  std::unique_ptr<ZkClient> client_;
};

}  // namespace

Result<std::string> RunHooks(const Package& package, HookEvent event, HookPhase phase, const HookEnv& env) {
  const std::string hook_name = std::string(HookEventName(event)) + "." + HookPhaseName(phase);
  HookRunner runner(env);
  int ran = 0, skipped = 0;
  for (const auto& hook : package.hooks) {
    if (hook.event != event || hook.phase != phase) continue;
    for (const auto& step : hook.steps) {
      HookRunRecord record{env.operation_id, HookEventName(event), HookPhaseName(phase), step.name, step.action, "", "",
                           NowMillis()};
      if (!step.when.empty() && !(env.values && env.values->Has(step.when) && env.values->Get(step.when) == true)) {
        record.status = "skipped";
        record.message = step.when + " is false";
        ++skipped;
        if (env.store) (void)env.store->AddHookRun(record);
        continue;
      }
      auto outcome = runner.Run(step);
      record.status = outcome.ok() ? "ok" : "failed";
      record.message = outcome.ok() ? *outcome : outcome.status().message();
      if (env.store) (void)env.store->AddHookRun(record);
      if (!outcome.ok())
        return outcome.status().WithContext("hook " + hook_name + " step " + step.name + " (" + step.action + ")");
      ++ran;
    }
  }
  if (ran == 0 && skipped == 0) return "no " + hook_name + " hooks";
  return hook_name + ": " + std::to_string(ran) + " steps ran" +
         (skipped ? ", " + std::to_string(skipped) + " skipped" : "");
}

}  // namespace zkpilot
