// bench/roll: what a zkpilot rolling upgrade, a zkpilot rolling restart and a
// zkpilot scale-up cost the clients of a busy ensemble, against the naive way
// of doing the same thing, in one run on one machine.
//
// Part 1, upgrade 3.8.0 -> 3.9.3 of an N-server ensemble, for each N of
// --servers (default 3 and 5):
//
//   zkpilot   `zkpilot deploy upgradeN packages/zookeeper --set replicas=N
//             --set clientPort=BASE`, then `zkpilot upgrade upgradeN --version
//             3.9.3` (followers first by id, the leader last, each server back
//             in sync before the next), then `zkpilot delete --purge-data`.
//
//   baseline  what a StatefulSet RollingUpdate with a `ruok` probe does: the
//             same N servers, started by this program at 3.8.0, restarted
//             one at a time in DESCENDING id order (N, ..., 1) with the
//             3.9.3 JVM command line; the next server is stopped as soon as
//             the restarted one answers `ruok` with `imok` (polled every
//             50 ms). Stop = SIGTERM, wait for the exit (SIGKILL after 30 s).
//
// Part 2, restart of an N-server ensemble at 3.8.0, for each N of --servers:
// `zkpilot restart restartN` against the same baseline as part 1 with the
// 3.8.0 command line (the version does not change).
//
// Part 3, scale 3 -> 5 servers (ZooKeeper 3.8.0):
//
//   zkpilot   `zkpilot deploy scale ... --set replicas=3`, then `zkpilot scale
//             scale --replicas 5` (dynamic reconfiguration, one voter at a
//             time; the three servers keep running).
//
//   baseline  the static-membership way: servers 1-3 run with a static
//             3-server list; server 4 is started with the static 5-server
//             list and, once it answers `imok`, server 5 likewise (a
//             StatefulSet's OrderedReady scale-up); then servers 3, 2, 1 are
//             restarted in that order with the 5-server list, each as soon as
//             the previous one answers `imok`. Every baseline server here has
//             `reconfigEnabled=false` (ZooKeeper's default): with dynamic
//             reconfiguration on, the ensemble's committed 3-server
//             configuration (a higher config version) would override the
//             rolled-out static lists and servers 4 and 5 would never vote.
//             Everything else in zoo.cfg is what zkpilot renders.
//
// --part picks one part (default all); each part runs zkpilot, then the
// baseline, per ensemble size, and prints one table per size. Before the
// first timed upgrade, zkpilot's class-data archive for 3.9.3 is made when
// missing, untimed (WarmClassDataArchive): a user pays that training run
// once per machine, JDK and distribution, at the first upgrade.
//
// How the baseline gets its servers. One untimed `zkpilot deploy prepN
// --set replicas=N` per ensemble size (5 for the scale part) in the same
// ZKPILOT_HOME provides every server's exact JVM command line
// (conf/launch.json `argv`), the rendered zoo.cfg (kept by ZooKeeper as
// zoo.cfg.bak when it splits off the dynamic part), the log configuration and
// myid; then `zkpilot delete prepN --purge-data`. The files are copied to a
// baseline directory with every absolute path rewritten to it, and the JVMs
// are started by this program (own session, output to <node>/zookeeper.log,
// working directory the node directory), not by zkpilot's supervisor, which
// would restart what the baseline stops. The 3.9.3 command line is the 3.8.0
// one with `-cp <conf dir>:<the classpath of the 3.9.3 distribution's
// distribution.json>`, which is how zkpilot builds it; after each zkpilot
// upgrade the two are compared (paths and the cluster's super-user digest
// aside) and a difference is printed. All runs use the same 127.0.0.1 ports
// (server i: BASE+(i-1)*10 client, +1 quorum, +2 election, +3 AdminServer),
// one after another.
//
// Data (--znodes N, default 0). Once an ensemble is healthy and before the
// writers start, N persistent znodes of 1024 bytes are created under
// /zkpilot-bench-data/d-NNNN/ (1000 per parent) through the C client's
// asynchronous multi requests, 10 creates each, 100 requests in flight
// (roll_observe.h LoadZnodes); then every server must be in sync again. The
// same for zkpilot and the baseline; the load time is printed and is not part
// of the operation.
//
// Measured, for every run alike: a WriteChecker (tests/write_checker/) is
// started against all the ensemble's client ports (the scale part: all five)
// once the ensemble is healthy, writes one sequential znode every 8 ms
// (--write-interval-ms) and must have 100 acknowledged writes before the
// operation starts; after the operation the ensemble must be healthy again
// (exactly one leader, every other server a follower of the same epoch and at
// most 100 transactions behind) and the checker must have 100 more
// acknowledged writes before it is stopped and reads everything back.
// Alongside it, bench/java/RollWriter.java, compiled at start with javac
// against the 3.9.3 distribution's jars, writes one sequential znode every
// 8 ms through ZooKeeper's own Java client (same servers, same 6 s session
// timeout) and must have 100 acknowledged writes before the operation; it is
// stopped after the checker's closing writes and reports its longest time
// between acknowledged writes and its failed writes. When javac, java or the
// jars are missing, the table says why instead. Just before the operation
// each server's log size is recorded; afterwards what was appended is read
// and the lines "LOOKING" are counted (tests/write_checker/server_log.h says
// which log line that is in 3.8.0 and 3.9.3, and how a JVM's start-up
// LOOKINGs are told apart: those until it first serves).
//
// Table rows: LOOKING transitions (every one, and those of servers that were
// serving, i.e. not in a start-up), leader changes seen (the servers seen leading by polls of
// `srvr` every 50 ms, in order), leader elections (increases of the highest
// epoch any server reports; two leaders of the same new epoch at once, a
// split brain, count once), the longest time without an acknowledged write,
// p99 write latency, failed write requests, acknowledged writes missing when
// read back, the operation's time (zkpilot: the command's wall time;
// baseline: from the first stop or start to the last `imok`), the Java
// client's longest gap and failed writes; the ratio column is zkpilot /
// baseline. Under each roll table, the targets zkpilot is held to, each PASS
// or FAIL: no LOOKING other than start-up ones, exactly one leader change, a
// longest gap of at most 350 ms and at most 0.4x the baseline's, at most
// 0.25x the baseline's failed writes, a roll time at most the baseline's, no
// lost write. A missed target does not change the exit code; only errors do.
// Below: time until healthy (from the start of the operation), zkpilot's own
// steps as it printed them on stderr, the baseline's steps, and each
// ensemble's final state (leader, versions, membership per the leader's
// `conf`, synced voters per its `mntr`).
//
// Every wait polls with a deadline. Every process this program starts is
// stopped by PID at the end, also on failure or Ctrl-C (zkpilot clusters with
// `zkpilot delete --purge-data`, the Java writer by its PID, then anything
// whose command line names the temporary directory is killed), and the
// temporary directory is removed. SIGINT/SIGTERM sent to this process alone
// take effect once a running zkpilot command has returned (a terminal's
// Ctrl-C reaches that command as well).
//
// Usage: bench_roll [--part all|upgrade|restart|scale] [--servers 3,5]
//                   [--znodes N] [--write-interval-ms N] [--zkpilot PATH]
// Needs ZooKeeper 3.9.3 in the distribution store (scripts/setup.sh fetches
// it; $ZKPILOT_DISTRIBUTIONS, default ~/.local/state/zkpilot/distributions).
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "platform/local/cds.h"
#include "platform/local/paths.h"
#include "platform/local/process.h"
#include "platform/local/supervisor.h"
#include "roll_observe.h"
#include "roll_report.h"
#include "roll_util.h"
#include "util/files.h"
#include "util/status.h"
#include "write_checker/write_checker.h"
#include "zk/four_letter.h"

