// Day-2 operations end to end: the real zkpilot binary upgrades, rolls back,
// reconfigures, scales, resumes and repairs real local ensembles while a
// WriteChecker (tests/write_checker/) keeps writing. Every scenario asserts
// that no acknowledged write was lost and that the ensemble ends healthy at
// the expected version and size; restarts are counted by watching the
// servers' processes (their marker in /proc), not by trusting zkpilot.
//
// Each test has its own ZKPILOT_HOME and a free block of 127.0.0.1 ports,
// polls with deadlines (no fixed sleeps) and cleans up in TearDown even when
// it fails: `delete --purge-data`, then SIGKILL whatever of its home still
// runs, then the temporary directory.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "local_test_util.h"
#include "platform/local/paths.h"
#include "state/state_store.h"
#include "write_checker/server_log.h"
#include "write_checker/write_checker.h"
#include "zk/four_letter.h"
#include "zk/zk_client.h"

extern char** environ;

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using testing::ProcessResult;
using testing::WriteChecker;
using testing::WriteReport;
using Clock = std::chrono::steady_clock;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";
const std::string kName = "d2";
constexpr int kPortSpan = 60;  // base..base+60 must bind; 5 servers use base..base+43

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in:\n" << text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The servers a command's progress says it restarted, in order, with the
// role it gave: "[4/9] restart server 1 (follower) and wait ... ..." -> {1, "follower"}.
std::vector<std::pair<int, std::string>> RestartSteps(const std::string& progress) {
  static const std::regex kStep(R"(^\[\d+/\d+\] restart server (\d+) \(([^)]*)\).*\.\.\.$)");
  std::vector<std::pair<int, std::string>> steps;
  std::istringstream lines(progress);
  std::smatch m;
  for (std::string line; std::getline(lines, line);)
    if (std::regex_match(line, m, kStep)) steps.push_back({std::stoi(m[1]), m[2]});
  return steps;
}

// Starts `argv` in the background (stdin /dev/null, stdout and stderr to
// `log`) with `env` added to the environment; returns its pid or -1.
pid_t Spawn(std::vector<std::string> argv, const std::vector<std::string>& env,
            const std::string& dir, const std::string& log) {
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e; ++e)
    merged[std::string(*e).substr(0, std::string(*e).find('='))] = *e;
  for (const auto& kv : env) merged[kv.substr(0, kv.find('='))] = kv;
  std::vector<std::string> envs;
  for (auto& [k, kv] : merged) envs.push_back(kv);
  std::vector<char*> c_argv, c_env;
  for (auto& a : argv) c_argv.push_back(a.data());
  for (auto& e : envs) c_env.push_back(e.data());
  c_argv.push_back(nullptr);
  c_env.push_back(nullptr);
  const pid_t pid = ::fork();  // the test has threads: the child makes system calls only
  if (pid != 0) return pid;
  int in = ::open("/dev/null", O_RDONLY),
      out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || out < 0 || ::chdir(dir.c_str()) != 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 ||
      ::dup2(out, 2) < 0)
    ::_exit(126);
  for (int fd = 3; fd < 1024; ++fd) ::close(fd);
  ::execve(c_argv[0], c_argv.data(), c_env.data());
  ::_exit(127);
}

