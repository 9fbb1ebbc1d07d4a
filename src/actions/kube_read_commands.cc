// zkpilot status / list / history / logs / alerts --platform kubernetes:
// read-only views of ZooKeeperClusters, their pods and their Prometheus.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "actions/kube_cluster_reads.h"
#include "actions/kube_commands.h"
#include "actions/kube_objects.h"
#include "actions/monitoring_action.h"
#include "observe/alerts.h"

namespace zkpilot {
namespace {

using nlohmann::json;

struct ServerPod {
  int id = 0;
  std::string pod;
};

// The pods of a cluster's servers, by id (the package's labels).
Result<std::vector<ServerPod>> ServerPods(KubeClient& client, const std::string& ns,
                                          const std::string& name) {
  ListOptions options;
  options.label_selector =
      std::string(kLabelInstance) + "=" + name + ",app.kubernetes.io/component=server";
  auto list = client.List(kube::PodResource(), ns, options);
  if (!list.ok()) return list.status().WithContext("list the pods of " + ns + "/" + name);
  std::vector<ServerPod> pods;
  for (const auto& item : kube::Member(*list, "items")) {
    const json& meta = kube::Member(item, "metadata");
    pods.push_back(
        {static_cast<int>(kube::Int(kube::Member(meta, "labels"), "zkpilot.io/server-id")),
         kube::Str(meta, "name")});
  }
  std::sort(pods.begin(), pods.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return pods;
}

// Follows one server's log until `print` returns false: when the stream
// ends (the container restarted, the pod was replaced, the connection
// dropped) it reads again, skipping the lines of the same container already
// printed.
void FollowServerLog(const KubeConnection& connection, const std::string& ns,
                     const std::string& name, int id,
                     const std::function<bool(const std::string&)>& print) {
  auto made = KubeClient::Create(connection);
  if (!made.ok()) {
    print(fmt::format("zkpilot: server {}: {}", id, made.status().message()));
    return;
  }
  KubeClient& client = **made;
  std::string container;  // pod uid + restart count of the container printed so far
  size_t printed = 0;
  bool more = true;
  auto pause = std::chrono::milliseconds(500);
  while (more) {
    ListOptions options;
    options.label_selector =
        std::string(kLabelInstance) + "=" + name +
        ",app.kubernetes.io/component=server,zkpilot.io/server-id=" + std::to_string(id);
    auto list = client.List(kube::PodResource(), ns, options);
    const json* pod = list.ok() && !kube::Member(*list, "items").empty()
                          ? &kube::Member(*list, "items")[0]
                          : nullptr;
    if (pod) {
      const json& statuses = kube::Member(kube::Member(*pod, "status"), "containerStatuses");
      const std::string key =
          kube::Str(kube::Member(*pod, "metadata"), "uid") + "/" +
          std::to_string(statuses.empty() ? 0 : kube::Int(statuses[0], "restartCount"));
      if (key != container) container = key, printed = 0;
      size_t seen = 0;
      Status s = client.PodLogs(ns, kube::Str(kube::Member(*pod, "metadata"), "name"), "", true,
                                std::nullopt, [&](const std::string& line) {
                                  if (++seen <= printed) return true;
                                  ++printed;
                                  return more = print(line);
                                });
      if (s.ok()) pause = std::chrono::milliseconds(500);
    }
    if (!more) break;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(5000));
  }
}

}  // namespace

Result<KubeOutput> KubeStatus(KubeSession& session, const std::string& name, ViewFormat format) {
  ZK_ASSIGN_OR_RETURN(ZooKeeperCluster cluster,
                      GetClusterResource(*session.client, session.ns, name));
  KubeOutput out;
  out.text = FormatClusterStatus(ClusterStatusView(cluster), format);
  out.exit_code = ClusterHealthy(cluster) ? 0 : 3;
  return out;
}

Result<KubeOutput> KubeList(KubeSession& session, ViewFormat format, bool all_namespaces) {
  const std::string ns = all_namespaces ? "" : session.ns;
  auto list = session.client->List(kube::ClusterResource(), ns);
  KubeOutput out;
  if (!list.ok()) {
    // No CRD: no clusters (and nothing installed yet).
    if (list.status().code() == ErrorCode::kNotFound) {
      out.text = format == ViewFormat::kTable ? "no clusters (the zkpilot operator is not "
                                                "installed: zkpilot deploy NAME PACKAGE --platform "
                                                "kubernetes --install-operator installs it)\n"
                                              : FormatClusterList({}, format);
      return out;
    }
    return list.status().WithContext("list ZooKeeperClusters");
  }
  std::vector<ZooKeeperCluster> clusters;
  for (const auto& item : kube::Member(*list, "items")) {
    auto c = ClusterFromJson(item);
    if (!c.ok()) {
      out.warnings.push_back("ZooKeeperCluster " +
                             kube::Str(kube::Member(item, "metadata"), "name") +
                             " is unreadable: " + c.status().message());
      continue;
    }
    clusters.push_back(std::move(c).value());
  }
  out.text = FormatClusterList(clusters, format);
  return out;
}

Result<KubeOutput> KubeHistory(KubeSession& session, const std::string& name, ViewFormat format) {
  ZK_ASSIGN_OR_RETURN(ZooKeeperCluster cluster,
                      GetClusterResource(*session.client, session.ns, name));
  ZK_ASSIGN_OR_RETURN(auto revisions, ListClusterRevisions(*session.client, cluster));
  KubeOutput out;
  out.text = FormatClusterHistory(cluster, revisions, format);
  return out;
}

Status KubeLogs(KubeSession& session, const KubeLogsRequest& req,
                const std::function<bool(const std::string&)>& print_line) {
  KubeClient& client = *session.client;
  ZK_ASSIGN_OR_RETURN(ZooKeeperCluster cluster, GetClusterResource(client, session.ns, req.name));
  ZK_ASSIGN_OR_RETURN(auto pods, ServerPods(client, session.ns, req.name));
  std::vector<ServerPod> chosen;
  for (const auto& p : pods)
    if (req.node <= 0 || p.id == req.node) chosen.push_back(p);
  if (chosen.empty()) {
    if (req.node > 0) {
      bool member = std::any_of(cluster.status.members.begin(), cluster.status.members.end(),
                                [&](const MemberStatus& m) { return m.id == req.node; });
      if (!member)
        return Status::InvalidInput(fmt::format("cluster {} has no server {}", req.name, req.node));
    }
    return Status::NotFound(
        fmt::format("no pod of {} runs{} (zkpilot status {} --platform kubernetes)", req.name,
                    req.node > 0 ? " server " + std::to_string(req.node) : "", req.name));
  }
  const bool prefix = chosen.size() > 1;
  if (!req.follow) {
    for (const auto& p : chosen) {
      bool more = true;
      Status s = client.PodLogs(
          session.ns, p.pod, "", false, req.tail_lines, [&](const std::string& line) {
            return more = print_line(prefix ? fmt::format("[server {}] {}", p.id, line) : line);
          });
      if (!more) return Status::Ok();
      if (!s.ok()) return s.WithContext(fmt::format("logs of server {} (pod {})", p.id, p.pod));
    }
    return Status::Ok();
  }
  // Following: one stream (and client) per server; lines whole, one at a time.
  std::mutex mu;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (const auto& p : chosen) {
    const int id = p.id;
    threads.emplace_back([&, id] {
      FollowServerLog(client.Connection(), session.ns, req.name, id,
                      [&, id](const std::string& line) {
                        std::lock_guard<std::mutex> lock(mu);
                        if (stop) return false;
                        if (!print_line(prefix ? fmt::format("[server {}] {}", id, line) : line))
                          stop = true;
                        return !stop.load();
                      });
    });
  }
  for (auto& t : threads)
    t.join();  // until interrupted, or print_line said stop (each stream's next line)
  return Status::Ok();
}

Result<KubeOutput> KubeAlerts(KubeSession& session, const KubeAlertsRequest& req) {
  KubeClient& client = *session.client;
  const std::string context = "alerts " + req.name;
  ZK_ASSIGN_OR_RETURN(ZooKeeperCluster cluster, GetClusterResource(client, session.ns, req.name));
  ZK_ASSIGN_OR_RETURN(Package package, LoadClusterPackage(client, cluster));
  ZK_ASSIGN_OR_RETURN(auto revisions, ListClusterRevisions(client, cluster));
  ZK_ASSIGN_OR_RETURN(Values values, CurrentClusterValues(package, cluster, revisions));
  const bool enabled = values.Has("prometheus.enabled") && values.Get("prometheus.enabled") == true;
  if (!enabled)
    return Status::InvalidInput(context + ": monitoring is off: zkpilot configure " + req.name +
                                " --set prometheus.enabled=true --platform kubernetes");
  // The add-on's Prometheus Service, as the package renders it.
  RenderOptions render;
  render.cluster_name = req.name;
  render.namespace_name = session.ns;
  auto objects = RenderManifests(package, values, render);
  if (!objects.ok()) return objects.status().WithContext(context + ": render");
  const RenderedObject* service = nullptr;
  for (const auto& o : *objects) {
    if (o.kind != "Service") continue;
    const auto& labels = o.body["metadata"].value("labels", OrderedJson::object());
    if (labels.value("app.kubernetes.io/component", "") == "prometheus") service = &o;
  }
  if (!service)
    return Status::InvalidInput(
        context +
        ": the package runs no Prometheus of its own for these values (with "
        "prometheus.operator=true your Prometheus evaluates the rules: ask it)");
  const auto& ports = service->body["spec"].value("ports", OrderedJson::array());
  if (ports.empty())
    return Status::Internal(context + ": Service " + service->name + " has no port");
  const std::string port = ports[0].contains("name") ? ports[0]["name"].get<std::string>()
                                                     : std::to_string(ports[0].value("port", 9090));
  const std::string path =
      fmt::format("/api/v1/namespaces/{}/services/http:{}:{}/proxy/api/v1/alerts", session.ns,
                  service->name, port);
  auto answer = client.Request("GET", path);
  if (!answer.ok())
    return answer.status().WithContext(
        fmt::format("{}: Prometheus (service {}/{}, through the API server's service proxy) did "
                    "not answer; is it running? "
                    "(kubectl -n {} get pods -l app.kubernetes.io/component=prometheus)",
                    context, session.ns, service->name, session.ns));
  auto alerts = ParseAlertsResponse(answer->dump());
  if (!alerts.ok()) return alerts.status().WithContext(context);
  auto mine = AlertsOfCluster(std::move(alerts).value(), req.name);
  KubeOutput out;
  out.text = FormatAlerts(mine, req.json);
  out.exit_code = mine.empty() ? 0 : kAlertsActiveExitCode;
  return out;
}

}  // namespace zkpilot
