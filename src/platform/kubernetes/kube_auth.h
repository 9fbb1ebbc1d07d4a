// SASL DIGEST-MD5 on Kubernetes: the Secrets that hold a cluster's
// credentials and its servers' JAAS file (what platform/local/local_auth.h
// keeps in files under a local cluster's home).
//
// The same parameters choose it (auth.enabled, auth.users, auth.quorum,
// auth.enforce; zoo.cfg's lines come from the package's template for both
// platforms). The operator makes, once, and keeps:
//   <cluster>-auth         one generated password per user (key = the user
//                          name; a user removed from auth.users keeps its key
//                          but leaves the JAAS file) and `jaas.conf`, the
//                          JAAS file every server reads (rewritten when the
//                          users or auth.quorum change);
//   <cluster>-auth-quorum  key `password`: the credential servers
//                          authenticate each other with (auth.quorum).
// Both are owned by the ZooKeeperCluster and never pruned. Servers mount only
// `jaas.conf`, read-only with mode 0440 (group: the pod's fsGroup), and name it
// in SERVER_JVMFLAGS; no password is in a ConfigMap, an env value or the pod
// spec. zkpilot's own sessions do not use SASL (its C client cannot): without
// TLS they authenticate with the super digest (Secret <cluster>-zkpilot-super),
// which auth.enforce admits (schemes sasl,digest), with TLS by certificate.
//
// Thread-compatible; one operator acts on a cluster at a time.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "platform/kubernetes/kube_client.h"
#include "util/status.h"
#include "values/values.h"

namespace zkpilot {

struct KubePlatformOptions;

std::string AuthSecretName(const std::string& cluster);        // <cluster>-auth
std::string QuorumAuthSecretName(const std::string& cluster);  // <cluster>-auth-quorum
inline constexpr char kJaasKey[] = "jaas.conf";
inline constexpr char kQuorumPasswordKey[] = "password";
// Where the server container finds the JAAS file.
inline constexpr char kAuthMountPath[] = "/auth";

// auth.* as the local platform reads them (AuthSettingsOf): InvalidInput
// naming auth.users for a bad or repeated user name.
Status CheckAuthValues(const Values& values);

// What a server's pod template needs for the values: the Secret with the JAAS
// file and the user names (so that a change of auth.users changes the
// template, and the servers roll); empty secret when auth.* asks for none.
struct AuthDecoration {
  std::string secret;
  std::string users;  // comma-separated, in auth.users' order
};
AuthDecoration AuthDecorationOf(const Values& values, const std::string& cluster);

// The Secrets the values need, made or completed (a password for each new
// user, the quorum credential, the JAAS file when it differs); nothing is
// ever regenerated. Returns what was done, for the step's outcome; "" when
// auth.* asks for none.
Result<std::string> EnsureAuthSecrets(KubeClient& client, const KubePlatformOptions& options,
                                      const Values& values);

// Whether Secret `name` is one of the above (kept when pruning).
bool IsAuthSecret(const std::string& cluster, const std::string& name);

// Adds the JAAS file to a server's pod spec: the volume (the Secret's
// jaas.conf only, defaultMode 0440), its read-only mount at kAuthMountPath
// in the server container, and -Djava.security.auth.login.config in
// SERVER_JVMFLAGS (zkServer.sh puts it before JVMFLAGS).
void AddJaasFile(nlohmann::json& pod_spec, const std::string& secret);

}  // namespace zkpilot