namespace zkpilot::bench {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

constexpr int kMaxServers = 5;
constexpr int kPortStride = 10;
constexpr int kPortsPerServer = 4;
constexpr int64_t kAcksAround = 100;  // acknowledged writes before and after each operation
constexpr int64_t kMaxLag = 100;      // transactions a follower may be behind and count as in sync
constexpr milliseconds kStopGrace{30000};
const std::string kFromVersion = "3.8.0";
const std::string kToVersion = "3.9.3";

void OnSignal(int) { g_interrupted.store(true); }

struct Settings {
  std::string zkpilot = ZKPILOT_BINARY;
  std::string package = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";
  std::string distributions;
  std::string root;  // the temporary directory: everything this run writes
  std::string home;  // ZKPILOT_HOME, under root
  int base = 0;      // first port
  milliseconds write_interval{8};
  std::vector<int> servers{3, 5};  // ensemble sizes of the upgrade and restart parts
  int64_t znodes = 0;              // loaded before each operation, kZnodeBytes each
};
Settings g;

constexpr size_t kZnodeBytes = 1024;
constexpr int kSessionTimeoutMs = 6000;  // the write checker's and the Java writer's

// The Java client writer, when it could be built; otherwise why not.
std::optional<JavaWriter> g_java;
std::string g_java_why;

// What is running and must be stopped at the end, whatever happens.
struct OwnedJvm {
  int id = 0;
  int pid = 0;
  std::string marker;
};
std::vector<OwnedJvm> g_jvms;      // baseline JVMs started here and not yet stopped
std::set<std::string> g_clusters;  // zkpilot clusters deployed in g.home and not yet deleted

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

std::string LastLines(const std::string& text, int n) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  for (size_t i = lines.size() > static_cast<size_t>(n) ? lines.size() - n : 0; i < lines.size();
       ++i)
    out += "    " + lines[i] + "\n";
  return out;
}

Endpoint Client(int id) { return {"127.0.0.1", g.base + (id - 1) * kPortStride}; }

std::vector<int> Ids(int n) {
  std::vector<int> ids;
  for (int id = 1; id <= n; ++id) ids.push_back(id);
  return ids;
}

Status WaitPortsFree() {
  std::string busy;
  Status s = WaitFor("ports " + std::to_string(g.base) + ".. to be free", 60s, [&] {
    busy.clear();
    for (int id = 1; id <= kMaxServers; ++id)
      for (int k = 0; k < kPortsPerServer; ++k) {
        const int port = g.base + (id - 1) * kPortStride + k;
        if (!PortFree(port)) busy += (busy.empty() ? "" : " ") + std::to_string(port);
      }
    return busy.empty();
  });
  return s.ok() ? s : s.WithContext("busy: " + busy);
}

// A block of ports that all bind, in 20000..30000 (below the ephemeral range).
int FindPortBlock() {
  std::mt19937 rng(std::random_device{}());
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int base = 20000 + static_cast<int>(rng() % 100) * 100;
    bool free = true;
    for (int p = base; p < base + kMaxServers * kPortStride && free; ++p) free = PortFree(p);
    if (free) return base;
  }
  return 0;
}

// --- health, as every run is judged -------------------------------------------

struct Health {
  bool healthy = false;
  int leader = 0;
  std::string why;  // when not healthy
};

// One leader; every other server of `ids` a follower of the same epoch at most
// kMaxLag transactions behind it (or the leader has no transaction in its
// epoch yet, as right after an election without writes).
Health CheckHealth(const std::vector<int>& ids) {
  const AdminClient admin(500ms);
  std::map<int, SrvrInfo> info;
  Health h;
  for (int id : ids) {
    auto s = admin.Srvr(Client(id));
    if (!s.ok()) {
      h.why = fmt::format("server {}: {}", id, s.status().message());
      return h;
    }
    info[id] = *s;
  }
  std::vector<int> leaders;
  for (const auto& [id, s] : info)
    if (s.mode == "leader") leaders.push_back(id);
  if (leaders.size() != 1) {
    h.why = fmt::format("{} leaders", leaders.size());
    return h;
  }
  const SrvrInfo& lead = info[leaders[0]];
  for (const auto& [id, s] : info) {
    if (id == leaders[0]) continue;
    if (s.mode != "follower") {
      h.why = fmt::format("server {} is {}", id, s.mode);
      return h;
    }
    // A new leader without a transaction in its epoch yet: nothing to be behind on.
    const bool fresh_epoch = (lead.zxid & 0xffffffffLL) == 0 && s.zxid <= lead.zxid;
    if (!fresh_epoch && ((s.zxid >> 32) != (lead.zxid >> 32) || lead.zxid - s.zxid > kMaxLag)) {
      h.why = fmt::format("server {} at zxid {:#x}, leader at {:#x}", id, s.zxid, lead.zxid);
      return h;
    }
  }
  h.healthy = true;
  h.leader = leaders[0];
  return h;
}

