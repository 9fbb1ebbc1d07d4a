#include "observe/exporter.h"

#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <charconv>
#include <future>

namespace zkpilot {
namespace {

constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr auto kStartPoll = std::chrono::milliseconds(1);
// httplib serves each connection on one worker of a pool until the
// connection closes or idles out; its default pool (8 workers on 2 cores)
// was held by 8 idle keep-alive connections and every other scrape waited.
// kWorkers connections at once (more wait in the queue), and a connection
// idle or stalled for kIdle is closed.
constexpr size_t kWorkers = 96;
constexpr time_t kIdleSeconds = 5;
constexpr size_t kRequestsPerConnection = 100;

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<int> ParseId(const std::string& text) {
  int id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return id;
}

}  // namespace

ServerReading MakeServerReading(int id, const Result<SrvrInfo>& srvr,
                                const Result<std::map<std::string, std::string>>& mntr,
                                int64_t last_success_ms, const std::string& down_role) {
  ServerReading reading;
  reading.id = id;
  reading.up = srvr.ok() || mntr.ok();
  reading.last_success_ms = last_success_ms;
  reading.role = down_role;
  if (srvr.ok()) reading.role = srvr->mode;
  if (mntr.ok()) {
    reading.mntr = *mntr;
    auto state = mntr->find("zk_server_state");
    if (state != mntr->end() && !state->second.empty()) reading.role = state->second;
  }
  return reading;
}

Exporter::Exporter(ExporterOptions options)
    : options_(std::move(options)), admin_(options_.timeout, options_.tls) {}

Exporter::~Exporter() { Stop(); }

std::string Exporter::DownRole(int id, const std::map<int, std::string>& states) const {
  auto it = states.find(id);
  return it != states.end() && it->second == "stopped" ? "stopped" : "down";
}

ServerReading Exporter::Read(int id, const Endpoint& endpoint, const std::string& down_role) {
  const Status vouched = options_.vouch ? options_.vouch(id, endpoint) : Status::Ok();
  auto own = options_.server_tls.find(id);
  const AdminClient admin = own == options_.server_tls.end() ? admin_ : AdminClient(options_.timeout, own->second);
  Result<SrvrInfo> srvr = vouched.ok() ? admin.Srvr(endpoint) : Result<SrvrInfo>(vouched);
  // mntr refuses while the server is not serving; srvr already said so.
  Result<std::map<std::string, std::string>> mntr = Status::NotFound("mntr: not read");
  if (srvr.ok() && srvr->IsServing()) mntr = admin.Mntr(endpoint);
  int64_t last_success_ms = 0;
  {
    std::lock_guard<std::mutex> lock(success_mu_);
    if (srvr.ok() || mntr.ok()) {
      last_success_ms_[id] = NowUnixMs();
      last_error_.erase(id);
    } else {
      last_error_[id] = srvr.status().message();
    }
    auto it = last_success_ms_.find(id);
    if (it != last_success_ms_.end()) last_success_ms = it->second;
  }
  return MakeServerReading(id, srvr, mntr, last_success_ms, down_role);
}

std::string Exporter::Collect() {
  const auto start = std::chrono::steady_clock::now();
  const std::map<int, std::string> states =
      options_.node_states ? options_.node_states() : std::map<int, std::string>{};
  std::vector<std::future<ServerReading>> readings;
  for (const auto& [id, endpoint] : options_.servers) {
    readings.push_back(std::async(
        std::launch::async, [this, id = id, endpoint = endpoint, role = DownRole(id, states)] {
          return Read(id, endpoint, role);
        }));
  }
  MetricsSnapshot snapshot;
  snapshot.cluster = options_.cluster;
  for (auto& reading : readings) snapshot.servers.push_back(reading.get());
  if (options_.self_metrics) snapshot.self = options_.self_metrics();
  snapshot.voters =
      options_.voters > 0 ? options_.voters : static_cast<int>(options_.servers.size());
  snapshot.scrape_duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return RenderPrometheusText(snapshot);
}

Result<std::string> Exporter::CollectNode(int id) {
  const Endpoint* endpoint = nullptr;
  for (const auto& [server_id, server_endpoint] : options_.servers)
    if (server_id == id) endpoint = &server_endpoint;
  if (!endpoint)
    return Status::NotFound(fmt::format("exporter {}: no server {}", options_.cluster, id));
  const std::map<int, std::string> states =
      options_.node_states ? options_.node_states() : std::map<int, std::string>{};
  ServerReading reading = Read(id, *endpoint, DownRole(id, states));
  if (!reading.up) {
    std::lock_guard<std::mutex> lock(success_mu_);
    return Status::IOError(
        fmt::format("exporter {}: server {}: {}", options_.cluster, id, last_error_[id]));
  }
  MetricsSnapshot snapshot;
  snapshot.cluster = options_.cluster;
  snapshot.servers.push_back(std::move(reading));
  // Only this server's series: cluster-wide ones belong to /metrics.
  if (options_.self_metrics) {
    ExporterSelf self = options_.self_metrics();
    auto restarts = self.node_restarts.find(id);
    if (restarts != self.node_restarts.end()) snapshot.self.node_restarts[id] = restarts->second;
  }
  snapshot.voters =
      options_.voters > 0 ? options_.voters : static_cast<int>(options_.servers.size());
  return RenderPrometheusText(snapshot);
}

Status Exporter::Start() {
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  const std::string where =
      fmt::format("exporter {}: {}:{}", options_.cluster, options_.listen_host, options_.port);
  if (server_) return Status::Internal(where + ": already started");

  auto server = std::make_unique<httplib::Server>();
  // httplib's default also sets SO_REUSEPORT, which lets a second process
  // bind the same port and silently take half the scrapes: keep only
  // SO_REUSEADDR (quick rebinding after a restart).
  server->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server->new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  server->set_keep_alive_timeout(kIdleSeconds);
  server->set_keep_alive_max_count(kRequestsPerConnection);
  server->set_read_timeout(kIdleSeconds, 0);
  server->set_write_timeout(kIdleSeconds, 0);
  server->Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("node")) {
      res.set_content(Collect(), kContentType);
      return;
    }
    std::optional<int> id = ParseId(req.get_param_value("node"));
    if (!id) {
      res.status = 400;
      res.set_content("node: expected a server id\n", "text/plain");
      return;
    }
    Result<std::string> text = CollectNode(*id);
    if (text.ok()) {
      res.set_content(*text, kContentType);
      return;
    }
    res.status = text.status().code() == ErrorCode::kNotFound ? 404 : 503;
    res.set_content(text.status().message() + "\n", "text/plain");
  });
  server->Get("/", [this](const httplib::Request&, httplib::Response& res) {
    std::string index =
        fmt::format("zkpilot metrics exporter for cluster {}\n\n", options_.cluster);
    index += "/metrics          all servers and cluster-wide series\n";
    for (const auto& [id, endpoint] : options_.servers)
      index += fmt::format("/metrics?node={:<3}  server {} ({})\n", id, id, endpoint.ToString());
    res.set_content(index, "text/plain; charset=utf-8");
  });

  int port = options_.port;
  if (port == 0) {
    port = server->bind_to_any_port(options_.listen_host);
    if (port <= 0)
      return Status::IOError(where + ": cannot bind (port in use or address not local)");
  } else if (!server->bind_to_port(options_.listen_host, port)) {
    return Status::IOError(where + ": cannot bind (port in use or address not local)");
  }

  // listen_after_bind() marks the server running as its first step, and
  // stop() does nothing before that: wait for it (or for a failed listen) so
  // that a Stop() right after Start() is not lost.
  auto finished = std::make_shared<std::atomic<bool>>(false);
  httplib::Server* raw = server.get();
  std::thread thread([raw, finished] {
    raw->listen_after_bind();
    finished->store(true);
  });
  while (!raw->is_running() && !finished->load()) std::this_thread::sleep_for(kStartPoll);
  if (finished->load()) {
    thread.join();
    return Status::IOError(where + ": the HTTP server did not start");
  }
  server_ = std::move(server);
  thread_ = std::move(thread);
  port_ = port;
  return Status::Ok();
}

void Exporter::Stop() {
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  if (!server_) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
  port_ = 0;
}

int Exporter::port() const {
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  return port_;
}

}  // namespace zkpilot
