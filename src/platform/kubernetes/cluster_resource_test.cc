#include "platform/kubernetes/cluster_resource.h"

#include <gtest/gtest.h>

#include "package/package_loader.h"

namespace zkpilot {
namespace {

using nlohmann::json;

constexpr int64_t kMay1 = 1714564800000;  // 2024-05-01T12:00:00Z

const Package& ZooKeeperPackage() {
  static const Package pkg = [] {
    auto p = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
    EXPECT_TRUE(p.ok()) << p.status().message();
    return p.ok() ? *p : Package{};
  }();
  return pkg;
}

ClusterStatus FullStatus() {
  ClusterStatus st;
  st.observed_generation = 4;
  st.phase = ClusterPhase::kUpdating;
  SetCondition(st.conditions, {kConditionReady, "True", "QuorumAvailable", "3/3", 0, 4}, kMay1);
  SetCondition(st.conditions, {kConditionProgressing, "True", "Upgrading", "server 2", 0, 4},
               kMay1 + 5000);
  st.current_revision = 2;
  st.current_version = "3.8.0";
  st.target_version = "3.9.3";
  st.replicas = 3;
  st.ready_replicas = 2;
  st.leader = 3;
  st.members = {{1, "follower", "3.9.3", "0x200000001", true, "demo-1-0", "u1", 0},
                {2, "", "3.8.0", "", false, "demo-2-0", "u2", 1},
                {3, "leader", "3.8.0", "0x200000001", true, "demo-3-0", "u3", 0}};
  st.last_restart_request = "r1";
  ClusterOperation op{7, "upgrade", 3, OperationStatus::kRunning, "", kMay1 + 1000, 0, {}};
  op.steps = {
      {0,
       "restart-node",
       "restart server 1",
       {{"node", 1}, {"generation", 2}},
       StepStatus::kDone,
       "ok",
       kMay1 + 1000,
       kMay1 + 2500},
      {1,
       "restart-node",
       "restart server 2",
       {{"node", 2}},
       StepStatus::kRunning,
       "",
       kMay1 + 2500,
       0},
      {2, "restart-node", "restart server 3", {{"node", 3}}, StepStatus::kPending, "", 0, 0}};
  st.operation = op;
  RecordOperationHistory(
      st, {6, "deploy", 2, OperationStatus::kSucceeded, "", kMay1 - 9000, kMay1 - 1000, {}});
  RecordOperationHistory(st, op);
  return st;
}

TEST(KubeTime, FormatsWholeSecondsAndMilliseconds) {
  EXPECT_EQ(FormatKubeTime(kMay1), "2024-05-01T12:00:00Z");
  EXPECT_EQ(FormatKubeTime(kMay1 + 42), "2024-05-01T12:00:00.042Z");
  EXPECT_EQ(FormatKubeTime(0), "1970-01-01T00:00:00Z");
}

TEST(KubeTime, ParsesRfc3339WithFractionsAndOffsets) {
  EXPECT_EQ(*ParseKubeTime("2024-05-01T12:00:00Z"), kMay1);
  EXPECT_EQ(*ParseKubeTime("2024-05-01T12:00:00.042Z"), kMay1 + 42);
  EXPECT_EQ(*ParseKubeTime("2024-05-01T12:00:00.042123456Z"), kMay1 + 42);
  EXPECT_EQ(*ParseKubeTime("2024-05-01T14:00:00+02:00"), kMay1);
  EXPECT_EQ(*ParseKubeTime(FormatKubeTime(kMay1 + 999)), kMay1 + 999);
  for (const char* bad : {"", "2024-05-01", "2024-05-01T12:00:00", "2024-13-01T12:00:00Z",
                          "2024-05-01T12:00:00Zx", "2024-05-01 12:00:00Z", "2024-05-01T12:00:00.Z"})
    EXPECT_FALSE(ParseKubeTime(bad).ok()) << bad;
}

TEST(ClusterSpec, RoundTripsThroughJson) {
  ClusterSpec spec;
  spec.package = {"zookeeper", "0.1.0", "zkpilot-pkg-zookeeper-0123456789ab", std::string(64, 'a')};
  spec.values = {{"replicas", 5}, {"metrics", {{"enabled", true}}}};
  spec.restart_request = "2024-05-01";
  spec.purge_data_on_delete = true;
  json j = SpecToJson(spec);
  EXPECT_EQ(j["package"]["configMap"], "zkpilot-pkg-zookeeper-0123456789ab");
  EXPECT_EQ(j["purgeDataOnDelete"], true);
  auto back = SpecFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(SpecToJson(*back), j);
}

TEST(ClusterSpec, ErrorsNameTheField) {
  auto r = SpecFromJson({{"package", {{"hash", 12}}}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(r.status().message(), "spec.package.hash: expected a string, got 12");
  EXPECT_FALSE(SpecFromJson({{"values", json::array()}}).ok());
  EXPECT_FALSE(SpecFromJson({{"purgeDataOnDelete", "yes"}}).ok());
}

TEST(ClusterStatus, RoundTripsEveryField) {
  json j = StatusToJson(FullStatus());
  EXPECT_EQ(j["ready"], "2/3");
  EXPECT_EQ(j["phase"], "Updating");
  EXPECT_EQ(j["operation"]["phase"], "Running");
  EXPECT_FALSE(j["operation"].contains("finishedAt"));
  EXPECT_EQ(j["operation"]["steps"][0]["finishedAt"], "2024-05-01T12:00:02.500Z");
  EXPECT_EQ(j["operation"]["steps"][1]["status"], "running");
  EXPECT_EQ(j["conditions"][1]["lastTransitionTime"], "2024-05-01T12:00:05Z");
  EXPECT_EQ(j["members"][1]["podUID"], "u2");
  ASSERT_EQ(j["operations"].size(), 2u);
  EXPECT_FALSE(j["operations"][1].contains("steps"));
  auto back = StatusFromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(StatusToJson(*back), j);
  EXPECT_EQ(back->operation->steps[0].args["generation"], 2);
}

TEST(ClusterStatus, EmptyStatusIsANewCluster) {
  auto st = StatusFromJson(json());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->phase, ClusterPhase::kNone);
  EXPECT_FALSE(st->operation.has_value());
  json j = StatusToJson(*st);
  EXPECT_FALSE(j.contains("phase"));
  EXPECT_EQ(j["ready"], "0/0");
}

TEST(ClusterStatus, ErrorsNameTheField) {
  json j = StatusToJson(FullStatus());
  j["members"][1]["id"] = "two";
  auto r = StatusFromJson(j);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "status.members[1].id: expected an integer, got \"two\"");
  j = StatusToJson(FullStatus());
  j["operation"]["steps"][2]["status"] = "paused";
  EXPECT_EQ(StatusFromJson(j).status().message(),
            "status.operation.steps[2].status: unknown step status \"paused\"");
  j = StatusToJson(FullStatus());
  j["phase"] = "Sleeping";
  EXPECT_FALSE(StatusFromJson(j).ok());
  j = StatusToJson(FullStatus());
  j["conditions"][0]["lastTransitionTime"] = "yesterday";
  EXPECT_NE(StatusFromJson(j).status().message().find("status.conditions[0].lastTransitionTime"),
            std::string::npos);
}

TEST(ZooKeeperCluster, ParsesAnObjectFromTheApi) {
  json object = {{"apiVersion", kClusterApiVersion},
                 {"kind", kClusterKind},
                 {"metadata",
                  {{"name", "demo"},
                   {"namespace", "prod"},
                   {"uid", "abc"},
                   {"generation", 3},
                   {"finalizers", {kClusterFinalizer}},
                   {"deletionTimestamp", "2024-05-01T12:00:00Z"}}},
                 {"spec", SpecToJson(ClusterSpec{})},
                 {"status", StatusToJson(FullStatus())}};
  auto c = ClusterFromJson(object);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->Name(), "demo");
  EXPECT_EQ(c->Namespace(), "prod");
  EXPECT_EQ(c->Uid(), "abc");
  EXPECT_EQ(c->Generation(), 3);
  EXPECT_TRUE(c->Deleting());
  EXPECT_TRUE(c->HasFinalizer(kClusterFinalizer));
  EXPECT_FALSE(c->HasFinalizer("other"));
  EXPECT_EQ(ClusterToJson(*c), object);
  object["kind"] = "ConfigMap";
  EXPECT_FALSE(ClusterFromJson(object).ok());
}

TEST(ZooKeeperCluster, ApplyObjectHasNoStatus) {
  json o = ClusterApplyObject("demo", "prod", ClusterSpec{});
  EXPECT_EQ(o["apiVersion"], "zkpilot.io/v1alpha1");
  EXPECT_EQ(o["metadata"], json({{"name", "demo"}, {"namespace", "prod"}}));
  EXPECT_FALSE(o.contains("status"));
}

TEST(Conditions, TransitionTimeMovesOnlyWhenTheStatusChanges) {
  std::vector<ClusterCondition> cs;
  EXPECT_TRUE(SetCondition(cs, {kConditionReady, "False", "NoQuorum", "1 of 3", 0, 1}, kMay1));
  EXPECT_EQ(cs[0].last_transition_time, kMay1);
  EXPECT_FALSE(
      SetCondition(cs, {kConditionReady, "False", "NoQuorum", "1 of 3", 0, 1}, kMay1 + 1000));
  EXPECT_TRUE(
      SetCondition(cs, {kConditionReady, "False", "NoQuorum", "2 of 3", 0, 1}, kMay1 + 2000));
  EXPECT_EQ(cs[0].last_transition_time, kMay1);
  EXPECT_TRUE(
      SetCondition(cs, {kConditionReady, "True", "QuorumAvailable", "", 0, 2}, kMay1 + 3000));
  EXPECT_EQ(cs[0].last_transition_time, kMay1 + 3000);
  EXPECT_TRUE(
      SetCondition(cs, {kConditionDegraded, "False", "AllServersReady", "", 0, 2}, kMay1 + 4000));
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_TRUE(IsConditionTrue(cs, kConditionReady));
  EXPECT_FALSE(IsConditionTrue(cs, kConditionDegraded));
  EXPECT_FALSE(IsConditionTrue(cs, kConditionValid));
  EXPECT_EQ(FindCondition(cs, kConditionDegraded)->reason, "AllServersReady");
  EXPECT_TRUE(RemoveCondition(cs, kConditionDegraded));
  EXPECT_FALSE(RemoveCondition(cs, kConditionDegraded));
  EXPECT_EQ(FindCondition(cs, kConditionDegraded), nullptr);
}

TEST(SpecValues, NestedAndFlatAreTheSameValues) {
  const Schema& schema = ZooKeeperPackage().schema;
  json nested = {{"replicas", 5},
                 {"metrics", {{"enabled", false}}},
                 {"resources", {{"limits", {{"memory", "2Gi"}}}}},
                 {"nodeSelector", {{"disk", "ssd"}, {"zone", {{"nested", "kept as is"}}}}},
                 {"tolerations", json::array({{{"key", "dedicated"}, {"operator", "Exists"}}})}};
  auto flat = FlattenValues(schema, nested);
  ASSERT_TRUE(flat.ok()) << flat.status().message();
  EXPECT_EQ(flat->size(), 5u);
  EXPECT_EQ(flat->at("metrics.enabled"), false);
  EXPECT_EQ(flat->at("resources.limits.memory"), "2Gi");
  EXPECT_EQ(flat->at("nodeSelector")["zone"]["nested"], "kept as is");
  EXPECT_TRUE(flat->at("tolerations").is_array());
  EXPECT_EQ(NestValues(*flat), nested);
}

TEST(SpecValues, DefaultsRoundTrip) {
  const Schema& schema = ZooKeeperPackage().schema;
  std::map<std::string, json> defaults;
  for (const auto& p : schema.params) defaults[p.name] = p.default_value;
  json nested = NestValues(defaults);
  EXPECT_TRUE(nested["autopurge"].is_object());
  EXPECT_EQ(nested["tolerations"], json::array());
  EXPECT_EQ(nested["nodeSelector"], json::object());
  auto flat = FlattenValues(schema, nested);
  ASSERT_TRUE(flat.ok()) << flat.status().message();
  EXPECT_EQ(*flat, defaults);
  auto resolved = ResolveSpecValues(schema, nested);
  ASSERT_TRUE(resolved.ok()) << resolved.status().message();
  EXPECT_EQ(resolved->Flat(), defaults);
}

TEST(SpecValues, ErrorsNameThePathInTheResource) {
  const Schema& schema = ZooKeeperPackage().schema;
  struct Case {
    json nested;
    std::string message;
  } cases[] = {
      {{{"tickTime", 50}}, "spec.values.tickTime: 50 is below the minimum 100"},
      {{{"metrics", {{"enabld", true}}}},
       "spec.values.metrics.enabld: unknown parameter metrics.enabld"},
      {{{"resources", "big"}},
       "spec.values.resources: expected an object (it holds the parameters resources.*)"},
      {{{"replicas", "3"}}, "spec.values.replicas: expected integer, got string \"3\""},
      {{{"version", "3.7.0"}}, "spec.values.version: \"3.7.0\" is not one of"},
      {{{"nodeSelector", json::array()}}, "spec.values.nodeSelector: expected object"},
  };
  for (const auto& c : cases) {
    auto r = FlattenValues(schema, c.nested);
    ASSERT_FALSE(r.ok()) << c.nested.dump();
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidInput);
    EXPECT_EQ(r.status().message().rfind(c.message, 0), 0u) << r.status().message();
  }
  EXPECT_FALSE(FlattenValues(schema, json::array()).ok());
}

