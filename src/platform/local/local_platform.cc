#include "platform/local/local_platform.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>
#include <thread>

#include "platform/local/cds.h"
#include "platform/local/file_actions.h"
#include "platform/local/guardian.h"
#include "platform/local/local_files.h"
#include "platform/local/local_tls.h"
#include "platform/local/paths.h"
#include "platform/local/port_owner.h"
#include "platform/local/process.h"
#include "platform/local/services.h"
#include "platform/local/supervisor.h"
#include "util/files.h"
#include "util/hash.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kRunning = "running";
constexpr const char* kStopped = "stopped";
constexpr auto kPortsFreeWithin = std::chrono::seconds(30);

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

std::string Marker(const std::string& node_dir) { return "-Dzkpilot.node=" + node_dir; }

std::string Address(int port) { return "127.0.0.1:" + std::to_string(port); }

// The options file of a node's JVM (mode 0600): what must not be on a command
// line, which /proc/PID/cmdline shows every local user. The java launcher
// (JDK 9+) expands `@file` arguments itself, so the JVM sees the options
// while the process's command line shows only the file's name.
std::string SecretArgsPath(const LocalNode& node) { return node.conf_dir + "/secret.args"; }

// The contents of that file: the super user's digest, which lets anyone who
// reads it act as the super user of the cluster (DigestAuthenticationProvider
// compares a client's hashed password with it). A digest (base64 and ':')
// has no white space or quotes, so the line needs no argument-file quoting.
std::string SecretArgs(const std::string& super_password) {
  return "-Dzookeeper.DigestAuthenticationProvider.superDigest=" + DigestId("super", super_password) + "\n";
}

// The JVM command line of a node.
std::vector<std::string> NodeCommand(const Values& values, const Distribution& distribution, const LocalNode& node,
                                     const std::string& java) {
  const std::string heap = values.Get("heapSize").get<std::string>();
  std::vector<std::string> argv = {
      java,
      "-Xmx" + heap,
      "-Xms" + heap,
      Marker(node.dir),  // the marker that identifies this node's process
      "-Dzookeeper.log.dir=" + node.dir,
      "-Dlog4j.configuration=file:" + node.conf_dir + "/log4j.properties",
      "-Dlogback.configurationFile=" + node.conf_dir + "/logback.xml",
      "@" + SecretArgsPath(node),
  };
  if (values.Has("fastLeaderChange") && values.Get("fastLeaderChange") == true) {
    // Package parameter fastLeaderChange (packages/zookeeper/parameters.yaml):
    // shorter fixed waits around a leader change.
    argv.push_back("-Dzookeeper.leaderConnectDelayDuringRetryMs=50");
    argv.push_back("-Dzookeeper.fastleader.minNotificationInterval=50");
  }
  for (const auto& w : SplitWords(values.Get("jvmFlags").get<std::string>())) argv.push_back(w);
  argv.insert(argv.end(), {"-cp", distribution.ClasspathString(node.conf_dir), distribution.main_class,
                           node.conf_dir + "/zoo.cfg"});
  return argv;
}

// The cluster's nodes; none while the cluster is not recorded yet (deploy).
Result<std::vector<NodeRecord>> NodesOf(StateStore& store, const std::string& cluster) {
  auto records = store.ListNodes(cluster);
  if (!records.ok() && records.status().code() == ErrorCode::kNotFound) return std::vector<NodeRecord>{};
  return records;
}

ServerState StateOf(const NodeRecord& r, const Package* package) {
  const bool alive = ProcessAlive(r.pid, Marker(r.dir));
  ServerState s;
  s.id = r.id;
  s.exists = alive;
  s.desired_running = r.desired == kRunning;
  s.generation = r.generation;
  s.running_generation = r.started_generation;
  s.restarts = r.restarts;
  s.last_exit = r.last_exit;
  s.client = Endpoint{"127.0.0.1", r.client_port};
  if (package)
    for (const auto& v : package->versions)
      if (!v.distribution.empty() && v.distribution == r.distribution) s.version = v.version;
  auto fingerprint = ReadFile(r.dir + "/conf/prepared.sha256");
  if (fingerprint.ok()) {
    s.config_fingerprint = *fingerprint;
    while (!s.config_fingerprint.empty() && s.config_fingerprint.back() == '\n') s.config_fingerprint.pop_back();
  }
  s.uid = alive ? std::to_string(r.pid) : "";
  s.instance = r.pid ? "pid " + std::to_string(r.pid) : "";
  s.log = r.dir + "/zookeeper.log";
  s.started_at = r.started_at;
  s.tls_stage = r.tls_stage;
  s.quorum_auth_stage = r.quorum_auth_stage;
  s.details = {{"pid", alive ? r.pid : 0}, {"restarts", r.restarts},         {"last_exit", r.last_exit},
               {"client", Address(r.client_port)}, {"admin", Address(r.admin_port)}, {"data_dir", r.data_dir}};
  return s;
}

}  // namespace

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