Status WaitHealthy(const std::vector<int>& ids, milliseconds timeout) {
  Health last;
  Status s = WaitFor(fmt::format("a healthy {}-server ensemble", ids.size()), timeout, [&] {
    last = CheckHealth(ids);
    return last.healthy;
  });
  return s.ok() ? s : s.WithContext(last.why);
}

// Leader, versions, membership and synced voters as the servers report them.
std::string FinalState(const std::vector<int>& ids) {
  const AdminClient admin(2000ms);
  std::map<std::string, int> versions;
  int leader = 0, serving = 0;
  for (int id : ids) {
    auto s = admin.Srvr(Client(id));
    if (!s.ok()) continue;
    ++versions[s->version];
    if (s->IsServing()) ++serving;
    if (s->mode == "leader") leader = id;
  }
  std::string version_list;
  for (const auto& [v, n] : versions)
    version_list += (version_list.empty() ? "" : ", ") + fmt::format("{} x{}", v, n);
  std::string membership = "?", synced = "?";
  if (leader != 0) {
    if (auto conf = admin.Conf(Client(leader)); conf.ok()) {
      int voters = 0;
      for (const auto& [key, value] : *conf)
        if (key.rfind("server.", 0) == 0 && value.find("observer") == std::string::npos) ++voters;
      membership = std::to_string(voters);
    }
    if (auto mntr = admin.Mntr(Client(leader)); mntr.ok() && mntr->count("zk_synced_followers"))
      synced = mntr->at("zk_synced_followers");
  }
  return fmt::format(
      "leader {}, {}/{} serving ({}), leader's config: {} voters, {} synced followers",
      leader == 0 ? std::string("none") : std::to_string(leader), serving, ids.size(), version_list,
      membership, synced);
}

std::string ModeOf(int id) {
  auto s = AdminClient(500ms).Srvr(Client(id));
  return s.ok() ? s->mode : "down";
}

std::string ConnectString(int n) {
  std::string out;
  for (int id = 1; id <= n; ++id)
    out += fmt::format("{}127.0.0.1:{}", id == 1 ? "" : ",", Client(id).port);
  return out;
}

// --- what is measured around an operation ----------------------------------------

// Loads g.znodes znodes into the running servers 1..n, then waits until they
// are all in sync again. The same for zkpilot's ensembles and the baseline's.
Status LoadData(int n, RunResult& out) {
  if (g.znodes == 0) return Status::Ok();
  Log(fmt::format("loading {} znodes of {} bytes ...", g.znodes, kZnodeBytes));
  LoadOptions options;
  options.connect = ConnectString(n);
  options.count = g.znodes;
  options.bytes = kZnodeBytes;
  ZK_ASSIGN_OR_RETURN(LoadReport r, LoadZnodes(options));
  out.loaded = r.created;
  out.load_s = r.seconds;
  Log(fmt::format("loaded {} znodes in {:.1f} s", r.created, r.seconds));
  return WaitHealthy(Ids(n), 300s).WithContext("after loading the data");
}

// The write checker, the Java writer and the servers' logs around one
// operation: Start() just before it, Finish() once the ensemble is healthy.
class Observers {
 public:
  ~Observers() {
    if (java_running_) g_java->Kill();
  }

  // Starts the checker on servers 1..n and waits for kAcksAround acknowledged
  // writes, then the Java writer (its first 100 writes); marks `logs` last.
  // A Java writer that does not start is reported, not fatal.
  Status Start(int n, const std::vector<std::string>& logs, const std::string& label) {
    testing::WriteCheckerOptions options;
    for (int id = 1; id <= n; ++id) options.servers.push_back({id, Client(id)});
    options.write_interval = g.write_interval;
    options.session_timeout_ms = kSessionTimeoutMs;
    options.delete_after_check = true;
    checker_ = std::make_unique<testing::WriteChecker>(options);
    ZK_RETURN_IF_ERROR(checker_->Start().WithContext("write checker"));
    ZK_RETURN_IF_ERROR(WaitMoreAcks());
    if (g_java) {
      Status s = g_java->Start(g.root + "/java-" + label, ConnectString(n), g.write_interval,
                               kSessionTimeoutMs);
      java_running_ = s.ok();
      if (!s.ok()) java_error_ = "did not start: " + s.message();
    } else {
      java_error_ = g_java_why;
    }
    window_.Mark(logs);
    return Status::Ok();
  }

  Status Finish(RunResult& out) {
    ZK_RETURN_IF_ERROR(WaitMoreAcks());
    out.looking_by_server = window_.Count();
    for (const auto& c : out.looking_by_server) out.looking += c;
    out.java_error = java_error_;
    if (java_running_) {
      java_running_ = false;
      auto java = g_java->Stop();
      if (java.ok())
        out.java = *java;
      else
        out.java_error = java.status().message();
    }
    ZK_ASSIGN_OR_RETURN(out.report, checker_->Stop());
    checker_.reset();
    return Status::Ok();
  }

 private:
  Status WaitMoreAcks() {
    const int64_t target = checker_->acknowledged() + kAcksAround;
    return WaitFor(
        fmt::format("{} acknowledged writes", target), 120s,
        [&] { return checker_->acknowledged() >= target; }, 10ms);
  }

  std::unique_ptr<testing::WriteChecker> checker_;
  LogWindow window_;
  bool java_running_ = false;
  std::string java_error_;
};

// --- zkpilot ------------------------------------------------------------------

Result<CommandResult> Zkpilot(const std::vector<std::string>& args, milliseconds timeout) {
  std::vector<std::string> argv{g.zkpilot};
  argv.insert(argv.end(), args.begin(), args.end());
  ZK_ASSIGN_OR_RETURN(CommandResult r, RunCommand(argv, timeout));
  if (r.exit_code != 0)
    return Status::IOError(fmt::format(
        "zkpilot {} {}: {}; last output:\n{}", args[0], args[1],
        r.timed_out ? "timed out" : fmt::format("exit {}", r.exit_code), LastLines(r.output, 25)));
  return r;
}

