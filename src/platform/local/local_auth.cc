#include "platform/local/local_auth.h"

#include <openssl/rand.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include "platform/local/local_files.h"
#include "platform/local/zoo_cfg.h"
#include "util/files.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;

bool BoolValue(const Values& values, const std::string& name) {
  return values.Has(name) && values.Get(name).is_boolean() && values.Get(name).get<bool>();
}

// 32 random bytes as hex: no character that needs quoting in a JAAS file
// (the values are "..." strings) or in a client's configuration.
Result<std::string> NewPassword() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Status::Internal("OpenSSL RAND_bytes failed");
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// The password in `path`, or "" when there is none (no file, or empty).
Result<std::string> ReadPasswordFile(const std::string& path) {
  if (!fs::exists(path)) return std::string();
  ZK_ASSIGN_OR_RETURN(std::string pw, ReadFile(path));
  while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
  return pw;
}

// The password in `path`, made when the file is missing or empty.
Result<std::string> EnsurePasswordFile(const std::string& path) {
  ZK_ASSIGN_OR_RETURN(std::string existing, ReadPasswordFile(path));
  if (!existing.empty()) {
    std::error_code ec;  // a copy restored with a wider mode is narrowed again
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, ec);
    if (ec) return Status::IOError("restricting " + path + ": " + ec.message());
    return existing;
  }
  ZK_ASSIGN_OR_RETURN(std::string pw, NewPassword());
  ZK_RETURN_IF_ERROR(WriteFileAtomically(path, pw + "\n", 0600));
  return pw;
}

std::string LoginModule(const std::string& options) {
  return "  org.apache.zookeeper.server.auth.DigestLoginModule required\n" + options + ";\n";
}

}  // namespace

Result<AuthSettings> AuthSettingsOf(const Values& values) {
  AuthSettings s;
  s.clients = BoolValue(values, "auth.enabled");
  s.quorum = BoolValue(values, "auth.quorum");
  s.enforce = BoolValue(values, "auth.enforce");
  if (!values.Has("auth.users")) return s;
  const auto& users = values.Get("auth.users");
  const std::string where = "auth.users (" + values.Origin("auth.users") + ")";
  if (!users.is_array()) return Status::InvalidInput(where + ": expected a list of user names");
  // A name becomes a JAAS option (user_<name>) and a file name (<name>.password).
  static const std::regex kName("[A-Za-z][A-Za-z0-9_.-]{0,63}");
  std::set<std::string> seen;
  for (const auto& u : users) {
    if (!u.is_string() || !std::regex_match(u.get<std::string>(), kName))
      return Status::InvalidInput(where + ": " + u.dump() +
                                  " is not a user name (a letter, then letters, digits, '_', '.' or '-'; at most 64)");
    if (!seen.insert(u.get<std::string>()).second)
      return Status::InvalidInput(where + ": user " + u.get<std::string>() + " is listed twice");
    if (u.get<std::string>() == kQuorumUser)
      return Status::InvalidInput(where + ": " + kQuorumUser + " is the user servers authenticate each other as; "
                                  "pick another name");
    s.users.push_back(u.get<std::string>());
  }
  if (s.clients && s.users.empty())
    return Status::InvalidInput(where + ": empty, but auth.enabled needs at least one user to authenticate as");
  return s;
}

AuthSettings AtQuorumAuthStage(AuthSettings settings, int stage) {
  settings.quorum = stage >= 1;
  return settings;
}

LocalAuth LocalAuthAt(const std::string& cluster_home) { return LocalAuth{cluster_home + "/auth"}; }

Result<AuthCredentials> EnsureAuthCredentials(const LocalAuth& auth, const AuthSettings& settings) {
  AuthCredentials out;
  if (!settings.NeedsJaas()) return out;
  ZK_RETURN_IF_ERROR(MakeWritableDir(auth.dir, "auth directory"));
  if (settings.clients)
    for (const auto& user : settings.users) {
      ZK_ASSIGN_OR_RETURN(out[user], EnsurePasswordFile(auth.PasswordPath(user)));
    }
  if (settings.quorum) {
    ZK_ASSIGN_OR_RETURN(out[kQuorumUser], EnsurePasswordFile(auth.QuorumCredentialPath()));
  }
  return out;
}

Result<AuthCredentials> ExistingAuthCredentials(const LocalAuth& auth, const AuthSettings& settings) {
  AuthCredentials out;
  if (!settings.NeedsJaas()) return out;
  auto read = [&](const std::string& user, const std::string& path) -> Status {
    ZK_ASSIGN_OR_RETURN(std::string pw, ReadPasswordFile(path));
    out[user] = pw.empty() ? "not-the-password" : pw;
    return Status::Ok();
  };
  if (settings.clients)
    for (const auto& user : settings.users) ZK_RETURN_IF_ERROR(read(user, auth.PasswordPath(user)));
  if (settings.quorum) ZK_RETURN_IF_ERROR(read(kQuorumUser, auth.QuorumCredentialPath()));
  return out;
}