Result<std::vector<ServerState>> LocalServerStates(StateStore& store, const std::string& cluster,
                                                   const Package* package) {
  ZK_ASSIGN_OR_RETURN(auto records, NodesOf(store, cluster));
  std::vector<ServerState> out;
  for (const auto& r : records) out.push_back(StateOf(r, package));
  return out;
}

Result<std::unique_ptr<LocalPlatform>> LocalPlatform::Create(StateStore& store, const std::string& home,
                                                              const std::string& cluster, Package package,
                                                              Values target) {
  std::unique_ptr<LocalPlatform> p(new LocalPlatform(store, home, cluster, std::move(package), std::move(target)));
  ZK_ASSIGN_OR_RETURN(p->nodes_, LocalTopology(p->package_, p->values_, cluster, p->cluster_home_));
  // Servers the state still has beyond the values (mid-scale) stay known.
  ZK_ASSIGN_OR_RETURN(auto records, NodesOf(store, cluster));
  for (const auto& r : records) {
    auto it = std::find_if(p->nodes_.begin(), p->nodes_.end(), [&](const LocalNode& n) { return n.endpoint.id == r.id; });
    if (it == p->nodes_.end()) {
      ZK_ASSIGN_OR_RETURN(LocalNode n, LocalNodeFor(p->values_, LocalDataRoot(p->package_, p->values_), cluster,
                                                    p->cluster_home_, r.id));
      p->nodes_.push_back(n);
      it = p->nodes_.end() - 1;
    }
    it->endpoint.data_dir = r.data_dir;
  }
  std::sort(p->nodes_.begin(), p->nodes_.end(),
            [](const LocalNode& a, const LocalNode& b) { return a.endpoint.id < b.endpoint.id; });
  p->distribution_ = DistributionForVersion(p->package_, p->values_, home);
  return p;
}

LocalPlatform::LocalPlatform(StateStore& store, std::string home, std::string cluster, Package package, Values target)
    : store_(store),
      home_(std::move(home)),
      name_(std::move(cluster)),
      cluster_home_(ClusterHome(home_, name_)),
      package_(std::move(package)),
      values_(std::move(target)),
      tls_(LocalTlsClientFiles(values_, cluster_home_)) {}

AdminClient LocalPlatform::Admin(std::chrono::milliseconds timeout) const {
  RenewOwnCertificateOnce();
  return AdminClient(timeout, tls_);
}

AdminClient LocalPlatform::AdminFor(const ServerState& server, std::chrono::milliseconds timeout) const {
  RenewOwnCertificateOnce();
  return AdminClient(timeout, TlsClientFilesForStage(server.tls_stage, cluster_home_, tls_));
}

// Before talking to a TLS cluster: a zkpilot.crt that expired (or was lost)
// would otherwise block every check and roll, `zkpilot restart` included,
// until a server is prepared again. Best effort: a failure is said and the
// connection that follows reports what it meets.
void LocalPlatform::RenewOwnCertificateOnce() const {
  if (!tls_) return;
  std::call_once(own_certificate_checked_, [this] {
    auto renewed = RenewOwnCertificate(name_, cluster_home_, PkiPolicyOf(values_));
    if (!renewed.ok()) {
      spdlog::warn("{}: renewing zkpilot's certificate: {}", name_, renewed.status().message());
    } else if (!renewed->empty()) {
      spdlog::info("{}: {}", name_, *renewed);
    }
  });
}

Result<const LocalNode*> LocalPlatform::Node(int id) const {
  for (const auto& n : nodes_)
    if (n.endpoint.id == id) return &n;
  return Status::NotFound("cluster " + name_ + " has no server " + std::to_string(id));
}

