#include "platform/local/local_pki.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "actions/certs_action.h"
#include "platform/local/local_files.h"
#include "util/files.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

// What a server is reached by locally: ZooKeeper's hostname verification
// (ZKTrustManager, ssl.hostnameVerification) checks the peer's address
// against these, for clients and for quorum peers alike.
constexpr char kLocalIp[] = "127.0.0.1";
constexpr char kLocalDns[] = "localhost";

// True when `key_pem`'s private key is the one of `cert_pem`'s public key.
bool KeyMatches(const std::string& cert_pem, const std::string& key_pem) {
  using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
  Bio cert_bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())), BIO_free);
  Bio key_bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())), BIO_free);
  if (!cert_bio || !key_bio) return false;
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr),
                                                   X509_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  return cert && key && X509_check_private_key(cert.get(), key.get()) == 1;
}

// The file's content, or "" when it does not exist (or cannot be read: it is
// then written afresh, and that write reports what is wrong).
std::string ReadIfPresent(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return "";
  auto text = ReadFile(path);
  return text.ok() ? *text : "";
}

// Why the CA in ca.crt/ca.key cannot sign for another `renew_before` (""
// when it can): what to do is in the message, since the CA is never
// replaced automatically.
std::string CaProblem(const LocalPki& pki, const std::string& cert, const std::string& key,
                      std::chrono::hours renew_before) {
  constexpr char kStartOver[] =
      "replacing the CA of a running cluster is not supported yet: servers restarted one at a time would not "
      "trust each other, and every client would need the new ca.crt";
  if (cert.empty()) return "missing";
  if (key.empty()) return pki.ca_key + " is missing: the CA cannot sign without its key (restore it, or " +
                          std::string(kStartOver) + ")";
  auto info = ReadCertificate(cert);
  if (!info.ok()) return "unreadable: " + info.status().message();
  if (!KeyMatches(cert, key)) return pki.ca_key + " is not the key of ca.crt";
  if (info->not_after <= Clock::now() + renew_before)
    return fmt::format("the cluster's CA {} on {}; it is not replaced automatically, since every client trusts it: {}",
                       info->not_after <= Clock::now() ? "expired" : "expires", Rfc3339Utc(info->not_after),
                       kStartOver);
  return "";
}

// The CA, to sign with; InvalidInput naming ca.crt when it cannot.
Result<KeyPair> ReadCa(const LocalPki& pki, std::chrono::hours renew_before) {
  KeyPair ca{ReadIfPresent(pki.ca_cert), ReadIfPresent(pki.ca_key)};
  const std::string problem = CaProblem(pki, ca.cert_pem, ca.key_pem, renew_before);
  if (!problem.empty()) return Status::InvalidInput(pki.ca_cert + ": " + problem);
  return ca;
}

std::string AdminRenewal(const LocalPki& pki, const std::string& ca_pem, std::chrono::hours renew_before) {
  return RenewalReason(ReadIfPresent(pki.admin_cert), ReadIfPresent(pki.admin_key), ca_pem, renew_before);
}

// server-<id>.pem: exactly one key and one certificate, for 127.0.0.1.
std::string ServerRenewal(const LocalPki& pki, int id, const std::string& ca_pem, std::chrono::hours renew_before) {
  const std::string pem = ReadIfPresent(pki.ServerPem(id));
  if (pem.empty()) return "missing";
  const auto certs = PemBlocks(pem, "CERTIFICATE");
  const auto keys = PemBlocks(pem, "PRIVATE KEY");
  if (certs.size() != 1 || keys.size() != 1) return "not one key and one certificate";
  return RenewalReason(certs[0], keys[0], ca_pem, renew_before, kLocalIp);
}

// Writes a leaf: key before certificate, so that an interrupted write leaves
// a pair that does not match, which the next call issues afresh.
Status WriteLeaf(const std::string& cert_path, const std::string& key_path, const KeyPair& pair) {
  ZK_RETURN_IF_ERROR(WriteFileAtomically(key_path, pair.key_pem, 0600));
  return WriteFileAtomically(cert_path, pair.cert_pem, 0600);
}

}  // namespace

