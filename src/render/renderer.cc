#include "render/renderer.h"

#include <algorithm>
#include <cstdio>
#include <regex>
#include <set>
#include <sstream>

#include "render/mustache_context.h"
#include "util/hash.h"

namespace zkpilot {
namespace {

constexpr size_t kMaxClusterNameLength = 40;

// Install order: what others refer to first, workloads last.
int KindRank(const std::string& kind) {
  static const std::vector<std::string> kOrder = {
      "Namespace", "ServiceAccount", "Secret", "ConfigMap", "Role", "RoleBinding", "ClusterRole",
      "ClusterRoleBinding", "PersistentVolumeClaim", "Service", "PodDisruptionBudget", "NetworkPolicy",
      "StatefulSet", "Deployment", "Job", "ServiceMonitor", "PodMonitor", "PrometheusRule"};
  auto it = std::find(kOrder.begin(), kOrder.end(), kind);
  return static_cast<int>(it - kOrder.begin());
}

int IntValue(const Values& values, const std::string& name, int fallback) {
  if (!values.Has(name) || !values.Get(name).is_number_integer()) return fallback;
  return values.Get(name).get<int>();
}

std::string StringValue(const Values& values, const std::string& name, const std::string& fallback) {
  if (!values.Has(name) || !values.Get(name).is_string()) return fallback;
  return values.Get(name).get<std::string>();
}

// Sets `value` at a dotted path of a nested object.
void SetPath(nlohmann::json& root, const std::string& dotted, nlohmann::json value) {
  nlohmann::json* cur = &root;
  size_t start = 0;
  for (size_t dot; (dot = dotted.find('.', start)) != std::string::npos; start = dot + 1)
    cur = &(*cur)[dotted.substr(start, dot - start)];
  (*cur)[dotted.substr(start)] = std::move(value);
}

// pairs.<param>: an object parameter as a list of {key, value}, sorted by key,
// so that templates can merge it into a map they also write themselves.
nlohmann::json PairsView(const Package& pkg, const Values& values) {
  nlohmann::json view = nlohmann::json::object();
  for (const auto& p : pkg.schema.params) {
    if (p.type != ParamType::kObject || !values.Has(p.name)) continue;
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [k, v] : values.Get(p.name).items())
      list.push_back({{"key", k}, {"value", v.is_string() ? v.get<std::string>() : v.dump()}});
    SetPath(view, p.name, list);
  }
  return view;
}

nlohmann::json NodeJson(const NodeEndpoint& n, size_t index, size_t count) {
  nlohmann::json node = {{"id", n.id},
                         {"ordinal", n.id - 1},
                         {"name", n.name},
                         {"podName", n.pod_name},
                         {"host", n.host},
                         {"clientPort", n.client_port},
                         {"quorumPort", n.quorum_port},
                         {"handoffQuorumPort", n.handoff_quorum_port},
                         {"electionPort", n.election_port},
                         {"adminServerPort", n.admin_server_port},
                         {"metricsPort", n.metrics_port},
                         {"bindAddress", n.bind_address},
                         {"dataDir", n.data_dir},
                         {"dataLogDir", n.data_log_dir},
                         {"tlsKeyStore", n.tls_key_store},
                         {"tlsTrustStore", n.tls_trust_store},
                         {"first", index == 0},
                         {"last", index + 1 == count}};
  return node;
}

// `image` pinned to `digest` (sha256:...): the repository without its tag,
// then @digest, the reference a kubelet pulls by content; unchanged when the
// digest is empty.
std::string WithDigest(const std::string& image, const std::string& digest) {
  if (digest.empty()) return image;
  std::string repo = image.substr(0, image.find('@'));
  const size_t slash = repo.rfind('/');
  const size_t colon = repo.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash))
    repo.erase(colon);  // a tag, not a registry's port
  return repo + "@" + digest;
}

std::string ImageFor(const Package& pkg, const Values& values, const std::string& version) {
  const VersionSpec* spec = pkg.FindVersion(version);
  if (!spec) return "";
  std::string image = spec->image;
  std::string repo = StringValue(values, "image.repository", "");
  if (!repo.empty()) {
    size_t colon = image.rfind(':');
    image = repo + (colon == std::string::npos ? "" : image.substr(colon));
  }
  return WithDigest(image, StringValue(values, "image.digest", ""));
}