Status Deploy(const std::string& name, int replicas) {
  ZK_RETURN_IF_ERROR(WaitPortsFree());
  g_clusters.insert(name);
  return Zkpilot(
             {"deploy", name, g.package, "--set", "tls.enabled=false", "--set", "auth.enabled=false", "--set", "replicas=" + std::to_string(replicas), "--set",
              "clientPort=" + std::to_string(g.base), "--set", "version=" + kFromVersion},
             5min)
      .status();
}

Status DeleteCluster(const std::string& name) {
  ZK_RETURN_IF_ERROR(Zkpilot({"delete", name, "--purge-data"}, 3min).status());
  g_clusters.erase(name);
  return Status::Ok();
}

// zkpilot's progress lines: "[4/13] restart server 1 (follower) ... ..." and
// "[4/13] done in 2.2s: pid 17176; healthy: ..." -> one line per step.
std::vector<std::string> StepLines(const std::string& output) {
  static const std::regex kBegin(R"(^\[(\d+)/(\d+)\] (.*) \.\.\.$)");
  static const std::regex kEnd(R"(^\[(\d+)/(\d+)\] (done in|FAILED after) ([0-9.]+)s(: (.*))?$)");
  std::map<std::string, std::string> started;
  std::vector<std::string> steps;
  std::istringstream in(output);
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_match(line, m, kEnd)) {
      const std::string key = m[1].str() + "/" + m[2].str();
      steps.push_back(fmt::format("[{}] {:>5}s  {}{}{}", key, m[4].str(), started[key],
                                  m[3].str() == "done in" ? "" : " FAILED",
                                  m[6].matched ? " -- " + m[6].str() : ""));
    } else if (std::regex_match(line, m, kBegin)) {
      started[m[1].str() + "/" + m[2].str()] = m[3].str();
    }
  }
  return steps;
}

std::vector<std::string> ZkpilotLogs(const std::string& name, int n) {
  std::vector<std::string> logs;
  for (int id = 1; id <= n; ++id)
    logs.push_back(NodeDir(ClusterHome(g.home, name), id) + "/zookeeper.log");
  return logs;
}

// Runs `operation` (a zkpilot command) on the deployed cluster `name` of
// `before` servers, loaded with the data, while the checker writes to servers
// 1..after; ends when `after` servers are healthy and the checker has its
// closing writes.
Status ZkpilotRun(const std::string& name, const std::vector<std::string>& operation, int before,
                  int after, RunResult& out) {
  ZK_RETURN_IF_ERROR(LoadData(before, out));
  Observers observers;
  ZK_RETURN_IF_ERROR(observers.Start(after, ZkpilotLogs(name, after), "zkpilot-" + name));
  Log("zkpilot " + operation[0] + " ...");
  const auto t0 = Clock::now();
  auto r = Zkpilot(operation, 15min);
  out.operation_s = Seconds(Clock::now() - t0);
  if (!r.ok()) return r.status();
  out.steps = StepLines(r->output);
  ZK_RETURN_IF_ERROR(WaitHealthy(Ids(after), 120s).WithContext("after zkpilot " + operation[0]));
  out.healthy_s = Seconds(Clock::now() - t0);
  ZK_RETURN_IF_ERROR(observers.Finish(out));
  out.final_state = FinalState(Ids(after));
  return Status::Ok();
}

// --- the baseline's servers ------------------------------------------------------

// One server as zkpilot prepared it (paths under `cluster_dir` of the template).
struct NodeTemplate {
  int id = 0;
  std::string zoo_cfg;                      // the rendered static configuration
  std::map<std::string, std::string> conf;  // other conf files: log4j.properties, logback.xml
  LaunchSpec launch;                        // 3.8.0
  std::string myid;
};
struct Templates {
  std::string cluster_dir;  // the absolute path to rewrite
  std::map<int, NodeTemplate> nodes;
};

// Copies every server's files out of a fresh zkpilot deployment of `servers`.
Result<Templates> CaptureTemplates(int servers) {
  const std::string name = fmt::format("prep{}", servers);
  Log(fmt::format("deploying a scratch {}-server cluster for the baseline's configuration ...",
                  servers));
  ZK_RETURN_IF_ERROR(Deploy(name, servers));
  Templates t;
  t.cluster_dir = ClusterHome(g.home, name);
  for (int id = 1; id <= servers; ++id) {
    NodeTemplate n;
    n.id = id;
    const std::string node = NodeDir(t.cluster_dir, id);
    const std::string conf = node + "/conf";
    // ZooKeeper keeps the file as rendered in zoo.cfg.bak when it splits the
    // membership off into zoo.cfg.dynamic.*.
    auto bak = ReadFile(conf + "/zoo.cfg.bak");
    if (bak.ok()) {
      n.zoo_cfg = *bak;
    } else {
      ZK_ASSIGN_OR_RETURN(n.zoo_cfg, ReadFile(conf + "/zoo.cfg"));
    }
    for (const auto& entry : fs::directory_iterator(conf)) {
      const std::string file = entry.path().filename().string();
      if (file.rfind("zoo.cfg", 0) == 0 || file == "launch.json" || file == "prepared.sha256")
        continue;
      ZK_ASSIGN_OR_RETURN(n.conf[file], ReadFile(entry.path().string()));
    }
    ZK_ASSIGN_OR_RETURN(std::string launch, ReadFile(LaunchSpecPath(node)));
    try {
      ZK_ASSIGN_OR_RETURN(n.launch, LaunchSpec::FromJson(nlohmann::json::parse(launch)));
    } catch (const std::exception& e) {
      return Status::IOError(LaunchSpecPath(node) + ": " + e.what());
    }
    ZK_ASSIGN_OR_RETURN(n.myid, ReadFile(node + "/data/myid"));
    t.nodes[id] = std::move(n);
  }
  ZK_RETURN_IF_ERROR(DeleteCluster(name));
  return t;
}

// The classpath of the stored distribution of `version`.
Result<std::vector<std::string>> DistributionClasspath(const std::string& version) {
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(g.distributions, ec)) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  for (const auto& dir : dirs) {
    auto text = ReadFile((dir / "distribution.json").string());
    if (!text.ok()) continue;
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || j.value("version", "") != version) continue;
    return j.value("classpath", std::vector<std::string>{});
  }
  return Status::NotFound(
      fmt::format("no ZooKeeper {} in the distribution store {}: run scripts/fetch-zookeeper.sh {}",
                  version, g.distributions, version));
}

