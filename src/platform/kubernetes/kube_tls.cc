#include "platform/kubernetes/kube_tls.h"

#include <algorithm>
#include <functional>

#include "platform/kubernetes/cluster_resource.h"
#include "platform/kubernetes/kube_platform_objects.h"
#include "platform/local/local_pki.h"
#include "render/renderer.h"
#include "security/pki.h"
#include "util/hash.h"

namespace zkpilot {
namespace {

using json = nlohmann::json;
using Data = std::map<std::string, std::string>;  // a Secret's data, decoded

int IntOr(const Values& values, const std::string& name, int fallback) {
  return values.Has(name) && values.Get(name).is_number_integer() ? values.Get(name).get<int>()
                                                                  : fallback;
}

std::chrono::hours Validity(const Values& values) {
  return std::chrono::hours(24 * IntOr(values, "tls.certificateValidityDays", 365));
}

// Whether any of `keys` (PEM certificates) of a Secret expires within
// tls.renewBeforeDays: it is issued again, and the server's new digest rolls
// it (docs/security.md, "TLS clusters on Kubernetes"). A certificate that
// does not parse is left to CheckIssued, which names it.
std::function<bool(const Data&)> DueWithin(const Values& values, std::vector<std::string> keys) {
  const auto renew_before = std::chrono::hours(24 * IntOr(values, "tls.renewBeforeDays", 30));
  return [renew_before, keys = std::move(keys)](const Data& data) {
    const auto now = std::chrono::system_clock::now();
    for (const auto& key : keys) {
      auto it = data.find(key);
      if (it == data.end()) continue;
      auto info = ReadCertificate(it->second);
      if (info.ok() && info->not_after - now < renew_before) return true;
    }
    return false;
  };
}

json SecretObject(const std::string& name, const KubePlatformOptions& options, const Data& data) {
  json encoded = json::object();
  for (const auto& [k, v] : data) encoded[k] = Base64Encode(v);
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata",
                  {{"name", name},
                   {"namespace", options.namespace_name},
                   {"labels",
                    {{kLabelInstance, options.cluster},
                     {kLabelManagedBy, kManagedByValue},
                     {kLabelCluster, options.cluster}}}}},
                 {"type", "Opaque"},
                 {"data", encoded}};
  if (!options.owner_uid.empty())
    secret["metadata"]["ownerReferences"] = json::array({{{"apiVersion", options.owner_api_version},
                                                          {"kind", options.owner_kind},
                                                          {"name", options.cluster},
                                                          {"uid", options.owner_uid},
                                                          {"controller", true},
                                                          {"blockOwnerDeletion", true}}});
  return secret;
}

// `keys` of an existing Secret, decoded; InvalidInput naming the Secret and
// the first missing or empty key.
Result<Data> DecodeSecret(const std::string& name, const json& secret,
                          const std::vector<std::string>& keys) {
  const json data = secret.contains("data") && secret["data"].is_object() ? secret["data"]
                                                                           : json::object();
  Data out;
  for (const auto& key : keys) {
    if (!data.contains(key) || !data[key].is_string())
      return Status::InvalidInput("Secret " + name + " has no key \"" + key + "\"");
    auto decoded = Base64Decode(data[key].get<std::string>());
    if (!decoded.ok()) return decoded.status().WithContext("Secret " + name + ", key " + key);
    if (decoded->empty())
      return Status::InvalidInput("Secret " + name + ": key \"" + key + "\" is empty");
    out[key] = std::move(decoded).value();
  }
  return out;
}

// Secret `name`: read back when it exists, else created from make(). An
// existing one that `due` says is due (certificates about to expire) is
// replaced by make()'s, guarded by its resourceVersion. When a concurrent
// writer's create or replace wins, theirs is read back.
Result<Data> EnsureSecret(KubeClient& client, const KubePlatformOptions& options,
                          const ResourceRef& ref, const std::string& name,
                          const std::vector<std::string>& keys,
                          const std::function<Result<Data>()>& make,
                          const std::function<bool(const Data&)>& due = nullptr) {
  const auto deadline = std::chrono::steady_clock::now() + options.api_retry;
  for (int attempt = 0; attempt < 3; ++attempt) {
    ZK_ASSIGN_OR_RETURN(auto existing, Retrying<std::optional<json>>(deadline, [&] {
                          return client.Get(ref, options.namespace_name, name);
                        }));
    if (existing) {
      ZK_ASSIGN_OR_RETURN(Data data, DecodeSecret(name, *existing, keys));
      if (!due || !due(data)) return data;
      ZK_ASSIGN_OR_RETURN(Data renewed, make());
      // A merge patch (the operator may patch Secrets, not update them) with
      // the resourceVersion read: the API server refuses it (409) when the
      // Secret changed meanwhile.
      json patch = {{"metadata", {{"resourceVersion", (*existing)["metadata"].value("resourceVersion", std::string())}}},
                    {"data", SecretObject(name, options, renewed)["data"]}};
      auto patched = client.MergePatch(ref, options.namespace_name, name, patch);
      if (patched.ok()) return renewed;
      if (patched.status().code() != ErrorCode::kConflict)
        return patched.status().WithContext("renew Secret " + name);
      continue;  // renewed meanwhile by another writer: read theirs
    }
    ZK_ASSIGN_OR_RETURN(Data data, make());
    auto created = client.Create(ref, options.namespace_name, SecretObject(name, options, data));
    if (created.ok()) return data;
    if (created.status().code() != ErrorCode::kConflict)
      return created.status().WithContext("create Secret " + name);
  }
  return Status::Internal("Secret " + name + ": changed by another writer at each of 3 attempts to create or renew it");
}

