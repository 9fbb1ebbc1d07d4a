#include "actions/operator_action.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "platform/kubernetes/operator.h"

namespace zkpilot {
namespace {

using std::chrono::milliseconds;

TEST(OperatorFlags, Durations) {
  const std::vector<std::pair<std::string, milliseconds>> good = {
      {"30s", milliseconds(30000)},  {"2m", milliseconds(120000)},   {"500ms", milliseconds(500)},
      {"1h", milliseconds(3600000)}, {"1m30s", milliseconds(90000)}, {"45", milliseconds(45000)},
      {"1.5s", milliseconds(1500)}};
  for (const auto& [text, want] : good) {
    auto d = ParseDurationFlag("--resync", text);
    ASSERT_TRUE(d.ok()) << text << ": " << d.status().message();
    EXPECT_EQ(*d, want) << text;
  }
  for (const std::string bad : {"", "0", "0s", "s", "30x", "-5s", "5 s", "1s2", "abc"}) {
    auto d = ParseDurationFlag("--resync", bad);
    ASSERT_FALSE(d.ok()) << "[" << bad << "]";
    EXPECT_EQ(d.status().code(), ErrorCode::kInvalidInput);
    EXPECT_NE(d.status().message().find("--resync"), std::string::npos);
  }
}

TEST(OperatorFlags, DefaultsAndLeaseNamespace) {
  KubeConnection connection;
  connection.default_namespace = "from-kubeconfig";
  ::unsetenv("POD_NAMESPACE");
  OperatorRequest request;
  auto config = MakeOperatorConfig(request, connection);
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(config->watch_namespace, "");
  EXPECT_EQ(config->resync, milliseconds(30000));
  ASSERT_TRUE(config->health.has_value());
  EXPECT_EQ(config->health->host, "0.0.0.0");
  EXPECT_EQ(config->health->port, 8081);
  EXPECT_FALSE(config->leader_elect);
  EXPECT_EQ(config->lease.name, "zkpilot-operator");
  EXPECT_EQ(config->lease.namespace_, "from-kubeconfig");
  EXPECT_EQ(config->lease.lease_duration, std::chrono::seconds(15));
  EXPECT_FALSE(config->lease.identity.empty());

  ::setenv("POD_NAMESPACE", "zkpilot-system", 1);
  config = MakeOperatorConfig(request, connection);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->lease.namespace_, "zkpilot-system");
  request.lease_namespace = "explicit";
  request.namespace_ = "team-a";
  request.health_addr = "off";
  request.identity = "replica-1";
  config = MakeOperatorConfig(request, connection);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->lease.namespace_, "explicit");
  EXPECT_EQ(config->watch_namespace, "team-a");
  EXPECT_FALSE(config->health.has_value());
  EXPECT_EQ(config->lease.identity, "replica-1");
  ::unsetenv("POD_NAMESPACE");
}

TEST(OperatorFlags, BadHealthAddressNamesTheFlag) {
  OperatorRequest request;
  for (const std::string bad : {"8081", "host:", ":99999", ":http"}) {
    request.health_addr = bad;
    auto config = MakeOperatorConfig(request, KubeConnection{});
    ASSERT_FALSE(config.ok()) << bad;
    EXPECT_EQ(config.status().code(), ErrorCode::kInvalidInput);
    EXPECT_NE(config.status().message().find("--health-addr"), std::string::npos);
  }
  request.health_addr = "127.0.0.1:0";
  auto config = MakeOperatorConfig(request, KubeConnection{});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->health->host, "127.0.0.1");
  EXPECT_EQ(config->health->port, 0);
}

// ---- the watch's filter

WatchEvent Event(const std::string& type, int64_t generation, bool deleting = false) {
  nlohmann::json object = {
      {"metadata", {{"name", "demo"}, {"namespace", "default"}, {"generation", generation}}}};
  if (deleting) object["metadata"]["deletionTimestamp"] = "2024-05-01T10:00:00Z";
  return WatchEvent{type, object};
}

TEST(OperatorWatch, OnlySpecChangesAndDeletionsAskForAReconcile) {
  const SeenCluster seen{3, false};
  EXPECT_TRUE(WantsReconcile(Event("ADDED", 3), seen));
  EXPECT_TRUE(WantsReconcile(Event("DELETED", 3), seen));
  EXPECT_FALSE(WantsReconcile(Event("MODIFIED", 3), seen)) << "a status write";
  EXPECT_TRUE(WantsReconcile(Event("MODIFIED", 4), seen)) << "a spec change";
  EXPECT_TRUE(WantsReconcile(Event("MODIFIED", 3, true), seen)) << "deletion starts";
  EXPECT_FALSE(WantsReconcile(Event("MODIFIED", 3, true), SeenCluster{3, true}))
      << "status writes while deleting";
  EXPECT_TRUE(WantsReconcile(Event("MODIFIED", 3), std::nullopt)) << "never seen";
  EXPECT_FALSE(WantsReconcile(Event("BOOKMARK", 9), seen));
}

TEST(OperatorWatch, Keys) {
  EXPECT_EQ(ClusterKey("ns", "demo"), "ns/demo");
  EXPECT_EQ(SplitClusterKey("ns/demo"), (std::pair<std::string, std::string>{"ns", "demo"}));
}

}  // namespace
}  // namespace zkpilot
