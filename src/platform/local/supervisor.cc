#include "platform/local/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <filesystem>
#include <map>
#include <thread>

#include "observe/exporter.h"
#include "platform/local/cds.h"
#include "platform/local/file_actions.h"
#include "platform/local/guardian.h"
#include "platform/local/liveness.h"
#include "platform/local/local_auth.h"
#include "platform/local/local_tls.h"
#include "platform/local/paths.h"
#include "platform/local/port_owner.h"
#include "platform/local/process.h"
#include "platform/local/services.h"
#include "platform/local/state_identity.h"
#include "state/state_store.h"
#include "util/files.h"

namespace zkpilot {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kMinBackoff = std::chrono::milliseconds(500);
constexpr auto kMaxBackoff = std::chrono::milliseconds(30000);
constexpr auto kStableUptime = std::chrono::seconds(60);

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

std::string LockPath(const std::string& home, const std::string& cluster) {
  return ClusterHome(home, cluster) + "/supervisor.lock";
}

// ZooKeeper servers are stopped with SIGKILL at once (docs/stopping-servers.md).
// SIGTERM buys nothing: QuorumPeerMain and ZooKeeperServerMain (3.8.0 and
// 3.9.3) register no shutdown hook of their own (the only one in
// zookeeper-server is ZKAuditProvider.java:106, an audit log line, and only
// with audit logging enabled), so on SIGTERM the JVM runs no ZooKeeper
// shutdown code, it only exits; and no acknowledgement depends on what a
// stop would flush: SyncRequestProcessor.flush() (SyncRequestProcessor.java:
// 227-235) calls ZKDatabase.commit(), that is FileTxnLog.commit() with
// FileChannel.force (FileTxnLog.java:376-386 in 3.8.0, 394-411 in 3.9.3),
// before it hands the requests on to the processor that acks or answers
// them. Measured (scripts/bench-stop.sh): SIGTERM takes 330-470 ms to exit,
// SIGKILL 9-60 ms; after SIGTERM the server writes no log line and no data
// file, and stops answering within 35 ms. The time goes to HotSpot's exit
// waiting up to 300 ms for threads in native code (the NIO selectors), not
// to any ZooKeeper work.
// Other processes (Prometheus, Alertmanager) keep SIGTERM and a grace period.
constexpr StopMode kServerStop = StopMode::kKill;
constexpr auto kUnusedGrace = std::chrono::milliseconds(0);  // kKill has no grace period

// How often the supervisor looks at zkpilot's own certificate, and how soon
// again after a probe met a credential problem.
constexpr auto kOwnCertificateCheck = std::chrono::minutes(10);
constexpr auto kOwnCertificateRetry = std::chrono::seconds(5);

// Per-node restart bookkeeping, in memory only.
struct NodeRuntime {
  int failures = 0;
  Clock::time_point next_start{};
  Clock::time_point started{};
};

class Supervisor {
 public:
  Supervisor(const SupervisorOptions& options, std::unique_ptr<StateStore> store)
      : options_(options), store_(std::move(store)) {
    if (CdsEnabledByEnvironment())
      cds_ = std::make_unique<CdsArchives>(CdsOptions{CdsDir(DistributionsDir(options_.home))});
  }

  // One reconciliation pass. Returns false when there is nothing left to do.
  bool Reconcile() {
    ReapChildren();
    auto cluster = store_->GetCluster(options_.cluster);
    if (!cluster.ok()) {
      spdlog::warn("reading state: {}", cluster.status().message());
      return true;  // transient (e.g. locked); try again
    }
    if (!cluster->has_value()) {
      spdlog::info("cluster {} is gone; supervisor exits", options_.cluster);
      return false;
    }
    auto nodes = store_->ListNodes(options_.cluster);
    if (!nodes.ok()) {
      spdlog::warn("reading nodes: {}", nodes.status().message());
      return true;
    }
    bool anything = false;
    liveness_settings_ = LivenessSettingsOf(*store_, **cluster);
    cluster_home_ = (*cluster)->home;
    liveness_.BeginPass();
    for (const auto& node : *nodes) anything = ReconcileNode(node) || anything;
    liveness_.EndPass();
    RenewOwnCertificateWhenDue((*cluster)->home, *nodes);
    anything = ReconcileServices((*cluster)->home, *nodes) || anything;
    return anything;
  }