Result<Data> EnsureCa(KubeClient& client, const KubePlatformOptions& options,
                      const ResourceRef& ref, const std::string& name,
                      const std::string& common_name, std::chrono::hours validity) {
  return EnsureSecret(client, options, ref, name, {"ca.crt", "ca.key"}, [&]() -> Result<Data> {
    ZK_ASSIGN_OR_RETURN(KeyPair ca,
                        CreateCertificateAuthority(common_name, validity * kCaValidityFactor));
    return Data{{"ca.crt", ca.cert_pem}, {"ca.key", ca.key_pem}};
  });
}

KeyPair AsKeyPair(const Data& ca) { return {ca.at("ca.crt"), ca.at("ca.key")}; }

// A certificate read back must be the CA's: a Secret left from another CA
// would give a server that no peer or client trusts.
Status CheckIssued(const std::string& secret, const std::string& key, const std::string& cert,
                   const std::string& ca_cert, const std::string& ca_secret) {
  Status s = VerifyIssuedBy(cert, ca_cert);
  if (s.ok()) return s;
  return Status::InvalidInput("Secret " + secret + ", key " + key + ": " + s.message() +
                              " (the CA is Secret " + ca_secret +
                              "; delete Secret " + secret + " to have it issued again)");
}

}  // namespace

std::string TlsCaSecretName(const std::string& cluster) { return cluster + "-tls-ca"; }
std::string TlsQuorumCaSecretName(const std::string& cluster) {
  return cluster + "-tls-quorum-ca";
}
std::string TlsServerSecretName(const std::string& cluster, int id) {
  return cluster + "-tls-server-" + std::to_string(id);
}
std::string TlsZkpilotSecretName(const std::string& cluster) { return cluster + "-tls-zkpilot"; }

