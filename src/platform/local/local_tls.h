// TLS of a local cluster (tls.enabled): where its files are, and what every
// connection zkpilot makes to its servers needs.
//
// A TLS cluster's client ports speak TLS only (packages/zookeeper/config/
// zoo.cfg.mustache: secureClientPort, no plaintext port), so every
// four-letter word (status, health waits, the supervisor's liveness probe,
// the exporter) and every session (hooks, reconfig) goes over TLS with
// zkpilot's own certificate (CN=zkpilot-super, the super user by
// X509AuthenticationProvider.superUser). This file is the one place that
// decides it from the values; the platform hands the result on
// (Platform::Admin, LocalPlatform::OpenSession).
// Thread-safety: plain functions; EnsureClusterPki writes files (callers
// hold the cluster's operation lock).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "render/renderer.h"
#include "util/status.h"
#include "values/values.h"
#include "zk/tls_transport.h"

namespace zkpilot {

// The package parameter tls.enabled (false when the package has none).
bool TlsEnabled(const Values& values);

// The TLS stage (render/renderer.h) a zoo.cfg asks of its server, from the
// keys ZooKeeper acts on (not from comments, which a rewrite drops):
// secureClientPort, client.portUnification, portUnification, sslQuorum.
// Also for a zoo.cfg ZooKeeper rewrote after a reconfig
// (QuorumPeerConfig.editStaticConfig: server lines moved to the
// dynamicConfigFile, clientPort and clientPortAddress maybe erased), which
// is what a crash-restarted server starts from. kUnknown for a combination
// no stage renders, or a text without dataDir (not a zoo.cfg). Pure.
TlsStage ClassifyTlsStage(std::string_view zoo_cfg_text);

// zkpilot's transport to one server (contracts-12 section 1): TLS with its
// client files under `cluster_home`, as CN=zkpilot-super, when the server
// runs at TLS stage >= 1 (stages 1 and 2 serve plaintext too; TLS is
// preferred there), plaintext (none) at stage 0, and `unknown` (the
// revision's values' choice) when its stage is not known (-1).
std::optional<TlsClientFiles> TlsClientFilesForStage(int stage, const std::string& cluster_home,
                                                     const std::optional<TlsClientFiles>& unknown);

// zkpilot's client files for the cluster under `cluster_home` when `values`
// switch TLS on; none otherwise.
std::optional<TlsClientFiles> LocalTlsClientFiles(const Values& values, const std::string& cluster_home);
// The same from a revision's values as the state keeps them (flat JSON): the
// supervisor's probes and exporter. None when the JSON does not parse.
std::optional<TlsClientFiles> LocalTlsClientFilesFromJson(const std::string& values_json,
                                                          const std::string& cluster_home);

// For servers that run at a TLS stage >= 1 (`stage`; empty: the values'
// TargetTlsStage): the cluster's CA, zkpilot's certificate and the
// certificates of servers `ids`, made or renewed (EnsureLocalPki) with the
// values' tls.certificateValidityDays and tls.renewBeforeDays. Called before
// a server starts or restarts, which is when it reads its files. Returns
// what was (re)issued, for people ("" when nothing). At stage 0: nothing, "".
Result<std::string> EnsureClusterPki(const Values& values, const std::string& cluster,
                                     const std::string& cluster_home, const std::vector<int>& ids,
                                     std::optional<TlsStage> stage = std::nullopt);

// tls.certificateValidityDays and tls.renewBeforeDays (the package's
// defaults, 365 and 30 days, for a package without them).
struct PkiPolicy {
  std::chrono::hours validity{24 * 365};
  std::chrono::hours renew_before{24 * 30};
};
PkiPolicy PkiPolicyOf(const Values& values);
// The same from the flat JSON the state keeps (the supervisor's view).
PkiPolicy PkiPolicyFromJson(const std::string& values_json);

// zkpilot's own certificate (pki/zkpilot.crt and .key) issued afresh when it
// is missing, unusable (not the CA's, key of another) or expires within
// renew_before; signed by the cluster's existing CA. Servers trust the CA,
// not this certificate, so none needs a restart; without this a cluster left
// alone for tls.certificateValidityDays could no longer be probed or managed.
// Never makes a CA: without ca.crt and ca.key nothing happens (the first
// deploy makes them, EnsureClusterPki). Called before the local platform
// talks to a TLS cluster and periodically by the supervisor, which may run
// at the same time: processes take turns on pki/.zkpilot.lock (flock), so
// the certificate and its key always come from one issuance. Returns what
// was renewed and why, for people ("" when nothing).
Result<std::string> RenewOwnCertificate(const std::string& cluster, const std::string& cluster_home,
                                        const PkiPolicy& policy);

}  // namespace zkpilot
