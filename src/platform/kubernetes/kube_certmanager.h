// TLS on Kubernetes with the servers' certificates issued by cert-manager
// (tls.certificates=cert-manager, or auto when the cluster serves
// cert-manager's Certificate kind).
//
// zkpilot still makes both CAs (kube_tls.h: <c>-tls-ca, <c>-tls-quorum-ca),
// so that `zkpilot certs --client` and its own certificate keep working; each
// CA Secret also gets the keys cert-manager's CA issuer reads (tls.crt,
// tls.key). Then, applied like the package's objects:
//   Issuer <c>-tls-ca, Issuer <c>-tls-quorum-ca     spec.ca.secretName: the CA's Secret
//   Certificate <c>-server-<id>  -> Secret <c>-tls-server-<id>   (client port; CA <c>-tls-ca)
//   Certificate <c>-quorum-<id>  -> Secret <c>-tls-quorum-<id>   (quorum; CA <c>-tls-quorum-ca)
// with the DNS names of ServerTlsDnsNames, ECDSA P-256 keys in PKCS#8 (what
// ZooKeeper's PemReader parses: "PRIVATE KEY", not SEC1's "EC PRIVATE KEY"),
// the validity of tls.certificateValidityDays and renewal
// tls.renewBeforeDays before expiry. The server's pod mounts both Secrets as
// one projected volume at /tls with the file names of zkpilot's mode
// (tls.key, tls.crt, ca.crt, quorum.key, quorum.crt, quorum-ca.crt), so the
// start command and zoo.cfg are the same in both modes.
//
// Pure parts and API helpers; thread-compatible.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "platform/kubernetes/kube_client.h"
#include "platform/kubernetes/kube_platform.h"
#include "util/status.h"
#include "values/values.h"

namespace zkpilot {

inline constexpr char kCertManagerApiVersion[] = "cert-manager.io/v1";

std::string ServerCertificateName(const std::string& cluster, int id);  // <c>-server-<id>
std::string QuorumCertificateName(const std::string& cluster, int id);  // <c>-quorum-<id>
// The Secrets cert-manager writes them into.
std::string CertManagerServerSecretName(const std::string& cluster, int id);  // <c>-tls-server-<id>
std::string CertManagerQuorumSecretName(const std::string& cluster, int id);  // <c>-tls-quorum-<id>

// tls.certificates resolved: "zkpilot" -> false, "cert-manager" -> true,
// "auto" -> whether discovery serves cert-manager.io/v1 Certificate. With
// "cert-manager" and no such kind: InvalidInput saying to install it.
Result<bool> UseCertManager(KubeClient& client, const Values& values);

// The two CA Issuers, and server `id`'s two Certificates (decorated like
// the platform's objects: cluster label, owner reference).
std::vector<nlohmann::json> CertManagerIssuers(const KubePlatformOptions& options);
std::vector<nlohmann::json> CertManagerCertificates(const Values& values,
                                                    const KubePlatformOptions& options, int id);

// The server pod's /tls volume (named "tls") made the projected volume of
// both cert-manager Secrets, with zkpilot mode's file names; mode 0440.
void UseCertManagerVolume(nlohmann::json& pod_spec, const std::string& cluster, int id);

// Ready: the Certificate's status condition Ready is "True".
bool CertificateReady(const nlohmann::json& certificate);

// Adds tls.crt and tls.key (copies of ca.crt and ca.key) to both CA Secrets,
// where cert-manager's CA issuer looks for them; nothing when present.
Status ShareCasWithCertManager(KubeClient& client, const KubePlatformOptions& options);

// A digest of server `id`'s two cert-manager Secrets (their certificates),
// for kAnnotationTlsHash: a renewed certificate rolls the server. "" while
// either Secret is missing.
Result<std::string> CertManagerTlsHash(KubeClient& client, const KubePlatformOptions& options, int id);

// Polls until every Certificate named is Ready or `timeout` passes; then
// Unavailable naming those that are not, with their Ready message.
Status WaitCertificatesReady(KubeClient& client, const KubePlatformOptions& options,
                             const std::vector<std::string>& names, std::chrono::milliseconds timeout,
                             Clock& clock);

}  // namespace zkpilot