// Watches the servers' processes in /proc (by marker) every 100 ms and
// records each pid a server ran under, in order, with when it was first seen.
class PidWatcher {
 public:
  struct Seen {
    int pid;
    Clock::time_point at;
  };
  explicit PidWatcher(std::map<int, std::string> markers) : markers_(std::move(markers)) {
    Scan();
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        std::this_thread::sleep_for(100ms);
        Scan();
      }
    });
  }
  ~PidWatcher() {
    stop_.store(true);
    thread_.join();
  }
  std::vector<Seen> History(int id) {
    std::lock_guard<std::mutex> lock(mu_);
    return history_[id];
  }
  // Times server `id` got a new pid since the watch began.
  int Restarts(int id) { return std::max(0, static_cast<int>(History(id).size()) - 1); }

 private:
  void Scan() {
    std::map<int, int> now;
    if (DIR* proc = ::opendir("/proc")) {
      while (dirent* e = ::readdir(proc)) {
        const int pid = std::atoi(e->d_name);
        if (pid <= 0) continue;
        const std::string cmdline = testing::Cmdline(pid);
        for (const auto& [id, marker] : markers_)
          if (cmdline.find(marker) != std::string::npos && testing::PidAlive(pid)) now[id] = pid;
      }
      ::closedir(proc);
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (auto [id, pid] : now) {
      auto& h = history_[id];
      if (h.empty() || h.back().pid != pid) h.push_back({pid, Clock::now()});
    }
  }

  const std::map<int, std::string> markers_;
  std::mutex mu_;
  std::map<int, std::vector<Seen>> history_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class Day2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(world_.Create("zkpilot-day2", kPortSpan, &error)) << error;
    root_ = world_.root();
    home_ = world_.home();
    capture_ = world_.capture();
    base_ = world_.base_port();
  }

  void TearDown() override {
    checker_.reset();
    watcher_.reset();
    if (background_ > 0) {
      ::kill(background_, SIGKILL);
      ::waitpid(background_, nullptr, 0);
    }
    EXPECT_TRUE(world_.Cleanup(ZKPILOT_BINARY)) << "processes of " << home_ << " survived SIGKILL";
  }

  std::vector<std::string> Env() const { return world_.Env(); }

  // `zkpilot args...` from the source directory, `extra_env` added.
  ProcessResult Zk(std::vector<std::string> args, const std::vector<std::string>& extra_env = {}) {
    args.insert(args.begin(), ZKPILOT_BINARY);
    std::vector<std::string> env = Env();
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    return testing::RunProcess(args, {env, ZKPILOT_SOURCE_DIR, capture_, 5min});
  }

  void Deploy(int replicas = 3, const std::string& package = kPackage) {
    // 3.8.0: the scenarios upgrade to 3.9.3 and roll back (not the default version).
    ProcessResult r =
        Zk({"deploy", kName, package, "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--set", "clientPort=" + std::to_string(base_), "--set",
            "replicas=" + std::to_string(replicas), "--set", "version=3.8.0", "--timeout", "120"});
    ASSERT_EQ(r.exit_code, 0) << r.All();
  }

  json JsonOf(const std::vector<std::string>& args, int* exit_code = nullptr) {
    ProcessResult r = Zk(args);
    if (exit_code) *exit_code = r.exit_code;
    json j = json::parse(r.out, nullptr, false);
    if (j.is_discarded()) ADD_FAILURE() << "not JSON from zkpilot " << args[0] << ":\n" << r.All();
    return j;
  }
  json StatusJson(int* exit_code = nullptr) {
    return JsonOf({"status", kName, "-o", "json"}, exit_code);
  }
  json History() { return JsonOf({"history", kName, "-o", "json"}); }

  // Server id -> pid, as `status` reports them.
  std::map<int, int> Pids() {
    std::map<int, int> pids;
    json s = StatusJson();
    if (s.contains("nodes"))
      for (const auto& n : s["nodes"]) pids[n["id"].get<int>()] = n["pid"].get<int>();
    return pids;
  }

  Endpoint Client(int id) const { return {"127.0.0.1", base_ + (id - 1) * 10}; }

  // Starts watching the processes of servers 1..n.
  void WatchPids(int n) {
    std::map<int, std::string> markers;
    for (int id = 1; id <= n; ++id)
      markers[id] = "-Dzkpilot.node=" + NodeDir(ClusterHome(home_, kName), id) + " ";
    watcher_ = std::make_unique<PidWatcher>(markers);
  }

  std::string LogOf(int id) const { return NodeDir(ClusterHome(home_, kName), id) + "/zookeeper.log"; }

  // LOOKING transitions outside start-ups (write_checker/server_log.h) in the
  // servers' logs since the checker started, with the lines for a failure.
  int LookingSinceCheckerStarted(std::string* where = nullptr) {
    int total = 0;
    for (const auto& [id, offset] : log_offsets_) {
      const std::string text = ReadFile(LogOf(id));
      const int n = testing::CountLooking(text.size() > offset ? text.substr(offset) : "").not_at_startup;
      total += n;
      if (n > 0 && where) *where += "server " + std::to_string(id) + ": " + std::to_string(n) + " LOOKING; ";
    }
    return total;
  }

  // Starts the write checker against servers 1..n.
  void StartChecker(int n) {
    log_offsets_.clear();
    for (int id = 1; id <= n; ++id) log_offsets_[id] = ReadFile(LogOf(id)).size();
    testing::WriteCheckerOptions options;
    for (int id = 1; id <= n; ++id) options.servers.push_back({id, Client(id)});
    checker_ = std::make_unique<WriteChecker>(options);
    auto started = checker_->Start();
    ASSERT_TRUE(started.ok()) << started.message();
    // Writing before the operation begins.
    ASSERT_TRUE(testing::WaitUntil([&] { return checker_->acknowledged() >= 20; }, 30s, 10ms))
        << "the write checker cannot write: " << checker_->failed() << " failed";
  }

  // Stops the checker, prints its numbers and checks nothing acknowledged was lost.
  WriteReport StopChecker(const std::string& scenario) {
    if (!checker_) {
      ADD_FAILURE() << scenario << ": the write checker is not running";
      return {};
    }
    auto report = checker_->Stop();
    checker_.reset();
    if (!report.ok()) {
      ADD_FAILURE() << scenario << ": " << report.status().message();
      return {};
    }
    std::cout << "[ checker  ] " << scenario << ": " << report->Summary() << std::endl;
    RecordProperty("checker." + scenario, report->Summary());
    EXPECT_GT(report->acknowledged, 0) << scenario;
    EXPECT_EQ(report->lost, 0) << scenario << ": "
                               << ::testing::PrintToString(report->lost_examples);
    return *report;
  }

  // The ensemble is healthy with `n` servers, all serving `version`.
  void ExpectHealthyAt(const std::string& version, size_t n) {
    json s;
    int code = -1;
    EXPECT_TRUE(testing::WaitUntil([&] { return (s = StatusJson(&code)).value("healthy", false); },
                                   30s, 500ms))
        << s.dump(2);
    EXPECT_EQ(code, 0) << s.dump(2);
    ASSERT_EQ(s["nodes"].size(), n) << s.dump(2);
    for (const auto& node : s["nodes"]) {
      EXPECT_EQ(node["version"], version) << node.dump();
      EXPECT_EQ(node["healthy"], true) << node.dump();
    }
  }

  // An operation that restarts every server once, the leader last.
  void ExpectRolledLeaderLast(const ProcessResult& r, int leader, const WriteReport& report,
                              const std::vector<int>& ids) {
    auto steps = RestartSteps(r.err);
    ASSERT_EQ(steps.size(), ids.size()) << r.err;
    EXPECT_EQ(steps.back().first, leader) << r.err;
    EXPECT_TRUE(Contains(steps.back().second, "leader"));
    for (int id : ids) EXPECT_EQ(watcher_->Restarts(id), 1) << "server " << id;
    for (int id : ids) {  // observed: the leader's new pid appeared after every other's
      if (id == leader || watcher_->Restarts(id) != 1 || watcher_->Restarts(leader) != 1) continue;
      EXPECT_LT(watcher_->History(id).back().at, watcher_->History(leader).back().at)
          << "server " << id;
    }
    // One leader change, by hand-off: no server lost its leader (no LOOKING
    // outside a restarted server's start-up), one new epoch.
    EXPECT_TRUE(Contains(r.err, "leads (hand-off in"));
    std::string where;
    EXPECT_EQ(LookingSinceCheckerStarted(&where), 0) << where;
    EXPECT_EQ(report.elections, 1) << report.Summary();
    ASSERT_FALSE(report.leaders.empty());
    EXPECT_EQ(report.leaders.front(), leader) << report.Summary();
    EXPECT_NE(report.leaders.back(), leader) << "the old leader handed over: " << report.Summary();
    ExpectNormalQuorumPorts(static_cast<int>(ids.size()));
  }

  void KillHandOffAtThenResume(const std::string& failpoint, bool old_leader_may_look);
  void KillUpgradeMidRollThen(const std::function<bool(const std::string&)>& kill_when,
                              const std::vector<std::string>& continue_with,
                              const std::string& scenario);

  // Every server of 1..n is a voter on its normal ports, per the leader's `conf`.
  void ExpectNormalQuorumPorts(int n) {
    auto conf = AdminClient().Conf(Client(1));
    ASSERT_TRUE(conf.ok()) << conf.status().message();
    for (int id = 1; id <= n; ++id) {
      const int b = base_ + (id - 1) * 10;
      EXPECT_EQ((*conf)["server." + std::to_string(id)],
                "127.0.0.1:" + std::to_string(b + 1) + ":" + std::to_string(b + 2) + ":participant;127.0.0.1:" +
                    std::to_string(b))
          << "server " << id;
    }
  }

  // No server of 1..3 but `except` got a new pid.
  void ExpectNoRestartBut(int except) {
    for (int id = 1; id <= 3; ++id) {
      if (id == except) continue;
      EXPECT_EQ(watcher_->Restarts(id), 0) << "server " << id;
    }
  }

  testing::TestHome world_;
  std::string root_, home_, capture_;
  int base_ = 0;
  pid_t background_ = -1;
  std::unique_ptr<WriteChecker> checker_;
  std::unique_ptr<PidWatcher> watcher_;
  std::map<int, size_t> log_offsets_;  // server id -> its log's size when the checker started
};

