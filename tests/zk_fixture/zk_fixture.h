// ZkTestEnsemble: real ZooKeeper servers for integration tests.
//
// Start() makes a temporary directory, picks free ports on 127.0.0.1, writes
// each server's zoo.cfg and myid, spawns one JVM per server
// (QuorumPeerMain, stdout and stderr to <dir>/server.<id>/server.log) and
// returns once every server reports leader or follower through `srvr`. It
// polls with a deadline and never sleeps a fixed time; on timeout the error
// carries the tail of each server's log. A port taken by someone else between
// picking and binding is retried with fresh ports.
//
// The destructor SIGKILLs the servers it started (by PID, never by name) and
// removes the directory. The JVMs also get PR_SET_PDEATHSIG, so they die with
// the thread that started them if the test process crashes: start an
// ensemble from a thread that outlives it (e.g. the test's main thread).
//
// Thread-safety: not thread-safe; use from one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"
#include "zk/endpoint.h"
#include "zk/tls_transport.h"

namespace zkpilot {

class AdminClient;

// A TLS-only ensemble: clients are served on secureClientPort alone (Netty,
// PEM key and trust stores; the server lines carry no client address), a
// client certificate whose subject DN is `super_user_dn` is the super user,
// and the fixture itself talks to the servers with `client`.
struct ZkTestTls {
  std::string server_pem;  // key then certificate (ssl.keyStore.type=PEM)
  std::string ca_file;     // the trust store: the CA of clients and servers
  TlsClientFiles client;   // what the fixture's own probes present
  std::string super_user_dn = "CN=zkpilot-super";
  bool ssl_quorum = true;  // quorum and election over TLS too (sslQuorum)
  // The client port's own key store (ssl.keyStore); empty: server_pem. The
  // quorum keeps server_pem (ssl.quorum.keyStore).
  std::string client_pem = {};
  // The DNS name client_pem's certificate names instead of 127.0.0.1:
  // Client(id) carries it as tls_name, so the fixture's probes verify it.
  std::string tls_name = {};
  // Also serve plaintext clients, on a port of their own (the client address
  // of the server lines; PlaintextClient): the same servers over both, as
  // bench/tls compares them.
  bool plaintext_too = false;
};

struct ZkTestEnsembleOptions {
  bool reconfig_enabled = true;
  // Non-empty: servers accept AddAuth("digest", "super:<password>") as the
  // super user (-Dzookeeper.DigestAuthenticationProvider.superDigest).
  std::string super_password;
  std::string four_letter_whitelist = "srvr,ruok,mntr,conf";
  int tick_time_ms = 2000;
  std::string max_heap = "256m";
  // JVM flags besides the heap: quick start-up for tests by default (C1 only).
  std::vector<std::string> jvm_flags = {"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"};
  // How long Start() (and WaitUntilServing) waits for leader/follower.
  std::chrono::milliseconds start_timeout = std::chrono::seconds(90);
  // Set: a TLS-only ensemble (see ZkTestTls).
  std::optional<ZkTestTls> tls;
  // Extra zoo.cfg lines ("key=value"), appended as given.
  std::vector<std::string> extra_config;
  // Keep the directory (configs, data, logs) after the ensemble is destroyed.
  bool keep_dir = false;
  std::string java = ZKPILOT_TEST_JAVA;
  std::string classpath = ZKPILOT_TEST_ZOOKEEPER_CLASSPATH;
};

class ZkTestEnsemble {
 public:
  // REQUIRES: servers >= 1 (usually 1 or 3).
  static Result<std::unique_ptr<ZkTestEnsemble>> Start(int servers,
                                                       ZkTestEnsembleOptions options = {});
  ~ZkTestEnsemble();
  ZkTestEnsemble(const ZkTestEnsemble&) = delete;
  ZkTestEnsemble& operator=(const ZkTestEnsemble&) = delete;

  int size() const { return static_cast<int>(servers_.size()); }
  // How to probe the servers: over TLS for a TLS-only ensemble.
  AdminClient Probe(std::chrono::milliseconds timeout) const;
  // "127.0.0.1:p1,127.0.0.1:p2,..." for every server (or the given ids).
  std::string ConnectString() const;
  std::string ConnectString(const std::vector<int>& ids) const;
  // REQUIRES: 1 <= id <= size() for all of these.
  Endpoint Client(int id) const;  // with ZkTestTls::tls_name
  // The plaintext client port of a ZkTestTls::plaintext_too ensemble.
  Endpoint PlaintextClient(int id) const;
  Endpoint Admin(int id) const;   // the AdminServer (HTTP)
  // "server.<id>=127.0.0.1:q:e:participant;127.0.0.1:c", e.g. for reconfig;
  // with TLS without ";127.0.0.1:c" (the client port is secureClientPort).
  std::string ServerLine(int id) const;
  // The line a reconfig adds server `id` back with. ZooKeeper requires a
  // client address in it (PrepRequestProcessor: "each server should have 3
  // ports specified"), so with TLS it is ServerLine(id) + ";127.0.0.1:c",
  // c being the secure port (see docs/security.md for what that costs).
  std::string ReconfigLine(int id) const;
  pid_t Pid(int id) const;  // 0 when not running
  const std::filesystem::path& dir() const { return dir_; }

  // SIGKILLs server `id` and reaps it.
  Status Kill(int id);
  // Starts a killed server again with its current config (the dynamic config
  // as left by any reconfig). Does not wait; see WaitUntilServing.
  Status Restart(int id);
  // Polls until each of `ids` (default: all) reports leader or follower in
  // `srvr` and (when `conf` is whitelisted) lists itself as server.<id>, as
  // ServerLine(id), in `conf`: a server just removed by reconfig keeps
  // claiming its old role for a moment.
  Status WaitUntilServing(std::vector<int> ids = {});
  // The last `lines` lines of a server's log.
  std::string LogTail(int id, int lines = 30) const;

 private:
  struct Server {
    int id = 0;
    int client_port = 0;
    int quorum_port = 0;
    int election_port = 0;
    int admin_port = 0;
    int plaintext_port = 0;  // ZkTestTls::plaintext_too
    pid_t pid = 0;
    std::filesystem::path dir;
  };

  ZkTestEnsemble(std::filesystem::path dir, ZkTestEnsembleOptions options);
  Status WriteConfigs();
  Status Spawn(Server& server);
  Status CheckAlive(int id);
  Status CheckListsItself(const AdminClient& admin, int id) const;
  const Server& At(int id) const { return servers_.at(static_cast<size_t>(id - 1)); }
  Server& At(int id) { return servers_.at(static_cast<size_t>(id - 1)); }

  std::filesystem::path dir_;
  ZkTestEnsembleOptions options_;
  std::vector<Server> servers_;
};

}  // namespace zkpilot
