#include "local_test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
// The synchronous C API (zoo_get_acl) is declared only with THREADED; the
// test links libzookeeper_mt through zkpilot_zk.
#ifndef THREADED
#define THREADED
#endif
#include <zookeeper/zookeeper.h>

#include "platform/local/paths.h"
#include "state/state_store.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

extern char** environ;

namespace zkpilot::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The test's environment with `overrides` ("KEY=value") replacing or added.
std::vector<std::string> Environment(const std::vector<std::string>& overrides) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    env[kv.substr(0, kv.find('='))] = kv;
  }
  for (const auto& kv : overrides) env[kv.substr(0, kv.find('='))] = kv;
  std::vector<std::string> out;
  for (auto& [k, kv] : env) out.push_back(kv);
  return out;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int BoundSocket(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void IgnoreWatch(zhandle_t*, int, int, const char*, void*) {}

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv, const RunOptions& options) {
  static std::atomic<int> counter{0};
  const std::string stem = options.capture_dir + "/run-" + std::to_string(++counter);
  const std::string out_path = stem + ".out", err_path = stem + ".err";
  // Everything the child needs is prepared before fork(): the test process
  // has threads (ZooKeeper clients), so the child may only make system calls.
  std::vector<std::string> args = argv, env = Environment(options.env);
  std::vector<char*> c_args = CStrings(args), c_env = CStrings(env);
  ProcessResult result;
  pid_t pid = ::fork();
  if (pid < 0) return result;
  if (pid == 0) {
    if (!options.working_dir.empty() && ::chdir(options.working_dir.c_str()) != 0) ::_exit(126);
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 ||
        ::dup2(err, 2) < 0)
      ::_exit(126);
    for (int fd = 3; fd < 1024; ++fd) ::close(fd);
    ::execve(c_args[0], c_args.data(), c_env.data());
    ::_exit(127);
  }
  const auto deadline = Clock::now() + options.timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  result.exit_code = !result.timed_out && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadAll(out_path);
  result.err = ReadAll(err_path);
  ::unlink(out_path.c_str());
  ::unlink(err_path.c_str());
  return result;
}

bool PortBindable(int port) {
  int fd = BoundSocket(port);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

int FindFreePortBlock(int span) {
  static std::mutex mu;
  static std::vector<int> handed_out;  // bases
  std::lock_guard<std::mutex> lock(mu);
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(10000, 32000 - span - 1);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int base = pick(rng);
    bool overlaps = false;
    for (int b : handed_out) overlaps = overlaps || (base <= b + span && b <= base + span);
    if (overlaps) continue;
    bool free = true;
    for (int p = base; p <= base + span && free; ++p) free = PortBindable(p);
    if (!free) continue;
    handed_out.push_back(base);
    return base;
  }
  return 0;
}

Listener::Listener(int port) : fd_(BoundSocket(port)) {}
Listener::~Listener() {
  if (fd_ >= 0) ::close(fd_);
}

bool PidAlive(int pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  auto paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] != 'Z';
}

std::string Cmdline(int pid) {
  std::string s = ReadAll("/proc/" + std::to_string(pid) + "/cmdline");
  for (char& c : s)
    if (c == '\0') c = ' ';
  return s;
}

std::vector<int> PidsWithCmdline(const std::string& needle) {
  std::vector<int> pids;
  DIR* proc = ::opendir("/proc");
  if (!proc) return pids;
  while (dirent* e = ::readdir(proc)) {
    const int pid = std::atoi(e->d_name);
    if (pid <= 0 || pid == ::getpid()) continue;
    if (Cmdline(pid).find(needle) != std::string::npos && PidAlive(pid)) pids.push_back(pid);
  }
  ::closedir(proc);
  return pids;
}

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

