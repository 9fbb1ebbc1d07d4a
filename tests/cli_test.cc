// The command line as users see it: help, version, outputs and exit codes.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_runner.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using testing::RunZkpilot;
using testing::TempDir;

TEST(Cli, HelpOnEveryCommand) {
  for (std::vector<std::string> args : {std::vector<std::string>{"--help"}, {"render", "--help"}, {"lint", "--help"},
                                        {"params", "--help"}}) {
    auto r = RunZkpilot(args);
    EXPECT_EQ(r.exit_code, 0) << args[0];
    EXPECT_NE(r.output.find("Usage:"), std::string::npos) << r.output;
  }
  auto r = RunZkpilot({"render", "--help"});
  for (const char* flag : {"--set", "--values", "--output-dir", "--name", "--namespace", "--format"})
    EXPECT_NE(r.output.find(flag), std::string::npos) << flag;
}

TEST(Cli, VersionPrintsVersion) {
  auto r = RunZkpilot({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("zkpilot " ZKPILOT_VERSION), std::string::npos) << r.output;
}

TEST(Cli, NoCommandIsUsageError) {
  auto r = RunZkpilot({});
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

TEST(Cli, RenderPrintsMultiDocumentYaml) {
  auto r = RunZkpilot({"render", "packages/zookeeper", "--set", "replicas=3", "--name", "demo"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  size_t docs = 0;
  for (size_t pos = 0; (pos = r.stdout_only.find("---\n", pos)) != std::string::npos; ++pos) ++docs;
  EXPECT_GE(docs, 8u);
  EXPECT_NE(r.stdout_only.find("kind: StatefulSet"), std::string::npos);
  EXPECT_NE(r.stdout_only.find("name: demo-3"), std::string::npos);
  EXPECT_EQ(r.stdout_only.find("name: demo-4"), std::string::npos);
}

TEST(Cli, RenderJsonIsAList) {
  auto r = RunZkpilot({"render", "packages/zookeeper", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.stdout_only.rfind("{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\"", 0), 0u) << r.stdout_only.substr(0, 80);
}

TEST(Cli, RenderOutputDirWritesOneFilePerObject) {
  TempDir dir;
  const std::string out = dir.path() + "/manifests";
  auto r = RunZkpilot({"render", "packages/zookeeper", "--set", "replicas=5", "--output-dir", out});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(r.stdout_only.empty());
  int statefulsets = 0, files = 0;
  for (const auto& e : fs::directory_iterator(out)) {
    ++files;
    statefulsets += e.path().filename().string().find("-statefulset-") != std::string::npos;
  }
  EXPECT_EQ(statefulsets, 5);
  auto stdout_render = RunZkpilot({"render", "packages/zookeeper", "--set", "replicas=5"});
  size_t docs = 0;
  for (size_t pos = 0; (pos = stdout_render.stdout_only.find("---\n", pos)) != std::string::npos; ++pos) ++docs;
  EXPECT_EQ(static_cast<size_t>(files), docs) << "same objects either way";
}

TEST(Cli, ParamsListsEveryParameter) {
  auto r = RunZkpilot({"params", "packages/zookeeper"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.stdout_only.find("NAME"), std::string::npos);
  for (const char* p : {"replicas", "clientPort", "dataDir", "version", "controller", "grafana.enabled"})
    EXPECT_NE(r.stdout_only.find(std::string("\n") + p + " "), std::string::npos) << p;
  // What a new cluster gets where it differs from the default.
  EXPECT_NE(r.stdout_only.find("[a new cluster on local: true]"), std::string::npos) << r.stdout_only;
  auto json = RunZkpilot({"params", "packages/zookeeper", "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_NE(json.stdout_only.find("\"newClusterDefault\": true"), std::string::npos) << json.stdout_only;
}

TEST(Cli, LintPassesOnTheDefaultPackageAndWarnsOnEvenSize) {
  auto ok = RunZkpilot({"lint", "packages/zookeeper"});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("0 error(s)"), std::string::npos) << ok.output;
  auto even = RunZkpilot({"lint", "packages/zookeeper", "--set", "replicas=4"});
  EXPECT_EQ(even.exit_code, 0) << even.output;
  EXPECT_NE(even.output.find("replicas=4 is even"), std::string::npos) << even.output;
  auto bad = RunZkpilot({"lint", "packages/zookeeper", "--set", "replicas=0"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
}

// Flags that take a number read it as values do (util/numbers.h): decimal
// digits only, and a timeout within a range said in people's units. Each
// refusal names the flag, exits 2 and creates no state directory.
TEST(Cli, NumberFlagsAreDecimalWholeNumbersInRange) {
  TempDir dir;
  const std::string home = dir.path() + "/home";
  ::setenv("ZKPILOT_HOME", home.c_str(), 1);
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"scale", "demo", "--replicas", "0x3"}, "--replicas: expected integer (decimal digits, like 3), got \"0x3\""},
      {{"scale", "demo", "--replicas", "3.0"}, "--replicas: expected integer (decimal digits, like 3), got \"3.0\""},
      {{"scale", "demo", "--replicas", " 3"}, "--replicas: expected integer (decimal digits, like 3), got \" 3\""},
      {{"scale", "demo", "--replicas", "+3"}, "--replicas: expected integer (decimal digits, like 3), got \"+3\""},
      {{"scale", "demo", "--replicas", "1e2"}, "--replicas: expected integer (decimal digits, like 3), got \"1e2\""},
      {{"scale", "demo", "--replicas", "256"}, "--replicas: must be between 1 and 255, got 256"},
      {{"rollback", "demo", "--to-revision", "0x1"}, "--to-revision: expected integer (decimal digits, like 3)"},
      {{"logs", "demo", "0x1"}, "node: expected integer (decimal digits, like 3)"},
      {{"deploy", "demo", "packages/zookeeper", "--dry-run", "--timeout", "0"},
       "--timeout: must be between 1s and 24h, got 0"},
      {{"deploy", "demo", "packages/zookeeper", "--dry-run", "--timeout", "-5"},
       "--timeout: must be between 1s and 24h, got -5"},
      {{"configure", "demo", "--set", "tickTime=3000", "--timeout", "100000"},
       "--timeout: must be between 1s and 24h, got 100000"},
      {{"restart", "demo", "--timeout", "1e2"}, "--timeout: \"1e2\" is not a duration"},
      {{"resume", "demo", "--timeout", "0x10"}, "--timeout: \"0x10\" is not a duration"},
      {{"delete", "demo", "--timeout", "0"}, "--timeout: must be between 1s and 24h, got 0"},
  };
  for (const auto& c : cases) {
    auto r = RunZkpilot(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args[0] << ": " << r.output;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.args[0] << ": " << r.output;
  }
  ::unsetenv("ZKPILOT_HOME");
  EXPECT_FALSE(fs::exists(home)) << "a refused command created the state directory";
}

}  // namespace
}  // namespace zkpilot