std::vector<const LocalNode*> LocalPlatform::Members(const std::vector<int>& ids) const {
  std::vector<const LocalNode*> out;
  for (const auto& n : nodes_)
    if (ids.empty() || std::find(ids.begin(), ids.end(), n.endpoint.id) != ids.end()) out.push_back(&n);
  return out;
}

TlsStage LocalPlatform::PreparedTlsStage(int id) const {
  auto node = Node(id);
  if (node.ok()) {
    auto cfg = ReadFile((*node)->conf_dir + "/zoo.cfg");
    if (cfg.ok() && ClassifyTlsStage(*cfg) != TlsStage::kUnknown) return ClassifyTlsStage(*cfg);
  }
  return TargetTlsStage(values_);
}

Result<std::string> LocalPlatform::SuperPassword() {
  if (super_password_.empty()) {
    ZK_ASSIGN_OR_RETURN(super_password_, EnsureSuperPassword(cluster_home_));
  }
  return super_password_;
}

Result<LocalPlatform::NodeSecrets> LocalPlatform::Secrets(const ServerRender& render) {
  NodeSecrets secrets;
  ZK_ASSIGN_OR_RETURN(secrets.super_password, SuperPassword());
  ZK_ASSIGN_OR_RETURN(AuthSettings auth, AuthSettingsOf(values_));
  auth = AtQuorumAuthStage(auth, QuorumAuthStageOf(render, values_));
  ZK_ASSIGN_OR_RETURN(secrets.auth, EnsureAuthCredentials(LocalAuthAt(cluster_home_), auth));
  return secrets;
}

Status LocalPlatform::CheckCredentials() {
  ZK_ASSIGN_OR_RETURN(AuthSettings target, AuthSettingsOf(values_));
  std::vector<JaasInUse> servers;
  for (const auto& n : nodes_) servers.push_back({n.endpoint.id, n.conf_dir + "/secret.args"});
  return CheckJaasAgreesWithCredentials(LocalAuthAt(cluster_home_), servers, target.users);
}

Status LocalPlatform::Preflight() {
  if (FindInPath("java").empty())
    return Status::NotFound("java is not installed; the local platform runs ZooKeeper on a JVM "
                            "(apt-get install default-jre-headless)");
  ZK_RETURN_IF_ERROR(CheckRenderedFiles());
  ZK_RETURN_IF_ERROR(distribution_.status());
  ZK_RETURN_IF_ERROR(CheckAddonPrograms(values_));
  // The whole block is this cluster's before anything starts: two commands
  // racing for one port (two homes, two clusters) are serialized here.
  // Hand-edited credentials fail here, before any server restarts.
  ZK_RETURN_IF_ERROR(CheckCredentials());
  ReserveOptions reserve{port_options_.allow_privileged, !port_options_.reserve};
  ZK_RETURN_IF_ERROR(ReservePorts(PortRegistryDir(), Owner(), PortBlock(), reserve));
  ZK_ASSIGN_OR_RETURN(auto records, NodesOf(store_, name_));
  ZK_ASSIGN_OR_RETURN(auto topology, LocalTopology(package_, values_, name_, cluster_home_));
  for (const auto& n : topology) {
    const auto& e = n.endpoint;
    if (std::any_of(records.begin(), records.end(), [&](const NodeRecord& r) { return r.id == e.id; })) continue;
    for (const auto& p : ServerPortClaims(e)) {
      if (!PortFree(p.port))
        return Status::InvalidInput("port " + std::to_string(p.port) + " (" + p.what +
                                    ") is already in use on 127.0.0.1; choose another base with --set clientPort=N "
                                    "(server N uses clientPort+(N-1)*10 .. +4)");
    }
    ZK_RETURN_IF_ERROR(CheckWritable(e.data_dir, "dataDir"));
    if (!e.data_log_dir.empty()) ZK_RETURN_IF_ERROR(CheckWritable(e.data_log_dir, "dataLogDir"));
  }
  return CheckWritable(cluster_home_, "state directory");
}

std::vector<PortClaim> LocalPlatform::PortBlock() const {
  std::vector<PortClaim> block;
  for (const auto& n : nodes_)
    for (auto& p : ServerPortClaims(n.endpoint)) block.push_back(std::move(p));
  for (auto& p : MonitoringPortClaims(values_)) block.push_back(std::move(p));
  return block;
}

