// zkpilot-soak: a bounded random soak of the local platform.
//
//   zkpilot_soak [--seconds 240] [--seed N]
//
// Two clusters ("soak-a", "soak-b") in one ZKPILOT_HOME, each with a
// WriteChecker (tests/write_checker/) writing through the whole run. Until the
// time is up, a random cluster gets a random operation or fault:
//   operations  configure (a rolling tickTime change), restart, upgrade to the
//               other version, rollback, scale 3 <-> 5
//   faults      kill -9 of a server, of the supervisor, of zkpilot in the
//               middle of a restart (then `resume`), SIGSTOP of a server (the
//               supervisor's liveness check must kill and restart it), two
//               restarts started together (exactly one runs, the other is
//               refused naming it)
// After each step the cluster must become healthy again (`status` exit 0)
// within a deadline. At the end: every acknowledged write of both checkers is
// present, each cluster is healthy and on its recorded revision, and after
// `delete --purge-data` no process of the home runs and no port of its block
// is taken. Prints what it did and exits 0 only when all of that holds.
//
// Not part of the default CTest run (it takes minutes); scripts/soak.sh runs
// it, and CI runs that.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "local_test_util.h"
#include "platform/local/process.h"
#include "write_checker/write_checker.h"

namespace zkpilot {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::ProcessResult;
using Clock = std::chrono::steady_clock;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";
constexpr int kClusterSpan = 60;        // 5 servers use base..base+43, add-ons above
constexpr auto kHealthyWithin = 180s;   // after any step, on a loaded 2-core machine

struct Cluster {
  std::string name;
  int base = 0;
  int replicas = 3;
  std::string version = "3.8.0";
  int tick = 2000;
  std::unique_ptr<testing::WriteChecker> checker;
};

class Soak {
 public:
  Soak(testing::TestHome& world, uint32_t seed, std::vector<std::string> without)
      : world_(world), rng_(seed), without_(std::move(without)) {}

  // Runs until `deadline`; false (with the reason printed) at the first failure.
  bool Run(Clock::time_point deadline);
  // Stops the checkers and checks the writes, the clusters, then deletes them.
  bool Finish();
  void PrintCounts() const;

 private:
  ProcessResult Zk(std::vector<std::string> args) {
    args.insert(args.begin(), ZKPILOT_BINARY);
    return testing::RunProcess(args, {world_.Env(), ZKPILOT_SOURCE_DIR, world_.capture(), 15min});
  }
  bool Ok(const std::string& what, const ProcessResult& r) {
    if (r.exit_code == 0) return true;
    std::fprintf(stderr, "soak: %s failed (exit %d):\n%s\n", what.c_str(), r.exit_code, r.All().c_str());
    return false;
  }
  json Status(const Cluster& c, int* code = nullptr) {
    ProcessResult r = Zk({"status", c.name, "-o", "json"});
    if (code) *code = r.exit_code;
    json j = json::parse(r.out, nullptr, false);
    return j.is_discarded() ? json::object() : j;
  }
  bool Healthy(Cluster& c, const std::string& after) {
    int code = -1;
    if (testing::WaitUntil([&] { return (Status(c, &code), code == 0); }, kHealthyWithin, 500ms)) return true;
    std::fprintf(stderr, "soak: %s not healthy %lds after %s:\n%s\n", c.name.c_str(),
                 static_cast<long>(kHealthyWithin.count()), after.c_str(), Status(c).dump(2).c_str());
    return false;
  }
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  // PID of a random running server of `c` (0 when none is recorded).
  int RandomServerPid(Cluster& c) {
    json s = Status(c);
    std::vector<int> pids;
    for (const auto& n : s.value("nodes", json::array()))
      if (n.value("pid", 0) > 0) pids.push_back(n["pid"].get<int>());
    return pids.empty() ? 0 : pids[Pick(static_cast<int>(pids.size()))];
  }
  bool Deploy(Cluster& c);
  bool Step(Cluster& c);
  bool KillZkpilotMidRestart(Cluster& c);
  bool TwoRestartsAtOnce(Cluster& c);