// Server lines of a zoo.cfg other than those of `keep` ids are dropped; the
// reconfigEnabled line is set to `reconfig`.
std::string EditZooCfg(const std::string& cfg, int keep, bool reconfig) {
  static const std::regex kServer(R"(^server\.(\d+)=.*)");
  std::istringstream in(cfg);
  std::string out;
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (std::regex_match(line, m, kServer) && std::stoi(m[1].str()) > keep) continue;
    if (line.rfind("reconfigEnabled=", 0) == 0)
      line = std::string("reconfigEnabled=") + (reconfig ? "true" : "false");
    out += line + "\n";
  }
  return out;
}

// The baseline ensemble: the template's servers under `dir`, run by this program.
class Baseline {
 public:
  Baseline(std::string dir, const Templates& t) : dir_(std::move(dir)), t_(t) {}
  ~Baseline() { StopAll(); }

  std::string NodeDirOf(int id) const { return dir_ + "/nodes/" + std::to_string(id); }
  std::string Map(const std::string& s) const { return ReplaceAll(s, t_.cluster_dir, dir_); }
  // The output files of servers 1..n.
  std::vector<std::string> Logs(int n) const {
    std::vector<std::string> logs;
    for (int id = 1; id <= n; ++id) logs.push_back(Map(t_.nodes.at(id).launch.log_path));
    return logs;
  }

  // Writes server `id`'s conf directory (with `zoo_cfg`, paths not yet mapped) and myid.
  Status Prepare(int id, const std::string& zoo_cfg) {
    const NodeTemplate& n = t_.nodes.at(id);
    const std::string node = NodeDirOf(id);
    std::error_code ec;
    fs::create_directories(node + "/conf", ec);
    fs::create_directories(node + "/data", ec);
    if (ec) return Status::IOError("creating " + node + ": " + ec.message());
    ZK_RETURN_IF_ERROR(Write(node + "/data/myid", n.myid));
    for (const auto& [file, text] : n.conf) ZK_RETURN_IF_ERROR(Write(node + "/conf/" + file, text));
    return WriteZooCfg(id, zoo_cfg);
  }
  // A new static zoo.cfg; ZooKeeper's own split files of an earlier start go.
  Status WriteZooCfg(int id, const std::string& zoo_cfg) {
    const std::string conf = NodeDirOf(id) + "/conf";
    for (const auto& entry : fs::directory_iterator(conf)) {
      const std::string file = entry.path().filename().string();
      if (file.rfind("zoo.cfg", 0) == 0) fs::remove(entry.path());
    }
    return Write(conf + "/zoo.cfg", Map(zoo_cfg));
  }

  // The JVM command line of server `id` at `version` (kFromVersion: zkpilot's
  // own; kToVersion: the same with the 3.9.3 distribution's classpath).
  Result<std::vector<std::string>> Argv(int id, const std::string& version) const {
    std::vector<std::string> argv;
    for (const auto& a : t_.nodes.at(id).launch.argv) argv.push_back(Map(a));
    if (version == kFromVersion) return argv;
    ZK_ASSIGN_OR_RETURN(auto jars, DistributionClasspath(version));
    auto cp = std::find(argv.begin(), argv.end(), "-cp");
    if (cp == argv.end() || cp + 1 == argv.end()) return Status::Internal("launch.json: no -cp");
    const std::string conf = NodeDirOf(id) + "/conf";
    if ((cp + 1)->rfind(conf + ":", 0) != 0)
      return Status::Internal("launch.json: -cp does not start with the conf dir: " + *(cp + 1));
    std::string classpath = conf;
    for (const auto& jar : jars) classpath += ":" + jar;
    *(cp + 1) = classpath;
    return argv;
  }

  Status Start(int id, const std::vector<std::string>& argv) {
    const LaunchSpec& launch = t_.nodes.at(id).launch;
    SpawnOptions spawn;
    spawn.argv = argv;
    spawn.working_dir = NodeDirOf(id);
    spawn.log_path = Map(launch.log_path);
    spawn.extra_env = launch.env;
    spawn.new_session = true;
    ZK_ASSIGN_OR_RETURN(int pid, Spawn(spawn));
    g_jvms.push_back({id, pid, Map(launch.marker)});
    return Status::Ok();
  }

  // SIGTERM and wait for the exit (SIGKILL after kStopGrace).
  Status Stop(int id) {
    for (auto it = g_jvms.begin(); it != g_jvms.end(); ++it) {
      if (it->id != id || it->marker.find(dir_ + "/") == std::string::npos) continue;
      const OwnedJvm jvm = *it;
      g_jvms.erase(it);
      return TerminateProcess(jvm.pid, jvm.marker, kStopGrace);
    }
    return Status::Internal(fmt::format("baseline server {} is not running", id));
  }

  void StopAll() {
    for (size_t i = 0; i < g_jvms.size();) {
      if (g_jvms[i].marker.find(dir_ + "/") == std::string::npos) {
        ++i;
        continue;
      }
      const OwnedJvm jvm = g_jvms[i];
      g_jvms.erase(g_jvms.begin() + static_cast<long>(i));
      Status s = TerminateProcess(jvm.pid, jvm.marker, kStopGrace);
      if (!s.ok()) Log("stopping baseline server " + std::to_string(jvm.id) + ": " + s.message());
    }
  }

  // Until the server answers ruok with imok.
  Status WaitRuok(int id) {
    const AdminClient admin(500ms);
    Status s = WaitFor(fmt::format("server {} to answer imok", id), 120s,
                       [&] { return admin.Ruok(Client(id)).ok(); });
    if (!s.ok() && !g_interrupted.load())
      return s.WithContext("log tail:\n" + TailFile(Map(t_.nodes.at(id).launch.log_path), 20));
    return s;
  }

 private:
  static Status Write(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return Status::IOError("writing " + path);
    return Status::Ok();
  }

  std::string dir_;
  const Templates& t_;
};