TEST_F(Day2Test, UpgradeRollsLeaderLastWithoutLosingWritesThenRollsBack) {
  ASSERT_NO_FATAL_FAILURE(Deploy());
  const std::vector<int> ids = {1, 2, 3};
  struct Roll {
    std::string from, to, verb;
  };
  for (const Roll& step : {Roll{"3.8.0", "3.9.3", "upgrade"}, Roll{"3.9.3", "3.8.0", "rollback"}}) {
    const std::string &from = step.from, &to = step.to, &verb = step.verb;
    SCOPED_TRACE(verb);
    ASSERT_NO_FATAL_FAILURE(ExpectHealthyAt(from, 3));
    const int leader = StatusJson()["leader"].get<int>();
    WatchPids(3);
    ASSERT_NO_FATAL_FAILURE(StartChecker(3));
    ProcessResult r = verb == "upgrade"
                          ? Zk({"upgrade", kName, "--version", to, "--timeout", "120"})
                          : Zk({"rollback", kName, "--timeout", "120"});
    WriteReport report = StopChecker(verb);
    ASSERT_EQ(r.exit_code, 0) << r.All();
    EXPECT_TRUE(Contains(r.out, from + " -> " + to));
    ExpectRolledLeaderLast(r, leader, report, ids);
    ExpectHealthyAt(to, 3);
  }
  json history = History();
  ASSERT_EQ(history.size(), 3u) << history.dump(2);
  EXPECT_EQ(history[1]["operation"], "upgrade");
  EXPECT_EQ(history[2]["operation"], "rollback");
  EXPECT_EQ(history[2]["current"], true);
}

