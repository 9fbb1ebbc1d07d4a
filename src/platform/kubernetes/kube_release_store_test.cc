// KubeReleaseStore against a real kube-sim cluster: the ZooKeeperCluster CRD
// generated from the default package, revisions as ControllerRevisions, the
// journal in the resource's status, and what happens when writers race.
#include "platform/kubernetes/kube_release_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "package/package_loader.h"
#include "platform/kubernetes/crd.h"
#include "kube_sim_fixture/kube_sim_env.h"

namespace zkpilot {
namespace {

using json = nlohmann::json;

const ResourceRef kClusters{kClusterGroup, kClusterVersion, kClusterPlural, true, kClusterKind};
const ResourceRef kRevisions{"apps", "v1", "controllerrevisions", true, "ControllerRevision"};

class KubeReleaseStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto package = LoadPackage(std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper");
    ASSERT_TRUE(package.ok()) << package.status().message();
    auto client = kubesim::Client();
    auto crds = client->Resolve("apiextensions.k8s.io/v1", "CustomResourceDefinition");
    ASSERT_TRUE(crds.ok()) << crds.status().message();
    auto applied = client->Apply(*crds, "", json(GenerateCrd(*package)), kFieldManager);
    ASSERT_TRUE(applied.ok()) << applied.status().message();
    // The API serves the new resource once the CRD is established.
    for (int i = 0; i < 100; ++i) {
      if (client->Resolve(kClusterApiVersion, kClusterKind).ok()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "the ZooKeeperCluster resource is not served";
  }

  void SetUp() override {
    ns_ = kubesim::NewNamespace("store");
    client_ = kubesim::Client(ns_);
    store_ = std::make_unique<KubeReleaseStore>(*client_, KubeReleaseStoreOptions{ns_, "demo"});
  }

  // The user's resource (what `zkpilot deploy` or kubectl creates).
  void CreateResource(const std::string& name) {
    ClusterSpec spec;
    spec.package = {"zookeeper", "0.1.0", "zkpilot-pkg-zookeeper-000000000000",
                    std::string(64, '0')};
    spec.values = {{"replicas", 3}};
    auto created = client_->Create(kClusters, ns_, ClusterApplyObject(name, ns_, spec));
    ASSERT_TRUE(created.ok()) << created.status().message();
  }

  json Resource(const std::string& name) {
    auto object = client_->Get(kClusters, ns_, name);
    EXPECT_TRUE(object.ok() && *object) << object.status().message();
    return object.ok() && *object ? **object : json();
  }

  static ClusterRecord Named(const std::string& name) {
    ClusterRecord c;
    c.name = name;
    return c;
  }

  static OperationRecord Plan(const std::string& cluster, const std::string& type, int steps) {
    OperationRecord op;
    op.cluster = cluster;
    op.type = type;
    op.revision = 1;
    for (int i = 0; i < steps; ++i) {
      StepRecord s;
      s.index = i;
      s.name = "step " + std::to_string(i);
      s.spec_json =
          json{{"kind", "restart-node"}, {"args", {{"node", i + 1}, {"generation", 1}}}}.dump();
      op.steps.push_back(s);
    }
    return op;
  }

  static RevisionRecord Revision(const std::string& cluster, const std::string& operation) {
    RevisionRecord r;
    r.cluster = cluster;
    r.operation = operation;
    r.values_json = json{{"replicas", 3}, {"version", "3.8.0"}}.dump();
    r.package_version = "0.1.0";
    r.zk_version = "3.8.0";
    return r;
  }

  std::string ns_;
  std::unique_ptr<KubeClient> client_;
  std::unique_ptr<KubeReleaseStore> store_;
};

TEST_F(KubeReleaseStoreTest, ClusterIsTheResourceOnceItHasReleases) {
  Status missing = store_->CreateCluster(Named("demo"));
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound) << missing.message();
  CreateResource("demo");
  ASSERT_TRUE(store_->CreateCluster(Named("demo")).ok());
  auto got = store_->GetCluster("demo");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_FALSE(*got) << "nothing recorded yet";

  ASSERT_TRUE(store_->AddRevision(Revision("demo", "deploy")).ok());
  auto op = store_->BeginOperation(Plan("demo", "deploy", 2));
  ASSERT_TRUE(op.ok()) << op.status().message();
  got = store_->GetCluster("demo");
  ASSERT_TRUE(got.ok() && *got);
  EXPECT_EQ((*got)->status, "deploying");
  EXPECT_EQ((*got)->platform, "kubernetes");
  EXPECT_EQ((*got)->package_name, "zookeeper");
  EXPECT_EQ(store_->CreateCluster(Named("demo")).code(), ErrorCode::kInvalidInput);

  ASSERT_TRUE(store_->FinishOperation(*op, OperationStatus::kSucceeded, "").ok());
  ASSERT_TRUE(store_->SetClusterStatus("demo", "deployed", 1).ok());
  got = store_->GetCluster("demo");
  ASSERT_TRUE(got.ok() && *got);
  EXPECT_EQ((*got)->status, "deployed");
  EXPECT_EQ((*got)->current_revision, 1);
  EXPECT_EQ(Resource("demo")["status"]["currentRevision"], 1);

  auto all = store_->ListClusters();
  ASSERT_TRUE(all.ok()) << all.status().message();
  ASSERT_EQ(all->size(), 1u);

  ASSERT_TRUE(store_->DeleteCluster("demo").ok());
  got = store_->GetCluster("demo");
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(*got);
  auto revisions = store_->ListRevisions("demo");
  ASSERT_TRUE(revisions.ok());
  EXPECT_TRUE(revisions->empty());
  EXPECT_TRUE(Resource("demo").contains("spec")) << "the resource is the user's";
}

TEST_F(KubeReleaseStoreTest, RevisionsAreControllerRevisionsOwnedByTheResource) {
  CreateResource("demo");
  auto r1 = store_->AddRevision(Revision("demo", "deploy"));
  auto r2 = store_->AddRevision(Revision("demo", "configure"));
  ASSERT_TRUE(r1.ok() && r2.ok()) << r1.status().message() << r2.status().message();
  EXPECT_EQ(*r1, 1);
  EXPECT_EQ(*r2, 2);

  auto object = client_->Get(kRevisions, ns_, "demo-r2");
  ASSERT_TRUE(object.ok() && *object);
  EXPECT_EQ((**object)["revision"], 2);
  EXPECT_EQ((**object)["data"]["operation"], "configure");
  EXPECT_EQ((**object)["metadata"]["ownerReferences"][0]["uid"],
            Resource("demo")["metadata"]["uid"]);

  ASSERT_TRUE(store_->FinishRevision("demo", 1, RevisionStatus::kDeployed, "deployed").ok());
  auto first = store_->GetRevision("demo", 1);
  ASSERT_TRUE(first.ok() && *first);
  EXPECT_EQ((*first)->status, RevisionStatus::kDeployed);
  EXPECT_GT((*first)->finished_at, 0);
  EXPECT_EQ(json::parse((*first)->values_json)["replicas"], 3);
  const int64_t finished = (*first)->finished_at;
  ASSERT_TRUE(
      store_->FinishRevision("demo", 1, RevisionStatus::kSuperseded, "superseded by 2").ok());
  first = store_->GetRevision("demo", 1);
  EXPECT_EQ((*first)->status, RevisionStatus::kSuperseded);
  EXPECT_EQ((*first)->message, "superseded by 2");
  EXPECT_EQ((*first)->finished_at, finished) << "the finish time is set once";

  auto list = store_->ListRevisions("demo");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].revision, 1);
  EXPECT_EQ((*list)[1].status, RevisionStatus::kPending);
  auto none = store_->GetRevision("demo", 9);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
  EXPECT_EQ(store_->FinishRevision("demo", 9, RevisionStatus::kFailed, "").code(),
            ErrorCode::kNotFound);
}