  testing::TestHome& world_;
  std::mt19937 rng_;
  std::vector<std::string> without_;  // step kinds not to run
  std::vector<Cluster> clusters_;
  std::map<std::string, int> operations_, faults_;
  int64_t acknowledged_ = 0, lost_ = 0, failed_writes_ = 0;
};

bool Soak::Deploy(Cluster& c) {
  // A hung (SIGSTOPped) server is killed after 15 s of silence instead of
  // the default 60: more steps fit in the run.
  if (!Ok("deploy " + c.name,
          Zk({"deploy", c.name, kPackage, "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--set", "clientPort=" + std::to_string(c.base), "--set",
              "liveness.timeoutSeconds=15", "--set", "version=" + c.version, "--timeout", "120"})))
    return false;
  testing::WriteCheckerOptions options;
  for (int id = 1; id <= 3; ++id) options.servers.push_back({id, {"127.0.0.1", c.base + (id - 1) * 10}});
  options.write_interval = 20ms;
  c.checker = std::make_unique<testing::WriteChecker>(options);
  if (auto s = c.checker->Start(); !s.ok()) {
    std::fprintf(stderr, "soak: write checker on %s: %s\n", c.name.c_str(), s.message().c_str());
    return false;
  }
  return true;
}

// zkpilot SIGKILLed while it restarts the ensemble, then `resume` finishes.
bool Soak::KillZkpilotMidRestart(Cluster& c) {
  SpawnOptions spawn;
  spawn.argv = {ZKPILOT_BINARY, "restart", c.name, "--timeout", "120"};
  spawn.working_dir = ZKPILOT_SOURCE_DIR;
  spawn.log_path = world_.capture() + "/killed-restart.log";
  spawn.extra_env = world_.Env();
  auto pid = Spawn(spawn);
  if (!pid.ok()) return false;
  // Somewhere in the roll: between 0.3 and 6 s after it started.
  const auto wait = std::chrono::milliseconds(300 + Pick(5700));
  testing::WaitUntil([&] { return !testing::PidAlive(*pid); }, wait, 50ms);
  ::kill(*pid, SIGKILL);
  ::waitpid(*pid, nullptr, 0);
  // Killed before it journaled its plan (still validating), or after it had
  // finished: then there is nothing to resume, and `resume` says so.
  ProcessResult resumed = Zk({"resume", c.name, "--timeout", "120"});
  if (resumed.exit_code == 2 && resumed.err.find("has no interrupted operation to resume") != std::string::npos)
    return true;
  return Ok("resume " + c.name + " after kill -9 of zkpilot", resumed);
}

// Two `restart`s of one cluster started at the same instant: one runs, the
// other is refused because the first holds the cluster.
bool Soak::TwoRestartsAtOnce(Cluster& c) {
  std::vector<int> pids;
  std::vector<std::string> logs;
  for (int i = 0; i < 2; ++i) {
    SpawnOptions spawn;
    spawn.argv = {ZKPILOT_BINARY, "restart", c.name, "--timeout", "120"};
    spawn.working_dir = ZKPILOT_SOURCE_DIR;
    logs.push_back(world_.capture() + "/together-" + std::to_string(i) + ".log");
    spawn.log_path = logs.back();
    std::remove(spawn.log_path.c_str());
    spawn.extra_env = world_.Env();
    auto pid = Spawn(spawn);
    if (!pid.ok()) return false;
    pids.push_back(*pid);
  }
  int ran = 0, refused = 0;
  for (size_t i = 0; i < pids.size(); ++i) {
    int status = 0;
    ::waitpid(pids[i], &status, 0);
    std::ifstream in(logs[i]);
    std::stringstream text;
    text << in.rdbuf();
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == 0) ++ran;
    else if (code == 1 && text.str().find("is being changed by `restart`") != std::string::npos) ++refused;
    else std::fprintf(stderr, "soak: restart %zu of two together: exit %d:\n%s\n", i, code, text.str().c_str());
  }
  if (ran == 1 && refused == 1) return true;
  std::fprintf(stderr, "soak: two restarts together: %d ran, %d refused (want 1 and 1)\n", ran, refused);
  return false;
}