TEST_F(Day2Test, RollingConfigChangeRestartsEachServerOnceAndDynamicChangeNone) {
  ASSERT_NO_FATAL_FAILURE(Deploy());
  const int leader = StatusJson()["leader"].get<int>();
  WatchPids(3);
  ASSERT_NO_FATAL_FAILURE(StartChecker(3));
  ProcessResult r = Zk({"configure", kName, "--set", "tickTime=3000", "--timeout", "120"});
  WriteReport report = StopChecker("configure tickTime (rolling)");
  ASSERT_EQ(r.exit_code, 0) << r.All();
  ExpectRolledLeaderLast(r, leader, report, {1, 2, 3});
  ExpectHealthyAt("3.8.0", 3);
  AdminClient admin;
  for (int id = 1; id <= 3; ++id) {
    auto conf = admin.Conf(Client(id));
    ASSERT_TRUE(conf.ok()) << conf.status().message();
    EXPECT_EQ((*conf)["tickTime"], "3000") << "server " << id;
  }

  // A dynamic parameter: a new revision, nothing restarted.
  WatchPids(3);
  ASSERT_NO_FATAL_FAILURE(StartChecker(3));
  r = Zk({"configure", kName, "--set", "service.type=NodePort", "--timeout", "120"});
  report = StopChecker("configure service.type (dynamic)");
  ASSERT_EQ(r.exit_code, 0) << r.All();
  EXPECT_TRUE(RestartSteps(r.err).empty()) << r.err;
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(watcher_->Restarts(id), 0) << "server " << id;
  EXPECT_EQ(report.elections, 0) << report.Summary();
  EXPECT_EQ(report.failed, 0) << report.Summary();
  ExpectHealthyAt("3.8.0", 3);
  json history = History();
  ASSERT_EQ(history.size(), 3u) << history.dump(2);
  EXPECT_TRUE(history[2]["changes"].contains("service.type"))
      << history.dump(2);
}

TEST_F(Day2Test, ScaleThreeToFiveToThreeRestartsNoMember) {
  ASSERT_NO_FATAL_FAILURE(Deploy());
  WatchPids(5);
  ASSERT_NO_FATAL_FAILURE(
      StartChecker(5));  // lists servers 4 and 5 too: sessions move to and away from them
  ProcessResult r = Zk({"scale", kName, "--replicas", "5", "--timeout", "120"});
  WriteReport report = StopChecker("scale 3->5");
  ASSERT_EQ(r.exit_code, 0) << r.All();
  EXPECT_EQ(report.elections, 0) << report.Summary();
  ExpectHealthyAt("3.8.0", 5);
  json s = StatusJson();
  for (const auto& node : s["nodes"])
    EXPECT_TRUE(node["role"] == "follower" || node["role"] == "leader") << node.dump();
  auto conf = AdminClient().Conf(Client(1));
  ASSERT_TRUE(conf.ok()) << conf.status().message();
  for (const char* server : {"server.4", "server.5"})
    EXPECT_TRUE(Contains((*conf)[server], ":participant"));

  ASSERT_NO_FATAL_FAILURE(StartChecker(5));
  r = Zk({"scale", kName, "--replicas", "3", "--timeout", "120"});
  report = StopChecker("scale 5->3");
  ASSERT_EQ(r.exit_code, 0) << r.All();
  EXPECT_EQ(report.elections, 0) << report.Summary();
  ExpectHealthyAt("3.8.0", 3);
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(watcher_->Restarts(id), 0) << "server " << id;
  conf = AdminClient().Conf(Client(1));
  ASSERT_TRUE(conf.ok()) << conf.status().message();
  EXPECT_FALSE(conf->count("server.4") || conf->count("server.5"))
      << "removed servers still members";
  EXPECT_TRUE(testing::WaitUntil(
      [&] {
        for (int port = base_ + 30; port <= base_ + 43; ++port)
          if (!testing::PortBindable(port)) return false;
        return true;
      },
      30s))
      << "ports of servers 4 and 5 still taken";
}

