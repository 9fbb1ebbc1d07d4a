#include "platform/kubernetes/kube_client_credentials.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <vector>

#include "platform/kubernetes/kubeconfig.h"
#include "util/files.h"

extern char** environ;

namespace zkpilot {
namespace {

using nlohmann::json;

// A plugin that has not answered by then is stuck (it cannot prompt: stdin
// is /dev/null).
constexpr auto kPluginTimeout = std::chrono::seconds(120);

struct PluginOutput {
  int exit_code = -1;  // -1: killed by a signal or the timeout
  std::string out, err;
  bool not_found = false;
  bool timed_out = false;
};

std::string LastLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  auto nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

// Runs argv with `env` (complete), stdin /dev/null; collects stdout and
// stderr apart.
Result<PluginOutput> RunPlugin(const std::vector<std::string>& argv,
                               const std::vector<std::string>& env) {
  int out_pipe[2], err_pipe[2], exec_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0 ||
      ::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    return Status::IOError(std::string("pipe: ") + std::strerror(errno));
  }
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) return Status::IOError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::setpgid(0, 0);
    ::execvpe(cargv[0], cargv.data(), cenv.data());
    int e = errno;
    (void)!::write(exec_pipe[1], &e, sizeof e);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here: a kill at the timeout must find the group
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::close(exec_pipe[1]);

  PluginOutput result;
  int exec_errno = 0;
  if (::read(exec_pipe[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno)
    result.not_found = true;
  ::close(exec_pipe[0]);

  auto deadline = std::chrono::steady_clock::now() + kPluginTimeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
      break;
    }
    int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(wstatus) && !result.timed_out) result.exit_code = WEXITSTATUS(wstatus);
  if (result.not_found) result.err = std::strerror(exec_errno);
  return result;
}

// The ExecCredential request the plugin finds in KUBERNETES_EXEC_INFO.
json ExecInfo(const KubeConnection& c) {
  json spec = {{"interactive", false}};
  if (c.exec.value("provideClusterInfo", false)) {
    json cluster = {{"server", c.server}};
    if (!c.tls_server_name.empty()) cluster["tls-server-name"] = c.tls_server_name;
    if (c.insecure_skip_tls_verify) cluster["insecure-skip-tls-verify"] = true;
    if (!c.ca_pem.empty()) cluster["certificate-authority-data"] = EncodeBase64(c.ca_pem);
    if (!c.proxy_url.empty()) cluster["proxy-url"] = c.proxy_url;
    spec["cluster"] = cluster;
  }
  return {
      {"apiVersion", c.exec.value("apiVersion", "")}, {"kind", "ExecCredential"}, {"spec", spec}};
}

std::vector<std::string> PluginEnv(const KubeConnection& c) {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (c.exec.contains("env") && c.exec["env"].is_array()) {
    for (const auto& e : c.exec["env"]) vars[e.value("name", "")] = e.value("value", "");
  }
  vars["KUBERNETES_EXEC_INFO"] = ExecInfo(c).dump();
  std::vector<std::string> env;
  for (const auto& [k, v] : vars) env.push_back(k + "=" + v);
  return env;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> ParseRfc3339(const std::string& text) {
  int y, mo, d, h, mi, s;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) !=
      6) {
    return std::nullopt;
  }
  size_t i = static_cast<size_t>(consumed);
  double fraction = 0;
  if (i < text.size() && text[i] == '.') {
    size_t start = i;
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    fraction = std::stod("0" + text.substr(start, i - start));
  }
  long offset = 0;
  if (i < text.size() && (text[i] == 'Z' || text[i] == 'z')) {
    ++i;
  } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    int oh, om;
    if (std::sscanf(text.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset = (text[i] == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != text.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  time_t t = ::timegm(&tm) - offset;
  // system_clock counts nanoseconds in 64 bits: it ends in 2262. Later
  // times ("never expires" written as year 2999) are the end of time.
  constexpr time_t kLast = 9'000'000'000;  // year 2255
  if (t > kLast) return std::chrono::system_clock::time_point::max();
  return std::chrono::system_clock::from_time_t(t) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             std::chrono::duration<double>(fraction));
}

Result<RequestCredentials> CredentialSource::Current() {
  RequestCredentials creds;
  creds.cert_pem = connection_.client_cert_pem;
  creds.key_pem = connection_.client_key_pem;
  creds.token = connection_.token;
  if (creds.token.empty() && !connection_.token_file.empty()) {
    ZK_ASSIGN_OR_RETURN(creds.token, TokenFromFile());
  }
  if (!connection_.exec.is_null()) {
    bool fresh =
        exec_cached_ && (!exec_expiry_ || std::chrono::system_clock::now() < *exec_expiry_);
    if (!fresh) {
      exec_cached_.reset();
      ZK_ASSIGN_OR_RETURN(RequestCredentials from_plugin, RunExecPlugin());
      exec_cached_ = from_plugin;
    }
    if (!exec_cached_->token.empty()) creds.token = exec_cached_->token;
    if (!exec_cached_->cert_pem.empty()) {
      creds.cert_pem = exec_cached_->cert_pem;
      creds.key_pem = exec_cached_->key_pem;
    }
  }
  return creds;
}

bool CredentialSource::Refresh() {
  bool may_help = false;
  if (!connection_.exec.is_null()) {
    exec_cached_.reset();
    may_help = true;
  }
  if (connection_.token.empty() && !connection_.token_file.empty()) {
    file_read_ = false;  // read it again even if it looks unchanged
    may_help = true;
  }
  return may_help;
}

Result<std::string> CredentialSource::TokenFromFile() {
  struct stat st;
  if (::stat(connection_.token_file.c_str(), &st) != 0) {
    return Status::PermissionDenied("token file " + connection_.token_file + ": " +
                                    std::strerror(errno));
  }
  FileStamp stamp{st.st_ino, st.st_size,
                  int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
  if (!file_read_ || !(stamp == file_stamp_)) {
    auto text = ReadFile(connection_.token_file);
    if (!text.ok()) return Status::PermissionDenied("token file " + text.status().message());
    std::string token = *text;
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())))
      token.pop_back();
    file_token_ = token;
    file_stamp_ = stamp;
    file_read_ = true;
  }
  return file_token_;
}