// zkpilot makes a version's class-data archive when it first prepares a
// server of that version on a machine (a training run, 2-3 s, once per JDK
// and distribution: docs/server-start.md), so a user's every upgrade but the
// first finds it made. So do the timed upgrades here: it is made now,
// untimed, when missing (ZKPILOT_CDS=0: not at all).
void WarmClassDataArchive(const Templates& t) {
  if (!CdsEnabledByEnvironment()) return;
  Baseline b(g.root + "/warm", t);
  auto argv = b.Argv(1, kToVersion);
  if (!argv.ok()) {
    Log("class-data archive for " + kToVersion + ": " + argv.status().message());
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  auto archive = CdsArchives(CdsOptions{CdsDir(g.distributions)}).ArchiveFor(*argv);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!archive.ok())
    Log("class-data archive for " + kToVersion + ": none (" + archive.status().message() + ")");
  else
    Log(fmt::format("class-data archive for {}: {} (untimed)", kToVersion,
                    archive->created ? fmt::format("made in {:.1f} s", took) : std::string("already made")));
}

// --- parts 1 and 2: rolls (upgrade, restart) -------------------------------------

// A roll of every server of an n-server ensemble that starts at kFromVersion.
struct Roll {
  std::string kind;     // "upgrade" or "restart": the zkpilot command
  std::string version;  // what the servers run afterwards
  int servers = 0;
};

// zkpilot's 3.9.3 command line of server 1 after its upgrade, to compare.
std::vector<std::string> g_zkpilot_upgraded_argv;
std::string g_zkpilot_upgraded_dir;

Status ZkpilotRoll(const Roll& roll, RunResult& out) {
  const std::string name = fmt::format("{}{}", roll.kind, roll.servers);
  Log(fmt::format("zkpilot: deploying {} servers at {} ...", roll.servers, kFromVersion));
  ZK_RETURN_IF_ERROR(Deploy(name, roll.servers));
  std::vector<std::string> operation{roll.kind, name};
  if (roll.kind == "upgrade") operation.insert(operation.end(), {"--version", roll.version});
  ZK_RETURN_IF_ERROR(ZkpilotRun(name, operation, roll.servers, roll.servers, out));
  if (roll.version != kFromVersion) {
    g_zkpilot_upgraded_dir = ClusterHome(g.home, name);
    if (auto text = ReadFile(LaunchSpecPath(NodeDir(g_zkpilot_upgraded_dir, 1))); text.ok()) {
      nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
      if (!j.is_discarded())
        if (auto spec = LaunchSpec::FromJson(j); spec.ok()) g_zkpilot_upgraded_argv = spec->argv;
    }
  }
  return DeleteCluster(name);
}

// The super-user digest differs per cluster; the rest must be equal.
std::vector<std::string> Comparable(std::vector<std::string> argv, const std::string& dir) {
  for (auto& a : argv) {
    a = ReplaceAll(a, dir, "<cluster>");
    if (a.rfind("-Dzookeeper.DigestAuthenticationProvider.superDigest=", 0) == 0)
      a = "-Dzookeeper.DigestAuthenticationProvider.superDigest=<digest>";
  }
  return argv;
}

// The baseline's command line for roll.version against zkpilot's after its upgrade.
Result<std::string> CompareArgv(const Baseline& b, const std::string& dir, const Roll& roll) {
  if (roll.version == kFromVersion || g_zkpilot_upgraded_argv.empty()) return std::string();
  ZK_ASSIGN_OR_RETURN(auto mine, b.Argv(1, roll.version));
  const bool same =
      Comparable(mine, dir) == Comparable(g_zkpilot_upgraded_argv, g_zkpilot_upgraded_dir);
  std::string note =
      same ? "baseline's " + roll.version + " JVM command line = zkpilot's (paths and digest aside)"
           : "WARNING: baseline's " + roll.version + " JVM command line differs from zkpilot's";
  if (!same) {
    std::string a, z;
    for (const auto& x : Comparable(mine, dir)) a += " " + x;
    for (const auto& x : Comparable(g_zkpilot_upgraded_argv, g_zkpilot_upgraded_dir)) z += " " + x;
    note += "\n    baseline:" + a + "\n    zkpilot: " + z;
  }
  return note;
}

Status BaselineRoll(const Templates& t, const Roll& roll, RunResult& out, std::string& argv_note) {
  const int n = roll.servers;
  const std::string dir = fmt::format("{}/baseline-{}{}", g.root, roll.kind, n);
  Baseline b(dir, t);
  ZK_ASSIGN_OR_RETURN(argv_note, CompareArgv(b, dir, roll));
  ZK_RETURN_IF_ERROR(WaitPortsFree());
  Log(fmt::format("baseline: starting {} servers at {} ...", n, kFromVersion));
  for (int id = 1; id <= n; ++id) {
    ZK_RETURN_IF_ERROR(b.Prepare(id, t.nodes.at(id).zoo_cfg));
    ZK_ASSIGN_OR_RETURN(auto argv, b.Argv(id, kFromVersion));
    ZK_RETURN_IF_ERROR(b.Start(id, argv));
  }
  ZK_RETURN_IF_ERROR(WaitHealthy(Ids(n), 120s));
  ZK_RETURN_IF_ERROR(LoadData(n, out));
  Observers observers;
  ZK_RETURN_IF_ERROR(observers.Start(n, b.Logs(n), fmt::format("baseline-{}{}", roll.kind, n)));
  Log(fmt::format("baseline: rolling {} -> 1 to {} ...", n, roll.version));
  const auto t0 = Clock::now();
  int step = 0;
  for (int id = n; id >= 1; --id) {
    const std::string mode = ModeOf(id);
    const auto at = Clock::now();
    ZK_RETURN_IF_ERROR(b.Stop(id));
    const auto stopped = Clock::now();
    ZK_ASSIGN_OR_RETURN(auto argv, b.Argv(id, roll.version));
    ZK_RETURN_IF_ERROR(b.Start(id, argv));
    ZK_RETURN_IF_ERROR(b.WaitRuok(id));
    out.steps.push_back(
        fmt::format("[{}/{}] t+{:4.1f}s  restart server {} ({}) with {}: stopped in {:.1f}s, imok "
                    "{:.1f}s after start",
                    ++step, n, Seconds(at - t0), id, mode, roll.version, Seconds(stopped - at),
                    Seconds(Clock::now() - stopped)));
  }
  out.operation_s = Seconds(Clock::now() - t0);
  ZK_RETURN_IF_ERROR(WaitHealthy(Ids(n), 120s).WithContext("after the baseline roll"));
  out.healthy_s = Seconds(Clock::now() - t0);
  ZK_RETURN_IF_ERROR(observers.Finish(out));
  out.final_state = FinalState(Ids(n));
  b.StopAll();
  return Status::Ok();
}

