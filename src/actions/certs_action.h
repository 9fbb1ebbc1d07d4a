// zkpilot certs and zkpilot connect: what a client of a cluster needs.
//
//   certs NAME --client CLIENT -o DIR   a client certificate signed by the
//                                       cluster's CA: DIR/ca.crt,
//                                       DIR/CLIENT.crt, DIR/CLIENT.key (0600)
//   certs NAME                          the cluster's certificates (CA,
//                                       zkpilot's, each server's): subject,
//                                       expiry, days left, renewal due
//   connect NAME                        the connect string, whether it is TLS,
//                                       the CA file and how to get a client
//                                       certificate
//
// The checks and the output are here; the local front (platform/local/
// local_certs.cc) reads the cluster's record, values and PKI files
// (platform/local/local_pki.h). Certificates exist only for a cluster
// deployed with tls.enabled=true.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "security/pki.h"
#include "util/status.h"

namespace zkpilot {

// Client names are file names (DIR/CLIENT.crt) and certificate subjects
// (CN=CLIENT, which ZooKeeper's X509AuthenticationProvider makes the
// client's id): letters, digits, '.', '_' and '-', at most 64 (the longest
// CN X.509 allows, RFC 5280 ub-common-name), not "." or "..", and not
// zkpilot's own super-user name.
inline constexpr size_t kMaxClientNameLength = 64;
Status CheckClientName(const std::string& client);

// "cluster X does not use TLS: switch it with `zkpilot configure X --set tls.enabled=true` ..." unless `tls_enabled`.
Status RequireTls(const std::string& cluster, bool tls_enabled);

struct ClientCertificateRequest {
  std::string name;        // cluster
  std::string client;      // CN and file names
  std::string output_dir;  // DIR
  std::chrono::hours validity{24 * 90};
  bool force = false;  // replace an existing DIR/CLIENT.key
};

// One certificate of a cluster, as `zkpilot certs NAME` lists it.
struct CertificateStatus {
  std::string name;  // "ca", "zkpilot", "server-1"
  std::string file;
  std::optional<CertificateInfo> info;  // absent when missing or unreadable
  // Why it is (re)issued at the next deploy or change ("" when it is not).
  std::string renewal;
};

// A table (NAME SUBJECT NOT-AFTER DAYS-LEFT RENEW), or with `json`
// {"cluster", "certificates": [{"name", "file", "subject", "issuer",
// "notAfter" (RFC 3339 UTC), "daysLeft", "needsRenewal", "reason"}]}.
std::string FormatCertificates(const std::string& cluster, const std::vector<CertificateStatus>& certificates,
                               bool json, std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// What a client needs to connect.
struct ConnectInfo {
  std::string cluster;
  std::string connect_string;  // host:port,... of the client endpoints
  bool tls = false;                // every endpoint speaks TLS (all servers at TLS stage >= 1)
  bool plaintext_accepted = true;  // every endpoint takes plaintext clients too (all at stage <= 2)
  std::string ca_file;             // TLS: the CA certificate clients trust
  // SASL DIGEST-MD5 users clients may authenticate as (auth.enabled), each
  // with the file holding its password; empty without auth.enabled.
  struct SaslUser {
    std::string user;
    std::string password_file;
  };
  std::vector<SaslUser> sasl_users;
  bool auth_required = false;  // auth.enforce: a session must authenticate
};

// The command line that issues a client certificate ("zkpilot certs NAME --client CLIENT -o DIR").
std::string ClientCertificateCommandLine(const std::string& cluster);

// Text for people, or with `json` {"connectString", "tls", "plaintextAccepted",
// "caFile", "clientCertificateCommand", "credentials"} (caFile and
// clientCertificateCommand null without TLS; credentials null without
// auth.enabled, else {"mechanism": "DIGEST-MD5", "required",
// "users": [{"user", "passwordFile"}]}).
std::string FormatConnect(const ConnectInfo& info, bool json);

// RFC 3339 UTC, seconds: "2026-11-30T18:00:00Z".
std::string Rfc3339Utc(std::chrono::system_clock::time_point t);

// The local fronts ($ZKPILOT_HOME's clusters; platform/local/local_certs.cc).
// Returns what to print.
Result<std::string> LocalClientCertificate(const std::string& home, const ClientCertificateRequest& request);
Result<std::string> LocalCertificates(const std::string& home, const std::string& name, bool json);
Result<std::string> LocalConnect(const std::string& home, const std::string& name, bool json);

}  // namespace zkpilot