 private:
  // The probe of one server speaks as the server does: by the TLS stage its
  // process was started at (TlsClientFilesForStage); the revision's values
  // when that is not known.
  LivenessSettings LivenessFor(const NodeRecord& node) const {
    LivenessSettings s = liveness_settings_;
    s.tls = TlsClientFilesForStage(node.tls_stage, cluster_home_, liveness_settings_.tls);
    return s;
  }

  void ReapChildren() {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) exits_[pid] = DescribeWaitStatus(status);
  }

  Result<LaunchSpec> LoadLaunch(const NodeRecord& node) {
    ZK_ASSIGN_OR_RETURN(std::string text, ReadFile(LaunchSpecPath(node.dir)));
    try {
      return LaunchSpec::FromJson(nlohmann::json::parse(text));
    } catch (const std::exception& e) {
      return Status::IOError(LaunchSpecPath(node.dir) + ": " + e.what());
    }
  }

  void Start(const NodeRecord& node, const LaunchSpec& launch) {
    NodeRuntime& rt = runtime_[node.id];
    std::vector<std::string> argv = launch.argv;
    if (cds_) {
      std::string note;
      argv = cds_->Prepare(launch.argv, &note);
      spdlog::info("node {}: {}", node.id, note);
    }
    // A snapshot the killed process did not finish would be loaded as if it
    // had (file_actions.h): the server would then refuse to start.
    auto stale = RemoveUncommittedSnapshots(node.dir + "/conf");
    if (!stale.ok()) spdlog::warn("node {}: {}", node.id, stale.status().message());
    else if (!stale->empty()) spdlog::info("node {}: removed an unfinished snapshot: {}", node.id, *stale);
    // What the process runs is observed from the file it starts with (the
    // last argument of NodeCommand): after a reconfig ZooKeeper's rewrite of
    // it, not what zkpilot last rendered (QuorumPeerConfig.editStaticConfig).
    const std::string zoo_cfg = node.dir + "/conf/zoo.cfg";
    auto cfg = ReadFile(zoo_cfg);
    const int tls_stage = cfg.ok() ? static_cast<int>(ClassifyTlsStage(*cfg)) : -1;
    const int quorum_auth_stage = cfg.ok() ? ClassifyQuorumAuthStage(*cfg) : -1;
    if (!cfg.ok()) spdlog::warn("node {}: {}", node.id, cfg.status().message());
    SpawnOptions spawn{argv, node.dir, launch.log_path, launch.env, true};
    auto pid = Spawn(spawn);
    if (!pid.ok()) {
      spdlog::error("node {}: cannot start: {}", node.id, pid.status().message());
      (void)store_->RecordNodeExit(node.cluster, node.id, "could not start: " + pid.status().message(), true);
      ScheduleRetry(rt);
      return;
    }
    rt.started = Clock::now();
    Status s = store_->SetNodeProcess(node.cluster, node.id, *pid, node.generation, NowMillis(), tls_stage,
                                      quorum_auth_stage);
    if (!s.ok()) spdlog::error("node {}: recording pid {}: {}", node.id, *pid, s.message());
    spdlog::info("node {}: started, pid {} (generation {}, TLS stage {}, quorum SASL stage {})", node.id, *pid,
                 node.generation, tls_stage, quorum_auth_stage);
  }

  void ScheduleRetry(NodeRuntime& rt) {
    if (rt.started != Clock::time_point{} && Clock::now() - rt.started > kStableUptime) rt.failures = 0;
    ++rt.failures;
    auto backoff = kMinBackoff * (1 << std::min(rt.failures - 1, 6));
    rt.next_start = Clock::now() + std::min<std::chrono::milliseconds>(backoff, kMaxBackoff);
  }