TEST(SpecValues, ResolveAppliesDefaultsAndConstraints) {
  const Schema& schema = ZooKeeperPackage().schema;
  auto v = ResolveSpecValues(schema, {{"replicas", 5}, {"metrics", {{"enabled", true}}}});
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->Get("replicas"), 5);
  EXPECT_EQ(v->Origin("replicas"), "spec.values");
  EXPECT_EQ(v->Get("tickTime"), 2000);
  EXPECT_EQ(v->Origin("tickTime"), "default");
  auto bad =
      ResolveSpecValues(schema, {{"minSessionTimeout", 50000}, {"maxSessionTimeout", 40000}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("minSessionTimeout (from spec.values)"), std::string::npos)
      << bad.status().message();
  // A null value is as if absent: the default applies.
  auto null_value = ResolveSpecValues(schema, {{"tickTime", nullptr}});
  ASSERT_TRUE(null_value.ok());
  EXPECT_EQ(null_value->Get("tickTime"), 2000);
}

RevisionRecord SampleRevision() {
  RevisionRecord r;
  r.cluster = "demo";
  r.revision = 3;
  r.operation = "upgrade";
  r.values_json = R"({"replicas":3,"version":"3.9.3"})";
  r.package_version = "0.1.0";
  r.zk_version = "3.9.3";
  r.status = RevisionStatus::kFailed;
  r.message = "server 2 did not come back";
  r.started_at = kMay1;
  r.finished_at = kMay1 + 61000;
  return r;
}

