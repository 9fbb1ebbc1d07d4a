// Exporter: an HTTP endpoint serving one ensemble's metrics to Prometheus.
//
// Every request reads the servers afresh (no background polling, no cache):
// each server gets `srvr` and, when it serves, `mntr`, all servers in
// parallel, each call bounded by `timeout`, so a scrape takes at most about
// 2 x timeout however many servers are down. RenderPrometheusText
// (metrics.h) turns the readings into text.
//
//   GET /               a short text index
//   GET /metrics        every server, plus the cluster-wide zkpilot_* series.
//                       One Prometheus target per cluster; a down server shows
//                       as zkpilot_node_up 0.
//   GET /metrics?node=N server N only (404 for an unknown id). Answers 503
//                       when the server does not answer, so that with one
//                       target per server Prometheus's own `up` means "this
//                       ZooKeeper server answered", exactly as with
//                       ZooKeeper's built-in provider, which the package's
//                       ZooKeeperNodeDown/ZooKeeperNoLeader rules rely on.
//
// Thread-safety: Collect/CollectNode and the HTTP handlers may run
// concurrently; Start/Stop are serialised internally. The callbacks in
// ExporterOptions are called from HTTP worker threads and must be
// thread-safe themselves.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "observe/metrics.h"
#include "util/status.h"
#include "zk/endpoint.h"
#include "zk/four_letter.h"
#include "zk/tls_transport.h"

namespace httplib {
class Server;
}

namespace zkpilot {

struct ExporterOptions {
  std::string cluster;                            // the `cluster` label
  std::vector<std::pair<int, Endpoint>> servers;  // server id -> client endpoint
  std::string listen_host = "127.0.0.1";
  int port = 0;                             // 0: any free port (see port())
  std::chrono::milliseconds timeout{1000};  // per four-letter word
  // The servers' client ports speak TLS: four-letter words go over TLS with
  // these client files. None: plaintext.
  std::optional<TlsClientFiles> tls;
  // Per server id, how to reach it when not as `tls` says (a server in the
  // middle of a TLS migration; none: plaintext).
  std::map<int, std::optional<TlsClientFiles>> server_tls;
  // Cluster-level counters from zkpilot's own records; empty function: none.
  std::function<ExporterSelf()> self_metrics;
  // Server id -> desired state as zkpilot records it ("running", "stopped").
  // A server that does not answer is reported with role "stopped" when its
  // desired state is "stopped", else "down". Empty function: always "down".
  std::function<std::map<int, std::string>()> node_states;
  // Voting members, for quorum_size when a server's mntr lacks it (ZooKeeper
  // 3.8's has it). 0: the number of `servers`.
  int voters = 0;
  // Whether what answers on server `id`'s endpoint is that server (the local
  // platform: its own process holds the port). A server not vouched for is
  // read as down, with the returned error as its last error: another
  // program's answers never stand for it. Empty function: every answer counts.
  std::function<Status(int id, const Endpoint& endpoint)> vouch;
};

class Exporter {
 public:
  explicit Exporter(ExporterOptions options);
  ~Exporter();  // Stop()s
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  // Binds listen_host:port and serves in a background thread. Fails when the
  // port cannot be bound or when already started.
  Status Start();
  // Stops serving and waits for the server thread. Idempotent.
  void Stop();
  // The bound port once started (the chosen one when 0 was requested), else 0.
  int port() const;

  // What GET /metrics returns: reads every server now.
  std::string Collect();
  // What GET /metrics?node=id returns. NotFound for an id not in `servers`;
  // IOError (naming the reason) when the server does not answer.
  Result<std::string> CollectNode(int id);

 private:
  ServerReading Read(int id, const Endpoint& endpoint, const std::string& down_role);
  std::string DownRole(int id, const std::map<int, std::string>& states) const;

  const ExporterOptions options_;
  const AdminClient admin_;

  std::mutex success_mu_;
  std::map<int, int64_t> last_success_ms_;  // guarded by success_mu_
  std::map<int, std::string> last_error_;   // guarded by success_mu_

  mutable std::mutex lifecycle_mu_;
  std::unique_ptr<httplib::Server> server_;  // guarded by lifecycle_mu_
  std::thread thread_;                       // guarded by lifecycle_mu_
  int port_ = 0;                             // guarded by lifecycle_mu_
};

// The reading for one server from its replies (pure; the exporter's policy):
// up when either command answered; the role is mntr's zk_server_state when
// mntr answered (so leader-only gauges and the role come from one reply),
// else srvr's mode, else `down_role`.
ServerReading MakeServerReading(int id, const Result<SrvrInfo>& srvr,
                                const Result<std::map<std::string, std::string>>& mntr,
                                int64_t last_success_ms, const std::string& down_role);

}  // namespace zkpilot
