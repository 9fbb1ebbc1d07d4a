// What the unit tests of the verbs and the step runner share: a small package
// with hooks, a SQLite release store in a temporary directory, the fake
// platform and clock, and progress recorded as lines.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../../tests/test_package.h"
#include "actions/action_context.h"
#include "platform/fake_platform.h"
#include "state/state_store.h"

namespace zkpilot::testing {

// The minimal package with a hook for every event.
inline PackageFiles PackageWithHooks() {
  PackageFiles f = MinimalPackageFiles();
  f["hooks.yaml"] = R"(hooks:
  deploy:
    init:
      - name: root
        action: create-znode
        path: /app
        data: ""
      - name: extra-root
        action: create-znode
        path: /extra
        data: ""
        when: extra.enabled
    cleanup:
      - name: tmp-files
        action: remove-files
        paths: ["version-2/*.tmp"]
  upgrade:
    init:
      - name: marker
        action: create-znode
        path: /upgraded
        data: ""
    cleanup:
      - name: snapshots
        action: purge-snapshots
        retain: 3
  scale:
    cleanup:
      - name: removed-data
        action: remove-node-data
  delete:
    cleanup:
      - name: data
        action: remove-node-data
)";
  return f;
}

class StepLog : public ProgressSink {
 public:
  void StepStarted(size_t index, size_t total, const Step& step) override { lines.push_back("start " + step.description); }
  void StepFinished(size_t, size_t, const Step& step, const Status& status, const std::string& outcome,
                    std::chrono::milliseconds) override {
    lines.push_back((status.ok() ? "done " : "FAILED ") + step.description + (outcome.empty() ? "" : ": " + outcome));
  }
  std::vector<std::string> lines;
};

// One test's world: store, fake cluster, clock, package.
class ActionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/zkpilot-action-test-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    auto store = StateStore::Open(dir_ + "/state.db");
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(store).value();
    auto package = ParsePackage(PackageWithHooks());
    ASSERT_TRUE(package.ok()) << package.status().message();
    package_ = *package;
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Values With(const std::vector<std::string>& sets) {
    ValuesInput in;
    in.sets = sets;
    auto v = ResolveValues(package_.schema, in);
    EXPECT_TRUE(v.ok()) << v.status().message();
    return v.ok() ? *v : Values{};
  }

  // A platform bound to `values`, and a context around it.
  FakePlatform& PlatformFor(const Values& values) {
    platforms_.push_back(std::make_unique<FakePlatform>(world_, package_, values));
    return *platforms_.back();
  }
  ActionContext Context(Platform& platform) { return ActionContext{platform, *store_, log_, clock_}; }

  std::string dir_;
  std::unique_ptr<StateStore> store_;
  Package package_;
  FakeCluster world_;
  FakeClock clock_;
  StepLog log_;
  std::vector<std::unique_ptr<FakePlatform>> platforms_;
};

}  // namespace zkpilot::testing
