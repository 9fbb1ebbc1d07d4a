// SASL DIGEST-MD5 authentication of a local cluster: who may authenticate,
// their generated credentials and the JAAS file each server reads them from.
//
// The package's parameters choose (packages/zookeeper/parameters.yaml):
// `auth.enabled` — clients may authenticate as one of `auth.users` (the JAAS
// `Server` section, which ServerCnxnFactory.configureSaslLogin reads);
// `auth.quorum` — servers authenticate each other (`QuorumServer` and
// `QuorumLearner`, named by quorum.auth.{server,learner}.loginContext);
// `auth.enforce` — sessions must have authenticated (zoo.cfg, see
// docs/security.md). zoo.cfg's lines come from the package's template; this
// file makes what the template cannot: the secrets.
//
// Credentials live in <cluster_home>/auth/ (0700): `<user>.password` per
// client user and `quorum.credential` (files 0600, one line each), made once
// from OpenSSL's RAND_bytes and kept across restarts, configuration changes
// and `delete` without --purge-data (clients hold them); a user removed from
// auth.users keeps its file but is no longer in any JAAS file. A server's
// JAAS file, `server-<id>.jaas` (0600), is named on its JVM command line only
// through the `@secret.args` file, like the super digest.
//
// Not thread-safe: one command acts on a cluster at a time (operation_lock.h).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"
#include "values/values.h"

namespace zkpilot {

// What the values ask for. Everything false (the default) means no JAAS file
// and no change to any server's files: existing clusters keep their
// fingerprints.
struct AuthSettings {
  bool clients = false;            // auth.enabled
  bool quorum = false;             // auth.quorum
  bool enforce = false;            // auth.enforce
  std::vector<std::string> users;  // auth.users, in the given order
  bool NeedsJaas() const { return clients || quorum; }
};

// Reads auth.* (a package without them: all off). InvalidInput naming
// auth.users when a name is not a plain user name ([A-Za-z][A-Za-z0-9_.-]*,
// at most 64), repeats, or the list is empty while auth.enabled.
Result<AuthSettings> AuthSettingsOf(const Values& values);

// `settings` for a server rendered at quorum SASL stage `stage` (0..3,
// ServerRender::quorum_auth_stage) instead of the values' one: the quorum JAAS
// sections and credential from stage 1 on, since QuorumPeer.initialize
// builds SaslQuorumAuthServer and SaslQuorumAuthLearner, which read them,
// as soon as quorum.auth.enableSasl is set.
AuthSettings AtQuorumAuthStage(AuthSettings settings, int stage);

// The user servers authenticate each other as (QuorumLearner's username).
inline constexpr const char* kQuorumUser = "zkquorum";

struct LocalAuth {
  std::string dir;  // <cluster_home>/auth
  std::string PasswordPath(const std::string& user) const { return dir + "/" + user + ".password"; }
  std::string QuorumCredentialPath() const { return dir + "/quorum.credential"; }
  std::string JaasPath(int id) const { return dir + "/server-" + std::to_string(id) + ".jaas"; }
};
LocalAuth LocalAuthAt(const std::string& cluster_home);

// Passwords by user (client users, and kQuorumUser with auth.quorum).
using AuthCredentials = std::map<std::string, std::string>;

// The credentials `settings` needs, creating the files that are missing
// (and taking group/other access from existing ones). Nothing when
// !settings.NeedsJaas().
Result<AuthCredentials> EnsureAuthCredentials(const LocalAuth& auth, const AuthSettings& settings);

// The credentials `settings` needs as they are on disk, creating nothing: a
// password not made yet is a placeholder (what a change would make differs
// from what runs either way). For fingerprints, which a dry run computes too.
Result<AuthCredentials> ExistingAuthCredentials(const LocalAuth& auth, const AuthSettings& settings);

// Credentials of the right shape that are not the real ones, to check that
// a configuration renders without creating anything (validate first).
AuthCredentials PlaceholderCredentials(const AuthSettings& settings);

// A server and its `@secret.args` file, which names its JAAS file when the
// server uses one.
struct JaasInUse {
  int id = 0;
  std::string secret_args;
};

// Checks that each server's JAAS file holds the passwords of the credential
// files: every `user_<name>` that of `<name>.password` (`quorum.credential`
// for kQuorumUser), and the QuorumLearner's `password` that of
// `quorum.credential`. Skipped: a JAAS file its server's secret.args does not
// name (auth switched off: nothing reads it), and a client user whose
// password file is gone and who is not in `target_users` (a user being
// removed). Passwords are made once and kept, so a difference means a file
// was edited or replaced by hand; a server started with it would offer its
// peers (or accept from clients) a password the others do not have - with
// quorum SASL required it cannot rejoin. InvalidInput naming every file that
// disagrees; run before any server is restarted.
Status CheckJaasAgreesWithCredentials(const LocalAuth& auth, const std::vector<JaasInUse>& servers,
                                      const std::vector<std::string>& target_users);

// The JAAS file of a server (the same for every server of the cluster).
// REQUIRES: `credentials` has every user `settings` names.
std::string JaasConfig(const AuthSettings& settings, const AuthCredentials& credentials);

// The quorum SASL stage (render/renderer.h ServerRender::quorum_auth_stage) a
// zoo.cfg asks of its server: 0 without quorum.auth.enableSasl, 1 with it
// alone, 2 with quorum.auth.learnerRequireSasl too, 3 with
// quorum.auth.serverRequireSasl as well (QuorumPeerConfig.parseProperties);
// -1 for another combination (a server requiring SASL of learners without
// requiring it of itself, say) or a text without dataDir. Pure.
int ClassifyQuorumAuthStage(std::string_view zoo_cfg_text);

// The JVM options a server needs for it, one per line for its `@file`; ""
// when !settings.NeedsJaas().
std::string AuthJvmArgs(const LocalAuth& auth, const AuthSettings& settings, int id);

}  // namespace zkpilot
