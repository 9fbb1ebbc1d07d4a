#include "platform/fake_platform.h"

#include <algorithm>

#include <fmt/format.h>

#include "util/hash.h"
#include "zk/ensemble_config.h"

namespace zkpilot {
namespace {

constexpr int kClientPort = 2181, kQuorumPort = 2888, kElectionPort = 3888, kHandoffQuorumPort = 2889;

std::string Host(int id) { return "fake-" + std::to_string(id); }

std::string Ids(const std::vector<int>& ids) {
  std::string out;
  for (int id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return "[" + out + "]";
}

std::string ReplaceCommas(std::string s) {
  for (char& c : s)
    if (c == ',') c = '\n';
  return s;
}

// The ZooKeeper calls of the step runner, answered from the world.
class FakeSession : public ZkSession {
 public:
  explicit FakeSession(FakeCluster& world) : world_(world) {}

  Result<std::string> GetConfig() override {
    ZK_RETURN_IF_ERROR(world_.Enter("GetConfig", "GetConfig()"));
    return world_.ConfigText();
  }

  Result<std::string> Reconfig(const std::string& joining, const std::string& leaving) override {
    ZK_RETURN_IF_ERROR(world_.Enter("Reconfig", "Reconfig(+" + joining + ", -" + leaving + ")"));
    if (world_.leader == 0) return Status::IOError("reconfig: no quorum");
    if (!world_.reconfig_enabled)
      return Status::IOError("reconfig: reconfiguration is disabled (ZRECONFIGDISABLED)");
    if (!joining.empty()) {
      ZK_ASSIGN_OR_RETURN(ServerEntry entry, ParseServerLine(joining));
      const bool moved = world_.voters.count(entry.id) && entry.quorum_port != world_.QuorumPort(entry.id);
      world_.voters.insert(entry.id);
      world_.quorum_ports[entry.id] = entry.quorum_port;
      if (moved && world_.leader == entry.id) {
        // The leader's quorum address changed: it names a successor (the
        // highest other running voter here), no election.
        int successor = 0;
        for (int id : world_.voters)
          if (id != entry.id && world_.servers.count(id) && world_.servers[id].running) successor = id;
        if (successor != 0) {
          world_.leader = successor;
          ++world_.handoffs;
          world_.zxid = ((world_.zxid >> 32) + 1) << 32;
        }
      }
    }
    if (!leaving.empty()) {
      const int id = std::stoi(leaving);
      world_.voters.erase(id);
      if (world_.leader == id) {  // a removed leader steps down
        world_.leader = 0;
        world_.Elect();
      }
    }
    ++world_.config_version;
    world_.Leave("Reconfig");
    return world_.ConfigText();
  }

  // Membership changes only (no hand-off): the voters become the listed ids.
  Result<std::string> SetMembers(const std::string& members, int64_t from_config) override {
    ZK_RETURN_IF_ERROR(world_.Enter("SetMembers", "SetMembers(" + members + ")"));
    if (world_.leader == 0) return Status::IOError("reconfig: no quorum");
    if (from_config != world_.config_version) return Status::IOError("reconfig: bad version (ZBADVERSION)");
    ZK_ASSIGN_OR_RETURN(EnsembleConfig config, ParseEnsembleConfig(ReplaceCommas(members)));
    world_.voters.clear();
    world_.client_addresses = false;
    for (const auto& [id, entry] : config.servers) {
      world_.voters.insert(id);
      world_.client_addresses = world_.client_addresses || entry.client.port != 0;
    }
    ++world_.config_version;
    world_.Leave("SetMembers");
    return world_.ConfigText();
  }

  Result<CreatedNode> CreateNode(const std::string& path, const std::string& data, const CreateOptions& options) override {
    ZK_RETURN_IF_ERROR(world_.Enter("CreateNode", "CreateNode(" + path + ")"));
    CreatedNode node;
    node.path = path;
    if (world_.znodes.count(path)) {
      if (!options.ignore_existing) return Status::InvalidInput("create " + path + ": node exists");
      node.outcome = CreatedNode::Outcome::kAlreadyExisted;
      return node;
    }
    world_.znodes[path] = data;
    ++world_.zxid;
    return node;
  }

  Status Delete(const std::string& path, DeleteMode mode) override {
    ZK_RETURN_IF_ERROR(world_.Enter("Delete", "Delete(" + path + ")"));
    if (!world_.znodes.erase(path)) return Status::NotFound("delete " + path + ": no node");
    ++world_.zxid;
    return Status::Ok();
  }

  Status SetQuota(const std::string& path, int64_t bytes, int64_t count) override {
    return world_.Enter("SetQuota", "SetQuota(" + path + ")");
  }

 private:
  FakeCluster& world_;
};

}  // namespace

// ---------------------------------------------------------------- FakeCluster

void FakeCluster::FailNext(const std::string& method, Status status) { fail_next_[method].push_back(std::move(status)); }

void FakeCluster::FailAfter(const std::string& method, int calls, Status status) {
  fail_after_[method] = Failure{calls, std::move(status)};
}

void FakeCluster::CrashAfter(const std::string& method, int calls_first) { crash_after_[method] = calls_first; }

void FakeCluster::NeverComesBack(int id) { servers[id].broken = true; }

std::vector<std::string> FakeCluster::Calls(const std::string& method) const {
  std::vector<std::string> out;
  for (const auto& c : calls_)
    if (method.empty() || c.rfind(method + "(", 0) == 0) out.push_back(c);
  return out;
}

int FakeCluster::Restarts(int id) const {
  auto it = servers.find(id);
  return it == servers.end() ? 0 : std::max(0, it->second.starts - 1);
}

Status FakeCluster::Enter(const std::string& method, const std::string& call) {
  calls_.push_back(call);
  ++calls_of_[method];
  auto next = fail_next_.find(method);
  if (next != fail_next_.end() && !next->second.empty()) {
    Status s = next->second.front();
    next->second.erase(next->second.begin());
    return s;
  }
  auto after = fail_after_.find(method);
  if (after != fail_after_.end() && calls_of_[method] > after->second.after) return after->second.status;
  return Status::Ok();
}

void FakeCluster::Leave(const std::string& method) {
  auto it = crash_after_.find(method);
  if (it == crash_after_.end()) return;
  if (it->second-- > 0) return;
  crash_after_.erase(it);
  throw FakeCrash(method);
}

void FakeCluster::Start(Server& s) {
  ++s.starts;
  s.running_generation = s.generation;
  s.running_fingerprint = s.prepared_fingerprint;
  s.version = s.prepared_version;
  s.tls_stage = s.prepared_tls_stage;
  s.quorum_auth_stage = s.prepared_quorum_auth_stage;
  s.running = !s.broken;
  if (s.broken) {
    ++s.restarts;
    s.last_exit = "exited with 1";
  }
  Elect();
}

void FakeCluster::Stop(Server& s) {
  s.running = false;
  if (leader == s.id) leader = 0;
  Elect();
}

void FakeCluster::Elect() {
  if (leader != 0) return;
  std::vector<int> up;
  for (int id : voters) {
    auto it = servers.find(id);
    if (it != servers.end() && it->second.running) up.push_back(id);
  }
  if (up.empty() || up.size() * 2 <= voters.size()) return;
  leader = up.back();  // equal zxids: the highest id wins
  ++elections;
  zxid = ((zxid >> 32) + 1) << 32;  // a new epoch
}

int FakeCluster::QuorumPort(int id) const {
  auto it = quorum_ports.find(id);
  return it == quorum_ports.end() ? kQuorumPort : it->second;
}

std::string FakeCluster::ConfigText() const {
  std::string out;
  for (int id : voters) {
    out += fmt::format("server.{}={}:{}:{}:participant", id, Host(id), QuorumPort(id), kElectionPort);
    out += client_addresses ? fmt::format(";0.0.0.0:{}\n", kClientPort) : "\n";
  }
  return out + fmt::format("version={:x}\n", config_version);
}

// ---------------------------------------------------------------- FakePlatform

FakePlatform::FakePlatform(FakeCluster& world, Package package, Values target)
    : world_(world), package_(std::move(package)), target_(std::move(target)) {}

Result<FakeCluster::Server*> FakePlatform::Find(int id) {
  auto it = world_.servers.find(id);
  if (it == world_.servers.end()) return Status::NotFound("the fake platform has no server " + std::to_string(id));
  return &it->second;
}

Status FakePlatform::Preflight() { return world_.Enter("Preflight", "Preflight()"); }

Result<std::vector<NodeEndpoint>> FakePlatform::Topology() const {
  std::vector<NodeEndpoint> out;
  const int replicas = target_.Get("replicas").get<int>();
  for (int id = 1; id <= replicas; ++id) {
    NodeEndpoint e;
    e.id = id;
    e.name = e.pod_name = e.host = Host(id);
    e.client_port = kClientPort;
    e.quorum_port = kQuorumPort;
    e.handoff_quorum_port = kHandoffQuorumPort;
    e.election_port = kElectionPort;
    e.bind_address = "0.0.0.0";
    out.push_back(e);
  }
  return out;
}

Result<std::vector<ServerState>> FakePlatform::Servers() {
  std::vector<ServerState> out;
  for (auto& [id, s] : world_.servers) {
    if (s.broken && s.desired) {  // a crash loop: it exits again whenever looked at
      ++s.restarts;
      s.last_exit = "exited with 1";
    }
    ServerState st;
    st.id = id;
    st.exists = s.running;
    st.desired_running = s.desired;
    st.generation = s.generation;
    st.running_generation = s.running_generation;
    st.restarts = s.restarts;
    st.last_exit = s.last_exit;
    st.client = Endpoint{Host(id), kClientPort};
    st.version = s.version;
    st.tls_stage = s.tls_stage;
    st.quorum_auth_stage = s.quorum_auth_stage;
    st.config_fingerprint = s.running ? s.running_fingerprint : s.prepared_fingerprint;
    st.uid = s.running ? std::to_string(s.starts) : "";
    st.instance = s.starts ? "instance " + std::to_string(s.starts) : "";
    st.log = "fake log of server " + std::to_string(id);
    out.push_back(st);
  }
  return out;
}

Result<std::string> FakePlatform::TargetFingerprint(int id) {
  std::string text;
  for (const auto& p : package_.schema.params)
    if ((p.change == ChangePolicy::kRolling || p.change == ChangePolicy::kImmutable) && target_.Has(p.name))
      text += p.name + "=" + target_.Get(p.name).dump() + "\n";
  return Sha256Hex(text).substr(0, 16);
}

Result<std::string> FakePlatform::ApplyServerConfig(int id, const std::vector<int>& members,
                                                      const ServerRender& render) {
  ZK_RETURN_IF_ERROR(world_.Enter("ApplyServerConfig", fmt::format("ApplyServerConfig({}, {})", id, Ids(members))));
  ZK_ASSIGN_OR_RETURN(std::string fingerprint, TargetFingerprint(id));
  FakeCluster::Server& s = world_.servers[id];
  s.id = id;
  s.prepared_fingerprint = fingerprint;
  s.prepared_version = target_.Get(package_.version_parameter).get<std::string>();
  s.prepared_members = members;
  s.prepared_render = render;
  s.prepared_tls_stage = static_cast<int>(TlsStageOf(render, target_));
  s.prepared_quorum_auth_stage = QuorumAuthStageOf(render, target_);
  s.has_data = true;
  if (world_.voters.empty()) {  // the first configuration is the ensemble's
    if (members.empty()) {
      ZK_ASSIGN_OR_RETURN(auto topology, Topology());
      for (const auto& e : topology) world_.voters.insert(e.id);
    } else {
      world_.voters.insert(members.begin(), members.end());
    }
  }
  world_.Leave("ApplyServerConfig");
  return "configured server " + std::to_string(id);
}

Result<std::string> FakePlatform::StartServer(int id) {
  ZK_RETURN_IF_ERROR(world_.Enter("StartServer", fmt::format("StartServer({})", id)));
  ZK_ASSIGN_OR_RETURN(FakeCluster::Server * s, Find(id));
  s->desired = true;
  if (!s->running) world_.Start(*s);
  world_.Leave("StartServer");
  return "started server " + std::to_string(id);
}

Result<std::string> FakePlatform::RestartServer(int id, int64_t generation) {
  ZK_RETURN_IF_ERROR(world_.Enter("RestartServer", fmt::format("RestartServer({}, {})", id, generation)));
  ZK_ASSIGN_OR_RETURN(FakeCluster::Server * s, Find(id));
  if (s->running_generation >= generation) return "already at generation " + std::to_string(generation);
  s->generation = std::max(s->generation, generation);
  s->desired = true;
  world_.Stop(*s);
  world_.Start(*s);
  world_.Leave("RestartServer");
  return "restarted server " + std::to_string(id);
}

Result<std::string> FakePlatform::StopServer(int id, std::chrono::milliseconds timeout) {
  ZK_RETURN_IF_ERROR(world_.Enter("StopServer", fmt::format("StopServer({})", id)));
  ZK_ASSIGN_OR_RETURN(FakeCluster::Server * s, Find(id));
  s->desired = false;
  world_.Stop(*s);
  world_.Leave("StopServer");
  return "stopped server " + std::to_string(id);
}

Result<std::string> FakePlatform::ForgetServer(int id) {
  ZK_RETURN_IF_ERROR(world_.Enter("ForgetServer", fmt::format("ForgetServer({})", id)));
  world_.servers.erase(id);
  world_.Leave("ForgetServer");
  return "forgot server " + std::to_string(id);
}

Result<std::string> FakePlatform::ApplyAddons() {
  ZK_RETURN_IF_ERROR(world_.Enter("ApplyAddons", "ApplyAddons()"));
  ++world_.addons_applied;
  world_.Leave("ApplyAddons");
  return std::string("add-ons applied");
}

Result<std::string> FakePlatform::TearDown(bool purge_data, std::chrono::milliseconds timeout) {
  ZK_RETURN_IF_ERROR(world_.Enter("TearDown", fmt::format("TearDown({})", purge_data ? "purge" : "keep data")));
  for (auto& [id, s] : world_.servers) {
    s.desired = false;
    world_.Stop(s);
  }
  bool data_left = false;
  for (auto& [id, s] : world_.servers) {
    if (purge_data) s.has_data = false;
    data_left = data_left || s.has_data;
  }
  // What the platform made goes; servers with data stay known by their data.
  std::erase_if(world_.servers, [](const auto& entry) { return !entry.second.has_data; });
  world_.voters.clear();
  world_.torn_down = true;
  world_.purged = purge_data;
  world_.Leave("TearDown");
  return std::string(data_left ? "data kept" : "nothing left");
}

Result<std::unique_ptr<ZkClient>> FakePlatform::OpenSession(const std::vector<int>& members) {
  return Status::Unavailable("the fake platform has no ZooKeeper client sessions (OpenZkSession has)");
}

Result<std::unique_ptr<ZkSession>> FakePlatform::OpenZkSession(const std::vector<int>& members) {
  ZK_RETURN_IF_ERROR(world_.Enter("OpenZkSession", "OpenZkSession(" + Ids(members) + ")"));
  if (world_.leader == 0) return Status::IOError("no ZooKeeper session: the ensemble has no quorum");
  return std::unique_ptr<ZkSession>(std::make_unique<FakeSession>(world_));
}

Result<std::string> FakePlatform::RunFileAction(int id, const std::string& action, const nlohmann::json& args,
                                                bool purge_data) {
  ZK_RETURN_IF_ERROR(world_.Enter("RunFileAction", fmt::format("RunFileAction({}, {})", id, action)));
  auto it = world_.servers.find(id);
  if (action == "remove-node-data" && purge_data && it != world_.servers.end()) it->second.has_data = false;
  world_.Leave("RunFileAction");
  return action + " done";
}

Result<std::string> FakePlatform::LogTail(int id, int lines) {
  return "the last lines of server " + std::to_string(id) + "'s log";
}

ServerRender FakePlatform::last_render(int id) const {
  auto it = world_.servers.find(id);
  return it == world_.servers.end() ? ServerRender{} : it->second.prepared_render;
}

NodeObservation FakePlatform::Observe(const ServerState& server) {
  NodeObservation o;
  o.id = server.id;
  o.not_ready = server.not_ready;
  auto it = world_.servers.find(server.id);
  if (it == world_.servers.end() || !it->second.running) {
    o.error = "connection refused";
    return o;
  }
  SrvrInfo info;
  info.version = it->second.version;
  info.zxid = world_.zxid;
  info.mode = world_.leader == server.id ? "leader" : world_.leader != 0 ? "follower" : std::string(kModeNotServing);
  o.srvr = info;
  return o;
}

Result<int> FakePlatform::SyncedFollowers(const ServerState& leader) {
  ZK_RETURN_IF_ERROR(world_.Enter("SyncedFollowers", "SyncedFollowers(" + std::to_string(leader.id) + ")"));
  if (world_.leader != leader.id) return Status::NotFound("server " + std::to_string(leader.id) + " does not lead");
  int followers = 0;
  for (const auto& [id, s] : world_.servers)
    if (id != leader.id && s.running) ++followers;
  if (world_.unsynced_polls > 0) {
    --world_.unsynced_polls;
    --followers;
  }
  return followers;
}

}  // namespace zkpilot
