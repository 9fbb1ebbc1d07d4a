#include "platform/kubernetes/kube_certmanager.h"

#include "platform/kubernetes/cluster_resource.h"
#include "platform/kubernetes/kube_platform_objects.h"
#include "platform/kubernetes/kube_tls.h"
#include "util/hash.h"

namespace zkpilot {
namespace {

using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

int IntOr(const Values& values, const std::string& name, int fallback) {
  return values.Has(name) && values.Get(name).is_number_integer() ? values.Get(name).get<int>()
                                                                  : fallback;
}

json Metadata(const KubePlatformOptions& o, const std::string& name) {
  json meta = {{"name", name},
               {"namespace", o.namespace_name},
               {"labels",
                {{kLabelInstance, o.cluster},
                 {kLabelManagedBy, kManagedByValue},
                 {kLabelCluster, o.cluster}}}};
  if (!o.owner_uid.empty())
    meta["ownerReferences"] = json::array({{{"apiVersion", o.owner_api_version},
                                            {"kind", o.owner_kind},
                                            {"name", o.cluster},
                                            {"uid", o.owner_uid},
                                            {"controller", true},
                                            {"blockOwnerDeletion", true}}});
  return meta;
}

json Issuer(const KubePlatformOptions& o, const std::string& name) {
  // cert-manager's CA issuer signs with the key pair in the Secret's
  // tls.crt/tls.key (ShareCasWithCertManager puts them there).
  return {{"apiVersion", kCertManagerApiVersion},
          {"kind", "Issuer"},
          {"metadata", Metadata(o, name)},
          {"spec", {{"ca", {{"secretName", name}}}}}};
}

json Certificate(const Values& values, const KubePlatformOptions& o, const std::string& name,
                 const std::string& secret, const std::string& issuer, int id) {
  const int days = IntOr(values, "tls.certificateValidityDays", 365);
  const int renew = IntOr(values, "tls.renewBeforeDays", 30);
  return {{"apiVersion", kCertManagerApiVersion},
          {"kind", "Certificate"},
          {"metadata", Metadata(o, name)},
          {"spec",
           {{"secretName", secret},
            {"commonName", name},
            {"dnsNames", ServerTlsDnsNames(values, o, id)},
            {"duration", std::to_string(days * 24) + "h"},
            {"renewBefore", std::to_string(renew * 24) + "h"},
            // ZooKeeper's PemReader (PEMFileLoader) reads PKCS#8 keys only.
            {"privateKey", {{"algorithm", "ECDSA"}, {"size", 256}, {"encoding", "PKCS8"}}},
            // Quorum connections are mutual (each end is server and client);
            // the client-port certificate needs server auth only, but the
            // same usages keep both alike, as zkpilot's mode issues them.
            {"usages", json::array({"server auth", "client auth", "digital signature"})},
            {"issuerRef", {{"name", issuer}, {"kind", "Issuer"}, {"group", "cert-manager.io"}}}}}};
}

}  // namespace

std::string ServerCertificateName(const std::string& cluster, int id) {
  return cluster + "-server-" + std::to_string(id);
}
std::string QuorumCertificateName(const std::string& cluster, int id) {
  return cluster + "-quorum-" + std::to_string(id);
}
std::string CertManagerServerSecretName(const std::string& cluster, int id) {
  return TlsServerSecretName(cluster, id);
}
std::string CertManagerQuorumSecretName(const std::string& cluster, int id) {
  return cluster + "-tls-quorum-" + std::to_string(id);
}

Result<bool> UseCertManager(KubeClient& client, const Values& values) {
  const std::string mode = values.Has("tls.certificates") && values.Get("tls.certificates").is_string()
                               ? values.Get("tls.certificates").get<std::string>()
                               : "zkpilot";
  if (mode == "zkpilot") return false;
  auto ref = client.Resolve(kCertManagerApiVersion, "Certificate");
  if (ref.ok()) return true;
  if (ref.status().code() != ErrorCode::kNotFound) return ref.status();
  if (mode == "auto") return false;
  return Status::InvalidInput(
      "tls.certificates=cert-manager: the cluster serves no cert-manager.io/v1 Certificate (install "
      "cert-manager first, or use tls.certificates=zkpilot or auto)");
}

std::vector<json> CertManagerIssuers(const KubePlatformOptions& options) {
  return {Issuer(options, TlsCaSecretName(options.cluster)),
          Issuer(options, TlsQuorumCaSecretName(options.cluster))};
}

std::vector<json> CertManagerCertificates(const Values& values, const KubePlatformOptions& options,
                                          int id) {
  const std::string& c = options.cluster;
  return {Certificate(values, options, ServerCertificateName(c, id),
                      CertManagerServerSecretName(c, id), TlsCaSecretName(c), id),
          Certificate(values, options, QuorumCertificateName(c, id),
                      CertManagerQuorumSecretName(c, id), TlsQuorumCaSecretName(c), id)};
}

void UseCertManagerVolume(json& pod_spec, const std::string& cluster, int id) {
  if (!pod_spec.contains("volumes") || !pod_spec["volumes"].is_array()) return;
  auto items = [](std::initializer_list<std::pair<const char*, const char*>> pairs) {
    json out = json::array();
    for (const auto& [key, path] : pairs) out.push_back({{"key", key}, {"path", path}});
    return out;
  };
  for (auto& v : pod_spec["volumes"]) {
    if (v.value("name", "") != "tls") continue;
    v = {{"name", "tls"},
         {"projected",
          {{"defaultMode", 0440},
           {"sources",
            json::array(
                {{{"secret",
                   {{"name", CertManagerServerSecretName(cluster, id)},
                    {"items", items({{"tls.key", "tls.key"}, {"tls.crt", "tls.crt"}, {"ca.crt", "ca.crt"}})}}}},
                 {{"secret",
                   {{"name", CertManagerQuorumSecretName(cluster, id)},
                    {"items", items({{"tls.key", "quorum.key"},
                                     {"tls.crt", "quorum.crt"},
                                     {"ca.crt", "quorum-ca.crt"}})}}}}})}}}};
  }
}

bool CertificateReady(const json& certificate) {
  if (!certificate.contains("status") || !certificate["status"].contains("conditions")) return false;
  for (const auto& c : certificate["status"]["conditions"])
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  return false;
}

Status ShareCasWithCertManager(KubeClient& client, const KubePlatformOptions& options) {
  const auto deadline = SteadyClock::now() + options.api_retry;
  ZK_ASSIGN_OR_RETURN(ResourceRef ref, Retrying<ResourceRef>(deadline, [&] {
                        return client.Resolve("v1", "Secret");
                      }));
  for (const std::string& name :
       {TlsCaSecretName(options.cluster), TlsQuorumCaSecretName(options.cluster)}) {
    ZK_ASSIGN_OR_RETURN(auto secret, Retrying<std::optional<json>>(deadline, [&] {
                          return client.Get(ref, options.namespace_name, name);
                        }));
    if (!secret) return Status::NotFound("Secret " + name + " does not exist yet");
    const json data = secret->value("data", json::object());
    if (!data.contains("ca.crt") || !data.contains("ca.key"))
      return Status::InvalidInput("Secret " + name + " has no ca.crt and ca.key");
    if (data.value("tls.crt", "") == data["ca.crt"] && data.value("tls.key", "") == data["ca.key"])
      continue;
    const json patch = {{"data", {{"tls.crt", data["ca.crt"]}, {"tls.key", data["ca.key"]}}}};
    ZK_RETURN_IF_ERROR(Retrying<json>(deadline, [&] {
                         return client.MergePatch(ref, options.namespace_name, name, patch);
                       })
                           .status()
                           .WithContext("Secret " + name));
  }
  return Status::Ok();
}

Result<std::string> CertManagerTlsHash(KubeClient& client, const KubePlatformOptions& options, int id) {
  const auto deadline = SteadyClock::now() + options.api_retry;
  ZK_ASSIGN_OR_RETURN(ResourceRef ref, Retrying<ResourceRef>(deadline, [&] {
                        return client.Resolve("v1", "Secret");
                      }));
  std::string certificates;
  for (const std::string& name : {CertManagerServerSecretName(options.cluster, id),
                                  CertManagerQuorumSecretName(options.cluster, id)}) {
    ZK_ASSIGN_OR_RETURN(auto secret, Retrying<std::optional<json>>(deadline, [&] {
                          return client.Get(ref, options.namespace_name, name);
                        }));
    if (!secret) return std::string();
    const json data = secret->value("data", json::object());
    certificates += data.value("tls.crt", "") + "\n" + data.value("ca.crt", "") + "\n";
  }
  return Sha256Hex(certificates).substr(0, 16);
}

Status WaitCertificatesReady(KubeClient& client, const KubePlatformOptions& options,
                             const std::vector<std::string>& names, std::chrono::milliseconds timeout,
                             Clock& clock) {
  const auto until = clock.Now() + timeout;
  ZK_ASSIGN_OR_RETURN(ResourceRef ref, Retrying<ResourceRef>(SteadyClock::now() + options.api_retry, [&] {
                        return client.Resolve(kCertManagerApiVersion, "Certificate");
                      }));
  while (true) {
    std::vector<std::string> waiting;
    for (const auto& name : names) {
      ZK_ASSIGN_OR_RETURN(auto cert, Retrying<std::optional<json>>(
                                         SteadyClock::now() + options.api_retry, [&] {
                                           return client.Get(ref, options.namespace_name, name);
                                         }));
      if (cert && CertificateReady(*cert)) continue;
      std::string why = cert ? "not Ready" : "missing";
      if (cert && cert->contains("status") && cert->at("status").contains("conditions"))
        for (const auto& c : cert->at("status")["conditions"])
          if (c.value("type", "") == "Ready" && !c.value("message", "").empty())
            why = c.value("message", "");
      waiting.push_back("Certificate " + name + " (" + why + ")");
    }
    if (waiting.empty()) return Status::Ok();
    if (clock.Now() >= until)
      return Status::Unavailable("cert-manager has not issued within " +
                                 std::to_string(timeout.count() / 1000) + " s: " + JoinNames(waiting));
    clock.Sleep(options.poll_interval);
  }
}

}  // namespace zkpilot