std::string LocalPki::ServerPem(int id) const { return dir + "/server-" + std::to_string(id) + ".pem"; }

TlsClientFiles LocalPki::AdminFiles() const {
  TlsClientFiles files;
  files.ca_file = ca_cert;
  files.cert_file = admin_cert;
  files.key_file = admin_key;
  return files;
}

LocalPki LocalPkiAt(const std::string& cluster_home) {
  LocalPki pki;
  pki.dir = cluster_home + "/pki";
  pki.ca_cert = pki.dir + "/ca.crt";
  pki.ca_key = pki.dir + "/ca.key";
  pki.admin_cert = pki.dir + "/zkpilot.crt";
  pki.admin_key = pki.dir + "/zkpilot.key";
  return pki;
}

std::vector<std::string> PemBlocks(const std::string& pem, const std::string& kind) {
  const std::string begin = "-----BEGIN " + kind + "-----", end = "-----END " + kind + "-----";
  std::vector<std::string> blocks;
  for (size_t pos = pem.find(begin); pos != std::string::npos; pos = pem.find(begin, pos)) {
    const size_t stop = pem.find(end, pos);
    if (stop == std::string::npos) break;
    blocks.push_back(pem.substr(pos, stop + end.size() - pos) + "\n");
    pos = stop + end.size();
  }
  return blocks;
}

std::string RenewalReason(const std::string& cert_pem, const std::string& key_pem, const std::string& ca_cert_pem,
                          std::chrono::hours renew_before, const std::string& need_ip, Clock::time_point now) {
  if (cert_pem.empty()) return "missing";
  auto info = ReadCertificate(cert_pem);
  if (!info.ok()) return "unreadable: " + info.status().message();
  Status issued = VerifyIssuedBy(cert_pem, ca_cert_pem, now);
  if (!issued.ok()) return issued.message();
  if (info->not_after <= now + renew_before)
    return fmt::format("expires {}, within the {} days before renewal", Rfc3339Utc(info->not_after),
                       renew_before.count() / 24);
  if (!need_ip.empty() &&
      std::find(info->ip_addresses.begin(), info->ip_addresses.end(), need_ip) == info->ip_addresses.end())
    return "not issued for " + need_ip;
  if (!key_pem.empty() && !KeyMatches(cert_pem, key_pem)) return "its key is not the certificate's";
  return "";
}