TEST_F(Day2Test, RestartHandsLeadershipOverWithoutAnElection) {
  ASSERT_NO_FATAL_FAILURE(Deploy());
  const int leader = StatusJson()["leader"].get<int>();
  WatchPids(3);
  ASSERT_NO_FATAL_FAILURE(StartChecker(3));
  ProcessResult r = Zk({"restart", kName, "--timeout", "120"});
  WriteReport report = StopChecker("restart");
  ASSERT_EQ(r.exit_code, 0) << r.All();
  ExpectRolledLeaderLast(r, leader, report, {1, 2, 3});
  EXPECT_TRUE(Contains(r.err, "move server " + std::to_string(leader) + "'s quorum port back"));
  ExpectHealthyAt("3.8.0", 3);
}

// A package whose servers run with reconfigEnabled=false: the leader cannot
// hand over, so it is restarted last with one election, and the step says why.
TEST_F(Day2Test, WithReconfigDisabledTheLeaderIsRestartedLastWithOneElection) {
  const std::string package = root_ + "/no-reconfig";
  fs::copy(kPackage, package, fs::copy_options::recursive);
  const std::string cfg = package + "/config/zoo.cfg.mustache";
  std::string text = ReadFile(cfg);
  const size_t at = text.find("reconfigEnabled=true");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, std::string("reconfigEnabled=true").size(), "reconfigEnabled=false");
  std::ofstream(cfg, std::ios::trunc) << text;
  ASSERT_NO_FATAL_FAILURE(Deploy(3, package));
  const int leader = StatusJson()["leader"].get<int>();
  WatchPids(3);
  ASSERT_NO_FATAL_FAILURE(StartChecker(3));
  ProcessResult r = Zk({"restart", kName, "--timeout", "120"});
  WriteReport report = StopChecker("restart, reconfig disabled");
  ASSERT_EQ(r.exit_code, 0) << r.All();
  EXPECT_TRUE(Contains(r.err, "no hand-off (reconfiguration is disabled on this ensemble (reconfigEnabled=false)), "
                              "restarted as the leader: one election"));
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(watcher_->Restarts(id), 1) << "server " << id;
  EXPECT_EQ(report.elections, 1) << report.Summary();
  EXPECT_GT(LookingSinceCheckerStarted(), 0) << "the followers lost their leader: an election";
  ExpectHealthyAt("3.8.0", 3);
}

// zkpilot killed (SIGKILL, by a failpoint) in the middle of a hand-off: the
// restart is finished by `resume`, every server restarted once, and the
// membership ends as before the roll, every voter on its normal ports.
// `old_leader_may_look`: killed before it stopped the old leader, zkpilot
// leaves it to step down on its own at its next tick, which may go through
// LOOKING; the other servers never do.
void Day2Test::KillHandOffAtThenResume(const std::string& failpoint, bool old_leader_may_look) {
  ASSERT_NO_FATAL_FAILURE(Deploy());
  const int leader = StatusJson()["leader"].get<int>();
  WatchPids(3);
  ASSERT_NO_FATAL_FAILURE(StartChecker(3));
  ProcessResult killed = Zk({"restart", kName, "--timeout", "120"}, {"ZKPILOT_FAILPOINTS=" + failpoint});
  ASSERT_NE(killed.exit_code, 0) << killed.All();
  EXPECT_TRUE(Contains(killed.err, "hand leadership over by reconfig"));
  json s = StatusJson();
  EXPECT_EQ(s["status"], "updating");
  bool reported = false;  // status names the server left on its hand-off port
  for (const auto& c : s["conditions"])
    reported = reported || (c["reason"] == "HandOffPortInUse" && Contains(c["message"], "zkpilot resume " + kName));
  EXPECT_TRUE(reported) << s.dump(2);
  ProcessResult r = Zk({"resume", kName, "--timeout", "120"});
  WriteReport report = StopChecker("restart killed at " + failpoint + ", resume");
  ASSERT_EQ(r.exit_code, 0) << killed.All() << r.All();
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(watcher_->Restarts(id), 1) << "server " << id << r.All();
  ExpectNormalQuorumPorts(3);
  std::string where;
  const int looking = LookingSinceCheckerStarted(&where);
  if (old_leader_may_look) {
    // Only the old leader, stepping down on its own (more than once seen when
    // its step-down and its restart by resume overlap); no other server.
    for (int id = 1; id <= 3; ++id)
      if (id != leader) EXPECT_FALSE(Contains(where, "server " + std::to_string(id) + ":")) << where;
    EXPECT_TRUE(looking == 0 || Contains(where, "server " + std::to_string(leader) + ":")) << where;
  } else {
    EXPECT_EQ(looking, 0) << where;
  }
  EXPECT_EQ(report.elections, 1) << report.Summary();
  ExpectHealthyAt("3.8.0", 3);
  EXPECT_EQ(StatusJson()["status"], "deployed");
}

