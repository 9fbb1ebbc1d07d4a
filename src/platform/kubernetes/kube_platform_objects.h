// The Kubernetes platform's pure part: what zkpilot adds to the rendered
// objects before it applies them, how it sorts them (cluster-wide, per
// server, add-ons), the configuration fingerprint of a server's pod
// template, and how a server-side apply conflict is told to a person.
// No API calls; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "package/package.h"
#include "render/renderer.h"
#include "util/status.h"

namespace zkpilot {

inline constexpr char kAnnotationRestartGeneration[] = "zkpilot.io/restart-generation";
inline constexpr char kAnnotationTemplateHash[] = "zkpilot.io/template-hash";
inline constexpr char kAnnotationAuthUsers[] = "zkpilot.io/auth-users";
inline constexpr char kLabelServerId[] =
    "zkpilot.io/server-id";  // the package's label on a server's objects

struct ObjectDecoration {
  std::string cluster;            // label zkpilot.io/cluster
  std::string owner_uid;          // empty: no ownerReference
  std::string owner_api_version;  // "zkpilot.io/v1alpha1"
  std::string owner_kind;         // "ZooKeeperCluster"
  std::string super_secret;       // Secret with key "digest" for the servers; empty: none
  std::string auth_secret;        // Secret with the servers' JAAS file (kube_auth.h); empty: none
  std::string auth_users;         // auth.users, comma-separated (annotation zkpilot.io/auth-users)
};

// The rendered objects, decorated and sorted by when the platform applies them.
struct PlatformObjects {
  std::vector<nlohmann::json> cluster_wide;            // render order
  std::map<int, std::vector<nlohmann::json>> servers;  // per server id: claims, then its controller
  std::vector<nlohmann::json> addons;                  // templates of the package's add-ons
};

// Adds the cluster label and owner reference to every object and
// DecorateServerTemplate to the servers' controllers (objects labelled
// zkpilot.io/server-id), then sorts them.
PlatformObjects SortObjects(const Package& package, const std::vector<RenderedObject>& rendered,
                            const ObjectDecoration& decoration);

// A server's controller: its pod template gets the cluster label, the super
// digest (env SERVER_JVMFLAGS from the Secret), the JAAS file with the users
// it names (kube_auth.h: a change of users rolls the servers) and the
// template hash.
void DecorateServerTemplate(nlohmann::json& controller, const ObjectDecoration& decoration);

// SHA-256 (16 hex digits) of a pod template without the annotations zkpilot
// manages itself (restart generation, template hash).
std::string TemplateHash(const nlohmann::json& pod_template);

// The server id of an object labelled zkpilot.io/server-id; 0 when none.
int ServerIdOf(const nlohmann::json& object);
bool IsController(const nlohmann::json& object);  // StatefulSet or Deployment

// An annotation of metadata (of an object or a pod template) as an integer; 0 when absent.
int64_t MetadataAnnotationInt(const nlohmann::json& holder, const std::string& key);
std::string MetadataAnnotation(const nlohmann::json& holder, const std::string& key);

// The Secret holding the super user's password and its digest.
nlohmann::json SuperSecretObject(const std::string& name, const std::string& namespace_name,
                                 const std::string& password, const ObjectDecoration& decoration);
// The Secret holding the grafana add-on's admin password (key kGrafanaPasswordKey).
inline constexpr char kGrafanaPasswordKey[] = "admin-password";
nlohmann::json GrafanaSecretObject(const std::string& name, const std::string& namespace_name,
                                   const std::string& password, const ObjectDecoration& decoration);
// The Secret holding the login of the zoonavigator add-on's proxy: keys
// `username` (kZooNavigatorUser), `password` and `htpasswd`, the line
// nginx's auth_basic_user_file checks (SshaHtpasswdLine).
inline constexpr char kZooNavigatorUser[] = "admin";
nlohmann::json ZooNavigatorLoginSecretObject(const std::string& name,
                                             const std::string& namespace_name,
                                             const std::string& password,
                                             const ObjectDecoration& decoration);
// "user:{SSHA}base64(sha1(password salt) salt)\n": a salted hash in the
// RFC 2307 form nginx reads (ngx_http_auth_basic_module, scheme SSHA), so
// the proxy never holds the password itself. REQUIRES: !salt.empty().
std::string SshaHtpasswdLine(const std::string& user, const std::string& password,
                             const std::string& salt);
// Whether anything in `object` (a pod template's env, envFrom, volumes)
// refers to the Secret `name`.
bool ReferencesSecret(const nlohmann::json& object, const std::string& name);
std::string Base64Encode(const std::string& data);
Result<std::string> Base64Decode(const std::string& data);

// True when `manager`'s Apply entry in the object's managedFields owns the
// field at `path` (e.g. {"spec", "replicas"}).
bool AppliedBy(const nlohmann::json& object, const std::string& manager,
               const std::vector<std::string>& path);

// "StatefulSet demo-2: spec.replicas is managed by "kubectl" (kubectl scale?); zkpilot does not
// override another manager's fields (undo that change ...): <the API's message>".
std::string ApplyConflictMessage(const nlohmann::json& object, const std::string& api_message);

// The claims a server's controller uses: a StatefulSet's volumeClaimTemplates
// (<template>-<name>-0) and a Deployment's persistentVolumeClaim volumes.
std::vector<std::string> ClaimNames(const nlohmann::json& controller);

// Kinds the platform reads or deletes by label.
struct KindRef {
  const char* api_version;
  const char* kind;
};
inline constexpr KindRef kStatefulSetKind{"apps/v1", "StatefulSet"};
inline constexpr KindRef kDeploymentKind{"apps/v1", "Deployment"};
inline constexpr KindRef kPodKind{"v1", "Pod"};
inline constexpr KindRef kClaimKind{"v1", "PersistentVolumeClaim"};
// What ApplyAddons prunes and TearDown deletes, by the cluster's label: every
// kind the package renders apart from claims (data goes only on request).
const std::vector<KindRef>& PrunedKinds();

// Small readers of API objects.
std::string ObjectName(const nlohmann::json& object);      // metadata.name
std::string ObjectTitle(const nlohmann::json& object);     // "StatefulSet demo-2"
bool IsDeleting(const nlohmann::json& object);             // metadata.deletionTimestamp set
bool PodReady(const nlohmann::json& pod);                   // status condition Ready is True
int ControllerReplicas(const nlohmann::json& controller);  // spec.replicas (1 when absent)
// A server controller someone else has scaled to zero: "StatefulSet demo-2:
// spec.replicas is 0, managed by kubectl (kubectl scale?); ..." naming how to
// give it back; "" when its spec.replicas is not 0 or no manager other than
// `own_manager` holds it (through the object or its scale subresource).
std::string ForeignScaleDown(const nlohmann::json& controller, const std::string& own_manager);
const nlohmann::json& PodTemplate(const nlohmann::json& controller);  // spec.template
// Of two pods of one server, whether `candidate` is the one that counts
// rather than `current`: one not being deleted, else the newer.
bool PreferPod(const nlohmann::json& candidate, const nlohmann::json& current);
// The container zkpilot execs into and reads logs of: "zookeeper", else the first.
std::string ServerContainerName(const nlohmann::json& pod);
std::string JoinNames(const std::vector<std::string>& items, const std::string& separator = ", ");

// An RFC3339 time of the API in milliseconds since the epoch; 0 when unparsable.
int64_t KubeTimeMillis(const std::string& text);

// The field manager of zkpilot's server-side applies ("zkpilot").
const char* ApplyFieldManager();
// Label selectors: every object zkpilot applied for `cluster`; the package's
// objects of it (its own labels, e.g. add-on pods); one server's pods (or
// every server's, id 0); one server's claims.
std::string ClusterSelector(const std::string& cluster);
std::string PackageObjectsSelector(const std::string& cluster);
std::string ServerPodsSelector(const std::string& cluster, int id);
std::string ServerClaimsSelector(const std::string& cluster, int id);

// "<ns>/<name>" style key used to compare what is rendered with what exists:
// API group (without version), kind, name.
std::string ObjectKey(const nlohmann::json& object);

}  // namespace zkpilot