// --- part 2: scale 3 -> 5 -------------------------------------------------------

Status ZkpilotScale(RunResult& out) {
  const std::string name = "scale";
  Log("zkpilot: deploying 3 servers at " + kFromVersion + " ...");
  ZK_RETURN_IF_ERROR(Deploy(name, 3));
  ZK_RETURN_IF_ERROR(ZkpilotRun(name, {"scale", name, "--replicas", std::to_string(kMaxServers)}, 3,
                                kMaxServers, out));
  return DeleteCluster(name);
}

Status BaselineScale(const Templates& t, RunResult& out) {
  const std::string dir = g.root + "/baseline-scale";
  Baseline b(dir, t);
  ZK_RETURN_IF_ERROR(WaitPortsFree());
  Log("baseline: starting 3 servers with a static 3-server list ...");
  for (int id = 1; id <= 3; ++id) {
    ZK_RETURN_IF_ERROR(b.Prepare(id, EditZooCfg(t.nodes.at(id).zoo_cfg, 3, false)));
    ZK_ASSIGN_OR_RETURN(auto argv, b.Argv(id, kFromVersion));
    ZK_RETURN_IF_ERROR(b.Start(id, argv));
  }
  ZK_RETURN_IF_ERROR(WaitHealthy(Ids(3), 120s));
  ZK_RETURN_IF_ERROR(LoadData(3, out));
  Observers observers;
  ZK_RETURN_IF_ERROR(observers.Start(kMaxServers, b.Logs(kMaxServers), "baseline-scale"));
  Log("baseline: starting 4, 5 and rolling 3, 2, 1 with the 5-server list ...");
  const auto t0 = Clock::now();
  int step = 0;
  const int steps = 5;
  for (int id = 4; id <= kMaxServers; ++id) {
    const auto at = Clock::now();
    ZK_RETURN_IF_ERROR(b.Prepare(id, EditZooCfg(t.nodes.at(id).zoo_cfg, kMaxServers, false)));
    ZK_ASSIGN_OR_RETURN(auto argv, b.Argv(id, kFromVersion));
    ZK_RETURN_IF_ERROR(b.Start(id, argv));
    ZK_RETURN_IF_ERROR(b.WaitRuok(id));
    out.steps.push_back(fmt::format(
        "[{}/{}] t+{:4.1f}s  start server {} with the 5-server list: imok {:.1f}s after start",
        ++step, steps, Seconds(at - t0), id, Seconds(Clock::now() - at)));
  }
  for (int id = 3; id >= 1; --id) {
    const std::string mode = ModeOf(id);
    const auto at = Clock::now();
    ZK_RETURN_IF_ERROR(b.Stop(id));
    const auto stopped = Clock::now();
    ZK_RETURN_IF_ERROR(b.WriteZooCfg(id, EditZooCfg(t.nodes.at(id).zoo_cfg, kMaxServers, false)));
    ZK_ASSIGN_OR_RETURN(auto argv, b.Argv(id, kFromVersion));
    ZK_RETURN_IF_ERROR(b.Start(id, argv));
    ZK_RETURN_IF_ERROR(b.WaitRuok(id));
    out.steps.push_back(
        fmt::format("[{}/{}] t+{:4.1f}s  restart server {} ({}) with the 5-server list: stopped in "
                    "{:.1f}s, imok {:.1f}s after start",
                    ++step, steps, Seconds(at - t0), id, mode, Seconds(stopped - at),
                    Seconds(Clock::now() - stopped)));
  }
  out.operation_s = Seconds(Clock::now() - t0);
  ZK_RETURN_IF_ERROR(WaitHealthy(Ids(kMaxServers), 120s).WithContext("after the baseline scale"));
  out.healthy_s = Seconds(Clock::now() - t0);
  ZK_RETURN_IF_ERROR(observers.Finish(out));
  out.final_state = FinalState(Ids(kMaxServers));
  b.StopAll();
  return Status::Ok();
}

// --- cleanup ---------------------------------------------------------------------

// Live processes whose command line names `needle`.
std::vector<int> PidsNaming(const std::string& needle) {
  std::vector<int> pids;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    const int pid = std::stoi(name);
    if (pid == ::getpid()) continue;
    if (ProcessAlive(pid, needle)) pids.push_back(pid);
  }
  return pids;
}

void Cleanup() {
  if (g.root.empty()) return;
  if (g_java) g_java->Kill();
  for (const auto& jvm : g_jvms)
    if (ProcessAlive(jvm.pid, jvm.marker)) ::kill(jvm.pid, SIGKILL);
  for (const auto& jvm : g_jvms) ::waitpid(jvm.pid, nullptr, 0);
  g_jvms.clear();
  std::vector<int> supervisors;
  for (const auto& name : std::set<std::string>(g_clusters)) {
    if (int pid = SupervisorPid(g.home, name); pid > 0) supervisors.push_back(pid);
    Log("cleanup: zkpilot delete " + name + " --purge-data");
    auto r = Zkpilot({"delete", name, "--purge-data"}, 3min);
    if (!r.ok()) Log("cleanup: " + r.status().message());
  }
  for (int pid : supervisors)
    if (ProcessAlive(pid, "supervise")) ::kill(pid, SIGKILL);
  for (int pid : PidsNaming(g.root)) ::kill(pid, SIGKILL);
  Status gone = WaitFor("processes of " + g.root + " to exit", 30s,
                        [] { return PidsNaming(g.root).empty(); });
  if (!gone.ok()) Log("cleanup: " + gone.message());
  std::error_code ec;
  fs::remove_all(g.root, ec);
  if (ec) Log("cleanup: removing " + g.root + ": " + ec.message());
}

int Usage(const char* self, int code) {
  fmt::print(code == 0 ? stdout : stderr,
             "usage: {} [--part all|upgrade|restart|scale] [--servers 3,5] [--znodes N]\n"
             "       [--write-interval-ms N] [--zkpilot PATH]\n"
             "Rolling upgrade 3.8.0 -> 3.9.3 and rolling restart of 3- and 5-server local\n"
             "ensembles, and a scale 3 -> 5, under writes: zkpilot against a naive roll\n"
             "(see bench/roll_bench.cc). --znodes loads N znodes of 1 KiB before each\n"
             "operation (default 0).\n",
             self);
  return code;
}

