#include "platform/kubernetes/kube_auth.h"

#include <openssl/rand.h>

#include <functional>
#include <map>
#include <set>
#include <vector>

#include "platform/kubernetes/cluster_resource.h"
#include "platform/kubernetes/kube_platform.h"
// The pure part of the local platform's SASL support (AuthSettingsOf,
// JaasConfig): one reading of auth.* and one JAAS file for both platforms.
#include "platform/local/local_auth.h"

namespace zkpilot {
namespace {

using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr char kAuthVolume[] = "zkpilot-auth";
constexpr char kServerJvmFlagsEnv[] = "SERVER_JVMFLAGS";

// 32 random bytes as hex, as locally (local_auth.cc): nothing a JAAS value
// or a client's configuration would need to quote.
Result<std::string> NewPassword() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Status::Internal("OpenSSL RAND_bytes failed");
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

json SecretObject(const KubePlatformOptions& o, const std::string& name, const json& data) {
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata",
                  {{"name", name},
                   {"namespace", o.namespace_name},
                   {"labels",
                    {{kLabelInstance, o.cluster},
                     {kLabelManagedBy, kManagedByValue},
                     {kLabelCluster, o.cluster}}}}},
                 {"type", "Opaque"},
                 {"data", data}};
  if (!o.owner_uid.empty())
    secret["metadata"]["ownerReferences"] = json::array({{{"apiVersion", o.owner_api_version},
                                                          {"kind", o.owner_kind},
                                                          {"name", o.cluster},
                                                          {"uid", o.owner_uid},
                                                          {"controller", true},
                                                          {"blockOwnerDeletion", true}}});
  return secret;
}

// Secret `name` made to hold every key of `fill`'s result: existing keys are
// read back and never changed, except those `derived` names, which are
// rewritten when they differ. `fill(existing)` returns the keys wanted (it
// generates what is missing). Created when missing; otherwise merge-patched
// at the resourceVersion read, so a concurrent writer makes it read again.
// Returns every key's value and whether anything was written.
struct SecretOutcome {
  std::map<std::string, std::string> data;
  bool written = false;
};
Result<SecretOutcome> EnsureSecretKeys(
    KubeClient& client, const KubePlatformOptions& options, const std::string& name,
    const std::set<std::string>& derived,
    const std::function<Result<std::map<std::string, std::string>>(
        const std::map<std::string, std::string>&)>& fill) {
  const auto deadline = SteadyClock::now() + options.api_retry;
  ZK_ASSIGN_OR_RETURN(ResourceRef ref, Retrying<ResourceRef>(deadline, [&] {
                        return client.Resolve("v1", "Secret");
                      }));
  for (int attempt = 0; attempt < 5; ++attempt) {
    ZK_ASSIGN_OR_RETURN(auto existing, Retrying<std::optional<json>>(deadline, [&] {
                          return client.Get(ref, options.namespace_name, name);
                        }));
    std::map<std::string, std::string> have;
    if (existing && existing->contains("data") && (*existing)["data"].is_object())
      for (const auto& [key, value] : (*existing)["data"].items()) {
        if (!value.is_string()) continue;
        auto decoded = Base64Decode(value.get<std::string>());
        if (!decoded.ok()) return decoded.status().WithContext("Secret " + name + ", key " + key);
        have[key] = *decoded;
      }
    ZK_ASSIGN_OR_RETURN(auto want, fill(have));
    json changed = json::object();
    SecretOutcome out{have, false};
    for (const auto& [key, value] : want) {
      auto it = have.find(key);
      if (it != have.end() && (it->second == value || (!derived.count(key) && !it->second.empty())))
        continue;
      changed[key] = Base64Encode(value);
      out.data[key] = value;
    }
    if (existing && changed.empty()) return out;
    out.written = true;
    Result<json> written = Status::Internal("unreachable");
    if (!existing) {
      written = client.Create(ref, options.namespace_name, SecretObject(options, name, changed));
    } else {
      const json patch = {
          {"metadata", {{"resourceVersion", (*existing)["metadata"].value("resourceVersion", "")}}},
          {"data", changed}};
      written = client.MergePatch(ref, options.namespace_name, name, patch);
    }
    if (written.ok()) return out;
    // Created or changed by another writer meanwhile: read theirs.
    if (written.status().code() != ErrorCode::kConflict)
      return written.status().WithContext((existing ? "update Secret " : "create Secret ") + name);
  }
  return Status::Unavailable("Secret " + name + " kept changing while zkpilot completed it");
}

}  // namespace

std::string AuthSecretName(const std::string& cluster) { return cluster + "-auth"; }
std::string QuorumAuthSecretName(const std::string& cluster) { return cluster + "-auth-quorum"; }