TEST_F(Day2Test, RestartKilledRightAfterTheSuccessorTookOverIsFinishedByResume) {
  KillHandOffAtThenResume("handoff.after-successor", /*old_leader_may_look=*/true);
}

TEST_F(Day2Test, RestartKilledBetweenTheTwoReconfigsIsFinishedByResume) {
  KillHandOffAtThenResume("handoff.after-restart", /*old_leader_may_look=*/false);
}

// Counts the restart steps a progress log shows as begun or as finished.
int RestartsBegun(const std::string& log) { return static_cast<int>(RestartSteps(log).size()); }
int RestartsDone(const std::string& log) {
  static const std::regex kDone(R"(\] done in [^:\n]*: pid \d+)");
  return static_cast<int>(
      std::distance(std::sregex_iterator(log.begin(), log.end(), kDone), std::sregex_iterator()));
}

// SIGKILLs `zkpilot upgrade` once `kill_when(progress log)` holds, then runs
// `continue_with`: the upgrade completes, every server restarted exactly once.
void Day2Test::KillUpgradeMidRollThen(const std::function<bool(const std::string&)>& kill_when,
                                      const std::vector<std::string>& continue_with,
                                      const std::string& scenario) {
  ASSERT_NO_FATAL_FAILURE(Deploy());
  WatchPids(3);
  ASSERT_NO_FATAL_FAILURE(StartChecker(3));
  const std::string log = capture_ + "/upgrade.log";
  background_ = Spawn({ZKPILOT_BINARY, "upgrade", kName, "--version", "3.9.3", "--timeout", "120"},
                      Env(), ZKPILOT_SOURCE_DIR, log);
  ASSERT_GT(background_, 0);
  bool exited = false;
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        exited = ::waitpid(background_, nullptr, WNOHANG) == background_;
        return exited || kill_when(ReadFile(log));
      },
      3min, 20ms))
      << ReadFile(log);
  ASSERT_FALSE(exited) << "the upgrade ended before it could be killed:\n" << ReadFile(log);
  ASSERT_EQ(::kill(background_, SIGKILL), 0);
  ::waitpid(background_, nullptr, 0);
  background_ = -1;
  const std::string progress = ReadFile(log);
  int restarted = 0;
  for (int id = 1; id <= 3; ++id) restarted += watcher_->Restarts(id) > 0;
  EXPECT_GE(restarted, 1) << progress;
  EXPECT_LT(restarted, 3) << progress;
  json s = StatusJson();
  EXPECT_EQ(s["status"], "updating") << s.dump(2);

  ProcessResult r = Zk(continue_with);
  WriteReport report = StopChecker(scenario);
  ASSERT_EQ(r.exit_code, 0) << progress << r.All();
  ExpectHealthyAt("3.9.3", 3);
  for (int id = 1; id <= 3; ++id)
    EXPECT_EQ(watcher_->Restarts(id), 1) << "server " << id << "\n" << progress << r.All();
  EXPECT_EQ(report.elections, 1) << report.Summary();
  json history = History();
  ASSERT_EQ(history.size(), 2u) << history.dump(2);
  EXPECT_EQ(history[1]["status"], "deployed") << history.dump(2);
}

TEST_F(Day2Test, UpgradeKilledDuringARestartIsFinishedByResumeRestartingEachServerOnce) {
  KillUpgradeMidRollThen([](const std::string& log) { return RestartsBegun(log) >= 2; },
                         {"resume", kName}, "upgrade killed during restart 2, resume");
}

TEST_F(Day2Test, UpgradeKilledBetweenRestartsIsFinishedByTheSameCommandAgain) {
  KillUpgradeMidRollThen([](const std::string& log) { return RestartsDone(log) >= 1; },
                         {"upgrade", kName, "--version", "3.9.3", "--timeout", "120"},
                         "upgrade killed after restart 1, same command again");
}