bool Soak::Step(Cluster& c) {
  const std::vector<std::string> kinds = {"configure", "restart",         "upgrade",        "rollback",
                                          "scale",     "kill server",     "kill supervisor", "kill zkpilot",
                                          "sigstop server", "two commands together"};
  std::vector<std::string> allowed;
  for (const auto& k : kinds)
    if (std::find(without_.begin(), without_.end(), k) == without_.end()) allowed.push_back(k);
  std::string kind = allowed.empty() ? "restart" : allowed[Pick(static_cast<int>(allowed.size()))];
  if (kind == "rollback") {  // needs an earlier revision
    json history = json::parse(Zk({"history", c.name, "-o", "json"}).out, nullptr, false);
    if (history.is_discarded() || history.size() < 2) kind = "restart";
  }
  std::printf("soak: %s: %s\n", c.name.c_str(), kind.c_str());
  std::fflush(stdout);
  bool ok = true;
  if (kind == "configure") {
    c.tick = c.tick == 2000 ? 2200 : 2000;
    ok = Ok("configure", Zk({"configure", c.name, "--set", "tickTime=" + std::to_string(c.tick), "--timeout", "120"}));
  } else if (kind == "restart") {
    ok = Ok("restart", Zk({"restart", c.name, "--timeout", "120"}));
  } else if (kind == "upgrade") {
    c.version = c.version == "3.8.0" ? "3.9.3" : "3.8.0";
    ok = Ok("upgrade", Zk({"upgrade", c.name, "--version", c.version, "--timeout", "120"}));
  } else if (kind == "rollback") {
    ok = Ok("rollback", Zk({"rollback", c.name, "--timeout", "120"}));
    // Whatever the previous revision had is now what runs.
    json s = Status(c);
    c.version = s.value("version", c.version);
    c.replicas = static_cast<int>(s.value("nodes", json::array()).size());
  } else if (kind == "scale") {
    c.replicas = c.replicas == 3 ? 5 : 3;
    ok = Ok("scale", Zk({"scale", c.name, "--replicas", std::to_string(c.replicas), "--timeout", "120"}));
  } else if (kind == "kill server" || kind == "sigstop server") {
    const int pid = RandomServerPid(c);
    ok = pid > 0 && ::kill(pid, kind == "kill server" ? SIGKILL : SIGSTOP) == 0;
  } else if (kind == "kill supervisor") {
    const int pid = Status(c)["supervisor"].value("pid", 0);
    ok = pid > 0 && ::kill(pid, SIGKILL) == 0;
  } else if (kind == "kill zkpilot") {
    ok = KillZkpilotMidRestart(c);
  } else {
    ok = TwoRestartsAtOnce(c);
  }
  if (kind.rfind("kill", 0) == 0 || kind == "sigstop server" || kind == "two commands together")
    ++faults_[kind];
  else
    ++operations_[kind];
  return ok && Healthy(c, kind);
}

bool Soak::Run(Clock::time_point deadline) {
  const int base = world_.base_port();
  clusters_.resize(2);
  clusters_[0].name = "soak-a";
  clusters_[0].base = base;
  clusters_[1].name = "soak-b";
  clusters_[1].base = base + kClusterSpan;
  for (auto& c : clusters_)
    if (!Deploy(c) || !Healthy(c, "deploy")) return false;
  while (Clock::now() < deadline)
    if (!Step(clusters_[Pick(static_cast<int>(clusters_.size()))])) return false;
  return true;
}

