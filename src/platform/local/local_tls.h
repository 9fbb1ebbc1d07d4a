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

#include <optional>
#include <string>
#include <vector>

#include "util/status.h"
#include "values/values.h"
#include "zk/tls_transport.h"

namespace zkpilot {

// The package parameter tls.enabled (false when the package has none).
bool TlsEnabled(const Values& values);

// zkpilot's client files for the cluster under `cluster_home` when `values`
// switch TLS on; none otherwise.
std::optional<TlsClientFiles> LocalTlsClientFiles(const Values& values, const std::string& cluster_home);
// The same from a revision's values as the state keeps them (flat JSON): the
// supervisor's probes and exporter. None when the JSON does not parse.
std::optional<TlsClientFiles> LocalTlsClientFilesFromJson(const std::string& values_json,
                                                          const std::string& cluster_home);

// With TLS on: the cluster's CA, zkpilot's certificate and the certificates
// of servers `ids`, made or renewed (EnsureLocalPki) with the values'
// tls.certificateValidityDays and tls.renewBeforeDays. Called before a
// server starts or restarts, which is when it reads its files. Returns what
// was (re)issued, for people ("" when nothing). Without TLS: nothing, "".
Result<std::string> EnsureClusterPki(const Values& values, const std::string& cluster,
                                     const std::string& cluster_home, const std::vector<int>& ids);

}  // namespace zkpilot