// images.<prefix>: every string parameter `<prefix>.image` (an add-on's
// image) pinned by its `<prefix>.imageDigest` when that is set.
nlohmann::json ImagesView(const Package& pkg, const Values& values) {
  nlohmann::json view = nlohmann::json::object();
  const std::string suffix = ".image";
  for (const auto& p : pkg.schema.params) {
    if (p.type != ParamType::kString || p.name.size() <= suffix.size() ||
        p.name.compare(p.name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string prefix = p.name.substr(0, p.name.size() - suffix.size());
    SetPath(view, prefix, WithDigest(StringValue(values, p.name, ""),
                                     StringValue(values, prefix + ".imageDigest", "")));
  }
  return view;
}

// has.<param>: true for each list or object parameter with at least one
// item, so that a template writes the key only when it has items.
nlohmann::json HasView(const Package& pkg, const Values& values) {
  nlohmann::json view = nlohmann::json::object();
  for (const auto& p : pkg.schema.params) {
    if (p.type != ParamType::kList && p.type != ParamType::kObject) continue;
    if (!values.Has(p.name)) continue;
    const nlohmann::json& v = values.Get(p.name);
    if ((v.is_array() || v.is_object()) && !v.empty()) SetPath(view, p.name, true);
  }
  return view;
}

// `quorumAuth` in templates, for one quorum SASL stage
// (ServerRender::quorum_auth_stage; why there are four:
// plan/quorum_auth_planner.h): 0 none, 1 quorum.auth.enableSasl, 2 +
// learnerRequireSasl, 3 + serverRequireSasl (auth.quorum=true).
nlohmann::json QuorumAuthView(int stage) {
  return {{"stage", stage},
          {"switching", stage == 1 || stage == 2},
          {"learnerRequireSasl", stage >= 2},
          {"required", stage == 3}};
}

// The context without the declared files (those are rendered from it).
nlohmann::json BaseContext(const Package& pkg, const Values& values, const RenderOptions& options,
                           const std::vector<NodeEndpoint>& nodes, const NodeEndpoint& self) {
  nlohmann::json ctx;
  ctx["cluster"] = {{"name", options.cluster_name}, {"namespace", options.namespace_name}};
  ctx["platform"] = {{"name", options.platform}, {options.platform, true}};
  if (!options.platform_values.empty()) ctx[options.platform] = options.platform_values;
  ctx["self"] = NodeJson(self, 0, 1);
  if (self.id == 0) ctx["self"].erase("id");
  ctx["package"] = {{"name", pkg.name}, {"version", pkg.version}};
  ctx["values"] = values.Nested();
  nlohmann::json json_view = nlohmann::json::object();
  nlohmann::json enum_view = nlohmann::json::object();
  for (const auto& [name, value] : values.Flat()) {
    SetPath(json_view, name, value.dump());
    const ParamSpec* spec = pkg.schema.Find(name);
    if (spec && !spec->enum_values.empty()) SetPath(enum_view, name + "." + DisplayValue(value), true);
  }
  ctx["json"] = json_view;
  ctx["pairs"] = PairsView(pkg, values);
  ctx["enum"] = enum_view;
  std::string version = StringValue(values, pkg.version_parameter, "");
  ctx["version"] = version;
  ctx["image"] = ImageFor(pkg, values, version);
  ctx["images"] = ImagesView(pkg, values);
  ctx["has"] = HasView(pkg, values);
  ctx["tls"] = TlsTemplateContext(options.server, values);
  ctx["quorumAuth"] = QuorumAuthView(QuorumAuthStageOf(options.server, values));
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < nodes.size(); ++i) {
    nlohmann::json n = NodeJson(nodes[i], i, nodes.size());
    n["node"] = n;  // so that {{node.id}} also works inside {{#nodes}}
    list.push_back(n);
  }
  ctx["nodes"] = list;
  return ctx;
}

bool IsStructuredFile(const std::string& path) {
  for (const char* ext : {".yaml", ".yml", ".json", ".yaml.mustache", ".yml.mustache", ".json.mustache"}) {
    std::string e = ext;
    if (path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0) return true;
  }
  return false;
}

// The lines of `content` that count for the config hash.
std::string HashedLines(const std::string& content, const std::vector<std::string>& ignore) {
  if (ignore.empty()) return content;
  std::string out;
  size_t start = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string::npos) end = content.size();
    std::string line = content.substr(start, end - start);
    bool skip = false;
    for (const auto& prefix : ignore) skip = skip || line.rfind(prefix, 0) == 0;
    if (!skip) out += line + "\n";
    start = end + 1;
  }
  return out;
}