TEST_F(Day2Test, ServerThatCannotStartStopsTheRollKeepsQuorumAndIsRepaired) {
  ASSERT_NO_FATAL_FAILURE(Deploy());
  json before = StatusJson();
  const int leader = before["leader"].get<int>();
  const int first = leader == 1 ? 2 : 1;  // the roll starts with the lowest follower
  WatchPids(3);
  ASSERT_NO_FATAL_FAILURE(StartChecker(3));
  ProcessResult r =
      Zk({"configure", kName, "--set", "jvmFlags=-XX:+NoSuchOption", "--timeout", "60"});
  EXPECT_NE(r.exit_code, 0) << r.All();
  EXPECT_TRUE(Contains(r.err, "Unrecognized VM option 'NoSuchOption'"));
  EXPECT_TRUE(Contains(r.err, "server " + std::to_string(first)));
  auto steps = RestartSteps(r.err);
  ASSERT_EQ(steps.size(), 1u) << r.err;
  EXPECT_EQ(steps[0].first, first);
  // Writes keep succeeding on the two others.
  const int64_t acked = checker_->acknowledged();
  EXPECT_TRUE(testing::WaitUntil([&] { return checker_->acknowledged() >= acked + 200; }, 60s))
      << "writes stalled after the failed roll: " << checker_->acknowledged() - acked;
  int code = -1;
  json s = StatusJson(&code);
  EXPECT_EQ(code, 3) << s.dump(2);
  EXPECT_EQ(s["status"], "update-failed") << s.dump(2);
  EXPECT_EQ(s["quorum"], true) << s.dump(2);
  EXPECT_EQ(s["healthy"], false) << s.dump(2);
  for (const auto& node : s["nodes"]) {
    if (node["id"] != first) continue;
    EXPECT_EQ(node["healthy"], false) << node.dump();
    EXPECT_NE(node["problem"], "") << node.dump();
    EXPECT_TRUE(Contains(node["last_exit"].get<std::string>(), "exited")) << node.dump();
  }
  ExpectNoRestartBut(first);

  r = Zk({"configure", kName, "--set", "jvmFlags=", "--timeout", "120"});
  WriteReport report = StopChecker("bad jvmFlags, then repaired");
  ASSERT_EQ(r.exit_code, 0) << r.All();
  ExpectHealthyAt("3.8.0", 3);
  ExpectNoRestartBut(first);
  EXPECT_EQ(report.elections, 0) << report.Summary();
  EXPECT_EQ(StatusJson()["status"], "deployed");
}

// The checker itself: acknowledged writes removed behind its back are lost.
TEST_F(Day2Test, WriteCheckerReportsAcknowledgedWritesThatDisappeared) {
  ASSERT_NO_FATAL_FAILURE(Deploy());
  ASSERT_NO_FATAL_FAILURE(StartChecker(3));
  auto other = ZkClient::Connect(Client(2).ToString(), 10s);
  ASSERT_TRUE(other.ok()) << other.status().message();
  auto children = (*other)->Children(checker_->root());
  ASSERT_TRUE(children.ok()) << children.status().message();
  ASSERT_GE(children->size(), 3u);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE((*other)->Delete(checker_->root() + "/" + (*children)[i]).ok());
  auto report = checker_->Stop();
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->failed, 0) << report->Summary();
  EXPECT_EQ(report->lost, 3) << report->Summary();
  ASSERT_EQ(report->lost_examples.size(), 3u);
  EXPECT_TRUE(Contains(report->lost_examples[0], (*children)[0] + " (counter 1): missing"));
}