bool IsTlsSecretName(const std::string& cluster, const std::string& name) {
  if (name == TlsCaSecretName(cluster) || name == TlsQuorumCaSecretName(cluster) ||
      name == TlsZkpilotSecretName(cluster))
    return true;
  const std::string prefix = cluster + "-tls-server-";
  if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size()) return false;
  return std::all_of(name.begin() + prefix.size(), name.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> ServerTlsDnsNames(const Values& values, const KubePlatformOptions& options,
                                           int id) {
  RenderOptions ro;
  ro.cluster_name = options.cluster;
  ro.namespace_name = options.namespace_name;
  ro.platform = "kubernetes";
  Values wide = values;
  wide.Set("replicas", std::max(id, IntOr(values, "replicas", 1)), "platform");
  const std::string domain = values.Has("clusterDomain") && values.Get("clusterDomain").is_string()
                                 ? values.Get("clusterDomain").get<std::string>()
                                 : "cluster.local";
  std::vector<std::string> names;
  for (const auto& n : KubernetesTopology(wide, ro)) {
    if (n.id != id) continue;
    // The node host (KubernetesTopology) and the forms a resolver's search
    // path completes: <pod>.<c>-headless[.<ns>[.svc]].
    const std::string base = n.pod_name + "." + options.cluster + "-headless";
    for (const std::string& name : {n.host, base + "." + options.namespace_name + ".svc",
                                    base + "." + options.namespace_name, base})
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  const std::string svc = options.cluster + "." + options.namespace_name;
  for (const std::string& n : {svc + ".svc." + domain, svc + ".svc", svc, options.cluster})
    names.push_back(n);
  return names;
}

Result<std::map<int, std::string>> EnsureTlsSecrets(KubeClient& client,
                                                    const KubePlatformOptions& options,
                                                    const Values& values,
                                                    const std::vector<int>& server_ids) {
  const auto deadline = std::chrono::steady_clock::now() + options.api_retry;
  ZK_ASSIGN_OR_RETURN(ResourceRef ref, Retrying<ResourceRef>(deadline, [&] {
                        return client.Resolve("v1", "Secret");
                      }));
  const std::string& c = options.cluster;
  const auto validity = Validity(values);
  ZK_ASSIGN_OR_RETURN(Data ca, EnsureCa(client, options, ref, TlsCaSecretName(c),
                                        "zkpilot " + c + " CA", validity));
  ZK_ASSIGN_OR_RETURN(Data quorum_ca, EnsureCa(client, options, ref, TlsQuorumCaSecretName(c),
                                               "zkpilot " + c + " quorum CA", validity));

  const std::string admin_name = TlsZkpilotSecretName(c);
  ZK_ASSIGN_OR_RETURN(
      Data admin,
      EnsureSecret(client, options, ref, admin_name, {"tls.crt", "tls.key", "ca.crt"},
                   [&]() -> Result<Data> {
                     CertificateRequest r;
                     r.common_name = kSuperUserCommonName;
                     r.client = true;
                     r.validity = validity;
                     ZK_ASSIGN_OR_RETURN(KeyPair pair, IssueCertificate(AsKeyPair(ca), r));
                     return Data{{"tls.crt", pair.cert_pem},
                                 {"tls.key", pair.key_pem},
                                 {"ca.crt", ca.at("ca.crt")}};
                   },
                   DueWithin(values, {"tls.crt"})));
  ZK_RETURN_IF_ERROR(CheckIssued(admin_name, "tls.crt", admin.at("tls.crt"), ca.at("ca.crt"),
                                 TlsCaSecretName(c)));

  std::map<int, std::string> hashes;
  for (int id : server_ids) {
    const std::string name = TlsServerSecretName(c, id);
    ZK_ASSIGN_OR_RETURN(
        Data server,
        EnsureSecret(
            client, options, ref, name,
            {"tls.key", "tls.crt", "ca.crt", "quorum.key", "quorum.crt", "quorum-ca.crt"},
            [&]() -> Result<Data> {
              CertificateRequest r;
              r.dns_names = ServerTlsDnsNames(values, options, id);
              r.validity = validity;
              r.common_name = c + "-server-" + std::to_string(id);
              r.server = true;
              ZK_ASSIGN_OR_RETURN(KeyPair client_port, IssueCertificate(AsKeyPair(ca), r));
              // Quorum connections are mutual: each end is server and client.
              r.common_name = c + "-quorum-" + std::to_string(id);
              r.client = true;
              ZK_ASSIGN_OR_RETURN(KeyPair quorum, IssueCertificate(AsKeyPair(quorum_ca), r));
              return Data{{"tls.key", client_port.key_pem}, {"tls.crt", client_port.cert_pem},
                          {"ca.crt", ca.at("ca.crt")},      {"quorum.key", quorum.key_pem},
                          {"quorum.crt", quorum.cert_pem},  {"quorum-ca.crt", quorum_ca.at("ca.crt")}};
            },
            DueWithin(values, {"tls.crt", "quorum.crt"})));
    ZK_RETURN_IF_ERROR(
        CheckIssued(name, "tls.crt", server.at("tls.crt"), ca.at("ca.crt"), TlsCaSecretName(c)));
    ZK_RETURN_IF_ERROR(CheckIssued(name, "quorum.crt", server.at("quorum.crt"),
                                   quorum_ca.at("ca.crt"), TlsQuorumCaSecretName(c)));
    // Only public parts: the digest sits in the pod template for anyone to read.
    hashes[id] = Sha256Hex(server.at("tls.crt") + server.at("ca.crt") + server.at("quorum.crt") +
                           server.at("quorum-ca.crt"))
                     .substr(0, 16);
  }
  return hashes;
}

Result<TlsClientFiles> ReadOperatorTlsCredentials(KubeClient& client, const std::string& ns,
                                                  const std::string& cluster) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  ZK_ASSIGN_OR_RETURN(ResourceRef ref, Retrying<ResourceRef>(deadline, [&] {
                        return client.Resolve("v1", "Secret");
                      }));
  const std::string name = TlsZkpilotSecretName(cluster);
  ZK_ASSIGN_OR_RETURN(auto secret, Retrying<std::optional<json>>(deadline, [&] {
                        return client.Get(ref, ns, name);
                      }));
  if (!secret)
    return Status::NotFound("Secret " + name + " (zkpilot's TLS credentials) does not exist in namespace " +
                            ns);
  ZK_ASSIGN_OR_RETURN(Data data, DecodeSecret(name, *secret, {"ca.crt", "tls.crt", "tls.key"}));
  TlsClientFiles out;
  out.ca_pem = data["ca.crt"];
  out.cert_pem = data["tls.crt"];
  out.key_pem = data["tls.key"];
  return out;
}

void AnnotateTlsHash(json& controller, const std::string& hash) {
  json& tmpl = controller["spec"]["template"];
  tmpl["metadata"]["annotations"][kAnnotationTlsHash] = hash;
  tmpl["metadata"]["annotations"][kAnnotationTemplateHash] = TemplateHash(tmpl);
}

}  // namespace zkpilot
