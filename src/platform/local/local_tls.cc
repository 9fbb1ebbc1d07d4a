#include "platform/local/local_tls.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "platform/local/local_pki.h"
#include "platform/local/zoo_cfg.h"

namespace zkpilot {
namespace {

constexpr const char* kTlsEnabled = "tls.enabled";
constexpr const char* kValidityDays = "tls.certificateValidityDays";
constexpr const char* kRenewBeforeDays = "tls.renewBeforeDays";

int IntOr(const Values& values, const char* name, int fallback) {
  return values.Has(name) && values.Get(name).is_number_integer() ? values.Get(name).get<int>() : fallback;
}

}  // namespace

bool TlsEnabled(const Values& values) { return values.Has(kTlsEnabled) && values.Get(kTlsEnabled) == true; }

TlsStage ClassifyTlsStage(std::string_view zoo_cfg_text) {
  const auto p = ZooCfgProperties(zoo_cfg_text);
  if (!p.count("dataDir")) return TlsStage::kUnknown;
  // A secure client port only with stage 3: stages 1 and 2 serve TLS on the
  // plaintext port, unified (NettyServerCnxnFactory's DualModeSslHandler,
  // which client.portUnification asks for: zookeeper.client.portUnification
  // through QuorumPeerConfig.parseProperties' unknown keys).
  const bool secure = p.count("secureClientPort") > 0;
  const bool client_unified = ZooCfgTrue(p, "client.portUnification");
  const bool quorum_unified = ZooCfgTrue(p, "portUnification");
  const bool ssl_quorum = ZooCfgTrue(p, "sslQuorum");
  if (!secure && !client_unified && !quorum_unified && !ssl_quorum) return TlsStage::kPlaintext;
  if (!secure && client_unified && quorum_unified) return ssl_quorum ? TlsStage::kQuorumTls : TlsStage::kOpen;
  if (secure && ssl_quorum && !client_unified && !quorum_unified) return TlsStage::kTls;
  return TlsStage::kUnknown;
}

std::optional<TlsClientFiles> TlsClientFilesForStage(int stage, const std::string& cluster_home,
                                                     const std::optional<TlsClientFiles>& unknown) {
  if (stage < 0) return unknown;
  if (stage == 0) return std::nullopt;
  return LocalPkiAt(cluster_home).AdminFiles();
}

std::optional<TlsClientFiles> LocalTlsClientFiles(const Values& values, const std::string& cluster_home) {
  if (!TlsEnabled(values)) return std::nullopt;
  return LocalPkiAt(cluster_home).AdminFiles();
}

std::optional<TlsClientFiles> LocalTlsClientFilesFromJson(const std::string& values_json,
                                                          const std::string& cluster_home) {
  const nlohmann::json values = nlohmann::json::parse(values_json, nullptr, false);
  if (!values.is_object()) return std::nullopt;
  auto it = values.find(kTlsEnabled);
  if (it == values.end() || *it != true) return std::nullopt;
  return LocalPkiAt(cluster_home).AdminFiles();
}

PkiPolicy PkiPolicyOf(const Values& values) {
  // The package's defaults (packages/zookeeper/parameters.yaml) for a package without them.
  const std::chrono::hours day(24);
  return PkiPolicy{IntOr(values, kValidityDays, 365) * day,
                   IntOr(values, kRenewBeforeDays, 30) * day};
}

PkiPolicy PkiPolicyFromJson(const std::string& values_json) {
  PkiPolicy policy;
  const nlohmann::json values = nlohmann::json::parse(values_json, nullptr, false);
  if (!values.is_object()) return policy;
  const auto days = [&](const char* name, std::chrono::hours fallback) {
    auto it = values.find(name);
    return it != values.end() && it->is_number_integer() && it->get<int>() > 0
               ? it->get<int>() * std::chrono::hours(24)
               : fallback;
  };
  policy.validity = days(kValidityDays, policy.validity);
  policy.renew_before = days(kRenewBeforeDays, policy.renew_before);
  return policy;
}

Result<std::string> RenewOwnCertificate(const std::string& cluster, const std::string& cluster_home,
                                        const PkiPolicy& policy) {
  const LocalPki pki = LocalPkiAt(cluster_home);
  std::error_code ec;
  if (!std::filesystem::exists(pki.ca_cert, ec) || !std::filesystem::exists(pki.ca_key, ec))
    return std::string();
  const std::string lock_path = pki.dir + "/.zkpilot.lock";
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock.get() < 0) return Status::IOError(lock_path + ": " + ErrnoText(errno));
  if (::flock(lock.get(), LOCK_EX) != 0)
    return Status::IOError(lock_path + ": flock: " + ErrnoText(errno));
  // Judged under the lock: another process may have just renewed it.
  std::string reason;
  for (const auto& c : InspectLocalPki(pki, {}, policy.renew_before))
    if (c.name == "zkpilot") reason = c.renewal;
  if (reason.empty()) return std::string();
  ZK_ASSIGN_OR_RETURN(std::vector<int> servers,
                      EnsureLocalPki(pki, cluster, {}, policy.validity, policy.renew_before));
  (void)servers;  // none asked for
  return "zkpilot's certificate " + pki.admin_cert + " renewed (it was " + reason + ")";
}

Result<std::string> EnsureClusterPki(const Values& values, const std::string& cluster,
                                     const std::string& cluster_home, const std::vector<int>& ids,
                                     std::optional<TlsStage> stage) {
  if (stage.value_or(TargetTlsStage(values)) < TlsStage::kOpen) return std::string();
  const PkiPolicy policy = PkiPolicyOf(values);
  ZK_ASSIGN_OR_RETURN(
      std::vector<int> issued,
      EnsureLocalPki(LocalPkiAt(cluster_home), cluster, ids, policy.validity, policy.renew_before));
  if (issued.empty()) return std::string();
  std::string list;
  for (int id : issued) list += (list.empty() ? "" : ", ") + std::to_string(id);
  return "certificate issued for server " + list;
}

}  // namespace zkpilot