TEST_F(KubeReleaseStoreTest, JournalLivesInTheStatus) {
  CreateResource("demo");
  auto op = store_->BeginOperation(Plan("demo", "upgrade", 3));
  ASSERT_TRUE(op.ok()) << op.status().message();
  EXPECT_EQ(*op, 1);
  ASSERT_TRUE(store_->MarkStep(*op, 0, StepStatus::kRunning, "").ok());
  ASSERT_TRUE(store_->MarkStep(*op, 0, StepStatus::kDone, "pod demo-1-0 replaced").ok());
  ASSERT_TRUE(store_->MarkStep(*op, 1, StepStatus::kRunning, "").ok());

  // What an operator restarted at this point reads back.
  KubeReleaseStore fresh(*client_, {ns_, "demo"});
  auto unfinished = fresh.UnfinishedOperation("demo");
  ASSERT_TRUE(unfinished.ok() && *unfinished) << unfinished.status().message();
  const OperationRecord& journal = **unfinished;
  EXPECT_EQ(journal.type, "upgrade");
  ASSERT_EQ(journal.steps.size(), 3u);
  EXPECT_EQ(journal.steps[0].status, StepStatus::kDone);
  EXPECT_EQ(journal.steps[0].detail, "pod demo-1-0 replaced");
  EXPECT_GT(journal.steps[0].finished_at, 0);
  EXPECT_EQ(journal.steps[1].status, StepStatus::kRunning);
  EXPECT_EQ(journal.steps[2].status, StepStatus::kPending);
  EXPECT_EQ(json::parse(journal.steps[2].spec_json)["args"]["node"], 3);
  json status = Resource("demo")["status"]["operation"];
  EXPECT_EQ(status["steps"][0]["status"], "done");
  EXPECT_EQ(status["phase"], "Running");

  EXPECT_EQ(store_->BeginOperation(Plan("demo", "configure", 1)).status().code(),
            ErrorCode::kConflict)
      << "one operation at a time";
  EXPECT_EQ(store_->MarkStep(*op, 7, StepStatus::kDone, "").code(), ErrorCode::kNotFound);

  ASSERT_TRUE(
      store_->FinishOperation(*op, OperationStatus::kFailed, "server 2 did not come back").ok());
  auto got = store_->GetCluster("demo");
  ASSERT_TRUE(got.ok() && *got);
  EXPECT_EQ((*got)->status, "update-failed");
  auto next = store_->BeginOperation(Plan("demo", "configure", 1));
  ASSERT_TRUE(next.ok()) << next.status().message();
  EXPECT_EQ(*next, 2) << "ids increase per cluster";
  ASSERT_TRUE(store_->FinishOperation(*next, OperationStatus::kSucceeded, "").ok());

  auto ops = store_->ListOperations("demo");
  ASSERT_TRUE(ops.ok());
  ASSERT_EQ(ops->size(), 2u);
  EXPECT_EQ((*ops)[0].id, 1);
  EXPECT_EQ((*ops)[0].status, OperationStatus::kFailed);
  EXPECT_EQ((*ops)[0].error, "server 2 did not come back");
  EXPECT_EQ((*ops)[1].status, OperationStatus::kSucceeded);
  auto old = store_->GetOperation(1);
  ASSERT_TRUE(old.ok() && *old);
  EXPECT_EQ((*old)->type, "upgrade");
  auto none = store_->UnfinishedOperation("demo");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);

  // Another cluster counts its own ids.
  CreateResource("other");
  KubeReleaseStore other(*client_, {ns_, "other"});
  auto first = other.BeginOperation(Plan("other", "deploy", 1));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 1);
}