PortOwner LocalPlatform::Owner() const { return PortOwnerOf(home_, name_); }

Status LocalPlatform::CheckBindable(const std::vector<PortClaim>& ports) {
  // Still ours: the registry may have been lost or another home may have
  // taken a port while this cluster was stopped. Ports below 1024 were
  // allowed (or refused) when the block was first reserved.
  ZK_RETURN_IF_ERROR(ReservePorts(PortRegistryDir(), Owner(), ports, {/*allow_privileged=*/true}));
  for (const auto& p : ports)
    if (!PortFree(p.port))
      return Status::IOError("port " + std::to_string(p.port) + " (" + p.what + " of " + name_ +
                             ") is in use on 127.0.0.1 by another process; not starting it: stop that process, "
                             "or move " + name_ + " with `zkpilot configure " + name_ + " --set clientPort=N`");
  return Status::Ok();
}

Result<std::vector<NodeEndpoint>> LocalPlatform::Topology() const {
  ZK_ASSIGN_OR_RETURN(auto topology, LocalTopology(package_, values_, name_, cluster_home_));
  std::vector<NodeEndpoint> out;
  for (const auto& n : topology) {
    ZK_ASSIGN_OR_RETURN(const LocalNode* known, Node(n.endpoint.id));
    out.push_back(known->endpoint);  // with the data directory recorded for it
  }
  return out;
}

void LocalPlatform::KeepSupervised(const std::vector<NodeRecord>& records) {
  const bool wanted = std::any_of(records.begin(), records.end(), [](const NodeRecord& r) { return r.desired == kRunning; });
  if (wanted && SupervisorPid(home_, name_) == 0) {
    Status s = EnsureSupervisor(home_, name_);
    (void)s;  // the waits notice servers that stay down; status reports the supervisor
  }
}

Result<std::vector<ServerState>> LocalPlatform::Servers() {
  ZK_ASSIGN_OR_RETURN(auto records, NodesOf(store_, name_));
  KeepSupervised(records);
  std::vector<ServerState> out;
  for (const auto& r : records) out.push_back(StateOf(r, &package_));
  return out;
}

Result<LocalPlatform::NodeFiles> LocalPlatform::RenderNodeFiles(const LocalNode& node, const std::vector<int>& members,
                                                                 const NodeSecrets& secrets,
                                                                 const ServerRender& render) {
  RenderOptions opts{name_, "local", "local"};
  opts.server = render;
  // The key stores go with the stage this server is rendered at.
  const TlsStage stage = TlsStageOf(render, values_);
  NodeEndpoint e = node.endpoint;
  SetTlsStores(e, cluster_home_, stage);
  std::vector<NodeEndpoint> endpoints;
  for (const LocalNode* m : Members(members)) {
    endpoints.push_back(m->endpoint);
    SetTlsStores(endpoints.back(), cluster_home_, stage);
  }
  NodeFiles files;
  ZK_ASSIGN_OR_RETURN(files.zoo_cfg, RenderDeclaredFile(package_, values_, opts, endpoints, e, "zooCfg"));
  // A package may declare no logback file (the server then logs to the
  // console by log4j); one it declares must render.
  auto logback = RenderDeclaredFile(package_, values_, opts, endpoints, e, "logback");
  if (logback.ok()) files.logback = *logback;
  else if (logback.status().code() != ErrorCode::kNotFound) return logback.status();
  std::string java = FindInPath("java");
  if (java.empty()) return Status::NotFound("java is not installed (apt-get install default-jre-headless)");
  LaunchSpec launch;
  // Without its distribution (a fingerprint for a version not fetched yet)
  // the command line differs from any prepared one, as it should.
  launch.argv = NodeCommand(values_, distribution_.ok() ? *distribution_ : Distribution{}, node, java);
  ZK_ASSIGN_OR_RETURN(AuthSettings auth, AuthSettingsOf(values_));
  // A quorum SASL stage other than the values' (a switch in progress).
  auth = AtQuorumAuthStage(auth, QuorumAuthStageOf(render, values_));
  if (auth.NeedsJaas()) files.jaas = JaasConfig(auth, secrets.auth);
  // With every auth.* off this is the file of before: no existing cluster rolls.
  files.secret_args = SecretArgs(secrets.super_password) + AuthJvmArgs(LocalAuthAt(cluster_home_), auth, e.id);
  launch.marker = Marker(node.dir);
  launch.log_path = node.log_path;
  files.launch_json = launch.ToJson().dump(2) + "\n";
  files.argv = launch.argv;
  // What a running server would need a restart for: everything but the
  // membership, which changes by dynamic reconfiguration.
  std::string hashed;
  std::istringstream cfg(files.zoo_cfg);
  for (std::string line; std::getline(cfg, line);)
    if (line.rfind("server.", 0) != 0) hashed += line + "\n";
  files.fingerprint = Sha256Hex(hashed + '\0' + files.logback + '\0' + kLog4jProperties + '\0' + files.launch_json +
                                '\0' + files.secret_args + (files.jaas.empty() ? "" : '\0' + files.jaas));
  return files;
}

