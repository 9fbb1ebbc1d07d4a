// The local platform's PKI files: one certificate authority per cluster, a
// certificate per server and zkpilot's own client certificate, as PEM files
// under <cluster_home>/pki (directory 0700, every file 0600, each written
// atomically: a reader sees the old file or the new one, never a part).
//
//   ca.crt, ca.key            the cluster's CA (security/pki.h); the key is
//                             read to sign and never copied anywhere else
//   zkpilot.crt, zkpilot.key  CN=zkpilot-super: zkpilot's sessions and probes
//                             on a TLS cluster, mapped to ZooKeeper's super
//                             user by X509AuthenticationProvider.superUser
//   server-<id>.pem           server <id>'s key, then its certificate, in one
//                             file: ZooKeeper's PEM key store
//                             (ssl.keyStore.type=PEM, X509Util /
//                             PEMFileLoader) reads both from one location
//
// Renewal. EnsureLocalPki decides from the files alone (ReadCertificate,
// VerifyIssuedBy): a certificate that is missing, unreadable, not issued by
// the CA, lacks its key (or its key is another one's), or expires within
// `renew_before` is issued afresh; the others are left alone, so calling it
// again changes nothing. Servers read their files only when they start:
// the ids it returns need a restart to present the new certificate.
// The CA itself is never replaced behind the users' back: every client
// trusts its ca.crt, so a CA that has expired or expires within
// `renew_before` is an error saying what to do (clients must be given the
// new ca.crt), not a silent new CA. A missing ca.crt is created (with a new
// key); ca.crt without ca.key is an error.
// Thread-safety: none; callers hold the cluster's operation lock (or only
// read, as `zkpilot certs` does).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "security/pki.h"
#include "util/status.h"
#include "zk/tls_transport.h"

namespace zkpilot {

struct LocalPki {
  std::string dir;                    // <cluster_home>/pki  (mode 0700)
  std::string ca_cert, ca_key;        // dir/ca.crt, dir/ca.key (0600)
  std::string admin_cert, admin_key;  // dir/zkpilot.crt, dir/zkpilot.key: CN=zkpilot-super (0600)
  std::string ServerPem(int id) const;  // dir/server-<id>.pem: key then cert, one file (0600)
  TlsClientFiles AdminFiles() const;    // {ca_cert, admin_cert, admin_key}
};

inline constexpr const char* kSuperUserDn = "CN=zkpilot-super";
inline constexpr const char* kSuperUserCommonName = "zkpilot-super";

// The CA outlives the certificates it signs by this factor of their
// validity, so that many renewals happen before the CA itself would have to.
inline constexpr int kCaValidityFactor = 10;

LocalPki LocalPkiAt(const std::string& cluster_home);

// Creates what is missing: the CA, zkpilot's certificate, and each listed
// server's certificate (SAN IP 127.0.0.1 and DNS localhost); re-issues any
// that is not issued by the CA or expires within renew_before. Returns the
// ids of the servers whose certificate was (re)issued (they need a restart
// to use it). InvalidInput naming the file for a CA that cannot be used.
Result<std::vector<int>> EnsureLocalPki(const LocalPki& pki, const std::string& cluster,
                                        const std::vector<int>& server_ids, std::chrono::hours validity,
                                        std::chrono::hours renew_before);

// Why the certificate `cert_pem` (its key `key_pem`, when given, must be the
// certificate's) must be issued afresh: "missing", "not issued by this
// cluster's CA (...)", "expires 2026-12-01T10:00:00Z, within the 30 days
// before renewal", ...; "" when it may stay. `need_ip` (when not empty) must
// be one of its SAN IPs.
std::string RenewalReason(const std::string& cert_pem, const std::string& key_pem, const std::string& ca_cert_pem,
                          std::chrono::hours renew_before, const std::string& need_ip = "",
                          std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// The PEM blocks of one kind in `pem` ("CERTIFICATE", "PRIVATE KEY"), in
// order, each with its BEGIN and END lines.
std::vector<std::string> PemBlocks(const std::string& pem, const std::string& kind);

// One certificate file as EnsureLocalPki judges it (the same decision).
struct LocalCertificate {
  std::string name;      // "ca", "zkpilot", "server-<id>"
  std::string file;
  std::string cert_pem;  // "" when missing
  std::string renewal;   // RenewalReason; for the CA, why deploys and changes stop
};
// The CA, zkpilot's certificate and each listed server's, in that order.
// Reads only.
std::vector<LocalCertificate> InspectLocalPki(const LocalPki& pki, const std::vector<int>& server_ids,
                                              std::chrono::hours renew_before);

// A client certificate for `client` (CN=<client>, clientAuth) signed by the
// cluster's CA. REQUIRES: `client` is a plain name (the caller checks).
// InvalidInput when the cluster has no usable CA.
Result<KeyPair> IssueLocalClientCertificate(const LocalPki& pki, const std::string& client,
                                            std::chrono::hours validity);

}  // namespace zkpilot
