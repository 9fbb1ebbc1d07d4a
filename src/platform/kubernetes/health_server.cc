#include "platform/kubernetes/health_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <charconv>

namespace zkpilot {

Result<ListenAddress> ParseListenAddress(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidInput("--health-addr " + text + ": " + why +
                                " (expected [HOST]:PORT, e.g. :8081)");
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return bad("no port");
  ListenAddress address;
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (!host.empty()) address.host = host;
  const std::string port = text.substr(colon + 1);
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), address.port);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || address.port < 0 ||
      address.port > 65535)
    return bad("port must be a number from 0 to 65535");
  return address;
}

HealthServer::HealthServer(HealthServerOptions options) : options_(std::move(options)) {}

HealthServer::~HealthServer() { Stop(); }

Status HealthServer::Start() {
  const std::string where =
      "health server " + options_.address.host + ":" + std::to_string(options_.address.port);
  if (server_) return Status::Internal(where + ": already started");
  auto server = std::make_unique<httplib::Server>();
  // SO_REUSEADDR only: SO_REUSEPORT (httplib's default) would let a second
  // process share the port (see observe/exporter.cc).
  server->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    const Status ready = options_.ready ? options_.ready() : Status::Ok();
    if (ready.ok()) {
      res.set_content("ok\n", "text/plain");
      return;
    }
    res.status = 503;
    res.set_content(ready.message() + "\n", "text/plain");
  });

  int port = options_.address.port;
  if (port == 0) {
    port = server->bind_to_any_port(options_.address.host);
    if (port <= 0) return Status::IOError(where + ": cannot bind");
  } else if (!server->bind_to_port(options_.address.host, port)) {
    return Status::IOError(where + ": cannot bind (port in use or address not local)");
  }
  // As in the exporter: wait until listening so that an early Stop() is not lost.
  auto finished = std::make_shared<std::atomic<bool>>(false);
  httplib::Server* raw = server.get();
  std::thread thread([raw, finished] {
    raw->listen_after_bind();
    finished->store(true);
  });
  while (!raw->is_running() && !finished->load())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (finished->load()) {
    thread.join();
    return Status::IOError(where + ": the HTTP server did not start");
  }
  server_ = std::move(server);
  thread_ = std::move(thread);
  port_ = port;
  return Status::Ok();
}

void HealthServer::Stop() {
  if (!server_) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
  port_ = 0;
}

}  // namespace zkpilot
