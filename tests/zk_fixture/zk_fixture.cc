#include "zk_fixture/zk_fixture.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "zk/four_letter.h"
#include "zk/zk_client.h"

extern char** environ;

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kStartAttempts = 3;
constexpr auto kPollInterval = std::chrono::milliseconds(100);

// Binds a socket to 127.0.0.1:`port` (0: any free port); returns the fd and
// the bound port, or -1.
int BindLoopback(int port, int* bound_port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return -1;
  }
  *bound_port = ntohs(addr.sin_port);
  return fd;
}

// `count` distinct ports that were free a moment ago: all are held at once
// (so they differ), released, then each is bound once more to re-check.
Result<std::vector<int>> PickFreePorts(int count) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::vector<int> fds, ports;
    for (int i = 0; i < count; ++i) {
      int port = 0;
      int fd = BindLoopback(0, &port);
      if (fd < 0) break;
      fds.push_back(fd);
      ports.push_back(port);
    }
    for (int fd : fds) ::close(fd);
    if (static_cast<int>(ports.size()) != count) continue;
    bool all_free = true;
    for (int port : ports) {
      int rebound = 0;
      int fd = BindLoopback(port, &rebound);
      if (fd < 0) {
        all_free = false;
        break;
      }
      ::close(fd);
    }
    if (all_free) return ports;
  }
  return Status::IOError(fmt::format("cannot find {} free ports on 127.0.0.1", count));
}

Status WriteTextFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::IOError(fmt::format("write {}: failed", path.string()));
  return Status::Ok();
}

// The zoo.cfg lines of a TLS-only server, checked against ZooKeeper 3.8.0:
//  - no clientPort and no client address in the server lines: the server
//    then has no plaintext client port at all (QuorumPeerConfig.parseProperties
//    leaves clientPortAddress null; setupClientPort keeps it so);
//  - secureClientPortAddress: otherwise the port is bound on every address;
//  - keys ZooKeeper does not know become system properties "zookeeper.<key>"
//    (QuorumPeerConfig.parseProperties), which is how serverCnxnFactory,
//    ssl.*, authProvider.x509 and X509AuthenticationProvider.superUser arrive;
//  - the Netty factory is the one that speaks TLS (NettyServerCnxnFactory);
//    it asks for a client certificate (ssl.clientAuth defaults to need) and
//    maps it to x509:<subject DN>, the super user when the DN equals
//    zookeeper.X509AuthenticationProvider.superUser
//    (NettyServerCnxnFactory.CertificateVerifier ->
//    X509AuthenticationProvider.handleAuthentication);
//  - PEM stores: PEMFileLoader reads a PKCS#8 key and the certificate from
//    one file; the client port does not check the client's host name
//    (ClientX509Util.shouldVerifyClientHostname), the quorum does
//    (QuorumX509Util), so the server certificate carries IP:127.0.0.1.
std::string TlsConfig(const ZkTestTls& tls, int secure_port) {
  std::string cfg = fmt::format(
      "serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory\n"
      "secureClientPort={}\n"
      "secureClientPortAddress=127.0.0.1\n"
      "ssl.keyStore.location={}\n"
      "ssl.keyStore.type=PEM\n"
      "ssl.trustStore.location={}\n"
      "ssl.trustStore.type=PEM\n"
      "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider\n"
      "X509AuthenticationProvider.superUser={}\n",
      secure_port, tls.client_pem.empty() ? tls.server_pem : tls.client_pem, tls.ca_file,
      tls.super_user_dn);
  if (tls.ssl_quorum) {
    cfg += fmt::format(
        "sslQuorum=true\n"
        "ssl.quorum.keyStore.location={}\n"
        "ssl.quorum.keyStore.type=PEM\n"
        "ssl.quorum.trustStore.location={}\n"
        "ssl.quorum.trustStore.type=PEM\n",
        tls.server_pem, tls.ca_file);
  }
  return cfg;
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with code {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
  return "stopped";
}

}  // namespace

