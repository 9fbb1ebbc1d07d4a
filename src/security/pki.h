// The PKI of a cluster: one certificate authority per cluster, and the server
// and client certificates it issues, as PEM text in memory (writing files and
// choosing names is the caller's business; see docs/security.md for what a
// ZooKeeper server needs in zoo.cfg to use them).
//
// Keys are ECDSA P-256. ZooKeeper's PEM key store reads them:
// org.apache.zookeeper.util.PemReader.loadPrivateKey (3.8.0 and 3.9.3) takes
// an unencrypted PKCS#8 key and tries the RSA, then the EC KeyFactory; Java 17
// negotiates ECDHE-ECDSA suites with it (proven against real servers in
// pki_integration_test.cc). Certificates are signed with SHA-256.
//
// Names: a subject is exactly CN=<common_name>. Common names are restricted
// to printable ASCII without the RFC 2253 specials (, = + " \ < > ; #), so the
// subject is the same string however it is printed, and in particular equal
// to what Java's X500Principal.getName() returns: the identity ZooKeeper's
// X509AuthenticationProvider.getClientId gives a client, the id an x509 ACL
// or X509AuthenticationProvider.superUser names.
//
// Errors: bad input (a common name, DNS name or IP address that cannot be
// used, malformed PEM, a CA that is not a CA or whose key does not match) is
// InvalidInput naming the field. Key material never appears in an error
// message or a log.
//
// Thread-safety: plain functions of their arguments (OpenSSL 3's thread-safe
// API); they may run concurrently.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "util/status.h"

namespace zkpilot {

// A certificate and its private key, PEM. key_pem is unencrypted PKCS#8
// ("BEGIN PRIVATE KEY"), which ZooKeeper's PEM key store
// (org.apache.zookeeper.util.PemReader) and Python's ssl both read.
struct KeyPair {
  std::string cert_pem;
  std::string key_pem;
};

struct CertificateRequest {
  std::string common_name;                // subject is exactly CN=<common_name>
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries ("127.0.0.1", "::1")
  bool server = false;                    // extendedKeyUsage serverAuth
  bool client = false;                    // extendedKeyUsage clientAuth
  std::chrono::hours validity{24 * 365};
};

struct CertificateInfo {
  // As Java's X500Principal.getName() (RFC 2253) prints it: "CN=zkpilot-super".
  // Exact for names made of the attribute types both spell alike (CN, O, OU,
  // C, ST, L, DC, UID), which covers every name this library makes.
  std::string subject;
  std::string issuer;
  std::chrono::system_clock::time_point not_before, not_after;
  std::vector<std::string> dns_names, ip_addresses;
  std::string sha256_fingerprint;  // "AB:CD:..." (of the DER encoding)
  bool is_ca = false;              // basicConstraints CA:TRUE
};

// A self-signed CA (basicConstraints CA:TRUE critical, keyUsage keyCertSign|
// cRLSign critical), subject CN=<common_name>, not_before 5 minutes in the past.
Result<KeyPair> CreateCertificateAuthority(const std::string& common_name,
                                           std::chrono::hours validity);

// A leaf certificate signed by `ca`, with a fresh key, a random 128-bit serial,
// not_before 5 minutes in the past (clocks of a cluster's machines differ a
// little) and not_after `request.validity` from now; basicConstraints CA:FALSE,
// keyUsage digitalSignature, the requested extendedKeyUsage (at least one of
// server and client) and subjectAltName.
// Errors (InvalidInput): a bad field of `request`; `ca` malformed, not a CA,
// its key not matching its certificate, or expired.
Result<KeyPair> IssueCertificate(const KeyPair& ca, const CertificateRequest& request);

// Reads the first certificate of `cert_pem`.
Result<CertificateInfo> ReadCertificate(const std::string& cert_pem);

// OK when cert_pem chains to ca_cert_pem and both are valid at `at`; else
// InvalidInput saying why ("expired on 2026-11-30T18:00:00Z", "not issued by
// this cluster's CA (issuer CN=other-ca)", "its signature does not verify with
// this cluster's CA").
Status VerifyIssuedBy(const std::string& cert_pem, const std::string& ca_cert_pem,
                      std::chrono::system_clock::time_point at = std::chrono::system_clock::now());

// The key, then the certificate: the one file a ZooKeeper PEM key store
// (ssl.keyStore.type=PEM, PEMFileLoader) reads both from.
std::string KeyStorePem(const KeyPair& pair);

}  // namespace zkpilot