Result<RequestCredentials> CredentialSource::RunExecPlugin() {
  const json& exec = connection_.exec;
  std::string command = exec.value("command", "");
  std::string api_version = exec.value("apiVersion", "");
  std::string what =
      "exec credential plugin \"" + command + "\" (user \"" + connection_.user_name + "\")";
  if (exec.value("interactiveMode", "") == "Always") {
    return Status::PermissionDenied(what +
                                    ": needs an interactive terminal (interactiveMode: Always), "
                                    "which zkpilot does not give it");
  }
  std::vector<std::string> argv = {command};
  if (exec.contains("args") && exec["args"].is_array()) {
    for (const auto& a : exec["args"])
      argv.push_back(a.is_string() ? a.get<std::string>() : a.dump());
  }
  ++exec_runs_;
  ZK_ASSIGN_OR_RETURN(PluginOutput run, RunPlugin(argv, PluginEnv(connection_)));
  if (run.not_found) {
    std::string hint = exec.value("installHint", "");
    return Status::PermissionDenied(what + ": cannot run it: " + run.err +
                                    (hint.empty() ? "" : "\n" + hint));
  }
  if (run.timed_out) {
    return Status::Unavailable(what + ": no answer within " +
                               std::to_string(kPluginTimeout.count()) + " s");
  }
  if (run.exit_code != 0) {
    std::string detail = LastLine(run.err);
    return Status::PermissionDenied(
        what + ": " +
        (run.exit_code < 0 ? "killed" : "exited with " + std::to_string(run.exit_code)) +
        (detail.empty() ? "" : ": " + detail));
  }
  json cred = json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  if (!cred.is_object() || cred.value("kind", "") != "ExecCredential") {
    return Status::PermissionDenied(what + ": its output is not an ExecCredential");
  }
  if (cred.value("apiVersion", "") != api_version) {
    return Status::PermissionDenied(what + ": answered apiVersion \"" +
                                    cred.value("apiVersion", "") +
                                    "\", the kubeconfig asks for \"" + api_version + "\"");
  }
  const json status = cred.value("status", json::object());
  RequestCredentials creds;
  if (status.is_object()) {
    creds.token = status.value("token", "");
    creds.cert_pem = status.value("clientCertificateData", "");
    creds.key_pem = status.value("clientKeyData", "");
  }
  if (creds.cert_pem.empty() != creds.key_pem.empty()) {
    return Status::PermissionDenied(
        what + ": status has clientCertificateData or clientKeyData but not both");
  }
  if (creds.token.empty() && creds.cert_pem.empty()) {
    return Status::PermissionDenied(what + ": status has neither a token nor a client certificate");
  }
  exec_expiry_.reset();
  if (status.is_object() && status.contains("expirationTimestamp") &&
      status["expirationTimestamp"].is_string()) {
    auto expiry = ParseRfc3339(status["expirationTimestamp"].get<std::string>());
    if (!expiry) {
      return Status::PermissionDenied(what + ": status.expirationTimestamp \"" +
                                      status["expirationTimestamp"].get<std::string>() +
                                      "\" is not an RFC 3339 time");
    }
    exec_expiry_ = expiry;
  }
  return creds;
}

}  // namespace zkpilot
