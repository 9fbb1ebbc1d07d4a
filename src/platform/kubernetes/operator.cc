#include "platform/kubernetes/operator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include "platform/kubernetes/cluster_api.h"

namespace zkpilot {
namespace {

using SteadyClock = std::chrono::steady_clock;
using nlohmann::json;

std::string MetaString(const json& object, const char* key) {
  if (!object.is_object() || !object.contains("metadata")) return "";
  const json& meta = object["metadata"];
  auto it = meta.find(key);
  return it != meta.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t MetaGeneration(const json& object) {
  if (!object.is_object() || !object.contains("metadata")) return 0;
  const json& meta = object["metadata"];
  auto it = meta.find("generation");
  return it != meta.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

bool MetaDeleting(const json& object) {
  return object.is_object() && object.contains("metadata") &&
         object["metadata"].contains("deletionTimestamp") &&
         !object["metadata"]["deletionTimestamp"].is_null();
}

std::chrono::milliseconds WatchRetryDelay(int failures) {
  return BackoffDelay(failures,
                      BackoffPolicy{std::chrono::milliseconds(200), std::chrono::seconds(5)});
}

}  // namespace

std::string ClusterKey(const std::string& ns, const std::string& name) { return ns + "/" + name; }

std::pair<std::string, std::string> SplitClusterKey(const std::string& key) {
  const size_t slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

SeenCluster SeenFrom(const nlohmann::json& object) {
  return SeenCluster{MetaGeneration(object), MetaDeleting(object)};
}

bool WantsReconcile(const WatchEvent& event, const std::optional<SeenCluster>& seen) {
  if (event.type == "ADDED" || event.type == "DELETED") return true;
  if (event.type != "MODIFIED") return false;
  if (!seen) return true;
  const SeenCluster now = SeenFrom(event.object);
  // A status write (ours, or the journal's) changes neither.
  return now.generation != seen->generation || (now.deleting && !seen->deleting);
}

struct Operator::Shared {
  explicit Shared(BackoffPolicy backoff) : queue(backoff) {}
  WorkQueue queue;
  std::stop_source stop;  // everything stops with it

  std::mutex mu;
  std::map<std::string, SeenCluster> seen;  // guarded by mu: the clusters the watch knows
  std::string api_error =
      "the API has not answered yet";  // guarded by mu; empty: the last call answered
  Status lost;                         // guarded by mu

  std::unique_ptr<KubeClient> lease_client;
  std::unique_ptr<LeaderElector> elector;
  std::atomic<bool> lease_lost{false};

  void SetApiError(const std::string& error) {
    std::lock_guard<std::mutex> lock(mu);
    api_error = error;
  }
};

Operator::Operator(KubeConnection connection, OperatorConfig config, ReconcilePartsFactory parts)
    : connection_(std::move(connection)),
      config_(std::move(config)),
      parts_(std::move(parts)),
      shared_(std::make_unique<Shared>(config_.backoff)) {}

Operator::~Operator() = default;

void Operator::WatchLoop(std::stop_token stop) {
  Shared& s = *shared_;
  auto client = KubeClient::Create(connection_);
  if (!client.ok()) {
    spdlog::error("watch: {}", client.status().message());
    s.SetApiError(client.status().message());
    return;
  }
  const ResourceRef ref = ClusterResourceRef();
  const std::string scope =
      config_.watch_namespace.empty() ? "all namespaces" : "namespace " + config_.watch_namespace;
  int failures = 0;
  while (!stop.stop_requested()) {
    auto list = (*client)->List(ref, config_.watch_namespace);
    if (!list.ok()) {
      if (list.status().code() == ErrorCode::kNotFound)
        list = Status::NotFound(
            "the ZooKeeperCluster CRD (" + std::string(kClusterPlural) + "." + kClusterGroup +
            ") is not installed: `zkpilot operator manifests | kubectl apply -f -` installs it");
      s.SetApiError(list.status().message());
      if (failures++ % 10 == 0)
        spdlog::warn("list ZooKeeperClusters ({}): {}", scope, list.status().message());
      SleepUnlessStopped(stop, WatchRetryDelay(failures));
      continue;
    }
    failures = 0;
    s.SetApiError("");
    std::string rv = MetaString(*list, "resourceVersion");
    {
      std::lock_guard<std::mutex> lock(s.mu);
      std::map<std::string, SeenCluster> present;
      for (const auto& item : list->value("items", json::array())) {
        const std::string key = ClusterKey(MetaString(item, "namespace"), MetaString(item, "name"));
        present[key] = SeenFrom(item);
        auto old = s.seen.find(key);
        if (old == s.seen.end() || old->second.generation != present[key].generation ||
            old->second.deleting != present[key].deleting)
          s.queue.Add(key);
      }
      for (const auto& [key, old] : s.seen)
        if (!present.count(key)) s.queue.Add(key);  // gone while the watch was down
      s.seen = std::move(present);
    }
    // Watch until the history expires (list again) or the stream fails.
    while (!stop.stop_requested()) {
      bool relist = false;
      Status watched = (*client)->Watch(
          ref, config_.watch_namespace, rv, {}, config_.watch_timeout,
          [&](const WatchEvent& event) {
            if (stop.stop_requested()) return false;
            if (event.type == "ERROR") {  // 410 Gone or another failure: list again
              relist = true;
              return false;
            }
            const std::string event_rv = MetaString(event.object, "resourceVersion");
            if (!event_rv.empty()) rv = event_rv;
            if (event.type == "BOOKMARK") return true;
            const std::string key =
                ClusterKey(MetaString(event.object, "namespace"), MetaString(event.object, "name"));
            std::lock_guard<std::mutex> lock(s.mu);
            auto it = s.seen.find(key);
            std::optional<SeenCluster> seen;
            if (it != s.seen.end()) seen = it->second;
            if (WantsReconcile(event, seen)) s.queue.Add(key);
            if (event.type == "DELETED")
              s.seen.erase(key);
            else
              s.seen[key] = SeenFrom(event.object);
            return true;
          });
      if (!watched.ok()) {
        s.SetApiError(watched.message());
        spdlog::warn("watch ZooKeeperClusters ({}): {}", scope, watched.message());
        SleepUnlessStopped(stop, WatchRetryDelay(++failures));
        break;
      }
      s.SetApiError("");
      if (relist) break;
    }
  }
}

Status Operator::ReconcileKey(Reconciler& reconciler, const std::string& key) {
  Shared& s = *shared_;
  const auto [ns, name] = SplitClusterKey(key);
  auto result = reconciler.Reconcile(ns, name);
  if (!result.ok()) {
    const auto delay = s.queue.AddRateLimited(key);
    spdlog::warn("{}: {} (retry in {:.1f}s)", key, result.status().message(),
                 delay.count() / 1000.0);
    return result.status();
  }
  s.queue.Forget(key);
  if (result->op != ReconcileOp::kNone)
    spdlog::info("{}: reconciled ({})", key, ReconcileOpName(result->op));
  if (result->requeue_after) s.queue.AddAfter(key, *result->requeue_after);
  return Status::Ok();
}

void Operator::WorkLoop(std::stop_token stop) {
  Shared& s = *shared_;
  auto client = KubeClient::Create(connection_);
  Result<ReconcileParts> parts =
      client.ok() ? parts_(**client) : Result<ReconcileParts>(client.status());
  if (!parts.ok()) {
    spdlog::error("worker: {}", parts.status().message());
    {
      std::lock_guard<std::mutex> lock(s.mu);
      s.lost = parts.status();
    }
    s.stop.request_stop();
    return;
  }
  Reconciler reconciler(*parts->api, *parts->backend);
  auto next_resync = SteadyClock::now() + config_.resync;
  while (!stop.stop_requested()) {
    const auto until_resync =
        std::chrono::duration_cast<std::chrono::milliseconds>(next_resync - SteadyClock::now());
    auto key = s.queue.Get(
        std::clamp(until_resync, std::chrono::milliseconds(1), std::chrono::milliseconds(1000)));
    if (SteadyClock::now() >= next_resync) {
      std::lock_guard<std::mutex> lock(s.mu);
      for (const auto& [known, seen] : s.seen) s.queue.Resync(known);
      next_resync = SteadyClock::now() + config_.resync;
    }
    if (!key) {
      if (s.queue.ShuttingDown()) return;
      continue;
    }
    // Nothing starts once the lease is gone.
    if (!s.lease_lost.load() && !stop.stop_requested()) (void)ReconcileKey(reconciler, *key);
    s.queue.Done(*key);
  }
}

Status Operator::Run(std::stop_token outer) {
  Shared& s = *shared_;
  std::stop_callback forward(outer, [&s] { s.stop.request_stop(); });
  const std::stop_token stop = s.stop.get_token();

  std::unique_ptr<HealthServer> health;
  if (config_.health) {
    HealthServerOptions options;
    options.address = *config_.health;
    options.ready = [&s]() -> Status {
      std::lock_guard<std::mutex> lock(s.mu);
      if (!s.lost.ok()) return s.lost;
      if (!s.api_error.empty()) return Status::Unavailable("kubernetes API: " + s.api_error);
      return Status::Ok();
    };
    health = std::make_unique<HealthServer>(std::move(options));
    ZK_RETURN_IF_ERROR(health->Start());
    spdlog::info("health: http://{}:{}/healthz, /readyz", config_.health->host, health->port());
  }

  std::jthread watcher([this](std::stop_token st) { WatchLoop(st); });
  std::stop_callback stop_watcher(stop, [&watcher] { watcher.request_stop(); });

  auto lose = [this, &s](const Status& why) {
    if (s.lease_lost.exchange(true)) return;
    spdlog::error("leader election: {}; stopping", why.message());
    {
      std::lock_guard<std::mutex> lock(s.mu);
      s.lost = why;
    }
    if (config_.on_lease_lost) config_.on_lease_lost(why);
    s.queue.ShutDown();
    s.stop.request_stop();
  };

  std::jthread renewer;
  if (config_.leader_elect) {
    auto client = KubeClient::Create(connection_);
    if (!client.ok()) return client.status();
    s.lease_client = std::move(client).value();
    s.elector = std::make_unique<LeaderElector>(*s.lease_client, config_.lease);
    spdlog::info("leader election: waiting for lease {}/{} as {}", config_.lease.namespace_,
                 config_.lease.name, config_.lease.identity);
    ZK_RETURN_IF_ERROR(s.elector->Acquire(stop));
    if (!s.elector->leading()) {  // stopped while standing by
      s.queue.ShutDown();
      return Status::Ok();
    }
    spdlog::info("leader election: leading (lease {}/{})", config_.lease.namespace_,
                 config_.lease.name);
    renewer = std::jthread([&s, lose](std::stop_token st) {
      Status renewing = s.elector->KeepRenewing(st);
      if (!renewing.ok()) lose(renewing);
    });
    if (config_.on_leading) config_.on_leading();
  }
  std::jthread worker([this](std::stop_token st) { WorkLoop(st); });
  // Watchdog: a renewal stuck in a slow request must not let this replica
  // reconcile past its lease.
  while (SleepUnlessStopped(stop, std::chrono::milliseconds(500))) {
    if (config_.leader_elect && !s.lease_lost.load() &&
        SteadyClock::now() - s.elector->last_renewed() > config_.lease.renew_deadline)
      lose(Status::Unavailable("lease " + config_.lease.namespace_ + "/" + config_.lease.name +
                               ": not renewed for " +
                               std::to_string(config_.lease.renew_deadline.count()) + "s"));
  }

  s.queue.ShutDown();
  worker.request_stop();
  worker.join();
  if (renewer.joinable()) {
    renewer.request_stop();
    renewer.join();
  }
  if (s.elector && !s.lease_lost.load()) {
    Status released = s.elector->Release();
    if (!released.ok())
      spdlog::warn("{}", released.message());
    else
      spdlog::info("leader election: lease released");
  }
  watcher.request_stop();
  watcher.join();
  if (health) health->Stop();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.lost;
}

Status Operator::RunOnce(std::stop_token stop) {
  Shared& s = *shared_;
  if (config_.leader_elect) {
    auto client = KubeClient::Create(connection_);
    if (!client.ok()) return client.status();
    s.lease_client = std::move(client).value();
    s.elector = std::make_unique<LeaderElector>(*s.lease_client, config_.lease);
    ZK_RETURN_IF_ERROR(s.elector->Acquire(stop));
    if (!s.elector->leading()) return Status::Ok();
    if (config_.on_leading) config_.on_leading();
  }
  ZK_ASSIGN_OR_RETURN(auto client, KubeClient::Create(connection_));
  ZK_ASSIGN_OR_RETURN(ReconcileParts parts, parts_(*client));
  Reconciler reconciler(*parts.api, *parts.backend);
  auto list = client->List(ClusterResourceRef(), config_.watch_namespace);
  if (!list.ok()) return list.status().WithContext("list ZooKeeperClusters");
  std::vector<std::string> keys;
  for (const auto& item : list->value("items", json::array()))
    keys.push_back(ClusterKey(MetaString(item, "namespace"), MetaString(item, "name")));
  std::sort(keys.begin(), keys.end());

  std::vector<std::pair<std::string, Status>> failed;
  for (const auto& key : keys) {
    if (stop.stop_requested()) break;
    const auto [ns, name] = SplitClusterKey(key);
    auto result = reconciler.Reconcile(ns, name);
    if (!result.ok()) {
      spdlog::error("{}: {}", key, result.status().message());
      failed.push_back({key, result.status()});
    } else {
      spdlog::info("{}: reconciled ({})", key, ReconcileOpName(result->op));
    }
  }
  if (s.elector) {
    Status released = s.elector->Release();
    if (!released.ok()) spdlog::warn("{}", released.message());
  }
  if (failed.empty()) return Status::Ok();
  std::string message =
      std::to_string(failed.size()) + " of " + std::to_string(keys.size()) + " clusters failed";
  for (const auto& [key, status] : failed) message += "; " + status.message();
  return failed.size() == 1 ? failed.front().second : Status::Internal(message);
}

}  // namespace zkpilot