ZkTestEnsemble::ZkTestEnsemble(fs::path dir, ZkTestEnsembleOptions options)
    : dir_(std::move(dir)), options_(std::move(options)) {}

ZkTestEnsemble::~ZkTestEnsemble() {
  for (Server& server : servers_) {
    if (server.pid > 0) {
      ::kill(server.pid, SIGKILL);
      ::waitpid(server.pid, nullptr, 0);
      server.pid = 0;
    }
  }
  if (!options_.keep_dir && !dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
}

Result<std::unique_ptr<ZkTestEnsemble>> ZkTestEnsemble::Start(int servers,
                                                              ZkTestEnsembleOptions options) {
  if (servers < 1)
    return Status::InvalidInput(fmt::format("zk test ensemble: {} servers", servers));
  Status last;
  for (int attempt = 1; attempt <= kStartAttempts; ++attempt) {
    std::string tmpl = (fs::temp_directory_path() / "zkpilot-zk-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      return Status::IOError(fmt::format("mkdtemp {}: {}", tmpl, std::strerror(errno)));
    }
    std::unique_ptr<ZkTestEnsemble> ensemble(new ZkTestEnsemble(tmpl, options));
    ZK_ASSIGN_OR_RETURN(std::vector<int> ports, PickFreePorts(servers * 5));
    for (int id = 1; id <= servers; ++id) {
      Server server;
      server.id = id;
      size_t base = static_cast<size_t>(id - 1) * 5;
      server.client_port = ports[base];
      server.quorum_port = ports[base + 1];
      server.election_port = ports[base + 2];
      server.admin_port = ports[base + 3];
      server.plaintext_port = ports[base + 4];
      server.dir = ensemble->dir_ / fmt::format("server.{}", id);
      ensemble->servers_.push_back(server);
    }
    ZK_RETURN_IF_ERROR(ensemble->WriteConfigs());
    for (Server& server : ensemble->servers_) ZK_RETURN_IF_ERROR(ensemble->Spawn(server));
    last = ensemble->WaitUntilServing();
    if (last.ok()) return ensemble;

    // Another process may have taken a port between picking and binding.
    bool port_clash = false;
    for (int id = 1; id <= servers; ++id) {
      port_clash = port_clash ||
                   ensemble->LogTail(id, 1000).find("Address already in use") != std::string::npos;
    }
    if (!port_clash) break;
  }
  return last.WithContext(fmt::format("start {} ZooKeeper server(s)", servers));
}

Status ZkTestEnsemble::WriteConfigs() {
  std::string members;
  for (int id = 1; id <= size(); ++id) members += ServerLine(id) + "\n";
  for (Server& server : servers_) {
    std::error_code ec;
    fs::create_directories(server.dir / "data", ec);
    if (ec)
      return Status::IOError(
          fmt::format("mkdir {}: {}", (server.dir / "data").string(), ec.message()));
    std::string cfg = fmt::format(
        "tickTime={}\n"
        "initLimit=10\n"
        "syncLimit=5\n"
        "dataDir={}\n"
        "4lw.commands.whitelist={}\n"
        "admin.enableServer=true\n"
        "admin.serverAddress=127.0.0.1\n"
        "admin.serverPort={}\n"
        "reconfigEnabled={}\n"
        "standaloneEnabled=false\n"
        "preAllocSize=1024\n"
        "forceSync=no\n",
        options_.tick_time_ms, (server.dir / "data").string(), options_.four_letter_whitelist,
        server.admin_port, options_.reconfig_enabled ? "true" : "false");
    if (options_.tls) cfg += TlsConfig(*options_.tls, server.client_port);
    for (const std::string& line : options_.extra_config) cfg += line + "\n";
    cfg += members;
    ZK_RETURN_IF_ERROR(WriteTextFile(server.dir / "zoo.cfg", cfg));
    ZK_RETURN_IF_ERROR(WriteTextFile(server.dir / "data" / "myid", fmt::format("{}\n", server.id)));
  }
  return Status::Ok();
}

Status ZkTestEnsemble::Spawn(Server& server) {
  std::vector<std::string> args = {
      options_.java,
      "-Xmx" + options_.max_heap,
      "-Djava.net.preferIPv4Stack=true",
      "-Dzookeeper.log.dir=" + server.dir.string(),
      "-Dorg.slf4j.simpleLogger.showDateTime=true",
      "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
  };
  args.insert(args.begin() + 2, options_.jvm_flags.begin(), options_.jvm_flags.end());
  if (!options_.super_password.empty()) {
    args.push_back("-Dzookeeper.DigestAuthenticationProvider.superDigest=" +
                   DigestId("super", options_.super_password));
  }
  args.insert(args.end(), {"-cp", server.dir.string() + ":" + options_.classpath,
                           "org.apache.zookeeper.server.quorum.QuorumPeerMain",
                           (server.dir / "zoo.cfg").string()});
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const std::string log_path = (server.dir / "server.log").string();
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0)
    return Status::IOError(fmt::format("open {}: {}", log_path, std::strerror(errno)));
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const std::string work_dir = server.dir.string();
  const pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::close_range(3, ~0U, 0);
    if (::chdir(work_dir.c_str()) != 0) ::_exit(127);
    ::execve(argv[0], argv.data(), environ);
    ::_exit(127);
  }
  int fork_errno = errno;
  ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  if (pid < 0)
    return Status::IOError(
        fmt::format("fork for server {}: {}", server.id, std::strerror(fork_errno)));
  server.pid = pid;
  return Status::Ok();
}

