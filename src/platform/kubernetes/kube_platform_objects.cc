#include "platform/kubernetes/kube_platform_objects.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>
#include <regex>
#include <sstream>

#include "platform/kubernetes/cluster_resource.h"
#include "platform/kubernetes/kube_auth.h"
#include "util/hash.h"
#include "zk/zk_client.h"

namespace zkpilot {
namespace {

using json = nlohmann::json;

constexpr char kDigestEnv[] = "ZKPILOT_SUPER_DIGEST";
constexpr char kServerJvmFlagsEnv[] = "SERVER_JVMFLAGS";

std::string LabelOf(const json& object, const std::string& key) {
  const json* labels = nullptr;
  if (object.contains("metadata") && object["metadata"].contains("labels"))
    labels = &object["metadata"]["labels"];
  if (!labels || !labels->is_object() || !labels->contains(key) || !(*labels)[key].is_string())
    return "";
  return (*labels)[key].get<std::string>();
}

void Decorate(json& object, const ObjectDecoration& d) {
  json& meta = object["metadata"];
  meta["labels"][kLabelCluster] = d.cluster;
  // Data outlives the resource: deleting a ZooKeeperCluster keeps its claims
  // unless asked to purge them (spec.purgeDataOnDelete), so they are not owned.
  if (!d.owner_uid.empty() && object.value("kind", "") != "PersistentVolumeClaim") {
    meta["ownerReferences"] = json::array({{{"apiVersion", d.owner_api_version},
                                            {"kind", d.owner_kind},
                                            {"name", d.cluster},
                                            {"uid", d.owner_uid},
                                            {"controller", true},
                                            {"blockOwnerDeletion", true}}});
  }
}

json* ServerContainer(json& pod_spec) {
  if (!pod_spec.contains("containers") || !pod_spec["containers"].is_array() ||
      pod_spec["containers"].empty())
    return nullptr;
  for (auto& c : pod_spec["containers"])
    if (c.value("name", "") == "zookeeper") return &c;
  return &pod_spec["containers"][0];
}

// The super user's digest reaches the JVM through SERVER_JVMFLAGS, which
// zkServer.sh puts before JVMFLAGS; its value comes from the Secret, so the
// pod spec never holds it. An existing SERVER_JVMFLAGS keeps its value.
void AddSuperDigest(json& pod_spec, const std::string& secret) {
  json* container = ServerContainer(pod_spec);
  if (!container) return;
  json& env = (*container)["env"];
  if (!env.is_array()) env = json::array();
  const std::string flag =
      "-Dzookeeper.DigestAuthenticationProvider.superDigest=$(" + std::string(kDigestEnv) + ")";
  json digest = {{"name", kDigestEnv},
                 {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", "digest"}}}}}};
  // $(VAR) expands only variables defined earlier in the list.
  json updated = json::array({digest});
  bool have_flags = false;
  for (auto& e : env) {
    if (e.value("name", "") == kDigestEnv) continue;
    if (e.value("name", "") == kServerJvmFlagsEnv && e.contains("value") &&
        e["value"].is_string()) {
      e["value"] = flag + " " + e["value"].get<std::string>();
      have_flags = true;
    }
    updated.push_back(e);
  }
  if (!have_flags) updated.push_back({{"name", kServerJvmFlagsEnv}, {"value", flag}});
  env = std::move(updated);
}

}  // namespace

std::string MetadataAnnotation(const json& holder, const std::string& key) {
  if (!holder.is_object() || !holder.contains("metadata")) return "";
  const json& meta = holder["metadata"];
  if (!meta.contains("annotations") || !meta["annotations"].is_object()) return "";
  const json& a = meta["annotations"];
  return a.contains(key) && a[key].is_string() ? a[key].get<std::string>() : "";
}

int64_t MetadataAnnotationInt(const json& holder, const std::string& key) {
  const std::string text = MetadataAnnotation(holder, key);
  try {
    return text.empty() ? 0 : std::stoll(text);
  } catch (const std::exception&) {
    return 0;
  }
}

int ServerIdOf(const json& object) {
  const std::string id = LabelOf(object, kLabelServerId);
  try {
    return id.empty() ? 0 : std::stoi(id);
  } catch (const std::exception&) {
    return 0;
  }
}

bool IsController(const json& object) {
  const std::string kind = object.value("kind", "");
  return kind == "StatefulSet" || kind == "Deployment";
}

std::string TemplateHash(const json& pod_template) {
  json t = pod_template;
  if (t.contains("metadata") && t["metadata"].contains("annotations") &&
      t["metadata"]["annotations"].is_object()) {
    t["metadata"]["annotations"].erase(kAnnotationRestartGeneration);
    t["metadata"]["annotations"].erase(kAnnotationTemplateHash);
  }
  // nlohmann::json keeps object keys sorted: the dump is canonical.
  return Sha256Hex(t.dump()).substr(0, 16);
}

void DecorateServerTemplate(json& controller, const ObjectDecoration& d) {
  json& tmpl = controller["spec"]["template"];
  tmpl["metadata"]["labels"][kLabelCluster] = d.cluster;
  if (!d.super_secret.empty()) AddSuperDigest(tmpl["spec"], d.super_secret);
  if (!d.auth_secret.empty()) {
    AddJaasFile(tmpl["spec"], d.auth_secret);
    tmpl["metadata"]["annotations"][kAnnotationAuthUsers] = d.auth_users;
  }
  tmpl["metadata"]["annotations"][kAnnotationTemplateHash] = TemplateHash(tmpl);
}

PlatformObjects SortObjects(const Package& package, const std::vector<RenderedObject>& rendered,
                            const ObjectDecoration& d) {
  PlatformObjects out;
  for (const auto& r : rendered) {
    json object = r.body;
    Decorate(object, d);
    bool addon = false;
    for (const auto& a : package.addons)
      addon = addon || r.source.rfind(a.templates_dir + "/", 0) == 0;
    const int id = ServerIdOf(object);
    if (addon) {
      out.addons.push_back(std::move(object));
    } else if (id > 0 &&
               (IsController(object) || object.value("kind", "") == "PersistentVolumeClaim")) {
      if (IsController(object)) DecorateServerTemplate(object, d);
      auto& list = out.servers[id];
      // Claims first: a Deployment's pod waits for its claim otherwise.
      if (IsController(object))
        list.push_back(std::move(object));
      else
        list.insert(list.begin(), std::move(object));
    } else {
      out.cluster_wide.push_back(std::move(object));
    }
  }
  return out;
}

std::string Base64Encode(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  out.resize(n);
  return out;
}

Result<std::string> Base64Decode(const std::string& data) {
  if (data.size() % 4 != 0)
    return Status::InvalidInput("not base64: length " + std::to_string(data.size()));
  std::string out(data.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  if (n < 0) return Status::InvalidInput("not base64");
  out.resize(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  for (size_t i = data.size(); i > 0 && data[i - 1] == '='; --i) out.pop_back();
  return out;
}

json SuperSecretObject(const std::string& name, const std::string& namespace_name,
                       const std::string& password, const ObjectDecoration& d) {
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata",
                  {{"name", name},
                   {"namespace", namespace_name},
                   {"labels", {{kLabelInstance, d.cluster}, {kLabelManagedBy, kManagedByValue}}}}},
                 {"type", "Opaque"},
                 {"data",
                  {{"password", Base64Encode(password)},
                   {"digest", Base64Encode(DigestId("super", password))}}}};
  Decorate(secret, d);
  return secret;
}

bool ReferencesSecret(const json& object, const std::string& name) {
  if (object.is_array()) {
    for (const auto& item : object)
      if (ReferencesSecret(item, name)) return true;
    return false;
  }
  if (!object.is_object()) return false;
  for (const char* key : {"secretKeyRef", "secretRef"})  // env, envFrom
    if (object.contains(key) && object[key].is_object() && object[key].value("name", "") == name)
      return true;
  if (object.contains("secret") && object["secret"].is_object() &&  // a secret volume
      object["secret"].value("secretName", "") == name)
    return true;
  for (const auto& [key, value] : object.items())
    if (ReferencesSecret(value, name)) return true;
  return false;
}

json GrafanaSecretObject(const std::string& name, const std::string& namespace_name,
                         const std::string& password, const ObjectDecoration& d) {
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata",
                  {{"name", name},
                   {"namespace", namespace_name},
                   {"labels",
                    {{kLabelInstance, d.cluster},
                     {kLabelManagedBy, kManagedByValue},
                     {"app.kubernetes.io/component", "grafana"}}}}},
                 {"type", "Opaque"},
                 {"data", {{kGrafanaPasswordKey, Base64Encode(password)}}}};
  Decorate(secret, d);
  return secret;
}

std::string SshaHtpasswdLine(const std::string& user, const std::string& password,
                             const std::string& salt) {
  const std::string salted = password + salt;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_Digest(salted.data(), salted.size(), digest, &digest_len, EVP_sha1(), nullptr);
  return user + ":{SSHA}" +
         Base64Encode(std::string(reinterpret_cast<char*>(digest), digest_len) + salt) + "\n";
}

json ZooNavigatorLoginSecretObject(const std::string& name, const std::string& namespace_name,
                                   const std::string& password, const ObjectDecoration& d) {
  unsigned char salt[8];
  RAND_bytes(salt, sizeof salt);
  const std::string line = SshaHtpasswdLine(
      kZooNavigatorUser, password, std::string(reinterpret_cast<char*>(salt), sizeof salt));
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata",
                  {{"name", name},
                   {"namespace", namespace_name},
                   {"labels",
                    {{kLabelInstance, d.cluster},
                     {kLabelManagedBy, kManagedByValue},
                     {"app.kubernetes.io/component", "zoonavigator"}}}}},
                 {"type", "Opaque"},
                 {"data",
                  {{"username", Base64Encode(kZooNavigatorUser)},
                   {"password", Base64Encode(password)},
                   {"htpasswd", Base64Encode(line)}}}};
  Decorate(secret, d);
  return secret;
}

