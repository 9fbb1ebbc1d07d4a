// The local platform's add-ons (monitoring) and what `status` shows of it.
#include <signal.h>

#include <thread>

#include "platform/local/guardian.h"
#include "platform/local/liveness.h"
#include "platform/local/local_files.h"
#include "platform/local/local_pki.h"
#include "platform/local/local_platform.h"
#include "platform/local/local_tls.h"
#include "platform/local/process.h"
#include "platform/local/services.h"
#include "platform/local/supervisor.h"
#include "util/files.h"

namespace zkpilot {
namespace {

using SteadyClock = std::chrono::steady_clock;

bool Enabled(const Values& values, const std::string& name) { return values.Has(name) && values.Get(name) == true; }

std::string Address(int port) { return "127.0.0.1:" + std::to_string(port); }

// True once GET http://127.0.0.1:port<path> answers 200.
bool HttpReady(int port, const std::string& path) {
  auto reply = TcpExchange(Endpoint{"127.0.0.1", port}, "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
                           std::chrono::milliseconds(1000));
  return reply.ok() && reply->rfind("HTTP/1.", 0) == 0 && reply->find(" 200 ") != std::string::npos;
}

}  // namespace

Status CheckAddonPrograms(const Values& values) {
  if (Enabled(values, "prometheus.enabled") && FindInPath("prometheus").empty())
    return Status::NotFound("prometheus.enabled=true, but prometheus is not installed (apt-get install prometheus)");
  if (Enabled(values, "alertmanager.enabled") && FindInPath("prometheus-alertmanager").empty())
    return Status::NotFound(
        "alertmanager.enabled=true, but prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)");
  return Status::Ok();
}

Result<Endpoint> LocalPlatform::AddonEndpoint(const std::string& name) {
  const auto ports = MonitoringPorts(values_);
  if (name == "prometheus") return Endpoint{"127.0.0.1", ports.prometheus};
  if (name == "alertmanager") return Endpoint{"127.0.0.1", ports.alertmanager};
  if (name == kExporterService) return Endpoint{"127.0.0.1", ports.exporter};
  return Platform::AddonEndpoint(name);
}

Result<LocalPlatform::AddonFiles> LocalPlatform::RenderAddonFiles() const {
  const auto ports = MonitoringPorts(values_);
  std::vector<NodeEndpoint> servers;
  for (const auto& n : nodes_) servers.push_back(n.endpoint);
  const NodeEndpoint& first = nodes_.front().endpoint;
  RenderOptions opts{name_, "local", "local", {{"alertmanagerPort", ports.alertmanager}}};
  AddonFiles files;
  ZK_ASSIGN_OR_RETURN(files.prometheus_config,
                      RenderDeclaredFile(package_, values_, opts, servers, first, "prometheusConfig"));
  ZK_ASSIGN_OR_RETURN(files.alert_rules, RenderDeclaredFile(package_, values_, opts, {}, first, "alertRules"));
  ZK_ASSIGN_OR_RETURN(files.alertmanager_config,
                      RenderDeclaredFile(package_, values_, opts, {}, first, "alertmanagerConfig"));
  return files;
}

Result<std::string> LocalPlatform::ApplyAddons() {
  ZK_RETURN_IF_ERROR(CheckAddonPrograms(values_));
  const auto ports = MonitoringPorts(values_);
  const bool prometheus = Enabled(values_, "prometheus.enabled");
  const bool alertmanager = prometheus && Enabled(values_, "alertmanager.enabled");
  const std::string dir = cluster_home_ + "/monitoring";
  ZK_RETURN_IF_ERROR(MakeWritableDir(dir + "/prometheus/data", "monitoring directory"));
  ZK_RETURN_IF_ERROR(MakeWritableDir(dir + "/alertmanager/data", "monitoring directory"));

  ZK_ASSIGN_OR_RETURN(AddonFiles files, RenderAddonFiles());
  const std::string& cfg = files.prometheus_config;
  const std::string prom_cfg = dir + "/prometheus/prometheus.yml";
  auto old_cfg = ReadFile(prom_cfg);
  ZK_RETURN_IF_ERROR(WriteFileAtomically(dir + "/prometheus/zookeeper-alerts.yaml", files.alert_rules));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(prom_cfg, cfg));
  ZK_RETURN_IF_ERROR(WriteFileAtomically(dir + "/alertmanager/alertmanager.yml", files.alertmanager_config));

