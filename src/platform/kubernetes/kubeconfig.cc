#include "platform/kubernetes/kubeconfig.h"

#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "util/files.h"
#include "util/yaml_json.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kServiceAccountDir[] = "/var/run/secrets/kubernetes.io/serviceaccount";

std::string EnvOr(const char* name, const std::string& fallback = "") {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

// A named entry (cluster, user, context) and the file that defined it.
struct Entry {
  json body;
  std::string file;
};

struct MergedConfig {
  std::map<std::string, Entry> clusters, users, contexts;
  std::string current_context;
  std::string current_context_file;
  std::vector<std::string> files;
};

std::string FileList(const std::vector<std::string>& files) {
  std::string out;
  for (const auto& f : files) out += (out.empty() ? "" : ", ") + f;
  return out;
}

// Adds the named entries of `list` (kubeconfig "clusters"/"users"/"contexts")
// that are not defined yet.
Status MergeList(const json& doc, const char* list_key, const char* body_key,
                 const std::string& file, std::map<std::string, Entry>& into) {
  if (!doc.contains(list_key) || doc[list_key].is_null()) return Status::Ok();
  const json& list = doc[list_key];
  if (!list.is_array()) return Status::InvalidInput(file + ": " + list_key + " must be a list");
  for (size_t i = 0; i < list.size(); ++i) {
    const json& item = list[i];
    std::string where = file + ": " + list_key + "[" + std::to_string(i) + "]";
    if (!item.is_object() || !item.contains("name") || !item["name"].is_string() ||
        item["name"].get<std::string>().empty()) {
      return Status::InvalidInput(where + ": an entry needs a name");
    }
    json body = item.value(body_key, json::object());
    if (body.is_null()) body = json::object();
    if (!body.is_object()) return Status::InvalidInput(where + "." + body_key + " must be a map");
    into.emplace(item["name"].get<std::string>(), Entry{body, file});
  }
  return Status::Ok();
}

Result<MergedConfig> Merge(const std::vector<KubeconfigFile>& files) {
  MergedConfig merged;
  for (const auto& file : files) {
    merged.files.push_back(file.path);
    auto yaml = ParseYaml(file.text, file.path);
    if (!yaml.ok()) return Status::InvalidInput("kubeconfig " + yaml.status().message());
    json doc = json::parse(YamlToJson(*yaml).dump());
    if (doc.is_null()) continue;  // an empty file, as kubectl allows
    if (!doc.is_object()) return Status::InvalidInput(file.path + ": a kubeconfig must be a map");
    ZK_RETURN_IF_ERROR(MergeList(doc, "clusters", "cluster", file.path, merged.clusters));
    ZK_RETURN_IF_ERROR(MergeList(doc, "users", "user", file.path, merged.users));
    ZK_RETURN_IF_ERROR(MergeList(doc, "contexts", "context", file.path, merged.contexts));
    if (merged.current_context.empty() && doc.contains("current-context") &&
        doc["current-context"].is_string()) {
      merged.current_context = doc["current-context"].get<std::string>();
      merged.current_context_file = file.path;
    }
  }
  return merged;
}

std::string StringField(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end()) return "";
  if (it->is_number_integer()) return it->dump();  // an all-digit token reads back as a number
  return it->is_string() ? it->get<std::string>() : "";
}

bool BoolField(const json& body, const char* key) {
  auto it = body.find(key);
  return it != body.end() && it->is_boolean() && it->get<bool>();
}

std::string Resolve(const std::string& path, const std::string& defining_file) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(defining_file).parent_path() / path).lexically_normal().string();
}

