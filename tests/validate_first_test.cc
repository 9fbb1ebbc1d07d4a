// Validate everything before recording anything: the real binary with a
// fresh ZKPILOT_HOME. A deploy or change that is refused (a template that
// does not render, an unknown cluster) and every --dry-run leave the state
// directory as they found it - for a fresh one, absent: no state.db, no
// lock, no super.secret, no data directory. Even server counts get lint's
// warning on deploy, configure and scale.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "local_test_util.h"
#include "platform/local/paths.h"
#include "state/state_store.h"

namespace zkpilot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ProcessResult;

const std::string kPackage = std::string(ZKPILOT_SOURCE_DIR) + "/packages/zookeeper";

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in:\n" << text;
}

// Everything under `dir`, for failure messages.
std::string Listing(const std::string& dir) {
  std::string out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); ++it)
    out += "  " + it->path().string() + "\n";
  return out;
}

class ValidateFirstTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(world_.Create("zkpilot-validate", 60, &error)) << error;
    home_ = world_.home();
    ASSERT_FALSE(fs::exists(home_));
  }
  void TearDown() override { EXPECT_TRUE(world_.Cleanup(ZKPILOT_BINARY)) << "processes of " << home_ << " survived"; }

  ProcessResult Zk(std::vector<std::string> args) {
    args.insert(args.begin(), ZKPILOT_BINARY);
    return testing::RunProcess(args, {world_.Env(), ZKPILOT_SOURCE_DIR, world_.capture(), 3min});
  }
  std::vector<std::string> DeployArgs(const std::string& name, const std::string& package,
                                      const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"deploy", name, package, "--set", "clientPort=" + std::to_string(world_.base_port()),
                                     "--timeout", "120"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  // A copy of the default package under the test's directory.
  std::string CopyPackage() {
    const std::string pkg = world_.root() + "/pkg";
    fs::copy(kPackage, pkg, fs::copy_options::recursive);
    return pkg;
  }
  // Appends an unclosed Mustache section to `file` of `package`; returns the
  // line it is on.
  static int Break(const std::string& package, const std::string& file) {
    std::ifstream in(package + "/" + file);
    int lines = 0;
    for (std::string line; std::getline(in, line);) ++lines;
    std::ofstream(package + "/" + file, std::ios::app) << "{{#not_closed}}\n";
    return lines + 1;
  }
  // The warning lint gives for `replicas`.
  std::string LintWarning(int replicas) {
    ProcessResult r = Zk({"lint", kPackage, "--set", "replicas=" + std::to_string(replicas)});
    const size_t at = r.out.find("WARNING  replicas=");
    if (at == std::string::npos) {
      ADD_FAILURE() << "lint gave no replicas warning:\n" << r.All();
      return "no lint warning";
    }
    const size_t from = at + std::string("WARNING  ").size();
    return r.out.substr(from, r.out.find('\n', from) - from);
  }

  testing::TestHome world_;
  std::string home_;
};

TEST_F(ValidateFirstTest, DryRunsAndReadsOfAnEmptyHomeCreateNothing) {
  ProcessResult r = Zk(DeployArgs("demo", kPackage, {"--dry-run"}));
  ASSERT_EQ(r.exit_code, 0) << r.All();
  EXPECT_TRUE(Contains(r.out, "dry run: nothing was changed"));
  EXPECT_FALSE(fs::exists(home_)) << "deploy --dry-run created:\n" << Listing(home_);

  // Verbs on a cluster that is not there are refused without creating a database to look in.
  for (std::vector<std::string> args : {std::vector<std::string>{"status", "demo"},
                                        {"configure", "demo", "--set", "tickTime=3000"},
                                        {"scale", "demo", "--replicas", "5", "--dry-run"},
                                        {"history", "demo"},
                                        {"delete", "demo"}}) {
    ProcessResult refused = Zk(args);
    EXPECT_EQ(refused.exit_code, 2) << args[0] << ": " << refused.All();
    EXPECT_TRUE(Contains(refused.err, "demo")) << args[0];
    EXPECT_FALSE(fs::exists(home_)) << args[0] << " created:\n" << Listing(home_);
  }
  ProcessResult list = Zk({"list"});
  EXPECT_EQ(list.exit_code, 0) << list.All();
  EXPECT_FALSE(fs::exists(home_)) << "list created:\n" << Listing(home_);
}