// Adds files.*, raw.*, hash.*, filesJson.* and configHash to the context.
Status AddDeclaredFiles(const Package& pkg, nlohmann::json& ctx) {
  kainjow::mustache::data base = ToMustacheData(ctx);
  AddPartials(base, pkg.partials);
  std::string hash_input;
  for (const auto& f : pkg.files) {
    std::string content = f.content;
    if (f.is_template) {
      ZK_ASSIGN_OR_RETURN(content, RenderMustache(f.content, f.path, base));
    }
    ctx["files"][f.name] = nlohmann::json(content).dump();
    ctx["raw"][f.name] = content;
    ctx["hash"][f.name] = Sha256Hex(content).substr(0, 16);
    if (!f.json_text.empty()) {
      ctx["filesJson"][f.name] = f.json_text;  // parsed once, when the package was loaded
    } else if (IsStructuredFile(f.path)) {
      ZK_ASSIGN_OR_RETURN(YAML::Node node, ParseYaml(content, f.path));
      ctx["filesJson"][f.name] = YamlToJson(node).dump();
    }
    if (f.in_config_hash) hash_input += f.name + '\0' + HashedLines(content, f.hash_ignore) + '\0';
  }
  ctx["configHash"] = Sha256Hex(hash_input).substr(0, 16);
  return Status::Ok();
}

std::string LineOf(const std::string& text, size_t line) {
  std::istringstream in(text);
  std::string l;
  for (size_t i = 0; i < line && std::getline(in, l); ++i) {
  }
  return l;
}

// Parses a template's output into objects.
Status CollectObjects(const std::string& text, const std::string& source, std::vector<RenderedObject>& out) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    size_t line = e.mark.line + 1;
    return Status::InvalidInput(source + ": renders invalid YAML at line " + std::to_string(line) + ", column " +
                                std::to_string(e.mark.column + 1) + " of its output: " + e.msg +
                                "\n  " + std::to_string(line) + " | " + LineOf(text, line));
  }
  int index = 0;
  for (const auto& doc : docs) {
    ++index;
    if (doc.IsNull()) continue;  // empty document: a disabled template
    std::string where = source + " (document " + std::to_string(index) + ")";
    if (!doc.IsMap()) return Status::InvalidInput(where + ": a rendered document must be a map (a Kubernetes object)");
    OrderedJson body = YamlToJson(doc);
    auto str = [&](const OrderedJson& v) { return v.is_string() ? v.get<std::string>() : std::string(); };
    RenderedObject obj;
    obj.source = source;
    obj.api_version = str(body.value("apiVersion", OrderedJson()));
    obj.kind = str(body.value("kind", OrderedJson()));
    if (body.contains("metadata") && body["metadata"].is_object())
      obj.name = str(body["metadata"].value("name", OrderedJson()));
    if (obj.api_version.empty() || obj.kind.empty() || obj.name.empty())
      return Status::InvalidInput(where + ": every object needs apiVersion, kind and metadata.name (strings)");
    obj.body = std::move(body);
    out.push_back(std::move(obj));
  }
  return Status::Ok();
}

// Puts metadata.namespace right after metadata.name when a template left it out.
void AddNamespace(OrderedJson& body, const std::string& ns) {
  OrderedJson& meta = body["metadata"];
  if (meta.contains("namespace")) return;
  OrderedJson updated = OrderedJson::object();
  for (auto it = meta.begin(); it != meta.end(); ++it) {
    updated[it.key()] = it.value();
    if (it.key() == "name") updated["namespace"] = ns;
  }
  meta = std::move(updated);
}

