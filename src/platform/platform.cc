#include "platform/platform.h"

#include <thread>


namespace zkpilot {
namespace {

class SteadyClock : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() override { return std::chrono::steady_clock::now(); }
  void Sleep(std::chrono::milliseconds d) override { std::this_thread::sleep_for(d); }
};

class ClientSession : public ZkSession {
 public:
  explicit ClientSession(std::unique_ptr<ZkClient> client) : client_(std::move(client)) {}
  // A server answers getConfig from its own copy, which may lag the leader's
  // (right after a reconfig, say): sync first, as ZooKeeper's consistency
  // guarantees ask of a reader that must see the latest committed state.
  Result<std::string> GetConfig() override {
    ZK_RETURN_IF_ERROR(client_->Sync("/zookeeper/config"));
    return client_->GetConfig();
  }
  Result<std::string> Reconfig(const std::string& joining, const std::string& leaving) override {
    return client_->Reconfig(joining, leaving);
  }
  Result<std::string> SetMembers(const std::string& members, int64_t from_config) override {
    return client_->SetMembers(members, from_config);
  }
  Result<std::function<std::optional<Status>()>> StartSetMembers(const std::string& members,
                                                                  int64_t from_config) override {
    return client_->StartSetMembers(members, from_config);
  }
  Result<std::function<std::optional<Status>()>> StartReconfig(const std::string& joining,
                                                                const std::string& leaving) override {
    return client_->StartReconfig(joining, leaving);
  }
  Result<CreatedNode> CreateNode(const std::string& path, const std::string& data,
                                 const CreateOptions& options) override {
    return client_->CreateNode(path, data, options);
  }
  Status Delete(const std::string& path, DeleteMode mode) override { return client_->Delete(path, mode); }
  Status SetQuota(const std::string& path, int64_t bytes, int64_t count) override {
    return client_->SetQuota(path, bytes, count);
  }

 private:
  std::unique_ptr<ZkClient> client_;
};

}  // namespace

Result<std::function<std::optional<Status>()>> ZkSession::StartReconfig(const std::string& joining,
                                                                         const std::string& leaving) {
  Status answer = Reconfig(joining, leaving).status();
  return std::function<std::optional<Status>()>([answer]() -> std::optional<Status> { return answer; });
}

Result<std::function<std::optional<Status>()>> ZkSession::StartSetMembers(const std::string& members,
                                                                           int64_t from_config) {
  Status answer = SetMembers(members, from_config).status();
  return std::function<std::optional<Status>()>([answer]() -> std::optional<Status> { return answer; });
}

Clock& SystemClock() {
  static SteadyClock clock;
  return clock;
}

std::unique_ptr<ZkSession> SessionOver(std::unique_ptr<ZkClient> client) {
  return std::make_unique<ClientSession>(std::move(client));
}

Result<std::unique_ptr<ZkSession>> Platform::OpenZkSession(const std::vector<int>& members) {
  ZK_ASSIGN_OR_RETURN(auto client, OpenSession(members));
  return SessionOver(std::move(client));
}

AdminClient Platform::Admin(std::chrono::milliseconds timeout) const { return AdminClient(timeout); }

AdminClient Platform::AdminFor(const ServerState&, std::chrono::milliseconds timeout) const { return Admin(timeout); }

NodeObservation Platform::Observe(const ServerState& server) {
  NodeObservation o;
  o.id = server.id;
  o.not_ready = server.not_ready;
  auto srvr = AdminFor(server, std::chrono::milliseconds(1000)).Srvr(server.client);
  if (srvr.ok()) o.srvr = *srvr;
  else o.error = srvr.status().message();
  return o;
}

Result<int> Platform::SyncedFollowers(const ServerState& leader) {
  ZK_ASSIGN_OR_RETURN(auto mntr, AdminFor(leader, std::chrono::milliseconds(1000)).Mntr(leader.client));
  auto it = mntr.find("zk_synced_followers");
  if (it == mntr.end()) return Status::NotFound("server " + std::to_string(leader.id) + " does not lead (no zk_synced_followers in its mntr)");
  try {
    return std::stoi(it->second);
  } catch (const std::exception&) {
    return Status::IOError("server " + std::to_string(leader.id) + ": zk_synced_followers is '" + it->second + "'");
  }
}

Result<PlatformStatus> Platform::Describe() { return PlatformStatus{}; }

Result<Endpoint> Platform::AddonEndpoint(const std::string& name) {
  return Status::NotFound("the " + Name() + " platform does not say where add-on " + name + " answers");
}

}  // namespace zkpilot
