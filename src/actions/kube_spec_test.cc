#include "actions/kube_spec.h"

#include <gtest/gtest.h>

#include "../tests/test_package.h"
#include "actions/kube_writes.h"
#include "plan/change_planner.h"

namespace zkpilot {
namespace {

using nlohmann::json;

class KubeSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = ParsePackage(testing::MinimalPackageFiles());
    ASSERT_TRUE(p.ok()) << p.status().message();
    package_ = *p;
    current_.package = {"mini", "1.0.0", "zkpilot-pkg-mini-0123456789ab", std::string(64, 'a')};
    current_.values = {{"tickTime", 3000}, {"extra", {{"name", "x"}}}};
    current_.restart_request = "2024-05-01T10:00:00Z";
  }

  // The spec as the API would receive it.
  json Applied(const ClusterSpec& spec) { return ClusterApplyObject("demo", "prod", spec); }

  Package package_;
  ClusterSpec current_;
};

TEST_F(KubeSpecTest, ConfigureMergesSetsAndFilesIntoTheUsersValues) {
  SpecChange change;
  change.kind = KubeChangeKind::kConfigure;
  change.values.files = {{"more.yaml", "ratio: 0.75\nextra:\n  enabled: true\n"}};
  change.values.sets = {"tickTime=4000"};
  auto spec = ChangedSpec(package_, current_, change);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(
      spec->values,
      json::parse(R"({"tickTime": 4000, "ratio": 0.75, "extra": {"enabled": true, "name": "x"}})"));
  // Everything else the command line owns stays as it was.
  EXPECT_EQ(spec->package.config_map, current_.package.config_map);
  EXPECT_EQ(spec->restart_request, current_.restart_request);
  json object = Applied(*spec);
  EXPECT_EQ(object["apiVersion"], "zkpilot.io/v1alpha1");
  EXPECT_EQ(object["kind"], "ZooKeeperCluster");
  EXPECT_EQ(object["metadata"], json::parse(R"({"name": "demo", "namespace": "prod"})"));
  EXPECT_EQ(object["spec"]["values"]["tickTime"], 4000);
  EXPECT_EQ(object["spec"]["restartRequest"], "2024-05-01T10:00:00Z");
  EXPECT_EQ(object["spec"]["package"]["configMap"], "zkpilot-pkg-mini-0123456789ab");
  EXPECT_FALSE(object.contains("status"));
}

TEST_F(KubeSpecTest, ConfigureRefusesBadValuesNamingThem) {
  SpecChange change;
  change.kind = KubeChangeKind::kConfigure;
  EXPECT_EQ(ChangedSpec(package_, current_, change).status().code(), ErrorCode::kInvalidInput);
  change.values.sets = {"tickTime=abc"};
  auto spec = ChangedSpec(package_, current_, change);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), ErrorCode::kInvalidInput);
  EXPECT_NE(spec.status().message().find("tickTime"), std::string::npos) << spec.status().message();
  EXPECT_EQ(spec.status().message().rfind("configure: ", 0), 0u) << spec.status().message();
  change.values.sets = {"nosuch=1"};
  EXPECT_EQ(ChangedSpec(package_, current_, change).status().code(), ErrorCode::kInvalidInput);
}

TEST_F(KubeSpecTest, UpgradeSetsTheVersionParameterOnly) {
  SpecChange change;
  change.kind = KubeChangeKind::kUpgrade;
  change.version = "3.9.3";
  auto spec = ChangedSpec(package_, current_, change);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->values,
            json::parse(R"({"tickTime": 3000, "version": "3.9.3", "extra": {"name": "x"}})"));
  change.version = "4.0.0";  // not in the parameter's enum
  EXPECT_EQ(ChangedSpec(package_, current_, change).status().code(), ErrorCode::kInvalidInput);
}

