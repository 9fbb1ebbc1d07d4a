#include "kube_sim_fixture/kube_sim_env.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

namespace zkpilot::kubesim {
namespace {

namespace fs = std::filesystem;

constexpr char kStateEnv[] = "ZKPILOT_KUBE_SIM_STATE_DIR";

std::string Script() { return std::string(ZKPILOT_SOURCE_DIR) + "/tests/kube-sim/kube-sim"; }

// Runs argv, waits; stdout+stderr into `output` when given (else inherited).
int Run(const std::vector<std::string>& argv, std::string* output,
        const std::string* input = nullptr) {
  int pipefd[2] = {-1, -1};
  int infd[2] = {-1, -1};
  if (output && ::pipe(pipefd) != 0) return 127;
  if (input && ::pipe(infd) != 0) return 127;
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (input) {
      ::dup2(infd[0], 0);
      ::close(infd[0]);
      ::close(infd[1]);
    }
    if (output) {
      ::dup2(pipefd[1], 1);
      ::dup2(pipefd[1], 2);
      ::close(pipefd[0]);
      ::close(pipefd[1]);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  if (input) {
    ::close(infd[0]);
    for (size_t off = 0; off < input->size();) {
      const ssize_t n = ::write(infd[1], input->data() + off, input->size() - off);
      if (n <= 0) break;
      off += n;
    }
    ::close(infd[1]);
  }
  if (output) {
    ::close(pipefd[1]);
    output->clear();
    char buf[4096];
    for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) output->append(buf, n);
    ::close(pipefd[0]);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace

std::string StateDir() {
  const char* dir = std::getenv(kStateEnv);
  return dir ? dir : "";
}

std::string Kubeconfig() { return StateDir() + "/kubeconfig-inside"; }

std::optional<int> RunInside(int argc, char** argv) {
  if (!StateDir().empty()) {
    // Inside: the API is the `kubernetes` Service, which the serving certificate names.
    std::ifstream in(StateDir() + "/kubeconfig");
    std::stringstream text;
    text << in.rdbuf();
    const std::string inside =
        std::regex_replace(text.str(), std::regex(R"(server: https://127\.0\.0\.1:\d+)"),
                           "server: https://10.96.0.1:443");
    std::ofstream(Kubeconfig()) << inside;
    ::setenv("KUBECONFIG", Kubeconfig().c_str(), 1);
    return std::nullopt;
  }
  char tmpl[] = "/tmp/zkpilot-kube-sim.XXXXXX";
  if (!::mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string dir = tmpl;
  std::string out;
  if (Run({Script(), "start", "--state-dir", dir}, &out) != 0) {
    std::cerr << "kube-sim start failed:\n" << out << "\n";
    (void)Run({Script(), "stop", "--state-dir", dir}, &out);
    fs::remove_all(dir);
    return 1;
  }
  ::setenv(kStateEnv, dir.c_str(), 1);
  std::vector<std::string> inner = {Script(), "run", "--state-dir",
                                    dir,      "--",  fs::canonical("/proc/self/exe").string()};
  for (int i = 1; i < argc; ++i) inner.push_back(argv[i]);
  const int code = Run(inner, nullptr);
  if (code != 0) {
    std::cerr << "--- the cluster's log (last 40 lines):\n";
    (void)Run({"tail", "-n", "40", dir + "/kube-sim.log"}, nullptr);
  }
  (void)Run({Script(), "stop", "--state-dir", dir}, &out);
  std::error_code ec;
  fs::remove_all(dir, ec);
  return code;
}

std::unique_ptr<KubeClient> Client(const std::string& ns) {
  KubeConfigOptions options;
  options.kubeconfig = Kubeconfig();
  options.namespace_ = ns;
  auto connection = LoadKubeConnection(options);
  if (!connection.ok()) {
    std::cerr << "kubeconfig: " << connection.status().message() << "\n";
    std::abort();
  }
  auto client = KubeClient::Create(*connection);
  if (!client.ok()) {
    std::cerr << "client: " << client.status().message() << "\n";
    std::abort();
  }
  return std::move(client).value();
}

int Kubectl(const std::vector<std::string>& args, std::string* output, const std::string& input) {
  std::vector<std::string> argv = {"kubectl", "--kubeconfig", Kubeconfig(), "--cache-dir",
                                   StateDir() + "/kubectl-cache"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  const int code = Run(argv, &out, input.empty() ? nullptr : &input);
  if (output) *output = out;
  return code;
}

std::string NewNamespace(const std::string& prefix) {
  static std::atomic<int> counter{0};
  const std::string name = prefix + "-" + std::to_string(++counter);
  std::string out;
  if (Kubectl({"create", "namespace", name}, &out) != 0) {
    std::cerr << "kubectl create namespace " << name << ": " << out << "\n";
    std::abort();
  }
  return name;
}

}  // namespace zkpilot::kubesim