  // Returns true while the node needs supervision (desired running or still alive).
  bool ReconcileNode(const NodeRecord& node) {
    auto launch = LoadLaunch(node);
    std::string marker = launch.ok() ? launch->marker : node.dir;
    bool alive = ProcessAlive(node.pid, marker);
    NodeRuntime& rt = runtime_[node.id];

    if (node.desired != "running") {
      if (alive) {
        spdlog::info("node {}: stopping pid {}", node.id, node.pid);
        auto how = StopServerProcess(node.pid, marker);
        if (!how.ok()) spdlog::error("node {}: {}", node.id, how.status().message());
        if (how.ok()) spdlog::info("node {}: pid {} {}", node.id, node.pid, *how);
      }
      if (node.pid != 0) (void)store_->RecordNodeExit(node.cluster, node.id, "stopped", false);
      return false;
    }
    if (!launch.ok()) {
      spdlog::error("node {}: {}", node.id, launch.status().message());
      return true;
    }
    if (alive && node.generation > node.started_generation) {
      spdlog::info("node {}: restart requested (generation {}), stopping pid {}", node.id, node.generation, node.pid);
      auto how = StopServerProcess(node.pid, marker);
      if (!how.ok()) spdlog::error("node {}: {}", node.id, how.status().message());
      ReapChildren();
      (void)store_->RecordNodeExit(node.cluster, node.id,
                                   "restarted on request (" + (how.ok() ? *how : std::string("not stopped")) + ")",
                                   false);
      rt.failures = 0;
      Start(node, *launch);
      return true;
    }
    if (alive) {
      const std::string why =
          liveness_.Check(node.id, node.pid, Endpoint{"127.0.0.1", node.client_port}, node.started_at,
                          LivenessFor(node));
      if (!why.empty()) KillUnresponsive(node, marker, why);
      return true;
    }
    if (node.pid != 0) {
      auto it = exits_.find(node.pid);
      std::string how = it != exits_.end() ? it->second : "exited (pid " + std::to_string(node.pid) + " gone)";
      if (it != exits_.end()) exits_.erase(it);
      bool requested = node.generation > node.started_generation;
      spdlog::warn("node {}: pid {} {}", node.id, node.pid, how);
      (void)store_->RecordNodeExit(node.cluster, node.id, how, !requested);
      if (!requested) ScheduleRetry(rt);
      return true;  // start on a later pass, after the backoff
    }
    // A restart asked for by a command (e.g. with a repaired configuration)
    // does not wait out the crash backoff.
    if (node.generation > node.started_generation) rt.next_start = Clock::now();
    if (Clock::now() >= rt.next_start) Start(node, *launch);
    return true;
  }

  // zkpilot's own certificate is renewed here, not only when a server is
  // prepared: a cluster left alone would otherwise outlive it and could no
  // longer be probed, watched by the exporter or managed. Looked at every
  // kOwnCertificateCheck, and at once (at most every few seconds) when a
  // probe could not be made or was refused for credentials.
  void RenewOwnCertificateWhenDue(const std::string& cluster_home, const std::vector<NodeRecord>& nodes) {
    // Also while a server runs at a TLS stage the values do not ask for
    // (a migration under way, either way): zkpilot talks TLS to it.
    const bool tls = liveness_settings_.tls ||
                     std::any_of(nodes.begin(), nodes.end(), [](const NodeRecord& n) { return n.tls_stage >= 1; });
    if (!tls) return;
    const auto now = Clock::now();
    const bool hinted = liveness_.TakeCredentialProblem();
    const bool due = last_certificate_check_ == Clock::time_point{} ||
                     now - last_certificate_check_ >= kOwnCertificateCheck ||
                     (hinted && now - last_certificate_check_ >= kOwnCertificateRetry);
    if (!due) return;
    last_certificate_check_ = now;
    auto renewed = RenewOwnCertificate(options_.cluster, cluster_home, liveness_settings_.pki);
    if (!renewed.ok()) {
      if (renewed.status().message() != last_certificate_error_)
        spdlog::warn("renewing zkpilot's certificate: {}", renewed.status().message());
      last_certificate_error_ = renewed.status().message();
      return;
    }
    last_certificate_error_.clear();
    if (!renewed->empty()) spdlog::info("{}", *renewed);
  }

