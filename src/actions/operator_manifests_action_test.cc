#include "actions/operator_manifests_action.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "util/files.h"
#include "util/yaml_json.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "zkpilot-manifests-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(OperatorManifestsAction, PrintsAYamlStreamInApplyOrder) {
  auto text = RunOperatorManifests({kPackage, {}, ""});
  ASSERT_TRUE(text.ok()) << text.status().message();
  std::vector<std::string> kinds;
  for (const auto& doc : YAML::LoadAll(*text)) kinds.push_back(doc["kind"].as<std::string>());
  EXPECT_EQ(kinds, (std::vector<std::string>{"CustomResourceDefinition", "Namespace",
                                             "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                                             "Role", "RoleBinding", "Deployment"}));
  // The CRD survives the emitter: the YAML reads back as the same object.
  YAML::Node crd = YAML::LoadAll(*text)[0];
  OrderedJson back = YamlToJson(crd);
  EXPECT_EQ(back["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
                ["properties"]["values"]["properties"]["tickTime"]["minimum"],
            100);
  EXPECT_EQ(back["spec"]["names"]["shortNames"][0], "zkc");
}

TEST(OperatorManifestsAction, WritesOneFilePerObject) {
  TempDir tmp;
  const std::string out = tmp.path() + "/manifests";
  OperatorManifestsRequest request{kPackage, {}, out};
  request.options.namespace_ = "ops";
  auto text = RunOperatorManifests(request);
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_EQ(*text, "");
  auto files = ListFilesRecursive(out);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 8u);
  EXPECT_EQ((*files)[0], "000-customresourcedefinition-zookeeperclusters.zkpilot.io.yaml");
  EXPECT_EQ((*files)[7], "007-deployment-zkpilot-operator.yaml");
  auto deployment = ReadFile(out + "/" + (*files)[7]);
  ASSERT_TRUE(deployment.ok());
  EXPECT_NE(deployment->find("namespace: ops"), std::string::npos);
}

TEST(OperatorManifestsAction, ErrorsLeaveNothingBehind) {
  TempDir tmp;
  const std::string out = tmp.path() + "/manifests";
  OperatorManifestsRequest bad_options{kPackage, {}, out};
  bad_options.options.replicas = 0;
  auto r = RunOperatorManifests(bad_options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ExitCodeFor(r.status()), 2);
  EXPECT_FALSE(fs::exists(out));

  auto missing = RunOperatorManifests({tmp.path() + "/no-such-package", {}, out});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(ExitCodeFor(missing.status()), 2);
  EXPECT_NE(missing.status().message().find("no-such-package"), std::string::npos);
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace zkpilot
