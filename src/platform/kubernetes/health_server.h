// HealthServer: the operator's probes over HTTP.
//
//   GET /healthz  200 "ok" while the process serves at all (liveness)
//   GET /readyz   200 when `ready` says so, else 503 with its message
//                 (readiness: leading or standing by, and the API answers)
//
// The server is cpp-httplib's, as the metrics exporter's (observe/exporter.h).
// Thread-safety: Start/Stop from one thread; `ready` is called from HTTP
// worker threads and must be thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "util/status.h"

namespace httplib {
class Server;
}

namespace zkpilot {

struct ListenAddress {
  std::string host = "0.0.0.0";
  int port = 0;  // 0: any free port
};

// ":8081" (every interface), "127.0.0.1:8081", "localhost:0". InvalidInput
// naming --health-addr otherwise.
Result<ListenAddress> ParseListenAddress(const std::string& text);

struct HealthServerOptions {
  ListenAddress address;
  std::function<Status()> ready;  // empty: always ready
};

class HealthServer {
 public:
  explicit HealthServer(HealthServerOptions options);
  ~HealthServer();  // Stop()s
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  // Binds and serves in a background thread.
  Status Start();
  void Stop();
  int port() const { return port_; }  // the bound port once started

 private:
  const HealthServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace zkpilot