bool AddonEnabled(const Package& pkg, const Values& values, const std::string& addon) {
  for (const auto& a : pkg.addons)
    if (a.name == addon) return values.Has(a.enabled_by) && values.Get(a.enabled_by) == true;
  return false;
}

// A broken partial is reported against its own file, once.
Status CheckPartials(const Package& pkg) {
  for (const auto& [name, body] : pkg.partials)
    ZK_RETURN_IF_ERROR(CheckMustacheSyntax(body, "templates/partials/" + name + ".mustache"));
  return Status::Ok();
}

}  // namespace

Status ValidateClusterName(const std::string& name) {
  static const std::regex dns_label("[a-z]([-a-z0-9]*[a-z0-9])?");
  if (!std::regex_match(name, dns_label))
    return Status::InvalidInput("cluster name \"" + name +
                                "\": must start with a lower-case letter and contain only a-z, 0-9 and '-'");
  if (name.size() > kMaxClusterNameLength)
    return Status::InvalidInput("cluster name \"" + name + "\": at most " + std::to_string(kMaxClusterNameLength) +
                                " characters (object names are derived from it)");
  return Status::Ok();
}

std::vector<NodeEndpoint> KubernetesTopology(const Values& values, const RenderOptions& options) {
  std::vector<NodeEndpoint> nodes;
  const int replicas = IntValue(values, "replicas", 1);
  const bool statefulset = StringValue(values, "controller", "statefulset") == "statefulset";
  const std::string domain = StringValue(values, "clusterDomain", "cluster.local");
  for (int id = 1; id <= replicas; ++id) {
    NodeEndpoint n = KubernetesSelf(values);  // every pod has the same ports and mounts
    n.id = id;
    n.name = options.cluster_name + "-" + std::to_string(id);
    n.pod_name = statefulset ? n.name + "-0" : n.name;
    n.host = n.pod_name + "." + options.cluster_name + "-headless." + options.namespace_name + ".svc." + domain;
    nodes.push_back(n);
  }
  return nodes;
}

NodeEndpoint KubernetesSelf(const Values& values) {
  NodeEndpoint self;
  self.client_port = IntValue(values, "clientPort", 2181);
  self.quorum_port = IntValue(values, "quorumPort", 2888);
  self.handoff_quorum_port = IntValue(values, "quorumHandoffPort", 2889);
  self.election_port = IntValue(values, "electionPort", 3888);
  self.admin_server_port = IntValue(values, "adminServerPort", 8080);
  self.metrics_port = IntValue(values, "metricsPort", 7000);
  self.bind_address = "0.0.0.0";
  self.data_dir = StringValue(values, "dataDir", "/data");
  self.data_log_dir = StringValue(values, "dataLogDir", "");
  return self;
}

Result<std::string> RenderDeclaredFile(const Package& pkg, const Values& values, const RenderOptions& options,
                                       const std::vector<NodeEndpoint>& nodes, const NodeEndpoint& self,
                                       const std::string& file_name) {
  for (const auto& f : pkg.files) {
    if (f.name != file_name) continue;
    if (!f.is_template) return f.content;
    ZK_RETURN_IF_ERROR(CheckPartials(pkg));
    nlohmann::json ctx = BaseContext(pkg, values, options, nodes, self);
    kainjow::mustache::data data = ToMustacheData(ctx);
    AddPartials(data, pkg.partials);
    return RenderMustache(f.content, f.path, data);
  }
  return Status::NotFound("package " + pkg.name + " declares no file " + file_name);
}

