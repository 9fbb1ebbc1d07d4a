#include "platform/local/process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <thread>

namespace zkpilot {

Result<int> Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return Status::Internal("spawn: empty command");
  // A pipe with O_CLOEXEC tells the parent whether exec succeeded.
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return Status::IOError(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    return Status::IOError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(pipefd[0]);
    auto fail = [&](const char* what) {
      int err = errno;
      std::string msg = std::string(what) + ": " + std::strerror(err);
      (void)!::write(pipefd[1], msg.data(), msg.size());
      ::_exit(127);
    };
    if (options.new_session) ::setsid();
    // Default signal dispositions and mask for the child.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) ::signal(sig, SIG_DFL);
    if (!options.working_dir.empty() && ::chdir(options.working_dir.c_str()) != 0) fail("chdir");
    int in = ::open("/dev/null", O_RDONLY);
    if (in < 0 || ::dup2(in, 0) < 0) fail("stdin");
    if (!options.log_path.empty()) {
      int out = ::open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (out < 0) fail(("open " + options.log_path).c_str());
      if (::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) fail("dup2");
    }
    // Close everything else we inherited (sockets, the state database).
    for (int fd = 3; fd < 1024; ++fd)
      if (fd != pipefd[1]) ::close(fd);
    for (const auto& kv : options.extra_env) ::putenv(const_cast<char*>(kv.c_str()));
    std::vector<char*> argv;
    for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    fail(("exec " + options.argv[0]).c_str());
  }
  ::close(pipefd[1]);
  char buf[512];
  ssize_t n;
  std::string err;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) err.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  if (!err.empty()) {
    ::waitpid(pid, nullptr, 0);
    return Status::IOError(err);
  }
  return static_cast<int>(pid);
}

namespace {
// A /proc file of a process that exits while it is read fails with ESRCH,
// which libstdc++'s filebuf throws as std::ios_base::failure
// (basic_filebuf::underflow) through istreambuf_iterator, ending the whole
// command: read(2) instead, "" when gone.
std::string ReadProcFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      out.clear();
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}
}  // namespace

bool ProcessAlive(int pid, const std::string& marker) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  const std::string cmdline = ReadProcFile("/proc/" + std::to_string(pid) + "/cmdline");
  if (cmdline.empty()) return false;  // a zombie has an empty command line
  // A zombie (exited, not reaped) still has a /proc entry: check its state.
  const std::string stat = ReadProcFile("/proc/" + std::to_string(pid) + "/stat");
  const std::string stat_line = stat.substr(0, stat.find('\n'));
  auto close_paren = stat_line.rfind(')');
  if (close_paren != std::string::npos && close_paren + 2 < stat_line.size() && stat_line[close_paren + 2] == 'Z')
    return false;
  return marker.empty() || cmdline.find(marker) != std::string::npos;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended";
}

Result<std::string> StopProcess(int pid, const std::string& marker, StopMode mode, std::chrono::milliseconds grace) {
  int status = 0;
  if (!ProcessAlive(pid, marker)) {
    if (pid > 0 && ::waitpid(pid, &status, WNOHANG) == pid) return DescribeWaitStatus(status);
    return std::string("not running");
  }
  bool killed = mode == StopMode::kKill;
  ::kill(pid, killed ? SIGKILL : SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + (killed ? std::chrono::milliseconds(10000) : grace);
  while (true) {
    // Our child: waitpid says when it has ended and how (a dying child can
    // look gone in /proc before it can be reaped). Another's: /proc does.
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return DescribeWaitStatus(status);
    if (r < 0 && !ProcessAlive(pid, marker)) return std::string("gone");
    if (!killed && std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      killed = true;
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    } else if (killed && std::chrono::steady_clock::now() >= deadline) {
      return Status::IOError("process " + std::to_string(pid) + " survived SIGKILL");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(killed ? 2 : 20));
  }
}

Status TerminateProcess(int pid, const std::string& marker, std::chrono::milliseconds grace) {
  return StopProcess(pid, marker, StopMode::kTerminate, grace).status();
}

std::string TailFile(const std::string& path, int lines) {
  std::ifstream in(path);
  if (!in) return "";
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += l + "\n";
  return out;
}

bool PortFree(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // SO_REUSEADDR as the JVM sets it: connections in TIME_WAIT on the port do
  // not make it taken; a listener or another bound socket does.
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

Result<int> FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  if (port <= 0) return Status::IOError("no free port on 127.0.0.1");
  return port;
}

std::string SelfExecutable() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "zkpilot";
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace zkpilot

#include <filesystem>
#include <random>

namespace zkpilot {

Result<CommandResult> RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  std::string log = (std::filesystem::temp_directory_path() /
                     ("zkpilot-cmd-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}()) + ".log"))
                        .string();
  SpawnOptions spawn;
  spawn.argv = argv;
  spawn.log_path = log;
  spawn.new_session = false;
  auto pid = Spawn(spawn);
  if (!pid.ok()) {
    std::filesystem::remove(log);
    return pid.status();
  }
  CommandResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(*pid, &status, WNOHANG);
    if (r == *pid) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(*pid, SIGKILL);
      ::waitpid(*pid, &status, 0);
      result.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!result.timed_out && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  std::ifstream in(log);
  result.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::error_code ec;
  std::filesystem::remove(log, ec);
  return result;
}

std::string FindInPath(const std::string& program) {
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0 ? program : "";
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string candidate = p.substr(start, end - start) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

}  // namespace zkpilot