  // A server that stopped answering (liveness.h) is killed like a crashed
  // one: its exit recorded with the reason and counted, restarted after the
  // crash backoff.
  void KillUnresponsive(const NodeRecord& node, const std::string& marker, const std::string& why) {
    spdlog::warn("node {}: pid {}: {}; killing it", node.id, node.pid, why);
    auto how = StopServerProcess(node.pid, marker);
    ReapChildren();
    exits_.erase(node.pid);
    char at[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(at, sizeof at, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
    const std::string record = why + "; killed at " + at + " (" + (how.ok() ? *how : how.status().message()) +
                               ") and restarted";
    (void)store_->RecordNodeExit(node.cluster, node.id, record, true);
    ScheduleRetry(runtime_[node.id]);
  }

  // Prometheus, Alertmanager (processes) and the exporter (in this process).
  // Returns true while any is enabled or still running.
  bool ReconcileServices(const std::string& cluster_home, const std::vector<NodeRecord>& nodes) {
    auto services = ReadServices(cluster_home);
    if (!services.ok()) {
      spdlog::warn("services: {}", services.status().message());
      return true;
    }
    bool anything = false;
    for (const auto& spec : *services) {
      if (spec.name == kExporterService) {
        anything = ReconcileExporter(spec, nodes) || anything;
        continue;
      }
      const int pid = ServicePid(cluster_home, spec.name);
      const bool alive = ProcessAlive(pid, spec.launch.marker);
      if (!spec.enabled) {
        if (alive) {
          spdlog::info("{}: stopping pid {}", spec.name, pid);
          Status st = TerminateProcess(pid, spec.launch.marker, options_.stop_grace);
          if (!st.ok()) spdlog::error("{}: {}", spec.name, st.message());
        }
        if (pid != 0) SetServicePid(cluster_home, spec.name, 0);
        continue;
      }
      anything = true;
      if (alive) continue;
      auto& next = service_next_start_[spec.name];
      if (Clock::now() < next) continue;
      next = Clock::now() + std::chrono::seconds(3);
      if (pid != 0) spdlog::warn("{}: pid {} is gone; starting it again", spec.name, pid);
      auto started = Spawn(SpawnOptions{spec.launch.argv, "", spec.launch.log_path, spec.launch.env, true});
      if (!started.ok()) {
        spdlog::error("{}: cannot start: {}", spec.name, started.status().message());
        continue;
      }
      SetServicePid(cluster_home, spec.name, *started);
      spdlog::info("{}: started, pid {} ({})", spec.name, *started, spec.address);
    }
    return anything;
  }

  bool ReconcileExporter(const ServiceSpec& spec, const std::vector<NodeRecord>& nodes) {
    std::vector<std::pair<int, Endpoint>> servers;
    std::map<int, int> stages;  // how each server is read (its TLS stage)
    for (const auto& n : nodes)
      if (n.desired == "running") {
        servers.push_back({n.id, Endpoint{"127.0.0.1", n.client_port}});
        stages[n.id] = n.tls_stage;
      }
    const bool wanted = spec.enabled && !servers.empty();
    if (exporter_ && (!wanted || servers != exporter_servers_ || spec.port != exporter_port_ ||
                      stages != exporter_stages_)) {
      exporter_->Stop();
      exporter_.reset();
      spdlog::info("exporter: stopped");
    }
    if (!wanted || exporter_) return wanted;
    ExporterOptions options;
    options.cluster = options_.cluster;
    options.servers = servers;
    options.port = spec.port;
    options.tls = liveness_settings_.tls;  // read like the liveness probe: over TLS on a TLS cluster
    for (const auto& [id, stage] : stages)
      options.server_tls[id] = TlsClientFilesForStage(stage, cluster_home_, liveness_settings_.tls);
    std::map<int, std::string> states;
    for (const auto& n : nodes) states[n.id] = n.desired;
    options.node_states = [states] { return states; };
    // zkpilot's own records: operations by type and outcome, restarts. Read
    // through a connection of the scrape's own (StateStore is per thread).
    options.self_metrics = [home = options_.home, cluster = options_.cluster] {
      ExporterSelf self;
      auto store = StateStore::Open(StateDbPath(home));
      if (!store.ok()) return self;
      if (auto ops = (*store)->ListOperations(cluster); ops.ok())
        for (const auto& op : *ops) ++self.operations[{op.type, OperationStatusName(op.status)}];
      if (auto records = (*store)->ListNodes(cluster); records.ok())
        for (const auto& n : *records) self.node_restarts[n.id] = n.restarts;
      return self;
    };
    // Another program on a server's port (identity, port_owner.h) is not
    // that server: its answers would hide the server being down.
    options.vouch = [home = options_.home, cluster = options_.cluster](int id, const Endpoint& e) -> Status {
      auto store = StateStore::Open(StateDbPath(home));
      if (!store.ok()) return Status::Ok();  // unknown: the answer decides, as before
      auto records = (*store)->ListNodes(cluster);
      if (!records.ok()) return Status::Ok();
      for (const auto& n : *records)
        if (n.id == id && n.pid > 0 && WhoListens(e.port, n.pid) == PortListener::kOther)
          return Status::Unavailable("port " + std::to_string(e.port) + " is held by another process, not this " +
                                     "cluster's server " + std::to_string(id));
      return Status::Ok();
    };
    auto exporter = std::make_unique<Exporter>(options);
    Status started = exporter->Start();
    if (!started.ok()) {
      spdlog::error("exporter: {}", started.message());
      return true;  // try again on the next pass
    }
    spdlog::info("exporter: serving {} servers on 127.0.0.1:{}", servers.size(), exporter->port());
    exporter_ = std::move(exporter);
    exporter_servers_ = servers;
    exporter_stages_ = stages;
    exporter_port_ = spec.port;
    return true;
  }

  SupervisorOptions options_;
  std::unique_ptr<CdsArchives> cds_;  // null: ZKPILOT_CDS=0
  std::unique_ptr<StateStore> store_;
  std::map<std::string, Clock::time_point> service_next_start_;
  std::unique_ptr<Exporter> exporter_;
  std::vector<std::pair<int, Endpoint>> exporter_servers_;
  std::map<int, int> exporter_stages_;
  int exporter_port_ = 0;
  std::map<int, NodeRuntime> runtime_;
  std::map<int, std::string> exits_;  // exit descriptions of reaped children
  LivenessMonitor liveness_;
  LivenessSettings liveness_settings_;
  std::string cluster_home_;  // the cluster's, read at each pass
  Clock::time_point last_certificate_check_{};
  std::string last_certificate_error_;  // said once until it changes
};

}  // namespace

Result<std::string> StopServerProcess(int pid, const std::string& marker) {
  return StopProcess(pid, marker, kServerStop, kUnusedGrace);
}

nlohmann::json LaunchSpec::ToJson() const {
  return {{"argv", argv}, {"env", env}, {"marker", marker}, {"log", log_path}};
}

Result<LaunchSpec> LaunchSpec::FromJson(const nlohmann::json& j) {
  LaunchSpec s;
  try {
    s.argv = j.at("argv").get<std::vector<std::string>>();
    s.env = j.value("env", std::vector<std::string>{});
    s.marker = j.value("marker", "");
    s.log_path = j.value("log", "");
  } catch (const std::exception& e) {
    return Status::IOError(std::string("launch spec: ") + e.what());
  }
  if (s.argv.empty()) return Status::IOError("launch spec: empty argv");
  return s;
}

std::string LaunchSpecPath(const std::string& node_dir) { return node_dir + "/conf/launch.json"; }

int RunSupervisor(const SupervisorOptions& options) {
  const std::string lock_path = LockPath(options.home, options.cluster);
  std::error_code ec;
  std::filesystem::create_directories(ClusterHome(options.home, options.cluster), ec);
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    spdlog::info("another supervisor runs for {}; exiting", options.cluster);
    return 0;
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  (void)!::ftruncate(fd, 0);
  (void)!::pwrite(fd, pid.data(), pid.size(), 0);

  auto store = StateStore::Open(StateDbPath(options.home));
  if (!store.ok()) {
    spdlog::error("{}", store.status().message());
    return 1;
  }
  // The database it acts on must stay the one it opened (state_identity.h).
  auto identity = TakeStateDbIdentity(**store, StateDbPath(options.home), options.cluster);
  if (!identity.ok()) {
    spdlog::info("cluster {}: {}; supervisor exits", options.cluster, identity.status().message());
    return 0;
  }
  if (auto record = (*store)->GetCluster(options.cluster);
      record.ok() && record->has_value() && !RecordedForThisHome(**record, options.home)) {
    spdlog::error("cluster {}: state.db records its directory as {}, not under {}: a database moved in from "
                  "another state directory; this supervisor does not act on it",
                  options.cluster, (*record)->home, options.home);
    return 0;  // 0: under systemd, Restart=on-failure must not start it again
  }
  StateStore& db = **store;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);

