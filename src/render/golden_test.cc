// Golden files: the default package rendered for fixed values must match
// tests/testdata/golden/*.yaml byte for byte. After an intended change, run
// the tests with ZKPILOT_UPDATE_GOLDEN=1 and review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "actions/render_action.h"
#include "util/files.h"

namespace zkpilot {
namespace {

struct GoldenCase {
  std::string name;
  std::vector<std::string> sets;
};
void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.name; }


class Golden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(Golden, DefaultPackageRendersAsRecorded) {
  RenderRequest req;
  req.package_dir = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";
  req.values.sets = GetParam().sets;
  req.options = RenderOptions{"demo", "zk"};
  auto out = RunRender(req);
  ASSERT_TRUE(out.ok()) << out.status().message();
  const std::string path = std::string(ZKPILOT_SOURCE_DIR) + "/tests/testdata/golden/" + GetParam().name + ".yaml";
  if (std::getenv("ZKPILOT_UPDATE_GOLDEN")) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << *out;
    GTEST_SKIP() << "updated " << path;
  }
  auto golden = ReadFile(path);
  ASSERT_TRUE(golden.ok()) << golden.status().message() << " (run with ZKPILOT_UPDATE_GOLDEN=1 to create it)";
  EXPECT_TRUE(*golden == *out) << "rendered output differs from " << path
                               << "; if intended, regenerate with ZKPILOT_UPDATE_GOLDEN=1";
  // Rendering twice gives the same bytes.
  auto again = RunRender(req);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again == *out);
}

// Pinned to ZooKeeper 3.8.0: the files record how servers are rendered, not
// which version is the default (a new default would otherwise rewrite every
// file; Renderer tests check the default version's image).
INSTANTIATE_TEST_SUITE_P(
    DefaultPackage, Golden,
    ::testing::Values(GoldenCase{"replicas-1", {"version=3.8.0", "replicas=1"}},
                      GoldenCase{"replicas-3", {"version=3.8.0"}},
                      GoldenCase{"replicas-5", {"version=3.8.0", "replicas=5"}},
                      GoldenCase{"deployment-3", {"version=3.8.0", "controller=deployment"}},
                      GoldenCase{"all-addons",
                                 {"version=3.8.0", "zoonavigator.enabled=true",
                                  "zoonavigator.readOnly=false", "prometheus.enabled=true",
                                  "alertmanager.enabled=true", "grafana.enabled=true"}},
                      GoldenCase{"prometheus-operator",
                                 {"version=3.8.0", "prometheus.enabled=true",
                                  "prometheus.operator=true"}},
                      GoldenCase{"tls-3", {"version=3.8.0", "tls.enabled=true"}}),
    [](const auto& info) {
      std::string n = info.param.name;
      for (auto& c : n)
        if (c == '-') c = '_';
      return n;
    });

}  // namespace
}  // namespace zkpilot