TEST(Revisions, ControllerRevisionRoundTrip) {
  auto object = RevisionToControllerRevision(SampleRevision(), {"demo", "prod", "uid-1"});
  ASSERT_TRUE(object.ok()) << object.status().message();
  const json& o = *object;
  EXPECT_EQ(o["metadata"]["name"], "demo-r3");
  EXPECT_EQ(o["metadata"]["namespace"], "prod");
  EXPECT_EQ(o["revision"], 3);
  EXPECT_EQ(o["data"]["values"]["version"], "3.9.3");
  EXPECT_EQ(o["data"]["startedAt"], "2024-05-01T12:00:00Z");
  EXPECT_EQ(o["metadata"]["labels"][kLabelCluster], "demo");
  EXPECT_EQ(o["metadata"]["labels"][kLabelInstance], "demo");
  EXPECT_EQ(o["metadata"]["labels"][kLabelManagedBy], "zkpilot");
  EXPECT_EQ(o["metadata"]["labels"][kLabelRevision], "3");
  EXPECT_EQ(o["metadata"]["annotations"][kAnnotationRevisionStatus], "failed");
  EXPECT_EQ(o["metadata"]["annotations"][kAnnotationFinishedAt], "2024-05-01T12:01:01Z");
  const json& owner = o["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "ZooKeeperCluster");
  EXPECT_EQ(owner["uid"], "uid-1");
  EXPECT_EQ(owner["controller"], true);

  auto back = RevisionFromControllerRevision(o);
  ASSERT_TRUE(back.ok()) << back.status().message();
  RevisionRecord want = SampleRevision();
  EXPECT_EQ(back->cluster, want.cluster);
  EXPECT_EQ(back->revision, want.revision);
  EXPECT_EQ(back->operation, want.operation);
  EXPECT_EQ(json::parse(back->values_json), json::parse(want.values_json));
  EXPECT_EQ(back->package_version, want.package_version);
  EXPECT_EQ(back->zk_version, want.zk_version);
  EXPECT_EQ(back->status, want.status);
  EXPECT_EQ(back->message, want.message);
  EXPECT_EQ(back->started_at, want.started_at);
  EXPECT_EQ(back->finished_at, want.finished_at);
}

TEST(Revisions, OutcomeLivesInAnnotations) {
  RevisionRecord pending = SampleRevision();
  pending.status = RevisionStatus::kPending;
  pending.message.clear();
  pending.finished_at = 0;
  json o = *RevisionToControllerRevision(pending, {"demo", "prod", ""});
  EXPECT_FALSE(o["metadata"].contains("ownerReferences"));
  EXPECT_FALSE(o["metadata"]["annotations"].contains(kAnnotationFinishedAt));
  json patch = RevisionOutcomePatch(RevisionStatus::kDeployed, "ok", kMay1 + 5000);
  o["metadata"]["annotations"].update(patch["metadata"]["annotations"]);
  EXPECT_FALSE(patch.contains("data"));  // data is immutable
  auto back = RevisionFromControllerRevision(o);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->status, RevisionStatus::kDeployed);
  EXPECT_EQ(back->message, "ok");
  EXPECT_EQ(back->finished_at, kMay1 + 5000);
}