// "3,5" -> {3, 5}; each 1..kMaxServers.
std::optional<std::vector<int>> ParseServers(const std::string& text) {
  std::vector<int> out;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    const int n = std::atoi(item.c_str());
    if (n < 1 || n > kMaxServers || std::to_string(n) != item) return std::nullopt;
    out.push_back(n);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// The Java writer, compiled against the kToVersion distribution's jars, or why not.
void BuildJavaWriter() {
  auto jars = DistributionClasspath(kToVersion);
  if (!jars.ok()) {
    g_java_why = "not built: " + jars.status().message();
    return;
  }
  Log("compiling bench/java/RollWriter.java ...");
  auto writer = JavaWriter::Build(std::string(ZKPILOT_SOURCE_DIR) + "/bench/java/RollWriter.java",
                                  g.root + "/java", *jars);
  if (writer.ok())
    g_java.emplace(std::move(*writer));
  else
    g_java_why = "not built: " + writer.status().message();
}

int Main(int argc, char** argv) {
  std::string part = "all";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--help" || a == "-h") return Usage(argv[0], 0);
    if (a == "--part") {
      part = value();
    } else if (a == "--servers") {
      auto servers = ParseServers(value());
      if (!servers) return Usage(argv[0], 2);
      g.servers = *servers;
    } else if (a == "--znodes") {
      const std::string v = value();
      char* end = nullptr;
      const long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0) return Usage(argv[0], 2);
      g.znodes = n;
    } else if (a == "--write-interval-ms") {
      const std::string v = value();
      const int ms = std::atoi(v.c_str());
      if (ms <= 0) return Usage(argv[0], 2);
      g.write_interval = milliseconds(ms);
    } else if (a == "--zkpilot") {
      g.zkpilot = value();
    } else {
      return Usage(argv[0], 2);
    }
  }
  if (part != "all" && part != "upgrade" && part != "restart" && part != "scale")
    return Usage(argv[0], 2);
  if (::access(g.zkpilot.c_str(), X_OK) != 0) {
    fmt::print(stderr, "bench/roll: {} is not an executable zkpilot\n", g.zkpilot);
    return 1;
  }
  const char* dist = std::getenv("ZKPILOT_DISTRIBUTIONS");
  const char* user_home = std::getenv("HOME");
  g.distributions = dist && *dist ? dist
                                  : std::string(user_home ? user_home : "/root") +
                                        "/.local/state/zkpilot/distributions";
  if (auto cp = DistributionClasspath(kToVersion); !cp.ok()) {
    fmt::print(stderr, "bench/roll: {}\n", cp.status().message());
    return 1;
  }
  g.base = FindPortBlock();
  if (g.base == 0) {
    fmt::print(stderr, "bench/roll: no free block of {} ports on 127.0.0.1\n",
               kMaxServers * kPortStride);
    return 1;
  }
  std::string tmpl = (fs::temp_directory_path() / "zkpilot-bench-roll-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    fmt::print(stderr, "bench/roll: mkdtemp: {}\n", std::strerror(errno));
    return 1;
  }
  g.root = tmpl;
  g.home = g.root + "/home";
  // Before any thread exists: every zkpilot command inherits these.
  ::setenv("ZKPILOT_HOME", g.home.c_str(), 1);
  ::setenv("ZKPILOT_DISTRIBUTIONS", g.distributions.c_str(), 1);
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  Log(fmt::format("ports {}..{}, directory {}, writes every {} ms", g.base,
                  g.base + (kMaxServers - 1) * kPortStride + kPortsPerServer - 1, g.root,
                  g.write_interval.count()));

  Status status = [&]() -> Status {
    BuildJavaWriter();
    if (!g_java) Log("Java client writer " + g_java_why);
    std::map<int, Templates> templates;  // by ensemble size
    auto templates_of = [&](int n) -> Result<const Templates*> {
      if (!templates.count(n)) {
        ZK_ASSIGN_OR_RETURN(templates[n], CaptureTemplates(n));
      }
      return &templates.at(n);
    };
    const std::string data =
        g.znodes > 0 ? fmt::format(", {} znodes of {} bytes", g.znodes, kZnodeBytes) : "";
    for (const std::string kind : {"upgrade", "restart"}) {
      if (part != "all" && part != kind) continue;
      for (int n : g.servers) {
        const Roll roll{kind, kind == "upgrade" ? kToVersion : kFromVersion, n};
        ZK_ASSIGN_OR_RETURN(const Templates* t, templates_of(n));
        if (kind == "upgrade" && n == g.servers.front()) WarmClassDataArchive(*t);
        RunResult z, b;
        std::string note;
        const std::string what = fmt::format("{} {}", kind, n);
        ZK_RETURN_IF_ERROR(ZkpilotRoll(roll, z).WithContext("zkpilot " + what));
        ZK_RETURN_IF_ERROR(BaselineRoll(*t, roll, b, note).WithContext("baseline " + what));
        const std::string versions = kind == "upgrade"
                                         ? fmt::format("{} -> {}", kFromVersion, kToVersion)
                                         : fmt::format("at {}", kFromVersion);
        PrintPart(fmt::format("{} {}, {} servers{}, a write every {} ms", kind, versions, n, data,
                              g.write_interval.count()),
                  z, b, note, PartKind::kRoll);
      }
    }
    if (part == "all" || part == "scale") {
      ZK_ASSIGN_OR_RETURN(const Templates* t, templates_of(kMaxServers));
      RunResult z, b;
      ZK_RETURN_IF_ERROR(ZkpilotScale(z).WithContext("zkpilot scale"));
      ZK_RETURN_IF_ERROR(BaselineScale(*t, b).WithContext("baseline scale"));
      PrintPart(fmt::format("scale 3 -> 5 servers ({}){}, a write every {} ms", kFromVersion, data,
                            g.write_interval.count()),
                z, b, "", PartKind::kScale);
    }
    return Status::Ok();
  }();
  if (!status.ok()) fmt::print(stderr, "bench/roll: FAILED: {}\n", status.message());
  Cleanup();
  return status.ok() ? 0 : 1;
}

}  // namespace
}  // namespace zkpilot::bench

int main(int argc, char** argv) { return zkpilot::bench::Main(argc, argv); }
