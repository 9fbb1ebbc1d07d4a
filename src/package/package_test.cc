#include "package/package_loader.h"

#include <gtest/gtest.h>

#include "../../tests/test_package.h"

namespace zkpilot {
namespace {

using testing::MinimalPackageFiles;

TEST(PackageParser, ParsesMetadataSchemaFilesAndTemplates) {
  auto pkg = ParsePackage(MinimalPackageFiles());
  ASSERT_TRUE(pkg.ok()) << pkg.status().message();
  EXPECT_EQ(pkg->name, "mini");
  EXPECT_EQ(pkg->version, "1.0.0");
  ASSERT_EQ(pkg->versions.size(), 2u);
  EXPECT_EQ(pkg->versions[0].image, "zookeeper:3.8.0");
  EXPECT_EQ(pkg->versions[0].distribution, "debian-3.8.0");
  const ParamSpec* replicas = pkg->schema.Find("replicas");
  ASSERT_NE(replicas, nullptr);
  EXPECT_EQ(replicas->type, ParamType::kInteger);
  EXPECT_EQ(replicas->default_value, 3);
  EXPECT_EQ(*replicas->min, 1);
  EXPECT_EQ(replicas->change, ChangePolicy::kReconfig);
  EXPECT_EQ(pkg->schema.Find("controller")->change, ChangePolicy::kImmutable);
  EXPECT_EQ(pkg->schema.Find("tickTime")->change, ChangePolicy::kRolling) << "rolling is the default";
  ASSERT_EQ(pkg->schema.constraints.size(), 1u);
  ASSERT_EQ(pkg->templates.size(), 3u);
  EXPECT_EQ(pkg->templates[0].path, "templates/config.yaml");
  EXPECT_EQ(pkg->templates[1].scope, TemplateScope::kNode);
  EXPECT_EQ(pkg->templates[2].addon, "extra");
  ASSERT_EQ(pkg->files.size(), 1u);
  EXPECT_TRUE(pkg->files[0].is_template);
  EXPECT_NE(pkg->files[0].content.find("tickTime"), std::string::npos);
}

TEST(PackageParser, UpgradePathsMatchPrefixesAndExactVersions) {
  auto pkg = ParsePackage(MinimalPackageFiles());
  ASSERT_TRUE(pkg.ok());
  EXPECT_TRUE(pkg->UpgradeAllowed("3.8.0", "3.9.3"));
  EXPECT_TRUE(pkg->UpgradeAllowed("3.9.3", "3.9.3")) << "same version is no switch";
  EXPECT_FALSE(pkg->UpgradeAllowed("3.9.3", "3.8.0")) << "no path back in the mini package";
  EXPECT_FALSE(pkg->UpgradeAllowed("3.80.1", "3.9.3")) << "3.8.* must not match 3.80.1";
}

TEST(PackageParser, LoadsTheDefaultPackage) {
  auto pkg = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
  ASSERT_TRUE(pkg.ok()) << pkg.status().message();
  for (const char* name : {"replicas", "clientPort", "dataDir", "version", "controller", "zoonavigator.enabled",
                           "prometheus.enabled", "alertmanager.enabled", "grafana.enabled", "alerts.enabled",
                           "tickTime", "initLimit", "syncLimit", "maxClientCnxns", "autopurge.purgeInterval",
                           "heapSize", "storage.size", "storage.storageClass", "resources.requests.memory"}) {
    EXPECT_NE(pkg->schema.Find(name), nullptr) << name;
  }
  EXPECT_EQ(pkg->schema.Find("replicas")->default_value, 3);
  EXPECT_EQ(pkg->schema.Find("clientPort")->default_value, 2181);
  EXPECT_EQ(pkg->schema.Find("controller")->default_value, "statefulset");
  bool has_38 = false, has_39 = false;
  for (const auto& v : pkg->versions) {
    has_38 = has_38 || v.version.rfind("3.8.", 0) == 0;
    has_39 = has_39 || v.version.rfind("3.9.", 0) == 0;
    EXPECT_EQ(v.image.rfind("zookeeper:", 0), 0u) << "official image for " << v.version;
  }
  EXPECT_TRUE(has_38 && has_39);
  EXPECT_TRUE(pkg->UpgradeAllowed("3.8.0", "3.9.3"));
  EXPECT_TRUE(pkg->UpgradeAllowed("3.9.3", "3.8.0")) << "rollback path";
  // Every lifecycle event has hooks.
  for (HookEvent e : {HookEvent::kDeploy, HookEvent::kUpgrade, HookEvent::kScale, HookEvent::kDelete}) {
    bool found = false;
    for (const auto& h : pkg->hooks) found = found || h.event == e;
    EXPECT_TRUE(found) << HookEventName(e);
  }
  EXPECT_EQ(pkg->addons.size(), 4u);
}

struct BrokenPackageCase {
  std::string name;
  std::string file;
  std::string content;    // replaces the file; "<delete>" removes it
  std::string expected;   // substring of the error
};
void PrintTo(const BrokenPackageCase& c, std::ostream* os) { *os << c.name; }


class BrokenPackage : public ::testing::TestWithParam<BrokenPackageCase> {};

TEST_P(BrokenPackage, IsRejectedWithFileAndReason) {
  const auto& c = GetParam();
  PackageFiles files = MinimalPackageFiles();
  if (c.content == "<delete>") files.erase(c.file);
  else files[c.file] = c.content;
  auto pkg = ParsePackage(files);
  ASSERT_FALSE(pkg.ok());
  EXPECT_EQ(pkg.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(pkg.status().message().find(c.expected), std::string::npos) << pkg.status().message();
}

std::string Meta(const std::string& replace_from, const std::string& replace_to) {
  std::string m = MinimalPackageFiles()["package.yaml"];
  auto pos = m.find(replace_from);
  if (pos != std::string::npos) m.replace(pos, replace_from.size(), replace_to);
  return m;
}
std::string Params(const std::string& replace_from, const std::string& replace_to) {
  std::string m = MinimalPackageFiles()["parameters.yaml"];
  auto pos = m.find(replace_from);
  if (pos != std::string::npos) m.replace(pos, replace_from.size(), replace_to);
  return m;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BrokenPackage,
    ::testing::Values(
        BrokenPackageCase{"NoMetadata", "package.yaml", "<delete>", "package.yaml: missing"},
        BrokenPackageCase{"NoSchema", "parameters.yaml", "<delete>", "parameters.yaml: missing"},
        BrokenPackageCase{"MetadataNotYaml", "package.yaml", "name: [unclosed", "package.yaml:1"},
        BrokenPackageCase{"MetadataNotAMap", "package.yaml", "- a\n- b\n", "must be a YAML map"},
        BrokenPackageCase{"WrongApiVersion", "package.yaml", Meta("zkpilot.io/v1", "zkpilot.io/v9"), "apiVersion"},
        BrokenPackageCase{"MissingName", "package.yaml", Meta("name: mini\n", ""), "\"name\""},
        BrokenPackageCase{"TypoKey", "package.yaml", Meta("versions:", "verions: []\nversions:"), "unknown key \"verions\""},
        BrokenPackageCase{"NoVersions", "package.yaml", Meta("versions:", "versions: []\nold:"), "unknown key"},
        BrokenPackageCase{"VersionWithoutImage", "package.yaml", Meta("    image: zookeeper:3.9.3\n", ""), "version 3.9.3"},
        BrokenPackageCase{"MissingDeclaredFile", "config/zoo.cfg.mustache", "<delete>", "does not exist in the package"},
        BrokenPackageCase{"AddonEnabledByUnknown", "package.yaml", Meta("enabledBy: extra.enabled", "enabledBy: nope"), "add-on extra"},
        BrokenPackageCase{"UnknownType", "parameters.yaml", Params("type: number", "type: float"), "unknown type \"float\""},
        BrokenPackageCase{"DefaultOutOfBounds", "parameters.yaml", Params("default: 3\n", "default: 30\n"), "parameters.yaml:4: parameter replicas: default 30 is above the maximum 9"},
        BrokenPackageCase{"NewClusterDefaultOutOfBounds", "parameters.yaml", Params("default: 3\n", "default: 3\n    newClusterDefault: 11\n"), "parameter replicas: newClusterDefault 11 is above the maximum 9"},
        BrokenPackageCase{"NewClusterPlatformUnknown", "parameters.yaml", Params("default: 3\n", "default: 3\n    newClusterDefault: 5\n    newClusterPlatforms: [local, nomad]\n"), "newClusterPlatforms: unknown platform \"nomad\" (local, kubernetes)"},
        BrokenPackageCase{"NewClusterPlatformsAlone", "parameters.yaml", Params("default: 3\n", "default: 3\n    newClusterPlatforms: [local]\n"), "newClusterPlatforms needs a newClusterDefault"},
        BrokenPackageCase{"BadChange", "parameters.yaml", Params("change: reconfig", "change: sometimes"), "change must be"},
        BrokenPackageCase{"BadPattern", "parameters.yaml", Params("pattern: \"/.*\"", "pattern: \"([\""), "not a valid regular expression"},
        BrokenPackageCase{"VersionEnumMismatch", "parameters.yaml", Params("enum: [\"3.8.0\", \"3.9.3\"]", "enum: [\"3.8.0\"]"), "enum must list exactly the versions"},
        BrokenPackageCase{"ConstraintUnknownParam", "parameters.yaml", Params("distinct: [clientPort, quorumPort]", "distinct: [clientPort, nope]"), "unknown parameter nope"},
        BrokenPackageCase{"ParentAndChild", "parameters.yaml", Params("  - name: tickTime", "  - name: extra\n    type: string\n    default: x\n  - name: tickTime"), "also the parent of"},
        BrokenPackageCase{"UnknownHookEvent", "hooks.yaml", "hooks:\n  install:\n    init: []\n", "unknown hook event \"install\""},
        BrokenPackageCase{"UnknownHookAction", "hooks.yaml", "hooks:\n  deploy:\n    init:\n      - name: x\n        action: format-disk\n", "unknown action \"format-disk\""},
        BrokenPackageCase{"HookMissingArgument", "hooks.yaml", "hooks:\n  deploy:\n    init:\n      - name: base\n        action: create-znode\n", "needs \"path\""},
        BrokenPackageCase{"HookRetainTooSmall", "hooks.yaml", "hooks:\n  upgrade:\n    cleanup:\n      - name: p\n        action: purge-snapshots\n        retain: 1\n", "retain must be an integer >= 3"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace zkpilot