bool IsAuthSecret(const std::string& cluster, const std::string& name) {
  return name == AuthSecretName(cluster) || name == QuorumAuthSecretName(cluster);
}

Status CheckAuthValues(const Values& values) { return AuthSettingsOf(values).status(); }

AuthDecoration AuthDecorationOf(const Values& values, const std::string& cluster) {
  auto settings = AuthSettingsOf(values);
  // Bad values are refused by CheckAuthValues before anything is applied.
  if (!settings.ok() || !settings->NeedsJaas()) return {};
  AuthDecoration d{AuthSecretName(cluster), ""};
  if (settings->clients)
    for (const auto& user : settings->users) d.users += (d.users.empty() ? "" : ",") + user;
  return d;
}

Result<std::string> EnsureAuthSecrets(KubeClient& client, const KubePlatformOptions& options,
                                      const Values& values) {
  ZK_ASSIGN_OR_RETURN(AuthSettings settings, AuthSettingsOf(values));
  if (!settings.NeedsJaas()) return std::string();
  std::vector<std::string> done;
  AuthCredentials credentials;
  if (settings.quorum) {
    const std::string name = QuorumAuthSecretName(options.cluster);
    ZK_ASSIGN_OR_RETURN(
        SecretOutcome quorum,
        EnsureSecretKeys(client, options, name, {},
                         [&](const std::map<std::string, std::string>& have)
                             -> Result<std::map<std::string, std::string>> {
                           auto it = have.find(kQuorumPasswordKey);
                           if (it != have.end() && !it->second.empty()) return have;
                           ZK_ASSIGN_OR_RETURN(std::string pw, NewPassword());
                           return std::map<std::string, std::string>{{kQuorumPasswordKey, pw}};
                         }));
    credentials[kQuorumUser] = quorum.data[kQuorumPasswordKey];
    if (quorum.written) done.push_back("Secret " + name + " made");
  }
  const std::string name = AuthSecretName(options.cluster);
  ZK_ASSIGN_OR_RETURN(
      SecretOutcome auth,
      EnsureSecretKeys(client, options, name, {kJaasKey},
                       [&](const std::map<std::string, std::string>& have)
                           -> Result<std::map<std::string, std::string>> {
                         AuthCredentials all = credentials;
                         std::map<std::string, std::string> want;
                         if (settings.clients)
                           for (const auto& user : settings.users) {
                             auto it = have.find(user);
                             if (it != have.end() && !it->second.empty()) {
                               all[user] = it->second;
                               continue;
                             }
                             ZK_ASSIGN_OR_RETURN(all[user], NewPassword());
                             want[user] = all[user];
                           }
                         want[kJaasKey] = JaasConfig(settings, all);
                         return want;
                       }));
  if (auth.written) done.push_back("Secret " + name + " written");
  return done.empty() ? "credentials in Secrets " + name +
                            (settings.quorum ? " and " + QuorumAuthSecretName(options.cluster) : "")
                      : JoinNames(done);
}

void AddJaasFile(json& pod_spec, const std::string& secret) {
  if (!pod_spec.contains("containers") || !pod_spec["containers"].is_array() ||
      pod_spec["containers"].empty())
    return;
  json* container = &pod_spec["containers"][0];
  for (auto& c : pod_spec["containers"])
    if (c.value("name", "") == "zookeeper") container = &c;
  // 0440: the pod's fsGroup may read it, nobody may write it.
  json volume = {{"name", kAuthVolume},
                 {"secret",
                  {{"secretName", secret},
                   {"items", json::array({{{"key", kJaasKey}, {"path", kJaasKey}}})},
                   {"defaultMode", 0440}}}};
  if (!pod_spec["volumes"].is_array()) pod_spec["volumes"] = json::array();
  pod_spec["volumes"].push_back(volume);
  json& mounts = (*container)["volumeMounts"];
  if (!mounts.is_array()) mounts = json::array();
  mounts.push_back({{"name", kAuthVolume}, {"mountPath", kAuthMountPath}, {"readOnly", true}});
  // ServerCnxnFactory.configureSaslLogin and the quorum's SASL read the JAAS
  // file named by this system property (javax.security.auth.login).
  const std::string flag =
      std::string("-Djava.security.auth.login.config=") + kAuthMountPath + "/" + kJaasKey;
  json& env = (*container)["env"];
  if (!env.is_array()) env = json::array();
  for (auto& e : env)
    if (e.value("name", "") == kServerJvmFlagsEnv && e.contains("value") && e["value"].is_string()) {
      e["value"] = e["value"].get<std::string>() + " " + flag;
      return;
    }
  env.push_back({{"name", kServerJvmFlagsEnv}, {"value", flag}});
}

}  // namespace zkpilot