// One case per file the local platform renders for a deploy: a server's
// zoo.cfg and logback configuration, and the monitoring add-on's
// configuration (rendered on every change of a dynamic parameter).
class BrokenTemplateTest : public ValidateFirstTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(BrokenTemplateTest, DeployFailsNamingTheLineAndCreatesNothing) {
  const std::string pkg = CopyPackage();
  const int line = Break(pkg, GetParam());
  ProcessResult r = Zk(DeployArgs("demo", pkg));
  EXPECT_EQ(r.exit_code, 2) << r.All();
  EXPECT_TRUE(Contains(r.err, GetParam() + ":" + std::to_string(line) + ":"));
  EXPECT_TRUE(Contains(r.err, "Unclosed section"));
  // No state.db, cluster record, lock, super.secret or data directory.
  EXPECT_FALSE(fs::exists(home_)) << "a refused deploy created:\n" << Listing(home_);
  EXPECT_FALSE(fs::exists(StateDbPath(home_)));
  EXPECT_FALSE(fs::exists(ClusterHome(home_, "demo") + "/super.secret"));
  EXPECT_FALSE(fs::exists(NodeDir(ClusterHome(home_, "demo"), 1) + "/data"));
}

INSTANTIATE_TEST_SUITE_P(Files, BrokenTemplateTest,
                         ::testing::Values("config/zoo.cfg.mustache", "config/logback.xml.mustache",
                                           "addons/prometheus/prometheus.yml.mustache"),
                         [](const auto& info) {
                           std::string name;
                           for (char c : info.param.substr(info.param.find('/') + 1))
                             if (std::isalnum(static_cast<unsigned char>(c))) name += c;
                           return name;
                         });

TEST_F(ValidateFirstTest, EvenServerCountsGetLintsWarningOnDeploy) {
  const std::string warning = LintWarning(4);
  EXPECT_TRUE(Contains(warning, "replicas=4 is even"));
  ProcessResult r = Zk(DeployArgs("demo", kPackage, {"--set", "replicas=4", "--dry-run"}));
  ASSERT_EQ(r.exit_code, 0) << r.All();
  EXPECT_TRUE(Contains(r.err, "warning: " + warning));
  EXPECT_FALSE(Contains(r.out, warning)) << "the warning belongs on stderr";
}

// A deployed cluster: changes to an even count warn as lint does; a change
// whose files do not render is refused before a revision is recorded or a
// server is touched.
TEST_F(ValidateFirstTest, ChangesWarnOnEvenCountsAndRenderEveryFileFirst) {
  const std::string pkg = CopyPackage();
  ProcessResult deployed = Zk(DeployArgs("demo", pkg));
  ASSERT_EQ(deployed.exit_code, 0) << deployed.All();

  const std::string warning = LintWarning(4);
  for (std::vector<std::string> args : {std::vector<std::string>{"scale", "demo", "--replicas", "4", "--dry-run"},
                                        {"configure", "demo", "--set", "replicas=4", "--dry-run"}}) {
    ProcessResult r = Zk(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.All();
    EXPECT_TRUE(Contains(r.err, "warning: " + warning)) << args[0];
  }

  auto pids = [&] {
    std::vector<int> out;
    auto store = StateStore::Open(StateDbPath(home_));
    if (!store.ok()) return out;
    auto nodes = (*store)->ListNodes("demo");
    for (const auto& n : nodes.ok() ? *nodes : std::vector<NodeRecord>{}) out.push_back(n.pid);
    return out;
  };
  const std::vector<int> before = pids();
  // The package the cluster was deployed from now has a logback template
  // that does not render; tickTime needs a restart, which would write it.
  const int line = Break(pkg, "config/logback.xml.mustache");
  ProcessResult r = Zk({"configure", "demo", "--set", "tickTime=3000", "--timeout", "60"});
  EXPECT_EQ(r.exit_code, 2) << r.All();
  EXPECT_TRUE(Contains(r.err, "config/logback.xml.mustache:" + std::to_string(line) + ":"));
  ProcessResult history = Zk({"history", "demo", "-o", "json"});
  ASSERT_EQ(history.exit_code, 0) << history.All();
  const auto revisions = nlohmann::json::parse(history.out, nullptr, false);
  ASSERT_TRUE(revisions.is_array()) << history.out;
  EXPECT_EQ(revisions.size(), 1u) << "a refused change recorded a revision:\n" << history.out;
  EXPECT_EQ(pids(), before) << "a refused change restarted servers";
}

}  // namespace
}  // namespace zkpilot