Status LocalPlatform::CheckRenderedFiles() {
  // Secrets only go into the files as they are; any will do to render them.
  ZK_ASSIGN_OR_RETURN(AuthSettings auth, AuthSettingsOf(values_));
  const NodeSecrets placeholder{"not-the-password", PlaceholderCredentials(auth)};
  for (const auto& n : nodes_) {
    auto files = RenderNodeFiles(n, {}, placeholder);
    if (!files.ok()) return files.status().WithContext("server " + std::to_string(n.endpoint.id));
  }
  Status addons = RenderAddonFiles().status();
  if (addons.code() == ErrorCode::kNotFound) return Status::Ok();  // a package without monitoring files
  return addons.WithContext("monitoring");
}

Result<std::string> LocalPlatform::TargetFingerprint(int id) {
  ZK_ASSIGN_OR_RETURN(const LocalNode* node, Node(id));
  // Planning (a dry run too) creates no credentials: only applying does.
  NodeSecrets secrets;
  ZK_ASSIGN_OR_RETURN(secrets.super_password, SuperPassword());
  ZK_ASSIGN_OR_RETURN(AuthSettings auth, AuthSettingsOf(values_));
  ZK_ASSIGN_OR_RETURN(secrets.auth, ExistingAuthCredentials(LocalAuthAt(cluster_home_), auth));
  ZK_ASSIGN_OR_RETURN(NodeFiles files, RenderNodeFiles(*node, {}, secrets));
  return files.fingerprint;
}

