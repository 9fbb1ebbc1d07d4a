#include "platform/local/local_tls.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "platform/local/local_pki.h"

namespace zkpilot {
namespace {

constexpr const char* kTlsEnabled = "tls.enabled";

int IntOr(const Values& values, const char* name, int fallback) {
  return values.Has(name) && values.Get(name).is_number_integer() ? values.Get(name).get<int>() : fallback;
}

}  // namespace

bool TlsEnabled(const Values& values) { return values.Has(kTlsEnabled) && values.Get(kTlsEnabled) == true; }

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

Result<std::string> EnsureClusterPki(const Values& values, const std::string& cluster,
                                     const std::string& cluster_home, const std::vector<int>& ids) {
  if (!TlsEnabled(values)) return std::string();
  // The package's defaults (packages/zookeeper/parameters.yaml) for a package without them.
  const std::chrono::hours day(24);
  const auto validity = IntOr(values, "tls.certificateValidityDays", 365) * day;
  const auto renew_before = IntOr(values, "tls.renewBeforeDays", 30) * day;
  ZK_ASSIGN_OR_RETURN(std::vector<int> issued,
                      EnsureLocalPki(LocalPkiAt(cluster_home), cluster, ids, validity, renew_before));
  if (issued.empty()) return std::string();
  std::string list;
  for (int id : issued) list += (list.empty() ? "" : ", ") + std::to_string(id);
  return "certificate issued for server " + list;
}

}  // namespace zkpilot