TEST_F(KubeReleaseStoreTest, OperatorStatusWritesAndJournalWritesDoNotLoseEachOther) {
  CreateResource("demo");
  auto op = store_->BeginOperation(Plan("demo", "restart", 2));
  ASSERT_TRUE(op.ok());
  // The operator's own status fields, by merge patch, between journal writes.
  auto patched = client_->MergePatch(
      kClusters, ns_, "demo",
      {{"status", {{"phase", "Updating"}, {"replicas", 3}, {"readyReplicas", 2}}}}, "status");
  ASSERT_TRUE(patched.ok()) << patched.status().message();
  ASSERT_TRUE(store_->MarkStep(*op, 0, StepStatus::kDone, "ok").ok());
  json status = Resource("demo")["status"];
  EXPECT_EQ(status["phase"], "Updating");
  EXPECT_EQ(status["readyReplicas"], 2);
  EXPECT_EQ(status["operation"]["steps"][0]["status"], "done");
}

TEST_F(KubeReleaseStoreTest, ConcurrentWritersConflictAndRetryWithoutLosingUpdates) {
  CreateResource("demo");
  constexpr int kSteps = 8;
  auto op = store_->BeginOperation(Plan("demo", "restart", kSteps));
  ASSERT_TRUE(op.ok());
  // Two writers (their own clients, as two processes would have) mark
  // different steps at the same time: every write starts from a read that
  // the other writer may have outdated.
  std::vector<Status> results(2);
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      auto client = kubesim::Client(ns_);
      KubeReleaseStore store(*client, {ns_, "demo"});
      for (int i = w; i < kSteps && results[w].ok(); i += 2) {
        results[w] = store.MarkStep(*op, i, StepStatus::kRunning, "");
        if (results[w].ok())
          results[w] = store.MarkStep(*op, i, StepStatus::kDone, "writer " + std::to_string(w));
      }
    });
  }
  for (auto& t : writers) t.join();
  for (const auto& r : results) EXPECT_TRUE(r.ok()) << r.message();
  auto journal = store_->GetOperation(*op);
  ASSERT_TRUE(journal.ok() && *journal);
  for (const auto& s : (*journal)->steps) {
    EXPECT_EQ(s.status, StepStatus::kDone) << "step " << s.index;
    EXPECT_EQ(s.detail, "writer " + std::to_string(s.index % 2)) << "step " << s.index;
  }
  ASSERT_TRUE(store_->FinishOperation(*op, OperationStatus::kSucceeded, "").ok());

  // Two writers begin an operation at once: exactly one wins.
  std::vector<Result<int64_t>> begun(2, Result<int64_t>(Status::Internal("not run")));
  writers.clear();
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      auto client = kubesim::Client(ns_);
      KubeReleaseStore store(*client, {ns_, "demo"});
      begun[w] = store.BeginOperation(Plan("demo", w == 0 ? "configure" : "scale", 1));
    });
  }
  for (auto& t : writers) t.join();
  const int winners = begun[0].ok() + begun[1].ok();
  EXPECT_EQ(winners, 1);
  for (const auto& b : begun)
    if (!b.ok()) {
      EXPECT_EQ(b.status().code(), ErrorCode::kConflict) << b.status().message();
    }
  auto running = store_->UnfinishedOperation("demo");
  ASSERT_TRUE(running.ok() && *running);
  EXPECT_EQ((*running)->id, 2);
}