bool AppliedBy(const json& object, const std::string& manager,
               const std::vector<std::string>& path) {
  if (!object.contains("metadata") || !object["metadata"].contains("managedFields")) return false;
  for (const auto& entry : object["metadata"]["managedFields"]) {
    if (entry.value("manager", "") != manager || entry.value("operation", "") != "Apply") continue;
    if (!entry.value("subresource", "").empty()) continue;
    const json* node = entry.contains("fieldsV1") ? &entry["fieldsV1"] : nullptr;
    for (const auto& p : path) {
      if (!node || !node->is_object() || !node->contains("f:" + p)) {
        node = nullptr;
        break;
      }
      node = &(*node)["f:" + p];
    }
    if (node) return true;
  }
  return false;
}

std::string ForeignScaleDown(const json& controller, const std::string& own_manager) {
  if (ControllerReplicas(controller) != 0 || !controller.contains("metadata") ||
      !controller["metadata"].contains("managedFields"))
    return "";
  for (const auto& entry : controller["metadata"]["managedFields"]) {
    const std::string manager = entry.value("manager", "");
    if (manager == own_manager || !entry.contains("fieldsV1")) continue;
    const json& f = entry["fieldsV1"];
    if (!f.contains("f:spec") || !f["f:spec"].contains("f:replicas")) continue;
    const std::string kind = controller.value("kind", "StatefulSet");
    std::string lower = kind;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ObjectTitle(controller) + ": spec.replicas is 0, managed by " + manager +
           (manager.rfind("kubectl", 0) == 0 ? " (kubectl scale?)" : "") +
           "; zkpilot does not override another manager's fields: give the server back (kubectl scale " +
           lower + " " + ObjectName(controller) + " --replicas=1) and zkpilot continues";
  }
  return "";
}