// PEM from "<key>-data" (base64) or the file "<key>"; "" when neither is set.
// `both_is_error`: kubectl refuses both for client certificates and keys;
// for the CA the data wins.
Result<std::string> PemFrom(const Entry& entry, const std::string& key, const std::string& where,
                            bool both_is_error) {
  std::string data = StringField(entry.body, (key + "-data").c_str());
  std::string file = StringField(entry.body, key.c_str());
  if (!data.empty() && !file.empty() && both_is_error) {
    return Status::InvalidInput(where + ": both " + key + " and " + key +
                                "-data are given; use one");
  }
  if (!data.empty()) {
    auto pem = DecodeBase64(data);
    if (!pem.ok())
      return Status::InvalidInput(where + ": " + key + "-data: " + pem.status().message());
    return *pem;
  }
  if (file.empty()) return std::string();
  std::string path = Resolve(file, entry.file);
  auto text = ReadFile(path);
  if (!text.ok()) return Status::InvalidInput(where + ": " + key + ": " + text.status().message());
  return *text;
}

Status CheckExec(json& exec, const std::string& where, const std::string& defining_file) {
  if (!exec.is_object()) return Status::InvalidInput(where + ".exec must be a map");
  std::string command = StringField(exec, "command");
  if (command.empty()) return Status::InvalidInput(where + ".exec.command is required");
  std::string api_version = StringField(exec, "apiVersion");
  if (api_version != "client.authentication.k8s.io/v1" &&
      api_version != "client.authentication.k8s.io/v1beta1") {
    return Status::InvalidInput(where + ".exec.apiVersion " + Quoted(api_version) +
                                " is not supported (client.authentication.k8s.io/v1 or v1beta1)");
  }
  std::string mode = StringField(exec, "interactiveMode");
  if (!mode.empty() && mode != "Never" && mode != "IfAvailable" && mode != "Always") {
    return Status::InvalidInput(where + ".exec.interactiveMode " + Quoted(mode) +
                                " must be Never, IfAvailable or Always");
  }
  if (exec.contains("args") && !exec["args"].is_null() && !exec["args"].is_array()) {
    return Status::InvalidInput(where + ".exec.args must be a list");
  }
  if (exec.contains("env") && !exec["env"].is_null()) {
    if (!exec["env"].is_array()) return Status::InvalidInput(where + ".exec.env must be a list");
    for (const auto& e : exec["env"]) {
      if (!e.is_object() || StringField(e, "name").empty()) {
        return Status::InvalidInput(where + ".exec.env: each entry needs a name and a value");
      }
    }
  }
  // kubectl resolves a command with a path separator against the
  // kubeconfig's directory; a bare name is looked up in PATH.
  if (command.find('/') != std::string::npos) exec["command"] = Resolve(command, defining_file);
  return Status::Ok();
}

Status ApplyCluster(const Entry& cluster, const std::string& name, KubeConnection& c) {
  std::string where = cluster.file + ": cluster " + Quoted(name);
  c.server = StringField(cluster.body, "server");
  if (c.server.empty()) return Status::InvalidInput(where + ": server is required");
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  if (c.server.rfind("https://", 0) != 0 && c.server.rfind("http://", 0) != 0) {
    return Status::InvalidInput(where + ": server " + Quoted(c.server) +
                                " must be an https:// URL");
  }
  ZK_ASSIGN_OR_RETURN(c.ca_pem,
                      PemFrom(cluster, "certificate-authority", where, /*both_is_error=*/false));
  c.insecure_skip_tls_verify = BoolField(cluster.body, "insecure-skip-tls-verify");
  if (c.insecure_skip_tls_verify && !c.ca_pem.empty()) {
    return Status::InvalidInput(
        where + ": insecure-skip-tls-verify together with a certificate-authority is not allowed");
  }
  c.tls_server_name = StringField(cluster.body, "tls-server-name");
  c.proxy_url = StringField(cluster.body, "proxy-url");
  return Status::Ok();
}