TEST(Revisions, ForeignObjectsAreRefused) {
  json o = *RevisionToControllerRevision(SampleRevision(), {"demo", "prod", "u"});
  json no_label = o;
  no_label["metadata"]["labels"].erase(kLabelCluster);
  EXPECT_FALSE(RevisionFromControllerRevision(no_label).ok());
  json bad_status = o;
  bad_status["metadata"]["annotations"][kAnnotationRevisionStatus] = "weird";
  EXPECT_FALSE(RevisionFromControllerRevision(bad_status).ok());
  RevisionRecord bad_values = SampleRevision();
  bad_values.values_json = "[1]";
  EXPECT_FALSE(RevisionToControllerRevision(bad_values, {}).ok());
  EXPECT_EQ(RevisionLabelSelector("demo"), "zkpilot.io/cluster=demo,zkpilot.io/revision");
  EXPECT_EQ(ControllerRevisionName("demo", 12), "demo-r12");
}

TEST(Operations, JournalRecordsRoundTripThroughStatus) {
  OperationRecord op;
  op.id = 9;
  op.cluster = "demo";
  op.revision = 4;
  op.type = "configure";
  op.status = OperationStatus::kFailed;
  op.error = "step 2 failed";
  op.started_at = kMay1;
  op.finished_at = kMay1 + 7000;
  // The journal's form of a step (plan/plan.h Step::ToJson).
  json wait = {
      {"kind", "wait-healthy"}, {"args", json::object()}, {"description", "wait until healthy"}};
  json restart = {{"kind", "restart-node"},
                  {"args", {{"node", 2}, {"generation", 5}}},
                  {"description", "restart server 2"}};
  op.steps.push_back(
      {0, "wait until healthy", wait.dump(), StepStatus::kDone, "healthy", kMay1, kMay1 + 1000});
  op.steps.push_back({1, "restart server 2", restart.dump(), StepStatus::kFailed, "timeout",
                      kMay1 + 1000, kMay1 + 7000});

  ClusterOperation status = OperationToStatus(op);
  EXPECT_EQ(status.steps[1].kind, "restart-node");
  EXPECT_EQ(status.steps[1].args["generation"], 5);
  EXPECT_EQ(status.steps[1].description, "restart server 2");
  OperationRecord back = OperationFromStatus(status, "demo");
  EXPECT_EQ(back.id, 9);
  EXPECT_EQ(back.cluster, "demo");
  EXPECT_EQ(back.status, OperationStatus::kFailed);
  EXPECT_EQ(back.error, op.error);
  ASSERT_EQ(back.steps.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back.steps[i].name, op.steps[i].name);
    EXPECT_EQ(json::parse(back.steps[i].spec_json), json::parse(op.steps[i].spec_json));
    EXPECT_EQ(back.steps[i].status, op.steps[i].status);
    EXPECT_EQ(back.steps[i].detail, op.steps[i].detail);
    EXPECT_EQ(back.steps[i].started_at, op.steps[i].started_at);
    EXPECT_EQ(back.steps[i].finished_at, op.steps[i].finished_at);
  }
  // Through the resource's JSON as well.
  ClusterStatus st;
  st.operation = status;
  auto parsed = StatusFromJson(StatusToJson(st));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(json::parse(OperationFromStatus(*parsed->operation, "demo").steps[1].spec_json),
            json::parse(op.steps[1].spec_json));
}