Status ZkTestEnsemble::CheckAlive(int id) {
  Server& server = At(id);
  if (server.pid <= 0) return Status::IOError(fmt::format("server {}: not running", id));
  int status = 0;
  pid_t done = ::waitpid(server.pid, &status, WNOHANG);
  if (done == 0) return Status::Ok();
  const pid_t pid = server.pid;
  server.pid = 0;
  std::string what = done < 0 ? std::string(std::strerror(errno)) : DescribeExit(status);
  if (done > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    what += fmt::format(" (could not run {}?)", options_.java);
  }
  return Status::IOError(fmt::format("server {} (pid {}): {}", id, pid, what));
}

Status ZkTestEnsemble::CheckListsItself(const AdminClient& admin, int id) const {
  ZK_ASSIGN_OR_RETURN(auto conf, admin.Conf(Client(id)));
  std::string key = fmt::format("server.{}", id);
  auto it = conf.find(key);
  std::string expected = ServerLine(id).substr(key.size() + 1);
  if (it == conf.end()) return Status::IOError(fmt::format("its config does not list {}", key));
  if (it->second != expected && it->second != ReconfigLine(id).substr(key.size() + 1)) {
    return Status::IOError(
        fmt::format("its config has {}={}, expected {}", key, it->second, expected));
  }
  return Status::Ok();
}

Status ZkTestEnsemble::WaitUntilServing(std::vector<int> ids) {
  if (ids.empty()) {
    for (int id = 1; id <= size(); ++id) ids.push_back(id);
  }
  const AdminClient admin = Probe(std::chrono::milliseconds(1000));
  const bool check_membership = options_.four_letter_whitelist.find("conf") != std::string::npos;
  const Clock::time_point deadline = Clock::now() + options_.start_timeout;
  std::map<int, std::string> last_state;
  for (;;) {
    bool all_serving = true;
    for (int id : ids) {
      Status alive = CheckAlive(id);
      if (!alive.ok()) {
        return Status::IOError(
            fmt::format("{}\n--- server {} log (tail) ---\n{}", alive.message(), id, LogTail(id)));
      }
      Result<SrvrInfo> info = admin.Srvr(Client(id));
      if (info.ok() && (info->mode == "leader" || info->mode == "follower")) {
        // A server just removed by reconfig may still claim its old role for a
        // moment; a member lists itself in its own config.
        Status member = check_membership ? CheckListsItself(admin, id) : Status::Ok();
        if (member.ok()) {
          last_state[id] = info->mode;
          continue;
        }
        last_state[id] = fmt::format("mode {}, but {}", info->mode, member.message());
      } else {
        last_state[id] = info.ok() ? "mode " + info->mode : info.status().message();
      }
      all_serving = false;
    }
    if (all_serving) return Status::Ok();
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  std::string message = fmt::format(
      "servers not all leader/follower within {}ms:",
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.start_timeout).count());
  for (const auto& [id, state] : last_state) message += fmt::format("\n  server {}: {}", id, state);
  for (int id : ids) message += fmt::format("\n--- server {} log (tail) ---\n{}", id, LogTail(id));
  return Status::IOError(message);
}