bool Soak::Finish() {
  bool ok = true;
  for (auto& c : clusters_) {
    if (!c.checker) continue;
    auto report = c.checker->Stop();
    if (!report.ok()) {
      std::fprintf(stderr, "soak: %s: reading the writes back: %s\n", c.name.c_str(), report.status().message().c_str());
      ok = false;
      continue;
    }
    std::printf("soak: %s writes: %s\n", c.name.c_str(), report->Summary().c_str());
    acknowledged_ += report->acknowledged;
    lost_ += report->lost;
    failed_writes_ += report->failed;
    if (report->lost != 0 || report->acknowledged == 0) ok = false;
    // Healthy, and running the revision the history calls current.
    int code = -1;
    json s = Status(c, &code);
    ProcessResult h = Zk({"history", c.name, "-o", "json"});
    json history = json::parse(h.out, nullptr, false);
    int64_t current = -1;
    if (!history.is_discarded())
      for (const auto& r : history)
        if (r.value("current", false)) current = r.value("revision", int64_t{-1});
    if (code != 0 || s.value("status", "") != "deployed" || s.value("revision", int64_t{-2}) != current) {
      std::fprintf(stderr, "soak: %s at the end: status exit %d, status %s, revision %s, history's current %lld\n",
                   c.name.c_str(), code, s.value("status", "?").c_str(), s.value("revision", json()).dump().c_str(),
                   static_cast<long long>(current));
      ok = false;
    }
    ok = Ok("delete " + c.name, Zk({"delete", c.name, "--purge-data"})) && ok;
  }
  const std::string home = world_.home();
  if (!testing::WaitUntil([&] { return testing::PidsWithCmdline(home).empty(); }, 30s)) {
    std::fprintf(stderr, "soak: processes of %s left after delete\n", home.c_str());
    ok = false;
  }
  for (int port = world_.base_port(); port < world_.base_port() + 2 * kClusterSpan; ++port)
    if (!testing::PortBindable(port)) {
      std::fprintf(stderr, "soak: port %d still taken after delete\n", port);
      ok = false;
    }
  return ok;
}

void Soak::PrintCounts() const {
  int ops = 0, faults = 0;
  std::printf("\n%-24s %8s\n", "operation or fault", "count");
  for (const auto& [k, n] : operations_) std::printf("%-24s %8d\n", k.c_str(), n), ops += n;
  for (const auto& [k, n] : faults_) std::printf("%-24s %8d\n", k.c_str(), n), faults += n;
  std::printf("\noperations run %d, faults injected %d, writes acknowledged %lld, writes failed %lld, "
              "writes lost %lld\n",
              ops, faults, static_cast<long long>(acknowledged_), static_cast<long long>(failed_writes_),
              static_cast<long long>(lost_));
}

}  // namespace
}  // namespace zkpilot

int main(int argc, char** argv) {
  CLI::App app{"A bounded random soak of the local platform: operations and faults on two clusters under writes."};
  int seconds = 240;
  uint32_t seed = std::random_device{}();
  app.add_option("--seconds", seconds, "Start no new step after this many seconds")->check(CLI::Range(10, 3600));
  std::vector<std::string> without;
  app.add_option("--without", without, "A step kind not to run, e.g. \"sigstop server\" (repeatable)");
  app.add_option("--seed", seed, "Random seed (printed; pass it again to repeat a run's choices)");
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  std::printf("soak: seed %u, %d s\n", seed, seconds);
  zkpilot::testing::TestHome world;
  std::string error;
  if (!world.Create("zkpilot-soak", 2 * zkpilot::kClusterSpan, &error)) {
    std::fprintf(stderr, "soak: %s\n", error.c_str());
    return 1;
  }
  bool ok = false;
  {
    zkpilot::Soak soak(world, seed, without);
    ok = soak.Run(zkpilot::Clock::now() + std::chrono::seconds(seconds));
    ok = soak.Finish() && ok;
    soak.PrintCounts();
  }
  if (!world.Cleanup(ZKPILOT_BINARY)) {
    std::fprintf(stderr, "soak: processes survived SIGKILL\n");
    ok = false;
  }
  std::printf("soak: %s (seed %u)\n", ok ? "passed" : "FAILED", seed);
  return ok ? 0 : 1;
}