std::string ApplyConflictMessage(const json& object, const std::string& api_message) {
  // The API's wording (apimachinery's merge.Conflicts): one conflict
  //   Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1:
  //   .spec.replicas
  // several
  //   Apply failed with 2 conflicts: conflicts with "kubectl" using apps/v1:\n- .spec.replicas\n-
  //   .spec.x
  std::vector<std::pair<std::string, std::string>> conflicts;  // field, manager
  static const std::regex one(R"re(conflict with "([^"]+)"[^:]*: \.?(\S+))re");
  static const std::regex many(R"re(conflicts with "([^"]+)")re");
  std::smatch m;
  std::istringstream lines(api_message);
  std::string current;
  for (std::string line; std::getline(lines, line);) {
    if (std::regex_search(line, m, many)) {
      current = m[1];
    } else if (std::regex_search(line, m, one)) {
      conflicts.push_back({m[2], m[1]});
    } else if (!current.empty() && line.rfind("- ", 0) == 0) {
      std::string field = line.substr(2);
      if (!field.empty() && field[0] == '.') field.erase(0, 1);
      conflicts.push_back({field, current});
    }
  }
  std::string what =
      object.value("kind", "object") + " " +
      (object.contains("metadata") ? object["metadata"].value("name", "") : std::string());
  if (conflicts.empty()) return what + ": " + api_message;
  std::string out = what + ": ";
  for (size_t i = 0; i < conflicts.size(); ++i) {
    const auto& [field, manager] = conflicts[i];
    out += (i ? "; " : "") + field + " is managed by " + manager;
    if (field == "spec.replicas" && manager.rfind("kubectl", 0) == 0) out += " (kubectl scale?)";
  }
  return out +
         "; zkpilot does not override another manager's fields (undo that change, or remove that "
         "manager's "
         "ownership of the field, and zkpilot continues): " +
         api_message;
}

std::vector<std::string> ClaimNames(const json& controller) {
  std::vector<std::string> out;
  const std::string name =
      controller.contains("metadata") ? controller["metadata"].value("name", "") : "";
  const json& spec = controller.contains("spec") ? controller["spec"] : json::object();
  if (controller.value("kind", "") == "StatefulSet" && spec.contains("volumeClaimTemplates")) {
    for (const auto& t : spec["volumeClaimTemplates"])
      if (t.contains("metadata") && t["metadata"].contains("name"))
        out.push_back(t["metadata"]["name"].get<std::string>() + "-" + name + "-0");
  }
  if (spec.contains("template") && spec["template"].contains("spec") &&
      spec["template"]["spec"].contains("volumes")) {
    for (const auto& v : spec["template"]["spec"]["volumes"])
      if (v.contains("persistentVolumeClaim") && v["persistentVolumeClaim"].contains("claimName"))
        out.push_back(v["persistentVolumeClaim"]["claimName"].get<std::string>());
  }
  return out;
}

const std::vector<KindRef>& PrunedKinds() {
  static const std::vector<KindRef> kinds = {kStatefulSetKind,
                                             kDeploymentKind,
                                             {"v1", "Service"},
                                             {"v1", "ConfigMap"},
                                             {"v1", "Secret"},
                                             {"v1", "ServiceAccount"},
                                             {"policy/v1", "PodDisruptionBudget"},
                                             {"networking.k8s.io/v1", "NetworkPolicy"},
                                             {"monitoring.coreos.com/v1", "ServiceMonitor"},
                                             {"monitoring.coreos.com/v1", "PrometheusRule"}};
  return kinds;
}

std::string ObjectName(const json& object) {
  return object.contains("metadata") && object["metadata"].is_object()
             ? object["metadata"].value("name", "")
             : "";
}

std::string ObjectTitle(const json& object) {
  return object.value("kind", "object") + " " + ObjectName(object);
}

bool PodReady(const json& pod) {
  if (!pod.contains("status")) return false;
  for (const auto& c : pod["status"].value("conditions", json::array()))
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  return false;
}

bool IsDeleting(const json& object) {
  return object.contains("metadata") && object["metadata"].contains("deletionTimestamp") &&
         !object["metadata"]["deletionTimestamp"].is_null();
}

int ControllerReplicas(const json& controller) {
  return controller.contains("spec") ? controller["spec"].value("replicas", 1) : 1;
}

const json& PodTemplate(const json& controller) {
  static const json kNone = json::object();
  if (!controller.contains("spec") || !controller["spec"].contains("template")) return kNone;
  return controller["spec"]["template"];
}

bool PreferPod(const json& candidate, const json& current) {
  if (IsDeleting(candidate) != IsDeleting(current)) return !IsDeleting(candidate);
  auto created = [](const json& pod) {
    return pod.contains("metadata") ? pod["metadata"].value("creationTimestamp", "") : "";
  };
  return created(candidate) > created(current);  // RFC3339 in UTC sorts as text
}

std::string ServerContainerName(const json& pod) {
  if (!pod.contains("spec") || !pod["spec"].contains("containers")) return "";
  const json& containers = pod["spec"]["containers"];
  for (const auto& c : containers)
    if (c.value("name", "") == "zookeeper") return "zookeeper";
  return containers.empty() ? "" : containers[0].value("name", "");
}

std::string JoinNames(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : separator) + i;
  return out;
}

int64_t KubeTimeMillis(const std::string& text) {
  auto t = ParseKubeTime(text);
  return t.ok() ? *t : 0;
}

const char* ApplyFieldManager() { return kFieldManager; }

std::string ClusterSelector(const std::string& cluster) {
  return std::string(kLabelCluster) + "=" + cluster;
}

std::string PackageObjectsSelector(const std::string& cluster) {
  return std::string(kLabelInstance) + "=" + cluster + "," + kLabelManagedBy + "=" +
         kManagedByValue;
}

std::string ServerPodsSelector(const std::string& cluster, int id) {
  return ClusterSelector(cluster) + "," + kLabelServerId + (id > 0 ? "=" + std::to_string(id) : "");
}

std::string ServerClaimsSelector(const std::string& cluster, int id) {
  return std::string(kLabelInstance) + "=" + cluster + "," + kLabelServerId + "=" +
         std::to_string(id);
}

std::string ObjectKey(const json& object) {
  std::string api_version = object.value("apiVersion", "");
  const auto slash = api_version.find('/');
  const std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
  return group + "/" + object.value("kind", "") + "/" +
         (object.contains("metadata") ? object["metadata"].value("name", "") : "");
}

}  // namespace zkpilot
