// TLS on Kubernetes, certificates made by zkpilot (tls.certificates=zkpilot):
// the cluster's two CAs and its certificates, kept in Secrets of the
// cluster's namespace.
//
//   <c>-tls-ca            ca.crt, ca.key     signs the servers' client-port
//                                            certificates and every client's
//                                            (zkpilot's, `zkpilot certs --client`)
//   <c>-tls-quorum-ca     ca.crt, ca.key     signs the quorum certificates only
//   <c>-tls-server-<id>   tls.key, tls.crt, ca.crt, quorum.key, quorum.crt,
//                         quorum-ca.crt      mounted read-only at /tls in
//                                            server <id>'s pod
//   <c>-tls-zkpilot       tls.key, tls.crt, ca.crt   CN=zkpilot-super, the
//                                            super user (X509AuthenticationProvider)
//
// Why two CAs: a quorum peer's name cannot be checked (ZooKeeper's
// ZKTrustManager.performHostVerification checks the connecting peer's IP,
// then its reverse DNS, and a pod IP's reverse DNS is not something to rely
// on), so zoo.cfg turns ssl.quorum.hostnameVerification off and the quorum
// trusts only <c>-tls-quorum-ca: a client certificate, even one of the
// cluster's client CA, is refused on the quorum port.
//
// Like the super user's password (EnsureSuperPassword), each Secret is made
// once and read back afterwards; two writers racing end with the winner's.
// They carry the cluster label and the owner reference (deleted with the
// ZooKeeperCluster), and ApplyAddons never prunes them (IsTlsSecretName).
// A Secret that exists but cannot be used (a key missing, a certificate not
// issued by the cluster's CA) is an error naming it; nothing is replaced.
//
// DNS SANs of a server's certificates: its node host
// <pod>.<c>-headless.<ns>.svc.<domain> (what zoo.cfg and zkpilot use) and its
// shorter forms, and the client Service <c>.<ns>.svc.<domain>, <c>.<ns>.svc,
// <c>.<ns> and <c>.
//
// Thread-safety: none beyond the KubeClient's (one thread at a time).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "platform/kubernetes/kube_client.h"
#include "platform/kubernetes/kube_platform.h"
#include "util/status.h"
#include "values/values.h"
#include "zk/tls_transport.h"

namespace zkpilot {

// Pod template annotation: a digest of the certificates in server <id>'s
// Secret, so that new certificates change the template and roll the server.
inline constexpr char kAnnotationTlsHash[] = "zkpilot.io/tls-hash";

std::string TlsCaSecretName(const std::string& cluster);              // <c>-tls-ca
std::string TlsQuorumCaSecretName(const std::string& cluster);        // <c>-tls-quorum-ca
std::string TlsServerSecretName(const std::string& cluster, int id);  // <c>-tls-server-<id>
std::string TlsZkpilotSecretName(const std::string& cluster);         // <c>-tls-zkpilot
// One of the four kinds of names above.
bool IsTlsSecretName(const std::string& cluster, const std::string& name);

// The DNS names of server `id`'s certificates under `values` (see above).
std::vector<std::string> ServerTlsDnsNames(const Values& values, const KubePlatformOptions& options,
                                           int id);

// Makes whatever of both CAs, zkpilot's Secret and the servers' `server_ids`
// Secrets is missing (validity tls.certificateValidityDays; the CAs
// kCaValidityFactor times that), reads back what exists. Returns, per server
// id, the digest for kAnnotationTlsHash. Errors name the Secret.
Result<std::map<int, std::string>> EnsureTlsSecrets(KubeClient& client,
                                                    const KubePlatformOptions& options,
                                                    const Values& values,
                                                    const std::vector<int>& server_ids);

// zkpilot's own credentials for a TLS cluster, from Secret <c>-tls-zkpilot:
// in-memory PEM (ca_pem, cert_pem, key_pem; the file fields empty).
// NotFound when the Secret does not exist yet; InvalidInput naming the
// Secret and the key when one is missing or empty.
Result<TlsClientFiles> ReadOperatorTlsCredentials(KubeClient& client, const std::string& ns,
                                                  const std::string& cluster);

// Sets kAnnotationTlsHash on a server controller's pod template and
// recomputes its zkpilot.io/template-hash (which then covers it).
void AnnotateTlsHash(nlohmann::json& controller, const std::string& hash);

}  // namespace zkpilot
