// FakePlatform: a Platform for tests, in memory. No process, no socket.
//
// A FakeCluster is the simulated world — servers with the roles and zxids an
// ensemble would have (one leader elected among the running voters, the
// others following in sync), the ensemble's dynamic configuration, znodes —
// shared by the FakePlatform objects built on it (one per target values, as
// the actions get them). It records every platform call in order and fails
// on demand:
//   FailNext("RestartServer", status)   the next call fails (nothing happens)
//   FailAfter("StartServer", n, status) every call after the first n fails
//   CrashAfter("RestartServer")         the next call takes effect, then
//                                       throws FakeCrash: a zkpilot killed
//                                       mid-step (nothing journaled after)
//   NeverComesBack(id)                  from its next start the server exits
//                                       at once, again and again (a crash loop)
// FakeClock advances only when slept on, so waits end at once.
//
// Thread-safety: none; one test thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "package/package.h"
#include "platform/platform.h"
#include "values/values.h"

namespace zkpilot {

// Thrown by a call CrashAfter armed, after its effect.
struct FakeCrash : std::runtime_error {
  explicit FakeCrash(const std::string& method) : std::runtime_error("simulated crash after " + method) {}
};

class FakeClock : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() override { return now_; }
  void Sleep(std::chrono::milliseconds d) override { now_ += d; }

 private:
  std::chrono::steady_clock::time_point now_{};
};

class FakeCluster {
 public:
  struct Server {
    int id = 0;
    bool running = false;
    bool desired = false;
    bool broken = false;             // NeverComesBack
    int64_t generation = 0, running_generation = 0;
    int restarts = 0;                // unexpected exits
    int starts = 0;                  // processes started (a restart starts one more)
    std::string last_exit;
    std::string prepared_fingerprint, running_fingerprint;
    std::string prepared_version, version;
    std::vector<int> prepared_members;
    // The stages ApplyServerConfig rendered (its ServerRender, resolved
    // against the target values) and those of the last start (-1: never
    // started), reported as ServerState::tls_stage / quorum_auth_stage.
    ServerRender prepared_render;
    int prepared_tls_stage = -1, tls_stage = -1;
    int prepared_quorum_auth_stage = -1, quorum_auth_stage = -1;
    bool has_data = false;
  };

  // Failure injection (see the top of the file).
  void FailNext(const std::string& method, Status status);
  void FailAfter(const std::string& method, int calls, Status status);
  // `calls_first`: that many calls of `method` pass before the crashing one.
  void CrashAfter(const std::string& method, int calls_first = 0);
  void NeverComesBack(int id);

  // Every platform call so far ("RestartServer(2, 1)"), or those of one method.
  std::vector<std::string> Calls(const std::string& method = "") const;
  // Times server `id`'s process was replaced (starts - 1; 0 when never started).
  int Restarts(int id) const;

  std::map<int, Server> servers;
  std::set<int> voters;      // the ensemble's configuration
  int leader = 0;
  int elections = 0;         // leaders elected, the first one included
  int handoffs = 0;          // leaders named by a reconfig (no election)
  bool reconfig_enabled = true;     // false: every reconfig is refused (ZRECONFIGDISABLED)
  bool client_addresses = true;     // false: server lines without one (a TLS-only ensemble)
  int unsynced_polls = 0;           // the leader's next N SyncedFollowers readings count one follower short
  std::map<int, int> quorum_ports;  // per voter, when not the default (a hand-off moved it)
  int64_t zxid = 0x100000000;
  int64_t config_version = 0x100000000;
  std::map<std::string, std::string> znodes;
  bool torn_down = false, purged = false;
  int addons_applied = 0;

  // --- used by FakePlatform ---
  // Records the call; the failure armed for `method`, if any.
  Status Enter(const std::string& method, const std::string& call);
  // Throws FakeCrash when CrashAfter armed `method`.
  void Leave(const std::string& method);
  void Start(Server& s);
  void Stop(Server& s);
  void Elect();  // a leader among the running voters, if a majority runs
  std::string ConfigText() const;
  int QuorumPort(int id) const;

 private:
  struct Failure {
    int after = 0;  // calls that still succeed
    Status status;
  };
  std::vector<std::string> calls_;
  std::map<std::string, std::vector<Status>> fail_next_;
  std::map<std::string, Failure> fail_after_;
  std::map<std::string, int> calls_of_;
  std::map<std::string, int> crash_after_;  // method -> calls that still pass
};

class FakePlatform : public Platform {
 public:
  // REQUIRES: world outlives the platform; target resolved against package.
  FakePlatform(FakeCluster& world, Package package, Values target);

  std::string Name() const override { return "fake"; }
  Status Preflight() override;
  Result<std::vector<NodeEndpoint>> Topology() const override;
  Result<std::vector<ServerState>> Servers() override;
  // A digest of the target's rolling and immutable values (the version too).
  Result<std::string> TargetFingerprint(int id) override;
  Result<std::string> ApplyServerConfig(int id, const std::vector<int>& members,
                                        const ServerRender& render = {}) override;
  Result<std::string> StartServer(int id) override;
  Result<std::string> RestartServer(int id, int64_t generation) override;
  Result<std::string> StopServer(int id, std::chrono::milliseconds timeout) override;
  Result<std::string> ForgetServer(int id) override;
  Result<std::string> ApplyAddons() override;
  Result<std::string> TearDown(bool purge_data, std::chrono::milliseconds timeout) override;
  Result<std::unique_ptr<ZkClient>> OpenSession(const std::vector<int>& members) override;  // Unavailable
  Result<std::unique_ptr<ZkSession>> OpenZkSession(const std::vector<int>& members) override;
  Result<std::string> RunFileAction(int id, const std::string& action, const nlohmann::json& args,
                                    bool purge_data) override;
  Result<std::string> LogTail(int id, int lines) override;
  NodeObservation Observe(const ServerState& server) override;
  Result<int> SyncedFollowers(const ServerState& leader) override;

  // The ServerRender of the last ApplyServerConfig of server `id` (empty: none yet).
  ServerRender last_render(int id) const;

 private:
  Result<FakeCluster::Server*> Find(int id);

  FakeCluster& world_;
  Package package_;
  Values target_;
};

}  // namespace zkpilot