TEST_F(KubeReleaseStoreTest, ConflictFromTheApiIsRetried) {
  CreateResource("demo");
  auto op = store_->BeginOperation(Plan("demo", "restart", 1));
  ASSERT_TRUE(op.ok());
  // The next status write is refused as if another writer had come first.
  std::string out;
  const std::string fault =
      R"({"method":"PUT","pathRegex":"/zookeeperclusters/demo/status","status":409,"times":2})";
  ASSERT_EQ(kubesim::Kubectl({"create", "--raw", "/kube-sim/faults", "-f", "-"}, &out, fault), 0)
      << out;
  ASSERT_TRUE(store_->MarkStep(*op, 0, StepStatus::kDone, "after two conflicts").ok());
  ASSERT_EQ(kubesim::Kubectl({"get", "--raw", "/kube-sim/faults"}, &out), 0) << out;
  EXPECT_NE(out.find("\"fired\":2"), std::string::npos) << "both conflicts were answered: " << out;
  ASSERT_EQ(kubesim::Kubectl({"delete", "--raw", "/kube-sim/faults"}, &out), 0) << out;
  auto journal = store_->GetOperation(*op);
  ASSERT_TRUE(journal.ok() && *journal);
  EXPECT_EQ((*journal)->steps[0].detail, "after two conflicts");
}

TEST_F(KubeReleaseStoreTest, HookRunsAreEventsOfTheOperation) {
  CreateResource("demo");
  auto op = store_->BeginOperation(Plan("demo", "deploy", 1));
  ASSERT_TRUE(op.ok());
  ASSERT_TRUE(store_
                  ->AddHookRun({*op, "deploy", "init", "zkpilot-znode", "create-znode", "ok",
                                "created /zkpilot", 0})
                  .ok());
  ASSERT_TRUE(store_
                  ->AddHookRun({*op, "deploy", "init", "apps-znode", "create-znode", "failed",
                                "no quorum", 0})
                  .ok());
  auto runs = store_->ListHookRuns(*op);
  ASSERT_TRUE(runs.ok()) << runs.status().message();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].step, "zkpilot-znode");
  EXPECT_EQ((*runs)[0].message, "created /zkpilot");
  EXPECT_EQ((*runs)[1].status, "failed");
  EXPECT_GT((*runs)[1].at, 0);
  std::string out;
  ASSERT_EQ(kubesim::Kubectl({"-n", ns_, "get", "events", "-l", "zkpilot.io/cluster=demo", "-o",
                              "jsonpath={range .items[*]}{.reason}{\"\\n\"}{end}"},
                             &out),
            0)
      << out;
  EXPECT_EQ(out, "HookRun\nHookRun\n") << "what kubectl describe shows";
  auto none = store_->ListHookRuns(*op + 1);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace zkpilot

int main(int argc, char** argv) {
  if (auto code = zkpilot::kubesim::RunInside(argc, argv)) return *code;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
