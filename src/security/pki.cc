#include "security/pki.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <ctime>
#include <memory>
#include <string_view>

namespace zkpilot {
namespace {

using std::chrono::system_clock;

// Every certificate starts this far in the past: a server whose clock is a
// little behind the issuer's must not see it as "not yet valid".
constexpr auto kBackdate = std::chrono::minutes(5);
// ub-common-name (RFC 5280, appendix A).
constexpr size_t kMaxCommonName = 64;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using Owned = std::unique_ptr<T, Deleter<T, Free>>;

using Bio = Owned<BIO, BIO_free_all>;
using Pkey = Owned<EVP_PKEY, EVP_PKEY_free>;
using Cert = Owned<X509, X509_free>;
using Store = Owned<X509_STORE, X509_STORE_free>;
using StoreCtx = Owned<X509_STORE_CTX, X509_STORE_CTX_free>;
using Bignum = Owned<BIGNUM, BN_free>;
using Extension = Owned<X509_EXTENSION, X509_EXTENSION_free>;
void FreeGeneralNames(GENERAL_NAMES* names) { GENERAL_NAMES_free(names); }
using GeneralNames = Owned<GENERAL_NAMES, FreeGeneralNames>;
void FreeBasicConstraints(BASIC_CONSTRAINTS* bc) { BASIC_CONSTRAINTS_free(bc); }
using BasicConstraints = Owned<BASIC_CONSTRAINTS, FreeBasicConstraints>;

// OpenSSL's error queue (this thread's) as text, emptying it: the reasons
// only, never data. A PEM or ASN.1 parser's reason says what was wrong ("bad
// base64 decode"), not what the input was.
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    if (!out.empty()) out += "; ";
    out += reason ? reason : fmt::format("error {:#x}", e);
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Status OpenSslFailure(const std::string& what) {
  return Status::Internal(what + ": " + OpenSslErrors());
}

std::string FormatTime(system_clock::time_point t) {
  const std::time_t tt = system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<system_clock::time_point> ToTimePoint(const ASN1_TIME* t, const std::string& field) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return Status::InvalidInput(field + ": not a valid time");
  }
  return system_clock::from_time_t(timegm(&tm));
}

Result<Cert> ParseCertificate(const std::string& pem, const std::string& field) {
  if (pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return Status::InvalidInput(field + ": no PEM certificate (\"BEGIN CERTIFICATE\")");
  }
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Status::InvalidInput(field + ": malformed PEM certificate: " + OpenSslErrors());
  return cert;
}

Result<Pkey> ParsePrivateKey(const std::string& pem, const std::string& field) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  // A null password callback with an empty password: an encrypted key fails
  // instead of prompting on the terminal.
  char empty[] = "";
  Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, empty));
  if (!key) {
    // The parser's reasons never quote the key, but say nothing more than
    // "malformed" to be sure no key text travels in a message.
    ERR_clear_error();
    return Status::InvalidInput(field + ": malformed or encrypted PEM private key");
  }
  return key;
}

Result<std::string> ToPem(int (*write)(BIO*, const void*), const void* object,
                          const std::string& what) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get(), object) != 1) return OpenSslFailure("write " + what + " as PEM");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<std::string> CertToPem(const X509* cert) {
  return ToPem(
      [](BIO* bio, const void* c) { return PEM_write_bio_X509(bio, static_cast<const X509*>(c)); },
      cert, "certificate");
}

// Unencrypted PKCS#8, "BEGIN PRIVATE KEY" (PEM_write_bio_PrivateKey's format).
Result<std::string> KeyToPem(const EVP_PKEY* key) {
  return ToPem(
      [](BIO* bio, const void* k) {
        return PEM_write_bio_PrivateKey(bio, static_cast<const EVP_PKEY*>(k), nullptr, nullptr, 0,
                                        nullptr, nullptr);
      },
      key, "private key");
}

Result<Pkey> GenerateKey() {
  Pkey key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslFailure("generate an ECDSA P-256 key");
  return key;
}

