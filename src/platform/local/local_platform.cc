#include "platform/local/local_platform.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "observe/health.h"
#include "platform/local/hooks.h"
#include "platform/local/paths.h"
#include "platform/local/process.h"
#include "platform/local/services.h"
#include <csignal>
#include "platform/local/supervisor.h"
#include "util/files.h"
#include "util/hash.h"
#include "zk/ensemble_config.h"
#include "zk/zk_client.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A node that exits this many times while we wait for health is broken, not slow.
constexpr int kCrashLoopExits = 2;
constexpr int kLogTailLines = 25;

Status WriteFileAtomically(const std::string& path, const std::string& content, mode_t mode = 0644) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) return Status::IOError(path + ": cannot write");
  }
  ::chmod(tmp.c_str(), mode);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Status::IOError(path + ": " + ec.message());
  return Status::Ok();
}

Status MakeWritableDir(const std::string& dir, const std::string& what) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::InvalidInput(what + " " + dir + ": cannot create: " + ec.message());
  if (::access(dir.c_str(), W_OK) != 0) return Status::InvalidInput(what + " " + dir + ": not writable");
  return Status::Ok();
}

// Console logging for both logging back ends ZooKeeper builds use.
constexpr const char* kLog4jProperties =
    "log4j.rootLogger=INFO, CONSOLE\n"
    "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"
    "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"
    "log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] - %-5p [%t:%C{1}@%L] - %m%n\n"
    // zkpilot polls `srvr` several times a second; one INFO line per poll
    // would bury everything else.
    "log4j.logger.org.apache.zookeeper.server.NIOServerCnxn=WARN\n";

std::vector<std::string> SplitWords(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

std::string LocalCluster::ConnectString() const {
  std::string out;
  for (const auto& n : nodes) out += (out.empty() ? "" : ",") + n.endpoint.host + ":" + std::to_string(n.endpoint.client_port);
  return out;
}

Result<Distribution> DistributionForVersion(const Package& package, const Values& values, const std::string& home) {
  const std::string version = values.Get(package.version_parameter).get<std::string>();
  const VersionSpec* spec = package.FindVersion(version);
  if (!spec) return Status::InvalidInput("version " + version + " is not in package " + package.name);
  if (spec->distribution.empty())
    return Status::NotFound("version " + version + " has no local distribution in package " + package.name);
  DistributionStore store(DistributionsDir(home));
  auto d = store.Find(spec->distribution);
  if (!d.ok()) return d.status().WithContext("version " + version);
  return d;
}

Result<std::string> EnsureSuperPassword(const std::string& cluster_home) {
  const std::string path = cluster_home + "/super.secret";
  if (fs::exists(path)) {
    ZK_ASSIGN_OR_RETURN(std::string pw, ReadFile(path));
    while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
    if (!pw.empty()) return pw;
  }
  static const char kAlphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::random_device rd;
  std::string pw;
  for (int i = 0; i < 32; ++i) pw += kAlphabet[rd() % (sizeof kAlphabet - 1)];
  ZK_RETURN_IF_ERROR(MakeWritableDir(cluster_home, "cluster directory"));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(path, pw + "\n", 0600));
  return pw;
}

std::vector<std::string> NodeCommand(const LocalCluster& cluster, const LocalNode& node, const std::string& java) {
  const std::string heap = cluster.values.Get("heapSize").get<std::string>();
  std::vector<std::string> argv = {
      java,
      "-Xmx" + heap,
      "-Xms" + heap,
      "-Dzkpilot.node=" + node.dir,  // the marker that identifies this node's process
      "-Dzookeeper.log.dir=" + node.dir,
      "-Dlog4j.configuration=file:" + node.conf_dir + "/log4j.properties",
      "-Dlogback.configurationFile=" + node.conf_dir + "/logback.xml",
      "-Dzookeeper.DigestAuthenticationProvider.superDigest=" + DigestId("super", cluster.super_password),
  };
  for (const auto& w : SplitWords(cluster.values.Get("jvmFlags").get<std::string>())) argv.push_back(w);
  argv.insert(argv.end(), {"-cp", cluster.distribution.ClasspathString(node.conf_dir), cluster.distribution.main_class,
                           node.conf_dir + "/zoo.cfg"});
  return argv;
}

