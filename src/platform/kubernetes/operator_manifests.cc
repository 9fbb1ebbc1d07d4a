#include "platform/kubernetes/operator_manifests.h"

#include <regex>

#include "platform/kubernetes/cluster_resource.h"
#include "platform/kubernetes/crd.h"

namespace zkpilot {
namespace {

// Objects zkpilot applies: server-side apply is a patch (that creates what
// does not exist yet); read back, listed by label to prune, deleted.
const OrderedJson kApplied = {"get", "list", "create", "patch", "delete"};

OrderedJson Rule(const char* group, OrderedJson resources, OrderedJson verbs) {
  return OrderedJson{
      {"apiGroups", {group}}, {"resources", std::move(resources)}, {"verbs", std::move(verbs)}};
}

OrderedJson Labels() {
  return OrderedJson{{"app.kubernetes.io/name", kOperatorName},
                     {"app.kubernetes.io/component", "operator"},
                     {kLabelManagedBy, kManagedByValue}};
}

OrderedJson Metadata(const std::string& name, const std::string& namespace_) {
  OrderedJson m = {{"name", name}};
  if (!namespace_.empty()) m["namespace"] = namespace_;
  m["labels"] = Labels();
  return m;
}

RenderedObject Object(OrderedJson body) {
  RenderedObject o;
  o.api_version = body["apiVersion"];
  o.kind = body["kind"];
  o.name = body["metadata"]["name"];
  o.source = "zkpilot operator manifests";
  o.body = std::move(body);
  return o;
}

OrderedJson Binding(const char* kind, const std::string& namespace_, const char* role_kind,
                    const std::string& subject_namespace) {
  return OrderedJson{
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", kind},
      {"metadata", Metadata(kOperatorName, namespace_)},
      {"roleRef",
       {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", role_kind}, {"name", kOperatorName}}},
      {"subjects", OrderedJson::array({{{"kind", "ServiceAccount"},
                                        {"name", kOperatorName},
                                        {"namespace", subject_namespace}}})}};
}

OrderedJson FieldEnv(const char* name, const char* path) {
  return OrderedJson{{"name", name}, {"valueFrom", {{"fieldRef", {{"fieldPath", path}}}}}};
}

OrderedJson OperatorDeployment(const OperatorManifestOptions& options, const std::string& image) {
  OrderedJson selector = {{"app.kubernetes.io/name", kOperatorName}};
  OrderedJson probe_port = {{"path", "/healthz"}, {"port", "health"}};
  OrderedJson container = {
      {"name", "operator"},
      {"image", image},
      {"imagePullPolicy", "IfNotPresent"},
      {"args", {"operator", "--leader-elect"}},
      {"env", OrderedJson::array({FieldEnv("POD_NAMESPACE", "metadata.namespace"),
                                  FieldEnv("POD_NAME", "metadata.name")})},
      {"ports",
       OrderedJson::array(
           {{{"name", "health"}, {"containerPort", kOperatorHealthPort}, {"protocol", "TCP"}}})},
      {"readinessProbe",
       {{"httpGet", {{"path", "/readyz"}, {"port", "health"}}},
        {"periodSeconds", 10},
        {"failureThreshold", 3}}},
      {"livenessProbe",
       {{"httpGet", probe_port},
        {"initialDelaySeconds", 10},
        {"periodSeconds", 20},
        {"failureThreshold", 3}}},
      {"resources",
       {{"requests", {{"cpu", "50m"}, {"memory", "64Mi"}}}, {"limits", {{"memory", "256Mi"}}}}},
      {"securityContext",
       {{"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"capabilities", {{"drop", {"ALL"}}}}}},
      {"volumeMounts", OrderedJson::array({{{"name", "tmp"}, {"mountPath", "/tmp"}}})}};
  OrderedJson pod_spec = {
      {"serviceAccountName", kOperatorName},
      {"securityContext",
       {{"runAsNonRoot", true},
        {"runAsUser", 65532},
        {"runAsGroup", 65532},
        {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"terminationGracePeriodSeconds", 30},
      {"containers", OrderedJson::array({container})},
      {"volumes", OrderedJson::array({{{"name", "tmp"}, {"emptyDir", OrderedJson::object()}}})}};
  OrderedJson template_labels = Labels();
  return OrderedJson{
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", Metadata(kOperatorName, options.namespace_)},
      {"spec",
       {{"replicas", options.replicas},
        {"selector", {{"matchLabels", selector}}},
        {"template", {{"metadata", {{"labels", template_labels}}}, {"spec", pod_spec}}}}}};
}

}  // namespace

std::string DefaultOperatorImage() {
  return std::string("ghcr.io/zkpilot/zkpilot:") + ZKPILOT_VERSION;
}

Status ValidateOperatorOptions(const OperatorManifestOptions& options) {
  static const std::regex dns_label("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  if (!std::regex_match(options.namespace_, dns_label) || options.namespace_.size() > 63)
    return Status::InvalidInput(
        "--namespace \"" + options.namespace_ +
        "\": must be a DNS label (lower-case letters, digits and '-', at most 63)");
  if (options.replicas < 1 || options.replicas > 10)
    return Status::InvalidInput(
        "--replicas " + std::to_string(options.replicas) +
        ": must be between 1 and 10 (more than one: standbys behind leader election)");
  if (options.image.find_first_of(" \t\n") != std::string::npos)
    return Status::InvalidInput("--image \"" + options.image + "\": must not contain spaces");
  return Status::Ok();
}

OrderedJson OperatorClusterRules() {
  return OrderedJson::array({
      // Its own resource: watch, the finalizer (merge patch), status (the
      // journal: merge patch, and replace where two writers could race;
      // get reads nothing the resource does not show, and lets kubectl
      // patch --subresource=status work under the operator's identity).
      Rule(kClusterGroup, {kClusterPlural}, {"get", "list", "watch", "patch"}),
      Rule(kClusterGroup, {std::string(kClusterPlural) + "/status"}, {"get", "update", "patch"}),
      // Owner references with blockOwnerDeletion on what it creates.
      Rule(kClusterGroup, {std::string(kClusterPlural) + "/finalizers"}, {"update"}),
      // What the package renders: applied by server-side apply (patch;
      // create when new), read back, pruned by label (list, delete); the
      // package's own ConfigMaps; the super-user Secret; claims (purge).
      Rule("", {"configmaps", "services", "serviceaccounts", "persistentvolumeclaims", "secrets"},
           kApplied),
      Rule("apps", {"statefulsets", "deployments"}, kApplied),
      Rule("policy", {"poddisruptionbudgets"}, kApplied),
      Rule("networking.k8s.io", {"networkpolicies"}, kApplied),
      Rule("monitoring.coreos.com", {"servicemonitors", "prometheusrules"}, kApplied),
      // tls.certificates=cert-manager (kube_certmanager.h): the CA Issuers
      // and each server's Certificates, applied; their Ready condition read.
      Rule("cert-manager.io", {"issuers", "certificates"}, kApplied),
      // Revisions: created, their outcome patched, deleted with the cluster.
      Rule("apps", {"controllerrevisions"}, kApplied),
      // Servers: observe, restart (delete one pod), logs, file actions of
      // hooks (exec: "get" is the WebSocket upgrade, "create" the SPDY form).
      Rule("", {"pods"}, {"get", "list", "delete"}),
      Rule("", {"pods/log"}, {"get"}),
      Rule("", {"pods/exec"}, {"get", "create"}),
      // Preflight: the cluster's namespace exists.
      Rule("", {"namespaces"}, {"get"}),
      // Events on the clusters; hook runs are recorded as events (listed
      // by `history`, deleted with the cluster).
      Rule("", {"events"}, {"create", "list", "delete"}),
  });
}

OrderedJson OperatorLeaseRules() {
  OrderedJson by_name = Rule("coordination.k8s.io", {"leases"}, {"get", "update"});
  by_name["resourceNames"] = {kOperatorName};
  return OrderedJson::array({
      // A create cannot be limited by name (the name is not known yet to RBAC).
      Rule("coordination.k8s.io", {"leases"}, {"create"}),
      by_name,
  });
}

Result<std::vector<RenderedObject>> OperatorManifests(const Package& package,
                                                      const OperatorManifestOptions& options) {
  ZK_RETURN_IF_ERROR(ValidateOperatorOptions(options));
  const std::string& ns = options.namespace_;
  const std::string image = options.image.empty() ? DefaultOperatorImage() : options.image;
  std::vector<RenderedObject> out;
  out.push_back(Object(GenerateCrd(package)));
  out.push_back(Object({{"apiVersion", "v1"},
                        {"kind", "Namespace"},
                        // Pod Security admission refuses any pod in it that breaks
                        // the restricted profile (the operator's own passes it).
                        {"metadata",
                         {{"name", ns},
                          {"labels",
                           {{kLabelManagedBy, kManagedByValue},
                            {"pod-security.kubernetes.io/enforce", "restricted"},
                            {"pod-security.kubernetes.io/enforce-version", "latest"}}}}}}));
  out.push_back(Object({{"apiVersion", "v1"},
                        {"kind", "ServiceAccount"},
                        {"metadata", Metadata(kOperatorName, ns)}}));
  out.push_back(Object({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                        {"kind", "ClusterRole"},
                        {"metadata", Metadata(kOperatorName, "")},
                        {"rules", OperatorClusterRules()}}));
  out.push_back(Object(Binding("ClusterRoleBinding", "", "ClusterRole", ns)));
  out.push_back(Object({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                        {"kind", "Role"},
                        {"metadata", Metadata(kOperatorName, ns)},
                        {"rules", OperatorLeaseRules()}}));
  out.push_back(Object(Binding("RoleBinding", ns, "Role", ns)));
  out.push_back(Object(OperatorDeployment(options, image)));
  return out;
}

}  // namespace zkpilot