Status CheckCommonName(const std::string& cn, const std::string& field) {
  if (cn.empty()) return Status::InvalidInput(field + ": empty");
  if (cn.size() > kMaxCommonName) {
    return Status::InvalidInput(
        fmt::format("{}: {} characters, at most {} allowed", field, cn.size(), kMaxCommonName));
  }
  for (unsigned char c : cn) {
    if (c < 0x20 || c >= 0x7f) {
      return Status::InvalidInput(field + ": contains a control or non-ASCII character");
    }
    // RFC 2253 specials would be escaped when printed, so the subject would
    // no longer be the plain "CN=<name>" that ACLs and superUser name.
    if (std::string_view(",=+\"\\<>;#").find(static_cast<char>(c)) != std::string_view::npos) {
      return Status::InvalidInput(fmt::format("{}: \"{}\" contains '{}'", field, cn, char(c)));
    }
  }
  if (cn.front() == ' ' || cn.back() == ' ') {
    return Status::InvalidInput(fmt::format("{}: \"{}\" starts or ends with a space", field, cn));
  }
  return Status::Ok();
}

Status CheckDnsName(const std::string& name, const std::string& field) {
  if (name.empty() || name.size() > 253) {
    return Status::InvalidInput(fmt::format("{}: \"{}\" is not a DNS name", field, name));
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ||
                    (c == '*' && i == 0 && name.size() > 2 && name[1] == '.');
    if (!ok || (c == '.' && (i == 0 || name[i - 1] == '.'))) {
      return Status::InvalidInput(fmt::format("{}: \"{}\" is not a DNS name", field, name));
    }
  }
  return Status::Ok();
}

Status CheckIpAddress(const std::string& ip, const std::string& field) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, ip.c_str(), buf) != 1 && inet_pton(AF_INET6, ip.c_str(), buf) != 1) {
    return Status::InvalidInput(fmt::format("{}: \"{}\" is not an IP address", field, ip));
  }
  return Status::Ok();
}

Status CheckValidity(std::chrono::hours validity, const std::string& field) {
  if (validity.count() <= 0) {
    return Status::InvalidInput(fmt::format("{}: {}h, must be positive", field, validity.count()));
  }
  // Past 9999 the GeneralizedTime format ends; be far more modest.
  if (validity > std::chrono::hours(24 * 365 * 100)) {
    return Status::InvalidInput(fmt::format("{}: {}h, at most 100 years", field, validity.count()));
  }
  return Status::Ok();
}

// Version 3, a random positive 128-bit serial, subject CN=<cn>, validity.
Result<Cert> NewCertificate(const std::string& cn, std::chrono::hours validity, EVP_PKEY* key) {
  Cert cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return OpenSslFailure("new certificate");
  }
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof(serial)) != 1) return OpenSslFailure("random serial");
  serial[0] &= 0x7f;  // positive in DER (RFC 5280 4.1.2.2) ...
  serial[0] |= 0x40;  // ... and never zero, always 16 bytes
  Bignum bn(BN_bin2bn(serial, sizeof(serial), nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()))) {
    return OpenSslFailure("set serial");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1) {
    return OpenSslFailure("set subject");
  }
  std::time_t now = system_clock::to_time_t(system_clock::now());
  const long backdate = std::chrono::duration_cast<std::chrono::seconds>(kBackdate).count();
  const long lifetime = std::chrono::duration_cast<std::chrono::seconds>(validity).count();
  if (!X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, -backdate, &now) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), 0, lifetime, &now) ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return OpenSslFailure("set validity and key");
  }
  return cert;
}

// Adds an extension written in OpenSSL's configuration syntax
// ("critical,CA:TRUE"); `issuer` is the signing certificate (itself for a CA).
Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Extension ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslFailure(fmt::format("extension {} = {}", OBJ_nid2sn(nid), value));
  }
  return Status::Ok();
}

Status Sign(X509* cert, EVP_PKEY* key) {
  if (X509_sign(cert, key, EVP_sha256()) <= 0) return OpenSslFailure("sign certificate");
  return Status::Ok();
}

Result<KeyPair> ToKeyPair(const X509* cert, const EVP_PKEY* key) {
  ZK_ASSIGN_OR_RETURN(std::string cert_pem, CertToPem(cert));
  ZK_ASSIGN_OR_RETURN(std::string key_pem, KeyToPem(key));
  return KeyPair{std::move(cert_pem), std::move(key_pem)};
}

bool IsCa(X509* cert) {
  BasicConstraints bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert, NID_basic_constraints, nullptr, nullptr)));
  return bc && bc->ca;
}