  // SIGUSR1 (KickSupervisor) ends a wait early; it is only ever taken by sigtimedwait.
  sigset_t kick;
  sigemptyset(&kick);
  sigaddset(&kick, SIGUSR1);
  ::sigprocmask(SIG_BLOCK, &kick, nullptr);
  spdlog::info("supervisor for {} started, pid {}", options.cluster, ::getpid());
  Supervisor supervisor(options, std::move(store).value());
  int exit_code = 0;
  Clock::time_point next_guardian_start{};
  while (!g_stop) {
    if (Status mine = CheckStateDbIdentity(*identity, db); !mine.ok()) {
      spdlog::error("{}: this supervisor stops acting on it and exits; the servers keep running without "
                    "supervision (`zkpilot list` shows them, `zkpilot delete --orphans` stops them)",
                    mine.message());
      RemoveStaleJournal(*identity);
      exit_code = 1;
      break;
    }
    if (!supervisor.Reconcile()) break;
    // Watched in turn: a guardian that died is started again (guardian.h).
    if (!SupervisedBySystemd() && GuardianPid(options.home, options.cluster) == 0 &&
        Clock::now() >= next_guardian_start) {
      next_guardian_start = Clock::now() + std::chrono::seconds(1);
      Status s = EnsureGuardian(options.home, options.cluster);
      if (!s.ok()) spdlog::error("{}", s.message());
    }
    const auto ms = options.poll.count();
    timespec wait{static_cast<time_t>(ms / 1000), static_cast<long>((ms % 1000) * 1000000)};
    ::sigtimedwait(&kick, nullptr, &wait);  // a kick, a timeout or SIGTERM (EINTR)
  }
  spdlog::info("supervisor for {} exits{}", options.cluster, g_stop ? " on a signal (nodes keep running)" : "");
  ::close(fd);
  return exit_code;
}