TEST_F(Day2Test, BadInputAndDryRunChangeNothing) {
  ASSERT_NO_FATAL_FAILURE(Deploy());
  auto conf_files = [&] {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(ClusterHome(home_, kName) + "/nodes"))
      if (e.is_regular_file() && e.path().parent_path().filename() == "conf")
        files[e.path()] = ReadFile(e.path());
    return files;
  };
  const auto files_before = conf_files();
  ASSERT_FALSE(files_before.empty());
  WatchPids(3);
  ASSERT_NO_FATAL_FAILURE(StartChecker(3));
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Case& c :
       std::vector<Case>{{{"upgrade", kName, "--version", "3.7.0"}, "3.7.0"},
                         {{"configure", kName, "--set", "controller=deployment"}, "immutable"},
                         {{"configure", kName, "--set", "tls.enabled=true", "--set", "replicas=5"},
                          "switching TLS (tls.enabled, tls.allowPlaintext) on a running cluster and replicas at once "
                          "is refused"},
                         {{"configure", kName, "--set", "tls.enabled=true", "--set", "auth.enabled=true", "--set",
                           "auth.enforce=true"},
                          "TLS first, then enforce"},
                         {{"scale", kName, "--replicas", "0"}, "--replicas"}}) {
    ProcessResult r = Zk(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args[0] << ":\n" << r.All();
    EXPECT_TRUE(Contains(r.err, c.message));
  }
  ProcessResult r = Zk({"upgrade", kName, "--version", "3.9.3", "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.All();
  EXPECT_TRUE(Contains(r.out, "version: 3.8.0 -> 3.9.3"));
  EXPECT_TRUE(Contains(r.out, "Plan: upgrade " + kName));
  EXPECT_TRUE(Contains(r.out, "restart server"));
  EXPECT_TRUE(Contains(r.out, "dry run"));
  // The TLS switch's plan, with what clients may do at each stage.
  r = Zk({"configure", kName, "--set", "tls.enabled=true", "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.All();
  EXPECT_TRUE(Contains(r.out, "roll every server to TLS stage 1")) << r.out;
  EXPECT_TRUE(Contains(r.out, "Clients: every server now also serves TLS on the same client port")) << r.out;
  EXPECT_TRUE(Contains(r.out, "remove the client addresses from the server lines")) << r.out;
  EXPECT_TRUE(Contains(r.out, "roll every server to TLS stage 3 (TLS only), server lines without client addresses"))
      << r.out;
  EXPECT_TRUE(Contains(r.out, "Clients: must use TLS before this step")) << r.out;
  EXPECT_FALSE(fs::exists(ClusterHome(home_, kName) + "/pki/ca.crt")) << "a dry run makes no certificates";
  WriteReport report = StopChecker("bad input and dry run");
  EXPECT_EQ(report.failed, 0) << report.Summary();
  EXPECT_EQ(report.elections, 0) << report.Summary();
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(watcher_->Restarts(id), 0) << "server " << id;
  EXPECT_EQ(conf_files(), files_before);
  EXPECT_EQ(History().size(), 1u);
  ExpectHealthyAt("3.8.0", 3);
}

// SIGINT in the middle of a roll: the step that runs finishes, the command
// stops before the next one with 130 and says how to go on, and `resume`
// finishes the roll, every server restarted once.
TEST_F(Day2Test, SigintStopsARollAtAStepBoundaryAndResumeFinishesIt) {
  ASSERT_NO_FATAL_FAILURE(Deploy());
  WatchPids(3);
  ASSERT_NO_FATAL_FAILURE(StartChecker(3));
  const std::string log = capture_ + "/restart.log";
  background_ = Spawn({ZKPILOT_BINARY, "restart", kName, "--timeout", "120"}, Env(), ZKPILOT_SOURCE_DIR, log);
  ASSERT_GT(background_, 0);
  bool exited = false;
  // Once the first restart step has begun.
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        exited = ::waitpid(background_, nullptr, WNOHANG) == background_;
        return exited || !RestartSteps(ReadFile(log)).empty();
      },
      3min, 5ms))
      << ReadFile(log);
  ASSERT_FALSE(exited) << ReadFile(log);
  ASSERT_EQ(::kill(background_, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(background_, &status, 0), background_);
  background_ = -1;
  const std::string progress = ReadFile(log);
  ASSERT_TRUE(WIFEXITED(status)) << progress;
  EXPECT_EQ(WEXITSTATUS(status), 130) << progress;
  EXPECT_TRUE(Contains(progress, "stopped by SIGINT before step 3/")) << progress;
  EXPECT_TRUE(Contains(progress, "continue it with `zkpilot resume " + kName + "`")) << progress;
  EXPECT_EQ(RestartsDone(progress), 1) << "the step that ran when the signal came finished:\n" << progress;
  EXPECT_EQ(StatusJson()["status"], "updating");

  ProcessResult r = Zk({"resume", kName, "--timeout", "120"});
  WriteReport report = StopChecker("restart stopped by SIGINT, resume");
  ASSERT_EQ(r.exit_code, 0) << progress << r.All();
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(watcher_->Restarts(id), 1) << "server " << id << r.All();
  EXPECT_EQ(report.lost, 0) << report.Summary();
  ExpectHealthyAt("3.8.0", 3);
  EXPECT_EQ(StatusJson()["status"], "deployed");
}

// A reader of zkpilot's output that goes away (`zkpilot restart NAME | true`)
// does not end the operation: SIGPIPE is ignored, the roll completes.
TEST_F(Day2Test, AClosedOutputPipeDoesNotEndTheOperation) {
  ASSERT_NO_FATAL_FAILURE(Deploy());
  WatchPids(3);
  const std::string command =
      "'" + std::string(ZKPILOT_BINARY) + "' restart " + kName + " --timeout 120 | true; exit ${PIPESTATUS[0]}";
  ProcessResult r = testing::RunProcess({"/bin/bash", "-c", command}, {Env(), ZKPILOT_SOURCE_DIR, capture_, 3min});
  EXPECT_EQ(r.exit_code, 0) << r.All();
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(watcher_->Restarts(id), 1) << "server " << id << r.All();
  ExpectHealthyAt("3.8.0", 3);
  EXPECT_EQ(StatusJson()["status"], "deployed");
}

}  // namespace
}  // namespace zkpilot
