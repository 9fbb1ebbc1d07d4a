#include "actions/hooks.h"

#include <memory>

namespace zkpilot {
namespace {

constexpr char kRemoveNodeData[] = "remove-node-data";

std::string ArgString(const nlohmann::json& args, const std::string& key, const std::string& fallback = "") {
  if (!args.contains(key) || args[key].is_null()) return fallback;
  return args[key].is_string() ? args[key].get<std::string>() : args[key].dump();
}

bool ArgBool(const nlohmann::json& args, const std::string& key) {
  return args.contains(key) && args[key].is_boolean() && args[key].get<bool>();
}

// Whether zkpilot is known to the cluster by an identity of its own that
// other clients cannot claim: with TLS its certificate (x509), with client
// authentication the super digest, which only it knows. A plaintext cluster
// without authentication keeps the package's open `acl`.
bool ClusterAuthenticates(const Values* values) {
  auto on = [&](const char* key) { return values && values->Has(key) && values->Get(key) == true; };
  return on("tls.enabled") || on("auth.enabled");
}

// `secure_acl` with every "{{self}}" replaced by the session's own ACL id.
Result<std::string> WithOwnId(std::string secure_acl, const ZkSession& session) {
  static const std::string kSelf = "{{self}}";
  const std::string self = session.OwnAclId();
  if (self.empty() && secure_acl.find(kSelf) != std::string::npos)
    return Status::Internal(
        "secureAcl: zkpilot's session has no identity of its own to put for {{self}}");
  for (size_t at = secure_acl.find(kSelf); at != std::string::npos;
       at = secure_acl.find(kSelf, at + self.size()))
    secure_acl.replace(at, kSelf.size(), self);
  return secure_acl;
}

int64_t ArgInt(const nlohmann::json& args, const std::string& key) {
  return args.contains(key) && args[key].is_number_integer() ? args[key].get<int64_t>() : -1;
}

class HookRunner {
 public:
  explicit HookRunner(const HookTarget& target) : target_(target) {}

  Result<std::string> Run(const HookStep& step) {
    const auto& a = step.args;
    if (step.action == "create-znode") {
      ZK_ASSIGN_OR_RETURN(ZkSession * zk, Session());
      CreateOptions opts;
      opts.acl = ArgString(a, "acl", "world:anyone:cdrwa");
      if (a.contains("secureAcl") && ClusterAuthenticates(target_.values)) {
        ZK_ASSIGN_OR_RETURN(opts.acl, WithOwnId(ArgString(a, "secureAcl"), *zk));
      }
      opts.make_parents = ArgBool(a, "parents");
      opts.ignore_existing = true;
      opts.enforce_acl = ArgBool(a, "enforceAcl");
      ZK_ASSIGN_OR_RETURN(CreatedNode node, zk->CreateNode(ArgString(a, "path"), ArgString(a, "data"), opts));
      if (node.outcome == CreatedNode::Outcome::kCreated) return "created " + node.path;
      return node.path + (opts.enforce_acl ? " exists (ACL " + opts.acl + ")" : " exists");
    }
    if (step.action == "delete-znode") {
      ZK_ASSIGN_OR_RETURN(ZkSession * zk, Session());
      Status s = zk->Delete(ArgString(a, "path"), ArgBool(a, "recursive") ? DeleteMode::kRecursive : DeleteMode::kNodeOnly);
      if (s.code() == ErrorCode::kNotFound) return ArgString(a, "path") + " was not there";
      ZK_RETURN_IF_ERROR(s);
      return "deleted " + ArgString(a, "path");
    }
    if (step.action == "set-quota") {
      ZK_ASSIGN_OR_RETURN(ZkSession * zk, Session());
      ZK_RETURN_IF_ERROR(zk->SetQuota(ArgString(a, "path"), ArgInt(a, "bytes"), ArgInt(a, "count")));
      return "quota set on " + ArgString(a, "path");
    }
    if (step.action == "remove-files" || step.action == "purge-snapshots" || step.action == kRemoveNodeData)
      return FileAction(step);
    return Status::Internal("unknown hook action " + step.action);
  }

 private:
  Result<ZkSession*> Session() {
    if (session_) return session_.get();
    ZK_ASSIGN_OR_RETURN(session_, target_.platform->OpenZkSession(target_.members));
    return session_.get();
  }

  // The action on every server, one after the other; the first failure stops it.
  Result<std::string> FileAction(const HookStep& step) {
    if (step.action == kRemoveNodeData && !target_.purge_data)
      return std::string("skipped: data kept (--purge-data removes it)");
    std::string summary;
    for (int id : target_.servers) {
      auto outcome = target_.platform->RunFileAction(id, step.action, step.args, target_.purge_data);
      if (!outcome.ok()) return outcome.status().WithContext("server " + std::to_string(id));
      summary += (summary.empty() ? "" : "; ") + ("server " + std::to_string(id) + ": " + *outcome);
    }
    return summary.empty() ? std::string("no servers") : summary;
  }

  const HookTarget& target_;
  std::unique_ptr<ZkSession> session_;
};

}  // namespace

Result<std::string> RunHooks(const Package& package, HookEvent event, HookPhase phase, const HookTarget& target) {
  const std::string hook_name = std::string(HookEventName(event)) + "." + HookPhaseName(phase);
  HookRunner runner(target);
  int ran = 0, skipped = 0;
  for (const auto& hook : package.hooks) {
    if (hook.event != event || hook.phase != phase) continue;
    for (const auto& step : hook.steps) {
      HookRunRecord record{target.operation_id, HookEventName(event), HookPhaseName(phase), step.name, step.action,
                           "", "", NowMillis()};
      const Values* values = target.values;
      if (!step.when.empty() && !(values && values->Has(step.when) && values->Get(step.when) == true)) {
        record.status = "skipped";
        record.message = step.when + " is false";
        ++skipped;
        if (target.store) (void)target.store->AddHookRun(record);
        continue;
      }
      auto outcome = runner.Run(step);
      record.status = outcome.ok() ? "ok" : "failed";
      record.message = outcome.ok() ? *outcome : outcome.status().message();
      if (target.store) (void)target.store->AddHookRun(record);
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