// RFC 2253 with UTF-8 left as is (Java does not escape it either).
std::string NameToString(const X509_NAME* name) {
  Bio bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string IpToString(const ASN1_OCTET_STRING* ip) {
  char buf[INET6_ADDRSTRLEN] = "";
  const int len = ASN1_STRING_length(ip);
  const unsigned char* data = ASN1_STRING_get0_data(ip);
  if (len == 4) inet_ntop(AF_INET, data, buf, sizeof(buf));
  if (len == 16) inet_ntop(AF_INET6, data, buf, sizeof(buf));
  return buf;
}

std::string Fingerprint(const X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha256(), md, &len);
  std::string out;
  for (unsigned int i = 0; i < len; ++i) out += fmt::format("{}{:02X}", i ? ":" : "", md[i]);
  return out;
}

}  // namespace

Result<KeyPair> CreateCertificateAuthority(const std::string& common_name,
                                           std::chrono::hours validity) {
  ZK_RETURN_IF_ERROR(CheckCommonName(common_name, "CA common name"));
  ZK_RETURN_IF_ERROR(CheckValidity(validity, "CA validity"));
  ZK_ASSIGN_OR_RETURN(Pkey key, GenerateKey());
  ZK_ASSIGN_OR_RETURN(Cert cert, NewCertificate(common_name, validity, key.get()));
  X509* c = cert.get();
  if (X509_set_issuer_name(c, X509_get_subject_name(c)) != 1) return OpenSslFailure("set issuer");
  // pathlen:0: this CA signs leaves only, never another CA.
  ZK_RETURN_IF_ERROR(AddExtension(c, c, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  ZK_RETURN_IF_ERROR(AddExtension(c, c, NID_key_usage, "critical,keyCertSign,cRLSign"));
  ZK_RETURN_IF_ERROR(AddExtension(c, c, NID_subject_key_identifier, "hash"));
  ZK_RETURN_IF_ERROR(Sign(c, key.get()));
  return ToKeyPair(c, key.get());
}

Result<KeyPair> IssueCertificate(const KeyPair& ca, const CertificateRequest& request) {
  ZK_RETURN_IF_ERROR(CheckCommonName(request.common_name, "common name"));
  ZK_RETURN_IF_ERROR(CheckValidity(request.validity, "validity"));
  std::string san;
  for (size_t i = 0; i < request.dns_names.size(); ++i) {
    ZK_RETURN_IF_ERROR(CheckDnsName(request.dns_names[i], fmt::format("dns_names[{}]", i)));
    san += (san.empty() ? "DNS:" : ",DNS:") + request.dns_names[i];
  }
  for (size_t i = 0; i < request.ip_addresses.size(); ++i) {
    ZK_RETURN_IF_ERROR(CheckIpAddress(request.ip_addresses[i], fmt::format("ip_addresses[{}]", i)));
    san += (san.empty() ? "IP:" : ",IP:") + request.ip_addresses[i];
  }
  if (!request.server && !request.client) {
    return Status::InvalidInput("certificate request: neither server nor client usage asked for");
  }

  ZK_ASSIGN_OR_RETURN(Cert ca_cert, ParseCertificate(ca.cert_pem, "CA certificate"));
  ZK_ASSIGN_OR_RETURN(Pkey ca_key, ParsePrivateKey(ca.key_pem, "CA key"));
  if (!IsCa(ca_cert.get())) {
    return Status::InvalidInput("CA certificate: not a CA (no basicConstraints CA:TRUE)");
  }
  if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1) {
    ERR_clear_error();
    return Status::InvalidInput("CA key: does not belong to the CA certificate");
  }
  ZK_ASSIGN_OR_RETURN(auto ca_not_after,
                      ToTimePoint(X509_get0_notAfter(ca_cert.get()), "CA certificate notAfter"));
  if (ca_not_after <= system_clock::now()) {
    return Status::InvalidInput("CA certificate: expired on " + FormatTime(ca_not_after));
  }

  ZK_ASSIGN_OR_RETURN(Pkey key, GenerateKey());
  ZK_ASSIGN_OR_RETURN(Cert cert, NewCertificate(request.common_name, request.validity, key.get()));
  X509* c = cert.get();
  if (X509_set_issuer_name(c, X509_get_subject_name(ca_cert.get())) != 1) {
    return OpenSslFailure("set issuer");
  }
  ZK_RETURN_IF_ERROR(AddExtension(c, ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  // ECDHE-ECDSA needs digitalSignature only (RFC 8446 4.4.2.4; RFC 5480).
  ZK_RETURN_IF_ERROR(AddExtension(c, ca_cert.get(), NID_key_usage, "critical,digitalSignature"));
  std::string eku;
  if (request.server) eku = "serverAuth";
  if (request.client) eku += eku.empty() ? "clientAuth" : ",clientAuth";
  ZK_RETURN_IF_ERROR(AddExtension(c, ca_cert.get(), NID_ext_key_usage, eku));
  if (!san.empty()) ZK_RETURN_IF_ERROR(AddExtension(c, ca_cert.get(), NID_subject_alt_name, san));
  ZK_RETURN_IF_ERROR(AddExtension(c, ca_cert.get(), NID_subject_key_identifier, "hash"));
  ZK_RETURN_IF_ERROR(AddExtension(c, ca_cert.get(), NID_authority_key_identifier, "keyid:always"));
  ZK_RETURN_IF_ERROR(Sign(c, ca_key.get()));
  return ToKeyPair(c, key.get());
}

Result<CertificateInfo> ReadCertificate(const std::string& cert_pem) {
  ZK_ASSIGN_OR_RETURN(Cert cert, ParseCertificate(cert_pem, "certificate"));
  CertificateInfo info;
  info.subject = NameToString(X509_get_subject_name(cert.get()));
  info.issuer = NameToString(X509_get_issuer_name(cert.get()));
  ZK_ASSIGN_OR_RETURN(info.not_before,
                      ToTimePoint(X509_get0_notBefore(cert.get()), "certificate notBefore"));
  ZK_ASSIGN_OR_RETURN(info.not_after,
                      ToTimePoint(X509_get0_notAfter(cert.get()), "certificate notAfter"));
  GeneralNames names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                  static_cast<size_t>(ASN1_STRING_length(dns)));
    } else if (name->type == GEN_IPADD) {
      info.ip_addresses.push_back(IpToString(name->d.iPAddress));
    }
  }
  info.sha256_fingerprint = Fingerprint(cert.get());
  info.is_ca = IsCa(cert.get());
  ERR_clear_error();
  return info;
}