  ServiceSpec exporter{kExporterService, prometheus, Address(ports.exporter), {}, ports.exporter};
  ServiceSpec prom{"prometheus", prometheus, Address(ports.prometheus), {}, ports.prometheus};
  prom.launch.argv = {FindInPath("prometheus"), "--config.file=" + prom_cfg,
                      "--storage.tsdb.path=" + dir + "/prometheus/data",
                      "--web.listen-address=" + Address(ports.prometheus),
                      "--storage.tsdb.retention.time=" + values_.Get("prometheus.retention").get<std::string>()};
  prom.launch.marker = "--config.file=" + prom_cfg;
  prom.launch.log_path = dir + "/prometheus.log";
  ServiceSpec am{"alertmanager", alertmanager, Address(ports.alertmanager), {}, ports.alertmanager};
  am.launch.argv = {FindInPath("prometheus-alertmanager"), "--config.file=" + dir + "/alertmanager/alertmanager.yml",
                    "--storage.path=" + dir + "/alertmanager/data",
                    "--web.listen-address=" + Address(ports.alertmanager),
                    "--cluster.listen-address="};  // no gossip port: one instance, loopback only
  am.launch.marker = "--config.file=" + dir + "/alertmanager/alertmanager.yml";
  am.launch.log_path = dir + "/alertmanager.log";
  // Checked again at bind time, before an add-on is switched on: on a taken
  // port it would only crash-loop. (One already running holds its port.)
  std::vector<PortClaim> to_bind;
  // The exporter is served by the supervisor once its spec is switched on.
  bool exporter_serves = false;
  if (auto existing = ReadServices(cluster_home_); existing.ok())
    for (const auto& svc : *existing)
      exporter_serves = exporter_serves || (svc.name == kExporterService && svc.enabled && svc.port == exporter.port &&
                                            SupervisorPid(home_, name_) != 0);
  if (exporter.enabled && !exporter_serves) to_bind.push_back({exporter.port, "exporter"});
  for (const auto& [spec, what] : {std::pair{&prom, "Prometheus"}, {&am, "Alertmanager"}})
    if (spec->enabled && !ProcessAlive(ServicePid(cluster_home_, spec->name), spec->launch.marker))
      to_bind.push_back({spec->port, what});
  ZK_RETURN_IF_ERROR(CheckBindable(to_bind));
  for (const auto* spec : {&exporter, &prom, &am}) ZK_RETURN_IF_ERROR(WriteService(cluster_home_, *spec));
  // A running Prometheus reloads a changed configuration on SIGHUP.
  const int prom_pid = ServicePid(cluster_home_, "prometheus");
  if (prometheus && old_cfg.ok() && *old_cfg != cfg && ProcessAlive(prom_pid, prom.launch.marker)) ::kill(prom_pid, SIGHUP);
  ZK_RETURN_IF_ERROR(EnsureSupervisor(home_, name_));
  KickSupervisor(home_, name_);
  const auto deadline = SteadyClock::now() + std::chrono::seconds(60);
  // What is switched off is gone when this returns (the supervisor stops it).
  for (const auto* spec : {&prom, &am}) {
    while (!spec->enabled && ProcessAlive(ServicePid(cluster_home_, spec->name), spec->launch.marker)) {
      if (SteadyClock::now() >= deadline)
        return Status::IOError(spec->name + " (pid " + std::to_string(ServicePid(cluster_home_, spec->name)) +
                               ") still runs 60s after it was switched off:\n" +
                               TailFile(cluster_home_ + "/supervisor.log", 5));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  if (!prometheus) return std::string("monitoring off");

  std::vector<std::pair<std::string, int>> waits = {{"exporter", ports.exporter}, {"prometheus", ports.prometheus}};
  if (alertmanager) waits.push_back({"alertmanager", ports.alertmanager});
  for (const auto& [name, port] : waits) {
    const std::string path = name == "exporter" ? "/metrics" : "/-/ready";
    while (!HttpReady(port, path)) {
      if (SteadyClock::now() >= deadline)
        return Status::IOError(name + " did not become ready on " + Address(port) + " within 60s:\n" +
                               TailFile(dir + "/" + name + ".log", 10) + TailFile(cluster_home_ + "/supervisor.log", 5));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return "exporter " + Address(ports.exporter) + ", prometheus " + Address(ports.prometheus) +
         (alertmanager ? ", alertmanager " + Address(ports.alertmanager) : "");
}

Result<PlatformStatus> LocalPlatform::Describe() {
  ZK_ASSIGN_OR_RETURN(auto records, store_.ListNodes(name_));
  // A supervisor that died is started again: the nodes must stay supervised.
  nlohmann::ordered_json supervisor = nlohmann::ordered_json::object();
  int spid = SupervisorPid(home_, name_);
  bool wants_running = false;
  for (const auto& r : records) wants_running = wants_running || r.desired == "running";
  if (spid == 0 && wants_running) {
    Status s = EnsureSupervisor(home_, name_);
    spid = SupervisorPid(home_, name_);
    supervisor["restarted"] = s.ok();
    if (!s.ok()) supervisor["error"] = s.message();
  }
  supervisor["pid"] = spid;
  supervisor["running"] = spid > 0;
  supervisor["guardian_pid"] = GuardianPid(home_, name_);

  nlohmann::ordered_json monitoring = nlohmann::ordered_json::object();
  ZK_ASSIGN_OR_RETURN(auto services, ReadServices(cluster_home_));
  for (const auto& svc : services) {
    if (!svc.enabled) continue;
    const bool up = svc.name == kExporterService ? spid > 0 : ProcessAlive(ServicePid(cluster_home_, svc.name), svc.launch.marker);
    monitoring[svc.name] = {{"address", "http://" + svc.address + "/"}, {"running", up}};
  }
  PlatformStatus status;
  status.fields["supervisor"] = supervisor;
  status.fields["monitoring"] = monitoring;
  if (spid == 0 && wants_running)
    status.conditions.push_back({"Supervised", false, "SupervisorDown",
                                 supervisor.value("error", std::string("the supervisor is not running"))});
  // Servers the supervisor last killed because they stopped answering
  // (liveness.h); the record stays until the server's next exit.
  std::string unresponsive;
  for (const auto& r : records)
    if (r.last_exit.rfind(kLivenessExitPrefix, 0) == 0)
      unresponsive += (unresponsive.empty() ? "" : "; ") + ("server " + std::to_string(r.id) + " " +
                                                           r.last_exit.substr(std::string(kLivenessExitPrefix).size()));
  if (!unresponsive.empty())
    status.conditions.push_back({"LivenessRestart", true, "ServerDidNotAnswer", unresponsive});
  if (tls_) DescribeServerCertificates(records, status);
  return status;
}

// Servers read their certificate only when they start (EnsureClusterPki
// renews it before a start), so one left running nears its expiry unseen:
// said here, with the command that renews it. Once expired, clients and the
// other servers refuse it.
void LocalPlatform::DescribeServerCertificates(const std::vector<NodeRecord>& records,
                                               PlatformStatus& status) const {
  std::vector<int> ids;
  for (const auto& r : records) ids.push_back(r.id);
  nlohmann::ordered_json due = nlohmann::ordered_json::array();
  std::string message;
  for (const LocalCertificate& c :
       InspectLocalPki(LocalPkiAt(cluster_home_), ids, PkiPolicyOf(values_).renew_before)) {
    if (c.name.rfind("server-", 0) != 0 || c.renewal.empty() || c.cert_pem.empty()) continue;
    const int id = std::stoi(c.name.substr(std::string("server-").size()));
    due.push_back({{"server", id}, {"file", c.file}, {"renewal", c.renewal}});
    message += (message.empty() ? "" : "; ") +
               ("server " + std::to_string(id) + ": certificate " + c.renewal);
  }
  status.fields["certificatesDue"] = due;
  if (due.empty()) return;
  status.conditions.push_back(
      {"CertificatesDue", true, "ServerCertificateRenewal",
       message + "; run `zkpilot restart " + name_ + "` to renew them with a roll"});
}

}  // namespace zkpilot