Result<std::vector<int>> EnsureLocalPki(const LocalPki& pki, const std::string& cluster,
                                        const std::vector<int>& server_ids, std::chrono::hours validity,
                                        std::chrono::hours renew_before) {
  ZK_RETURN_IF_ERROR(MakeWritableDir(pki.dir, "PKI directory"));
  // Also a directory an older version (or a person) made wider.
  std::error_code ec;
  fs::permissions(pki.dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return Status::IOError(pki.dir + ": " + ec.message());

  KeyPair ca;
  bool new_ca = false;
  if (!fs::exists(pki.ca_cert, ec)) {
    // A CA made now while certificates of the old one remain would split the
    // cluster: the server restarted next trusts only the new CA, its peers
    // (which read their trust store at start) only the old one, so quorum TLS
    // fails both ways and zkpilot's new certificate is refused by the others.
    std::string issued;
    for (const auto& entry : fs::directory_iterator(pki.dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (entry.path().string() == pki.admin_cert || (name.rfind("server-", 0) == 0 && entry.path().extension() == ".pem"))
        issued += (issued.empty() ? "" : ", ") + name;
    }
    if (!issued.empty())
      return Status::Conflict(
          pki.ca_cert + " is missing, but certificates it issued remain (" + issued +
          "): restore ca.crt and ca.key from a backup. zkpilot does not make a new CA here, because servers "
          "restarted one by one would no longer trust each other");
    auto created = CreateCertificateAuthority("zkpilot " + cluster + " CA", validity * kCaValidityFactor);
    if (!created.ok()) return created.status().WithContext(pki.ca_cert);
    ca = std::move(*created);
    // Key first: a ca.key without ca.crt is created again; ca.crt without
    // its key is refused (ReadCa).
    ZK_RETURN_IF_ERROR(WriteFileAtomically(pki.ca_key, ca.key_pem, 0600));
    ZK_RETURN_IF_ERROR(WriteFileAtomically(pki.ca_cert, ca.cert_pem, 0600));
    new_ca = true;
  } else {
    ZK_ASSIGN_OR_RETURN(ca, ReadCa(pki, renew_before));
  }

  auto issue = [&](const CertificateRequest& request, const std::string& file) -> Result<KeyPair> {
    auto pair = IssueCertificate(ca, request);
    if (!pair.ok()) return pair.status().WithContext(file);
    return pair;
  };

  CertificateRequest admin;
  admin.common_name = kSuperUserCommonName;
  admin.client = true;
  admin.validity = validity;
  if (new_ca || !AdminRenewal(pki, ca.cert_pem, renew_before).empty()) {
    ZK_ASSIGN_OR_RETURN(KeyPair pair, issue(admin, pki.admin_cert));
    ZK_RETURN_IF_ERROR(WriteLeaf(pki.admin_cert, pki.admin_key, pair));
  }

  std::vector<int> reissued;
  for (int id : server_ids) {
    const std::string path = pki.ServerPem(id);
    if (!new_ca && ServerRenewal(pki, id, ca.cert_pem, renew_before).empty()) continue;
    CertificateRequest request;
    request.common_name = cluster + "-server-" + std::to_string(id);
    request.dns_names = {kLocalDns};
    request.ip_addresses = {kLocalIp};
    // Both: a server is a client of its peers' quorum ports (sslQuorum),
    // with the same key store (X509Util's quorum context).
    request.server = true;
    request.client = true;
    request.validity = validity;
    ZK_ASSIGN_OR_RETURN(KeyPair pair, issue(request, path));
    ZK_RETURN_IF_ERROR(WriteFileAtomically(path, KeyStorePem(pair), 0600));
    reissued.push_back(id);
  }
  return reissued;
}

std::vector<LocalCertificate> InspectLocalPki(const LocalPki& pki, const std::vector<int>& server_ids,
                                              std::chrono::hours renew_before) {
  const std::string ca_pem = ReadIfPresent(pki.ca_cert);
  std::vector<LocalCertificate> list;
  list.push_back({"ca", pki.ca_cert, ca_pem, CaProblem(pki, ca_pem, ReadIfPresent(pki.ca_key), renew_before)});
  list.push_back({"zkpilot", pki.admin_cert, ReadIfPresent(pki.admin_cert), AdminRenewal(pki, ca_pem, renew_before)});
  for (int id : server_ids) {
    const auto certs = PemBlocks(ReadIfPresent(pki.ServerPem(id)), "CERTIFICATE");
    list.push_back({"server-" + std::to_string(id), pki.ServerPem(id), certs.empty() ? "" : certs[0],
                    ServerRenewal(pki, id, ca_pem, renew_before)});
  }
  return list;
}

Result<KeyPair> IssueLocalClientCertificate(const LocalPki& pki, const std::string& client,
                                            std::chrono::hours validity) {
  std::error_code ec;
  if (!fs::exists(pki.ca_cert, ec))
    return Status::InvalidInput(pki.ca_cert + ": the cluster has no CA yet (a deploy or change with "
                                "tls.enabled=true creates it)");
  // A client certificate may be issued until the CA itself expires.
  ZK_ASSIGN_OR_RETURN(KeyPair ca, ReadCa(pki, std::chrono::hours(0)));
  CertificateRequest request;
  request.common_name = client;
  request.client = true;
  request.validity = validity;
  auto pair = IssueCertificate(ca, request);
  if (!pair.ok()) return pair.status().WithContext("client certificate " + client);
  return pair;
}

}  // namespace zkpilot