Result<std::string> ZnodeAcl(const std::string& connect_string, const std::string& path,
                             const std::string& digest_credentials) {
  zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
  zhandle_t* zh = zookeeper_init(connect_string.c_str(), IgnoreWatch, 10000, nullptr, nullptr, 0);
  if (!zh) return Status::IOError("getAcl " + path + ": cannot create a ZooKeeper handle");
  if (!WaitUntil([&] { return zoo_state(zh) == ZOO_CONNECTED_STATE; }, std::chrono::seconds(15),
                 std::chrono::milliseconds(20))) {
    zookeeper_close(zh);
    return Status::IOError("getAcl " + path + ": no session with " + connect_string +
                           " within 15s");
  }
  // The C client sends a session's credentials before the requests queued after them.
  if (!digest_credentials.empty())
    zoo_add_auth(zh, "digest", digest_credentials.data(),
                 static_cast<int>(digest_credentials.size()), nullptr, nullptr);
  ACL_vector acl{};
  struct Stat stat {};
  const int rc = zoo_get_acl(zh, path.c_str(), &acl, &stat);
  std::string out;
  if (rc == ZOK) {
    for (int32_t i = 0; i < acl.count; ++i) {
      const ACL& a = acl.data[i];
      std::string perms;
      for (auto [bit, letter] : {std::pair{ZOO_PERM_CREATE, 'c'},
                                 {ZOO_PERM_DELETE, 'd'},
                                 {ZOO_PERM_READ, 'r'},
                                 {ZOO_PERM_WRITE, 'w'},
                                 {ZOO_PERM_ADMIN, 'a'}})
        if (a.perms & bit) perms += letter;
      out += (out.empty() ? "" : ",") + std::string(a.id.scheme) + ":" + a.id.id + ":" + perms;
    }
    deallocate_ACL_vector(&acl);
  }
  zookeeper_close(zh);
  if (rc != ZOK) return Status::IOError("getAcl " + path + ": " + zerror(rc));
  return out;
}

}  // namespace zkpilot::testing

namespace zkpilot::testing {

std::string DistributionStore() {
  const char* set = std::getenv("ZKPILOT_DISTRIBUTIONS");
  if (set && *set) return set;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "/root") + "/.local/state/zkpilot/distributions";
}

bool TestHome::Create(const std::string& prefix, int port_span, std::string* error) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    *error = "mkdtemp failed";
    return false;
  }
  root_ = tmpl;
  home_ = root_ + "/home";
  capture_ = root_ + "/capture";
  std::filesystem::create_directories(capture_);
  base_ = FindFreePortBlock(port_span);
  if (base_ <= 0) *error = "no block of " + std::to_string(port_span) + " free ports on 127.0.0.1";
  return base_ > 0;
}

std::vector<std::string> TestHome::Env() const {
  // A port registry of the test's own (tests that share one set it), and
  // the guardian whatever the machine has (systemd would outlive Cleanup).
  return {"ZKPILOT_HOME=" + home_, "ZKPILOT_DISTRIBUTIONS=" + DistributionStore(),
          "ZKPILOT_PORTS_DIR=" + root_ + "/ports", "ZKPILOT_SUPERVISION=guardian"};
}

bool TestHome::Cleanup(const std::string& zkpilot) {
  if (root_.empty()) return true;
  std::set<int> pids;
  std::vector<std::string> names;
  if (std::filesystem::exists(StateDbPath(home_))) {
    auto store = StateStore::Open(StateDbPath(home_));
    auto clusters = store.ok() ? (*store)->ListClusters() : Result<std::vector<ClusterRecord>>(store.status());
    for (const auto& c : clusters.ok() ? *clusters : std::vector<ClusterRecord>{}) {
      names.push_back(c.name);
      auto nodes = (*store)->ListNodes(c.name);
      for (const auto& n : nodes.ok() ? *nodes : std::vector<NodeRecord>{}) pids.insert(n.pid);
    }
  }
  for (int pid : PidsWithCmdline(home_)) pids.insert(pid);
  for (const auto& name : names) (void)RunProcess({zkpilot, "delete", name, "--purge-data"}, {Env(), "", capture_});
  for (int pid : PidsWithCmdline(home_)) pids.insert(pid);
  // A recorded PID may have been reused: kill only what belongs to this home.
  for (int pid : pids)
    if (PidAlive(pid) && Cmdline(pid).find(home_) != std::string::npos) ::kill(pid, SIGKILL);
  const bool gone = WaitUntil([&] { return PidsWithCmdline(home_).empty(); }, std::chrono::seconds(30));
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
  root_.clear();
  return gone;
}

}  // namespace zkpilot::testing
