// Test support for the KubeClient tests: environment variables set for a
// scope, temporary directories, polling with a deadline; for the tests
// against kube-sim, one cluster per test binary (a gtest Environment) and
// its kubeconfig's parts, and a small HTTP CONNECT proxy that counts the
// tunnels it opens.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "platform/kubernetes/kube_client.h"
#include "platform/kubernetes/kubeconfig.h"
#include "util/files.h"
#include "util/yaml_json.h"

namespace zkpilot::kubetest {

// Sets an environment variable for the scope, restoring it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    value ? ::setenv(name, value, 1) : ::unsetenv(name);
  }
  ~ScopedEnv() { old_ ? ::setenv(name_.c_str(), old_->c_str(), 1) : ::unsetenv(name_.c_str()); }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// Output and exit code of a shell command.
inline int RunShell(const std::string& command, std::string* output = nullptr) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int rc = ::pclose(pipe);
  if (output) *output = out;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

inline std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + ".XXXXXX")).string();
  return ::mkdtemp(tmpl.data());
}

inline std::string WriteFile(const std::string& path, const std::string& text, int mode = 0600) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
  std::filesystem::permissions(path, static_cast<std::filesystem::perms>(mode));
  return path;
}

// Polls `done` every 100 ms until it holds or `timeout` passes.
inline bool WaitUntil(std::chrono::milliseconds timeout, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

// The kube-sim cluster of this test binary.
struct KubeSim {
  std::string state_dir;
  std::string kubeconfig;  // its path
  std::string server;      // https://127.0.0.1:port
  std::string port;
  std::string ca_pem;
  std::string token;              // the admin's bearer token
  std::string cert_pem, key_pem;  // the admin's client certificate
};

KubeSim& Sim();  // REQUIRES: the environment is set up

// The admin's connection from the cluster's kubeconfig (context: its current one).
inline KubeConnection AdminConnection(const std::string& context = "") {
  KubeConfigOptions options;
  options.kubeconfig = Sim().kubeconfig;
  options.context = context;
  auto c = LoadKubeConnection(options);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : KubeConnection{};
}

inline std::unique_ptr<KubeClient> Connect(const KubeConnection& connection) {
  auto client = KubeClient::Create(connection);
  EXPECT_TRUE(client.ok()) << client.status().message();
  return client.ok() ? std::move(*client) : nullptr;
}

class KubeSimEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    KubeSim& sim = Sim();
    sim.state_dir = MakeTempDir("kube-client-test");
    // A short watch history makes 410 Gone reachable; a short back-off keeps pods quick.
    ::setenv("KUBE_SIM_WATCH_HISTORY", "150", 1);
    if (!std::getenv("KUBE_SIM_BACKOFF_BASE_MS")) ::setenv("KUBE_SIM_BACKOFF_BASE_MS", "300", 1);
    std::string out;
    int rc = RunShell(Script() + " start --state-dir " + sim.state_dir, &out);
    ASSERT_EQ(rc, 0) << "kube-sim start: " << out;
    sim.kubeconfig = sim.state_dir + "/kubeconfig";
    auto text = ReadFile(sim.kubeconfig);
    ASSERT_TRUE(text.ok());
    auto yaml = ParseYaml(*text, sim.kubeconfig);
    ASSERT_TRUE(yaml.ok());
    auto doc = nlohmann::json::parse(YamlToJson(*yaml).dump());
    sim.server = doc["clusters"][0]["cluster"]["server"];
    sim.port = sim.server.substr(sim.server.rfind(':') + 1);
    sim.ca_pem = *DecodeBase64(doc["clusters"][0]["cluster"]["certificate-authority-data"]);
    for (const auto& u : doc["users"]) {
      if (u["user"].contains("token")) sim.token = u["user"]["token"];
      if (u["user"].contains("client-certificate-data")) {
        sim.cert_pem = *DecodeBase64(u["user"]["client-certificate-data"]);
        sim.key_pem = *DecodeBase64(u["user"]["client-key-data"]);
      }
    }
  }
  void TearDown() override {
    KubeSim& sim = Sim();
    if (sim.state_dir.empty()) return;
    std::string out;
    int rc = RunShell(Script() + " stop --state-dir " + sim.state_dir, &out);
    EXPECT_EQ(rc, 0) << "kube-sim stop: " << out;
    std::filesystem::remove_all(sim.state_dir);
  }
  static std::string Script() {
    return std::string(ZKPILOT_SOURCE_DIR) + "/tests/kube-sim/kube-sim";
  }
};

// An HTTP proxy that opens CONNECT tunnels (and counts them), on 127.0.0.1.
class ConnectProxy {
 public:
  ConnectProxy() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~ConnectProxy() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    ::close(listen_fd_);
    {
      std::lock_guard lock(mu_);
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : relays_) t.join();
    for (int fd : open_fds_) ::close(fd);
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int Tunnels() const { return tunnels_; }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) return;
      std::lock_guard lock(mu_);
      open_fds_.push_back(client);
      relays_.emplace_back([this, client] { Relay(client); });
    }
  }
  void Relay(int client) {
    std::string head;
    char c;
    while (head.find("\r\n\r\n") == std::string::npos && ::read(client, &c, 1) == 1)
      head.push_back(c);
    unsigned port = 0;
    char host[256] = "";
    int upstream = -1;
    if (std::sscanf(head.c_str(), "CONNECT %255[^:]:%u HTTP/1.1", host, &port) == 2) {
      upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(port));
      ::inet_pton(AF_INET, host, &addr.sin_addr);
      if (::connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(upstream);
        upstream = -1;
      }
    }
    if (upstream < 0) {
      const char* refused = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n";
      (void)!::write(client, refused, strlen(refused));
      ::shutdown(client, SHUT_RDWR);
      return;
    }
    ++tunnels_;
    {
      std::lock_guard lock(mu_);
      open_fds_.push_back(upstream);
    }
    const char* ok = "HTTP/1.1 200 Connection established\r\n\r\n";
    (void)!::write(client, ok, strlen(ok));
    pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
    char buf[16384];
    for (bool open = true; open;) {
      if (::poll(fds, 2, -1) < 0) break;
      for (int i = 0; i < 2 && open; ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n <= 0 || ::write(fds[1 - i].fd, buf, static_cast<size_t>(n)) != n) open = false;
      }
    }
    ::shutdown(client, SHUT_RDWR);
    ::shutdown(upstream, SHUT_RDWR);
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> tunnels_{0};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> open_fds_;  // closed when the proxy goes
  std::vector<std::thread> relays_;
};

}  // namespace zkpilot::kubetest