Status ApplyUser(const Entry& user, const std::string& name, KubeConnection& c) {
  std::string where = user.file + ": user " + Quoted(name);
  const json& u = user.body;
  if (u.contains("auth-provider")) {
    return Status::InvalidInput(where +
                                ": auth-provider is not supported (use an exec credential plugin)");
  }
  if (!StringField(u, "username").empty() || !StringField(u, "password").empty()) {
    return Status::InvalidInput(where +
                                ": basic authentication (username/password) is not supported");
  }
  if (!StringField(u, "as").empty() || u.contains("as-groups")) {
    return Status::InvalidInput(where + ": impersonation (as, as-groups) is not supported");
  }
  ZK_ASSIGN_OR_RETURN(c.client_cert_pem,
                      PemFrom(user, "client-certificate", where, /*both_is_error=*/true));
  ZK_ASSIGN_OR_RETURN(c.client_key_pem, PemFrom(user, "client-key", where, /*both_is_error=*/true));
  if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
    return Status::InvalidInput(
        where + ": a client certificate needs its key (client-certificate and client-key)");
  }
  c.token = StringField(u, "token");
  if (c.token.empty()) c.token_file = Resolve(StringField(u, "tokenFile"), user.file);
  if (u.contains("exec") && !u["exec"].is_null()) {
    c.exec = u["exec"];
    ZK_RETURN_IF_ERROR(CheckExec(c.exec, where, user.file));
  }
  return Status::Ok();
}

std::string Names(const std::map<std::string, Entry>& entries) {
  std::string out;
  for (const auto& [name, entry] : entries) out += (out.empty() ? "" : ", ") + name;
  return out.empty() ? "none" : out;
}

Result<std::string> ReadTrimmed(const std::string& path) {
  ZK_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  return text;
}

}  // namespace

Result<KubeConnection> ConnectionFromKubeconfig(const std::vector<KubeconfigFile>& files,
                                                const KubeConfigOptions& options) {
  ZK_ASSIGN_OR_RETURN(MergedConfig merged, Merge(files));
  std::string sources = "kubeconfig " + FileList(merged.files);
  std::string context_name = options.context.empty() ? merged.current_context : options.context;
  if (context_name.empty()) {
    return Status::InvalidInput(sources + ": no current-context; pass --context (contexts: " +
                                Names(merged.contexts) + ")");
  }
  auto ctx = merged.contexts.find(context_name);
  if (ctx == merged.contexts.end()) {
    return Status::InvalidInput(sources + ": context " + Quoted(context_name) +
                                " not found (contexts: " + Names(merged.contexts) + ")");
  }
  const json& context = ctx->second.body;
  std::string where = ctx->second.file + ": context " + Quoted(context_name);
  std::string cluster_name = StringField(context, "cluster");
  std::string user_name = StringField(context, "user");
  auto cluster = merged.clusters.find(cluster_name);
  if (cluster_name.empty() || cluster == merged.clusters.end()) {
    return Status::InvalidInput(where + ": cluster " + Quoted(cluster_name) +
                                " not found (clusters: " + Names(merged.clusters) + ")");
  }

  KubeConnection c;
  c.context_name = context_name;
  c.user_name = user_name;
  c.source = sources;
  ZK_RETURN_IF_ERROR(ApplyCluster(cluster->second, cluster_name, c));
  if (!user_name.empty()) {
    auto user = merged.users.find(user_name);
    if (user == merged.users.end()) {
      return Status::InvalidInput(where + ": user " + Quoted(user_name) +
                                  " not found (users: " + Names(merged.users) + ")");
    }
    ZK_RETURN_IF_ERROR(ApplyUser(user->second, user_name, c));
  }
  std::string ns =
      options.namespace_.empty() ? StringField(context, "namespace") : options.namespace_;
  c.default_namespace = ns.empty() ? "default" : ns;
  return c;
}