Status RefuseLocalOnlyFeatures(const Values& values) {
  auto on = [&](const char* p) { return values.Has(p) && values.Get(p) == true; };
  // tls.enabled: the certificates come from Secrets zkpilot makes
  // (platform/kubernetes/kube_tls.h) or from cert-manager (kube_certmanager.h).
  if (on("tls.enabled")) {
    // tls.allowPlaintext is stage 2 of a local switch (render/renderer.h
    // TlsStage): its server lines carry client addresses, which contradict
    // the Kubernetes block's static clientPort on the loopback
    // (QuorumPeerConfig.setupClientPort refuses to start on that).
    if (on("tls.allowPlaintext"))
      return Status::InvalidInput("tls.allowPlaintext=true: plaintext next to TLS is the resting point of a switch "
                                  "on the local platform only; on Kubernetes the client port speaks TLS only");
    // The probes' plaintext port on the pod's loopback must not take a port
    // the server or its pod listens on otherwise.
    const int probe = IntValue(values, "tls.probePort", 2182);
    for (const char* p : {"clientPort", "quorumPort", "electionPort", "adminServerPort", "metricsPort",
                          "quorumHandoffPort"})
      if (values.Has(p) && values.Get(p) == probe)
        return Status::InvalidInput("tls.probePort=" + std::to_string(probe) + ": the same port as " + p +
                                    "; every port must be different");
  }
  // auth.* works on both platforms: on Kubernetes the credentials and the
  // JAAS file are Secrets the platform makes (platform/kubernetes/kube_auth.h).
  return Status::Ok();
}

Result<std::vector<RenderedObject>> RenderManifests(const Package& pkg, const Values& values,
                                                    const RenderOptions& options) {
  ZK_RETURN_IF_ERROR(ValidateClusterName(options.cluster_name));
  ZK_RETURN_IF_ERROR(ValidateNamespaceName(options.namespace_name));
  ZK_RETURN_IF_ERROR(CheckPartials(pkg));
  ZK_RETURN_IF_ERROR(RefuseLocalOnlyFeatures(values));
  std::vector<NodeEndpoint> nodes = KubernetesTopology(values, options);
  nlohmann::json ctx = BaseContext(pkg, values, options, nodes, KubernetesSelf(values));
  ZK_RETURN_IF_ERROR(AddDeclaredFiles(pkg, ctx));
  kainjow::mustache::data data = ToMustacheData(ctx);
  AddPartials(data, pkg.partials);

  std::vector<RenderedObject> objects;
  for (const auto& t : pkg.templates) {
    if (!t.addon.empty() && !AddonEnabled(pkg, values, t.addon)) continue;
    if (t.scope == TemplateScope::kCluster) {
      ZK_ASSIGN_OR_RETURN(std::string text, RenderMustache(t.content, t.path, data));
      ZK_RETURN_IF_ERROR(CollectObjects(text, t.path, objects));
      continue;
    }
    for (size_t i = 0; i < nodes.size(); ++i) {
      data.set("node", ToMustacheData(NodeJson(nodes[i], i, nodes.size())));
      const std::string source = t.path + " (node " + std::to_string(nodes[i].id) + ")";
      ZK_ASSIGN_OR_RETURN(std::string text, RenderMustache(t.content, source, data));
      ZK_RETURN_IF_ERROR(CollectObjects(text, source, objects));
    }
    data.set("node", kainjow::mustache::data{kainjow::mustache::data::type::bool_false});
  }
  std::stable_sort(objects.begin(), objects.end(), [](const RenderedObject& a, const RenderedObject& b) {
    return KindRank(a.kind) < KindRank(b.kind);
  });
  std::set<std::string> seen;
  for (auto& obj : objects) {
    AddNamespace(obj.body, options.namespace_name);
    std::string key = obj.kind + "/" + obj.name;
    if (!seen.insert(key).second)
      return Status::InvalidInput(obj.source + ": renders " + key + ", which another template already produced");
  }
  return objects;
}

std::string ToYamlStream(const std::vector<RenderedObject>& objects) {
  std::string out;
  for (const auto& obj : objects) {
    out += "---\n# Source: " + obj.source + "\n";
    out += EmitYaml(obj.body);
  }
  return out;
}

std::string ToJsonList(const std::vector<RenderedObject>& objects) {
  OrderedJson list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", OrderedJson::array()}};
  for (const auto& obj : objects) list["items"].push_back(obj.body);
  return list.dump(2) + "\n";
}

std::string FileNameFor(const RenderedObject& object, size_t index, size_t total) {
  int width = total >= 1000 ? 4 : 3;
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%0*zu", width, index);
  std::string kind = object.kind;
  std::transform(kind.begin(), kind.end(), kind.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::string(prefix) + "-" + kind + "-" + object.name + ".yaml";
}

}  // namespace zkpilot