LocalPlatform::LocalPlatform(StateStore& store, LocalCluster& cluster, int64_t operation_id, LocalPlatformOptions options)
    : store_(store), cluster_(cluster), operation_id_(operation_id), options_(options) {}

Result<const LocalNode*> LocalPlatform::NodeArg(const Step& step) const {
  int id = step.args.value("node", 0);
  for (const auto& n : cluster_.nodes)
    if (n.endpoint.id == id) return &n;
  return Status::Internal("step " + step.kind + ": no node " + std::to_string(id) + " in cluster " + cluster_.name);
}

Result<std::string> LocalPlatform::RunStep(const Step& step) {
  const std::vector<int> members = step.args.value("members", std::vector<int>{});
  if (step.kind == "prepare-node" || step.kind == "start-node") {
    ZK_ASSIGN_OR_RETURN(const LocalNode* node, NodeArg(step));
    if (step.kind == "start-node") return StartNode(*node);
    prepare_members_ = members;
    return PrepareNode(*node);
  }
  if (step.kind == "wait-healthy")
    return WaitHealthyImpl(std::chrono::milliseconds(step.args.value("timeout_ms", 120000)), members,
                           step.args.value("except", std::vector<int>{}));
  if (step.kind == "restart-node") {
    ZK_ASSIGN_OR_RETURN(const LocalNode* node, NodeArg(step));
    return RestartNode(*node, step.args.value("generation", int64_t{1}),
                       std::chrono::milliseconds(step.args.value("timeout_ms", 120000)));
  }
  if (step.kind == "reconfig-add" || step.kind == "reconfig-remove") {
    ZK_ASSIGN_OR_RETURN(const LocalNode* node, NodeArg(step));
    return Reconfig(*node, step.kind == "reconfig-add");
  }
  if (step.kind == "stop-node") {
    ZK_ASSIGN_OR_RETURN(const LocalNode* node, NodeArg(step));
    return StopNode(*node);
  }
  if (step.kind == "forget-node") {
    ZK_ASSIGN_OR_RETURN(const LocalNode* node, NodeArg(step));
    Status s = store_.DeleteNode(cluster_.name, node->endpoint.id);
    if (!s.ok() && s.code() != ErrorCode::kNotFound) return s;
    return "server " + std::to_string(node->endpoint.id) + " removed from the state";
  }
  if (step.kind == "run-hooks") {
    static const std::map<std::string, HookEvent> kEvents = {
        {"deploy", HookEvent::kDeploy}, {"upgrade", HookEvent::kUpgrade}, {"scale", HookEvent::kScale}, {"delete", HookEvent::kDelete}};
    auto ev = kEvents.find(step.args.value("event", ""));
    if (ev == kEvents.end()) return Status::Internal("run-hooks: unknown event");
    HookEnv env;
    env.connect_string = cluster_.ConnectString();
    env.super_password = cluster_.super_password;
    env.nodes.clear();
    const std::vector<int> only = step.args.value("nodes", std::vector<int>{});
    for (const auto& n : cluster_.nodes)
      if (only.empty() || std::find(only.begin(), only.end(), n.endpoint.id) != only.end()) env.nodes.push_back(n);
    if (!members.empty()) {
      env.connect_string.clear();
      for (const LocalNode* m : Members(members))
        env.connect_string += (env.connect_string.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(m->endpoint.client_port);
    }
    env.distribution = &cluster_.distribution;
    env.values = &cluster_.values;
    env.purge_data = options_.purge_data || step.args.value("purge", false);
    env.store = &store_;
    env.operation_id = operation_id_;
    return RunHooks(cluster_.package, ev->second,
                    step.args.value("phase", "") == "init" ? HookPhase::kInit : HookPhase::kCleanup, env);
  }
  if (step.kind == "stop-nodes") return StopNodes();
  if (step.kind == "apply-addons") return ApplyAddons();
  if (step.kind == "wait-ports-free") return WaitPortsFree();
  return Status::Internal("the local platform cannot run a step of kind " + step.kind);
}

Result<LocalPlatform::NodeFiles> LocalPlatform::RenderNodeFiles(const LocalNode& node, const std::vector<int>& members) const {
  const NodeEndpoint& e = node.endpoint;
  RenderOptions opts{cluster_.name, "local", "local"};
  std::vector<NodeEndpoint> endpoints;
  for (const LocalNode* m : Members(members)) endpoints.push_back(m->endpoint);
  NodeFiles files;
  ZK_ASSIGN_OR_RETURN(files.zoo_cfg, RenderDeclaredFile(cluster_.package, cluster_.values, opts, endpoints, e, "zooCfg"));
  auto logback = RenderDeclaredFile(cluster_.package, cluster_.values, opts, endpoints, e, "logback");
  if (logback.ok()) files.logback = *logback;
  std::string java = FindInPath("java");
  if (java.empty()) return Status::NotFound("java is not installed (apt-get install default-jre-headless)");
  LaunchSpec launch;
  launch.argv = NodeCommand(cluster_, node, java);
  launch.marker = "-Dzkpilot.node=" + node.dir;
  launch.log_path = node.log_path;
  files.launch_json = launch.ToJson().dump(2) + "\n";
  // What a running server would need a restart for: everything but the
  // membership, which changes by dynamic reconfiguration.
  std::string hashed;
  std::istringstream cfg(files.zoo_cfg);
  for (std::string line; std::getline(cfg, line);)
    if (line.rfind("server.", 0) != 0) hashed += line + "\n";
  files.fingerprint = Sha256Hex(hashed + '\0' + files.logback + '\0' + kLog4jProperties + '\0' + files.launch_json);
  return files;
}

Result<bool> LocalPlatform::NeedsRestart(const LocalNode& node) const {
  ZK_ASSIGN_OR_RETURN(NodeFiles files, RenderNodeFiles(node, {}));
  auto stored = ReadFile(node.conf_dir + "/prepared.sha256");
  return !stored.ok() || *stored != files.fingerprint + "\n";
}

Result<std::string> LocalPlatform::PrepareNode(const LocalNode& node) {
  const NodeEndpoint& e = node.endpoint;
  ZK_RETURN_IF_ERROR(MakeWritableDir(node.conf_dir, "node directory"));
  ZK_RETURN_IF_ERROR(MakeWritableDir(e.data_dir, "dataDir"));
  if (!e.data_log_dir.empty()) ZK_RETURN_IF_ERROR(MakeWritableDir(e.data_log_dir, "dataLogDir"));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(e.data_dir + "/myid", std::to_string(e.id) + "\n"));
  ZK_ASSIGN_OR_RETURN(NodeFiles files, RenderNodeFiles(node, prepare_members_));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(node.conf_dir + "/zoo.cfg", files.zoo_cfg));
  if (!files.logback.empty()) ZK_RETURN_IF_ERROR(WriteFileAtomically(node.conf_dir + "/logback.xml", files.logback));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(node.conf_dir + "/log4j.properties", kLog4jProperties));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(LaunchSpecPath(node.dir), files.launch_json));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(node.conf_dir + "/prepared.sha256", files.fingerprint + "\n"));

  ZK_ASSIGN_OR_RETURN(auto existing, store_.ListNodes(cluster_.name));
  NodeRecord record;
  for (const auto& r : existing)
    if (r.id == e.id) record = r;
  record.cluster = cluster_.name;
  record.id = e.id;
  record.client_port = e.client_port;
  record.quorum_port = e.quorum_port;
  record.election_port = e.election_port;
  record.admin_port = e.admin_server_port;
  record.dir = node.dir;
  record.data_dir = e.data_dir;
  record.distribution = cluster_.distribution.id;
  if (record.desired.empty()) record.desired = "stopped";
  ZK_RETURN_IF_ERROR(store_.UpsertNode(record));
  return "ports " + std::to_string(e.client_port) + "-" + std::to_string(e.admin_server_port) + ", data in " + e.data_dir;
}