TEST_F(KubeSpecTest, ScaleSetsReplicas) {
  SpecChange change;
  change.kind = KubeChangeKind::kScale;
  change.replicas = 5;
  auto spec = ChangedSpec(package_, current_, change);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->values["replicas"], 5);
  EXPECT_EQ(spec->values["tickTime"], 3000);
  change.replicas = 10;  // above the parameter's maximum
  EXPECT_EQ(ChangedSpec(package_, current_, change).status().code(), ErrorCode::kInvalidInput);
}

TEST_F(KubeSpecTest, RestartAsksWithANewRequestAndKeepsTheValues) {
  SpecChange change;
  change.kind = KubeChangeKind::kRestart;
  change.restart_request = "2024-05-02T08:00:00.123Z";
  auto spec = ChangedSpec(package_, current_, change);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->restart_request, "2024-05-02T08:00:00.123Z");
  EXPECT_EQ(spec->values, current_.values);
  EXPECT_EQ(Applied(*spec)["spec"]["restartRequest"], "2024-05-02T08:00:00.123Z");
}

TEST_F(KubeSpecTest, RollbackTakesTheRevisionsValuesKeepingOnlyWhatIsNotADefault) {
  auto revision = RevisionValues(package_.schema,
                                 R"({"replicas":3,"version":"3.8.0","tickTime":2500,"ratio":0.5,
                                 "clientPort":2181,"quorumPort":2888,"controller":"statefulset","dataDir":"/data",
                                 "labels":{},"extra.enabled":true,"extra.name":""})",
                                 2);
  ASSERT_TRUE(revision.ok()) << revision.status().message();
  SpecChange change;
  change.kind = KubeChangeKind::kRollback;
  change.revision_values = revision->Flat();
  auto spec = ChangedSpec(package_, current_, change);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->values, json::parse(R"({"tickTime": 2500, "extra": {"enabled": true}})"));
  // Resolved again (as the operator does), they are the revision's values.
  auto resolved = ResolveSpecValues(package_.schema, spec->values);
  ASSERT_TRUE(resolved.ok());
  EXPECT_TRUE(DiffValues(package_, *revision, *resolved).Empty());
}

TEST_F(KubeSpecTest, UserValuesAreWhatDidNotComeFromTheDefaults) {
  ValuesInput in;
  in.files = {{"values.yaml", "replicas: 5\nextra:\n  name: z\n"}};
  in.sets = {"tickTime=2000"};  // equal to the default, but set by the user
  auto values = ResolveValues(package_.schema, in);
  ASSERT_TRUE(values.ok()) << values.status().message();
  EXPECT_EQ(UserValues(*values),
            json::parse(R"({"replicas": 5, "tickTime": 2000, "extra": {"name": "z"}})"));
}

TEST(KubeWrites, DroppedFieldsNamesWhatTheApiPruned) {
  json sent = json::parse(
      R"({"tickTime": 3000, "metrics": {"enabled": true, "port": 7000}, "labels": {"a": "b"}})");
  json stored =
      json::parse(R"({"tickTime": 3000, "metrics": {"enabled": true}, "labels": {"a": "b"}})");
  EXPECT_EQ(DroppedFields(sent, stored, "spec.values"),
            std::vector<std::string>{"spec.values.metrics.port"});
  EXPECT_TRUE(DroppedFields(sent, sent, "spec.values").empty());
  EXPECT_EQ(DroppedFields(sent, json(), "spec.values").size(), 3u);
}

TEST(KubeWrites, TheOperatorMissingMessageCarriesTheCommand) {
  OperatorPresence none;
  Status s = OperatorMissing(none, "zkpilot-system", "packages/zookeeper");
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_NE(
      s.message().find("not installed in this cluster (the CustomResourceDefinition "
                       "zookeeperclusters.zkpilot.io "
                       "is missing; the Deployment zkpilot-system/zkpilot-operator is missing)"),
      std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find(
                "zkpilot operator manifests packages/zookeeper | kubectl apply --server-side -f -"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("--install-operator"), std::string::npos);
}

}  // namespace
}  // namespace zkpilot