Result<std::string> LocalPlatform::ApplyServerConfig(int id, const std::vector<int>& members,
                                                      const ServerRender& render) {
  ZK_ASSIGN_OR_RETURN(const LocalNode* found, Node(id));
  const LocalNode& node = *found;
  const NodeEndpoint& e = node.endpoint;
  ZK_RETURN_IF_ERROR(distribution_.status());
  // Rendered before any directory is made: a file that does not render leaves none behind.
  ZK_ASSIGN_OR_RETURN(NodeSecrets secrets, Secrets(render));
  ZK_ASSIGN_OR_RETURN(NodeFiles files, RenderNodeFiles(node, members, secrets, render));
  // Its certificate (and the CA's, zkpilot's) exist before it can start.
  ZK_ASSIGN_OR_RETURN(std::string issued,
                      EnsureClusterPki(values_, name_, cluster_home_, {id}, TlsStageOf(render, values_)));
  ZK_RETURN_IF_ERROR(MakeWritableDir(node.conf_dir, "node directory"));
  ZK_RETURN_IF_ERROR(MakeWritableDir(e.data_dir, "dataDir"));
  if (!e.data_log_dir.empty()) ZK_RETURN_IF_ERROR(MakeWritableDir(e.data_log_dir, "dataLogDir"));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(e.data_dir + "/myid", std::to_string(e.id) + "\n"));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(node.conf_dir + "/zoo.cfg", files.zoo_cfg));
  if (!files.logback.empty()) ZK_RETURN_IF_ERROR(WriteFileAtomically(node.conf_dir + "/logback.xml", files.logback));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(node.conf_dir + "/log4j.properties", kLog4jProperties));
  if (!files.jaas.empty())
    ZK_RETURN_IF_ERROR(WriteFileAtomically(LocalAuthAt(cluster_home_).JaasPath(e.id), files.jaas, 0600));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(SecretArgsPath(node), files.secret_args, 0600));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(LaunchSpecPath(node.dir), files.launch_json));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(node.conf_dir + "/prepared.sha256", files.fingerprint + "\n"));

  ZK_ASSIGN_OR_RETURN(auto existing, store_.ListNodes(name_));
  NodeRecord record;
  for (const auto& r : existing)
    if (r.id == e.id) record = r;
  record.cluster = name_;
  record.id = e.id;
  record.client_port = e.client_port;
  record.quorum_port = e.quorum_port;
  record.election_port = e.election_port;
  record.admin_port = e.admin_server_port;
  record.dir = node.dir;
  record.data_dir = e.data_dir;
  record.distribution = distribution_->id;
  if (record.desired.empty()) record.desired = kStopped;
  ZK_RETURN_IF_ERROR(store_.UpsertNode(record));
  std::string out =
      "ports " + std::to_string(e.client_port) + "-" + std::to_string(e.admin_server_port) + ", data in " + e.data_dir;
  if (!issued.empty()) out += "; " + issued;
  // The class-data archive of this command line, made now when there is none
  // yet (a version's first start on this machine, a JDK update): its training
  // run takes a JVM start and exit, which would otherwise be spent by the
  // supervisor just before the start, while the server is down in a roll.
  // Best effort: without an archive the server starts all the same, and the
  // supervisor's log says why (docs/server-start.md).
  if (CdsEnabledByEnvironment() && !ChoosesOwnCds(files.argv)) {
    if (!cds_) cds_ = std::make_unique<CdsArchives>(CdsOptions{CdsDir(DistributionsDir(home_))});
    const auto start = SteadyClock::now();
    auto archive = cds_->ArchiveFor(files.argv);
    if (archive.ok() && archive->created) {
      std::ostringstream took;
      took.precision(1);
      took << std::fixed << std::chrono::duration<double>(SteadyClock::now() - start).count();
      out += "; class-data archive made in " + took.str() + "s";
    }
  }
  return out;
}

Result<std::string> LocalPlatform::StartServer(int id) {
  ZK_ASSIGN_OR_RETURN(auto records, NodesOf(store_, name_));
  auto r = std::find_if(records.begin(), records.end(), [&](const NodeRecord& n) { return n.id == id; });
  if (r == records.end() || (r->desired != kRunning && !ProcessAlive(r->pid, Marker(r->dir)))) {
    // Checked again at bind time: the server would crash-loop on a taken
    // port. (A server already desired running is the supervisor's to start.)
    ZK_ASSIGN_OR_RETURN(const LocalNode* node, Node(id));
    ZK_RETURN_IF_ERROR(CheckBindable(ServerPortClaims(node->endpoint)));
  }
  // A server reads its certificate when it starts: one about to expire is renewed first.
  ZK_ASSIGN_OR_RETURN(std::string issued, EnsureClusterPki(values_, name_, cluster_home_, {id}, PreparedTlsStage(id)));
  ZK_RETURN_IF_ERROR(store_.SetNodeDesired(name_, id, kRunning));
  ZK_RETURN_IF_ERROR(EnsureSupervisor(home_, name_));
  KickSupervisor(home_, name_);
  return "supervisor pid " + std::to_string(SupervisorPid(home_, name_)) + (issued.empty() ? "" : "; " + issued);
}

Result<std::string> LocalPlatform::RestartServer(int id, int64_t generation) {
  // The restart puts a renewed certificate in use (re-issued here, before it).
  ZK_ASSIGN_OR_RETURN(std::string issued, EnsureClusterPki(values_, name_, cluster_home_, {id}, PreparedTlsStage(id)));
  ZK_RETURN_IF_ERROR(store_.RequestGeneration(name_, id, generation));
  ZK_RETURN_IF_ERROR(EnsureSupervisor(home_, name_));
  KickSupervisor(home_, name_);
  return "generation " + std::to_string(generation) + " asked for" + (issued.empty() ? "" : "; " + issued);
}