Status VerifyIssuedBy(const std::string& cert_pem, const std::string& ca_cert_pem,
                      system_clock::time_point at) {
  ZK_ASSIGN_OR_RETURN(Cert cert, ParseCertificate(cert_pem, "certificate"));
  ZK_ASSIGN_OR_RETURN(Cert ca, ParseCertificate(ca_cert_pem, "CA certificate"));
  if (!IsCa(ca.get())) {
    return Status::InvalidInput("CA certificate: not a CA (no basicConstraints CA:TRUE)");
  }
  Store store(X509_STORE_new());
  StoreCtx ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1) {
    return OpenSslFailure("verify certificate");
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, system_clock::to_time_t(at));
  // A chain of exactly this CA and the certificate: what a ZooKeeper server
  // trusting only the cluster's CA file (ssl.trustStore) accepts.
  const int verified = X509_verify_cert(ctx.get());
  ERR_clear_error();
  if (verified == 1) return Status::Ok();

  const int error = X509_STORE_CTX_get_error(ctx.get());
  const bool at_ca = X509_STORE_CTX_get_error_depth(ctx.get()) > 0;
  X509* failed = at_ca ? ca.get() : cert.get();
  const std::string who = at_ca ? "the CA certificate " : "";
  switch (error) {
    case X509_V_ERR_CERT_HAS_EXPIRED: {
      ZK_ASSIGN_OR_RETURN(auto t, ToTimePoint(X509_get0_notAfter(failed), "notAfter"));
      return Status::InvalidInput(who + "expired on " + FormatTime(t));
    }
    case X509_V_ERR_CERT_NOT_YET_VALID: {
      ZK_ASSIGN_OR_RETURN(auto t, ToTimePoint(X509_get0_notBefore(failed), "notBefore"));
      return Status::InvalidInput(who + "not valid before " + FormatTime(t));
    }
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return Status::InvalidInput(fmt::format("not issued by this cluster's CA (issuer {}, CA {})",
                                              NameToString(X509_get_issuer_name(cert.get())),
                                              NameToString(X509_get_subject_name(ca.get()))));
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      return Status::InvalidInput(
          "not issued by this cluster's CA: its signature does not verify with the CA's key "
          "(altered, or from another CA of the same name)");
    default:
      return Status::InvalidInput(fmt::format("does not verify with this cluster's CA: {}",
                                              X509_verify_cert_error_string(error)));
  }
}

std::string KeyStorePem(const KeyPair& pair) {
  std::string out = pair.key_pem;
  if (!out.empty() && out.back() != '\n') out += '\n';
  return out + pair.cert_pem;
}

}  // namespace zkpilot
