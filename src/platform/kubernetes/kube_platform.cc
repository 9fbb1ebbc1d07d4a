#include "platform/kubernetes/kube_platform.h"

#include "platform/kubernetes/kube_tls.h"

#include <algorithm>
#include <functional>
#include <random>
#include <set>

#include "platform/kubernetes/kube_auth.h"
#include "platform/kubernetes/kube_certmanager.h"

namespace zkpilot {
namespace {

using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// How long a controller may take to see a changed template before its pod is deleted.
constexpr auto kObserveTimeout = std::chrono::seconds(60);
// How long cert-manager may take to issue a server's certificates.
constexpr auto kCertificateTimeout = std::chrono::seconds(120);

std::string DescribeIds(const std::vector<int>& ids) {
  std::vector<std::string> s;
  for (int id : ids) s.push_back(std::to_string(id));
  return JoinNames(s);
}

}  // namespace

std::string SuperSecretName(const std::string& cluster) { return cluster + "-zkpilot-super"; }

std::string GrafanaSecretName(const std::string& cluster) { return cluster + "-grafana-admin"; }

std::string ZooNavigatorLoginSecretName(const std::string& cluster) {
  return cluster + "-zoonavigator-login";
}

namespace {

// A password generated once and kept in Secret `name` under `key`: read back
// when the Secret exists, else generated and the Secret created by
// `make(password)`. Safe when two callers race: the one whose create loses
// reads the winner's. Never updated, so every apply keeps the same value.
Result<std::string> EnsureGeneratedSecret(KubeClient& client, const KubePlatformOptions& options,
                                          const std::string& name, const std::string& key,
                                          const std::function<json(const std::string&)>& make) {
  const auto deadline = SteadyClock::now() + options.api_retry;
  ZK_ASSIGN_OR_RETURN(ResourceRef ref, Retrying<ResourceRef>(deadline, [&] {
                        return client.Resolve("v1", "Secret");
                      }));
  for (int attempt = 0; attempt < 2; ++attempt) {
    ZK_ASSIGN_OR_RETURN(auto existing, Retrying<std::optional<json>>(deadline, [&] {
                          return client.Get(ref, options.namespace_name, name);
                        }));
    if (existing) {
      const json& data = existing->contains("data") ? (*existing)["data"] : json::object();
      if (!data.contains(key) || !data[key].is_string())
        return Status::InvalidInput("Secret " + name + " has no key \"" + key + "\"");
      ZK_ASSIGN_OR_RETURN(std::string password, Base64Decode(data[key].get<std::string>()));
      if (password.empty())
        return Status::InvalidInput("Secret " + name + ": the " + key + " is empty");
      return password;
    }
    static const char kAlphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    std::random_device rd;
    std::string password;
    for (int i = 0; i < 32; ++i) password += kAlphabet[rd() % (sizeof kAlphabet - 1)];
    auto created = client.Create(ref, options.namespace_name, make(password));
    if (created.ok()) return password;
    // Someone else created it meanwhile: read theirs.
    if (created.status().code() != ErrorCode::kConflict)
      return created.status().WithContext("create Secret " + name);
  }
  return Status::Internal("Secret " + name + ": created by another writer but not readable");
}

ObjectDecoration SecretDecoration(const KubePlatformOptions& options) {
  return {options.cluster, options.owner_uid, options.owner_api_version, options.owner_kind, "", "", ""};
}

}  // namespace

Result<std::string> EnsureSuperPassword(KubeClient& client, const KubePlatformOptions& options) {
  const std::string name = SuperSecretName(options.cluster);
  return EnsureGeneratedSecret(client, options, name, "password", [&](const std::string& pw) {
    return SuperSecretObject(name, options.namespace_name, pw, SecretDecoration(options));
  });
}

Result<std::string> EnsureGrafanaPassword(KubeClient& client, const KubePlatformOptions& options) {
  const std::string name = GrafanaSecretName(options.cluster);
  return EnsureGeneratedSecret(
      client, options, name, kGrafanaPasswordKey, [&](const std::string& pw) {
        return GrafanaSecretObject(name, options.namespace_name, pw, SecretDecoration(options));
      });
}

Result<std::string> EnsureZooNavigatorLogin(KubeClient& client,
                                            const KubePlatformOptions& options) {
  const std::string name = ZooNavigatorLoginSecretName(options.cluster);
  return EnsureGeneratedSecret(client, options, name, "password", [&](const std::string& pw) {
    return ZooNavigatorLoginSecretObject(name, options.namespace_name, pw,
                                         SecretDecoration(options));
  });
}

KubernetesPlatform::KubernetesPlatform(KubeClient& client, Package package, Values target,
                                       KubePlatformOptions options, Clock& clock)
    : client_(client),
      package_(std::move(package)),
      target_(std::move(target)),
      options_(std::move(options)),
      clock_(clock) {}

RenderOptions KubernetesPlatform::Options() const {
  RenderOptions ro;
  ro.cluster_name = options_.cluster;
  ro.namespace_name = options_.namespace_name;
  ro.platform = "kubernetes";
  return ro;
}

ObjectDecoration KubernetesPlatform::Decoration() const {
  const AuthDecoration auth = AuthDecorationOf(target_, options_.cluster);
  return {options_.cluster,
          options_.owner_uid,
          options_.owner_api_version,
          options_.owner_kind,
          options_.super_password.empty() ? "" : SuperSecretName(options_.cluster),
          auth.secret,
          auth.users};
}

std::chrono::steady_clock::time_point KubernetesPlatform::ApiDeadline() const {
  return SteadyClock::now() + options_.api_retry;
}

std::string KubernetesPlatform::ServerSelector(int id) const {
  return ServerPodsSelector(options_.cluster, id);
}

Result<PlatformObjects> KubernetesPlatform::Render(const std::vector<int>& members) const {
  const RenderOptions ro = Options();
  ZK_ASSIGN_OR_RETURN(auto rendered, RenderManifests(package_, target_, ro));
  PlatformObjects objects = SortObjects(package_, rendered, Decoration());
  if (!options_.super_password.empty())
    objects.cluster_wide.push_back(SuperSecretObject(SuperSecretName(options_.cluster),
                                                     options_.namespace_name,
                                                     options_.super_password, Decoration()));

  const std::vector<NodeEndpoint> all = KubernetesTopology(target_, ro);
  std::vector<int> target_ids;
  for (const auto& n : all) target_ids.push_back(n.id);
  std::vector<int> wanted = members;
  std::sort(wanted.begin(), wanted.end());
  if (wanted.empty() || wanted == target_ids) return objects;

  // The servers listed in zoo.cfg: the declared file rendered for `members`
  // replaces the one rendered for the target wherever a ConfigMap holds it.
  Values wide = target_;
  wide.Set("replicas", std::max(wanted.back(), static_cast<int>(all.size())), "platform");
  std::vector<NodeEndpoint> endpoints;
  for (const auto& n : KubernetesTopology(wide, ro))
    if (std::binary_search(wanted.begin(), wanted.end(), n.id)) endpoints.push_back(n);
  const NodeEndpoint self = KubernetesSelf(target_);
  ZK_ASSIGN_OR_RETURN(std::string full,
                      RenderDeclaredFile(package_, target_, ro, all, self, "zooCfg"));
  ZK_ASSIGN_OR_RETURN(std::string limited,
                      RenderDeclaredFile(package_, target_, ro, endpoints, self, "zooCfg"));
  int replaced = 0;
  for (auto& object : objects.cluster_wide) {
    if (object.value("kind", "") != "ConfigMap" || !object.contains("data")) continue;
    for (auto& [key, value] : object["data"].items()) {
      if (value.is_string() && value.get<std::string>() == full) {
        value = limited;
        ++replaced;
      }
    }
  }
  if (replaced == 0)
    return Status::Internal(
        "package " + package_.name +
        ": no ConfigMap holds the rendered zooCfg, so the servers' list cannot be set to " +
        DescribeIds(wanted));
  return objects;
}

Result<std::vector<json>> KubernetesPlatform::ServerObjects(int id) const {
  Values values = target_;
  const int replicas = values.Has("replicas") && values.Get("replicas").is_number_integer()
                           ? values.Get("replicas").get<int>()
                           : 1;
  if (id > replicas) values.Set("replicas", id, "platform");
  ZK_ASSIGN_OR_RETURN(auto rendered, RenderManifests(package_, values, Options()));
  PlatformObjects objects = SortObjects(package_, rendered, Decoration());
  auto it = objects.servers.find(id);
  if (it == objects.servers.end() || it->second.empty() || !IsController(it->second.back()))
    return Status::Internal("package " + package_.name + " renders no controller for server " +
                            std::to_string(id) + " (objects labelled " + kLabelServerId + ")");
  if (target_.Has("tls.enabled") && target_.Get("tls.enabled") == true) {
    ZK_ASSIGN_OR_RETURN(bool cert_manager, UseCertManager(client_, target_));
    if (cert_manager) {
      // cert-manager's Secrets (ApplyServerConfig waits until they are
      // issued), mounted with zkpilot mode's file names.
      json& controller = it->second.back();
      UseCertManagerVolume(controller["spec"]["template"]["spec"], options_.cluster, id);
      ZK_ASSIGN_OR_RETURN(std::string hash, CertManagerTlsHash(client_, options_, id));
      AnnotateTlsHash(controller, hash);
      // zkpilot's own certificate is still zkpilot's: renewed when due.
      ZK_RETURN_IF_ERROR(EnsureTlsSecrets(client_, options_, target_, {}).status());
      return it->second;
    }
    // The server's certificates exist before its pod can mount them; their
    // digest is part of its template, so new certificates roll it.
    ZK_ASSIGN_OR_RETURN(auto hashes, EnsureTlsSecrets(client_, options_, target_, {id}));
    AnnotateTlsHash(it->second.back(), hashes.at(id));
  }
  return it->second;
}

Result<ResourceRef> KubernetesPlatform::Resource(const std::string& api_version,
                                                 const std::string& kind) {
  return Retrying<ResourceRef>(ApiDeadline(), [&] { return client_.Resolve(api_version, kind); });
}

Result<std::vector<json>> KubernetesPlatform::ListByLabel(const std::string& api_version,
                                                          const std::string& kind,
                                                          const std::string& selector) {
  ZK_ASSIGN_OR_RETURN(ResourceRef ref, Resource(api_version, kind));
  ListOptions lo;
  lo.label_selector = selector;
  ZK_ASSIGN_OR_RETURN(json list, Retrying<json>(ApiDeadline(), [&] {
                        return client_.List(ref, options_.namespace_name, lo);
                      }));
  std::vector<json> items;
  if (list.contains("items") && list["items"].is_array())
    for (auto& item : list["items"]) {
      item["apiVersion"] = api_version;  // list items carry neither
      item["kind"] = kind;
      items.push_back(std::move(item));
    }
  return items;
}

Result<json> KubernetesPlatform::Apply(const json& object) {
  ZK_ASSIGN_OR_RETURN(ResourceRef ref,
                      Resource(object.value("apiVersion", ""), object.value("kind", "")));
  auto applied = Retrying<json>(ApiDeadline(), [&] {
    return client_.Apply(ref, options_.namespace_name, object, ApplyFieldManager(),
                         /*force=*/false);
  });
  if (applied.ok()) return applied;
  if (applied.status().code() == ErrorCode::kConflict)
    return Status::Conflict(ApplyConflictMessage(object, applied.status().message()));
  return applied.status().WithContext("apply " + ObjectTitle(object));
}

Status KubernetesPlatform::DeleteObject(const json& object) {
  ZK_ASSIGN_OR_RETURN(ResourceRef ref,
                      Resource(object.value("apiVersion", ""), object.value("kind", "")));
  return Retrying(ApiDeadline(),
                  [&] {
                    return client_.Delete(ref, options_.namespace_name, ObjectName(object),
                                          /*ignore_missing=*/true, "Background");
                  })
      .WithContext("delete " + ObjectTitle(object));
}

Result<KubernetesPlatform::Live> KubernetesPlatform::ReadServer(int id) {
  ZK_ASSIGN_OR_RETURN(std::vector<json> objects, ServerObjects(id));
  Live live;
  live.rendered = objects.back();
  ZK_ASSIGN_OR_RETURN(ResourceRef ref,
                      Resource(live.rendered["apiVersion"], live.rendered["kind"]));
  ZK_ASSIGN_OR_RETURN(live.controller, Retrying<std::optional<json>>(ApiDeadline(), [&] {
                        return client_.Get(ref, options_.namespace_name, ObjectName(live.rendered));
                      }));
  ZK_ASSIGN_OR_RETURN(auto pods,
                      ListByLabel(kPodKind.api_version, kPodKind.kind, ServerSelector(id)));
  for (auto& p : pods)
    if (!live.pod || PreferPod(p, *live.pod)) live.pod = p;
  return live;
}

Result<int> KubernetesPlatform::ApplyClusterWide(const std::vector<int>& members) {
  ZK_ASSIGN_OR_RETURN(PlatformObjects objects, Render(members));
  for (const auto& object : objects.cluster_wide) ZK_RETURN_IF_ERROR(Apply(object).status());
  return static_cast<int>(objects.cluster_wide.size());
}

Result<std::string> KubernetesPlatform::ApplyServer(int id, std::optional<int> replicas,
                                                    std::optional<int64_t> generation) {
  ZK_ASSIGN_OR_RETURN(std::vector<json> objects, ServerObjects(id));
  ZK_ASSIGN_OR_RETURN(Live live, ReadServer(id));
  json& controller = objects.back();
  // What zkpilot asked for before stays: replicas it applied itself (a value
  // another manager set is not taken over: applying ours reports the
  // conflict), and the restart generation, which only grows.
  int want = 0;
  int64_t gen = generation.value_or(0);
  if (live.controller) {
    want = AppliedBy(*live.controller, ApplyFieldManager(), {"spec", "replicas"})
               ? ControllerReplicas(*live.controller)
               : 1;
    gen = std::max(
        gen, MetadataAnnotationInt(PodTemplate(*live.controller), kAnnotationRestartGeneration));
  }
  controller["spec"]["replicas"] = replicas.value_or(want);
  controller["spec"]["template"]["metadata"]["annotations"][kAnnotationRestartGeneration] =
      std::to_string(gen);
  // A Deployment replaces its pod on every template change: while it runs,
  // its template changes only with a restart (a new generation), so that a
  // server restarts once, when the planner says so, as a StatefulSet's does.
  const bool running_deployment = live.controller && controller.value("kind", "") == "Deployment" &&
                                  ControllerReplicas(*live.controller) > 0 &&
                                  controller["spec"]["replicas"].get<int>() > 0;
  if (running_deployment &&
      !(generation && *generation > MetadataAnnotationInt(PodTemplate(*live.controller),
                                                          kAnnotationRestartGeneration))) {
    for (size_t i = 0; i + 1 < objects.size(); ++i) ZK_RETURN_IF_ERROR(Apply(objects[i]).status());
    return ObjectTitle(controller) + " runs; its template changes when it is restarted";
  }
  for (const auto& object : objects) ZK_RETURN_IF_ERROR(Apply(object).status());
  return ObjectTitle(controller) + ": replicas " +
         std::to_string(controller["spec"]["replicas"].get<int>()) + ", generation " +
         std::to_string(gen);
}

Status KubernetesPlatform::WaitObserved(const ResourceRef& ref, const std::string& name,
                                        int64_t generation) {
  const auto deadline = clock_.Now() + kObserveTimeout;
  while (true) {
    ZK_ASSIGN_OR_RETURN(auto object, Retrying<std::optional<json>>(ApiDeadline(), [&] {
                          return client_.Get(ref, options_.namespace_name, name);
                        }));
    if (!object) return Status::NotFound(ref.kind + " " + name + " is gone");
    const int64_t observed = object->contains("status")
                                 ? (*object)["status"].value("observedGeneration", int64_t{0})
                                 : 0;
    if (observed >= generation) return Status::Ok();
    if (clock_.Now() >= deadline)
      return Status::Unavailable(
          ref.kind + " " + name + ": its controller has not seen generation " +
          std::to_string(generation) + " within " + std::to_string(kObserveTimeout.count()) +
          "s (observed " + std::to_string(observed) + ")");
    clock_.Sleep(options_.poll_interval);
  }
}

Status KubernetesPlatform::WaitPodsGone(const std::string& selector,
                                        SteadyClock::time_point deadline, const std::string& what) {
  while (true) {
    ZK_ASSIGN_OR_RETURN(auto pods, ListByLabel(kPodKind.api_version, kPodKind.kind, selector));
    if (pods.empty()) return Status::Ok();
    if (clock_.Now() >= deadline) {
      std::vector<std::string> names;
      for (const auto& p : pods) names.push_back(ObjectName(p));
      return Status::Unavailable(what + ": pods still there: " + JoinNames(names));
    }
    clock_.Sleep(options_.poll_interval);
  }
}

Result<std::vector<NodeEndpoint>> KubernetesPlatform::Topology() const {
  return KubernetesTopology(target_, Options());
}

Result<std::vector<ServerState>> KubernetesPlatform::Servers() {
  const NodeEndpoint self = KubernetesSelf(target_);
  std::map<int, ServerState> states;
  auto state = [&](int id) -> ServerState& {
    ServerState& s = states[id];
    s.id = id;
    return s;
  };
  // The servers that exist: a controller or a pod. Not the target's list: a
  // server a scale is about to add is not part of the ensemble yet (the
  // local platform likewise lists its node records).
  for (const KindRef& k : {kStatefulSetKind, kDeploymentKind}) {
    ZK_ASSIGN_OR_RETURN(auto controllers, ListByLabel(k.api_version, k.kind, ServerSelector(0)));
    for (const auto& c : controllers) {
      const int id = ServerIdOf(c);
      if (id <= 0) continue;
      ServerState& s = state(id);
      s.desired_running = ControllerReplicas(c) > 0;
      s.not_ready = ForeignScaleDown(c, ApplyFieldManager());
      s.generation = MetadataAnnotationInt(PodTemplate(c), kAnnotationRestartGeneration);
    }
  }
  ZK_ASSIGN_OR_RETURN(auto pods,
                      ListByLabel(kPodKind.api_version, kPodKind.kind, ServerSelector(0)));
  std::map<int, const json*> chosen;
  for (const auto& p : pods) {
    const int id = ServerIdOf(p);
    if (id <= 0) continue;
    const json*& best = chosen[id];
    if (!best || PreferPod(p, *best)) best = &p;
  }
  // Servers with neither a pod nor an IP are reached by their DNS name.
  int highest = 0;
  for (const auto& [id, s] : states) highest = std::max(highest, id);
  for (const auto& [id, p] : chosen) highest = std::max(highest, id);
  Values wide = target_;
  wide.Set("replicas", highest, "platform");
  // The node host (the headless Service's name of the pod) is also the name
  // a TLS server certificate carries (kube_tls.h): a pod reached by its IP is
  // verified against it (tls_name).
  std::map<int, std::string> hosts;
  for (const auto& n : KubernetesTopology(wide, Options()))
    if (states.count(n.id) || chosen.count(n.id)) {
      hosts[n.id] = n.host;
      state(n.id).client = Endpoint{n.host, self.client_port};
    }

  for (const auto& [id, p] : chosen) {
    const json& pod = *p;
    ServerState& s = state(id);
    const json status = pod.value("status", json::object());
    const std::string name = ObjectName(pod);
    const std::string container = ServerContainerName(pod);
    // A pod being deleted, not yet scheduled or not yet started is not running.
    s.exists = !IsDeleting(pod) && status.value("phase", "") == "Running";
    s.uid = pod["metadata"].value("uid", "");
    s.running_generation = MetadataAnnotationInt(pod, kAnnotationRestartGeneration);
    s.config_fingerprint = MetadataAnnotation(pod, kAnnotationTemplateHash);
    if (pod["metadata"].contains("labels"))
      s.version = pod["metadata"]["labels"].value("app.kubernetes.io/version", "");
    const std::string ip = status.value("podIP", "");
    if (!ip.empty()) s.client = Endpoint{ip, self.client_port, hosts[id]};
    bool ready = false;
    for (const auto& cs : status.value("containerStatuses", json::array())) {
      if (cs.value("name", "") != container) continue;
      s.restarts = cs.value("restartCount", 0);
      ready = cs.value("ready", false);
      if (cs.contains("lastState") && cs["lastState"].contains("terminated")) {
        const json& t = cs["lastState"]["terminated"];
        s.last_exit = t.value("reason", "terminated") + " (exit code " +
                      std::to_string(t.value("exitCode", 0)) + ")";
      }
      if (cs.contains("state") && cs["state"].contains("running")) {
        s.started_at = KubeTimeMillis(cs["state"]["running"].value("startedAt", ""));
      }
    }
    if (s.exists && !PodReady(pod) && s.not_ready.empty())
      s.not_ready = "pod " + name + " is not Ready yet";
    s.instance = "pod " + name;
    s.log = "pod " + name + ", container " + container;
    s.details["pod"] = name;
    s.details["phase"] =
        IsDeleting(pod) ? std::string("Terminating") : status.value("phase", "Pending");
    s.details["ready"] = ready;
    s.details["restarts"] = s.restarts;
    if (!s.last_exit.empty()) s.details["last_exit"] = s.last_exit;
    s.details["client"] = s.client.ToString();
  }
  std::vector<ServerState> out;
  for (auto& [id, s] : states) out.push_back(std::move(s));
  return out;
}

Result<std::string> KubernetesPlatform::TargetFingerprint(int id) {
  ZK_ASSIGN_OR_RETURN(std::vector<json> objects, ServerObjects(id));
  return MetadataAnnotation(PodTemplate(objects.back()), kAnnotationTemplateHash);
}

Result<std::string> KubernetesPlatform::ApplyServerConfig(int id, const std::vector<int>& members,
                                                      const ServerRender& render) {
  // One ConfigMap holds every server's zoo.cfg: a server cannot be rendered
  // at a stage of its own here, so switching TLS or quorum SASL on a running
  // cluster stays refused on Kubernetes.
  if (TlsStageOf(render, target_) != TargetTlsStage(target_) ||
      ClientAddressesOf(render, target_) != ClientAddressesOf({}, target_) ||
      QuorumAuthStageOf(render, target_) != TargetQuorumAuthStage(target_))
    return Status::InvalidInput("server " + std::to_string(id) +
                                ": a TLS or quorum SASL stage of its own is not supported on Kubernetes");
  // The JAAS file the server's pod will mount, before the pod can start.
  ZK_ASSIGN_OR_RETURN(std::string auth, EnsureAuthSecrets(client_, options_, target_));
  ZK_ASSIGN_OR_RETURN(std::string certificates, IssueWithCertManager(id));
  ZK_ASSIGN_OR_RETURN(int applied, ApplyClusterWide(members));
  ZK_ASSIGN_OR_RETURN(std::string server, ApplyServer(id, std::nullopt, std::nullopt));
  return server + "; " + std::to_string(applied) + " cluster-wide objects" +
         (members.empty() ? "" : ", servers listed: " + DescribeIds(members)) +
         (auth.empty() ? "" : "; " + auth) + (certificates.empty() ? "" : "; " + certificates);
}

Result<std::string> KubernetesPlatform::IssueWithCertManager(int id) {
  if (!(target_.Has("tls.enabled") && target_.Get("tls.enabled") == true)) return std::string();
  ZK_ASSIGN_OR_RETURN(bool cert_manager, UseCertManager(client_, target_));
  if (!cert_manager) return std::string();
  // zkpilot's CAs (and its own certificate) first: the Issuers sign with them.
  ZK_RETURN_IF_ERROR(EnsureTlsSecrets(client_, options_, target_, {}).status());
  ZK_RETURN_IF_ERROR(ShareCasWithCertManager(client_, options_));
  std::vector<std::string> names;
  for (const auto& object : CertManagerIssuers(options_)) ZK_RETURN_IF_ERROR(Apply(object).status());
  for (const auto& object : CertManagerCertificates(target_, options_, id)) {
    ZK_RETURN_IF_ERROR(Apply(object).status());
    names.push_back(ObjectName(object));
  }
  ZK_RETURN_IF_ERROR(WaitCertificatesReady(client_, options_, names, kCertificateTimeout, clock_));
  return "Certificates " + JoinNames(names) + " Ready (cert-manager)";
}

Result<std::string> KubernetesPlatform::StartServer(int id) {
  return ApplyServer(id, 1, std::nullopt);
}

Result<std::string> KubernetesPlatform::RestartServer(int id, int64_t generation) {
  ZK_ASSIGN_OR_RETURN(Live live, ReadServer(id));
  if (!live.controller)
    return Status::NotFound("server " + std::to_string(id) + ": no " + ObjectTitle(live.rendered) +
                            " (its configuration is applied first)");
  ZK_ASSIGN_OR_RETURN(ResourceRef ref,
                      Resource(live.rendered["apiVersion"], live.rendered["kind"]));
  std::string applied = "template at generation " + std::to_string(generation);
  if (MetadataAnnotationInt(PodTemplate(*live.controller), kAnnotationRestartGeneration) <
      generation) {
    ZK_ASSIGN_OR_RETURN(applied, ApplyServer(id, std::nullopt, generation));
  }
  if (live.rendered.value("kind", "") == "Deployment")
    return applied + "; the Deployment replaces its pod";  // Recreate: a new template is a new pod

  // OnDelete: the pod is replaced when deleted, once its controller has seen
  // the new template (else it could recreate it from the old one).
  if (live.pod && MetadataAnnotationInt(*live.pod, kAnnotationRestartGeneration) >= generation)
    return "pod " + ObjectName(*live.pod) + " already runs generation " +
           std::to_string(generation);
  ZK_ASSIGN_OR_RETURN(auto current, Retrying<std::optional<json>>(ApiDeadline(), [&] {
                        return client_.Get(ref, options_.namespace_name, ObjectName(live.rendered));
                      }));
  if (!current) return Status::NotFound(ObjectTitle(live.rendered) + " was deleted meanwhile");
  ZK_RETURN_IF_ERROR(WaitObserved(ref, ObjectName(live.rendered),
                                  (*current)["metadata"].value("generation", int64_t{0})));
  if (!live.pod) return applied + "; no pod yet: it starts at that generation";
  if (IsDeleting(*live.pod))
    return applied + "; pod " + ObjectName(*live.pod) + " is already being replaced";
  ZK_RETURN_IF_ERROR(DeleteObject(*live.pod));
  return applied + "; deleted pod " + ObjectName(*live.pod) + " (uid " +
         (*live.pod)["metadata"].value("uid", "") + ")";
}

Result<std::string> KubernetesPlatform::StopServer(int id, std::chrono::milliseconds timeout) {
  const auto deadline = clock_.Now() + timeout;
  ZK_ASSIGN_OR_RETURN(Live live, ReadServer(id));
  std::string applied = "no controller";
  if (live.controller) {
    ZK_ASSIGN_OR_RETURN(applied, ApplyServer(id, 0, std::nullopt));
  }
  ZK_RETURN_IF_ERROR(
      WaitPodsGone(ServerSelector(id), deadline, "stop server " + std::to_string(id)));
  return applied + "; pod gone";
}

Result<std::string> KubernetesPlatform::ForgetServer(int id) {
  ZK_ASSIGN_OR_RETURN(std::vector<json> objects, ServerObjects(id));
  ZK_RETURN_IF_ERROR(DeleteObject(objects.back()));
  return "deleted " + ObjectTitle(objects.back()) + " (its claims stay)";
}

Result<std::string> KubernetesPlatform::ApplyAddons() {
  ZK_ASSIGN_OR_RETURN(PlatformObjects objects, Render({}));
  // An add-on that reads Grafana's admin password (the package's grafana
  // add-on) or ZooNavigator's login gets the Secret generated on first use
  // and kept from then on: never rendered, so never regenerated nor pruned.
  const std::string grafana_secret = GrafanaSecretName(options_.cluster);
  const std::string login_secret = ZooNavigatorLoginSecretName(options_.cluster);
  bool grafana = false, login = false;
  for (const auto& o : objects.addons) {
    grafana = grafana || ReferencesSecret(o, grafana_secret);
    login = login || ReferencesSecret(o, login_secret);
  }
  if (grafana) ZK_RETURN_IF_ERROR(EnsureGrafanaPassword(client_, options_).status());
  if (login) ZK_RETURN_IF_ERROR(EnsureZooNavigatorLogin(client_, options_).status());
  std::set<std::string> rendered;
  for (const auto& o : objects.cluster_wide) rendered.insert(ObjectKey(o));
  for (const auto& [id, list] : objects.servers)
    for (const auto& o : list) rendered.insert(ObjectKey(o));
  for (const auto& o : objects.addons) rendered.insert(ObjectKey(o));

  for (const auto& o : objects.cluster_wide) ZK_RETURN_IF_ERROR(Apply(o).status());
  std::vector<std::string> applied;
  for (const auto& o : objects.addons) {
    ZK_RETURN_IF_ERROR(Apply(o).status());
    applied.push_back(ObjectTitle(o));
  }
  std::vector<std::string> pruned;
  for (const KindRef& k : PrunedKinds()) {
    auto ref = Resource(k.api_version, k.kind);
    if (!ref.ok() && ref.status().code() == ErrorCode::kNotFound) continue;
    if (!ref.ok()) return ref.status();
    ZK_ASSIGN_OR_RETURN(auto existing,
                        ListByLabel(k.api_version, k.kind, ClusterSelector(options_.cluster)));
    for (const auto& o : existing) {
      if (ServerIdOf(o) > 0 || ObjectName(o) == SuperSecretName(options_.cluster) ||
          ObjectName(o) == grafana_secret || ObjectName(o) == login_secret ||
          IsAuthSecret(options_.cluster, ObjectName(o)) ||
          (o.value("kind", "") == "Secret" && IsTlsSecretName(options_.cluster, ObjectName(o))))
        continue;
      if (rendered.count(ObjectKey(o))) continue;
      ZK_RETURN_IF_ERROR(DeleteObject(o));
      pruned.push_back(ObjectTitle(o));
    }
  }
  return std::to_string(objects.cluster_wide.size()) +
         " cluster-wide objects; add-ons: " + (applied.empty() ? "none" : JoinNames(applied)) +
         (pruned.empty() ? "" : "; pruned: " + JoinNames(pruned));
}

Result<std::vector<std::string>> KubernetesPlatform::ClaimsOf(int id) {
  ZK_ASSIGN_OR_RETURN(std::vector<json> objects, ServerObjects(id));
  std::vector<std::string> names = ClaimNames(objects.back());
  ZK_ASSIGN_OR_RETURN(auto labelled, ListByLabel(kClaimKind.api_version, kClaimKind.kind,
                                                 ServerClaimsSelector(options_.cluster, id)));
  for (const auto& c : labelled) names.push_back(ObjectName(c));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

Result<std::string> KubernetesPlatform::TearDown(bool purge_data,
                                                 std::chrono::milliseconds timeout) {
  const auto deadline = clock_.Now() + timeout;
  const std::string mine = ClusterSelector(options_.cluster);
  // Controllers first, so no pod comes back while the rest goes.
  int deleted = 0;
  int highest = 0;
  for (const KindRef& k : PrunedKinds()) {
    auto ref = Resource(k.api_version, k.kind);
    if (!ref.ok() && ref.status().code() == ErrorCode::kNotFound) continue;
    if (!ref.ok()) return ref.status();
    ZK_ASSIGN_OR_RETURN(auto existing, ListByLabel(k.api_version, k.kind, mine));
    for (const auto& o : existing) {
      highest = std::max(highest, ServerIdOf(o));
      ZK_RETURN_IF_ERROR(DeleteObject(o));
      ++deleted;
    }
  }
  const std::string package_pods = PackageObjectsSelector(options_.cluster);
  ZK_RETURN_IF_ERROR(WaitPodsGone(mine, deadline, "tear down " + options_.cluster));
  ZK_RETURN_IF_ERROR(WaitPodsGone(package_pods, deadline, "tear down " + options_.cluster));
  std::string out = "deleted " + std::to_string(deleted) + " objects; pods gone";

  // The claims: those of every server the package renders or that existed,
  // and those labelled as the cluster's.
  std::vector<std::string> claims;
  const int replicas = target_.Has("replicas") && target_.Get("replicas").is_number_integer()
                           ? target_.Get("replicas").get<int>()
                           : 1;
  for (int id = 1; id <= std::max(highest, replicas); ++id) {
    ZK_ASSIGN_OR_RETURN(auto names, ClaimsOf(id));
    claims.insert(claims.end(), names.begin(), names.end());
  }
  for (const std::string& selector : {package_pods, mine}) {
    ZK_ASSIGN_OR_RETURN(auto labelled,
                        ListByLabel(kClaimKind.api_version, kClaimKind.kind, selector));
    for (const auto& c : labelled) claims.push_back(ObjectName(c));
  }
  std::sort(claims.begin(), claims.end());
  claims.erase(std::unique(claims.begin(), claims.end()), claims.end());
  ZK_ASSIGN_OR_RETURN(ResourceRef ref, Resource(kClaimKind.api_version, kClaimKind.kind));
  std::vector<std::string> existing;
  for (const auto& name : claims) {
    ZK_ASSIGN_OR_RETURN(auto claim, Retrying<std::optional<json>>(ApiDeadline(), [&] {
                          return client_.Get(ref, options_.namespace_name, name);
                        }));
    if (claim) existing.push_back(name);
  }
  if (!purge_data)
    return out + (existing.empty() ? ""
                                   : "; data kept in claims " + JoinNames(existing) +
                                         " (--purge-data removes them)");
  std::vector<std::string> gone;
  for (const auto& name : existing) {
    ZK_RETURN_IF_ERROR(DeleteObject(json{{"apiVersion", kClaimKind.api_version},
                                         {"kind", kClaimKind.kind},
                                         {"metadata", {{"name", name}}}}));
    gone.push_back(name);
  }
  // A claim still used by a pod stays until the pod is gone (pvc-protection).
  for (const auto& name : gone) {
    while (true) {
      ZK_ASSIGN_OR_RETURN(auto claim, Retrying<std::optional<json>>(ApiDeadline(), [&] {
                            return client_.Get(ref, options_.namespace_name, name);
                          }));
      if (!claim) break;
      if (clock_.Now() >= deadline)
        return Status::Unavailable("tear down " + options_.cluster + ": claim " + name +
                                   " is still there");
      clock_.Sleep(options_.poll_interval);
    }
  }
  return out + "; deleted claims: " + (gone.empty() ? "none" : JoinNames(gone));
}

}  // namespace zkpilot