Result<std::string> LocalPlatform::StopServer(int id, std::chrono::milliseconds timeout) {
  const std::string stopped = "stopped server " + std::to_string(id);
  ZK_RETURN_IF_ERROR(store_.SetNodeDesired(name_, id, kStopped));
  KickSupervisor(home_, name_);
  const auto deadline = SteadyClock::now() + timeout;
  while (true) {
    ZK_ASSIGN_OR_RETURN(auto records, store_.ListNodes(name_));
    auto r = std::find_if(records.begin(), records.end(), [&](const NodeRecord& n) { return n.id == id; });
    if (r == records.end()) return std::string("not in the state");
    if (!ProcessAlive(r->pid, Marker(r->dir)) && r->pid == 0) return stopped;
    // Without a supervisor (or one too slow), the process is stopped here.
    if (SupervisorPid(home_, name_) == 0 || SteadyClock::now() >= deadline) {
      ZK_RETURN_IF_ERROR(StopServerProcess(r->pid, Marker(r->dir)).status());
      ZK_RETURN_IF_ERROR(store_.RecordNodeExit(name_, id, kStopped, false));
      return stopped;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Result<std::string> LocalPlatform::ForgetServer(int id) {
  Status s = store_.DeleteNode(name_, id);
  if (!s.ok() && s.code() != ErrorCode::kNotFound) return s;
  // Its JAAS file holds the cluster's credentials; nothing reads it any more.
  std::error_code ec;
  fs::remove(LocalAuthAt(cluster_home_).JaasPath(id), ec);
  return "server " + std::to_string(id) + " removed from the state";
}

Result<std::string> LocalPlatform::TearDown(bool purge_data, std::chrono::milliseconds timeout) {
  ZK_RETURN_IF_ERROR(DisableServices(cluster_home_));
  ZK_ASSIGN_OR_RETURN(auto records, store_.ListNodes(name_));
  for (const auto& r : records) ZK_RETURN_IF_ERROR(store_.SetNodeDesired(name_, r.id, kStopped));
  KickSupervisor(home_, name_);
  // The supervisor stops them; if it is not running, they are stopped here.
  if (SupervisorPid(home_, name_) == 0) {
    for (const auto& r : records) {
      if (r.pid == 0) continue;
      ZK_RETURN_IF_ERROR(StopServerProcess(r.pid, Marker(r.dir)).status());
      ZK_RETURN_IF_ERROR(store_.RecordNodeExit(name_, r.id, kStopped, false));
    }
  }
  ZK_RETURN_IF_ERROR(WaitSupervisorExit(home_, name_, timeout));
  // The guardian exits once the supervisor has and no server is wanted.
  ZK_RETURN_IF_ERROR(WaitGuardianExit(home_, name_, timeout));
  // Whatever is left (a supervisor that was killed mid-stop) is stopped here.
  ZK_ASSIGN_OR_RETURN(records, store_.ListNodes(name_));
  for (const auto& r : records) {
    if (ProcessAlive(r.pid, Marker(r.dir))) ZK_RETURN_IF_ERROR(StopServerProcess(r.pid, Marker(r.dir)).status());
    if (r.pid != 0) ZK_RETURN_IF_ERROR(store_.RecordNodeExit(name_, r.id, kStopped, false));
  }
  // Every port can be bound again — or is held by a process that is not
  // this cluster's (ours are all gone by now): that one is named and left
  // alone; waiting for it would fail every later delete as well.
  std::string others;
  const auto deadline = SteadyClock::now() + kPortsFreeWithin;
  for (const auto& r : records) {
    ZK_ASSIGN_OR_RETURN(std::string held, WaitServerPortsFree(r.id, {r.client_port, r.quorum_port, r.election_port,
                                                                      r.admin_port}, deadline, tls_));
    if (!held.empty()) others += "; " + held + ": left alone";
  }
  std::error_code ec;
  if (purge_data) {
    fs::remove_all(cluster_home_, ec);
    if (ec) return Status::IOError("removing " + cluster_home_ + ": " + ec.message());
    return "stopped " + std::to_string(records.size()) + " servers; removed " + cluster_home_ + others;
  }
  // Keep the data; drop what only made sense while it ran.
  for (const char* f : {"/supervisor.lock", "/guardian.lock", "/super.secret"}) fs::remove(cluster_home_ + f, ec);
  std::string kept = "data kept under " + cluster_home_;
  for (const auto& n : nodes_)
    if (n.endpoint.data_dir.rfind(cluster_home_, 0) != 0) kept += " and " + n.endpoint.data_dir;
  return kept + " (--purge-data removes it)" + others;
}

Result<std::unique_ptr<ZkClient>> LocalPlatform::OpenSession(const std::vector<int>& members) {
  RenewOwnCertificateOnce();
  // Not through a port another process serves: hooks and reconfigs would
  // act on another ensemble.
  ZK_ASSIGN_OR_RETURN(auto records, NodesOf(store_, name_));
  std::string connect, foreign;
  bool all_tls = true;
  for (const LocalNode* n : Members(members)) {
    const int port = n->endpoint.client_port;
    int pid = 0, stage = -1;
    for (const auto& r : records)
      if (r.id == n->endpoint.id) {
        stage = r.tls_stage;
        if (ProcessAlive(r.pid, Marker(r.dir))) pid = r.pid;
      }
    const auto tls = TlsClientFilesForStage(stage, cluster_home_, tls_);
    if (WhoListens(port, pid) == PortListener::kOther) {
      foreign += (foreign.empty() ? "" : "; ") + ForeignServerDescription(port, n->endpoint.id, tls);
      continue;
    }
    all_tls = all_tls && tls.has_value();
    connect += (connect.empty() ? "" : ",") + Address(port);
  }
  if (connect.empty()) return Status::IOError("no server of " + name_ + " to open a session with: " + foreign);
  if (all_tls) {
    // Through an in-process TLS tunnel (the C client has no TLS), as
    // CN=zkpilot-super: ZooKeeper's super user by its certificate alone.
    ZkConnectOptions options;
    options.tls = TlsClientFilesForStage(static_cast<int>(TlsStage::kTls), cluster_home_, tls_);
    return ZkClient::Connect(connect, std::chrono::seconds(15), options);
  }
  ZK_ASSIGN_OR_RETURN(std::string password, SuperPassword());
  ZK_ASSIGN_OR_RETURN(auto zk, ZkClient::Connect(connect, std::chrono::seconds(15)));
  ZK_RETURN_IF_ERROR(zk->AddAuth("digest", "super:" + password));
  return zk;
}

Result<std::string> LocalPlatform::RunFileAction(int id, const std::string& action, const nlohmann::json& args,
                                                 bool purge_data) {
  ZK_ASSIGN_OR_RETURN(const LocalNode* node, Node(id));
  if (action == "remove-files") return RemoveFiles(*node, args.value("paths", nlohmann::json()));
  if (action == "purge-snapshots") {
    const auto retain = args.find("retain");
    if (retain == args.end() || !retain->is_number_integer())
      return Status::InvalidInput("purge-snapshots: retain must be a number");
    return PurgeSnapshots(*node, retain->get<int64_t>());
  }
  if (action == "remove-node-data") {
    if (!purge_data) return std::string("skipped: data kept (--purge-data removes it)");
    return RemoveNodeData(*node);
  }
  return Status::Internal("the local platform has no file action " + action);
}

NodeObservation LocalPlatform::Observe(const ServerState& server) {
  NodeObservation o = Platform::Observe(server);
  const int port = server.client.port;
  const int pid = server.uid.empty() ? 0 : std::atoi(server.uid.c_str());  // set while its process runs
  if (!o.srvr) {  // down; but say so when something else holds its port
    if (WhoListens(port, pid) == PortListener::kOther)
      o.error = "port " + std::to_string(port) + " is held by another process (" + o.error +
                "), not this cluster's server " + std::to_string(server.id);
    return o;
  }
  switch (WhoListens(port, pid)) {
    case PortListener::kProcess:
      return o;
    case PortListener::kOther:
      o.error = ForeignServerDescription(port, server.id, TlsClientFilesForStage(server.tls_stage, cluster_home_, tls_));
      break;
    case PortListener::kNone:  // it answered, then closed its port: gone
      o.error = "port " + std::to_string(port) + " is no longer served";
      break;
  }
  o.srvr.reset();  // never counted: not for health, the leader or quorum
  return o;
}

Result<std::string> LocalPlatform::LogTail(int id, int lines) {
  ZK_ASSIGN_OR_RETURN(const LocalNode* node, Node(id));
  return TailFile(node->log_path, lines);
}

}  // namespace zkpilot