Status ZkTestEnsemble::Kill(int id) {
  if (id < 1 || id > size())
    return Status::InvalidInput(fmt::format("kill server {}: no such server", id));
  Server& server = At(id);
  if (server.pid <= 0) return Status::InvalidInput(fmt::format("kill server {}: not running", id));
  if (::kill(server.pid, SIGKILL) != 0 && errno != ESRCH) {
    return Status::IOError(
        fmt::format("kill server {} (pid {}): {}", id, server.pid, std::strerror(errno)));
  }
  ::waitpid(server.pid, nullptr, 0);
  server.pid = 0;
  return Status::Ok();
}

Status ZkTestEnsemble::Restart(int id) {
  if (id < 1 || id > size())
    return Status::InvalidInput(fmt::format("restart server {}: no such server", id));
  if (At(id).pid > 0) ZK_RETURN_IF_ERROR(Kill(id));
  return Spawn(At(id));
}

std::string ZkTestEnsemble::ConnectString() const {
  std::vector<int> ids;
  for (int id = 1; id <= size(); ++id) ids.push_back(id);
  return ConnectString(ids);
}

std::string ZkTestEnsemble::ConnectString(const std::vector<int>& ids) const {
  std::string out;
  for (int id : ids) {
    if (!out.empty()) out += ",";
    out += Client(id).ToString();
  }
  return out;
}

Endpoint ZkTestEnsemble::Client(int id) const {
  return Endpoint{"127.0.0.1", At(id).client_port, options_.tls ? options_.tls->tls_name : ""};
}

Endpoint ZkTestEnsemble::PlaintextClient(int id) const {
  return Endpoint{"127.0.0.1", At(id).plaintext_port};
}

Endpoint ZkTestEnsemble::Admin(int id) const { return Endpoint{"127.0.0.1", At(id).admin_port}; }

AdminClient ZkTestEnsemble::Probe(std::chrono::milliseconds timeout) const {
  if (options_.tls) return AdminClient(timeout, options_.tls->client);
  return AdminClient(timeout);
}

std::string ZkTestEnsemble::ServerLine(int id) const {
  const Server& s = At(id);
  if (options_.tls && options_.tls->plaintext_too) {
    return fmt::format("server.{}=127.0.0.1:{}:{}:participant;127.0.0.1:{}", id, s.quorum_port,
                       s.election_port, s.plaintext_port);
  }
  if (options_.tls) {
    return fmt::format("server.{}=127.0.0.1:{}:{}:participant", id, s.quorum_port, s.election_port);
  }
  return fmt::format("server.{}=127.0.0.1:{}:{}:participant;127.0.0.1:{}", id, s.quorum_port,
                     s.election_port, s.client_port);
}

std::string ZkTestEnsemble::ReconfigLine(int id) const {
  if (options_.tls && !options_.tls->plaintext_too)
    return ServerLine(id) + ";" + Client(id).ToString();
  return ServerLine(id);
}

pid_t ZkTestEnsemble::Pid(int id) const { return At(id).pid; }

std::string ZkTestEnsemble::LogTail(int id, int lines) const {
  std::ifstream in(At(id).dir / "server.log");
  if (!in) return "(no log)";
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  std::string out;
  for (const std::string& l : tail) out += l + "\n";
  return out;
}

}  // namespace zkpilot
