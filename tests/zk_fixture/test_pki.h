// Certificates for TLS tests, made with the `openssl` command line: a CA, a
// server certificate (SAN IP:127.0.0.1 and DNS:localhost; serverAuth and
// clientAuth, so servers may use it for the quorum too), one for DNS:localhost
// only, two that name only a Kubernetes pod's DNS name, client certificates CN=zkpilot-super and CN=app1, and a second,
// unrelated CA (to prove that a server it does not vouch for is refused).
// Keys are P-256, PKCS#8 PEM ("BEGIN PRIVATE KEY"), which ZooKeeper's
// PemReader reads (PEMFileLoader, 3.8.0).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "util/status.h"
#include "zk/tls_transport.h"

namespace zkpilot {

struct TestPki {
  std::filesystem::path dir;
  std::string ca_cert;        // dir/ca.crt
  std::string server_cert;    // dir/server.crt
  std::string server_key;     // dir/server.key
  std::string server_pem;     // dir/server.pem: key then certificate (ssl.keyStore.type=PEM)
  std::string dns_only_cert;  // dir/dns-only.crt: SAN DNS:localhost only
  std::string dns_only_key;
  std::string other_ca_cert;  // dir/other-ca.crt: a CA that issued nothing here
  TlsClientFiles super_user;  // CN=zkpilot-super
  TlsClientFiles app1;        // CN=app1
  // Servers' certificates as on Kubernetes: each names only its pod's DNS
  // name (SAN DNS:<name>, no IP), yet tests reach it on 127.0.0.1.
  struct PodCertificate {
    std::string name;  // "zk-<i>.demo-headless.ns.svc.cluster.local"
    std::string cert, key, pem;  // pem: key then certificate
  };
  std::vector<PodCertificate> pods;  // two of them
  // super_user's certificate and key with other_ca_cert as the CA.
  TlsClientFiles WithWrongCa() const {
    TlsClientFiles files = super_user;
    files.ca_file = other_ca_cert;
    return files;
  }
  // super_user with the PEM text in memory and no file names.
  TlsClientFiles SuperUserInMemory() const;
};

// Writes everything into `dir` (which must exist). Errors carry openssl's output.
Result<TestPki> MakeTestPki(const std::filesystem::path& dir);

}  // namespace zkpilot