Result<KubeConnection> InClusterConnection(const KubeConfigOptions& options) {
  std::string host = EnvOr("KUBERNETES_SERVICE_HOST");
  std::string port = EnvOr("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) {
    return Status::NotFound(
        "not running in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
  }
  std::string dir = EnvOr("ZKPILOT_SA_DIR", kServiceAccountDir);
  KubeConnection c;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";  // IPv6
  c.server = "https://" + host + ":" + port;
  c.token_file = dir + "/token";
  if (!FileExists(c.token_file)) {
    return Status::NotFound("in-cluster configuration: no service account token at " +
                            c.token_file + " (automountServiceAccountToken off?)");
  }
  auto ca = ReadFile(dir + "/ca.crt");
  if (!ca.ok()) return Status::NotFound("in-cluster configuration: " + ca.status().message());
  c.ca_pem = *ca;
  if (!options.namespace_.empty()) {
    c.default_namespace = options.namespace_;
  } else if (auto ns = ReadTrimmed(dir + "/namespace"); ns.ok() && !ns->empty()) {
    c.default_namespace = *ns;
  }
  c.context_name = "in-cluster";
  c.source = "in-cluster service account (" + dir + ")";
  return c;
}

Result<std::vector<std::string>> KubeconfigPaths(const KubeConfigOptions& options) {
  std::vector<std::string> paths;
  if (!options.kubeconfig.empty()) {
    if (!FileExists(options.kubeconfig)) {
      return Status::NotFound("--kubeconfig " + options.kubeconfig + ": no such file");
    }
    paths.push_back(options.kubeconfig);
    return paths;
  }
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::set<std::string> seen;
    std::string list = env;
    size_t start = 0;
    while (start <= list.size()) {
      size_t end = list.find(':', start);
      if (end == std::string::npos) end = list.size();
      std::string path = list.substr(start, end - start);
      if (!path.empty() && FileExists(path) && seen.insert(path).second) paths.push_back(path);
      start = end + 1;
    }
    return paths;
  }
  std::string home = EnvOr("HOME");
  if (!home.empty() && FileExists(home + "/.kube/config")) paths.push_back(home + "/.kube/config");
  return paths;
}

Result<KubeConnection> LoadKubeConnection(const KubeConfigOptions& options) {
  if (options.in_cluster) return InClusterConnection(options);
  ZK_ASSIGN_OR_RETURN(std::vector<std::string> paths, KubeconfigPaths(options));
  if (paths.empty()) {
    auto in_cluster = InClusterConnection(options);
    if (in_cluster.ok()) return in_cluster;
    std::string env = EnvOr("KUBECONFIG");
    return Status::NotFound(env.empty() ? "no Kubernetes configuration: set KUBECONFIG or pass "
                                          "--kubeconfig (~/.kube/config does not exist)"
                                        : "no Kubernetes configuration: no file of KUBECONFIG=" +
                                              env + " exists; pass --kubeconfig");
  }
  std::vector<KubeconfigFile> files;
  for (const auto& path : paths) {
    auto text = ReadFile(path);
    if (!text.ok()) return Status::InvalidInput("kubeconfig " + text.status().message());
    files.push_back({path, *text});
  }
  return ConnectionFromKubeconfig(files, options);
}

Result<std::string> DecodeBase64(const std::string& text) {
  static const auto kTable = [] {
    std::array<int, 256> t;
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = i;
    return t;
  }();
  std::string out;
  uint32_t bits = 0;
  int nbits = 0;
  bool padding = false;
  for (unsigned char ch : text) {
    if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t') continue;
    if (ch == '=') {
      padding = true;
      continue;
    }
    if (padding || kTable[ch] < 0) return Status::InvalidInput("not valid base64");
    bits = (bits << 6) | static_cast<uint32_t>(kTable[ch]);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<char>((bits >> nbits) & 0xff));
    }
  }
  if (nbits >= 6) return Status::InvalidInput("not valid base64 (truncated)");
  return out;
}

std::string EncodeBase64(const std::string& data) {
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(alphabet[(v >> s) & 63]);
  }
  if (i + 1 == data.size()) {
    uint32_t v = uint8_t(data[i]) << 16;
    out += {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == data.size()) {
    uint32_t v = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8);
    out += {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63], alphabet[(v >> 6) & 63], '='};
  }
  return out;
}

}  // namespace zkpilot