AuthCredentials PlaceholderCredentials(const AuthSettings& settings) {
  AuthCredentials out;
  for (const auto& user : settings.users) out[user] = "not-the-password";
  out[kQuorumUser] = "not-the-password";
  return out;
}

Status CheckJaasAgreesWithCredentials(const LocalAuth& auth, const std::vector<JaasInUse>& servers,
                                      const std::vector<std::string>& target_users) {
  // The options JaasConfig writes: user_<name>="..." and password="...".
  static const std::regex kOption(R"re(^\s*(user_([A-Za-z][A-Za-z0-9_.-]*)|password)="([^"]*)")re");
  std::set<std::string> problems;
  for (const auto& server : servers) {
    const std::string jaas = auth.JaasPath(server.id);
    if (!fs::exists(jaas) || !fs::exists(server.secret_args)) continue;
    ZK_ASSIGN_OR_RETURN(std::string args, ReadFile(server.secret_args));
    if (args.find(jaas) == std::string::npos) continue;  // not read by its server
    ZK_ASSIGN_OR_RETURN(std::string text, ReadFile(jaas));
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      std::smatch m;
      if (!std::regex_search(line, m, kOption)) continue;
      const std::string user = m[2].matched ? m[2].str() : std::string(kQuorumUser);
      const std::string file = user == kQuorumUser ? auth.QuorumCredentialPath() : auth.PasswordPath(user);
      ZK_ASSIGN_OR_RETURN(std::string password, ReadPasswordFile(file));
      if (password == m[3].str()) continue;
      const bool leaving = std::find(target_users.begin(), target_users.end(), user) == target_users.end();
      if (password.empty() && user != kQuorumUser && leaving) continue;
      problems.insert(fs::path(jaas).filename().string() + " gives " + user + " another password than " +
                      fs::path(file).filename().string() + (password.empty() ? " (missing or empty)" : ""));
    }
  }
  if (problems.empty()) return Status::Ok();
  std::string list;
  for (const auto& p : problems) list += "\n  " + p;
  return Status::InvalidInput(
      "the credentials in " + auth.dir + " disagree with the servers' JAAS files:" + list +
      "\nzkpilot makes each password once and never changes it, so one of these files was edited or replaced by "
      "hand. A server restarted now would authenticate with a password its peers or clients do not have. Nothing "
      "was restarted: put the original file back - a credential file holds the password alone, on one line, as "
      "the servers' server-<id>.jaas files have it in quotes - then run the command again.");
}

std::string JaasConfig(const AuthSettings& settings, const AuthCredentials& credentials) {
  std::string out =
      "// JAAS configuration of a ZooKeeper server of this cluster, written by zkpilot.\n"
      "// Passwords are in the clear: DIGEST-MD5 needs them on both ends.\n";
  if (settings.clients) {
    // ServerCnxnFactory.configureSaslLogin: section "Server"
    // (zookeeper.sasl.serverconfig); DigestLoginModule's user_<name> options.
    std::string users;
    for (const auto& user : settings.users)
      users += "  user_" + user + "=\"" + credentials.at(user) + "\"\n";
    if (!users.empty()) users.pop_back();
    out += "Server {\n" + LoginModule(users) + "};\n";
  }
  if (settings.quorum) {
    // QuorumPeer's SaslQuorumAuthServer / SaslQuorumAuthLearner read the
    // sections zoo.cfg names in quorum.auth.{server,learner}.loginContext.
    const std::string pw = credentials.at(kQuorumUser);
    out += "QuorumServer {\n" + LoginModule(std::string("  user_") + kQuorumUser + "=\"" + pw + "\"") + "};\n";
    out += "QuorumLearner {\n" +
           LoginModule(std::string("  username=\"") + kQuorumUser + "\"\n  password=\"" + pw + "\"") + "};\n";
  }
  return out;
}

int ClassifyQuorumAuthStage(std::string_view zoo_cfg_text) {
  const auto p = ZooCfgProperties(zoo_cfg_text);
  if (!p.count("dataDir")) return -1;
  const bool enabled = ZooCfgTrue(p, "quorum.auth.enableSasl");
  const bool learner = ZooCfgTrue(p, "quorum.auth.learnerRequireSasl");
  const bool server = ZooCfgTrue(p, "quorum.auth.serverRequireSasl");
  // QuorumPeerConfig.parseProperties refuses either requirement without
  // enableSasl, and serverRequireSasl without learnerRequireSasl (8/9: 393-406).
  if (!enabled) return learner || server ? -1 : 0;
  if (server) return learner ? 3 : -1;
  return learner ? 2 : 1;
}

std::string AuthJvmArgs(const LocalAuth& auth, const AuthSettings& settings, int id) {
  if (!settings.NeedsJaas()) return "";
  // Quoted as the java launcher reads `@file` arguments: within quotes a
  // backslash escapes the next character.
  std::string quoted;
  for (char c : auth.JaasPath(id)) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return "\"-Djava.security.auth.login.config=" + quoted + "\"\n";
}

}  // namespace zkpilot