TEST(Operations, StepSpecKeysBesideKindAndArgsAreKept) {
  OperationRecord op;
  op.steps.push_back(
      {0, "start node 2", R"({"kind":"start-node","node":2})", StepStatus::kPending, "", 0, 0});
  ClusterOperation status = OperationToStatus(op);
  EXPECT_EQ(status.steps[0].kind, "start-node");
  EXPECT_EQ(status.steps[0].args, json({{"node", 2}}));
  EXPECT_EQ(status.steps[0].description, "start node 2");
}

TEST(Operations, HistoryKeepsTheNewestTwentyWithoutSteps) {
  ClusterStatus st;
  for (int64_t id = 1; id <= 25; ++id) {
    ClusterOperation op{id, "configure", static_cast<int>(id), OperationStatus::kRunning, "", kMay1,
                        0,  {}};
    op.steps.push_back({});
    RecordOperationHistory(st, op);
  }
  ASSERT_EQ(st.operations.size(), 20u);
  EXPECT_EQ(st.operations.front().id, 6);
  EXPECT_EQ(st.operations.back().id, 25);
  EXPECT_TRUE(st.operations.back().steps.empty());
  ClusterOperation done{25, "configure", 25, OperationStatus::kSucceeded, "", kMay1, kMay1 + 1, {}};
  RecordOperationHistory(st, done);
  ASSERT_EQ(st.operations.size(), 20u);
  EXPECT_EQ(st.operations.back().phase, OperationStatus::kSucceeded);
}

}  // namespace
}  // namespace zkpilot