Result<std::string> LocalPlatform::StartNode(const LocalNode& node) {
  ZK_RETURN_IF_ERROR(store_.SetNodeDesired(cluster_.name, node.endpoint.id, "running"));
  ZK_RETURN_IF_ERROR(EnsureSupervisor(cluster_.home, cluster_.name));
  KickSupervisor(cluster_.home, cluster_.name);
  return "supervisor pid " + std::to_string(SupervisorPid(cluster_.home, cluster_.name));
}

std::vector<const LocalNode*> LocalPlatform::Members(const std::vector<int>& ids) const {
  std::vector<const LocalNode*> out;
  for (const auto& n : cluster_.nodes)
    if (ids.empty() || std::find(ids.begin(), ids.end(), n.endpoint.id) != ids.end()) out.push_back(&n);
  return out;
}

Result<std::string> LocalPlatform::WaitHealthy(std::chrono::milliseconds timeout, const std::vector<int>& members) {
  return WaitHealthyImpl(timeout, members, {});
}

Result<std::string> LocalPlatform::WaitHealthyExcept(std::chrono::milliseconds timeout, int except) {
  return WaitHealthyImpl(timeout, {}, {except});
}

Result<std::string> LocalPlatform::WaitHealthyImpl(std::chrono::milliseconds timeout, const std::vector<int>& members,
                                                    const std::vector<int>& except) {
  AdminClient admin(std::chrono::milliseconds(1000));
  std::vector<std::pair<int, Endpoint>> servers;
  for (const LocalNode* n : Members(members))
    servers.push_back({n->endpoint.id, Endpoint{"127.0.0.1", n->endpoint.client_port}});
  ZK_ASSIGN_OR_RETURN(auto before, store_.ListNodes(cluster_.name));
  std::map<int, int> restarts_before;
  for (const auto& r : before) restarts_before[r.id] = r.restarts;

  const auto deadline = Clock::now() + timeout;
  EnsembleHealth health;
  while (true) {
    health = EvaluateHealth(ObserveEnsemble(servers, admin));
    if (health.healthy) return health.Summary();
    if (!except.empty() && health.quorum) {
      bool others = true;
      for (const auto& n : health.nodes)
        others = others && (n.healthy || std::find(except.begin(), except.end(), n.id) != except.end());
      if (others) return health.Summary() + " (enough: the others are about to restart)";
    }
    ZK_ASSIGN_OR_RETURN(auto records, store_.ListNodes(cluster_.name));
    for (const auto& r : records) {
      if (r.restarts - restarts_before[r.id] >= kCrashLoopExits) {
        return Status::IOError("server " + std::to_string(r.id) + " keeps exiting (" + r.last_exit + ", " +
                               std::to_string(r.restarts - restarts_before[r.id]) + " times); the end of its log " +
                               NodeDir(cluster_.cluster_home, r.id) + "/zookeeper.log:\n" +
                               TailFile(NodeDir(cluster_.cluster_home, r.id) + "/zookeeper.log", kLogTailLines));
      }
    }
    if (SupervisorPid(cluster_.home, cluster_.name) == 0) ZK_RETURN_IF_ERROR(EnsureSupervisor(cluster_.home, cluster_.name));
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string msg = "not healthy after " + std::to_string(timeout.count() / 1000) + "s: " + health.Summary();
  for (const auto& n : health.nodes)
    if (!n.healthy)
      msg += "\nthe end of server " + std::to_string(n.id) + "'s log:\n" +
             TailFile(NodeDir(cluster_.cluster_home, n.id) + "/zookeeper.log", 10);
  return Status::IOError(msg);
}

Result<std::string> LocalPlatform::StopNodes() {
  ZK_RETURN_IF_ERROR(DisableServices(cluster_.cluster_home));
  ZK_ASSIGN_OR_RETURN(auto records, store_.ListNodes(cluster_.name));
  for (const auto& r : records) ZK_RETURN_IF_ERROR(store_.SetNodeDesired(cluster_.name, r.id, "stopped"));
  KickSupervisor(cluster_.home, cluster_.name);
  // The supervisor stops them; if it is not running, stop them here.
  if (SupervisorPid(cluster_.home, cluster_.name) == 0) {
    for (const auto& r : records) {
      if (r.pid == 0) continue;
      ZK_RETURN_IF_ERROR(TerminateProcess(r.pid, "-Dzkpilot.node=" + r.dir, std::chrono::seconds(15)));
      ZK_RETURN_IF_ERROR(store_.RecordNodeExit(cluster_.name, r.id, "stopped", false));
    }
  }
  ZK_RETURN_IF_ERROR(WaitSupervisorExit(cluster_.home, cluster_.name, std::chrono::seconds(60)));
  // Whatever is left (a supervisor that was killed mid-stop) is stopped here.
  ZK_ASSIGN_OR_RETURN(records, store_.ListNodes(cluster_.name));
  for (const auto& r : records) {
    if (ProcessAlive(r.pid, "-Dzkpilot.node=" + r.dir))
      ZK_RETURN_IF_ERROR(TerminateProcess(r.pid, "-Dzkpilot.node=" + r.dir, std::chrono::seconds(15)));
    if (r.pid != 0) ZK_RETURN_IF_ERROR(store_.RecordNodeExit(cluster_.name, r.id, "stopped", false));
  }
  return "stopped " + std::to_string(records.size()) + " servers";
}

Result<std::string> LocalPlatform::WaitPortsFree() {
  ZK_ASSIGN_OR_RETURN(auto records, store_.ListNodes(cluster_.name));
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  std::vector<int> ports;
  for (const auto& r : records) ports.insert(ports.end(), {r.client_port, r.quorum_port, r.election_port, r.admin_port});
  for (int port : ports) {
    while (!PortFree(port)) {
      if (Clock::now() >= deadline) return Status::IOError("port " + std::to_string(port) + " is still in use after 30s");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return std::to_string(ports.size()) + " ports free";
}

Result<std::string> LocalPlatform::RestartNode(const LocalNode& node, int64_t generation, std::chrono::milliseconds timeout) {
  const int id = node.endpoint.id;
  auto record = [&]() -> Result<NodeRecord> {
    ZK_ASSIGN_OR_RETURN(auto records, store_.ListNodes(cluster_.name));
    for (const auto& r : records)
      if (r.id == id) return r;
    return Status::NotFound("server " + std::to_string(id) + " is not in the state");
  };
  ZK_ASSIGN_OR_RETURN(NodeRecord before, record());
  if (before.started_generation < generation) {
    // Never take a server down while another one is unhealthy (the server
    // itself may be: restarting it is how a broken server gets repaired).
    auto gate = WaitHealthyExcept(timeout, id);
    if (!gate.ok()) return gate.status().WithContext("not restarting server " + std::to_string(id) + ": the ensemble is not healthy");
    ZK_RETURN_IF_ERROR(store_.RequestGeneration(cluster_.name, id, generation));
    ZK_RETURN_IF_ERROR(EnsureSupervisor(cluster_.home, cluster_.name));
    KickSupervisor(cluster_.home, cluster_.name);
    const auto deadline = Clock::now() + timeout;
    while (true) {
      ZK_ASSIGN_OR_RETURN(NodeRecord now, record());
      if (now.started_generation >= generation && ProcessAlive(now.pid, "-Dzkpilot.node=" + node.dir)) break;
      if (now.restarts - before.restarts >= kCrashLoopExits)
        return Status::IOError("server " + std::to_string(id) + " keeps exiting after its restart (" + now.last_exit +
                               "); the end of its log " + node.log_path + ":\n" + TailFile(node.log_path, kLogTailLines));
      if (Clock::now() >= deadline)
        return Status::IOError("server " + std::to_string(id) + " was not restarted within " +
                               std::to_string(timeout.count() / 1000) + "s");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ZK_ASSIGN_OR_RETURN(NodeRecord restarted, record());
  auto back = WaitHealthy(timeout);
  if (!back.ok())
    return back.status().WithContext("server " + std::to_string(id) + " did not come back in sync (the other servers keep serving)");
  return "pid " + std::to_string(restarted.pid) + "; " + *back;
}

Result<std::string> LocalPlatform::Reconfig(const LocalNode& node, bool add) {
  const int id = node.endpoint.id;
  // Talk to the servers that are members before the change.
  std::string connect;
  for (const auto& n : cluster_.nodes)
    if (n.endpoint.id != id || !add)
      connect += (connect.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(n.endpoint.client_port);
  ZK_ASSIGN_OR_RETURN(auto zk, ZkClient::Connect(connect, std::chrono::seconds(15)));
  ZK_RETURN_IF_ERROR(zk->AddAuth("digest", "super:" + cluster_.super_password));
  ZK_ASSIGN_OR_RETURN(std::string text, zk->GetConfig());
  ZK_ASSIGN_OR_RETURN(EnsembleConfig config, ParseEnsembleConfig(text));
  const bool member = config.servers.count(id) > 0;
  if (add == member) return std::string(add ? "already a member" : "already removed");
  ServerEntry entry;
  entry.id = id;
  entry.host = "127.0.0.1";
  entry.quorum_port = node.endpoint.quorum_port;
  entry.election_port = node.endpoint.election_port;
  entry.client = Endpoint{"127.0.0.1", node.endpoint.client_port};
  ZK_ASSIGN_OR_RETURN(std::string updated, add ? zk->Reconfig(entry.ToConfigLine(), "") : zk->Reconfig("", std::to_string(id)));
  ZK_ASSIGN_OR_RETURN(EnsembleConfig after, ParseEnsembleConfig(updated));
  return (add ? "added; " : "removed; ") + std::to_string(after.servers.size()) + " voters, config version " +
         std::to_string(after.version);
}

Result<std::string> LocalPlatform::StopNode(const LocalNode& node) {
  const int id = node.endpoint.id;
  ZK_RETURN_IF_ERROR(store_.SetNodeDesired(cluster_.name, id, "stopped"));
  KickSupervisor(cluster_.home, cluster_.name);
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (true) {
    ZK_ASSIGN_OR_RETURN(auto records, store_.ListNodes(cluster_.name));
    const NodeRecord* r = nullptr;
    for (const auto& rec : records)
      if (rec.id == id) r = &rec;
    if (!r) return std::string("not in the state");
    const bool alive = ProcessAlive(r->pid, "-Dzkpilot.node=" + node.dir);
    if (!alive && r->pid == 0) return "stopped server " + std::to_string(id);
    if (SupervisorPid(cluster_.home, cluster_.name) == 0 || Clock::now() >= deadline) {
      ZK_RETURN_IF_ERROR(TerminateProcess(r->pid, "-Dzkpilot.node=" + node.dir, std::chrono::seconds(15)));
      ZK_RETURN_IF_ERROR(store_.RecordNodeExit(cluster_.name, id, "stopped", false));
      return "stopped server " + std::to_string(id);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

namespace {

bool Enabled(const Values& values, const std::string& name) { return values.Has(name) && values.Get(name) == true; }

// True once GET http://127.0.0.1:port<path> answers 200.
bool HttpReady(int port, const std::string& path) {
  auto reply = TcpExchange(Endpoint{"127.0.0.1", port}, "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
                           std::chrono::milliseconds(1000));
  return reply.ok() && reply->rfind("HTTP/1.", 0) == 0 && reply->find(" 200 ") != std::string::npos;
}

}  // namespace

Status CheckAddonPrograms(const Values& values) {
  if (Enabled(values, "prometheus.enabled") && FindInPath("prometheus").empty())
    return Status::NotFound("prometheus.enabled=true, but prometheus is not installed (apt-get install prometheus)");
  if (Enabled(values, "alertmanager.enabled") && FindInPath("prometheus-alertmanager").empty())
    return Status::NotFound(
        "alertmanager.enabled=true, but prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)");
  return Status::Ok();
}

Result<std::string> LocalPlatform::ApplyAddons() {
  ZK_RETURN_IF_ERROR(CheckAddonPrograms(cluster_.values));
  const auto ports = MonitoringPorts(cluster_.values);
  const bool prometheus = Enabled(cluster_.values, "prometheus.enabled");
  const bool alertmanager = prometheus && Enabled(cluster_.values, "alertmanager.enabled");
  const std::string dir = cluster_.cluster_home + "/monitoring";
  ZK_RETURN_IF_ERROR(MakeWritableDir(dir + "/prometheus/data", "monitoring directory"));
  ZK_RETURN_IF_ERROR(MakeWritableDir(dir + "/alertmanager/data", "monitoring directory"));

  RenderOptions opts{cluster_.name, "local", "local", {{"alertmanagerPort", ports.alertmanager}}};
  const std::string prom_cfg = dir + "/prometheus/prometheus.yml";
  auto old_cfg = ReadFile(prom_cfg);
  ZK_ASSIGN_OR_RETURN(std::string cfg, RenderDeclaredFile(cluster_.package, cluster_.values, opts,
                                                          Endpoints(cluster_.nodes), cluster_.nodes.front().endpoint,
                                                          "prometheusConfig"));
  ZK_ASSIGN_OR_RETURN(std::string rules, RenderDeclaredFile(cluster_.package, cluster_.values, opts, {},
                                                            cluster_.nodes.front().endpoint, "alertRules"));
  ZK_ASSIGN_OR_RETURN(std::string am_cfg, RenderDeclaredFile(cluster_.package, cluster_.values, opts, {},
                                                             cluster_.nodes.front().endpoint, "alertmanagerConfig"));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(dir + "/prometheus/zookeeper-alerts.yaml", rules));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(prom_cfg, cfg));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(dir + "/alertmanager/alertmanager.yml", am_cfg));

  ServiceSpec exporter{kExporterService, prometheus, "127.0.0.1:" + std::to_string(ports.exporter), {}, ports.exporter};
  ServiceSpec prom{"prometheus", prometheus, "127.0.0.1:" + std::to_string(ports.prometheus), {}, ports.prometheus};
  prom.launch.argv = {FindInPath("prometheus"), "--config.file=" + prom_cfg,
                      "--storage.tsdb.path=" + dir + "/prometheus/data",
                      "--web.listen-address=127.0.0.1:" + std::to_string(ports.prometheus),
                      "--storage.tsdb.retention.time=" + cluster_.values.Get("prometheus.retention").get<std::string>()};
  prom.launch.marker = "--config.file=" + prom_cfg;
  prom.launch.log_path = dir + "/prometheus.log";
  ServiceSpec am{"alertmanager", alertmanager, "127.0.0.1:" + std::to_string(ports.alertmanager), {}, ports.alertmanager};
  am.launch.argv = {FindInPath("prometheus-alertmanager"), "--config.file=" + dir + "/alertmanager/alertmanager.yml",
                    "--storage.path=" + dir + "/alertmanager/data",
                    "--web.listen-address=127.0.0.1:" + std::to_string(ports.alertmanager),
                    "--cluster.listen-address="};  // no gossip port: one instance, loopback only
  am.launch.marker = "--config.file=" + dir + "/alertmanager/alertmanager.yml";
  am.launch.log_path = dir + "/alertmanager.log";
  for (const auto* spec : {&exporter, &prom, &am}) ZK_RETURN_IF_ERROR(WriteService(cluster_.cluster_home, *spec));
  // A running Prometheus reloads a changed configuration on SIGHUP.
  const int prom_pid = ServicePid(cluster_.cluster_home, "prometheus");
  if (prometheus && old_cfg.ok() && *old_cfg != cfg && ProcessAlive(prom_pid, prom.launch.marker)) ::kill(prom_pid, SIGHUP);
  ZK_RETURN_IF_ERROR(EnsureSupervisor(cluster_.home, cluster_.name));
  KickSupervisor(cluster_.home, cluster_.name);
  if (!prometheus) return std::string("monitoring off");

  const auto deadline = Clock::now() + std::chrono::seconds(60);
  std::vector<std::pair<std::string, int>> waits = {{"exporter", ports.exporter}, {"prometheus", ports.prometheus}};
  if (alertmanager) waits.push_back({"alertmanager", ports.alertmanager});
  for (const auto& [name, port] : waits) {
    const std::string path = name == "exporter" ? "/metrics" : "/-/ready";
    while (!HttpReady(port, path)) {
      if (Clock::now() >= deadline)
        return Status::IOError(name + " did not become ready on 127.0.0.1:" + std::to_string(port) + " within 60s:\n" +
                               TailFile(dir + "/" + name + ".log", 10) + TailFile(cluster_.cluster_home + "/supervisor.log", 5));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return "exporter 127.0.0.1:" + std::to_string(ports.exporter) + ", prometheus 127.0.0.1:" + std::to_string(ports.prometheus) +
         (alertmanager ? ", alertmanager 127.0.0.1:" + std::to_string(ports.alertmanager) : "");
}

Step ApplyAddonsStep() { return {"apply-addons", nlohmann::json::object(), "apply the monitoring add-ons"}; }

Step PrepareNodeStep(const LocalNode& node) {
  return {"prepare-node", {{"node", node.endpoint.id}},
          "prepare server " + std::to_string(node.endpoint.id) + " (127.0.0.1:" + std::to_string(node.endpoint.client_port) + ")"};
}
Step StartNodeStep(const LocalNode& node) {
  return {"start-node", {{"node", node.endpoint.id}}, "start server " + std::to_string(node.endpoint.id)};
}
Step WaitHealthyStep(std::chrono::milliseconds timeout, const std::string& why) {
  return {"wait-healthy", {{"timeout_ms", timeout.count()}}, "wait until healthy: " + why};
}
Step RunHooksStep(HookEvent event, HookPhase phase) {
  return {"run-hooks", {{"event", HookEventName(event)}, {"phase", HookPhaseName(phase)}},
          std::string("run the ") + HookEventName(event) + " " + HookPhaseName(phase) + " hooks"};
}
Step RestartNodeStep(const LocalNode& node, int64_t generation, const std::string& role) {
  return {"restart-node", {{"node", node.endpoint.id}, {"generation", generation}},
          "restart server " + std::to_string(node.endpoint.id) + (role.empty() ? "" : " (" + role + ")") +
              " and wait until it is back in sync"};
}
Step ReconfigStep(const LocalNode& node, bool add) {
  return {add ? "reconfig-add" : "reconfig-remove", {{"node", node.endpoint.id}},
          std::string(add ? "add" : "remove") + " server " + std::to_string(node.endpoint.id) +
              (add ? " to" : " from") + " the ensemble (dynamic reconfiguration)"};
}
Step StopNodeStep(const LocalNode& node) {
  return {"stop-node", {{"node", node.endpoint.id}}, "stop server " + std::to_string(node.endpoint.id)};
}
Step ForgetNodeStep(const LocalNode& node) {
  return {"forget-node", {{"node", node.endpoint.id}}, "forget server " + std::to_string(node.endpoint.id)};
}
Step WithMembers(Step step, const std::vector<int>& members) {
  step.args["members"] = members;
  return step;
}

Step StopNodesStep() { return {"stop-nodes", nlohmann::json::object(), "stop every server and the supervisor"}; }
Step WaitPortsFreeStep() { return {"wait-ports-free", nlohmann::json::object(), "wait until every port is free"}; }

}  // namespace zkpilot