int SupervisorPid(const std::string& home, const std::string& cluster) {
  return LockHolderPid(LockPath(home, cluster));
}

Status EnsureSupervisor(const std::string& home, const std::string& cluster) {
  if (SupervisorPid(home, cluster) > 0) return Status::Ok();
  SpawnOptions spawn;
  spawn.argv = {SelfExecutable(), "supervise", cluster, "--home", home};
  spawn.log_path = ClusterHome(home, cluster) + "/supervisor.log";
  spawn.new_session = true;
  int pid = 0;  // our child, unless systemd runs it (guardian.h)
  if (ChooseSupervision() == Supervision::kSystemd) {
    ZK_ASSIGN_OR_RETURN(CommandResult run,
                        RunCommand(SystemdSupervisorCommand(SelfExecutable(), home, cluster), std::chrono::seconds(10)));
    if (run.exit_code != 0 && SupervisorPid(home, cluster) == 0)
      return Status::IOError("systemd-run could not start the supervisor of " + cluster + ": " + run.output);
  } else {
    ZK_ASSIGN_OR_RETURN(pid, Spawn(spawn));
  }
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    if (SupervisorPid(home, cluster) > 0) return Status::Ok();
    int status = 0;
    if (pid > 0 && ::waitpid(pid, &status, WNOHANG) == pid) {
      // It exited at once: another one won the race, or it failed.
      if (SupervisorPid(home, cluster) > 0) return Status::Ok();
      return Status::IOError("supervisor for " + cluster + " " + DescribeWaitStatus(status) + ":\n" +
                             TailFile(spawn.log_path, 10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::IOError("supervisor for " + cluster + " did not start within 10s:\n" + TailFile(spawn.log_path, 10));
}

void KickSupervisor(const std::string& home, const std::string& cluster) {
  int pid = SupervisorPid(home, cluster);
  if (pid > 0) ::kill(pid, SIGUSR1);
}

Status WaitSupervisorExit(const std::string& home, const std::string& cluster, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    int pid = SupervisorPid(home, cluster);
    if (pid == 0) return Status::Ok();
    ::waitpid(pid, nullptr, WNOHANG);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  int pid = SupervisorPid(home, cluster);
  if (pid == 0) return Status::Ok();
  return TerminateProcess(pid, "supervise", std::chrono::seconds(5));
}

}  // namespace zkpilot
