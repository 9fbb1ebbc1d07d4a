// KubernetesPlatform, the parts that reach into the cluster for people and
// hooks: preflight checks (permissions), ZooKeeper sessions, commands in a
// server's pod, logs, and what `status` shows of the platform.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <tuple>

#include <spdlog/spdlog.h>

#include "platform/kubernetes/kube_auth.h"
#include "platform/kubernetes/kube_platform.h"
#include "platform/kubernetes/kube_tls.h"
#include "render/renderer.h"
#include "zk/zk_client.h"

namespace zkpilot {
namespace {

using json = nlohmann::json;

constexpr auto kSessionTimeout = std::chrono::seconds(15);

std::string DescribeIds(const std::vector<int>& ids) {
  std::vector<std::string> s;
  for (int id : ids) s.push_back(std::to_string(id));
  return JoinNames(s);
}

}  // namespace

Status KubernetesPlatform::Preflight() {
  // What only the local platform has so far: refused before any request, as
  // rendering refuses it. auth.* as locally (user names).
  ZK_RETURN_IF_ERROR(RefuseLocalOnlyFeatures(target_));
  ZK_RETURN_IF_ERROR(CheckAuthValues(target_));
  // The API and the namespace.
  ZK_ASSIGN_OR_RETURN(ResourceRef ns_ref, Resource("v1", "Namespace"));
  auto ns = Retrying<std::optional<json>>(
      ApiDeadline(), [&] { return client_.Get(ns_ref, "", options_.namespace_name); });
  if (!ns.ok() && ns.status().code() != ErrorCode::kPermissionDenied) return ns.status();
  if (ns.ok() && !*ns)
    return Status::InvalidInput("namespace \"" + options_.namespace_name +
                                "\" does not exist (create it: kubectl create namespace " +
                                options_.namespace_name + ")");
  // The version's image.
  const std::string version_param = package_.version_parameter;
  if (!target_.Has(version_param) || !target_.Get(version_param).is_string())
    return Status::InvalidInput("package " + package_.name + ": no version parameter " +
                                version_param);
  const std::string version = target_.Get(version_param).get<std::string>();
  const VersionSpec* spec = package_.FindVersion(version);
  if (!spec)
    return Status::InvalidInput("version " + version + " is not in package " + package_.name);
  if (spec->image.empty())
    return Status::InvalidInput("version " + version + " has no container image in package " +
                                package_.name);
  // The package renders.
  ZK_ASSIGN_OR_RETURN(PlatformObjects objects, Render({}));

  // Permissions: every verb on every resource the platform uses, as
  // (group, resource, subresource, verb).
  std::set<std::tuple<std::string, std::string, std::string, std::string>> needed;
  auto need = [&](const ResourceRef& r, const std::string& sub,
                  std::initializer_list<const char*> verbs) {
    for (const char* v : verbs) needed.insert({r.group, r.resource, sub, v});
  };
  std::vector<const json*> all;
  for (const auto& o : objects.cluster_wide) all.push_back(&o);
  for (const auto& [id, list] : objects.servers)
    for (const auto& o : list) all.push_back(&o);
  for (const auto& o : objects.addons) all.push_back(&o);
  for (const json* o : all) {
    ZK_ASSIGN_OR_RETURN(ResourceRef r, Resource(o->value("apiVersion", ""), o->value("kind", "")));
    need(r, "", {"get", "create", "patch", "delete"});
  }
  for (const KindRef& k : PrunedKinds()) {
    auto r = Resource(k.api_version, k.kind);
    if (!r.ok() && r.status().code() == ErrorCode::kNotFound)
      continue;  // a CRD that is not installed
    if (!r.ok()) return r.status();
    need(*r, "", {"list", "delete"});
  }
  ZK_ASSIGN_OR_RETURN(ResourceRef pods, Resource(kPodKind.api_version, kPodKind.kind));
  need(pods, "", {"get", "list", "delete"});
  need(pods, "log", {"get"});
  need(pods, "exec", {"create"});
  ZK_ASSIGN_OR_RETURN(ResourceRef claims, Resource(kClaimKind.api_version, kClaimKind.kind));
  need(claims, "", {"get", "list", "delete"});

  std::vector<std::string> missing;
  for (const auto& [group, resource, sub, verb] : needed) {
    json review = {{"apiVersion", "authorization.k8s.io/v1"},
                   {"kind", "SelfSubjectAccessReview"},
                   {"spec",
                    {{"resourceAttributes",
                      {{"namespace", options_.namespace_name},
                       {"verb", verb},
                       {"group", group},
                       {"resource", resource},
                       {"subresource", sub}}}}}};
    ZK_ASSIGN_OR_RETURN(json answer, Retrying<json>(ApiDeadline(), [&] {
                          return client_.Request(
                              "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                              review);
                        }));
    const bool allowed = answer.contains("status") && answer["status"].value("allowed", false);
    if (!allowed)
      missing.push_back(verb + " " + resource + (sub.empty() ? "" : "/" + sub) +
                        (group.empty() ? "" : "." + group));
  }
  if (!missing.empty()) {
    const auto& c = client_.Connection();
    return Status::PermissionDenied(
        "kubernetes: " +
        (c.user_name.empty() ? std::string("this user") : "user \"" + c.user_name + "\"") +
        " may not " + JoinNames(missing) + " in namespace " + options_.namespace_name +
        " (grant them with a Role, or install the operator's ClusterRole: zkpilot operator "
        "manifests)");
  }
  // Then, the permissions allowing it: no server controller scaled down by
  // another field manager, over whose field zkpilot would have to fight (its
  // applies do not force).
  for (const KindRef& k : {kStatefulSetKind, kDeploymentKind}) {
    ZK_ASSIGN_OR_RETURN(auto controllers, ListByLabel(k.api_version, k.kind, ServerSelector(0)));
    for (const auto& c : controllers)
      if (std::string foreign = ForeignScaleDown(c, ApplyFieldManager()); !foreign.empty())
        return Status::Conflict(foreign);
  }
  return Status::Ok();
}

Result<std::optional<TlsClientFiles>> KubernetesPlatform::TlsCredentials() const {
  const bool tls = target_.Has("tls.enabled") && target_.Get("tls.enabled") == true;
  if (!tls) return std::optional<TlsClientFiles>();
  if (!tls_) {
    // client_ is a reference: reading through it does not change this platform.
    auto read = ReadOperatorTlsCredentials(client_, options_.namespace_name, options_.cluster);
    if (!read.ok()) return read.status().WithContext("cluster " + options_.cluster + ": TLS");
    tls_ = std::move(read).value();
  }
  return tls_;
}

AdminClient KubernetesPlatform::Admin(std::chrono::milliseconds timeout) const {
  auto tls = TlsCredentials();
  if (!tls.ok()) {
    // Never plaintext to a TLS cluster: empty credentials fail every call
    // ("TLS ca_file: not set"); Observe and SyncedFollowers report `tls`'s error.
    spdlog::warn("{}", tls.status().message());
    return AdminClient(timeout, TlsClientFiles{});
  }
  return AdminClient(timeout, *tls);
}

NodeObservation KubernetesPlatform::Observe(const ServerState& server) {
  if (auto tls = TlsCredentials(); !tls.ok()) {
    NodeObservation o;
    o.id = server.id;
    o.not_ready = server.not_ready;
    o.error = tls.status().message();
    return o;
  }
  return Platform::Observe(server);
}

Result<int> KubernetesPlatform::SyncedFollowers(const ServerState& leader) {
  ZK_RETURN_IF_ERROR(TlsCredentials().status());
  return Platform::SyncedFollowers(leader);
}

Result<std::unique_ptr<ZkClient>> KubernetesPlatform::OpenSession(const std::vector<int>& members) {
  ZK_ASSIGN_OR_RETURN(auto servers, Servers());
  std::vector<Endpoint> endpoints;
  for (const auto& s : servers) {
    const bool wanted = members.empty()
                            ? s.exists
                            : std::find(members.begin(), members.end(), s.id) != members.end();
    if (wanted) endpoints.push_back(s.client);
  }
  if (endpoints.empty())
    return Status::Unavailable(
        "cluster " + options_.cluster + ": no server to open a session with" +
        (members.empty() ? " (no server pod exists)" : " among " + DescribeIds(members)));
  ZK_ASSIGN_OR_RETURN(std::optional<TlsClientFiles> tls, TlsCredentials());
  if (tls) {
    // CN=zkpilot-super: the super user by its certificate alone
    // (X509AuthenticationProvider.superUser), so no digest; each pod's
    // certificate is checked against its node host (tls_name).
    ZkConnectOptions options;
    options.tls = std::move(tls);
    return ZkClient::Connect(endpoints, kSessionTimeout, options);
  }
  std::vector<std::string> hosts;
  for (const Endpoint& e : endpoints) hosts.push_back(e.ToString());
  const std::string connect = JoinNames(hosts, ",");
  ZK_ASSIGN_OR_RETURN(std::unique_ptr<ZkClient> zk, ZkClient::Connect(connect, kSessionTimeout));
  if (!options_.super_password.empty())
    ZK_RETURN_IF_ERROR(zk->AddAuth("digest", "super:" + options_.super_password)
                           .WithContext("session to " + connect));
  return zk;
}

Result<std::optional<json>> KubernetesPlatform::RunningPod(int id) {
  ZK_ASSIGN_OR_RETURN(Live live, ReadServer(id));
  if (!live.pod || IsDeleting(*live.pod)) return std::optional<json>();
  if ((*live.pod)["status"].value("phase", "") != "Running") return std::optional<json>();
  return live.pod;
}

Result<KubeClient::ExecResult> KubernetesPlatform::Exec(const json& pod,
                                                        const std::vector<std::string>& command) {
  const std::string name = ObjectName(pod);
  const std::string container = ServerContainerName(pod);
  auto result = Retrying<KubeClient::ExecResult>(ApiDeadline(), [&] {
    return client_.Exec(options_.namespace_name, name, container, command);
  });
  if (!result.ok()) return result.status().WithContext("exec in pod " + name);
  return result;
}

Result<std::string> KubernetesPlatform::RunFileAction(int id, const std::string& action,
                                                      const json& args, bool purge_data) {
  const std::string server = "server " + std::to_string(id);
  if (action == "remove-node-data") {
    if (!purge_data) return std::string("skipped: data kept (--purge-data removes it)");
    ZK_ASSIGN_OR_RETURN(auto claims, ClaimsOf(id));
    ZK_ASSIGN_OR_RETURN(ResourceRef ref, Resource(kClaimKind.api_version, kClaimKind.kind));
    std::vector<std::string> deleted;
    for (const auto& name : claims) {
      ZK_ASSIGN_OR_RETURN(auto claim, Retrying<std::optional<json>>(ApiDeadline(), [&] {
                            return client_.Get(ref, options_.namespace_name, name);
                          }));
      if (!claim) continue;
      ZK_RETURN_IF_ERROR(DeleteObject(*claim));
      deleted.push_back(name);
    }
    return server + ": " +
           (deleted.empty() ? "no claim left" : "deleted claims " + JoinNames(deleted));
  }
  if (action != "remove-files" && action != "purge-snapshots")
    return Status::Internal("the kubernetes platform has no file action " + action);

  const NodeEndpoint self = KubernetesSelf(target_);
  ZK_ASSIGN_OR_RETURN(auto pod, RunningPod(id));
  if (!pod) return server + ": skipped (no running pod to reach its data)";
  if (action == "remove-files") {
    const json paths = args.contains("paths") ? args["paths"] : json();
    if (!paths.is_array())
      return Status::InvalidInput("remove-files: paths must be a list of globs");
    std::vector<std::string> command = {
        "bash", "-c",
        // Globs expand relative to the data directory; each match is removed.
        "cd \"$1\" || exit 0; shift; n=0; for p in \"$@\"; do for f in $p; do "
        "if [ -e \"$f\" ] || [ -L \"$f\" ]; then rm -rf -- \"$f\" && n=$((n+1)); fi; done; done; "
        "echo \"$n\"",
        "remove-files", self.data_dir};
    for (const auto& p : paths) {
      const std::string pattern = p.is_string() ? p.get<std::string>() : "";
      if (pattern.empty() || pattern[0] == '/' || pattern.find("..") != std::string::npos)
        return Status::InvalidInput("remove-files: \"" + pattern +
                                    "\" must be relative to the data directory, without ..");
      command.push_back(pattern);
    }
    ZK_ASSIGN_OR_RETURN(auto r, Exec(*pod, command));
    if (r.exit_code != 0)
      return Status::IOError(server + ": remove-files exited with " + std::to_string(r.exit_code) +
                             ": " + r.err + r.out);
    std::string n = r.out;
    while (!n.empty() && (n.back() == '\n' || n.back() == '\r')) n.pop_back();
    return server + ": removed " + (n.empty() ? "0" : n) + " files";
  }
  // purge-snapshots: ZooKeeper's PurgeTxnLog with the server's own classpath.
  if (!args.contains("retain") || !args["retain"].is_number_integer())
    return Status::InvalidInput("purge-snapshots: retain must be an integer");
  const std::string retain = std::to_string(args["retain"].get<int64_t>());
  std::vector<std::string> command = {
      "bash", "-c",
      "ZOOBINDIR=\"$(cd \"$(dirname \"$(command -v zkServer.sh)\")\" && pwd)\" && . "
      "\"$ZOOBINDIR/zkEnv.sh\" >/dev/null "
      "&& exec \"$JAVA\" -cp \"$CLASSPATH\" org.apache.zookeeper.server.PurgeTxnLog \"$@\"",
      "purge-snapshots"};
  if (!self.data_log_dir.empty()) command.push_back(self.data_log_dir);
  command.insert(command.end(), {self.data_dir, "-n", retain});
  ZK_ASSIGN_OR_RETURN(auto r, Exec(*pod, command));
  if (r.exit_code != 0) {
    std::string output = r.err + r.out;
    if (output.size() > 2000) output = output.substr(output.size() - 2000);
    return Status::IOError(server + ": PurgeTxnLog exited with " + std::to_string(r.exit_code) +
                           ": " + output);
  }
  return server + ": kept the newest " + retain + " snapshots";
}

Result<std::string> KubernetesPlatform::LogTail(int id, int lines) {
  ZK_ASSIGN_OR_RETURN(Live live, ReadServer(id));
  if (!live.pod) return std::string();
  std::string out;
  Status s =
      client_.PodLogs(options_.namespace_name, ObjectName(*live.pod),
                      ServerContainerName(*live.pod), false, lines, [&](const std::string& line) {
                        out += line + "\n";
                        return true;
                      });
  // A container that has not started has no log yet.
  if (!s.ok() && s.code() != ErrorCode::kInvalidInput && s.code() != ErrorCode::kNotFound) return s;
  return out;
}

Result<PlatformStatus> KubernetesPlatform::Describe() {
  PlatformStatus out;
  out.fields["namespace"] = options_.namespace_name;
  const std::string controller = target_.Has("controller") && target_.Get("controller").is_string()
                                     ? target_.Get("controller").get<std::string>()
                                     : "statefulset";
  out.fields["controllers"] = controller == "deployment"
                                  ? "a Deployment per server (applied one at a time)"
                                  : "a StatefulSet per server (updateStrategy OnDelete)";
  ZK_ASSIGN_OR_RETURN(PlatformObjects objects, Render({}));
  ZK_ASSIGN_OR_RETURN(ResourceRef ref, Resource(kDeploymentKind.api_version, kDeploymentKind.kind));
  for (const auto& o : objects.addons) {
    if (o.value("kind", "") != "Deployment") continue;
    ZK_ASSIGN_OR_RETURN(auto live, Retrying<std::optional<json>>(ApiDeadline(), [&] {
                          return client_.Get(ref, options_.namespace_name, ObjectName(o));
                        }));
    const json status = live ? live->value("status", json::object()) : json::object();
    out.fields[ObjectName(o)] = !live ? std::string("not applied")
                                      : std::to_string(status.value("readyReplicas", 0)) + "/" +
                                            std::to_string(ControllerReplicas(*live)) + " ready";
  }
  return out;
}

Result<Endpoint> KubernetesPlatform::AddonEndpoint(const std::string& name) {
  ZK_ASSIGN_OR_RETURN(PlatformObjects objects, Render({}));
  const std::string wanted = options_.cluster + "-" + name;
  for (const auto& o : objects.addons) {
    if (o.value("kind", "") != "Service" || ObjectName(o) != wanted) continue;
    const json ports = o.contains("spec") ? o["spec"].value("ports", json::array()) : json::array();
    if (ports.empty()) break;
    const std::string domain =
        target_.Has("clusterDomain") && target_.Get("clusterDomain").is_string()
            ? target_.Get("clusterDomain").get<std::string>()
            : "cluster.local";
    return Endpoint{wanted + "." + options_.namespace_name + ".svc." + domain,
                    ports[0].value("port", 0)};
  }
  return Status::NotFound("add-on " + name + " of cluster " + options_.cluster +
                          " has no Service (is it enabled? zkpilot params lists " + name +
                          ".enabled)");
}

}  // namespace zkpilot
