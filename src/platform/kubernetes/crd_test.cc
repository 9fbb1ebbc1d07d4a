#include "platform/kubernetes/crd.h"

#include <gtest/gtest.h>

#include <functional>
#include <regex>

#include "../../../tests/test_package.h"
#include "package/package_loader.h"
#include "platform/kubernetes/cluster_resource.h"

namespace zkpilot {
namespace {

const Package& ZooKeeperPackage() {
  static const Package pkg = [] {
    auto p = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
    EXPECT_TRUE(p.ok()) << p.status().message();
    return p.ok() ? *p : Package{};
  }();
  return pkg;
}

const OrderedJson& Version(const OrderedJson& crd) { return crd["spec"]["versions"][0]; }
const OrderedJson& Root(const OrderedJson& crd) {
  return Version(crd)["schema"]["openAPIV3Schema"];
}
const OrderedJson& Values(const OrderedJson& crd) {
  return Root(crd)["properties"]["spec"]["properties"]["values"];
}

// Structural schema rules (apiextensions.k8s.io/v1): every node is typed
// unless it preserves unknown fields; no defaults (the package applies them);
// metadata only restricts the name; items is one schema.
void CheckStructural(const OrderedJson& s, const std::string& path,
                     std::vector<std::string>& preserved) {
  ASSERT_TRUE(s.is_object()) << path;
  bool preserve = s.value("x-kubernetes-preserve-unknown-fields", false);
  if (preserve) preserved.push_back(path);
  EXPECT_TRUE(s.contains("type") || preserve) << path << " has no type";
  EXPECT_FALSE(s.contains("default")) << path;
  EXPECT_FALSE(s.contains("additionalProperties") && s.contains("properties")) << path;
  if (s.value("type", "") == "array") {
    EXPECT_TRUE(s.contains("items")) << path;
  }
  for (const char* forbidden : {"allOf", "anyOf", "oneOf", "not", "$ref"})
    EXPECT_FALSE(s.contains(forbidden)) << path << " uses " << forbidden;
  if (s.contains("properties"))
    for (const auto& [k, v] : s["properties"].items())
      CheckStructural(v, path + "." + k, preserved);
  if (s.contains("items")) CheckStructural(s["items"], path + "[]", preserved);
}

TEST(Crd, NamesScopeSubresourcesAndColumns) {
  OrderedJson crd = GenerateCrd(ZooKeeperPackage());
  EXPECT_EQ(crd["apiVersion"], "apiextensions.k8s.io/v1");
  EXPECT_EQ(crd["metadata"]["name"], "zookeeperclusters.zkpilot.io");
  EXPECT_EQ(crd["metadata"]["annotations"]["zkpilot.io/package"], "zookeeper");
  EXPECT_EQ(crd["spec"]["group"], "zkpilot.io");
  EXPECT_EQ(crd["spec"]["scope"], "Namespaced");
  EXPECT_EQ(crd["spec"]["names"]["kind"], "ZooKeeperCluster");
  EXPECT_EQ(crd["spec"]["names"]["plural"], "zookeeperclusters");
  EXPECT_EQ(crd["spec"]["names"]["shortNames"], OrderedJson::array({"zkc"}));
  EXPECT_EQ(Version(crd)["name"], "v1alpha1");
  EXPECT_EQ(Version(crd)["served"], true);
  EXPECT_EQ(Version(crd)["storage"], true);
  EXPECT_EQ(Version(crd)["subresources"], OrderedJson({{"status", OrderedJson::object()}}));
  std::vector<std::string> columns, paths;
  for (const auto& c : Version(crd)["additionalPrinterColumns"])
    if (!c.contains("priority")) columns.push_back(c["name"]), paths.push_back(c["jsonPath"]);
  EXPECT_EQ(columns, (std::vector<std::string>{"Ready", "Replicas", "Leader", "Version", "Phase",
                                               "Operation", "Age"}));
  EXPECT_EQ(paths[0], ".status.ready");
  EXPECT_EQ(paths[3], ".status.currentVersion");
  EXPECT_EQ(paths[5], ".status.operation.type");
}

TEST(Crd, SchemaIsStructuralAndPreservesOnlyFreeFormParameters) {
  OrderedJson crd = GenerateCrd(ZooKeeperPackage());
  const OrderedJson& root = Root(crd);
  EXPECT_EQ(root["type"], "object");
  // metadata may only restrict the name.
  for (const auto& [k, v] : root["properties"]["metadata"]["properties"].items())
    EXPECT_EQ(k, "name");
  std::vector<std::string> preserved;
  CheckStructural(root, "", preserved);
  // auth.users is a `list` parameter: its items are checked by the platform
  // (platform/local/local_auth.h), not by the schema.
  std::vector<std::string> want = {
      ".spec.values.nodeSelector", ".spec.values.tolerations[]", ".spec.values.podAnnotations",
      ".spec.values.service.annotations", ".spec.values.auth.users[]", ".status.operation.steps[].args"};
  std::sort(want.begin(), want.end());
  std::sort(preserved.begin(), preserved.end());
  EXPECT_EQ(preserved, want);
}

TEST(Crd, EveryParameterIsTypedWithItsBoundsEnumPatternAndDescription) {
  const Package& pkg = ZooKeeperPackage();
  OrderedJson values = Values(GenerateCrd(pkg));
  for (const auto& p : pkg.schema.params) {
    const OrderedJson* node = &values;
    size_t start = 0;
    for (size_t dot; (dot = p.name.find('.', start)) != std::string::npos; start = dot + 1) {
      node = &(*node)["properties"][p.name.substr(start, dot - start)];
      ASSERT_EQ((*node)["type"], "object") << p.name;
    }
    const OrderedJson& s = (*node)["properties"][p.name.substr(start)];
    static const std::map<ParamType, std::string> kTypes = {
        {ParamType::kString, "string"}, {ParamType::kInteger, "integer"},
        {ParamType::kNumber, "number"}, {ParamType::kBoolean, "boolean"},
        {ParamType::kObject, "object"}, {ParamType::kList, "array"}};
    EXPECT_EQ(s["type"], kTypes.at(p.type)) << p.name;
    EXPECT_EQ(s["description"].get<std::string>().rfind(p.description, 0), 0u) << p.name;
    if (p.min) {
      EXPECT_EQ(s["minimum"].get<double>(), *p.min) << p.name;
    }
    if (p.max) {
      EXPECT_EQ(s["maximum"].get<double>(), *p.max) << p.name;
    }
    EXPECT_EQ(s.contains("enum"), !p.enum_values.empty()) << p.name;
    // A list's pattern is its items'.
    const OrderedJson& patterned = p.type == ParamType::kList ? s["items"] : s;
    EXPECT_EQ(patterned.contains("pattern"), !p.pattern.empty()) << p.name;
    if (p.type == ParamType::kList && !p.pattern.empty()) {
      EXPECT_EQ(s["items"]["type"], "string") << p.name;
    }
  }
  const OrderedJson& tick = values["properties"]["tickTime"];
  EXPECT_EQ(tick["minimum"], 100);
  EXPECT_TRUE(tick["minimum"].is_number_integer());
  EXPECT_EQ(tick["description"],
            "Basic time unit in milliseconds. (default: 2000; on change: a quorum-gated rolling "
            "restart, the leader last)");
  EXPECT_EQ(values["properties"]["version"]["enum"],
            OrderedJson::array({"3.8.0", "3.8.4", "3.9.3"}));
  EXPECT_EQ(values["properties"]["metrics"]["properties"]["enabled"]["type"], "boolean");
  EXPECT_EQ(
      values["properties"]["resources"]["properties"]["limits"]["properties"]["memory"]["type"],
      "string");
  EXPECT_EQ(values["properties"]["storage"]["properties"]["size"]["pattern"],
            "^(?:[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?)$");
  EXPECT_NE(
      values["properties"]["dataLogDir"]["description"].get<std::string>().find("(default: \"\";"),
      std::string::npos);
}

TEST(Crd, PatternsMatchTheWholeValueAsThePackageDoes) {
  // The CRD's pattern (searched) accepts exactly what the package's (whole
  // string) accepts; std::regex stands in for both engines here.
  const std::string package_pattern = "[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi)?";
  std::regex crd(*CrdPattern(package_pattern));
  std::regex whole(package_pattern);
  for (const char* v : {"8Gi", "1.5Mi", "10", "8Gix", "x8Gi", "", "Gi"})
    EXPECT_EQ(std::regex_search(v, crd), std::regex_match(v, whole)) << v;
  EXPECT_FALSE(CrdPattern("(?!tmp)/.*").has_value());
  EXPECT_FALSE(CrdPattern("(a)\\1").has_value());
  EXPECT_EQ(CrdPattern("a\\\\1"), "^(?:a\\\\1)$");  // an escaped backslash, then "1"
}

TEST(Crd, RequiredParametersAndTypedEnums) {
  auto files = testing::MinimalPackageFiles();
  std::string& params = files["parameters.yaml"];
  params.insert(params.find("constraints:"), R"(  - name: auth.secretName
    type: string
    required: true
    description: the Secret
  - name: weight
    type: integer
    default: 1
    enum: ["1", "3"]
    description: weight
  - name: ratio2
    type: number
    default: 0.5
    max: 0.75
    description: fraction
)");
  auto pkg = ParsePackage(files);
  ASSERT_TRUE(pkg.ok()) << pkg.status().message();
  OrderedJson crd = GenerateCrd(*pkg);
  const OrderedJson& values = Values(crd);
  EXPECT_EQ(values["required"], OrderedJson::array({"auth"}));
  EXPECT_EQ(values["properties"]["auth"]["required"], OrderedJson::array({"secretName"}));
  EXPECT_NE(values["properties"]["auth"]["properties"]["secretName"]["description"]
                .get<std::string>()
                .find("required"),
            std::string::npos);
  EXPECT_EQ(Root(crd)["properties"]["spec"]["required"], OrderedJson::array({"package", "values"}));
  EXPECT_EQ(values["properties"]["weight"]["enum"], OrderedJson::array({1, 3}));
  EXPECT_EQ(values["properties"]["ratio2"]["maximum"], 0.75);
  EXPECT_EQ(values["properties"]["labels"]["x-kubernetes-preserve-unknown-fields"], true);
}

TEST(Crd, StatusSchemaCoversEveryFieldTheOperatorWrites) {
  // Every key StatusToJson writes must be in the schema, or the API prunes it.
  ClusterStatus st;
  st.phase = ClusterPhase::kRunning;
  SetCondition(st.conditions, {kConditionReady, "True", "QuorumAvailable", "", 0, 1}, 1000);
  st.members.push_back({1, "leader", "3.8.0", "0x1", true, "p", "u", 0});
  ClusterOperation op{1, "deploy", 1, OperationStatus::kSucceeded, "", 1000, 2000, {}};
  op.steps.push_back({0, "start-node", "start", {{"node", 1}}, StepStatus::kDone, "", 1000, 2000});
  st.operation = op;
  RecordOperationHistory(st, op);
  OrderedJson schema = Root(GenerateCrd(ZooKeeperPackage()))["properties"]["status"];
  std::function<void(const nlohmann::json&, const OrderedJson&, const std::string&)> covered =
      [&](const nlohmann::json& value, const OrderedJson& s, const std::string& path) {
        if (s.value("x-kubernetes-preserve-unknown-fields", false)) return;
        if (value.is_object()) {
          for (const auto& [k, v] : value.items()) {
            ASSERT_TRUE(s.contains("properties") && s["properties"].contains(k))
                << path << "." << k << " not in schema";
            covered(v, s["properties"][k], path + "." + k);
          }
        } else if (value.is_array()) {
          for (const auto& v : value) covered(v, s["items"], path + "[]");
        }
      };
  covered(StatusToJson(st), schema, "status");
  covered(SpecToJson(ClusterSpec{}), Root(GenerateCrd(ZooKeeperPackage()))["properties"]["spec"],
          "spec");
}

}  // namespace
}  // namespace zkpilot
